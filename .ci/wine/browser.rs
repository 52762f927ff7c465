//! A stand-in browser for the Wine run of .ci/platforms, built as a Windows exe: `BROWSER` gets it, and it
//! follows the URL it is given through redirects (the one-time start address → the stand-in's
//! auto-approving authorization endpoint → the callback), as a person's browser would. It speaks plain
//! HTTP/1.1 to loopback addresses only, and writes each URL it visits to stderr. Standard library only.

use std::io::{Read, Write};
use std::net::TcpStream;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mut url), None) = (args.next(), args.next()) else {
        eprintln!("browser: expected exactly one argument, the URL");
        std::process::exit(2);
    };
    if let Ok(path) = std::env::var("BROWSER_ARGUMENT_FILE") {
        std::fs::write(path, &url).expect("browser: the argument file can be written");
    }
    for _ in 0..10 {
        eprintln!("browser: GET {url}");
        match get(&url) {
            Ok((status, Some(location))) if (300..400).contains(&status) => url = location,
            Ok((status, _)) => {
                eprintln!("browser: {status}");
                std::process::exit(if status == 200 { 0 } else { 1 });
            }
            Err(error) => {
                eprintln!("browser: {error}");
                std::process::exit(1);
            }
        }
    }
    eprintln!("browser: too many redirects");
    std::process::exit(1);
}

/// GETs `url` (http://127.0.0.1… or http://[::1]…): the status and the Location header.
fn get(url: &str) -> Result<(u16, Option<String>), String> {
    let rest = url.strip_prefix("http://").ok_or("not an http:// URL")?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    if !(authority.starts_with("127.0.0.1:") || authority.starts_with("[::1]:") || authority.starts_with("localhost:")) {
        return Err(format!("not a loopback address: {authority}"));
    }
    let address = authority.replacen("localhost", "127.0.0.1", 1);
    let mut stream = TcpStream::connect(&address).map_err(|e| format!("connect {address}: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let location = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.trim().to_owned());
    // A relative Location is resolved against the same authority.
    let location = location.map(|l| if l.starts_with('/') { format!("http://{authority}{l}") } else { l });
    Ok((status, location))
}
