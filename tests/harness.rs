//! Self-tests of the test harness in `common/`: they do not run dynhost, they prove that the mock
//! server, the test PKI and the helpers behave as the other tests assume.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

type Client = BufReader<StreamOwned<ClientConnection, TcpStream>>;

fn client_config(ca_der: &[u8]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca_der.to_vec()))
        .expect("add root");
    Arc::new(
        ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Connects and completes the TLS handshake, trusting only the test CA.
fn connect(server: &MockServer, name: &str) -> io::Result<Client> {
    let server_name = ServerName::try_from(name.to_string()).expect("server name");
    let conn = ClientConnection::new(client_config(&pki().ca_der), server_name)
        .map_err(io::Error::other)?;
    let sock = TcpStream::connect(server.addr())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut stream = StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(BufReader::new(stream))
}

fn send_get(client: &mut Client, target: &str) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Test: yes\r\n\r\n");
    let stream = client.get_mut();
    stream.write_all(request.as_bytes()).expect("write request");
    stream.flush().expect("flush");
}

/// Reads one response: (status, headers, body), de-chunking when needed.
fn read_response(client: &mut Client) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut line = String::new();
    client.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .expect("status code")
        .parse()
        .expect("numeric status");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        client.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':').expect("header colon");
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            client.read_line(&mut size).expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            let mut chunk = vec![0; size + 2];
            client.read_exact(&mut chunk).expect("chunk");
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length: usize = find("Content-Length")
            .expect("content-length")
            .parse()
            .unwrap();
        body.resize(length, 0);
        client.read_exact(&mut body).expect("body");
    }
    (status, headers, body)
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection_and_records_them() {
    let server = MockServer::good();
    let mut client = connect(&server, "127.0.0.1").expect("connect");
    send_get(
        &mut client,
        "/nic/update?system=dyndns&hostname=a.example.com&myip=203.0.113.7",
    );
    let (status, _, body) = read_response(&mut client);
    assert_eq!(status, 200);
    assert_eq!(body, b"good 203.0.113.7\n");
    send_get(
        &mut client,
        "/nic/update?system=dyndns&hostname=b.example.com&myip=2001%3Adb8%3A%3A1",
    );
    let (status, _, body) = read_response(&mut client);
    assert_eq!(status, 200);
    assert_eq!(body, b"good 2001:db8::1\n");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{}", server.describe());
    assert_eq!(server.connection_count(), 1);
    assert_eq!(requests[0].connection, 1);
    assert_eq!(requests[1].connection, 1);
    assert_eq!(requests[0].index_on_connection, 0);
    assert_eq!(requests[1].index_on_connection, 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path(), "/nic/update");
    assert_eq!(requests[0].version, "HTTP/1.1");
    assert_eq!(requests[0].header("x-test"), Some("yes"));
    assert_eq!(
        requests[1].query_value("myip").as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(
        requests[1].query_value("hostname").as_deref(),
        Some("b.example.com")
    );

    // A second connection gets the next id.
    let mut other = connect(&server, "localhost").expect("connect by name");
    send_get(&mut other, "/x?myip=1.2.3.4");
    read_response(&mut other);
    assert_eq!(server.connection_count(), 2);
    assert_eq!(server.last_request().unwrap().connection, 2);
}

#[test]
fn scripted_replies_chunked_raw_delayed_and_closing() {
    let server = MockServer::queue(vec![
        Reply::good("203.0.113.7").chunked(),
        Reply::raw(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnochg"[..]),
        Reply::new(500, "later").delay(Duration::from_millis(100)),
        Reply::new(401, "badauth").close(),
    ]);
    let mut client = connect(&server, "localhost").expect("connect");

    send_get(&mut client, "/1");
    let (status, headers, body) = read_response(&mut client);
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|(n, v)| n == "Transfer-Encoding" && v == "chunked"));
    assert_eq!(body, b"good 203.0.113.7\n");

    send_get(&mut client, "/2");
    assert_eq!(
        read_response(&mut client),
        (
            200,
            vec![("Content-Length".into(), "5".into())],
            b"nochg".to_vec()
        )
    );

    send_get(&mut client, "/3");
    let (status, _, body) = read_response(&mut client);
    assert_eq!((status, body.as_slice()), (500, &b"later"[..]));

    send_get(&mut client, "/4");
    let (status, headers, body) = read_response(&mut client);
    assert_eq!((status, body.as_slice()), (401, &b"badauth"[..]));
    assert!(headers
        .iter()
        .any(|(n, v)| n == "Connection" && v == "close"));
    // The server closed: the next read sees the end of the stream.
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty());

    // The queue is exhausted: the last reply repeats.
    let mut again = connect(&server, "localhost").expect("reconnect");
    send_get(&mut again, "/5");
    assert_eq!(read_response(&mut again).0, 401);
    assert_eq!(server.request_count(), 5);
}

