//! The state dir as a place others may have touched: objects planted in place of a state file
//! or of the lock, and a state dir that is not dynhost's own, for `update`, `status`, `check`
//! and `run`.
//!
//! Each planted object (a link to a file outside, a dangling link, a FIFO, a directory, a
//! device node, a huge sparse file) must leave the outside file unchanged and create nothing
//! where a link points, must not block (the harness kills a run after its timeout and fails),
//! and must be named in a clear line. A planted state file reads as no state; a planted lock
//! stops the pass before anything is sent. Device nodes need root (`mknod`): without it that
//! case prints `skipped: <reason>`, unless `DYNHOST_REQUIRE_NETNS` (set in CI, which runs as
//! root) is set.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::PathBuf;
use std::process::Command;

use common::*;

const OUTSIDE: &[u8] = b"outside, not dynhost's\n";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Plant {
    Link,
    Dangling,
    Fifo,
    Directory,
    Device,
    Huge,
}

const PLANTS: [Plant; 6] = [
    Plant::Link,
    Plant::Dangling,
    Plant::Fifo,
    Plant::Directory,
    Plant::Device,
    Plant::Huge,
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    StateFile,
    Lock,
}

/// One test world with an object planted in its state dir.
struct Planted {
    env: TestEnv,
    server: MockServer,
    config: String,
    plant: Plant,
    place: Place,
    /// Where the object is.
    at: PathBuf,
}

impl Planted {
    /// `None` when the object cannot be made here (a device node without root).
    fn new(plant: Plant, place: Place) -> Option<Planted> {
        let env = TestEnv::new();
        let server = MockServer::good();
        let config = env.config(&[env.record("home", &server)]);
        fs::create_dir(&env.state_dir).unwrap();
        fs::set_permissions(&env.state_dir, fs::Permissions::from_mode(0o700)).unwrap();
        let at = env.state_dir.join(match place {
            Place::StateFile => "home.example.com.ipv4.json",
            Place::Lock => "lock",
        });
        fs::write(env.dir().join("outside"), OUTSIDE).unwrap();
        match plant {
            Plant::Link => symlink(env.dir().join("outside"), &at).unwrap(),
            Plant::Dangling => symlink(env.dir().join("nowhere"), &at).unwrap(),
            Plant::Fifo => run_tool(Command::new("mkfifo").arg(&at)),
            Plant::Directory => fs::create_dir(&at).unwrap(),
            Plant::Device => {
                // The numbers of /dev/null: harmless even if something did open it.
                let made = Command::new("mknod")
                    .arg(&at)
                    .args(["c", "1", "3"])
                    .output();
                if !made.as_ref().is_ok_and(|out| out.status.success()) {
                    let reason = format!("mknod failed (not root?): {made:?}");
                    if std::env::var_os("DYNHOST_REQUIRE_NETNS").is_some() {
                        panic!("{reason} (and DYNHOST_REQUIRE_NETNS is set)");
                    }
                    eprintln!("skipped: a device node in the state dir: {reason}");
                    return None;
                }
            }
            Plant::Huge => fs::File::create(&at)
                .and_then(|file| file.set_len(1 << 30))
                .unwrap(),
        }
        Some(Planted {
            env,
            server,
            config,
            plant,
            place,
            at,
        })
    }

    fn run(&self, args: &[&str]) -> Outcome {
        self.env.run(&self.config, args)
    }

    /// Whether this plant is refused where it is: anything but a regular file as the lock.
    fn stops_the_pass(&self) -> bool {
        self.place == Place::Lock && self.plant != Plant::Huge
    }

    /// The line that names the object, in `output`.
    #[track_caller]
    fn assert_reported(&self, output: &str) {
        let named = self.at.display().to_string();
        let expected = match (self.place, self.plant) {
            (Place::Lock, Plant::Huge) => return,
            (_, Plant::Huge) => "larger than 65536 bytes",
            (_, Plant::Link | Plant::Dangling) => "is a symbolic link",
            (_, Plant::Fifo) => "is a FIFO",
            (_, Plant::Directory) => "is a directory",
            (_, Plant::Device) => "is a device",
        };
        let line = output
            .lines()
            .find(|line| line.contains(&named) && line.contains(expected));
        assert!(
            line.is_some(),
            "{self:?}: no line naming {named} with {expected:?}\n{output}"
        );
    }

