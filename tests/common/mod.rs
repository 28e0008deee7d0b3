//! Test harness shared by the integration tests.
//!
//! - [`pki`]: a test PKI made at test time with rcgen (trusted CA, server certificate for
//!   `localhost` and `127.0.0.1`, a second untrusted CA, an expired and a wrong-name certificate).
//! - [`MockServer`]: a DynHost stand-in over real TLS on 127.0.0.1 (ephemeral port), one thread
//!   per connection, keep-alive, scripted replies, every request recorded; also on the loopback
//!   of a [`Netns`] ([`MockServer::start_in`]), for a binary run inside it.
//! - [`TestEnv`]: a temp dir with the CA files, a state dir, address scripts, a config writer and a
//!   runner for the real `dynhost` binary in a clean environment ([`Launch`]: extra directories
//!   first on its PATH, a wrapper command such as `ip netns exec NAME`).
//! - [`netns`]: a throw-away network namespace ([`Netns`]) with veth, address, sysctl and route
//!   helpers, for address detection against a real kernel.
//! - [`ovh_api`]: the OVHcloud API stand-in ([`ovh_api::OvhApi`]) on a [`MockServer`]: signatures
//!   checked, a clock far from the machine's, zones in memory.
//! - [`ubus`]: a stand-in `ubus` program ([`FakeUbus`]) with scripted replies and an argv log.
//!
//! Every file under `tests/` that says `mod common;` uses only part of this, hence the allow.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

pub mod netns;
pub mod ovh_api;
pub mod ubus;

// Not every test file uses these.
#[allow(unused_imports)]
pub use netns::Netns;
#[allow(unused_imports)]
pub use ubus::{dumped_status, FakeUbus};

/// The crate version, as `dynhost --version` and the User-Agent must show it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The binary under test (unless `DYNHOST_TEST_BIN` names another: see [`bin_command`]).
pub const BIN: &str = env!("CARGO_BIN_EXE_dynhost");

/// How the binary under test is run: `DYNHOST_TEST_BIN` instead of [`BIN`] when set (e.g. a
/// cross-built router binary), behind the words of `DYNHOST_TEST_RUNNER` when set (e.g.
/// `qemu-mips-static`). CI runs TLS tests this way against the big-endian MIPS build.
pub fn bin_command() -> Vec<String> {
    let mut argv: Vec<String> = std::env::var("DYNHOST_TEST_RUNNER")
        .map(|runner| runner.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    match std::env::var_os("DYNHOST_TEST_BIN") {
        // Absolute: the binary runs in a test's own directory.
        Some(bin) => argv.push(
            std::path::absolute(bin)
                .expect("DYNHOST_TEST_BIN")
                .display()
                .to_string(),
        ),
        None => argv.push(BIN.to_string()),
    }
    argv
}

/// How long a run of the binary may take before the harness kills it and fails the test. Only a
/// guard against hanging forever: no test asserts on durations.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(90);
/// Generous bound for waiting on server-side events that happen asynchronously; a send may
/// wait out the send limit's spacing (10 s) first.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// The PATH the binary gets: nothing else of the test's environment is passed on.
pub const CLEAN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Documentation addresses (RFC 5737 / RFC 3849) used as "public" addresses in tests.
pub const ADDR1: &str = "203.0.113.7";
pub const ADDR2: &str = "198.51.100.23";
pub const ADDR6: &str = "2001:db8::1";

pub const USERNAME: &str = "example.com-router";
pub const PASSWORD: &str = "S3cr3t-Pa55";

// ---------------------------------------------------------------------------------------------
// Lock against ETXTBSY: a script written by this process and exec'd by a child fails with "Text
// file busy" if another thread forks while the script's write descriptor is open. Scripts are
// written under the write lock; every spawn holds the read lock until the child has exec'd.

static EXEC_LOCK: RwLock<()> = RwLock::new(());

fn exec_write_lock() -> std::sync::RwLockWriteGuard<'static, ()> {
    EXEC_LOCK.write().unwrap_or_else(|e| e.into_inner())
}

fn exec_read_lock() -> std::sync::RwLockReadGuard<'static, ()> {
    EXEC_LOCK.read().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Temp dirs

/// A fresh directory under the system temp dir, removed with everything in it on drop (kept when
/// `DYNHOST_KEEP_TEST_DIRS` is set, for debugging).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir();
        loop {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("{prefix}-{}-{n}-{nanos:x}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => {
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o700))
                        .expect("chmod temp dir");
                    return TempDir { path };
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create temp dir {}: {e}", path.display()),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("DYNHOST_KEEP_TEST_DIRS").is_some() {
            eprintln!("keeping test dir {}", self.path.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Writes a file with the given mode, replacing it atomically (write to a temp name, rename).
pub fn write_file(path: &Path, contents: &[u8], mode: u32) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
        file.write_all(contents).expect("write file");
        file.sync_all().ok();
    }
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).expect("chmod");
    fs::rename(&tmp, path).expect("rename into place");
}

