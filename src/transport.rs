//! HTTPS for the update exchange: blocking ureq over rustls with the ring provider, trusting
//! only the configured CA bundle, following no redirect, reading a bounded body.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rustls::crypto::{CryptoProvider, KeyProvider};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use ureq::config::{Config, IpFamily};
use ureq::http::Uri;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, NextTimeout,
    RustlsConnector, ShutdownHandle, Transport as UreqTransport,
};
use ureq::{Agent, AsSendBody, Timeout};

use crate::config::Family;
use crate::error::Error;

pub const USER_AGENT: &str = concat!("dynhost/", env!("CARGO_PKG_VERSION"));
/// Replies (DynHost's, an echo service's) are tens of bytes; anything near this is not one.
pub const MAX_REPLY_BYTES: u64 = 4096;
/// The OVHcloud API's replies are JSON: a record is a few hundred bytes, but the list of an
/// account's zones grows with the account.
pub const MAX_CALL_REPLY_BYTES: u64 = 64 * 1024;

/// ureq's buffers for each layer of a connection (TCP, then TLS). Its default of 128 KiB each
/// made the one pooled connection the idle daemon keeps cost about 512 KiB, and zeroing them
/// was a tenth of an update's instructions. A DynHost reply is a few bytes and the web source
/// reads at most 4 KiB; a reply header must fit in the input buffer, so the header limit is the
/// same figure and a larger header fails with a clear error instead of a stalled read. A
/// request is one line and a few headers, well under the output buffer; rustls keeps partial
/// TLS records itself, so neither bounds a record.
const INPUT_BUFFER_BYTES: usize = 8 * 1024;
const OUTPUT_BUFFER_BYTES: usize = 4 * 1024;

/// How long a server's looked-up addresses are reused: a pass over every record asks the
/// resolver once, the next pass (minutes later) asks again.
const RESOLVED_FOR: Duration = Duration::from_secs(60);

/// The one thing the update logic and the web source need from the network, so tests can stand
/// in for it.
pub trait Transport {
    /// One GET, trusting only the CAs in `cacert`; a reply with any status is `Ok`.
    fn get(&mut self, request: &Request, cacert: &Path) -> Result<HttpReply, Error>;

    /// One request with any method, headers and JSON body (the OVHcloud API's calls), trusting
    /// only the CAs in `cacert`; a reply with any status is `Ok`.
    fn call(&mut self, call: &Call, cacert: &Path) -> Result<HttpReply, Error>;
}

/// What came back over HTTP, before interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// At most [`MAX_REPLY_BYTES`].
    pub body: Vec<u8>,
    /// The `Location` header of a redirect, which is never followed.
    pub location: Option<String>,
    /// OVHcloud's id of the request (`X-Ovh-QueryID`), which its support asks for.
    pub query_id: Option<String>,
}

pub struct Request<'a> {
    pub url: &'a str,
    /// The `Authorization` header, if any: never log it.
    pub authorization: Option<&'a str>,
    /// Connect over this family only: an address echo service answers with the address of the
    /// connection, so asking over IPv4 for the IPv6 address would get the wrong one.
    pub family: Option<Family>,
}

/// A request of the OVHcloud API.
pub struct Call<'a> {
    /// `GET`, `POST` or `PUT`.
    pub method: &'a str,
    pub url: &'a str,
    /// Extra headers: a signature among them, so never log their values.
    pub headers: &'a [(&'a str, &'a str)],
    /// Sent exactly as given (it is signed), as `application/json`.
    pub json: Option<&'a str>,
}

/// Keeps one agent per CA bundle and family, so records sharing a server share its kept-alive
/// connection.
pub struct Https {
    timeout: Duration,
    agents: Vec<(AgentKey, Agent)>,
}

type AgentKey = (PathBuf, Option<Family>);

impl Https {
    pub fn new(timeout: Duration) -> Self {
        Https {
            timeout,
            agents: Vec::new(),
        }
    }

    fn agent_for(&mut self, cacert: &Path, family: Option<Family>) -> Result<&Agent, Error> {
        let wanted = |(key, _): &(AgentKey, Agent)| key.0 == cacert && key.1 == family;
        let index = match self.agents.iter().position(wanted) {
            Some(index) => index,
            None => {
                let config = agent_config(load_roots(cacert)?, self.timeout, family);
                // ureq's default chain, with our TCP layer: a proxy named in the environment
                // is still used (CONNECT), SOCKS never was (ureq is built without it).
                let connector =
                    ().chain(ConnectProxyConnector::default())
                        .chain(PollingTcpConnector)
                        .chain(RustlsConnector::default());
                let agent = Agent::with_parts(config, connector, CachingResolver::default());
                self.agents.push(((cacert.to_path_buf(), family), agent));
                self.agents.len() - 1
            }
        };
        Ok(&self.agents[index].1)
    }
}

