//! The OpenWrt package (`openwrt/`): the procd init script, the hotplug script, the default
//! config, the feed Makefile and its `test.sh`.
//!
//! The shell tests in `tests/shell/` run the init and hotplug scripts under `busybox sh` (the
//! router's shell) with stand-ins for rc.common, procd.sh, functions.sh, validate_data, ubus,
//! jsonfilter, logger and dynhost that record what they were given; each prints `ok - ...` or
//! `not ok - ...` per check and fails when one failed. This file runs them, runs `shellcheck -s
//! sh` on the shipped shell files, checks that the real binary reads the default config, and
//! runs the feed Makefile's install recipe against a stand-in SDK (`tests/shell/sdk/`).
//!
//! It also runs the LuCI page's tests (`tests/luci/`) under Node, and those of `tests/luci/real/`:
//! the page in real upstream LuCI under chromium, and its ACL in the real rpcd.
//!
//! busybox, shellcheck, make and node come from Debian (`apt-get install busybox shellcheck make
//! nodejs`). Debian's busybox-static will not do (its ash runs its own applets, not the
//! stand-ins): then the box's busybox is used when built (scripts/openwrt-box build), or the tests
//! say why they skip.
//! Without one of them a test prints `skipped: <reason>` and passes, unless
//! `DYNHOST_REQUIRE_TOOLS` is set (CI sets it): then it fails.

mod common;

use common::TempDir;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// When set (to anything), a missing tool fails the test instead of skipping it.
const REQUIRE_ENV: &str = "DYNHOST_REQUIRE_TOOLS";
/// The PATH the tools get, and where they are looked for.
const CLEAN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Guard against a hung script: far beyond what any of them takes (the hotplug test, the
/// longest, waits about 10 s for its sleeping stand-ins).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

const BIN: &str = env!("CARGO_BIN_EXE_dynhost");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The shell files installed on the router, checked with shellcheck.
const SHELL_FILES: [&str; 3] = [
    "openwrt/files/dynhost.init",
    "openwrt/files/dynhost.hotplug",
    "openwrt/test.sh",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The program `name` on [`CLEAN_PATH`]; `None` after printing `skipped: ...` when it is
/// missing (a panic instead when [`REQUIRE_ENV`] is set).
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = CLEAN_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
    if found.is_none() {
        let test = thread::current().name().unwrap_or("?").to_string();
        let reason = format!("`{name}` not found in {CLEAN_PATH} (apt-get install {package})");
        if std::env::var_os(REQUIRE_ENV).is_some() {
            panic!("{test}: {reason} (and {REQUIRE_ENV} is set)");
        }
        // Straight to the process's stderr, past the test harness's capture: a skip must show
        // in a plain `cargo test`.
        let _ = writeln!(std::io::stderr(), "skipped: {reason} ({test})");
    }
    found
}

/// Runs `command` with only `PATH` (= `path`) and `TMPDIR` in its environment, stdin closed,
/// killing it after [`RUN_TIMEOUT`].
fn run(command: Command, path: &str) -> Output {
    run_with(command, path, &[])
}

/// [`run`] with `more` variables in the environment.
fn run_with(mut command: Command, path: &str, more: &[(&str, &str)]) -> Output {
    command
        .env_clear()
        .env("PATH", path)
        .env("TMPDIR", std::env::temp_dir())
        .envs(more.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let description = format!("{command:?}");
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
    // Read both pipes on threads, so that a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stdout.read_to_end(&mut buffer);
        buffer
    });
    let err = thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stderr.read_to_end(&mut buffer);
        buffer
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{description} still running after {RUN_TIMEOUT:?}: killed");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The busybox whose `sh` runs the shell tests: `DYNHOST_BUSYBOX` when set, else the one on
/// [`CLEAN_PATH`]. Its ash must run the programs on PATH, as OpenWrt's does: a busybox built
/// with FEATURE_SH_STANDALONE or FEATURE_PREFER_APPLETS (Debian's busybox-static) runs its own
/// applets instead and bypasses the stand-ins. Then the box's busybox (scripts/openwrt-box
/// build, OpenWrt's settings) is taken when it is built; otherwise `None` after one line that
/// says so (a panic when [`REQUIRE_ENV`] is set).
fn busybox() -> Option<PathBuf> {
    let busybox = match std::env::var_os("DYNHOST_BUSYBOX") {
        Some(path) => PathBuf::from(path),
        None => tool("busybox", "busybox")?,
    };
    // With no program on PATH, only an ash that prefers its applets finds `tr` (not a builtin).
    let empty = TempDir::new("no-programs");
    let mut probe = Command::new(&busybox);
    probe.args(["sh", "-c", "tr x y </dev/null"]);
    if !run(probe, &empty.path().display().to_string())
        .status
        .success()
    {
        return Some(busybox);
    }
    let boxed = std::env::var_os("DYNHOST_BOX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/openwrt-box"))
        .join("root/bin/busybox");
    if boxed.is_file() {
        return Some(boxed);
    }
    let test = thread::current().name().unwrap_or("?").to_string();
    let reason = format!(
        "{} runs its own applets before PATH (FEATURE_SH_STANDALONE/PREFER_APPLETS, as \
         Debian's busybox-static): install Debian's busybox, or build the box \
         (scripts/openwrt-box build) whose busybox is taken then",
        busybox.display()
    );
    if std::env::var_os(REQUIRE_ENV).is_some() {
        panic!("{test}: {reason} (and {REQUIRE_ENV} is set)");
    }
    let _ = writeln!(std::io::stderr(), "skipped: {reason} ({test})");
    None
}

