//! `dynhost run`: the daemon driven by signals, against the DynHost stand-in on loopback.
//! The address comes from a script, so these need no namespace; address events are tested with
//! the netlink source in `tests/daemon_netns.rs`.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Long enough that no periodic check happens during a test.
const QUIET_INTERVAL: &str = "3600";

fn daemon_config(env: &TestEnv, server: &MockServer) -> String {
    let global = env.global().set("check_interval", QUIET_INTERVAL);
    render_config(&[global, env.record("home", server)])
}

#[track_caller]
fn wait_for_requests(server: &MockServer, n: usize, daemon: Running) -> Running {
    if !server.wait_for_requests(n) {
        daemon.signal("TERM");
        panic!(
            "expected {n} request(s)\n{}{}",
            server.describe(),
            daemon.wait()
        );
    }
    daemon
}

/// Stops the daemon and returns what it printed, asserting it exited 0.
#[track_caller]
fn stop(daemon: Running) -> Outcome {
    daemon.signal("TERM");
    let out = daemon.wait();
    out.assert_code(0);
    out
}

#[test]
fn the_daemon_updates_at_start_and_stops_cleanly_on_sigterm() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = daemon_config(&env, &server);
    let daemon = env.spawn(&config, &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);
    wait_for_result(&env, &config, "good");

    let out = stop(daemon);
    assert_eq!(server.last_myip().as_deref(), Some(ADDR1), "{out}");
    assert!(out.mentions("updated to 203.0.113.7"), "{out}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn sigint_stops_it_too() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let daemon = env.spawn(&daemon_config(&env, &server), &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);
    daemon.signal("INT");
    daemon.wait().assert_code(0);
}

#[test]
fn sigusr1_rechecks_after_settling() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let daemon = env.spawn(&daemon_config(&env, &server), &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);

    env.address().set(ADDR2);
    daemon.signal("USR1");
    let daemon = wait_for_requests(&server, 2, daemon);
    assert_eq!(server.last_myip().as_deref(), Some(ADDR2));

    // Nothing changed since: these re-checks send nothing; the next change is sent once.
    daemon.signal("USR1");
    daemon.signal("USR1");
    env.address().set(ADDR1);
    daemon.signal("USR1");
    let daemon = wait_for_requests(&server, 3, daemon);
    let out = stop(daemon);
    let sent: Vec<_> = server
        .requests()
        .iter()
        .map(|request| request.query_value("myip"))
        .collect();
    let expected = [ADDR1, ADDR2, ADDR1].map(|a| Some(a.to_string()));
    assert_eq!(sent, expected, "{out}");
}

/// The `n`th address of a flapping link.
fn flapping_address(n: usize) -> String {
    format!("198.51.100.{}", 1 + n % 200)
}

