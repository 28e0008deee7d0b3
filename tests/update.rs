//! `dynhost update` (and `status`, `check`) against the mock DynHost server over real TLS.
//!
//! Exit codes: 0 current, 1 transient failure, 2 usage/config error, 3 permanent refusal.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::*;

#[track_caller]
fn assert_last_myip(server: &MockServer, expected: &str) {
    let request = server.last_request().expect("a request was made");
    assert_eq!(
        request.query_value("myip").as_deref(),
        Some(expected),
        "{}",
        request.request_line
    );
}

#[track_caller]
fn assert_requests(server: &MockServer, expected: usize, outcome: &Outcome) {
    assert_eq!(
        server.request_count(),
        expected,
        "expected {expected} request(s) in total\n{}{outcome}",
        server.describe()
    );
}

fn home_config(env: &TestEnv, server: &MockServer) -> String {
    env.config(&[env.record("home", server)])
}

/// RFC 3986 query characters, without `+` (which some servers read as a space) and with every
/// `%` followed by two hex digits.
#[track_caller]
fn assert_properly_escaped(raw_query: &str) {
    let bytes = raw_query.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ok = b.is_ascii_alphanumeric() || b"-._~!$'()*,;=:@/?&%".contains(&b);
        assert!(ok, "character {:?} in query {raw_query:?}", b as char);
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).unwrap_or(b"");
            assert!(
                hex.len() == 2 && hex.iter().all(u8::is_ascii_hexdigit),
                "bad escape in query {raw_query:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The normal flow

#[test]
fn first_update_sends_one_well_formed_request() {
    let env = TestEnv::new();
    let server = MockServer::good();
    // Long enough that "user:pass" in base64 passes 76 characters, where wrapping encoders
    // insert a line break.
    let password = "S3cr3t-Pa55-with-a-rather-long-tail-0123456789-abcdefghij";
    let config = env.config(&[env.record("home", &server).set("password", password)]);

    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 1, &out);
    let request = server.last_request().unwrap();

    assert_eq!(request.method, "GET", "{}", request.request_line);
    assert_eq!(request.path(), "/nic/update", "{}", request.request_line);
    assert_properly_escaped(request.raw_query());
    let mut query = request.query();
    query.sort();
    assert_eq!(
        query,
        vec![
            ("hostname".to_string(), "home.example.com".to_string()),
            ("myip".to_string(), ADDR1.to_string()),
            ("system".to_string(), "dyndns".to_string()),
        ],
        "{}",
        request.request_line
    );

    let expected = basic_auth(USERNAME, password);
    assert!(
        expected.len() > 80,
        "the test password must make a long value"
    );
    let auth = request.headers_named("Authorization");
    assert_eq!(
        auth,
        vec![expected.as_str()],
        "one preemptive Basic header, unwrapped"
    );

    let agent = request.header("User-Agent").unwrap_or("");
    assert!(
        agent.starts_with(&format!("dynhost/{VERSION}")),
        "User-Agent {agent:?}"
    );
    assert!(request.header("Host").is_some(), "no Host header");
}

#[test]
fn ipv6_address_is_sent_escaped() {
    let env = TestEnv::new();
    let server = MockServer::good();
    env.set_address(ADDR6);
    let config = env.config(&[env.record("home", &server).set("family", "ipv6")]);

    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 1, &out);
    let request = server.last_request().unwrap();
    assert_properly_escaped(request.raw_query());
    assert_eq!(
        request.query_value("myip").as_deref(),
        Some(ADDR6),
        "{}",
        request.request_line
    );
    assert_eq!(
        request.query_value("system").as_deref(),
        Some("dyndns"),
        "{}",
        request.request_line
    );
}

#[test]
fn same_address_on_the_next_run_sends_nothing() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);

    let first = env.run(&config, &["update"]);
    first.assert_code(0);
    assert_requests(&server, 1, &first);

    let second = env.run(&config, &["update"]);
    second.assert_code(0);
    assert_requests(&server, 1, &second);
}

#[test]
fn changed_address_sends_again() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);

    env.run(&config, &["update"]).assert_code(0);
    env.set_address(ADDR2);
    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 2, &out);
    assert_last_myip(&server, ADDR2);
}

#[test]
fn force_sends_even_when_current() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);

    env.run(&config, &["update"]).assert_code(0);
    let out = env.run(&config, &["update", "-f"]);
    out.assert_code(0);
    assert_requests(&server, 2, &out);
    assert_last_myip(&server, ADDR1);
}