// ---------------------------------------------------------------------------------------------
// Test PKI

/// A certificate and its private key, both as DER and PEM.
pub struct CertKey {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub key_der: Vec<u8>,
    pub key_pem: String,
}

/// Certificates made once per test process.
pub struct Pki {
    /// The CA that dynhost is configured to trust (`ca.pem` in every [`TestEnv`]).
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    /// A second CA that nothing trusts.
    pub untrusted_ca_pem: String,
    pub untrusted_ca_der: Vec<u8>,
    /// Signed by the trusted CA, valid for `localhost` and `127.0.0.1` (and `::1`).
    pub server: CertKey,
    /// Valid names and dates, signed by the untrusted CA.
    pub untrusted_server: CertKey,
    /// Signed by the trusted CA, right names, expired in 2001.
    pub expired_server: CertKey,
    /// Signed by the trusted CA, valid dates, only for `wrong.example.net`.
    pub wrong_name_server: CertKey,
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn make_ca(common_name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "dynhost tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = date_time_ymd(2000, 1, 1);
    params.not_after = date_time_ymd(2999, 1, 1);
    let key = KeyPair::generate().expect("CA key");
    CertifiedIssuer::self_signed(params, key).expect("self-signed CA")
}

fn make_leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    not_before: (i32, u8, u8),
    not_after: (i32, u8, u8),
) -> CertKey {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("leaf params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = date_time_ymd(not_after.0, not_after.1, not_after.2);
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, issuer).expect("sign leaf");
    CertKey {
        cert_der: cert.der().to_vec(),
        cert_pem: cert.pem(),
        key_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
    }
}

fn make_pki() -> Pki {
    let ca = make_ca("dynhost test CA");
    let other = make_ca("dynhost untrusted test CA");
    let good_names = ["localhost", "127.0.0.1", "::1"];
    let valid_from = (2000, 1, 1);
    let valid_to = (2999, 1, 1);
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().to_vec(),
        untrusted_ca_pem: other.pem(),
        untrusted_ca_der: other.der().to_vec(),
        server: make_leaf(&ca, &good_names, valid_from, valid_to),
        untrusted_server: make_leaf(&other, &good_names, valid_from, valid_to),
        expired_server: make_leaf(&ca, &good_names, (2000, 1, 1), (2001, 1, 1)),
        wrong_name_server: make_leaf(&ca, &["wrong.example.net"], valid_from, valid_to),
    }
}

/// The ring provider, named explicitly (no process-wide default is installed).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// ---------------------------------------------------------------------------------------------
// Mock DynHost server

/// Which certificate the server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCert {
    Trusted,
    /// Right names and dates, but from a CA that is not in `ca.pem`.
    Untrusted,
    Expired,
    WrongName,
}