#[test]
fn a_storm_of_address_flips_and_signals_stays_within_the_send_limit_and_ends_right() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = daemon_config(&env, &server);
    let spawned = Instant::now();
    let daemon = env.spawn(&config, &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);

    // A link flapping every 300 ms for 20 s, the hotplug script's SIGUSR1 at each flip, and a
    // reload now and then (the send limit's figures: README, "The send limit").
    let flips = 66;
    for n in 0..flips {
        env.address().set(&flapping_address(n));
        daemon.signal("USR1");
        if n % 10 == 0 {
            daemon.signal("HUP");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let last = flapping_address(flips - 1);
    let deadline = Instant::now() + WAIT_TIMEOUT;
    while server.last_myip().as_deref() != Some(last.as_str()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = stop(daemon);
    assert_eq!(server.last_myip(), Some(last), "{out}");
    // Never two sends within 10 s (counted in whole seconds of the clock), and far from 10 in
    // 10 minutes.
    let bound = spawned.elapsed().as_secs().div_ceil(10) as usize + 1;
    assert!(
        server.request_count() <= bound,
        "{} requests, at most {bound} allowed\n{out}",
        server.request_count()
    );
}

#[test]
fn a_broken_config_on_sighup_keeps_the_old_one_running() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let daemon = env.spawn(&daemon_config(&env, &server), &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);

    env.write_config("config record 'home'\n\toption hostname 'not a host name'\n");
    daemon.signal("HUP");
    env.address().set(ADDR2);
    daemon.signal("USR1");
    let daemon = wait_for_requests(&server, 2, daemon);
    assert_eq!(server.last_myip().as_deref(), Some(ADDR2));
    let out = stop(daemon);
    assert!(out.mentions("config not reloaded"), "{out}");
    assert!(
        out.mentions("hostname"),
        "the broken option is not named: {out}"
    );
}

#[test]
fn a_refusal_waits_for_a_fixed_config_then_sends_again() {
    let env = TestEnv::new();
    let server = MockServer::always(Reply::ok("badauth"));
    let wrong = render_config(&[
        env.global().set("check_interval", QUIET_INTERVAL),
        env.record("home", &server).set("password", "wrong"),
    ]);
    let daemon = env.spawn(&wrong, &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);

    let record = wait_for_result(&env, &wrong, "badauth");
    assert_eq!(record["next_action"], "blocked", "{record:#}");
    // Re-checks do not repeat a refused update.
    daemon.signal("USR1");
    daemon.signal("USR1");
    server.set_responder(echo_good);
    env.write_config(&daemon_config(&env, &server));
    daemon.signal("HUP");
    let daemon = wait_for_requests(&server, 2, daemon);
    let out = stop(daemon);
    assert_eq!(server.request_count(), 2, "{out}");
    assert_eq!(
        server.last_request().unwrap().header("authorization"),
        Some(basic_auth(USERNAME, PASSWORD).as_str())
    );
}

#[test]
fn sigterm_during_a_stalled_exchange_exits_at_once_and_the_next_pass_sends_again() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let first = render_config(&[env.global(), env.record("home", &server)]);
    env.run(&first, &["update"]).assert_code(0);
    // The server applies ADDR2 but its answer never comes back in time.
    server.set_responder(|_: &Request| Reply::good(ADDR2).delay(Duration::from_secs(120)));
    env.address().set(ADDR2);
    let config = render_config(&[
        env.global()
            .set("check_interval", QUIET_INTERVAL)
            .set("timeout", "120"),
        env.record("home", &server),
    ]);

    let daemon = env.spawn(&config, &["run"]);
    let daemon = wait_for_requests(&server, 2, daemon);
    let asked = Instant::now();
    stop(daemon);
    // The exchange would have lasted 120 s: the daemon did not wait for it.
    assert!(
        asked.elapsed() < Duration::from_secs(60),
        "SIGTERM waited for the exchange"
    );
    let record = status(&env, &config);
    assert_eq!(record["published"], ADDR1, "{record:#}");
    assert_eq!(record["attempted"], ADDR2, "{record:#}");
    assert_eq!(record["next_action"], "send", "{record:#}");

    // A failback to the old address: the record may hold ADDR2, so ADDR1 is sent.
    server.set_responder(echo_good);
    env.address().set(ADDR1);
    let out = env.run(&config, &["update"]);
    out.assert_code(0);
    assert_eq!(server.request_count(), 3, "{out}");
    assert_eq!(server.last_myip().as_deref(), Some(ADDR1), "{out}");
}

#[test]
fn an_update_started_during_the_daemons_exchange_sends_nothing_more() {
    let env = TestEnv::new();
    let server = MockServer::good();
    server.set_responder(|request: &Request| echo_good(request).delay(Duration::from_secs(2)));
    let config = daemon_config(&env, &server);
    let daemon = env.spawn(&config, &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);

    // What the hotplug script does while the daemon's request is in flight.
    let out = env.run(&config, &["update", "-i", "wan"]);
    out.assert_code(0);
    let daemon_out = stop(daemon);
    assert_eq!(server.request_count(), 1, "{out}\n{daemon_out}");
}

// ---------------------------------------------------------------------------------------------
// Server faults: the daemon backs off, sends nothing while it waits, and recovers.

/// Everything that can go wrong on the server's side of one exchange.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Nothing listens: connection refused.
    Down,
    /// Accepts, never answers: the exchange times out.
    Stall,
    CloseMidReply,
    Garbage,
    Huge,
    Code911,
    Http500,
}

impl Fault {
    fn reply(self) -> Reply {
        match self {
            Fault::Down => unreachable!("nothing answers"),
            Fault::Stall => Reply::good(ADDR1).delay(Duration::from_secs(60)),
            Fault::CloseMidReply => {
                Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\ngood 203".as_bytes())
                    .close()
            }
            Fault::Garbage => Reply::ok("<html>an error page</html>"),
            Fault::Huge => Reply::ok(vec![b'g'; 1 << 20]),
            Fault::Code911 => Reply::ok("911"),
            Fault::Http500 => Reply::new(500, "good 203.0.113.7"),
        }
    }
}