#[test]
fn nochg_is_success_and_is_not_repeated() {
    let env = TestEnv::new();
    let server = MockServer::always(Reply::ok(format!("nochg {ADDR1}\n")));
    let config = home_config(&env, &server);

    env.run(&config, &["update"]).assert_code(0);
    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 1, &out);
}

#[test]
fn chunked_good_reply_is_success() {
    let env = TestEnv::new();
    let server = MockServer::always(Reply::good(ADDR1).chunked());
    let config = home_config(&env, &server);

    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 1, &out);
    // Success was recorded: nothing is sent again.
    let again = env.run(&config, &["update"]);
    again.assert_code(0);
    assert_requests(&server, 1, &again);
}

// ---------------------------------------------------------------------------------------------
// Permanent refusals

/// The server refuses while the old password is used, and accepts any other.
fn refusal_stops_until_config_changes(status: u16, word: &str) {
    let env = TestEnv::new();
    let old_auth = basic_auth(USERNAME, PASSWORD);
    let refused = Reply::new(status, format!("{word}\n"));
    let server = MockServer::start(ServerCert::Trusted, move |request: &Request| {
        if request.header("Authorization") == Some(old_auth.as_str()) {
            refused.clone()
        } else {
            echo_good(request)
        }
    });
    let config = home_config(&env, &server);

    let first = env.run(&config, &["update"]);
    first.assert_code(3);
    assert_requests(&server, 1, &first);
    assert!(
        first.mentions(word),
        "the refusal '{word}' should be reported\n{first}"
    );

    let second = env.run(&config, &["update"]);
    second.assert_code(3);
    assert_requests(&server, 1, &second);

    // A new address does not lift a refusal either.
    env.set_address(ADDR2);
    let third = env.run(&config, &["update"]);
    third.assert_code(3);
    assert_requests(&server, 1, &third);

    // A changed record config does.
    let new_password = "N3w-Pa55w0rd";
    let config = env.config(&[env.record("home", &server).set("password", new_password)]);
    let fourth = env.run(&config, &["update"]);
    fourth.assert_code(0);
    assert_requests(&server, 2, &fourth);
    let request = server.last_request().unwrap();
    assert_eq!(
        request.header("Authorization"),
        Some(basic_auth(USERNAME, new_password).as_str())
    );
    assert_eq!(request.query_value("myip").as_deref(), Some(ADDR2));
}

#[test]
fn badauth_with_401_stops_until_config_changes() {
    refusal_stops_until_config_changes(401, "badauth");
}

#[test]
fn nohost_stops_until_config_changes() {
    refusal_stops_until_config_changes(200, "nohost");
}

#[test]
fn notfqdn_stops_until_config_changes() {
    refusal_stops_until_config_changes(200, "notfqdn");
}

#[test]
fn badsys_stops_until_config_changes() {
    refusal_stops_until_config_changes(200, "badsys");
}

#[test]
fn badagent_stops_until_config_changes() {
    refusal_stops_until_config_changes(200, "badagent");
}

/// `abuse` is a block on the record at OVHcloud: coming back sooner only prolongs it, so
/// neither a new address nor a config change sends for 24 h; only `-f` does.
#[test]
fn abuse_locks_the_record_even_across_config_changes() {
    let env = TestEnv::new();
    let server = MockServer::start(
        ServerCert::Trusted,
        first_then(1, Reply::ok("abuse\n"), echo_good),
    );
    let config = home_config(&env, &server);

    let first = env.run(&config, &["update"]);
    first.assert_code(3);
    assert!(first.mentions("abuse"), "{first}");
    assert!(first.mentions("24 hours"), "{first}");

    env.set_address(ADDR2);
    let config = env.config(&[env.record("home", &server).set("password", "N3w-Pa55w0rd")]);
    let second = env.run(&config, &["update"]);
    second.assert_code(3);
    assert_requests(&server, 1, &second);

    let forced = env.run(&config, &["update", "-f"]);
    forced.assert_code(0);
    assert_requests(&server, 2, &forced);
}

#[test]
fn force_sends_after_a_refusal() {
    let env = TestEnv::new();
    let server = MockServer::start(
        ServerCert::Trusted,
        first_then(1, Reply::new(401, "badauth\n"), echo_good),
    );
    let config = home_config(&env, &server);

    env.run(&config, &["update"]).assert_code(3);
    let out = env.run(&config, &["update", "-f"]);
    out.assert_code(0);
    assert_requests(&server, 2, &out);
}