impl ServerCert {
    fn cert_key(self) -> &'static CertKey {
        let pki = pki();
        match self {
            ServerCert::Trusted => &pki.server,
            ServerCert::Untrusted => &pki.untrusted_server,
            ServerCert::Expired => &pki.expired_server,
            ServerCert::WrongName => &pki.wrong_name_server,
        }
    }

    fn server_config(self) -> Arc<ServerConfig> {
        let ck = self.cert_key();
        let chain = vec![CertificateDer::from(ck.cert_der.clone())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_der.clone()));
        let config = ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate");
        Arc::new(config)
    }
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// 1-based id of the TCP connection it arrived on (in accept order).
    pub connection: usize,
    /// 0-based position of this request on its connection.
    pub index_on_connection: usize,
    /// The request line without CRLF, e.g. `GET /nic/update?... HTTP/1.1`.
    pub request_line: String,
    pub method: String,
    /// The request target (path and query) as sent, not decoded.
    pub target: String,
    pub version: String,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header with this name (case-insensitive).
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query string as sent (without `?`), not decoded.
    pub fn raw_query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    /// The query's pairs in order, `%XX` decoded (`+` is kept as is).
    pub fn query(&self) -> Vec<(String, String)> {
        self.raw_query()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }

    /// The decoded value of the first query parameter with this name.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// Decodes `%XX` escapes; malformed escapes are kept literally.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Reason phrase; a usual one for the status when `None`.
    pub reason: Option<String>,
    /// Extra headers. `Content-Length` / `Transfer-Encoding` are added unless given here.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked`, in chunks of this many bytes.
    pub chunk_size: Option<usize>,
    /// Send exactly these bytes instead of a formatted reply (for malformed replies).
    pub raw: Option<Vec<u8>>,
    /// Wait this long after reading the request, before answering.
    pub delay: Duration,
    /// Close the connection after this reply (with `Connection: close`).
    pub close: bool,
    /// Close the connection without answering at all.
    pub hang_up: bool,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            reason: None,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into(),
            chunk_size: None,
            raw: None,
            delay: Duration::ZERO,
            close: false,
            hang_up: false,
        }
    }

    /// HTTP 200 with this body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200, body)
    }

    /// HTTP 200 `good <address>`.
    pub fn good(address: &str) -> Reply {
        Reply::ok(format!("good {address}\n"))
    }

    /// Exactly these bytes on the wire, nothing added.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        let mut reply = Reply::new(0, Vec::new());
        reply.raw = Some(bytes.into());
        reply
    }

    /// Close the connection without any reply.
    pub fn hang_up() -> Reply {
        let mut reply = Reply::new(0, Vec::new());
        reply.hang_up = true;
        reply
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Chunked transfer encoding, in small (4-byte) chunks so that reassembly is exercised.
    pub fn chunked(self) -> Reply {
        self.chunked_by(4)
    }

    pub fn chunked_by(mut self, size: usize) -> Reply {
        self.chunk_size = Some(size.max(1));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn close(mut self) -> Reply {
        self.close = true;
        self
    }

    pub fn reason(mut self, reason: &str) -> Reply {
        self.reason = Some(reason.to_string());
        self
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The bytes that go on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let reason = self
            .reason
            .clone()
            .unwrap_or_else(|| reason_phrase(self.status).to_string());
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if self.close && !self.has_header("Connection") {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        match self.chunk_size {
            Some(size) => {
                if !self.has_header("Transfer-Encoding") {
                    out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                }
                out.extend_from_slice(b"\r\n");
                for chunk in self.body.chunks(size) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            None => {
                if !self.has_header("Content-Length") {
                    out.extend_from_slice(
                        format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                    );
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&self.body);
            }
        }
        out
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// Decides the reply to each request. Called with the server's responder lock held, so calls
/// are serialized; the reply's delay is waited out after the lock is released.
pub type Responder = Box<dyn FnMut(&Request) -> Reply + Send>;

/// `good <myip>` for whatever address the request names.
pub fn echo_good(request: &Request) -> Reply {
    Reply::good(&request.query_value("myip").unwrap_or_default())
}

/// Replies from the queue in order; once it is empty, the last reply again and again.
pub fn queue(replies: Vec<Reply>) -> impl FnMut(&Request) -> Reply + Send + 'static {
    let mut pending = VecDeque::from(replies);
    let mut last: Option<Reply> = None;
    move |_| match pending.pop_front() {
        Some(reply) => {
            last = Some(reply.clone());
            reply
        }
        None => last
            .clone()
            .unwrap_or_else(|| Reply::new(500, "no scripted reply")),
    }
}

/// The first `n` requests get `first`, every later one `then`.
pub fn first_then(
    n: usize,
    first: Reply,
    mut then: impl FnMut(&Request) -> Reply + Send + 'static,
) -> impl FnMut(&Request) -> Reply + Send + 'static {
    let mut seen = 0;
    move |request| {
        seen += 1;
        if seen <= n {
            first.clone()
        } else {
            then(request)
        }
    }
}

struct Shared {
    stop: AtomicBool,
    responder: Mutex<Responder>,
    requests: Mutex<Vec<Request>>,
    connections: AtomicUsize,
    tls_errors: Mutex<Vec<String>>,
    streams: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A DynHost stand-in on `https://127.0.0.1:<port>`. Stops, closes every connection and joins
/// its threads on drop.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
    /// The network namespace the listener lives in ([`Netns::open`]), when not the host's: drop
    /// must connect from there to wake the accept loop. Holding it keeps the namespace alive.
    netns: Option<File>,
}

impl MockServer {
    /// A server on an ephemeral port.
    pub fn start(
        cert: ServerCert,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> MockServer {
        MockServer::start_at("127.0.0.1:0".parse().unwrap(), None, cert, responder)
    }

    /// A server on `127.0.0.1` (ephemeral port) inside `ns`: reached at [`MockServer::url`] by
    /// programs run there ([`TestEnv::run_in`], [`TestEnv::spawn_in`]), not from the host,
    /// whose `127.0.0.1` is another loopback. It keeps the namespace alive until dropped.
    pub fn start_in(
        ns: &Netns,
        cert: ServerCert,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> MockServer {
        MockServer::start_in_file(ns.open(), cert, responder)
    }

    /// [`MockServer::start_in`] for a namespace known by an open handle (e.g.
    /// `/proc/<pid>/ns/net` of a process that lives in it).
    pub fn start_in_file(
        netns: File,
        cert: ServerCert,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> MockServer {
        MockServer::start_at("127.0.0.1:0".parse().unwrap(), Some(netns), cert, responder)
    }

    /// A server on a given port (e.g. one from [`unused_port`] that was refused before).
    pub fn start_on(
        port: u16,
        cert: ServerCert,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> MockServer {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        MockServer::start_at(addr, None, cert, responder)
    }

    /// A server on `[::1]` (ephemeral port), for what must be reached over IPv6.
    pub fn start_ipv6(
        cert: ServerCert,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> MockServer {
        MockServer::start_at("[::1]:0".parse().unwrap(), None, cert, responder)
    }

    /// Binds `addr`, inside the namespace `netns` when given (the host's otherwise), and serves.
    fn start_at(
        addr: SocketAddr,
        netns: Option<File>,
        cert: ServerCert,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> MockServer {
        let bind = || TcpListener::bind(addr);
        let listener = match &netns {
            Some(ns) => netns::in_namespace(ns, bind).and_then(|bound| bound),
            None => bind(),
        };
        let listener = listener.unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        MockServer::serve(listener, netns, cert, Box::new(responder))
    }

    /// Trusted certificate, `good <myip>` to everything.
    pub fn good() -> MockServer {
        MockServer::start(ServerCert::Trusted, echo_good)
    }

    /// [`MockServer::good`] inside `ns` (see [`MockServer::start_in`]).
    pub fn good_in(ns: &Netns) -> MockServer {
        MockServer::start_in(ns, ServerCert::Trusted, echo_good)
    }

    /// Trusted certificate, the same reply to everything.
    pub fn always(reply: Reply) -> MockServer {
        MockServer::start(ServerCert::Trusted, move |_: &Request| reply.clone())
    }

    /// Trusted certificate, replies from a [`queue`].
    pub fn queue(replies: Vec<Reply>) -> MockServer {
        MockServer::start(ServerCert::Trusted, queue(replies))
    }

    fn serve(
        listener: TcpListener,
        netns: Option<File>,
        cert: ServerCert,
        responder: Responder,
    ) -> MockServer {
        let addr = listener.local_addr().expect("local addr");
        let config = cert.server_config();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            responder: Mutex::new(responder),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            tls_errors: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("mock-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, config, accept_shared))
            .expect("spawn accept thread");
        MockServer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
            netns,
        }
    }

    /// `https://127.0.0.1:<port>` or `https://[::1]:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the responder for the requests still to come.
    pub fn set_responder(&self, responder: impl FnMut(&Request) -> Reply + Send + 'static) {
        *lock(&self.shared.responder) = Box::new(responder);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    pub fn last_request(&self) -> Option<Request> {
        lock(&self.shared.requests).last().cloned()
    }

    /// The `myip` of the last request, the address it asked to publish.
    pub fn last_myip(&self) -> Option<String> {
        self.last_request()?.query_value("myip")
    }

    /// TCP connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Failed TLS handshakes, as rustls described them.
    pub fn tls_errors(&self) -> Vec<String> {
        lock(&self.shared.tls_errors).clone()
    }

    /// Waits until at least `n` requests arrived; false if [`WAIT_TIMEOUT`] passed first.
    pub fn wait_for_requests(&self, n: usize) -> bool {
        wait_until(|| self.request_count() >= n)
    }

    pub fn wait_for_connections(&self, n: usize) -> bool {
        wait_until(|| self.connection_count() >= n)
    }

    pub fn wait_for_tls_errors(&self, n: usize) -> bool {
        wait_until(|| lock(&self.shared.tls_errors).len() >= n)
    }

    /// A summary for assertion messages.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "server {}: {} connection(s), {} request(s)\n",
            self.url(),
            self.connection_count(),
            self.request_count()
        );
        for r in self.requests() {
            text.push_str(&format!(
                "  [conn {} #{}] {}\n",
                r.connection, r.index_on_connection, r.request_line
            ));
        }
        for e in self.tls_errors() {
            text.push_str(&format!("  tls error: {e}\n"));
        }
        text
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop up, from the listener's namespace.
        let wake = || TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).map(drop);
        let woke = match &self.netns {
            Some(ns) => netns::in_namespace(ns, wake).and_then(|woke| woke),
            None => wake(),
        };
        if let Some(handle) = self.accept_thread.take() {
            // Not woken, the loop would keep the join waiting for ever: leave it behind instead.
            match woke {
                Ok(()) => {
                    // The loop's end closes the listener. Under the spawn lock, so that no child
                    // half-way between fork and exec holds a copy that keeps it listening.
                    let _no_spawns = exec_write_lock();
                    let _ = handle.join();
                }
                Err(e) => {
                    let _ = writeln!(
                        io::stderr(),
                        "warning: cannot wake the mock server on {}: {e}",
                        self.addr
                    );
                }
            }
        }
        for stream in lock(&self.shared.streams).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&self.shared.threads).drain(..).collect();
        for handle in threads {
            let _ = handle.join();
        }
    }
}

pub fn wait_until(condition: impl FnMut() -> bool) -> bool {
    wait_within(WAIT_TIMEOUT, condition)
}

/// Polls `condition` every 10 ms for up to `limit`; whether it became true.
pub fn wait_within(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn accept_loop(listener: TcpListener, config: Arc<ServerConfig>, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.streams).push(clone);
        }
        let conn_shared = Arc::clone(&shared);
        let conn_config = Arc::clone(&config);
        let handle = thread::Builder::new()
            .name(format!("mock-conn-{id}"))
            .spawn(move || serve_connection(stream, conn_config, conn_shared, id))
            .expect("spawn connection thread");
        lock(&shared.threads).push(handle);
    }
}

fn serve_connection(tcp: TcpStream, config: Arc<ServerConfig>, shared: Arc<Shared>, id: usize) {
    let conn = match ServerConnection::new(config) {
        Ok(conn) => conn,
        Err(e) => {
            lock(&shared.tls_errors).push(format!("conn {id}: {e}"));
            return;
        }
    };
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            if !shared.stop.load(Ordering::SeqCst) {
                lock(&shared.tls_errors).push(format!("conn {id}: {e}"));
            }
            let _ = tls.sock.shutdown(Shutdown::Both);
            return;
        }
    }
    let mut reader = BufReader::new(tls);
    let mut index = 0;
    while let Ok(Some(request)) = read_request(&mut reader, id, index) {
        index += 1;
        let client_wants_close = request
            .header("Connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"))
            || (request.version == "HTTP/1.0"
                && !request
                    .header("Connection")
                    .is_some_and(|v| v.to_ascii_lowercase().contains("keep-alive")));
        lock(&shared.requests).push(request.clone());
        let reply = {
            let mut responder = lock(&shared.responder);
            (responder)(&request)
        };
        // Waited out in small steps, so dropping the server does not wait for a long stall.
        let replying_at = Instant::now() + reply.delay;
        while Instant::now() < replying_at && !shared.stop.load(Ordering::SeqCst) {
            thread::sleep(
                Duration::from_millis(10)
                    .min(replying_at.saturating_duration_since(Instant::now())),
            );
        }
        if reply.hang_up {
            break;
        }
        let stream = reader.get_mut();
        if stream.write_all(&reply.to_bytes()).is_err() || stream.flush().is_err() {
            break;
        }
        if reply.close || client_wants_close {
            stream.conn.send_close_notify();
            let _ = stream.flush();
            break;
        }
    }
    let _ = reader.get_ref().sock.shutdown(Shutdown::Both);
}

const MAX_HEAD: usize = 64 * 1024;

fn read_request<R: BufRead>(
    reader: &mut R,
    connection: usize,
    index: usize,
) -> io::Result<Option<Request>> {
    let mut lines: Vec<String> = Vec::new();
    let mut total = 0;
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            if lines.is_empty() && total == 0 {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated head",
            ));
        }
        total += n;
        if total > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.is_empty() {
            if lines.is_empty() {
                continue; // tolerate a stray CRLF between requests
            }
            break;
        }
        lines.push(text);
    }
    let request_line = lines.remove(0);
    let mut parts = request_line.splitn(3, ' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .iter()
        .map(|line| match line.split_once(':') {
            Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
            None => (line.clone(), String::new()),
        })
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        connection,
        index_on_connection: index,
        request_line,
        method,
        target,
        version,
        headers,
        body,
    }))
}