    /// Nothing outside the state dir changed or appeared.
    #[track_caller]
    fn assert_outside_untouched(&self) {
        let dir = self.env.dir();
        assert_eq!(fs::read(dir.join("outside")).unwrap(), OUTSIDE, "{self:?}");
        assert!(
            !dir.join("nowhere").exists(),
            "{self:?}: the dangling link was followed"
        );
    }
}

impl std::fmt::Debug for Planted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} as the {:?}", self.plant, self.place)
    }
}

#[track_caller]
fn run_tool(command: &mut Command) {
    let status = command.status().unwrap();
    assert!(status.success(), "{command:?}: {status}");
}

/// Every plant in every place.
fn each_planted(mut test: impl FnMut(Planted)) {
    for place in [Place::StateFile, Place::Lock] {
        for plant in PLANTS {
            if let Some(planted) = Planted::new(plant, place) {
                test(planted);
            }
        }
    }
}

#[test]
fn update_neither_follows_nor_blocks_on_planted_objects() {
    each_planted(|planted| {
        let out = planted.run(&["update"]);
        planted.assert_outside_untouched();
        planted.assert_reported(&out.stderr);
        if planted.stops_the_pass() {
            out.assert_code(2);
            assert_eq!(planted.server.request_count(), 0, "{planted:?}\n{out}");
            return;
        }
        assert_eq!(planted.server.request_count(), 1, "{planted:?}\n{out}");
        if planted.place == Place::StateFile && planted.plant == Plant::Directory {
            // Sent, but the state cannot be put where a directory is: said in one line, and
            // exit 1, a failure that passes once the directory is gone (2 says nothing went).
            out.assert_code(1);
            let said: Vec<&str> = out.stderr_lines();
            assert!(
                said.iter()
                    .any(|line| line.contains("a directory is in its place")
                        && line.contains("updated to")),
                "{planted:?}\n{out}"
            );
        } else {
            out.assert_code(0);
        }
        if planted.place == Place::StateFile && planted.plant != Plant::Directory {
            let meta = fs::symlink_metadata(&planted.at).unwrap();
            assert!(
                meta.is_file(),
                "{planted:?}: the new state replaced the object"
            );
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    });
}

#[test]
fn status_and_check_read_planted_state_files_as_no_state() {
    each_planted(|planted| {
        for command in ["status", "check"] {
            let out = planted.run(&[command]);
            out.assert_code(0);
            if planted.place == Place::StateFile {
                planted.assert_reported(&out.stderr);
            }
            planted.assert_outside_untouched();
        }
        assert_eq!(planted.server.request_count(), 0, "{planted:?}");
    });
}

#[test]
fn the_daemon_reports_planted_objects_and_keeps_running() {
    each_planted(|planted| {
        let log = planted.env.dir().join("daemon.log");
        let log_text = || String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).into_owned();
        // Through a shell that execs it with stderr in a file, to watch its log as it runs.
        planted.env.set_wrapper(&[
            "sh",
            "-c",
            &format!("exec \"$@\" 2>>'{}'", log.display()),
            "sh",
        ]);
        let global = planted.env.global().set("check_interval", "3600");
        let config = render_config(&[global, planted.env.record("home", &planted.server)]);
        let mut daemon = planted.env.spawn(&config, &["run"]);
        let named = planted.at.display().to_string();
        let seen = if planted.stops_the_pass() {
            wait_until(|| log_text().contains(&named))
        } else {
            planted.server.wait_for_requests(1)
        };
        assert!(daemon.is_running(), "{planted:?}\n{}", log_text());
        daemon.signal("TERM");
        let out = daemon.wait();
        let log = log_text();
        assert!(seen, "{planted:?}: no pass seen\n{log}");
        out.assert_code(0);
        planted.assert_outside_untouched();
        planted.assert_reported(&log);
        let expected = usize::from(!planted.stops_the_pass());
        assert_eq!(
            planted.server.request_count(),
            expected,
            "{planted:?}\n{log}"
        );
    });
}

