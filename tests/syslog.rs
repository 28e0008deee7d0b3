//! `--syslog`: the real binary logs to the system log socket, each line at the priority it
//! deserves (procd would log all of stderr as `daemon.err`), and nothing of it on stderr.
//!
//! The binary runs in a mount namespace of its own whose `/dev/log` is this test's socket, so
//! the test needs root (`unshare`); without it, it says `skipped: <reason>`, and fails instead
//! when `DYNHOST_REQUIRE_NETNS` is set, as the namespace tests do.

mod common;

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::*;

const DOWN: &str = include_str!("fixtures/ubus/wan-down-ifdown.json");
const AUTH_FAILED: &str = include_str!("fixtures/ubus/wan-pppoe-auth-failed.json");

/// Mounts the test's socket on `/dev/log` (over a private `/dev` holding only what dynhost
/// opens), then runs the rest of the words.
const PRIVATE_DEV_LOG: &str = r#"set -e
mount --make-rprivate /
mkdir -p "$DYNHOST_OLD_DEV"
mount --rbind /dev "$DYNHOST_OLD_DEV"
mount -t tmpfs tmpfs /dev
for node in null zero random urandom; do
    touch "/dev/$node"
    mount --bind "$DYNHOST_OLD_DEV/$node" "/dev/$node"
done
touch /dev/log
mount --bind "$DYNHOST_SOCKET" /dev/log
exec "$@""#;

struct Syslog {
    socket: UnixDatagram,
    env: TestEnv,
}

impl Syslog {
    fn new() -> Option<Syslog> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            let reason = "not root (a private /dev/log needs a mount namespace)";
            assert!(
                std::env::var_os("DYNHOST_REQUIRE_NETNS").is_none(),
                "{reason} (and DYNHOST_REQUIRE_NETNS is set)"
            );
            let _ = writeln!(std::io::stderr(), "skipped: {reason}");
            return None;
        }
        let env = TestEnv::new();
        let socket_path = env.dir().join("log.sock");
        let socket = UnixDatagram::bind(&socket_path).expect("bind the test's syslog socket");
        socket.set_nonblocking(true).unwrap();
        let old_dev = env.dir().join("old-dev");
        let script = format!(
            "DYNHOST_SOCKET='{}' DYNHOST_OLD_DEV='{}'; {PRIVATE_DEV_LOG}",
            socket_path.display(),
            old_dev.display()
        );
        env.set_wrapper(&["unshare", "--mount", "sh", "-c", &script, "sh"]);
        Some(Syslog { socket, env })
    }

    /// Every datagram received so far, waiting briefly for stragglers.
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut buffer = [0u8; 2048];
        let quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_millis(200) {
            match self.socket.recv(&mut buffer) {
                Ok(size) => lines.push(String::from_utf8_lossy(&buffer[..size]).into_owned()),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        lines
    }
}

/// The priority of a datagram `<PRI>dynhost[PID]: message`, and its message.
fn parse(line: &str) -> (u32, &str) {
    let (priority, rest) = line
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .unwrap_or_else(|| panic!("no priority in {line:?}"));
    let (tag, message) = rest.split_once(": ").expect("a tag");
    assert!(
        tag.starts_with("dynhost[") && tag.ends_with(']'),
        "tag {tag:?} in {line:?}"
    );
    (priority.parse().expect("a number"), message)
}

const DAEMON_ERR: u32 = 3 * 8 + 3;
const DAEMON_WARNING: u32 = 3 * 8 + 4;
const DAEMON_INFO: u32 = 3 * 8 + 6;
const DAEMON_DEBUG: u32 = 3 * 8 + 7;

#[test]
fn an_update_is_info_and_a_refusal_is_err_and_stderr_stays_empty() {
    let Some(syslog) = Syslog::new() else { return };
    let env = &syslog.env;
    env.set_address(ADDR1);
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server)]);

    let out = env.run(&config, &["--syslog", "update"]);
    out.assert_code(0);
    assert_eq!(
        out.stderr, "",
        "with --syslog nothing goes to stderr\n{out}"
    );
    let lines = syslog.lines();
    let parsed: Vec<(u32, &str)> = lines.iter().map(|line| parse(line)).collect();
    assert_eq!(parsed.len(), 1, "{lines:?}");
    assert_eq!(parsed[0].0, DAEMON_INFO, "{lines:?}");
    assert!(
        parsed[0]
            .1
            .starts_with(&format!("home (home.example.com ipv4): updated to {ADDR1}")),
        "{lines:?}"
    );

    server.set_responder(|_: &Request| Reply::new(401, "badauth\n"));
    env.set_address(ADDR2);
    let out = env.run(&config, &["--syslog", "update"]);
    out.assert_code(3);
    assert_eq!(out.stderr, "", "{out}");
    let lines = syslog.lines();
    let parsed: Vec<(u32, &str)> = lines.iter().map(|line| parse(line)).collect();
    assert_eq!(parsed.len(), 1, "{lines:?}");
    assert_eq!(parsed[0].0, DAEMON_ERR, "{lines:?}");
    assert!(parsed[0].1.contains("badauth"), "{lines:?}");
    assert!(
        lines.iter().all(|line| !line.contains(PASSWORD)),
        "{lines:?}"
    );
}

