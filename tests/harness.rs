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

// ---------------------------------------------------------------------------------------------
// Launch: PATH additions and wrappers

#[test]
fn prepend_path_puts_the_newest_directory_first() {
    let env = TestEnv::new();
    assert_eq!(env.launch().path(), CLEAN_PATH);
    let a = env.dir().join("a");
    let b = env.dir().join("b");
    env.prepend_path(&a);
    env.prepend_path(&b);
    env.prepend_path(&a);
    assert_eq!(
        env.launch().path(),
        format!("{}:{}:{CLEAN_PATH}", a.display(), b.display())
    );
    assert!(env.launch().wrapper.is_empty());
    env.set_wrapper(&["/usr/bin/env"]);
    assert_eq!(env.launch().wrapper, vec!["/usr/bin/env".to_string()]);
    // `env` runs the binary with the same environment: the wrapper is transparent.
    let out = env.run_args(&["--version"]);
    out.assert_code(0);
    assert!(out.stdout.contains(VERSION), "{out}");
}

/// A probe for the `script` source: prints `found` when `test` succeeds, else `other`.
fn probe_script(env: &TestEnv, name: &str, test: &str, found: &str, other: &str) -> String {
    let path = env.dir().join(format!("probe-{name}.sh"));
    write_script(
        &path,
        &format!("#!/bin/sh\nif {test}; then echo {found}; else echo {other}; fi\n"),
    );
    path.to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------------
// The stand-in ubus

const WAN_STATUS: &str =
    r#"{"up":true,"l3_device":"wan0","ipv4-address":[{"address":"192.0.2.10","mask":24}]}"#;

#[test]
fn fake_ubus_answers_from_its_script_and_logs_every_argv() {
    let env = TestEnv::new();
    let ubus = FakeUbus::new(&env)
        .interface("wan", WAN_STATUS, 0)
        .missing("wan_6")
        .dump(r#"{"interface":[]}"#);
    let call = |args: &[&str]| run_program(ubus.program(), args);

    let out = call(&["-S", "call", "network.interface.wan", "status"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{WAN_STATUS}\n")
    );
    assert!(out.stderr.is_empty());

    // Missing: exit 4, nothing at all with -S; the real tool's message without it.
    let out = call(&["-S", "call", "network.interface.wan_6", "status"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    let out = call(&["call", "network.interface.wan_6", "status"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Command failed: Not found\n"
    );

    let out = call(&["-S", "call", "network.interface", "dump"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"{\"interface\":[]}\n");

    // Unknown calls: other objects, other methods, other commands, odd names.
    for args in [
        &["-S", "call", "network.device", "status"][..],
        &["-S", "call", "network.interface.wan", "up"],
        &["-S", "call", "network.interface", "status"],
        &["-S", "list"],
        &["-S", "call", "network.interface.w/an", "status"],
        &["-S", "call", "network.interface.lan", "status"],
    ] {
        let out = call(args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
    // Options before the command are skipped; a message argument is accepted.
    let out = call(&[
        "-t",
        "5",
        "-S",
        "call",
        "network.interface.wan",
        "status",
        "{}",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{WAN_STATUS}\n")
    );
    // Bad usage: exit 254, like the real tool.
    assert_eq!(
        call(&["-S", "call", "network.interface.wan"]).status.code(),
        Some(254)
    );

    // The exact argv of every call, in order, odd characters included.
    call(&[
        "-S",
        "call",
        "network.interface.wan",
        "status",
        "{\"a b\":\n\"c\"}",
    ]);
    let calls = ubus.calls();
    assert_eq!(calls.len(), 13, "{calls:?}");
    assert_eq!(calls[0], FakeUbus::status_args("wan"));
    assert_eq!(calls[2], ["call", "network.interface.wan_6", "status"]);
    assert_eq!(
        calls[12],
        [
            "-S",
            "call",
            "network.interface.wan",
            "status",
            "{\"a b\":\n\"c\"}"
        ]
    );
    ubus.clear_calls();
    assert!(ubus.calls().is_empty());
}

#[test]
fn fake_ubus_replies_can_change_between_calls() {
    let env = TestEnv::new();
    let ubus = FakeUbus::new(&env);
    let status = || {
        run_program(
            ubus.program(),
            &["-S", "call", "network.interface.wan", "status"],
        )
    };
    // Nothing set: not found.
    assert_eq!(status().status.code(), Some(4));
    ubus.set_interface("wan", "not json at all\nsecond line", 0);
    assert_eq!(status().stdout, b"not json at all\nsecond line\n");
    ubus.set_interface("wan", "", 2);
    let out = status();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    ubus.set_down(true);
    let out = run_program(ubus.program(), &["call", "network.interface.wan", "status"]);
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Failed to connect to ubus\n"
    );
    ubus.set_down(false);
    ubus.set_missing("wan");
    assert_eq!(status().status.code(), Some(4));
    assert_eq!(ubus.calls().len(), 5);
}

#[test]
fn fake_ubus_comes_first_on_the_binarys_path() {
    let env = TestEnv::new();
    let ubus = FakeUbus::new(&env).interface("wan", WAN_STATUS, 0);
    assert_eq!(env.launch().path_first, vec![ubus.bin_dir().to_path_buf()]);
    // The `script` source runs the probe with dynhost's PATH: `ubus` must be the stand-in.
    let probe = probe_script(
        &env,
        "ubus",
        "ubus -S call network.interface.wan status >/dev/null",
        "192.0.2.10",
        "198.51.100.99",
    );
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server).set("script", &probe)]);
    let out = env.run(&config, &["check"]);
    assert!(out.mentions("192.0.2.10"), "{out}");
    assert_eq!(ubus.calls(), vec![FakeUbus::status_args("wan")], "{out}");
    assert_eq!(server.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Network namespaces (skipped, with a note on stderr, where they cannot be made)

#[test]
fn parse_addresses_reads_ip_o_addr_lines() {
    let text = "\
3: wan0    inet 192.0.2.10/24 brd 192.0.2.255 scope global wan0\\       valid_lft forever preferred_lft forever
3: wan0    inet 203.0.113.5 peer 198.51.100.1/32 scope global wan0:1\\       valid_lft forever preferred_lft forever
3: wan0    inet6 2001:db8:1:0:f6c4:30f6:eebc:59c4/64 scope global temporary tentative dynamic \\       valid_lft 604800sec preferred_lft 85828sec
3: wan0    inet6 2001:db8:2::10/64 scope global deprecated \\       valid_lft forever preferred_lft 0sec
";
    let addrs = netns::parse_addresses(text);
    assert_eq!(addrs.len(), 4, "{addrs:#?}");
    assert_eq!(addrs[0].address.to_string(), "192.0.2.10");
    assert_eq!((addrs[0].prefix_len, addrs[0].peer), (24, None));
    assert_eq!(addrs[0].label.as_deref(), Some("wan0"));
    assert!(addrs[0].flags.is_empty(), "{:?}", addrs[0]);
    assert_eq!(addrs[1].address.to_string(), "203.0.113.5");
    assert_eq!(addrs[1].peer.unwrap().to_string(), "198.51.100.1");
    assert_eq!(addrs[1].prefix_len, 32);
    assert_eq!(addrs[1].label.as_deref(), Some("wan0:1"));
    assert!(addrs[2].is_ipv6());
    assert_eq!(addrs[2].flags, ["temporary", "tentative", "dynamic"]);
    assert_eq!(addrs[2].scope, "global");
    assert_eq!(
        (addrs[2].valid_lft, addrs[2].preferred_lft),
        (Some(604800), Some(85828))
    );
    assert!(addrs[3].has("deprecated"));
    assert_eq!(
        (addrs[3].valid_lft, addrs[3].preferred_lft),
        (None, Some(0))
    );
}

#[test]
fn netns_holds_addresses_of_every_kind() {
    let Some(ns) = Netns::create() else { return };
    ns.veth("wan0", "peer0");
    // Finding (a): IPv6 is on, in the namespace and on the new device.
    for key in [
        "net.ipv6.conf.all.disable_ipv6",
        "net.ipv6.conf.default.disable_ipv6",
        "net.ipv6.conf.wan0.disable_ipv6",
    ] {
        assert_eq!(ns.sysctl_get(key), "0", "{key}");
    }
    ns.ip(&["addr", "add", "192.0.2.10/24", "dev", "wan0"]);
    ns.ip(&["addr", "add", "2001:db8::10/64", "dev", "wan0", "nodad"]);
    ns.ip(&[
        "addr",
        "add",
        "fd12:3456:789a::10/64",
        "dev",
        "wan0",
        "nodad",
    ]);
    ns.ip(&[
        "addr",
        "add",
        "2001:db8:2::10/64",
        "dev",
        "wan0",
        "nodad",
        "preferred_lft",
        "0",
    ]);
    ns.ip(&[
        "addr",
        "add",
        "203.0.113.5",
        "peer",
        "198.51.100.1",
        "dev",
        "wan0",
    ]);

    let shown = ns.ip(&["addr", "show", "dev", "wan0"]);
    for text in [
        "inet 192.0.2.10/24",
        "inet6 2001:db8::10/64",
        "inet6 fd12:3456:789a::10/64",
        "inet6 2001:db8:2::10/64",
        "inet 203.0.113.5 peer 198.51.100.1/32",
        "state UP",
    ] {
        assert!(shown.contains(text), "{text} not in\n{shown}");
    }

    let get = |a: &str| {
        ns.address("wan0", a)
            .unwrap_or_else(|| panic!("{a}\n{shown}"))
    };
    let v4 = get("192.0.2.10");
    assert_eq!((v4.prefix_len, v4.scope.as_str()), (24, "global"));
    let v6 = get("2001:db8::10");
    assert_eq!(v6.prefix_len, 64);
    assert!(v6.has("nodad") && !v6.has("tentative"), "{v6:?}");
    assert!(get("fd12:3456:789a::10").is_ipv6());
    let deprecated = get("2001:db8:2::10");
    assert!(deprecated.has("deprecated"), "{deprecated:?}");
    assert_eq!(deprecated.preferred_lft, Some(0));
    let p2p = get("203.0.113.5");
    assert_eq!(
        p2p.peer.map(|p| p.to_string()).as_deref(),
        Some("198.51.100.1")
    );
    assert_eq!(p2p.prefix_len, 32);
    // The kernel's link-local address is there too.
    assert!(ns
        .addresses("wan0")
        .iter()
        .any(|a| a.scope == "link" && a.address.to_string().starts_with("fe80::")));
}

#[test]
fn netns_exec_runs_inside_the_namespace() {
    let Some(ns) = Netns::create() else { return };
    ns.veth("wan0", "peer0");
    ns.ip(&["addr", "add", "2001:db8::10/64", "dev", "wan0", "nodad"]);
    let inside = ns.exec_ok(&["cat", "/proc/net/if_inet6"]);
    let line = inside
        .lines()
        .find(|l| l.starts_with("20010db8000000000000000000000010"))
        .unwrap_or_else(|| panic!("address not in /proc/net/if_inet6:\n{inside}"));
    assert!(line.ends_with("wan0"), "{line}");
    let outside = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
    assert!(
        !outside.contains("20010db8000000000000000000000010"),
        "{outside}"
    );
    // A failing command is reported, not hidden.
    assert!(!ns.exec(&["false"]).status.success());
    assert!(!ns.try_ip(&["link", "show", "no-such-dev"]).status.success());
}

#[test]
fn netns_is_deleted_on_drop_even_when_the_test_panics() {
    let Some(ns) = Netns::create() else { return };
    let name = ns.name().to_string();
    assert!(name.starts_with(&format!("dynhost-{}-", std::process::id())));
    assert!(Netns::exists(&name));
    ns.veth("wan0", "peer0");
    drop(ns);
    assert!(!Netns::exists(&name), "{name} still exists");

    let created = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let ns = Netns::create().expect("created once, created twice");
        *created.lock().unwrap() = Some(ns.name().to_string());
        ns.ip(&["link", "show", "no-such-device"]);
    }));
    let message = result.expect_err("the ip call must panic");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("no-such-device"), "{message}");
    assert!(
        message.contains("does not exist"),
        "the panic shows ip's stderr: {message}"
    );
    let name = created.into_inner().unwrap().expect("a namespace was made");
    assert!(!Netns::exists(&name), "{name} survived the panic");
}

/// Polls until `dev` has `address` without the `tentative` flag; false after [`WAIT_TIMEOUT`].
fn wait_usable(ns: &Netns, dev: &str, address: &str) -> bool {
    let deadline = std::time::Instant::now() + WAIT_TIMEOUT;
    while std::time::Instant::now() < deadline {
        if ns
            .address(dev, address)
            .is_some_and(|a| !a.has("tentative"))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn netns_tentative_addresses_stay_tentative() {
    let Some(ns) = Netns::create() else { return };
    ns.veth("wan0", "peer0");
    ns.veth("ctl0", "ctlpeer0");
    ns.veth_no_carrier("nc0", "ncpeer0");
    let tentative = ns.add_tentative("wan0", "2001:db8:5::10/64");
    assert_eq!(tentative.prefix_len, 64);
    ns.ip(&["addr", "add", "2001:db8:6::10/64", "dev", "ctl0"]);
    ns.ip(&["addr", "add", "2001:db8:7::10/64", "dev", "nc0"]);
    ns.ip(&["addr", "add", "192.0.2.20/24", "dev", "nc0"]);
    assert!(ns.ip(&["link", "show", "nc0"]).contains("NO-CARRIER"));

    // The control address, with the default DAD, becomes usable within about two seconds...
    assert!(
        wait_usable(&ns, "ctl0", "2001:db8:6::10"),
        "{}",
        ns.show("ctl0")
    );
    std::thread::sleep(Duration::from_millis(1500));
    // ...while these two are still tentative well after that.
    assert!(
        ns.address("wan0", "2001:db8:5::10")
            .unwrap()
            .has("tentative"),
        "{}",
        ns.show("wan0")
    );
    let no_carrier = ns.address("nc0", "2001:db8:7::10").unwrap();
    assert!(no_carrier.has("tentative"), "{}", ns.show("nc0"));
    // IPv4 knows nothing of DAD.
    assert!(ns.address("nc0", "192.0.2.20").unwrap().flags.is_empty());
    // A nodad address on the slow-DAD device is usable at once.
    ns.ip(&["addr", "add", "2001:db8:8::10/64", "dev", "wan0", "nodad"]);
    assert!(!ns
        .address("wan0", "2001:db8:8::10")
        .unwrap()
        .has("tentative"));
    // Carrier comes: DAD runs and the address becomes usable.
    ns.ip(&["link", "set", "ncpeer0", "up"]);
    assert!(
        wait_usable(&ns, "nc0", "2001:db8:7::10"),
        "{}",
        ns.show("nc0")
    );
}

#[test]
fn netns_temporary_addresses_appear_next_to_mngtmpaddr() {
    let Some(ns) = Netns::create() else { return };
    ns.veth("wan0", "peer0");
    let started = std::time::Instant::now();
    let temp = ns.add_temporary("wan0", "2001:db8:1::1/64");
    let took = started.elapsed();
    assert!(temp.has("temporary") && temp.has("dynamic"), "{temp:?}");
    assert!(!temp.has("tentative"), "{temp:?}");
    assert_ne!(temp.address.to_string(), "2001:db8:1::1");
    assert!(
        temp.address.to_string().starts_with("2001:db8:1:0:"),
        "{temp:?}"
    );
    assert_eq!(temp.prefix_len, 64);
    assert!(temp.valid_lft.is_some_and(|v| v > 604000), "{temp:?}");
    assert!(
        temp.preferred_lft.is_some_and(|p| p > 85000 && p <= 86400),
        "{temp:?}"
    );
    let base = ns.address("wan0", "2001:db8:1::1").unwrap();
    assert!(base.has("mngtmpaddr") && !base.has("temporary"), "{base:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    // Tentative and temporary helpers on one device do not undo each other.
    ns.add_tentative("wan0", "2001:db8:5::10/64");
    let temp2 = ns.add_temporary("wan0", "2001:db8:3::1/64");
    assert!(
        temp2.address.to_string().starts_with("2001:db8:3:0:"),
        "{temp2:?}"
    );
    assert!(ns
        .address("wan0", "2001:db8:5::10")
        .unwrap()
        .has("tentative"));
    assert!(!ns
        .address("wan0", &temp.address.to_string())
        .unwrap()
        .has("tentative"));
}

#[test]
fn netns_default_routes() {
    let Some(ns) = Netns::create() else { return };
    ns.veth("wan0", "peer0");
    ns.ip(&["addr", "add", "192.0.2.10/24", "dev", "wan0"]);
    // Finding (d): a v6 gateway in the prefix of a tentative address is accepted.
    ns.add_tentative("wan0", "2001:db8::10/64");
    ns.default_route4("wan0", Some("192.0.2.1"));
    ns.default_route6("wan0", Some("2001:db8::1"));
    let v4 = ns.ip(&["-4", "route", "show", "default"]);
    assert!(v4.contains("default via 192.0.2.1 dev wan0"), "{v4}");
    let v6 = ns.ip(&["-6", "route", "show", "default"]);
    assert!(v6.contains("default via 2001:db8::1 dev wan0"), "{v6}");
    assert!(ns.address("wan0", "2001:db8::10").unwrap().has("tentative"));

    // Without any address: device routes only.
    let Some(bare) = Netns::create() else { return };
    bare.veth("wan0", "peer0");
    assert!(!bare
        .try_ip(&["route", "add", "default", "via", "192.0.2.1", "dev", "wan0"])
        .status
        .success());
    bare.default_route4("wan0", None);
    bare.default_route6("wan0", None);
    assert!(bare
        .ip(&["-4", "route", "show", "default"])
        .contains("default dev wan0"));
    assert!(bare
        .ip(&["-6", "route", "show", "default"])
        .contains("default dev wan0"));
}

#[test]
fn run_in_runs_the_binary_inside_the_namespace_with_the_env_path() {
    let Some(ns) = Netns::create() else { return };
    ns.veth("wan0", "peer0");
    let env = TestEnv::new();
    let ubus = FakeUbus::new(&env).interface("wan", WAN_STATUS, 0);
    // Inside, /proc/net/dev lists wan0 (it shows the reader's namespace); `ubus` is the
    // stand-in, so the env's PATH survives `ip netns exec`.
    let probe = probe_script(
        &env,
        "netns",
        "grep -q '^ *wan0:' /proc/net/dev && ubus -S call network.interface.wan status >/dev/null",
        "192.0.2.10",
        "198.51.100.99",
    );
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server).set("script", &probe)]);
    let out = env.run_in(&ns, &config, &["check"]);
    assert!(out.mentions("192.0.2.10"), "{out}");
    assert_eq!(ubus.calls().len(), 1, "{out}");
    assert!(
        env.launch().wrapper.is_empty(),
        "run_in leaves the env's launch alone"
    );
    if !std::path::Path::new("/sys/class/net/wan0").exists() {
        let outside = env.run(&config, &["check"]);
        assert!(outside.mentions("198.51.100.99"), "{outside}");
    }
}

/// A server started in a namespace listens on that namespace's own loopback: a binary run there
/// reaches it at the usual `https://127.0.0.1:<port>`, the host's `127.0.0.1` does not have it.
/// It holds the namespace open, so it stops cleanly even when the namespace was deleted first.
#[test]
fn a_server_in_a_namespace_serves_that_namespace_only() {
    let Some(ns) = Netns::create() else { return };
    let server = MockServer::good_in(&ns);
    assert_eq!(server.url(), format!("https://127.0.0.1:{}", server.port()));

    // The host's loopback has nothing on that port, unless another test's host server drew
    // the same one (the two loopbacks pick ephemeral ports independently): then the connection
    // reached that server, not this one, as the connection count below shows.
    if let Err(e) = TcpStream::connect(server.addr()) {
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    }

    let env = TestEnv::new();
    let config = env.config(&[env.record("home", &server)]);
    let out = env.run_in(&ns, &config, &["update"]);
    out.assert_code(0);
    assert_eq!(server.request_count(), 1, "{out}\n{}", server.describe());
    assert_eq!(server.last_myip().as_deref(), Some(ADDR1));
    // The binary's connection, and no other.
    assert_eq!(server.connection_count(), 1, "{}", server.describe());

    let addr = server.addr();
    let handle = ns.open();
    let name = ns.name().to_string();
    drop(ns);
    assert!(!Netns::exists(&name), "{name} still listed");
    // Deleted, yet alive while open: the server still answers there.
    let reached = netns::in_namespace(&handle, || TcpStream::connect(addr).is_ok());
    assert!(reached.expect("enter the deleted namespace"), "not served");
    drop(server);
    // The wake-up connection came from inside: the accept loop ended and closed the listener.
    let refused = netns::in_namespace(&handle, || TcpStream::connect(addr).err().map(|e| e.kind()));
    assert_eq!(
        refused.expect("enter the deleted namespace"),
        Some(io::ErrorKind::ConnectionRefused)
    );
}