// ---------------------------------------------------------------------------------------------
// Transient failures and backoff

/// The first request gets `failure`, later ones `good`.
fn transient_failure_backs_off(failure: Reply) {
    let env = TestEnv::new();
    let server = MockServer::start(ServerCert::Trusted, first_then(1, failure, echo_good));
    let config = home_config(&env, &server);

    let first = env.run(&config, &["update"]);
    first.assert_code(1);
    assert_requests(&server, 1, &first);

    // Inside the backoff window, same address: nothing sent, still a failure.
    let second = env.run(&config, &["update"]);
    second.assert_code(1);
    assert_requests(&server, 1, &second);

    // A new address is sent at once.
    env.set_address(ADDR2);
    let third = env.run(&config, &["update"]);
    third.assert_code(0);
    assert_requests(&server, 2, &third);
    assert_last_myip(&server, ADDR2);
}

#[test]
fn reply_911_is_transient_with_backoff() {
    transient_failure_backs_off(Reply::ok("911\n"));
}

#[test]
fn reply_dnserr_is_transient_with_backoff() {
    transient_failure_backs_off(Reply::ok("dnserr\n"));
}

#[test]
fn http_500_is_transient_with_backoff() {
    transient_failure_backs_off(Reply::new(500, "Internal Server Error\n"));
}

#[test]
fn connection_refused_is_transient_with_backoff() {
    let env = TestEnv::new();
    let port = unused_port();
    let url = format!("https://127.0.0.1:{port}");
    let config = env.config(&[env.record_for_url("home", &url)]);

    let first = env.run(&config, &["update"]);
    first.assert_code(1);

    // Now something listens there: inside the backoff window nothing is sent to it.
    let server = MockServer::start_on(port, ServerCert::Trusted, echo_good);
    let second = env.run(&config, &["update"]);
    second.assert_code(1);
    assert_requests(&server, 0, &second);

    env.set_address(ADDR2);
    let third = env.run(&config, &["update"]);
    third.assert_code(0);
    assert_requests(&server, 1, &third);
}

#[test]
fn good_with_http_500_is_not_success() {
    let env = TestEnv::new();
    let server = MockServer::always(Reply::new(500, format!("good {ADDR1}\n")));
    let config = home_config(&env, &server);

    let out = env.run(&config, &["update"]);
    out.assert_code(1);
    assert_requests(&server, 1, &out);
}

#[test]
fn no_usable_address_is_transient_and_sends_nothing() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);
    env.address().clear();

    let out = env.run(&config, &["update"]);
    out.assert_code(1);
    assert_requests(&server, 0, &out);

    env.set_address(ADDR1);
    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 1, &out);
}

// ---------------------------------------------------------------------------------------------
// Hostile or broken servers

#[test]
fn redirect_is_not_followed() {
    let env = TestEnv::new();
    let elsewhere = MockServer::good();
    let location = format!(
        "{}/nic/update?system=dyndns&hostname=home.example.com&myip={ADDR1}",
        elsewhere.url()
    );
    let server = MockServer::always(Reply::new(302, "").header("Location", &location));
    let config = home_config(&env, &server);

    let out = env.run(&config, &["update"]);
    out.assert_code(1);
    assert_requests(&server, 1, &out);
    assert_eq!(
        elsewhere.connection_count(),
        0,
        "the redirect target was contacted\n{}{out}",
        elsewhere.describe()
    );
    assert!(
        out.mentions("redirect") || out.mentions("302"),
        "the redirect should be reported\n{out}"
    );
}

fn oversized_reply_fails_with_a_bounded_message(reply: Reply) {
    let env = TestEnv::new();
    let server = MockServer::always(reply);
    let config = home_config(&env, &server);

    let out = env.run(&config, &["update"]);
    out.assert_code(1);
    assert_requests(&server, 1, &out);
    let filler = "x".repeat(200);
    assert!(!out.output().contains(&filler), "the body is echoed\n{out}");
    for line in out.output().lines() {
        assert!(line.len() <= 512, "unbounded line of {} bytes", line.len());
    }
    assert!(
        out.output().len() < 4096,
        "{} bytes of output",
        out.output().len()
    );
}

fn oversized_body() -> Vec<u8> {
    let mut body = format!("good {ADDR1}\n").into_bytes();
    body.resize(body.len() + 1024 * 1024, b'x');
    body
}