impl Transport for Https {
    fn get(&mut self, request: &Request, cacert: &Path) -> Result<HttpReply, Error> {
        exchange(self.agent_for(cacert, request.family)?, request)
    }

    fn call(&mut self, call: &Call, cacert: &Path) -> Result<HttpReply, Error> {
        let agent = self.agent_for(cacert, None)?;
        let mut builder = ureq::http::Request::builder()
            .method(call.method)
            .uri(call.url);
        for (name, value) in call.headers {
            builder = builder.header(*name, *value);
        }
        let response = match call.json {
            Some(json) => run(
                agent,
                builder
                    .header("Content-Type", "application/json")
                    .body(json.as_bytes()),
            ),
            None if call.method == "GET" => run(agent, builder.body(())),
            // Said to be empty: without a length, ureq would send a POST's body chunked.
            None => run(agent, builder.body(&[][..])),
        }?;
        read_reply(response, MAX_CALL_REPLY_BYTES)
    }
}

/// Sends a request built with ureq's `http` types, whose builder fails on a malformed method,
/// URL or header.
fn run(
    agent: &Agent,
    request: Result<ureq::http::Request<impl AsSendBody>, ureq::http::Error>,
) -> Result<ureq::http::Response<ureq::Body>, Error> {
    let request = request.map_err(|e| Error::Transport(format!("request not sent: {e}")))?;
    agent.run(request).map_err(describe)
}

/// One GET over `agent`, read into an [`HttpReply`]. Public so that the fuzz target can feed
/// ureq's reply parsing and this reading of it with arbitrary replies.
pub fn exchange(agent: &Agent, request: &Request) -> Result<HttpReply, Error> {
    let mut call = agent.get(request.url);
    if let Some(authorization) = request.authorization {
        call = call.header("Authorization", authorization);
    }
    read_reply(call.call().map_err(describe)?, MAX_REPLY_BYTES)
}

/// Reads a reply's status, the headers dynhost looks at, and at most `limit` bytes of body.
fn read_reply(
    mut response: ureq::http::Response<ureq::Body>,
    limit: u64,
) -> Result<HttpReply, Error> {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
    };
    let location = header("location");
    let query_id = header("x-ovh-queryid");
    let body = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(describe)?;
    Ok(HttpReply {
        status: response.status().as_u16(),
        body,
        location,
        query_id,
    })
}

/// A CA bundle with no certificate in it would make every server untrusted: say so instead.
fn load_roots(cacert: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let pem = std::fs::read(cacert).map_err(|e| Error::io(cacert, e))?;
    let roots: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    if roots.is_empty() {
        return Err(Error::io(
            cacert,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no PEM certificate in the file",
            ),
        ));
    }
    Ok(roots)
}

/// Everything about an agent but how it connects: [`Https`] adds its connector (TCP, then
/// rustls), the fuzz target one that replays a recorded reply.
pub fn agent_config(
    roots: Vec<Certificate<'static>>,
    timeout: Duration,
    family: Option<Family>,
) -> Config {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(CryptoProvider {
            key_provider: &NoClientKeys,
            ..rustls::crypto::ring::default_provider()
        }))
        .build();
    Agent::config_builder()
        .tls_config(tls)
        .https_only(true)
        // Credentials must never follow a redirect to another host or to plain HTTP.
        .max_redirects(0)
        .http_status_as_error(false)
        .no_delay(true)
        .timeout_global(Some(timeout))
        .ip_family(match family {
            None => IpFamily::Any,
            Some(Family::Ipv4) => IpFamily::Ipv4Only,
            Some(Family::Ipv6) => IpFamily::Ipv6Only,
        })
        .user_agent(USER_AGENT)
        .accept_encoding("identity")
        .input_buffer_size(INPUT_BUFFER_BYTES)
        .output_buffer_size(OUTPUT_BUFFER_BYTES)
        .max_response_header_size(INPUT_BUFFER_BYTES)
        .build()
}

/// dynhost never presents a client certificate, so it never loads a private key: without
/// ring's key loading and signing (RSA, ECDSA, Ed25519), which the default provider carries
/// only for that, the binary is smaller. Verifying servers' signatures is untouched.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General("no client certificates".into()))
    }
}