/// A state dir that others could fill, for every command that uses one.
#[track_caller]
fn assert_refused_state_dir(env: &TestEnv, server: &MockServer, why: &str) {
    let config = env.config(&[env.record("home", server)]);
    for command in ["update", "status", "check", "run"] {
        let out = env.run(&config, &[command]);
        out.assert_code(2);
        let named = env.state_dir.display().to_string();
        assert!(
            out.stderr
                .lines()
                .any(|line| line.contains(&named) && line.contains(why)),
            "{command}: no line naming {named} with {why:?}\n{out}"
        );
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_state_dir_that_is_a_link_is_refused() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let real = env.dir().join("real-state");
    fs::create_dir(&real).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
    symlink(&real, &env.state_dir).unwrap();
    assert_refused_state_dir(&env, &server, "is a symbolic link");
    assert_eq!(fs::read_dir(&real).unwrap().count(), 0, "written through");
}

#[test]
fn a_state_dir_others_can_write_is_refused() {
    let env = TestEnv::new();
    let server = MockServer::good();
    fs::create_dir(&env.state_dir).unwrap();
    for mode in [0o1777, 0o770] {
        fs::set_permissions(&env.state_dir, fs::Permissions::from_mode(mode)).unwrap();
        assert_refused_state_dir(&env, &server, "can be written by other users");
    }
    fs::remove_dir(&env.state_dir).unwrap();
    fs::write(&env.state_dir, b"").unwrap();
    assert_refused_state_dir(&env, &server, "is not a directory");
}

#[test]
fn a_state_dir_of_another_user_is_refused() {
    let env = TestEnv::new();
    let server = MockServer::good();
    fs::create_dir(&env.state_dir).unwrap();
    fs::set_permissions(&env.state_dir, fs::Permissions::from_mode(0o700)).unwrap();
    let chowned = Command::new("chown")
        .arg("65534")
        .arg(&env.state_dir)
        .output()
        .unwrap();
    if !chowned.status.success() {
        let reason = String::from_utf8_lossy(&chowned.stderr).trim().to_string();
        if std::env::var_os("DYNHOST_REQUIRE_NETNS").is_some() {
            panic!("chown failed: {reason} (and DYNHOST_REQUIRE_NETNS is set)");
        }
        eprintln!("skipped: a state dir of another user: chown failed (not root?): {reason}");
        return;
    }
    assert_refused_state_dir(&env, &server, "belongs to user 65534");
}

#[test]
fn a_missing_state_dir_is_created_private_by_update_only() {
    let env = TestEnv::new();
    let server = MockServer::good();
    let config = env.config(&[env.record("home", &server)]);
    for command in ["status", "check"] {
        env.run(&config, &[command]).assert_code(0);
        assert!(!env.state_dir.exists(), "{command} created the state dir");
    }
    env.run(&config, &["update"]).assert_code(0);
    let mode = fs::metadata(&env.state_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

/// Says why a test needing root cannot run here, or fails when CI requires it.
fn skip_without_root(what: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return false;
    }
    let reason = format!("not root ({what})");
    assert!(
        std::env::var_os("DYNHOST_REQUIRE_NETNS").is_none(),
        "{reason} (and DYNHOST_REQUIRE_NETNS is set)"
    );
    eprintln!("skipped: {reason}");
    true
}

#[test]
fn a_full_disk_is_one_clear_line_and_exit_1_after_the_send() {
    if skip_without_root("a full tmpfs needs a mount namespace") {
        return;
    }
    let env = TestEnv::new();
    let server = MockServer::good();
    // The state dir is a one-page tmpfs, filled up, in a mount namespace of the run's own.
    let script = format!(
        "set -e; mount --make-rprivate /; mount -t tmpfs -o size=4k,mode=0700 tmpfs '{dir}'; \
         dd if=/dev/zero of='{dir}/filler' bs=1k count=64 2>/dev/null || true; exec \"$@\"",
        dir = env.state_dir.display()
    );
    fs::create_dir_all(&env.state_dir).unwrap();
    fs::set_permissions(&env.state_dir, fs::Permissions::from_mode(0o700)).unwrap();
    env.set_wrapper(&["unshare", "--mount", "sh", "-c", &script, "sh"]);
    let out = env.run(&env.config(&[env.record("home", &server)]), &["update"]);
    out.assert_code(1);
    assert_eq!(server.request_count(), 1, "{out}");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].contains("the disk is full") && lines[0].contains("updated to"),
        "{out}"
    );
}