/// A port on 127.0.0.1 where nothing listens (bound, then released). Connections to it are
/// refused until something binds it, e.g. [`MockServer::start_on`].
pub fn unused_port() -> u16 {
    // No spawn while the listener exists: a child forked meanwhile would keep it listening.
    let _no_spawns = exec_write_lock();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Standard base64 with padding, no line breaks.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Authorization header value for these credentials.
pub fn basic_auth(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64(format!("{username}:{password}").as_bytes())
    )
}

// ---------------------------------------------------------------------------------------------
// Config text

/// Single-quotes a UCI value (`'` written as `'\''`).
pub fn uci_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// One `config <type> '<name>'` section with its options in order.
#[derive(Debug, Clone)]
pub struct Section {
    pub kind: String,
    pub name: String,
    pub options: Vec<(String, String)>,
}

impl Section {
    pub fn new(kind: &str, name: &str) -> Section {
        Section {
            kind: kind.to_string(),
            name: name.to_string(),
            options: Vec::new(),
        }
    }

    /// Sets an option, replacing an earlier value of the same option.
    pub fn set(mut self, option: &str, value: &str) -> Section {
        match self.options.iter_mut().find(|(o, _)| o == option) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.options.push((option.to_string(), value.to_string())),
        }
        self
    }

    pub fn remove(mut self, option: &str) -> Section {
        self.options.retain(|(o, _)| o != option);
        self
    }

    pub fn get(&self, option: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(o, _)| o == option)
            .map(|(_, v)| v.as_str())
    }

    pub fn render(&self) -> String {
        let mut text = format!("config {} {}\n", self.kind, uci_quote(&self.name));
        for (option, value) in &self.options {
            text.push_str(&format!("\toption {option} {}\n", uci_quote(value)));
        }
        text
    }
}