/// ureq asks its resolver before every request, even one that reuses a kept-alive connection,
/// and its default one starts a thread per lookup whenever a timeout is set (so that a slow
/// lookup can be abandoned). This one takes an IP literal as it is, and remembers a name's
/// addresses for [`RESOLVED_FOR`], so a pass over many records on one server costs at most
/// one lookup (and one thread), still bounded by the timeout.
#[derive(Debug, Default)]
struct CachingResolver {
    /// `host:port`, when it was looked up, and its addresses.
    looked_up: Mutex<Vec<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = (uri.scheme().zip(uri.authority()))
            .and_then(|(scheme, authority)| DefaultResolver::host_and_port(scheme, authority));
        // Without a scheme and host the default resolver gives ureq's own error.
        let Some(host_port) = host_port else {
            return DefaultResolver::default().resolve(uri, config, timeout);
        };
        if let Ok(literal) = host_port.parse::<SocketAddr>() {
            return literal_address(literal, config.ip_family());
        }
        let now = Instant::now();
        let mut looked_up = self.looked_up.lock().unwrap_or_else(|e| e.into_inner());
        looked_up.retain(|(_, at, _)| now.saturating_duration_since(*at) < RESOLVED_FOR);
        if let Some((_, _, addresses)) = looked_up.iter().find(|(key, _, _)| *key == host_port) {
            return Ok(addresses.clone());
        }
        let addresses = DefaultResolver::default().resolve(uri, config, timeout)?;
        looked_up.push((host_port, now, addresses.clone()));
        Ok(addresses)
    }
}

/// An IP literal needs no lookup, only the check the default resolver makes of its family.
fn literal_address(
    address: SocketAddr,
    family: IpFamily,
) -> Result<ResolvedSocketAddrs, ureq::Error> {
    if family
        .keep_wanted(std::iter::once(address))
        .next()
        .is_none()
    {
        return Err(ureq::Error::HostNotFound);
    }
    let mut addresses = DefaultResolver::default().empty();
    addresses.push(address);
    Ok(addresses)
}

/// Opens the TCP connections of [`PollingTcp`].
#[derive(Debug)]
struct PollingTcpConnector;

impl<In: UreqTransport> Connector<In> for PollingTcpConnector {
    type Out = Either<In, PollingTcp>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        // A proxy's connection, made by the connector before this one.
        if let Some(chained) = chained {
            return Ok(Some(Either::A(chained)));
        }
        let stream = connect_any(&details.addrs, details.timeout)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let config = details.config;
        let buffers = ZeroedBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        let transport = PollingTcp::new(stream, buffers)?;
        (details.register_shutdown)(Arc::downgrade(&transport.stream) as Weak<dyn ShutdownHandle>)?;
        Ok(Some(Either::B(transport)))
    }
}

/// Tries `addresses` in turn, each with an equal share of the time left, so that one that
/// never answers leaves time for the next.
fn connect_any(
    addresses: &ResolvedSocketAddrs,
    timeout: NextTimeout,
) -> Result<TcpStream, ureq::Error> {
    let deadline = deadline_of(timeout)?;
    let mut last_error = ureq::Error::HostNotFound;
    for (address, shares) in addresses.iter().zip((1..=addresses.len() as u32).rev()) {
        let connected = match time_left(deadline, timeout.reason)? {
            None => TcpStream::connect(address),
            Some(left) => TcpStream::connect_timeout(address, left / shares),
        };
        match connected {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                last_error = ureq::Error::Timeout(timeout.reason)
            }
            Err(e) => last_error = e.into(),
        }
    }
    Err(last_error)
}

/// A TCP connection for ureq that asks the kernel only what a kept-alive connection needs.
/// ureq's own checks that a pooled connection is still open, before and after each request,
/// by switching the socket to non-blocking, reading and switching back (three system calls
/// each time), and sets the socket's timeout again before each send and receive, since the
/// time left of the global timeout changed: 8 of a record's 11 calls on the connection. This
/// socket is non-blocking from the start: the check is one peek, a send one call unless the
/// socket's buffer is full, and a wait is a `poll` for at most the time left.
struct PollingTcp {
    /// Shared (weakly) with the agent, which may shut it down.
    stream: Arc<TcpStream>,
    buffers: ZeroedBuffers,
}

