//! The `web` source: the address comes from an echo service over the same TLS setup as the
//! update. Both the echo service and the DynHost server are stand-ins on loopback.

mod common;

use common::*;

/// An echo service answering every GET with `body`.
fn echo(body: &str) -> MockServer {
    MockServer::always(Reply::ok(body.to_string()))
}

fn web_record(env: &TestEnv, dynhost: &MockServer, check_url: &str) -> Section {
    env.record("home", dynhost)
        .remove("script")
        .set("source", "web")
        .set("check_url", check_url)
}

/// Runs `update` for one `family` record whose `check_url` is `service`'s root, and returns
/// the outcome and the DynHost stand-in it would update.
fn update_asking(service: &MockServer, family: &str) -> (Outcome, MockServer) {
    let env = TestEnv::new();
    let dynhost = MockServer::good();
    let record = web_record(&env, &dynhost, &service.url()).set("family", family);
    let out = env.run(&env.config(&[record]), &["update"]);
    (out, dynhost)
}

#[test]
fn the_echoed_address_is_published() {
    let env = TestEnv::new();
    let dynhost = MockServer::good();
    let service = echo(&format!("{ADDR2}\n"));
    let config = env.config(&[web_record(&env, &dynhost, &format!("{}/ip", service.url()))]);

    env.run(&config, &["update"]).assert_code(0);
    let asked = service.last_request().expect("the echo service was asked");
    assert_eq!(asked.path(), "/ip");
    assert_eq!(
        asked.header("authorization"),
        None,
        "credentials leaked to the echo service"
    );
    assert_eq!(dynhost.last_myip().as_deref(), Some(ADDR2));
}

#[test]
fn check_shows_the_echoed_address_as_the_only_candidate() {
    let env = TestEnv::new();
    let dynhost = MockServer::good();
    let service = echo(ADDR2);
    let url = format!("{}/ip", service.url());
    let config = env.config(&[web_record(&env, &dynhost, &url)]);

    let out = env.run(&config, &["check", "-j"]);
    out.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let record = &report["records"][0];
    assert_eq!(record["address"], ADDR2);
    assert_eq!(record["action"], "send");
    let candidates = record["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{report}");
    assert_eq!(candidates[0]["verdict"], "chosen");
    assert_eq!(candidates[0]["origin"], format!("reply of {url}"));
    assert_eq!(dynhost.request_count(), 0, "check sent an update");
}

#[test]
fn a_reply_that_is_not_an_address_sends_nothing() {
    let (out, dynhost) = update_asking(&echo("<html>\x1b[2J rate limited</html>"), "ipv4");
    out.assert_failed_without_sending(&dynhost, &["not an IP address"]);
    assert!(
        !out.stderr.contains('\x1b'),
        "control character logged: {out}"
    );
}

#[test]
fn an_error_status_sends_nothing() {
    let service = MockServer::always(Reply::new(503, ADDR2));
    let (out, dynhost) = update_asking(&service, "ipv4");
    out.assert_failed_without_sending(&dynhost, &["answered HTTP 503"]);
}

#[test]
fn a_private_address_from_the_service_is_not_published() {
    let (out, dynhost) = update_asking(&echo("192.168.1.20"), "ipv4");
    out.assert_failed_without_sending(&dynhost, &["private address"]);
    assert!(
        !out.mentions("source 'web'"),
        "advised web to a web record: {out}"
    );
}

#[test]
fn an_untrusted_echo_service_is_not_believed() {
    let service = MockServer::start(ServerCert::Untrusted, |_: &Request| Reply::ok(ADDR2));
    let (out, dynhost) = update_asking(&service, "ipv4");
    out.assert_failed_without_sending(&dynhost, &[&service.url()]);
    assert_eq!(service.request_count(), 0);
}

#[test]
fn an_oversized_reply_is_cut_off() {
    let service = echo(&format!("{ADDR2}\n{}", "x".repeat(1 << 20)));
    let (out, dynhost) = update_asking(&service, "ipv4");
    out.assert_failed_without_sending(&dynhost, &["larger than 4096 bytes"]);
}

#[test]
fn an_ipv6_record_never_asks_over_ipv4() {
    // The service listens on 127.0.0.1 only: it would answer with an IPv4 address.
    let service = echo(ADDR2);
    let (out, dynhost) = update_asking(&service, "ipv6");
    out.assert_failed_without_sending(&dynhost, &["over ipv6"]);
    assert_eq!(service.request_count(), 0, "asked over IPv4 for IPv6");
}

#[test]
fn an_ipv6_record_asks_over_ipv6() {
    let service = MockServer::start_ipv6(ServerCert::Trusted, |_: &Request| Reply::ok(ADDR6));
    let (out, dynhost) = update_asking(&service, "ipv6");
    out.assert_code(0);
    assert_eq!(service.request_count(), 1);
    assert_eq!(dynhost.last_myip().as_deref(), Some(ADDR6));
}