#[test]
fn oversized_reply_is_a_failure() {
    oversized_reply_fails_with_a_bounded_message(Reply::ok(oversized_body()));
}

#[test]
fn oversized_chunked_reply_is_a_failure() {
    oversized_reply_fails_with_a_bounded_message(Reply::ok(oversized_body()).chunked_by(16 * 1024));
}

#[test]
fn certificate_from_an_untrusted_ca_fails_closed() {
    let env = TestEnv::new();
    let server = MockServer::start(ServerCert::Untrusted, echo_good);
    let config = home_config(&env, &server);

    let out = env.run(&config, &["update"]);
    out.assert_code(1);
    assert!(
        server.wait_for_connections(1),
        "dynhost never connected, so the certificate was not what failed\n{out}"
    );
    assert!(
        server.wait_for_tls_errors(1),
        "no failed handshake seen\n{}{out}",
        server.describe()
    );
    assert_requests(&server, 0, &out);
}

// ---------------------------------------------------------------------------------------------
// State, locking, secrets

#[test]
fn concurrent_runs_send_one_request() {
    let env = TestEnv::new();
    let server = MockServer::start(ServerCert::Trusted, |request: &Request| {
        echo_good(request).delay(Duration::from_millis(500))
    });
    let config = home_config(&env, &server);

    let a = env.spawn(&config, &["update"]);
    let b = env.spawn(&config, &["update"]);
    let (a, b) = (a.wait(), b.wait());
    assert_eq!(server.request_count(), 1, "{}\n{a}\n{b}", server.describe());
    for out in [&a, &b] {
        assert!(
            out.code == 0 || out.code == 1,
            "unexpected exit code\n{out}"
        );
    }
    assert!(
        a.code == 0 || b.code == 0,
        "neither run succeeded\n{a}\n{b}"
    );
}

/// Hotplug starts `update -i wan` at every event while the daemon is stopped. With a server that
/// never answers, the first holds the lock for its whole timeout: one more may queue behind it
/// (it will see the newest address), every other one leaves at once instead of piling up.
#[test]
fn hotplug_one_shots_do_not_pile_up() {
    let env = TestEnv::new();
    let server = MockServer::start(ServerCert::Trusted, |request: &Request| {
        echo_good(request).delay(Duration::from_secs(3600))
    });
    // Longer than the test: the first one-shot holds the lock throughout.
    let global = env.global().set("timeout", "600");
    env.write_config(&render_config(&[global, env.record("home", &server)]));
    let args: Vec<String> = [
        "-c",
        &env.config_path.to_string_lossy(),
        "-s",
        &env.state_dir.to_string_lossy(),
        "update",
        "-i",
        "wan",
    ]
    .map(String::from)
    .to_vec();

    let mut alive: Vec<Running> = Vec::new();
    let mut left = Vec::new();
    for started in 1..=50 {
        alive.push(spawn_dynhost_with(&env.launch(), env.dir(), &args));
        // Counts, not timings: each new one-shot must find its way out while the first two
        // stay; a generous limit only keeps a failing run from hanging.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for mut run in std::mem::take(&mut alive) {
                if run.is_running() {
                    alive.push(run);
                } else {
                    left.push(run.wait());
                }
            }
            if alive.len() <= 2 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} one-shots alive after {started} were started",
                alive.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert_eq!(alive.len(), 2, "one runs and one waits");
    assert_eq!(left.len(), 48);
    for out in &left {
        out.assert_code(0);
        assert!(out.mentions("already waiting"), "{out}");
    }
    assert_requests(&server, 1, &left[0]);
}

#[test]
fn corrupt_state_file_warns_and_updates() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);

    env.run(&config, &["update"]).assert_code(0);
    let files = env.state_files();
    assert!(
        !files.is_empty(),
        "no *.json state file in {}",
        env.state_dir.display()
    );
    for file in &files {
        fs::write(file, b"\x00\xff{\"garbage\x8f not json ]]").unwrap();
    }

    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 2, &out);
    assert!(
        out.stderr.to_ascii_lowercase().contains("state"),
        "expected a warning about the state file\n{out}"
    );
    for file in env.state_files() {
        let text = fs::read_to_string(&file).unwrap_or_default();
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            "{} is not JSON after the update: {text:?}",
            file.display()
        );
    }
}