impl PollingTcp {
    fn new(stream: TcpStream, buffers: ZeroedBuffers) -> io::Result<PollingTcp> {
        stream.set_nonblocking(true)?;
        Ok(PollingTcp {
            stream: Arc::new(stream),
            buffers,
        })
    }
}

impl std::fmt::Debug for PollingTcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollingTcp")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

impl UreqTransport for PollingTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        let deadline = deadline_of(timeout)?;
        let mut stream = &*self.stream;
        let mut output = &self.buffers.output()[..amount];
        while !output.is_empty() {
            match stream.write(output) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(sent) => output = &output[sent..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = time_left(deadline, timeout.reason)?;
                    crate::sys::wait_writable(stream.as_fd(), left)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        let deadline = deadline_of(timeout)?;
        let mut stream = &*self.stream;
        let input = self.buffers.input_append_buf();
        // Waiting first: right after a request, a read would only find nothing yet.
        let amount = loop {
            let left = time_left(deadline, timeout.reason)?;
            crate::sys::wait_readable(&[stream.as_fd()], left)?;
            match stream.read(input) {
                Ok(amount) => break amount,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Open while there is nothing to read, not even the end: bytes nobody asked for or an
    /// error mean the connection is not one to send a request on.
    fn is_open(&mut self) -> bool {
        matches!(self.stream.peek(&mut [0]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// The TCP layer's buffers, taken zeroed from the allocator. ureq's own (`LazyBuffers`) grow a
/// `Vec` with zeros written a byte at a time, ~6 instructions a byte in the size-optimised
/// build: 75,000 instructions for this layer's 12 KiB, 2 % of an update; `calloc` clears them
/// at `memset` speed. The TLS layer above keeps ureq's (its transport is ureq's).
struct ZeroedBuffers {
    input: Vec<u8>,
    /// `input[consumed..filled]` was received and not yet used.
    consumed: usize,
    filled: usize,
    /// Whether the last use of the input took anything: ureq asks for more input before it
    /// looks again at input it could not use.
    progress: bool,
    output: Vec<u8>,
}

impl ZeroedBuffers {
    fn new(input_size: usize, output_size: usize) -> ZeroedBuffers {
        ZeroedBuffers {
            input: vec![0; input_size],
            consumed: 0,
            filled: 0,
            progress: false,
            output: vec![0; output_size],
        }
    }

    /// Moves what is left to use to the front, so all the room after it is free to fill.
    fn compact(&mut self) {
        if self.consumed > 0 {
            self.input.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }
}

impl Buffers for ZeroedBuffers {
    fn output(&mut self) -> &mut [u8] {
        &mut self.output
    }

    fn input(&self) -> &[u8] {
        &self.input[self.consumed..self.filled]
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.compact();
        &mut self.input[self.filled..]
    }

    fn input_appended(&mut self, amount: usize) {
        // `amount` is what a read put into `input_append_buf`, which it cannot exceed.
        self.filled = (self.filled + amount).min(self.input.len());
    }

    fn input_consume(&mut self, amount: usize) {
        self.progress = amount > 0;
        self.consumed = (self.consumed + amount).min(self.filled);
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        self.compact();
        (&mut self.input[self.filled..], &mut self.output)
    }

    fn can_use_input(&self) -> bool {
        self.progress && self.consumed < self.filled
    }
}

/// When `timeout` runs out (`None`: never); one already run out is its error.
fn deadline_of(timeout: NextTimeout) -> Result<Option<Instant>, ureq::Error> {
    if timeout.after.is_not_happening() {
        return Ok(None);
    }
    if timeout.after.is_zero() {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Ok(Instant::now().checked_add(*timeout.after))
}

/// The time left until `deadline` (`None`: no limit), or the timeout `reason` once none is.
fn time_left(deadline: Option<Instant>, reason: Timeout) -> Result<Option<Duration>, ureq::Error> {
    let Some(deadline) = deadline else {
        return Ok(None);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ureq::Error::Timeout(reason));
    }
    Ok(Some(left))
}

fn describe(error: ureq::Error) -> Error {
    match error {
        ureq::Error::BodyExceedsLimit(limit) => {
            Error::Transport(format!("reply body larger than {limit} bytes"))
        }
        ureq::Error::Timeout(_) => Error::Transport("timed out".into()),
        ureq::Error::HostNotFound => Error::Transport("host name not found".into()),
        other => Error::Transport(other.to_string()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A reply without a `Location`, for the tests of everything that reads replies.
    pub(crate) fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply {
            status,
            body: body.as_bytes().to_vec(),
            location: None,
            query_id: None,
        }
    }

    fn resolve(resolver: &CachingResolver, url: &str, family: Option<Family>) -> Vec<SocketAddr> {
        let config = agent_config(Vec::new(), Duration::from_secs(5), family);
        let uri: Uri = url.parse().unwrap();
        match resolver.resolve(&uri, &config, NextTimeout::default()) {
            Ok(addresses) => addresses.to_vec(),
            Err(ureq::Error::HostNotFound) => Vec::new(),
            Err(other) => panic!("{url}: {other}"),
        }
    }

    fn addresses(text: &[&str]) -> Vec<SocketAddr> {
        text.iter().map(|a| a.parse().unwrap()).collect()
    }

    /// A [`PollingTcp`] connected to the other end it returns, over loopback.
    fn polling_pair() -> (PollingTcp, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut addresses = DefaultResolver::default().empty();
        addresses.push(listener.local_addr().unwrap());
        let stream = connect_any(&addresses, within(Duration::from_secs(5))).unwrap();
        let (server, _) = listener.accept().unwrap();
        let buffers = ZeroedBuffers::new(INPUT_BUFFER_BYTES, OUTPUT_BUFFER_BYTES);
        (PollingTcp::new(stream, buffers).unwrap(), server)
    }

    /// A global timeout of `after`.
    fn within(after: Duration) -> NextTimeout {
        NextTimeout {
            after: ureq::unversioned::transport::time::Duration::Exact(after),
            ..NextTimeout::default()
        }
    }

    /// Waits (at most 5 s) until `transport` has something to read: a byte or the end.
    fn until_readable(transport: &PollingTcp) {
        let ready =
            crate::sys::wait_readable(&[transport.stream.as_fd()], Some(Duration::from_secs(5)));
        assert_eq!(ready.unwrap(), [true]);
    }

    #[test]
    fn input_is_used_in_order_and_its_room_freed_once_used() {
        let mut buffers = ZeroedBuffers::new(8, 4);
        assert_eq!(buffers.output().len(), 4);
        assert!(buffers.input().is_empty());
        assert!(!buffers.can_use_input());

        buffers.input_append_buf()[..5].copy_from_slice(b"abcde");
        buffers.input_appended(5);
        assert_eq!(buffers.input(), b"abcde");
        buffers.input_consume(2);
        assert_eq!(buffers.input(), b"cde");
        assert!(buffers.can_use_input());
        // What is left moves to the front: the whole rest of the buffer is room to fill.
        assert_eq!(buffers.input_append_buf().len(), 5);
        assert_eq!(buffers.input(), b"cde");
        buffers.input_append_buf()[..2].copy_from_slice(b"fg");
        buffers.input_appended(2);
        assert_eq!(buffers.input(), b"cdefg");

        // Nothing taken: ureq must read more before it looks again.
        buffers.input_consume(0);
        assert!(!buffers.can_use_input());
        buffers.input_consume(5);
        assert!(buffers.input().is_empty());
        assert!(!buffers.can_use_input());
        let (tmp, output) = buffers.tmp_and_output();
        assert_eq!((tmp.len(), output.len()), (8, 4));
    }

    #[test]
    fn input_counts_stay_within_the_buffer() {
        let mut buffers = ZeroedBuffers::new(4, 4);
        buffers.input_appended(9);
        assert_eq!(buffers.input().len(), 4);
        buffers.input_consume(9);
        assert!(buffers.input().is_empty());
        assert_eq!(buffers.input_append_buf().len(), 4);
    }

    #[test]
    fn a_connection_is_open_until_the_server_sends_unasked_or_closes() {
        let (mut transport, mut server) = polling_pair();
        assert!(transport.is_open());
        assert!(transport.is_open(), "the check takes nothing away");
        server.write_all(b"x").unwrap();
        until_readable(&transport);
        assert!(!transport.is_open());

        let (mut transport, server) = polling_pair();
        drop(server);
        until_readable(&transport);
        assert!(!transport.is_open());
    }

    #[test]
    fn what_is_sent_arrives_and_what_comes_back_is_read() {
        let (mut transport, mut server) = polling_pair();
        let request = b"GET / HTTP/1.1\r\n\r\n";
        transport.buffers().output()[..request.len()].copy_from_slice(request);
        transport
            .transmit_output(request.len(), within(Duration::from_secs(5)))
            .unwrap();
        let mut received = vec![0; request.len()];
        server.read_exact(&mut received).unwrap();
        assert_eq!(received, request);
        server.write_all(b"HTTP/1.1 200 OK\r\n").unwrap();
        let timeout = within(Duration::from_secs(5));
        let mut input = Vec::new();
        while input.len() < 17 && transport.await_input(timeout).unwrap() {
            input.extend_from_slice(transport.buffers().input());
            let consumed = transport.buffers().input().len();
            transport.buffers().input_consume(consumed);
        }
        assert_eq!(input, b"HTTP/1.1 200 OK\r\n");
        drop(server);
        assert!(
            !transport.await_input(timeout).unwrap(),
            "the end is no input"
        );
    }

    #[test]
    fn a_silent_server_runs_out_the_time_of_a_receive() {
        let (mut transport, _server) = polling_pair();
        let error = transport
            .await_input(within(Duration::from_millis(50)))
            .unwrap_err();
        assert!(
            matches!(error, ureq::Error::Timeout(Timeout::Global)),
            "{error}"
        );
        let spent = transport.await_input(within(Duration::ZERO)).unwrap_err();
        assert!(matches!(spent, ureq::Error::Timeout(_)), "{spent}");
    }

    #[test]
    fn a_server_that_reads_nothing_runs_out_the_time_of_a_send() {
        let (mut transport, _server) = polling_pair();
        // Until the socket buffers on both ends are full (a few MiB on loopback).
        let timeout = within(Duration::from_millis(200));
        let error = (0..100_000)
            .find_map(|_| {
                transport.buffers().output().fill(b'x');
                transport
                    .transmit_output(OUTPUT_BUFFER_BYTES, timeout)
                    .err()
            })
            .expect("the buffers filled up");
        assert!(
            matches!(error, ureq::Error::Timeout(Timeout::Global)),
            "{error}"
        );
    }

    #[test]
    fn a_refused_address_leaves_the_next_one_to_try() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let refusing = {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            closed.local_addr().unwrap()
        };
        let timeout = within(Duration::from_secs(5));
        let mut addresses = DefaultResolver::default().empty();
        assert!(matches!(
            connect_any(&addresses, timeout),
            Err(ureq::Error::HostNotFound)
        ));
        addresses.push(refusing);
        assert!(matches!(
            connect_any(&addresses, timeout),
            Err(ureq::Error::Io(_))
        ));
        addresses.push(listener.local_addr().unwrap());
        let stream = connect_any(&addresses, timeout).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    }

    #[test]
    fn an_ip_literal_is_taken_as_it_is_within_the_family() {
        let resolver = CachingResolver::default();
        let v4 = "https://192.0.2.1:8443/nic/update";
        assert_eq!(resolve(&resolver, v4, None), addresses(&["192.0.2.1:8443"]));
        assert_eq!(resolve(&resolver, v4, Some(Family::Ipv4)).len(), 1);
        assert_eq!(resolve(&resolver, v4, Some(Family::Ipv6)), []);
        let v6 = "https://[2001:db8::1]/nic/update";
        assert_eq!(
            resolve(&resolver, v6, None),
            addresses(&["[2001:db8::1]:443"])
        );
        assert_eq!(resolve(&resolver, v6, Some(Family::Ipv4)), []);
        // Nothing to remember for a literal.
        assert!(resolver.looked_up.lock().unwrap().is_empty());
    }

    #[test]
    fn a_name_is_looked_up_once_then_remembered_for_a_while() {
        let resolver = CachingResolver::default();
        let url = "https://localhost:8443/";
        let ipv4 = Some(Family::Ipv4);
        assert_eq!(
            resolve(&resolver, url, ipv4),
            addresses(&["127.0.0.1:8443"])
        );
        assert_eq!(resolver.looked_up.lock().unwrap().len(), 1);

        // A remembered answer is given without asking again...
        let mut stand_in = DefaultResolver::default().empty();
        stand_in.push("192.0.2.1:8443".parse().unwrap());
        let now = Instant::now();
        *resolver.looked_up.lock().unwrap() = vec![("localhost:8443".into(), now, stand_in)];
        assert_eq!(
            resolve(&resolver, url, ipv4),
            addresses(&["192.0.2.1:8443"])
        );

        // ...until it is RESOLVED_FOR old.
        if let Some(then) = now.checked_sub(RESOLVED_FOR) {
            resolver.looked_up.lock().unwrap()[0].1 = then;
            assert_eq!(
                resolve(&resolver, url, ipv4),
                addresses(&["127.0.0.1:8443"])
            );
            assert_eq!(resolver.looked_up.lock().unwrap().len(), 1);
        }
    }
}
