//! A CONNECT proxy in the test: records each CONNECT line, then tunnels the bytes both ways, to this
//! machine only.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, mpsc};

/// A CONNECT proxy: records each CONNECT target, then tunnels the bytes both ways.
pub struct Proxy {
    pub addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start() -> Proxy {
        Proxy::with_alias(None)
    }

    /// A proxy that also tunnels to `alias` (a name that is not loopback, e.g. [`super::front::PROXIED_HOST`]),
    /// as if the name were 127.0.0.1.
    pub fn with_alias(alias: Option<&'static str>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a proxy port");
        let addr = listener.local_addr().unwrap();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&targets);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || tunnel(client, &recorded, alias));
            }
        });
        Proxy { addr, targets }
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, recorded: &Mutex<Vec<String>>, alias: Option<&str>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let target = line.strip_prefix("CONNECT ").and_then(|rest| rest.split(' ').next()).unwrap_or("").to_owned();
    recorded.lock().unwrap().push(line.trim().to_owned());
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    let mut client_out = client;
    // Only this machine is ever tunnelled to: tests never reach the internet.
    let target = match alias.and_then(|alias| target.strip_prefix(alias)?.strip_prefix(':')) {
        Some(port) => format!("127.0.0.1:{port}"),
        None => target,
    };
    let local = target.starts_with("127.") || target.starts_with("[::1]") || target.starts_with("localhost:");
    let Some(Ok(upstream)) = local.then(|| TcpStream::connect(&target)) else {
        let _ = client_out.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    client_out.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
    let (mut upstream_in, mut upstream_out) = (upstream.try_clone().unwrap(), upstream);
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut upstream_out);
        let _ = upstream_out.shutdown(std::net::Shutdown::Write);
        let _ = done.send(());
    });
    let _ = std::io::copy(&mut upstream_in, &mut client_out);
    let _ = client_out.shutdown(std::net::Shutdown::Write);
    let _ = finished.recv();
}