#[test]
fn hang_up_closes_without_a_reply() {
    let server = MockServer::always(Reply::hang_up());
    let mut client = connect(&server, "localhost").expect("connect");
    send_get(&mut client, "/");
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert_eq!(server.request_count(), 1);
}

#[test]
fn large_bodies_are_delivered_whole() {
    let body = vec![b'x'; 1024 * 1024];
    let server = MockServer::queue(vec![
        Reply::ok(body.clone()),
        Reply::ok(body.clone()).chunked_by(8192),
    ]);
    let mut client = connect(&server, "localhost").expect("connect");
    send_get(&mut client, "/big");
    assert_eq!(read_response(&mut client).2.len(), body.len());
    send_get(&mut client, "/big-chunked");
    assert_eq!(read_response(&mut client).2.len(), body.len());
}

fn handshake_error(cert: ServerCert, name: &str) -> String {
    let server = MockServer::start(cert, echo_good);
    let error = connect(&server, name).err().map(|e| format!("{e:?}"));
    assert!(
        server.wait_for_tls_errors(1),
        "server saw no TLS error: {}",
        server.describe()
    );
    assert_eq!(server.request_count(), 0);
    error.expect("the handshake must fail")
}

#[test]
fn test_pki_certificates_are_judged_as_intended() {
    // (`::1` is in the SANs too, for later use; the server listens on 127.0.0.1 only.)
    for name in ["localhost", "127.0.0.1"] {
        let server = MockServer::good();
        connect(&server, name).unwrap_or_else(|e| panic!("trusted cert for {name}: {e}"));
    }
    let untrusted = handshake_error(ServerCert::Untrusted, "localhost");
    assert!(untrusted.contains("UnknownIssuer"), "{untrusted}");
    let expired = handshake_error(ServerCert::Expired, "localhost");
    assert!(expired.contains("Expired"), "{expired}");
    let wrong = handshake_error(ServerCert::WrongName, "127.0.0.1");
    assert!(wrong.contains("NotValidForName"), "{wrong}");
}

#[test]
fn dropping_the_server_stops_it() {
    let server = MockServer::good();
    let addr = server.addr();
    connect(&server, "localhost").expect("connect while running");
    drop(server);
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}

#[test]
fn a_refused_port_can_be_served_later() {
    let port = unused_port();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let server = MockServer::start_on(port, ServerCert::Trusted, echo_good);
    assert_eq!(server.url(), format!("https://127.0.0.1:{port}"));
    let mut client = connect(&server, "127.0.0.1").expect("connect");
    send_get(&mut client, "/nic/update?myip=198.51.100.23");
    assert_eq!(read_response(&mut client).2, b"good 198.51.100.23\n");
}

#[test]
fn address_script_prints_the_current_address() {
    let env = TestEnv::new();
    let script = env.address();
    let out = run_program(&script.script, &[]);
    assert!(out.status.success());
    assert_eq!(out.stdout, format!("{ADDR1}\n").as_bytes());
    env.set_address(ADDR6);
    assert_eq!(
        run_program(&script.script, &[]).stdout,
        format!("{ADDR6}\n").as_bytes()
    );
    script.clear();
    let out = run_program(&script.script, &[]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());

    let other = env.address_script("second");
    other.set(ADDR2);
    assert_eq!(
        run_program(&other.script, &[]).stdout,
        format!("{ADDR2}\n").as_bytes()
    );
}

#[test]
fn temp_dirs_are_removed_on_drop() {
    let env = TestEnv::new();
    let dir = env.dir().to_path_buf();
    assert!(env.ca_path.is_file());
    assert!(env.untrusted_ca_path.is_file());
    assert!(!env.state_dir.exists(), "the binary creates the state dir");
    if std::env::var_os("DYNHOST_KEEP_TEST_DIRS").is_none() {
        drop(env);
        assert!(!dir.exists());
    }
}

#[test]
fn config_rendering_quotes_values() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let record = env
        .record("home", &server)
        .set("password", "it's")
        .remove("family");
    let text = env.config(&[record]);
    assert!(text.starts_with("config dynhost 'global'\n\toption cacert '"));
    assert!(text.contains("\nconfig record 'home'\n"));
    assert!(text.contains("\toption password 'it'\\''s'\n"));
    assert!(!text.contains("family"));
    assert!(text.contains(&format!("\toption server '{}'\n", server.url())));
}

#[test]
fn encoding_helpers() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(
        basic_auth("Aladdin", "open sesame"),
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(percent_decode("2001%3adb8%3A%3A1"), "2001:db8::1");
    assert_eq!(percent_decode("a%2"), "a%2");
    assert_eq!(percent_decode("%zz+"), "%zz+");
}
