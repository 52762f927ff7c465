//! Real TLS in front of the stand-in: certificates made at test time by the `openssl` command (a private
//! CA and leaves signed by it), and nginx started as the test's own process on 127.0.0.1 with a
//! configuration in a temp dir, proxying to a stand-in that names nginx's address as its public URL.
//! Both programs come from Debian packages that `.ci/tls` installs; the tests using them are `#[ignore]`d
//! and run by that script, and fail loudly (never pass) where a program is missing.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use sipgate_oauth::mock::{MockConfig, MockServer};

use super::PATIENCE;

/// The name the leaves are for besides `localhost` and 127.0.0.1: a host that is not loopback by name,
/// reached only through the test's CONNECT proxy.
pub const PROXIED_HOST: &str = "sipgate-oauth.test";

/// Runs a program to success, or fails the test with its output.
fn run(program: &str, args: &[&str], dir: &Path) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot be started ({e}): run .ci/tls, which installs it"));
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Which certificate nginx presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// For localhost, 127.0.0.1 and [`PROXIED_HOST`], valid now.
    Good,
    /// For `wrong.example` only.
    WrongName,
    /// For localhost, but valid only in January 2020.
    Expired,
    /// For localhost, signed by itself.
    SelfSigned,
}

impl Leaf {
    fn stem(self) -> &'static str {
        match self {
            Leaf::Good => "good",
            Leaf::WrongName => "wrong-name",
            Leaf::Expired => "expired",
            Leaf::SelfSigned => "self-signed",
        }
    }
}

/// A private CA and its leaves, in a temp dir.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a temp dir");
        let at = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        let ca = [&ec[..], &["-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"]].concat();
        let ca_ext =
            ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
        run(
            "openssl",
            &[&["req"], &ca[..], &["-subj", "/O=sipgate-oauth tests/CN=sipgate-oauth test CA"], &ca_ext[..]].concat(),
            at,
        );
        std::fs::write(at.join("index.txt"), "").expect("the CA's index");
        std::fs::write(at.join("serial"), "1000\n").expect("the CA's serial");
        std::fs::write(
            at.join("ca.cnf"),
            "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
             default_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n",
        )
        .expect("the CA's configuration");
        let leaf = |stem: &str, cn: &str, names: &str, dates: (&str, &str)| {
            let key = format!("{stem}.key");
            let csr = format!("{stem}.csr");
            run(
                "openssl",
                &[&["req"], &ec[..], &["-keyout", &key, "-out", &csr, "-subj", &format!("/CN={cn}")]].concat(),
                at,
            );
            let ext = format!("{stem}.ext");
            std::fs::write(
                at.join(&ext),
                format!("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName={names}\n"),
            )
            .expect("the leaf's extensions");
            let out = format!("{stem}.pem");
            let args = ["ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key"];
            let args =
                [&args[..], &["-in", &csr, "-out", &out, "-extfile", &ext, "-startdate", dates.0, "-enddate", dates.1]];
            run("openssl", &args.concat(), at);
        };
        let now = ("20200101000000Z", "20991231235959Z");
        let names = format!("DNS:localhost,IP:127.0.0.1,DNS:{PROXIED_HOST}");
        leaf("good", "localhost", &names, now);
        leaf("wrong-name", "wrong.example", "DNS:wrong.example", now);
        leaf("expired", "localhost", "DNS:localhost,IP:127.0.0.1", ("20200101000000Z", "20200201000000Z"));
        let self_signed =
            [&ec[..], &["-x509", "-keyout", "self-signed.key", "-out", "self-signed.pem", "-days", "2"]].concat();
        let self_ext = [
            "-subj",
            "/CN=sipgate-oauth self-signed test",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ];
        run("openssl", &[&["req"], &self_signed[..], &self_ext[..]].concat(), at);
        Pki { dir }
    }

    /// The CA's certificate (PEM).
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn leaf(&self, leaf: Leaf) -> (PathBuf, PathBuf) {
        (self.dir.path().join(format!("{}.pem", leaf.stem())), self.dir.path().join(format!("{}.key", leaf.stem())))
    }

    /// The test's browser: an HTTP client that does not follow redirects and, like a user clicking through
    /// a warning, accepts any certificate — the browser's trust is not under test, the tool's is.
    pub fn agent(&self) -> ureq::Agent {
        let tls = ureq::tls::TlsConfig::builder().disable_verification(true).build();
        ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).max_redirects(0).build().new_agent()
    }
}