/// Renders sections as a UCI file, an empty line between sections.
pub fn render_config(sections: &[Section]) -> String {
    sections
        .iter()
        .map(Section::render)
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Address scripts

/// An executable `/bin/sh` script that prints the first line of its address file.
pub struct AddressScript {
    pub script: PathBuf,
    pub file: PathBuf,
}

impl AddressScript {
    pub fn create(dir: &Path, name: &str) -> AddressScript {
        let script = dir.join(format!("addr-{name}.sh"));
        let file = dir.join(format!("addr-{name}.txt"));
        let body = format!(
            "#!/bin/sh\n\
             # Prints the first line of the address file (shell builtins only).\n\
             IFS= read -r address < {file} || [ -n \"$address\" ] || exit 1\n\
             printf '%s\\n' \"$address\"\n",
            file = sh_quote(&file.to_string_lossy())
        );
        {
            let _guard = exec_write_lock();
            write_file(&script, body.as_bytes(), 0o755);
        }
        AddressScript { script, file }
    }

    /// What the next run of the script prints.
    pub fn set(&self, address: &str) {
        write_file(&self.file, format!("{address}\n").as_bytes(), 0o644);
    }

    /// The script then prints nothing and exits 1.
    pub fn clear(&self) {
        let _ = fs::remove_file(&self.file);
    }

    pub fn path_str(&self) -> String {
        self.script.to_string_lossy().into_owned()
    }
}

/// Writes an executable (mode 0755) script, under the lock that keeps concurrent spawns from
/// inheriting its write descriptor (ETXTBSY, see `EXEC_LOCK`).
pub fn write_script(path: &Path, body: &str) {
    let _guard = exec_write_lock();
    write_file(path, body.as_bytes(), 0o755);
}

fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

// ---------------------------------------------------------------------------------------------
// Running the binary

/// What one run of the binary did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub args: Vec<String>,
    /// The exit code; 128 + signal number when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// stdout and stderr together.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Non-empty stderr lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Panics with the whole outcome unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }

    /// Whether stdout or stderr contains `word`, ignoring ASCII case.
    pub fn mentions(&self, word: &str) -> bool {
        self.output()
            .to_ascii_lowercase()
            .contains(&word.to_ascii_lowercase())
    }

    /// Asserts a transient failure (exit 1) whose output names every one of `expected`, and
    /// that `server` was sent nothing.
    #[track_caller]
    pub fn assert_failed_without_sending(&self, server: &MockServer, expected: &[&str]) {
        self.assert_code(1);
        for word in expected {
            assert!(self.mentions(word), "{word:?} not mentioned:\n{self}");
        }
        assert_eq!(server.request_count(), 0, "something was sent:\n{self}");
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ dynhost {}\n--- exit {} ---\n--- stdout ---\n{}--- stderr ---\n{}--- end ---",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// A run in progress.
pub struct Running {
    args: Vec<String>,
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    /// Waits for the exit (killing the process after [`RUN_TIMEOUT`] and failing the test).
    /// The process id, e.g. to read its `/proc/<pid>/cmdline`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn wait(mut self) -> Outcome {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            match self.child.try_wait().expect("wait for dynhost") {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let out = self.collect(-1);
                    panic!("dynhost did not finish within {RUN_TIMEOUT:?}; killed\n{out}");
                }
                None => thread::sleep(Duration::from_millis(5)),
            }
        };
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        self.collect(code)
    }

    /// Sends `signal` (a name such as `TERM`, `HUP`, `USR1`) with the `kill` program.
    #[track_caller]
    pub fn signal(&self, signal: &str) {
        let mut kill = Command::new("kill");
        kill.args(["-s", signal, &self.child.id().to_string()]);
        let status = {
            let _guard = exec_read_lock();
            kill.status().expect("run kill")
        };
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn collect(&mut self, code: i32) -> Outcome {
        let read = |h: Option<JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        Outcome {
            args: self.args.clone(),
            code,
            stdout: read(self.stdout.take()),
            stderr: read(self.stderr.take()),
        }
    }
}