/// The record's state as `status -j` shows it.
fn status(env: &TestEnv, config: &str) -> serde_json::Value {
    let out = env.run(config, &["status", "-j"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("status -j printed no JSON ({e}):\n{out}"));
    report["records"][0].clone()
}

/// Makes the record's retry due now, as if its backoff had passed: the daemon reads the state
/// file before each decision, so this stands in for minutes of waiting.
fn end_backoff(env: &TestEnv) {
    edit_state(env, |state| state["next_attempt"] = serde_json::json!(1));
}

/// The state file of the record `home`.
fn state_file_of(env: &TestEnv) -> std::path::PathBuf {
    env.state_dir.join("home.example.com.ipv4.json")
}

/// Rewrites the record's state file with `edit`, then (the minutes the test stands for)
/// forgets its recent sends, as the send limit's window would.
fn edit_state(env: &TestEnv, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = state_file_of(env);
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut state);
    state["recent_sends"] = serde_json::json!([]);
    // Replaced whole, as the daemon does, since it may be reading the file right now.
    let temp = path.with_extension("edited");
    write_file(&temp, state.to_string().as_bytes(), 0o600);
    std::fs::rename(&temp, &path).unwrap();
}

/// Waits until the record's `status -j` field `field` is `expected`, and returns the record.
#[track_caller]
fn wait_for_status(
    env: &TestEnv,
    config: &str,
    field: &str,
    expected: serde_json::Value,
) -> serde_json::Value {
    let deadline = Instant::now() + WAIT_TIMEOUT;
    loop {
        let record = status(env, config);
        if record[field] == expected || Instant::now() > deadline {
            assert_eq!(record[field], expected, "{record:#}");
            return record;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `status -j` says the record failed `failures` times in a row.
#[track_caller]
fn wait_for_failures(env: &TestEnv, config: &str, failures: u64) -> serde_json::Value {
    wait_for_status(env, config, "failures", failures.into())
}

#[track_caller]
fn wait_for_result(env: &TestEnv, config: &str, result: &str) -> serde_json::Value {
    wait_for_status(env, config, "last_result", result.into())
}

fn backoff_of(record: &serde_json::Value) -> u64 {
    record["next_attempt"].as_u64().unwrap() - record["last_attempt"].as_u64().unwrap()
}

fn backs_off_and_recovers(fault: Fault) {
    let env = TestEnv::new();
    let port = unused_port();
    let url = format!("https://127.0.0.1:{port}");
    let server = match fault {
        Fault::Down => None,
        _ => Some(MockServer::start_on(
            port,
            ServerCert::Trusted,
            move |_: &Request| fault.reply(),
        )),
    };
    let config = render_config(&[
        env.global()
            .set("check_interval", QUIET_INTERVAL)
            .set("timeout", "2"),
        env.record_for_url("home", &url),
    ]);
    let requests = || server.as_ref().map_or(0, MockServer::request_count);
    let daemon = env.spawn(&config, &["run"]);

    let first = wait_for_failures(&env, &config, 1);
    assert_eq!(first["next_action"], "retry", "{first:#}");
    assert_eq!(backoff_of(&first), 60, "{first:#}");
    // Re-checks while the backoff runs send nothing.
    for _ in 0..5 {
        daemon.signal("USR1");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        requests() <= 1,
        "{fault:?}: a request storm: {}",
        requests()
    );

    end_backoff(&env);
    daemon.signal("USR1");
    let second = wait_for_failures(&env, &config, 2);
    assert_eq!(
        backoff_of(&second),
        120,
        "{fault:?}: the backoff did not grow"
    );

    // The server is back, or answers properly again.
    let server = match server {
        Some(server) => {
            server.set_responder(echo_good);
            server
        }
        None => MockServer::start_on(port, ServerCert::Trusted, echo_good),
    };
    end_backoff(&env);
    daemon.signal("USR1");
    let recovered = wait_for_failures(&env, &config, 0);
    let out = stop(daemon);
    assert_eq!(recovered["last_result"], "good", "{recovered:#}\n{out}");
    assert_eq!(recovered["next_action"], "watch", "{recovered:#}");
    assert_eq!(server.last_myip().as_deref(), Some(ADDR1), "{out}");
}

#[test]
fn server_down_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::Down);
}

#[test]
fn server_that_never_answers_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::Stall);
}

#[test]
fn server_closing_mid_reply_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::CloseMidReply);
}

#[test]
fn garbage_reply_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::Garbage);
}

#[test]
fn one_mebibyte_reply_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::Huge);
}

#[test]
fn reply_911_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::Code911);
}

#[test]
fn http_500_backs_off_and_recovers() {
    backs_off_and_recovers(Fault::Http500);
}