#[test]
fn password_appears_in_no_output_and_no_state_file() {
    let env = TestEnv::new();
    let password = "Zq8-Leak-Canary-PW-4417";
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server).set("password", password)]);
    let secrets = [
        password.to_string(),
        base64(format!("{USERNAME}:{password}").as_bytes()),
        base64(password.as_bytes()),
    ];

    let mut outcomes = Vec::new();
    for args in [
        &["-v", "update"][..],
        &["-v", "update"],
        &["-v", "update", "-f"],
        &["-v", "status"],
        &["-v", "status", "-j"],
        &["-v", "check"],
        &["-v", "check", "-j"],
    ] {
        outcomes.push(env.run(&config, args));
    }
    server.set_responder(|_: &Request| Reply::new(401, "badauth\n"));
    outcomes.push(env.run(&config, &["-v", "update", "-f"]));
    outcomes.push(env.run(&config, &["-v", "status"]));
    server.set_responder(|_: &Request| Reply::new(500, "oops\n"));
    outcomes.push(env.run(&config, &["-v", "update", "-f"]));

    assert_eq!(outcomes[0].code, 0, "{}", outcomes[0]);
    // The debug lines are there to be searched: `-v` shows them (log's own debug macro is
    // compiled out, src/logger.rs), a run without it does not.
    assert!(
        outcomes[2].output().contains(": GET https://"),
        "{}",
        outcomes[2]
    );
    let quiet = env.run(&config, &["update", "-f"]);
    assert!(!quiet.output().contains(": GET "), "{quiet}");
    assert!(server.request_count() >= 3, "{}", server.describe());
    for out in &outcomes {
        for secret in &secrets {
            assert!(
                !out.output().contains(secret.as_str()),
                "secret {secret:?} printed\n{out}"
            );
        }
    }
    let files = env.state_dir_contents();
    assert!(!files.is_empty(), "no state files to check");
    for (path, bytes) in &files {
        for secret in &secrets {
            assert!(
                !contains_bytes(bytes, secret.as_bytes()),
                "secret {secret:?} in {}",
                path.display()
            );
        }
    }
}

#[test]
fn the_config_fingerprint_is_keyed_with_a_secret_of_the_install() {
    let env = TestEnv::new();
    let key = env.state_dir.join("key");
    let server = MockServer::good();
    let config = home_config(&env, &server);
    env.run(&config, &["update"]).assert_code(0);
    let meta = fs::symlink_metadata(&key).expect("a key next to the state files");
    assert!(meta.is_file(), "{meta:?}");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);
    env.run(&config, &["update"]).assert_code(0);
    assert_eq!(server.request_count(), 1, "{}", server.describe());

    // Without the key, the stored fingerprint matches no config: a record is sent again as if
    // its config had changed, which is what a wrong guess of the password looks like too.
    fs::remove_file(&key).unwrap();
    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert!(out.mentions("config changed"), "{out}");
    assert_eq!(server.request_count(), 2, "{}", server.describe());
}

#[test]
fn two_records_to_one_server_share_a_connection() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server), env.record("office", &server)]);

    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_requests(&server, 2, &out);
    let requests = server.requests();
    let mut hosts: Vec<String> = requests
        .iter()
        .filter_map(|r| r.query_value("hostname"))
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["home.example.com", "office.example.com"]);
    assert_eq!(
        requests[0].connection,
        requests[1].connection,
        "two connections\n{}",
        server.describe()
    );
    assert_eq!(server.connection_count(), 1, "{}", server.describe());
}

// ---------------------------------------------------------------------------------------------
// status and check

#[test]
fn status_json_after_an_update_names_hostname_and_address() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);
    env.run(&config, &["update"]).assert_code(0);

    let out = env.run(&config, &["status", "-j"]);
    out.assert_code(0);
    let parsed: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"));
    let record = &parsed["records"][0];
    assert_eq!(record["name"], "home", "{out}");
    assert_eq!(record["hostname"], "home.example.com", "{out}");
    assert_eq!(record["family"], "ipv4", "{out}");
    assert_eq!(record["published"], ADDR1, "{out}");
    assert_eq!(record["last_result"], "good", "{out}");
    assert_eq!(record["failures"], 0, "{out}");
    assert!(record["last_success"].is_u64(), "{out}");
    // A digest of the password is of no use to a reader of the status.
    assert!(record.get("fingerprint").is_none(), "{out}");

    let plain = env.run(&config, &["status"]);
    plain.assert_code(0);
    assert!(plain.stdout.contains("home.example.com"), "{plain}");
    assert_requests(&server, 1, &plain);
}