/// A daemon left running by a failing test would outlive it: kill it.
impl Drop for Running {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How the binary is started, besides its arguments. The environment stays clean either way:
/// only `PATH` is set.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Directories put before [`CLEAN_PATH`], in this order: how a test puts a stand-in program
    /// (e.g. [`FakeUbus`]) in front of any real one.
    pub path_first: Vec<PathBuf>,
    /// When not empty, the binary is run as `wrapper[0] wrapper[1..] BIN args...`, e.g.
    /// `ip netns exec NAME` (which execs the binary in place: the child's pid is the binary's).
    pub wrapper: Vec<String>,
}

impl Launch {
    /// The `PATH` the binary gets: [`Launch::path_first`], then [`CLEAN_PATH`].
    pub fn path(&self) -> String {
        let mut parts: Vec<String> = self
            .path_first
            .iter()
            .map(|dir| {
                let dir = dir.to_string_lossy().into_owned();
                assert!(!dir.contains(':'), "a PATH entry cannot contain ':': {dir}");
                dir
            })
            .collect();
        parts.push(CLEAN_PATH.to_string());
        parts.join(":")
    }
}

/// Starts the binary with exactly these arguments, in `cwd`, with a clean environment
/// (only `PATH`), stdin from /dev/null.
pub fn spawn_dynhost(cwd: &Path, args: &[String]) -> Running {
    spawn_dynhost_with(&Launch::default(), cwd, args)
}