#[test]
fn untrusted_expired_or_misnamed_certificates_get_nothing() {
    for cert in [
        ServerCert::Untrusted,
        ServerCert::Expired,
        ServerCert::WrongName,
    ] {
        let env = TestEnv::new();
        let server = MockServer::start(cert, echo_good);
        let config = daemon_config(&env, &server);
        let daemon = env.spawn(&config, &["run"]);

        let record = wait_for_failures(&env, &config, 1);
        let out = stop(daemon);
        assert_eq!(
            server.request_count(),
            0,
            "{cert:?}: a request got through\n{out}"
        );
        assert!(
            server.wait_for_tls_errors(1),
            "{cert:?}: no handshake was refused"
        );
        assert_eq!(record["next_action"], "retry", "{record:#}");
    }
}

#[test]
fn kill_9_at_any_moment_leaves_the_old_or_the_new_state_whole() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = daemon_config(&env, &server);
    let state_file = state_file_of(&env);
    // A fixed pseudo-random sequence (an LCG): the moments vary, the test repeats.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut previous: Option<Vec<u8>> = None;
    for cycle in 0..50 {
        let address = if cycle % 2 == 0 { ADDR2 } else { ADDR1 };
        env.address().set(address);
        let daemon = env.spawn(&config, &["run"]);
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_micros((seed >> 33) % 60_000));
        daemon.signal("KILL");
        daemon.wait();

        let Ok(bytes) = std::fs::read(&state_file) else {
            assert!(previous.is_none(), "cycle {cycle}: the state file vanished");
            continue;
        };
        let state: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("cycle {cycle}: a torn state file ({e}): {bytes:?}"));
        let old = previous.as_deref() == Some(bytes.as_slice());
        let new = state["published"] == address && state["last_result"] == "good";
        // Saved before the request goes: the old state plus an attempt without an answer.
        let attempt = match previous.as_deref() {
            Some(previous) => {
                let mut expected: serde_json::Value = serde_json::from_slice(previous).unwrap();
                expected["attempted"] = address.into();
                expected["last_attempt"] = state["last_attempt"].clone();
                expected["recent_sends"] = serde_json::json!([state["last_attempt"]]);
                expected == state
            }
            None => {
                state["attempted"] == address
                    && state["published"].is_null()
                    && state["last_result"].is_null()
            }
        };
        assert!(
            old || new || attempt,
            "cycle {cycle}: neither old, new nor an attempt: {state:#}"
        );
        // Each cycle stands for a moment after the send limit's window: it may send at once.
        edit_state(&env, |_| {});
        previous = Some(std::fs::read(&state_file).unwrap());
    }
}

#[test]
fn the_web_source_is_asked_again_at_each_periodic_check() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let replies = vec![Reply::ok(ADDR1), Reply::ok(ADDR2)];
    let echo = MockServer::queue(replies);
    let record = env
        .record("home", &server)
        .remove("script")
        .set("source", "web")
        .set("check_url", &echo.url());
    // The shortest interval allowed; address events never ask the web source.
    let config = render_config(&[env.global().set("check_interval", "30"), record]);
    let daemon = env.spawn(&config, &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);
    assert_eq!(echo.request_count(), 1);

    let deadline = Instant::now() + Duration::from_secs(45);
    while server.request_count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = stop(daemon);
    assert_eq!(echo.request_count(), 2, "{out}");
    assert_eq!(server.last_myip().as_deref(), Some(ADDR2), "{out}");
}

#[test]
fn a_state_that_cannot_be_saved_is_kept_in_memory_and_written_when_it_can() {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let env = TestEnv::new();
    // A directory where the state file goes.
    let state_file = state_file_of(&env);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&state_file)
        .unwrap();
    let server = MockServer::good();
    let config = daemon_config(&env, &server);
    let daemon = env.spawn(&config, &["run"]);
    let daemon = wait_for_requests(&server, 1, daemon);
    // Looks that find the address the daemon sent do not send it again.
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(1500));
        daemon.signal("USR1");
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.request_count(), 1, "{}", server.describe());

    // The way is clear again: the next look writes what was kept.
    std::fs::remove_dir(&state_file).unwrap();
    daemon.signal("USR1");
    let record = wait_for_result(&env, &config, "good");
    assert_eq!(record["published"], ADDR1, "{record:#}");
    assert_eq!(server.request_count(), 1, "{}", server.describe());

    // The whole dir removed under the daemon: the next pass makes it again, private.
    std::fs::remove_dir_all(&env.state_dir).unwrap();
    daemon.signal("USR1");
    wait_for_result(&env, &config, "good");
    let out = stop(daemon);
    let mode = std::fs::metadata(&env.state_dir)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "{out}");
    assert!(!out.mentions("No such file"), "{out}");
}
