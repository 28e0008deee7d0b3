//! Config files and values that could hurt a router or steer a request: a file too large to
//! hold, and a `server` or `check_url` carrying more than it may, at start and on SIGHUP.

mod common;

use std::fs;

use common::*;

/// A valid config padded with a comment past 1 MiB: refused before it is read whole.
fn oversized(config: &str) -> String {
    format!("{config}#{}\n", "x".repeat(1024 * 1024))
}

#[test]
fn a_config_over_1_mib_is_refused_with_one_line_and_nothing_sent() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = oversized(&env.config(&[env.record("home", &server)]));
    for command in ["update", "status", "check", "run"] {
        let out = env.run(&config, &[command]);
        out.assert_code(2);
        let named = env.config_path.display().to_string();
        let lines = out.stderr_lines();
        assert_eq!(lines.len(), 1, "{out}");
        assert!(
            lines[0].contains(&named) && lines[0].contains("larger than 1048576 bytes"),
            "{out}"
        );
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn an_oversized_config_on_sighup_keeps_the_old_one_running() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let global = env.global().set("check_interval", "3600");
    let config = render_config(&[global, env.record("home", &server)]);
    let daemon = env.spawn(&config, &["run"]);
    assert!(server.wait_for_requests(1), "{}", server.describe());

    fs::write(&env.config_path, oversized(&config)).unwrap();
    daemon.signal("HUP");
    env.address().set(ADDR2);
    daemon.signal("USR1");
    assert!(server.wait_for_requests(2), "{}", server.describe());
    assert_eq!(server.last_myip().as_deref(), Some(ADDR2));
    daemon.signal("TERM");
    let out = daemon.wait();
    out.assert_code(0);
    assert!(out.mentions("config not reloaded"), "{out}");
    assert!(out.mentions("larger than 1048576 bytes"), "{out}");
}

#[test]
fn a_server_with_credentials_path_or_query_is_refused_and_never_shown() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let with_user = server.url().replace("https://", "https://admin:Leak3d-pw@");
    for (url, named) in [
        (with_user, "user part"),
        (format!("{}/?x=1", server.url()), "no path, query"),
        (format!("{}/base", server.url()), "no path, query"),
        (format!("{}#f", server.url()), "no path, query"),
    ] {
        let config = env.config(&[env.record("home", &server).set("server", &url)]);
        let out = env.run(&config, &["-v", "update"]);
        out.assert_code(2);
        assert!(out.mentions("option 'server'"), "{out}");
        assert!(out.mentions(named), "{out}");
        assert!(!out.output().contains("Leak3d-pw"), "{out}");
    }
    assert_eq!(server.request_count(), 0);
}