/// [`spawn_dynhost`], with extra PATH directories and/or through a wrapper command.
pub fn spawn_dynhost_with(launch: &Launch, cwd: &Path, args: &[String]) -> Running {
    let bin = bin_command();
    let mut command = match launch.wrapper.split_first() {
        Some((program, wrapper_args)) => {
            let mut command = Command::new(program);
            command.args(wrapper_args).args(&bin);
            command
        }
        None => {
            let mut command = Command::new(&bin[0]);
            command.args(&bin[1..]);
            command
        }
    };
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", launch.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = {
        let _guard = exec_read_lock();
        command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin:?} (wrapper {:?}): {e}", launch.wrapper))
    };
    let pipe = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = child.stdout.take().map(|s| pipe(Box::new(s)));
    let stderr = child.stderr.take().map(|s| pipe(Box::new(s)));
    Running {
        args: args.to_vec(),
        child,
        stdout,
        stderr,
    }
}

/// Runs a program other than dynhost (e.g. an address script) under the same spawn lock.
pub fn run_program(program: &Path, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", CLEAN_PATH)
        .stdin(Stdio::null());
    let child = {
        let _guard = exec_read_lock();
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()))
    };
    child.wait_with_output().expect("wait")
}

// ---------------------------------------------------------------------------------------------
// Test environment

/// One test's world: a temp dir holding `ca.pem` (trusted), `untrusted-ca.pem`, the server
/// certificates as PEM, a default address script, the config file and the state dir.
pub struct TestEnv {
    dir: TempDir,
    /// Passed as `-s`; not created by the harness (the binary must create it).
    pub state_dir: PathBuf,
    /// Passed as `-c`; written by [`TestEnv::run`] with mode 0600.
    pub config_path: PathBuf,
    pub ca_path: PathBuf,
    pub untrusted_ca_path: PathBuf,
    address: AddressScript,
    /// How [`TestEnv::run`], [`TestEnv::spawn`] and [`TestEnv::run_args`] start the binary.
    launch: Mutex<Launch>,
}