/// nginx serving `https://localhost:PORT` with one of the [`Pki`]'s leaves, in front of a stand-in
/// whose public URL that is. Killed on drop.
pub struct Front {
    pub port: u16,
    pub server: MockServer,
    nginx: Child,
    _dir: tempfile::TempDir,
}

impl Front {
    /// A front for an auto-approving stand-in with the demo client.
    pub fn start(pki: &Pki, leaf: Leaf) -> Front {
        Front::with_locations(pki, leaf, "")
    }

    /// A front with extra nginx `location` blocks (e.g. a redirect), matched before the stand-in's `/`.
    pub fn with_locations(pki: &Pki, leaf: Leaf, locations: &str) -> Front {
        let dir = tempfile::tempdir().expect("a temp dir");
        for _attempt in 0..10 {
            // A free port, released for nginx to take; if another process takes it first, nginx says so
            // and the next attempt picks another.
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let public_url = format!("https://localhost:{port}");
            let config = MockConfig { auto_approve: true, public_url: Some(public_url), ..MockConfig::default() };
            let server = MockServer::start(config, "127.0.0.1:0".parse().expect("an address")).expect("the stand-in");
            let (cert, key) = pki.leaf(leaf);
            let conf = nginx_conf(dir.path(), port, &cert, &key, server.addr(), locations);
            let conf_path = dir.path().join("nginx.conf");
            std::fs::write(&conf_path, conf).expect("nginx.conf");
            let prefix = dir.path().to_str().expect("a UTF-8 temp dir");
            let program = if Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx" } else { "nginx" };
            let mut nginx = Command::new(program)
                .args(["-p", prefix, "-c", conf_path.to_str().expect("UTF-8"), "-e", "stderr"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("nginx cannot be started ({e}): run .ci/tls, which installs it"));
            match ready(&mut nginx) {
                Ok(()) => return Front { port, server, nginx, _dir: dir },
                Err(log) if log.contains("Address already in use") => {
                    let _ = nginx.kill();
                    let _ = nginx.wait();
                }
                Err(log) => {
                    let _ = nginx.kill();
                    panic!("nginx did not start:\n{log}");
                }
            }
        }
        panic!("no free port for nginx in 10 attempts");
    }

    /// `https://localhost:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

/// Waits until nginx has bound its port: its `getrlimit` notice comes after the listening sockets are
/// open. `Err` with what it said if it ends or complains first. Its stderr is drained to the end.
fn ready(nginx: &mut Child) -> Result<(), String> {
    let stderr = nginx.stderr.take().expect("stderr is piped");
    let (lines, said) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut log = Vec::new();
    loop {
        match said.recv_timeout(PATIENCE) {
            Ok(line) if line.contains("getrlimit(") => return Ok(()),
            Ok(line) if line.contains("[emerg]") => {
                log.push(line);
                return Err(log.join("\n"));
            }
            Ok(line) => log.push(line),
            Err(_) => return Err(log.join("\n")),
        }
    }
}

fn nginx_conf(dir: &Path, port: u16, cert: &Path, key: &Path, upstream: SocketAddr, locations: &str) -> String {
    let d = dir.display();
    format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log stderr notice;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n\
         {locations}\n    location / {{ proxy_pass http://{upstream}; proxy_set_header Host $http_host; }}\n  }}\n}}\n",
        cert.display(),
        key.display()
    )
}