#[test]
fn a_down_interface_is_routine_info_and_a_refused_pppoe_login_a_warning() {
    let Some(syslog) = Syslog::new() else { return };
    let env = &syslog.env;
    let server = MockServer::good();
    let ubus = FakeUbus::new(env).interface("wan", DOWN, 0);
    let record = env
        .record("home", &server)
        .remove("script")
        .set("source", "ubus")
        .set("interface", "wan");
    let config = env.config(&[record]);
    for (reply, priority, words) in [
        (DOWN, DAEMON_INFO, "interface 'wan' is down"),
        (AUTH_FAILED, DAEMON_WARNING, "AUTH_FAILED"),
    ] {
        ubus.set_interface("wan", reply, 0);
        let out = env.run(&config, &["--syslog", "update"]);
        out.assert_code(1);
        let lines = syslog.lines();
        let parsed: Vec<(u32, &str)> = lines.iter().map(|line| parse(line)).collect();
        assert_eq!(parsed.len(), 1, "{lines:?}");
        assert_eq!(parsed[0].0, priority, "{lines:?}");
        assert!(parsed[0].1.contains(words), "{lines:?}");
    }
    assert_eq!(server.request_count(), 0, "{}", server.describe());
}

#[test]
fn without_a_syslog_socket_lines_go_to_stderr() {
    let env = TestEnv::new();
    // No namespace: whether the machine has /dev/log or not, a config error must be told
    // somewhere, and without --syslog that is stderr.
    let out = env.run_args(&["-c", "/nonexistent/dynhost", "status"]);
    out.assert_code(2);
    assert_eq!(
        out.stderr_lines(),
        ["dynhost: error: /nonexistent/dynhost: No such file or directory (os error 2)"],
        "{out}"
    );
}

#[test]
fn the_daemon_says_a_refusal_or_a_backoff_once_not_at_every_look() {
    let Some(syslog) = Syslog::new() else { return };
    let env = &syslog.env;
    env.set_address(ADDR1);
    // `home` is refused for good, `office` meets server trouble and backs off.
    let server = MockServer::start(ServerCert::Trusted, |request: &Request| {
        match request.query_value("hostname").as_deref() {
            Some("home.example.com") => Reply::ok("badauth\n"),
            _ => Reply::ok("911\n"),
        }
    });
    // The shortest interval allowed: a periodic check at 30 s, before office's retry at 60 s.
    let config = render_config(&[
        env.global().set("check_interval", "30"),
        env.record("home", &server),
        env.record("office", &server),
    ]);
    // Verbose: the looks that say nothing new are at debug level, which shows they happened.
    let daemon = env.spawn(&config, &["--syslog", "-v", "run"]);
    assert!(server.wait_for_requests(2), "{}", server.describe());
    std::thread::sleep(Duration::from_secs(45));
    daemon.signal("TERM");
    let out = daemon.wait();
    out.assert_code(0);
    assert_eq!(server.request_count(), 2, "{}", server.describe());

    let lines = syslog.lines();
    let about = |record: &str| -> Vec<(u32, &str)> {
        lines
            .iter()
            .map(|line| parse(line))
            .filter(|(_, message)| message.starts_with(record))
            .collect()
    };
    let (home, home_debug): (Vec<_>, Vec<_>) = about("home (home.example.com ipv4): ")
        .into_iter()
        .partition(|(priority, _)| *priority != DAEMON_DEBUG);
    assert!(
        home_debug
            .iter()
            .any(|(_, message)| message.contains("badauth")),
        "no periodic look: {lines:#?}"
    );
    assert_eq!(home.len(), 1, "{lines:#?}");
    assert_eq!(home[0].0, DAEMON_ERR, "{lines:#?}");
    assert!(home[0].1.contains("badauth"), "{lines:#?}");
    let office: Vec<_> = about("office (office.example.com ipv4): ")
        .into_iter()
        .filter(|(priority, _)| *priority != DAEMON_DEBUG)
        .collect();
    assert_eq!(office.len(), 1, "{lines:#?}");
    assert!(office[0].1.contains("'911'"), "{lines:#?}");
    assert!(office[0].1.contains("next attempt in 60 s"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .all(|line| !line.contains("nothing sent") || parse(line).0 == DAEMON_DEBUG),
        "{lines:#?}"
    );
}

#[test]
fn a_recheck_someone_asks_for_says_every_state_again() {
    let Some(syslog) = Syslog::new() else { return };
    let env = &syslog.env;
    env.set_address(ADDR1);
    let server = MockServer::always(Reply::ok("badauth\n"));
    let config = render_config(&[
        env.global().set("check_interval", "3600"),
        env.record("home", &server),
    ]);
    let daemon = env.spawn(&config, &["--syslog", "run"]);
    assert!(server.wait_for_requests(1), "{}", server.describe());
    // What `service dynhost update` and the hotplug script send; it settles first.
    std::thread::sleep(Duration::from_millis(500));
    daemon.signal("USR1");
    std::thread::sleep(Duration::from_millis(2500));
    daemon.signal("TERM");
    daemon.wait().assert_code(0);
    assert_eq!(server.request_count(), 1, "{}", server.describe());
    let lines = syslog.lines();
    let refused: Vec<(u32, &str)> = lines
        .iter()
        .map(|line| parse(line))
        .filter(|(_, message)| message.contains("badauth"))
        .collect();
    assert_eq!(refused.len(), 2, "{lines:#?}");
    assert!(refused.iter().all(|(priority, _)| *priority == DAEMON_ERR));
}