impl TestEnv {
    /// A new environment; the default address script prints [`ADDR1`].
    pub fn new() -> TestEnv {
        let dir = TempDir::new("dynhost-test");
        let pki = pki();
        let ca_path = dir.path().join("ca.pem");
        let untrusted_ca_path = dir.path().join("untrusted-ca.pem");
        write_file(&ca_path, pki.ca_pem.as_bytes(), 0o644);
        write_file(&untrusted_ca_path, pki.untrusted_ca_pem.as_bytes(), 0o644);
        for (name, ck) in [
            ("server", &pki.server),
            ("untrusted-server", &pki.untrusted_server),
            ("expired-server", &pki.expired_server),
            ("wrong-name-server", &pki.wrong_name_server),
        ] {
            write_file(
                &dir.path().join(format!("{name}.pem")),
                ck.cert_pem.as_bytes(),
                0o644,
            );
            write_file(
                &dir.path().join(format!("{name}.key")),
                ck.key_pem.as_bytes(),
                0o600,
            );
        }
        let address = AddressScript::create(dir.path(), "default");
        address.set(ADDR1);
        TestEnv {
            state_dir: dir.path().join("state"),
            config_path: dir.path().join("dynhost.conf"),
            ca_path,
            untrusted_ca_path,
            address,
            dir,
            launch: Mutex::new(Launch::default()),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The default address script (used by [`TestEnv::record`]).
    pub fn address(&self) -> &AddressScript {
        &self.address
    }

    /// Sets what the default address script prints.
    pub fn set_address(&self, address: &str) {
        self.address.set(address);
    }

    /// Another address script, e.g. for a second record.
    pub fn address_script(&self, name: &str) -> AddressScript {
        AddressScript::create(self.dir.path(), name)
    }

    /// `config dynhost 'global'` with `cacert` = this env's `ca.pem` and `timeout` 5.
    pub fn global(&self) -> Section {
        Section::new("dynhost", "global")
            .set("cacert", &self.ca_path.to_string_lossy())
            .set("timeout", "5")
    }

    /// A record section for `server` with the defaults: hostname `<name>.example.com`,
    /// [`USERNAME`], [`PASSWORD`], ipv4, enabled, the default address script.
    pub fn record(&self, name: &str, server: &MockServer) -> Section {
        self.record_for_url(name, &server.url())
    }

    pub fn record_for_url(&self, name: &str, url: &str) -> Section {
        Section::new("record", name)
            .set("enabled", "1")
            .set("hostname", &format!("{name}.example.com"))
            .set("username", USERNAME)
            .set("password", PASSWORD)
            .set("family", "ipv4")
            .set("source", "script")
            .set("script", &self.address.path_str())
            .set("server", url)
    }

    /// The global section followed by these records.
    pub fn config(&self, records: &[Section]) -> String {
        let mut sections = vec![self.global()];
        sections.extend_from_slice(records);
        render_config(&sections)
    }

    pub fn write_config(&self, text: &str) {
        write_file(&self.config_path, text.as_bytes(), 0o600);
    }

    /// Writes `config`, then runs `dynhost -c <config> -s <state> <args...>`.
    pub fn run(&self, config: &str, args: &[&str]) -> Outcome {
        self.spawn(config, args).wait()
    }

    /// Like [`TestEnv::run`], without waiting.
    pub fn spawn(&self, config: &str, args: &[&str]) -> Running {
        self.spawn_with(&self.launch(), config, args)
    }

    /// Like [`TestEnv::spawn`], started as `launch` says instead of this env's own [`Launch`].
    pub fn spawn_with(&self, launch: &Launch, config: &str, args: &[&str]) -> Running {
        self.write_config(config);
        let mut full = vec![
            "-c".to_string(),
            self.config_path.to_string_lossy().into_owned(),
            "-s".to_string(),
            self.state_dir.to_string_lossy().into_owned(),
        ];
        full.extend(args.iter().map(|a| a.to_string()));
        spawn_dynhost_with(launch, self.dir.path(), &full)
    }

    /// Runs `dynhost <args...>` exactly (no `-c`/`-s` added), in this env's dir.
    pub fn run_args(&self, args: &[&str]) -> Outcome {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        spawn_dynhost_with(&self.launch(), self.dir.path(), &args).wait()
    }

    /// Puts `dir` first on the binary's PATH for every later run (before the directories added
    /// earlier); adding a directory again moves it to the front.
    pub fn prepend_path(&self, dir: &Path) {
        let mut launch = lock(&self.launch);
        launch.path_first.retain(|d| d != dir);
        launch.path_first.insert(0, dir.to_path_buf());
    }

    /// Runs the binary through `wrapper` (e.g. `["ip", "netns", "exec", NAME]`) from now on;
    /// an empty one runs it directly again. See also [`TestEnv::run_in`].
    pub fn set_wrapper(&self, wrapper: &[&str]) {
        lock(&self.launch).wrapper = wrapper.iter().map(|w| w.to_string()).collect();
    }

    /// How this env starts the binary now.
    pub fn launch(&self) -> Launch {
        lock(&self.launch).clone()
    }

    /// Every `*.json` file in the state dir.
    pub fn state_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.state_dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Every regular file under the state dir (any name, recursively) with its contents.
    pub fn state_dir_contents(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut pending = vec![self.state_dir.clone()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.filter_map(|e| e.ok()) {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file() {
                    let bytes = fs::read(&path).unwrap_or_default();
                    out.push((path, bytes));
                }
            }
        }
        out.sort();
        out
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

/// Whether `haystack` contains `needle` as bytes.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
