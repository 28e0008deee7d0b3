//! Command line and configuration errors: exit code 2, one clear error line, nothing sent.

mod common;

use common::*;

#[test]
fn version_prints_the_cargo_version() {
    let env = TestEnv::new();
    for flag in ["--version", "-V"] {
        let out = env.run_args(&[flag]);
        out.assert_code(0);
        assert!(out.stdout.contains(VERSION), "{out}");
    }
}

#[test]
fn help_exits_zero_and_lists_the_commands() {
    let env = TestEnv::new();
    for flag in ["-h", "--help"] {
        let out = env.run_args(&[flag]);
        out.assert_code(0);
        for command in ["update", "status", "check"] {
            assert!(out.stdout.contains(command), "{command} not in help\n{out}");
        }
    }
}

/// Exit 2, exactly one non-empty stderr line, containing every keyword; no connection made.
#[track_caller]
fn assert_usage_error(out: &Outcome, server: &MockServer, keywords: &[&str]) {
    out.assert_code(2);
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "expected one error line\n{out}");
    for keyword in keywords {
        assert!(
            lines[0].contains(keyword),
            "error line should name {keyword:?}\n{out}"
        );
    }
    assert_eq!(
        server.connection_count(),
        0,
        "something was sent\n{}{out}",
        server.describe()
    );
}

#[test]
fn unknown_option_is_a_usage_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server)]);

    let out = env.run(&config, &["--no-such-option", "update"]);
    assert_usage_error(&out, &server, &["no-such-option"]);

    let out = env.run(&config, &["update", "--bogus"]);
    assert_usage_error(&out, &server, &["bogus"]);
}

#[test]
fn unknown_command_is_a_usage_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server)]);

    let out = env.run(&config, &["frobnicate"]);
    assert_usage_error(&out, &server, &["frobnicate"]);
}

#[test]
fn missing_config_file_is_a_config_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let missing = env.dir().join("no-such-dir").join("dynhost.conf");
    let out = env.run_args(&[
        "-c",
        &missing.to_string_lossy(),
        "-s",
        &env.state_dir.to_string_lossy(),
        "update",
    ]);
    assert_usage_error(&out, &server, &["no-such-dir"]);
}

#[test]
fn syntax_error_names_file_and_line() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let good = env.config(&[env.record("home", &server)]);
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(2, "\tfrobnicate 'x'");
    let config = lines.join("\n") + "\n";

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &["dynhost.conf:3"]);
}

#[test]
fn unterminated_quote_is_a_syntax_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server)]) + "\toption note 'unterminated\n";

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &["dynhost.conf"]);
}

#[test]
fn missing_hostname_is_a_config_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server).remove("hostname")]);

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &["home", "hostname"]);
}

#[test]
fn unknown_family_is_a_config_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server).set("family", "ipv5")]);

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &["home", "family"]);
}

#[test]
fn plain_http_server_is_refused() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let url = format!("http://127.0.0.1:{}", server.port());
    let config = env.config(&[env.record("home", &server).set("server", &url)]);

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &["server"]);
}

#[test]
fn unreadable_cacert_is_a_config_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let missing = "/nonexistent-dynhost-test/ca.pem";
    let config = render_config(&[
        env.global().set("cacert", missing),
        env.record("home", &server),
    ]);

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &[]);
    assert!(
        out.stderr.contains("cacert") || out.stderr.contains(missing),
        "the error should name the option or the file\n{out}"
    );
}

#[test]
fn unknown_boolean_is_a_config_error() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server).set("enabled", "maybe")]);

    let out = env.run(&config, &["update"]);
    assert_usage_error(&out, &server, &["home", "enabled"]);
}

#[test]
fn a_record_name_from_the_command_line_is_shown_escaped() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server)]);
    let out = env.run(&config, &["update", "-r", "of\nfice\x1b[31m"]);
    assert_usage_error(&out, &server, &["no record named 'of\\nfice\\u{1b}[31m'"]);
}

/// The binary run directly with `args`, a clean environment and `stdout`.
fn run_with_stdout(args: &[&str], stdout: impl Into<std::process::Stdio>) -> std::process::Output {
    let argv = bin_command();
    std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .args(args)
        .env_clear()
        .env("PATH", CLEAN_PATH)
        .stdout(stdout)
        .output()
        .expect("the binary runs")
}

/// A reader that stopped reading (`dynhost status | head`) ends the output quietly; it used to
/// end the process with an illegal instruction, logged by the kernel as a crash.
#[test]
fn output_nobody_reads_ends_quietly() {
    for args in [["--version"], ["--help"]] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = run_with_stdout(&args, writer);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {:?}", out.status);
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Output that cannot be written (a full disk behind a redirection) is one error line and
/// exit code 1.
#[test]
fn output_that_cannot_be_written_is_an_error() {
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = run_with_stdout(&["--version"], full);
    assert_eq!(out.status.code(), Some(1), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write the output"), "{stderr}");
}