#[test]
fn check_sends_nothing() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);

    let out = env.run(&config, &["check"]);
    out.assert_code(0);
    assert!(out.stdout.contains(ADDR1), "{out}");
    assert!(out.stdout.contains("home.example.com"), "{out}");

    let json = env.run(&config, &["check", "-j"]);
    json.assert_code(0);
    let parsed = serde_json::from_str::<serde_json::Value>(&json.stdout);
    assert!(parsed.is_ok(), "not JSON: {parsed:?}\n{json}");
    assert!(json.stdout.contains(ADDR1), "{json}");

    assert_requests(&server, 0, &json);
    assert_eq!(server.connection_count(), 0, "{}", server.describe());
}

// ---------------------------------------------------------------------------------------------
// Selecting records, and what is logged

/// `home` follows wan, `office` follows wan6 (both IPv4 here: only the binding matters).
fn two_interfaces_config(env: &TestEnv, server: &MockServer) -> String {
    env.config(&[
        env.record("home", server).set("interface", "wan"),
        env.record("office", server).set("interface", "wan6"),
    ])
}

fn hostnames_sent(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|request| request.query_value("hostname"))
        .collect()
}

#[test]
fn interface_option_updates_only_records_bound_to_it() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = two_interfaces_config(&env, &server);

    env.run(&config, &["update", "-i", "wan6"]).assert_code(0);
    assert_eq!(hostnames_sent(&server), ["office.example.com"]);

    env.run(&config, &["update", "--interface", "lan"])
        .assert_code(0);
    assert_eq!(server.request_count(), 1, "{}", server.describe());
}

#[test]
fn record_option_selects_by_section_or_host_name() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = two_interfaces_config(&env, &server);

    env.run(&config, &["update", "-r", "office"]).assert_code(0);
    env.run(&config, &["update", "--record", "home.example.com"])
        .assert_code(0);
    assert_eq!(
        hostnames_sent(&server),
        ["office.example.com", "home.example.com"]
    );
}

#[test]
fn naming_an_unknown_or_disabled_record_is_a_usage_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[
        env.record("home", &server),
        env.record("office", &server).set("enabled", "0"),
    ]);

    for name in ["nosuch", "office"] {
        let out = env.run(&config, &["update", "-r", name]);
        out.assert_code(2);
        assert!(out.mentions(name), "{out}");
    }
    assert_requests(&server, 0, &env.run(&config, &["status"]));
}

#[test]
fn quiet_logs_only_errors() {
    let env = TestEnv::new();
    let server = MockServer::queue(vec![Reply::good(ADDR1), Reply::ok("911\n")]);
    let config = home_config(&env, &server);

    let success = env.run(&config, &["-q", "update"]);
    success.assert_code(0);
    assert_eq!(success.stderr, "", "{success}");

    env.set_address(ADDR2);
    let failure = env.run(&config, &["-q", "update"]);
    failure.assert_code(1);
    assert_eq!(failure.stderr_lines().len(), 1, "{failure}");
    assert!(failure.mentions("911"), "{failure}");
}

#[test]
fn normal_verbosity_says_what_happened_in_one_line_per_record() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = home_config(&env, &server);

    let sent = env.run(&config, &["update"]);
    sent.assert_code(0);
    assert_eq!(sent.stderr_lines().len(), 1, "{sent}");
    assert!(sent.stderr.contains(ADDR1), "{sent}");

    let skipped = env.run(&config, &["update"]);
    skipped.assert_code(0);
    assert_eq!(skipped.stderr_lines().len(), 1, "{skipped}");
    assert!(skipped.mentions("nothing sent"), "{skipped}");
}

#[test]
fn a_reply_naming_another_address_is_a_failure_that_is_retried() {
    for word in ["good", "nochg"] {
        let env = TestEnv::new();
        let server = MockServer::always(Reply::ok(format!("{word} 198.51.100.99\n")));
        let config = home_config(&env, &server);

        let out = env.run(&config, &["update"]);
        out.assert_code(1);
        assert!(
            out.stderr.contains(&format!("'{word} 198.51.100.99'")),
            "{out}"
        );
        assert!(out.stderr.contains(ADDR1), "{out}");
        let status = env.run(&config, &["status", "-j"]);
        let record: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        let record = &record["records"][0];
        assert_eq!(record["published"], serde_json::Value::Null, "{status}");
        assert_eq!(record["last_result"], "failed", "{status}");
        assert_eq!(record["next_action"], "retry", "{status}");
    }
}