/// Runs `tests/shell/<script>` under `busybox sh` (see [`busybox`]); panics with its report
/// when it fails. Returns its stdout (the `ok - ...` lines), or `None` without a usable busybox.
fn shell_test(script: &str) -> Option<String> {
    let busybox = busybox()?;
    let mut command = Command::new(&busybox);
    command
        .arg("sh")
        .arg(repo().join("tests/shell").join(script))
        .env("BUSYBOX", &busybox);
    let output = run(command, CLEAN_PATH);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    println!("{stdout}");
    assert!(
        output.status.success(),
        "tests/shell/{script} failed ({}):\n{}\n--- stderr:\n{stderr}",
        output.status,
        stdout
            .lines()
            .filter(|line| !line.starts_with("ok - "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stdout.contains(" passed, 0 failed"),
        "tests/shell/{script} printed no summary:\n{stdout}\n--- stderr:\n{stderr}"
    );
    Some(stdout)
}

#[test]
fn init_script_under_busybox() {
    shell_test("test-init.sh");
}

#[test]
fn hotplug_script_under_busybox() {
    let Some(stdout) = shell_test("test-hotplug.sh") else {
        return;
    };
    // The script must return while the one-shot update it started still hangs: the order of
    // the two, not a wall-clock bound (the time is printed, past the capture).
    let timings: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("timing: "))
        .collect();
    assert_eq!(timings.len(), 2, "expected two timing lines:\n{stdout}");
    for line in timings {
        let _ = writeln!(std::io::stderr(), "{line}");
        assert!(line.ends_with("still running: yes"), "{line}");
    }
}

#[test]
fn example_config_under_busybox() {
    shell_test("test-config.sh");
}

#[test]
fn shell_files_pass_shellcheck() {
    let Some(shellcheck) = tool("shellcheck", "shellcheck") else {
        return;
    };
    let mut command = Command::new(shellcheck);
    command
        .current_dir(repo())
        .args(["-s", "sh"])
        .args(SHELL_FILES);
    let output = run(command, CLEAN_PATH);
    assert!(
        output.status.success(),
        "shellcheck -s sh {}:\n{}{}",
        SHELL_FILES.join(" "),
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// The LuCI page's own tests (tests/luci/, Node's built-in runner), against this build's binary:
/// the view's validators are compared with what dynhost accepts, and its status rows with what
/// `status -j` prints.
#[test]
fn luci_page_tests_pass_under_node() {
    let Some(node) = tool("node", "nodejs") else {
        return;
    };
    let mut files: Vec<String> = fs::read_dir(repo().join("tests/luci"))
        .expect("tests/luci")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".test.js"))
        .map(|name| format!("tests/luci/{name}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no tests/luci/*.test.js");
    let report = node_tests(&node, &files);
    // The tests that need the binary skip without it: here they must have run.
    assert!(report.contains("# skipped 0"), "{report}");
}

/// The page's ACL in OpenWrt's real rpcd (tests/luci/real/rpcd.test.js runs the ubusd and rpcd
/// of the box's root, built by `scripts/openwrt-box build`, chrooted; root needed).
#[test]
fn luci_acl_holds_in_real_rpcd() {
    real_luci_test("tests/luci/real/rpcd.test.js");
}

/// The page in real LuCI (master and openwrt-23.05 from ../shared/luci-upstream) in Debian's
/// chromium driven by playwright-core (tests/luci/real/luci.test.js): it loads without a script
/// error, a record added and saved gives a file this build's dynhost takes, and a duplicate
/// ticked in the table is refused before save.
#[test]
fn luci_page_works_in_real_luci() {
    real_luci_test("tests/luci/real/luci.test.js");
}

/// Runs `node --test` on `files` (relative to the repository) with this build's binary and
/// the variables that steer the tests that need outside tools; asserts they pass and returns
/// the report.
fn node_tests(node: &Path, files: &[String]) -> String {
    let mut command = Command::new(node);
    // Files rather than the folder: `node --test <folder>` means different things across Node
    // versions (Debian's 18, the 20 of this image).
    command.current_dir(repo()).arg("--test").args(files);
    let passed: Vec<(String, String)> = [
        REQUIRE_ENV,
        "DYNHOST_LUCI_UPSTREAM",
        "DYNHOST_BOX_DIR",
        "DYNHOST_PLAYWRIGHT",
        "DYNHOST_CHROMIUM",
        "DYNHOST_LUCI_SCREENSHOTS",
    ]
    .into_iter()
    .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
    .collect();
    let mut more: Vec<(&str, &str)> = vec![("DYNHOST_BIN", BIN)];
    more.extend(passed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let output = run_with(command, CLEAN_PATH, &more);
    let report = text(&output.stdout);
    assert!(
        output.status.success(),
        "node --test {}:\n{report}{}",
        files.join(" "),
        text(&output.stderr)
    );
    report
}

/// A test of tests/luci/real/, which skips by itself without its tools (and fails instead
/// under [`REQUIRE_ENV`]): its skip reason is passed on.
fn real_luci_test(file: &str) {
    let Some(node) = tool("node", "nodejs") else {
        return;
    };
    let report = node_tests(&node, &[file.to_string()]);
    if let Some(reason) = report.lines().find_map(|line| line.split_once("# SKIP ")) {
        let test = thread::current().name().unwrap_or("?").to_string();
        let _ = writeln!(std::io::stderr(), "skipped: {} ({test})", reason.1);
    }
}

/// `dynhost -c <config> -s <fresh dir> status -j`, parsed; panics unless it exits 0 with
/// nothing on stderr (no error, and no warning such as a readable password file or an
/// unknown option).
fn status_of(config: &Path) -> serde_json::Value {
    let state = TempDir::new("state");
    let mut command = Command::new(BIN);
    command
        .arg("-c")
        .arg(config)
        .arg("-s")
        .arg(state.path().join("dynhost"))
        .args(["status", "-j"]);
    let output = run(command, CLEAN_PATH);
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "dynhost status on {} ({}):\n{}{}",
        config.display(),
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("status -j prints JSON")
}

/// (name, family, enabled) of each record of a `status -j`.
fn records(status: &serde_json::Value) -> Vec<(String, String, bool)> {
    status["records"]
        .as_array()
        .expect("a records array")
        .iter()
        .map(|record| {
            (
                record["name"].as_str().expect("name").to_string(),
                record["family"].as_str().expect("family").to_string(),
                record["enabled"].as_bool().expect("enabled"),
            )
        })
        .collect()
}

#[test]
fn example_config_is_read_by_dynhost_without_a_warning() {
    let dir = TempDir::new("config");
    let config = dir.path().join("dynhost");
    fs::copy(repo().join("openwrt/files/dynhost.config"), &config).expect("copy the config");
    // As installed (INSTALL_CONF): 0600, so no warning about other users reading it.
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).expect("chmod");
    assert_eq!(
        records(&status_of(&config)),
        vec![
            ("home4".to_string(), "ipv4".to_string(), false),
            ("home6".to_string(), "ipv6".to_string(), false),
        ]
    );
}

#[test]
fn feed_makefile_installs_the_package() {
    let Some(make) = tool("make", "make") else {
        return;
    };
    // The Makefile includes ../../lang/rust/rust-package.mk: lay it out as in the feed.
    let dir = TempDir::new("feed");
    let package = dir.path().join("feed/net/dynhost");
    let rust = dir.path().join("feed/lang/rust");
    let installed = dir.path().join("ipkg-install");
    let root = dir.path().join("root");
    for d in [&package.join("files"), &rust, &installed.join("bin"), &root] {
        fs::create_dir_all(d).expect("mkdir");
    }
    let sdk = repo().join("tests/shell/sdk");
    fs::copy(repo().join("openwrt/Makefile"), package.join("Makefile")).expect("copy");
    for file in ["dynhost.init", "dynhost.hotplug", "dynhost.config"] {
        fs::copy(
            repo().join("openwrt/files").join(file),
            package.join("files").join(file),
        )
        .expect("copy");
    }
    fs::copy(
        sdk.join("lang/rust/rust-package.mk"),
        rust.join("rust-package.mk"),
    )
    .expect("copy");
    // What `cargo install --root` leaves: the binary (linked, never written by this process).
    symlink(BIN, installed.join("bin/dynhost")).expect("symlink");

    let make_run = |target: &str| {
        let mut command = Command::new(&make);
        command
            .arg("-s")
            .arg("-C")
            .arg(&package)
            .arg(format!("TOPDIR={}", sdk.display()))
            .arg(format!("INCLUDE_DIR={}", sdk.join("include").display()))
            .arg(format!("PKG_INSTALL_DIR={}", installed.display()))
            .arg(format!("ROOT={}", root.display()))
            .arg(target);
        let output = run(command, CLEAN_PATH);
        assert!(
            output.status.success(),
            "make {target} ({}):\n{}{}",
            output.status,
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    };

    let metadata = make_run("metadata");
    let field = |name: &str| {
        metadata
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in:\n{metadata}"))
            .to_string()
    };
    assert_eq!(field("PKG_NAME"), "dynhost");
    let version = field("PKG_VERSION");
    assert_eq!(version, VERSION, "PKG_VERSION must be Cargo.toml's version");
    // apk: digits and dots, no leading `v`, no suffix.
    assert!(
        version
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())),
        "PKG_VERSION {version:?} is not valid for apk"
    );
    let release = field("PKG_RELEASE");
    assert!(
        !release.is_empty() && release.bytes().all(|b| b.is_ascii_digit()),
        "PKG_RELEASE {release:?} is not an integer"
    );
    assert_eq!(field("PKG_LICENSE"), env!("CARGO_PKG_LICENSE"));
    assert_eq!(field("PKG_BUILD_DEPENDS"), "rust/host");
    let depends = field("DEPENDS");
    assert!(
        depends.starts_with("@(") && depends.ends_with(") +ca-bundle"),
        "DEPENDS must be $(RUST_ARCH_DEPENDS) +ca-bundle: {depends}"
    );
    assert_eq!(field("CONFFILES"), "/etc/config/dynhost");

    make_run("install-root");
    let expected = [
        ("usr/bin/dynhost", None, 0o755),
        ("etc/init.d/dynhost", Some("dynhost.init"), 0o755),
        (
            "etc/hotplug.d/iface/95-dynhost",
            Some("dynhost.hotplug"),
            0o644,
        ),
        ("etc/config/dynhost", Some("dynhost.config"), 0o600),
    ];
    for (path, source, mode) in expected {
        let installed = root.join(path);
        let meta =
            fs::metadata(&installed).unwrap_or_else(|e| panic!("/{path} not installed: {e}"));
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "mode of /{path}");
        let want = match source {
            Some(file) => fs::read(repo().join("openwrt/files").join(file)).expect("read"),
            None => fs::read(BIN).expect("read the binary"),
        };
        assert!(
            fs::read(&installed).expect("read") == want,
            "/{path} differs from its source"
        );
    }
    // The installed config is read by dynhost without a warning (0600, known options only).
    assert_eq!(
        records(&status_of(&root.join("etc/config/dynhost"))).len(),
        2
    );
}

#[test]
fn feed_test_sh_checks_the_version() {
    let Some(busybox) = busybox() else {
        return;
    };
    let dir = TempDir::new("test-sh");
    symlink(BIN, dir.path().join("dynhost")).expect("symlink");
    let path = format!("{}:{CLEAN_PATH}", dir.path().display());
    let test_sh = |version: &str| {
        let mut command = Command::new(&busybox);
        command
            .arg("sh")
            .arg(repo().join("openwrt/test.sh"))
            .args(["dynhost", version]);
        run(command, &path)
    };
    // The feed's CI passes PKG_VERSION, with or without the release (opkg -1, apk -r1).
    for version in [
        VERSION.to_string(),
        format!("{VERSION}-1"),
        format!("{VERSION}-r1"),
    ] {
        let output = test_sh(&version);
        assert!(
            output.status.success(),
            "test.sh dynhost {version} ({}): {}",
            output.status,
            text(&output.stderr)
        );
    }
    let output = test_sh("999.0.0");
    assert!(!output.status.success(), "test.sh accepted a wrong version");
    assert!(
        text(&output.stderr).contains(&format!(
            "printed 'dynhost {VERSION}', expected 'dynhost 999.0.0'"
        )),
        "{}",
        text(&output.stderr)
    );
}
