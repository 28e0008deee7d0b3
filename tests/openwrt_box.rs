//! dynhost's package on OpenWrt's real userland: procd as PID 1, netifd, hotplug, logd, opkg
//! and apk-tools 3, booted by `scripts/openwrt-box` (see it) in namespaces, one fresh box per
//! scenario. The package is the x86_64 one of `scripts/build-packages x86_64` (static musl, so
//! it runs on the box's glibc). The DynHost test server ([`MockServer`]) listens on the box's
//! own loopback, inside its network namespace: nothing leaves the box.
//!
//! Needs root, the built box (`scripts/openwrt-box build`) and the package in `dist/`; without
//! them each test prints `skipped: <reason>` and passes, unless `DYNHOST_REQUIRE_BOX` is set
//! (`.ci/run` sets it after building both): then it fails.

mod common;

use common::{
    echo_good, pki, wait_within, MockServer, Reply, Request, ServerCert, TempDir, PASSWORD,
    USERNAME,
};
use std::fs::{self, File};
use std::io::Write;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// When set (to anything), a missing box, package or root fails the test instead of skipping.
const REQUIRE_ENV: &str = "DYNHOST_REQUIRE_BOX";
/// The first lease of every box (the script's default) and the next one.
const WAN1: &str = "203.0.113.7";
const WAN2: &str = "198.51.100.23";
/// An address the server may claim a record holds.
const OTHER: &str = "192.0.2.99";
/// Where the tests put the test CA in the box.
const BOX_CA: &str = "/etc/dynhost-test-ca.pem";
/// What the issue allows between an address change and its request.
const PROMPT: Duration = Duration::from_secs(5);
/// How long "nothing more is sent" is watched for.
const QUIET: Duration = Duration::from_secs(3);
/// The send limit's spacing (README, "The send limit"): a change less than this after a
/// record's last send waits for it, so tests of promptness start past it.
const SEND_SPACING: Duration = Duration::from_secs(10);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One box at a time: the machine has two cores, and the timings asked for are per event.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Says why the scenario cannot run: a skip, or a failure when [`REQUIRE_ENV`] is set.
fn skip(reason: &str) {
    let test = thread::current().name().unwrap_or("?").to_string();
    if std::env::var_os(REQUIRE_ENV).is_some() {
        panic!("{test}: {reason} (and {REQUIRE_ENV} is set)");
    }
    // Past the harness's capture: a skip must show in a plain `cargo test`.
    let _ = writeln!(std::io::stderr(), "skipped: {reason} ({test})");
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn box_dir() -> PathBuf {
    std::env::var_os("DYNHOST_BOX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/openwrt-box"))
}

/// The one package in `folder` of the dist folder whose name starts with `prefix` and ends with
/// `suffix`.
fn dist_package(folder: &str, prefix: &str, suffix: &str) -> Result<PathBuf, String> {
    let dist = std::env::var_os("DYNHOST_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("dist"))
        .join(folder);
    let found: Vec<PathBuf> = fs::read_dir(&dist)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| {
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    name.starts_with(prefix) && name.ends_with(suffix)
                })
                .collect()
        })
        .unwrap_or_default();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no {prefix}*{suffix} in {} (scripts/build-packages x86_64)",
            dist.display()
        )),
        _ => Err(format!(
            "more than one {prefix}*{suffix} in {}",
            dist.display()
        )),
    }
}

/// A booted box; stopped (procd's own shutdown) and its run folder removed on drop.
struct OpenWrtBox {
    run: TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl OpenWrtBox {
    /// Boots a fresh box, or says why it cannot (see [`skip`]).
    fn boot() -> Option<OpenWrtBox> {
        let turn = one_at_a_time();
        if !is_root() {
            skip("not root (the box needs namespaces, mounts and a veth pair)");
            return None;
        }
        if !box_dir().join("root/sbin/procd").exists() {
            skip(&format!(
                "no box in {} (scripts/openwrt-box build)",
                box_dir().display()
            ));
            return None;
        }
        let run = TempDir::new("dynhost-box");
        let the_box = OpenWrtBox { run, _turn: turn };
        let out = the_box.script(&["boot"], None);
        assert!(out.status.success(), "openwrt-box boot: {}", text(&out));
        Some(the_box)
    }

    fn script(&self, args: &[&str], stdin: Option<&Path>) -> Output {
        let mut command = Command::new(repo().join("scripts/openwrt-box"));
        command
            .args(args)
            .env("DYNHOST_BOX_DIR", box_dir())
            .env("DYNHOST_BOX_RUN", self.run.path().join("run"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match stdin {
            Some(file) => command.stdin(File::open(file).expect("stdin file")),
            None => command.stdin(Stdio::null()),
        };
        command.output().expect("cannot run scripts/openwrt-box")
    }

    /// Runs `command` with the box's `/bin/sh`.
    fn sh(&self, command: &str) -> Output {
        self.script(&["sh", command], None)
    }

    /// [`OpenWrtBox::sh`], which must succeed; its stdout.
    #[track_caller]
    fn ok(&self, command: &str) -> String {
        let out = self.sh(command);
        assert!(
            out.status.success(),
            "`{command}` in the box: {}",
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Copies a host file into the box (through stdin: the box's files are in its own mounts).
    fn put(&self, host: &Path, dest: &str) {
        let out = self.script(&["sh", &format!("cat >'{dest}'")], Some(host));
        assert!(out.status.success(), "copying to {dest}: {}", text(&out));
    }

    /// Writes `contents` to `dest` in the box.
    fn write(&self, dest: &str, contents: &str) {
        let local = self.run.path().join("upload");
        fs::write(&local, contents).expect("write upload");
        self.put(&local, dest);
    }

    /// Runs `uci batch` in the box with `commands` on its stdin, never in an argv.
    fn uci_batch(&self, commands: &str) {
        let local = self.run.path().join("uci-batch");
        fs::write(&local, commands).expect("write batch");
        let out = self.script(&["sh", "uci batch"], Some(&local));
        assert!(out.status.success(), "uci batch: {}", text(&out));
    }

    /// The test server on the box's own loopback.
    fn server(&self) -> MockServer {
        let out = self.script(&["pid"], None);
        assert!(out.status.success(), "openwrt-box pid: {}", text(&out));
        let procd = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let netns = File::open(format!("/proc/{procd}/ns/net")).expect("the box's netns");
        MockServer::start_in_file(netns, ServerCert::Trusted, echo_good)
    }

    /// The PID (in the box) of procd's running `dynhost run` instance, if any (`pidof` would
    /// also name the init script's shells).
    fn daemon_pid(&self) -> Option<String> {
        let instance = &self.service()["dynhost"]["instances"]["dynhost"];
        (instance["running"] == true).then(|| instance["pid"].to_string())
    }

    /// procd's view of the service: `ubus call service list` for dynhost, as JSON.
    fn service(&self) -> serde_json::Value {
        let out = self.ok("ubus call service list '{\"name\":\"dynhost\"}'");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("service list: {e}: {out}"))
    }

    /// The system log's dynhost lines.
    fn log(&self) -> String {
        self.sh("logread -e dynhost")
            .stdout
            .iter()
            .map(|&b| b as char)
            .collect()
    }

    /// Installs the x86_64 .ipk with opkg (its postinst enables and starts the service): see
    /// [`OpenWrtBox::install`].
    fn opkg_install(&self, ipk: &Path) -> String {
        self.install(ipk, "opkg install")
    }

    /// Copies `package` into the box and installs it with `installer` (its post-install script
    /// enables and starts the service), then records the configs' checksums as the boot of a
    /// router with the package does: the `reload_config` of a fresh install knows nothing of
    /// /etc/config/dynhost yet, so only the second one would fire its reload trigger.
    fn install(&self, package: &Path, installer: &str) -> String {
        let name = package.file_name().expect("file name").to_string_lossy();
        self.put(package, &format!("/tmp/{name}"));
        let out = self.ok(&format!("{installer} /tmp/{name} 2>&1"));
        self.ok("reload_config");
        out
    }

    /// The test CA in place, and `records` (uci batch lines after the global cacert) committed
    /// and announced with `reload_config`: procd's reload trigger hands them to the running
    /// daemon. (`uci commit` alone tells procd nothing: only reload_config, or a commit through
    /// rpcd's ubus `uci` object as LuCI makes it, sends the config.change event.)
    fn configure(&self, server: &MockServer, records: &[&str]) {
        self.write(BOX_CA, &pki().ca_pem);
        let mut batch = format!("set dynhost.global.cacert='{BOX_CA}'\n");
        for record in records {
            batch.push_str(&record.replace("SERVER", &server.url()));
            batch.push('\n');
        }
        batch.push_str("commit dynhost\n");
        self.uci_batch(&batch);
        self.ok("reload_config");
    }

    /// Removes the package with `remover`, which must stop the daemon and take the package's
    /// files; its output.
    #[track_caller]
    fn remove(&self, remover: &str) -> String {
        let removed = self.ok(&format!("{remover} 2>&1"));
        assert!(
            wait_within(PROMPT, || self.daemon_pid().is_none()),
            "dynhost still runs after {remover}: {removed}"
        );
        for gone in [
            "/usr/bin/dynhost",
            "/etc/init.d/dynhost",
            "/etc/hotplug.d/iface/95-dynhost",
        ] {
            assert!(
                !self.sh(&format!("test -e {gone}")).status.success(),
                "{gone} left after {remover}: {removed}"
            );
        }
        removed
    }

    fn stop(&self) {
        let out = self.script(&["stop"], None);
        assert!(out.status.success(), "openwrt-box stop: {}", text(&out));
    }
}

impl Drop for OpenWrtBox {
    fn drop(&mut self) {
        let _ = self.script(&["stop"], None);
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// The x86_64 .ipk, or `None` after [`skip`].
fn ipk() -> Option<PathBuf> {
    dist_package("", "dynhost_", "_x86_64.ipk")
        .map_err(|reason| skip(&reason))
        .ok()
}

/// uci batch lines of the default config's `home4` record, enabled, following wan through
/// netifd (ubus), with the test password and server.
fn ubus_record() -> String {
    format!(
        "set dynhost.home4.enabled='1'\nset dynhost.home4.username='{USERNAME}'\n\
         set dynhost.home4.password='{PASSWORD}'\nset dynhost.home4.server='SERVER'"
    )
}

/// A second record, `nl`, following the wan device through the kernel (netlink).
fn netlink_record() -> String {
    format!(
        "set dynhost.nl=record\nset dynhost.nl.enabled='1'\n\
         set dynhost.nl.hostname='nl.example.com'\nset dynhost.nl.username='{USERNAME}'\n\
         set dynhost.nl.password='{PASSWORD}'\nset dynhost.nl.family='ipv4'\n\
         set dynhost.nl.source='netlink'\nset dynhost.nl.device='wan'\n\
         set dynhost.nl.server='SERVER'"
    )
}

fn myips(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.query_value("myip").unwrap_or_default())
        .collect()
}

/// Waits for the `n`th request, then for [`QUIET`], and checks that no more came.
#[track_caller]
fn exactly(server: &MockServer, n: usize, limit: Duration, what: &str) {
    assert!(
        wait_within(limit, || server.request_count() >= n),
        "{what}: {} request(s) within {limit:?}, wanted {n}: {}",
        server.request_count(),
        server.describe()
    );
    thread::sleep(QUIET);
    assert_eq!(
        server.request_count(),
        n,
        "{what}: more requests than wanted: {}",
        server.describe()
    );
}

/// A fresh box with the test server on its loopback and the package installed by opkg (the
/// service runs, no record enabled); `None` after [`skip`].
fn installed() -> Option<(OpenWrtBox, MockServer)> {
    installed_with(&ipk()?, "opkg install")
}

/// [`installed`] with another package and installer.
fn installed_with(package: &Path, installer: &str) -> Option<(OpenWrtBox, MockServer)> {
    let the_box = OpenWrtBox::boot()?;
    let server = the_box.server();
    the_box.install(package, installer);
    Some((the_box, server))
}

/// A box with the package installed by opkg and the `home4` record enabled (ubus source),
/// after its first request (wan's first lease); `None` after [`skip`].
fn publishing() -> Option<(OpenWrtBox, MockServer)> {
    let (the_box, server) = installed()?;
    the_box.configure(&server, &[&ubus_record()]);
    exactly(&server, 1, PROMPT, "after uci commit");
    Some((the_box, server))
}

/// Scenario 1: opkg install starts one respawning `dynhost run` instance, `service dynhost
/// status` says running, the config is 0600; opkg remove stops it and removes the files but
/// keeps a modified config, which a reinstall leaves in place (the package's copy as -opkg).
#[test]
fn opkg_install_starts_the_service_and_remove_keeps_a_modified_config() {
    let Some(ipk) = ipk() else { return };
    let Some(the_box) = OpenWrtBox::boot() else {
        return;
    };
    the_box.opkg_install(&ipk);

    let service = the_box.service();
    let instances = service["dynhost"]["instances"]
        .as_object()
        .unwrap_or_else(|| panic!("no dynhost instances in procd: {service}"));
    assert_eq!(instances.len(), 1, "one instance: {service}");
    let instance = &instances["dynhost"];
    assert_eq!(instance["running"], true, "{service}");
    assert_eq!(
        instance["command"],
        serde_json::json!(["/usr/bin/dynhost", "--syslog", "run"]),
        "{service}"
    );
    assert!(instance["respawn"].is_object(), "respawn set: {service}");
    let status = the_box.sh("service dynhost status");
    assert!(
        status.status.success(),
        "service dynhost status: {}",
        text(&status)
    );
    assert_eq!(String::from_utf8_lossy(&status.stdout).trim(), "running");
    assert_eq!(the_box.ok("stat -c %a /etc/config/dynhost").trim(), "600");

    the_box.ok("uci set dynhost.global.check_interval=900 && uci commit dynhost");
    let removed = the_box.remove("opkg remove dynhost");
    assert_eq!(
        the_box.ok("uci get dynhost.global.check_interval").trim(),
        "900",
        "the modified config is kept: {removed}"
    );

    let again = the_box.opkg_install(&ipk);
    assert_eq!(
        the_box.ok("uci get dynhost.global.check_interval").trim(),
        "900",
        "a reinstall keeps the modified config: {again}"
    );
    the_box.ok("test -f /etc/config/dynhost-opkg");
    the_box.stop();
}

/// Scenario 2: `uci commit dynhost` (the password given through uci batch's stdin, never an
/// argv) and `reload_config` make procd reload the daemon (SIGHUP, same PID), which publishes
/// the wan address of the real netifd through the ubus source, and through the netlink source
/// in a second record.
#[test]
fn uci_commit_reloads_the_daemon_which_publishes_the_wan_address() {
    let Some((the_box, server)) = installed() else {
        return;
    };
    let before = the_box.daemon_pid().expect("dynhost runs after install");

    the_box.configure(&server, &[&ubus_record(), &netlink_record()]);
    exactly(&server, 2, PROMPT, "after uci commit");
    assert_eq!(
        published(&server.requests()),
        [
            ("home.example.com".to_string(), WAN1.to_string()),
            ("nl.example.com".to_string(), WAN1.to_string())
        ]
    );
    assert_eq!(
        the_box.daemon_pid().as_deref(),
        Some(before.as_str()),
        "same PID"
    );
    let log = the_box.log();
    assert!(log.contains("config reloaded"), "SIGHUP seen: {log}");
    the_box.stop();
}

/// Scenario 2, the way LuCI saves: a commit through rpcd's ubus `uci` object sends procd the
/// config.change event itself, so the daemon reloads (SIGHUP, same PID) without reload_config,
/// also right after the install.
#[test]
fn a_commit_through_rpcd_reloads_the_daemon() {
    let Some((the_box, _server)) = installed() else {
        return;
    };
    let before = the_box.daemon_pid().expect("dynhost runs after install");
    the_box.ok("rpcd </dev/null >/dev/null 2>&1 &");
    assert!(
        wait_within(PROMPT, || the_box.sh("ubus -S list uci").status.success()),
        "rpcd did not come up"
    );
    the_box.ok(
        "ubus call uci set '{\"config\":\"dynhost\",\"section\":\"global\",\
         \"values\":{\"check_interval\":\"900\"}}' && \
         ubus call uci commit '{\"config\":\"dynhost\"}'",
    );
    assert!(
        wait_within(PROMPT, || the_box.log().contains("config reloaded")),
        "no reload after the commit through rpcd: {}",
        the_box.log()
    );
    assert_eq!(the_box.daemon_pid(), Some(before), "same PID");
    the_box.stop();
}

/// Scenario 3: a new lease (address change, link up) reaches the server within 5 s through
/// netifd's ifupdate and the hotplug script; `ifdown wan` sends nothing; `ifup wan` re-checks
/// and sends nothing either, as the address is unchanged.
#[test]
fn a_new_lease_is_published_and_ifdown_ifup_send_nothing_more() {
    let Some((the_box, server)) = publishing() else {
        return;
    };

    thread::sleep(SEND_SPACING);
    the_box.ok(&format!("box-lease {WAN2}/24"));
    exactly(&server, 2, PROMPT, "after the new lease");
    assert_eq!(myips(&server.requests()), [WAN1, WAN2]);
    let events = the_box.ok("logread -e box-hotplug");
    assert!(
        events.contains("ifupdate wan IFUPDATE_ADDRESSES=1"),
        "netifd's event was ifupdate: {events}"
    );
    // The hotplug script found the daemon running (real ubus and jsonfilter) and signalled it:
    // no one-shot ran (its lines come through `logger -t dynhost`, without a PID).
    let log = the_box.log();
    assert!(!log.contains(" dynhost: "), "a one-shot ran: {log}");

    the_box.ok("ifdown wan");
    thread::sleep(QUIET);
    assert_eq!(server.request_count(), 2, "ifdown: {}", server.describe());

    let checks_before = the_box.log().matches("nothing sent").count();
    the_box.ok("ifup wan");
    assert!(
        wait_within(PROMPT, || the_box.log().matches("nothing sent").count()
            > checks_before),
        "ifup wan: no re-check in the log: {}",
        the_box.log()
    );
    thread::sleep(QUIET);
    assert_eq!(server.request_count(), 2, "ifup: {}", server.describe());
    the_box.stop();
}

/// Scenario 4: `kill -9` of the daemon: procd respawns it; its state survives, so nothing is
/// sent again.
#[test]
fn procd_respawns_a_killed_daemon_without_a_duplicate_request() {
    let Some((the_box, server)) = publishing() else {
        return;
    };

    let killed = the_box.daemon_pid().expect("dynhost runs");
    the_box.ok(&format!("kill -9 {killed}"));
    // procd's respawn waits its timeout (5 s by default) before the restart.
    let mut respawned = None;
    assert!(
        wait_within(Duration::from_secs(15), || {
            respawned = the_box.daemon_pid().filter(|pid| *pid != killed);
            respawned.is_some()
        }),
        "no respawn: {}",
        the_box.service()
    );
    let respawned = respawned.expect("respawned");
    let checked = format!("dynhost[{respawned}]: ");
    assert!(
        wait_within(PROMPT, || {
            the_box
                .log()
                .lines()
                .any(|line| line.contains(&checked) && line.contains("nothing sent"))
        }),
        "the respawned daemon checked: {}",
        the_box.log()
    );
    thread::sleep(QUIET);
    assert_eq!(
        server.request_count(),
        1,
        "no duplicate: {}",
        server.describe()
    );
    let status = the_box.ok("dynhost status");
    assert!(status.contains(WAN1), "state kept: {status}");
    the_box.stop();
}

/// Scenario 5: with the service stopped, `ifup wan` makes the hotplug script run `dynhost
/// update -i wan` once, its output in the system log.
#[test]
fn with_the_service_stopped_ifup_runs_one_update_logged() {
    let Some((the_box, server)) = installed() else {
        return;
    };
    the_box.ok("/etc/init.d/dynhost stop");
    assert!(the_box.daemon_pid().is_none(), "stopped");
    the_box.configure(&server, &[&ubus_record()]);
    thread::sleep(QUIET);
    assert_eq!(
        server.request_count(),
        0,
        "nothing runs: {}",
        server.describe()
    );

    the_box.ok("ifup wan");
    exactly(&server, 1, PROMPT, "after ifup wan");
    assert_eq!(myips(&server.requests()), [WAN1]);
    assert!(the_box.daemon_pid().is_none(), "no daemon started");
    let log = the_box.log();
    assert!(
        log.lines()
            .any(|line| line.contains(" daemon.info dynhost[")
                && line.contains("home4")
                && line.contains(WAN1)),
        "the one-shot's own lines in logread, at their priority: {log}"
    );
    the_box.stop();
}

/// Scenario 6: a broken config is reported by `restart`, which starts nothing, and `service
/// dynhost status` says why nothing runs and fails; fixing it and applying (commit and
/// reload_config) brings the daemon back.
#[test]
fn a_broken_config_starts_nothing_and_status_says_so() {
    let Some((the_box, server)) = publishing() else {
        return;
    };

    // reload_config as LuCI's apply does: it remembers the broken file, so that fixing it is a
    // change procd acts on (the daemon keeps its config until the restart).
    the_box.ok("uci set dynhost.home4.family=ipv5 && uci commit dynhost && reload_config");
    let restart = the_box.sh("/etc/init.d/dynhost restart");
    assert!(
        !restart.status.success(),
        "restart refused: {}",
        text(&restart)
    );
    assert!(
        String::from_utf8_lossy(&restart.stderr).contains("family"),
        "the wrong option named: {}",
        text(&restart)
    );
    assert!(the_box.daemon_pid().is_none(), "nothing started");
    let status = the_box.sh("service dynhost status");
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(
        !status.status.success()
            && said.starts_with("not running: /etc/config/dynhost was refused\n")
            && said.contains("family=ipv5")
            && !said.contains("active with no instances"),
        "status after a refused start: {}",
        text(&status)
    );

    the_box.ok("uci set dynhost.home4.family=ipv4 && uci commit dynhost && reload_config");
    assert!(
        wait_within(PROMPT, || the_box.daemon_pid().is_some()),
        "fixed and committed: the daemon is back: {}",
        the_box.log()
    );
    thread::sleep(QUIET);
    assert_eq!(
        server.request_count(),
        1,
        "nothing new to send: {}",
        server.describe()
    );
    the_box.stop();
}

/// Scenario 7: the log carries each line at its priority (info: a start and an update; err:
/// the server names another address than the one sent, a failure that is retried, and a
/// refusal) and never the password.
#[test]
fn logread_shows_each_line_at_its_priority_and_never_the_password() {
    let Some((the_box, server)) = publishing() else {
        return;
    };
    // An error: the server says the record holds another address than the one sent.
    server.set_responder(|_: &Request| Reply::ok(format!("good {OTHER}")));
    thread::sleep(SEND_SPACING);
    the_box.ok(&format!("box-lease {WAN2}/24"));
    exactly(&server, 2, PROMPT, "after the second lease");
    // An error: a refusal of the server.
    server.set_responder(|_: &Request| Reply::ok("badauth"));
    thread::sleep(SEND_SPACING);
    the_box.ok(&format!("box-lease {WAN1}/24"));
    exactly(&server, 3, PROMPT, "after the third lease");

    let log = the_box.log();
    let priority_of = |needle: &str| {
        log.lines()
            .find(|line| line.contains(needle))
            .and_then(|line| line.split_whitespace().find(|w| w.starts_with("daemon.")))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no log line with '{needle}': {log}"))
    };
    assert_eq!(priority_of("watching"), "daemon.info", "{log}");
    assert_eq!(priority_of("first update"), "daemon.info", "{log}");
    assert_eq!(priority_of(OTHER), "daemon.err", "{log}");
    assert_eq!(priority_of("badauth"), "daemon.err", "{log}");
    let all = String::from_utf8_lossy(&the_box.sh("logread").stdout).into_owned();
    assert!(!all.contains(PASSWORD), "the password in the log: {all}");
    the_box.stop();
}

/// Scenario 8: `/etc/init.d/dynhost update` re-checks once; `service dynhost reload` is a
/// SIGHUP to the same PID.
#[test]
fn init_update_rechecks_and_reload_keeps_the_pid() {
    let Some((the_box, server)) = publishing() else {
        return;
    };
    let pid = the_box.daemon_pid().expect("dynhost runs");

    let checks = the_box.log().matches("nothing sent").count();
    the_box.ok("/etc/init.d/dynhost update");
    assert!(
        wait_within(PROMPT, || the_box.log().matches("nothing sent").count()
            == checks + 1),
        "one re-check: {}",
        the_box.log()
    );
    thread::sleep(QUIET);
    assert_eq!(the_box.log().matches("nothing sent").count(), checks + 1);
    assert_eq!(server.request_count(), 1, "{}", server.describe());

    let reloads = the_box.log().matches("config reloaded").count();
    the_box.ok("service dynhost reload");
    assert!(
        wait_within(PROMPT, || the_box.log().matches("config reloaded").count()
            == reloads + 1),
        "SIGHUP: {}",
        the_box.log()
    );
    assert_eq!(the_box.daemon_pid(), Some(pid), "same PID after reload");
    the_box.stop();
}

/// Scenario 9: the same cycle with the APK v3 package of OpenWrt 25.12 and the real apk-tools 3:
/// `apk add --allow-untrusted` starts the service, a record publishes the wan address, `apk del`
/// stops the daemon and removes the package's files but keeps the modified config, which a
/// reinstall leaves in place (the package's copy as .apk-new).
#[test]
fn apk_add_starts_the_service_which_publishes_and_apk_del_removes_it() {
    let Some(apk) = dist_package("apk/x86_64", "dynhost-", ".apk")
        .map_err(|reason| skip(&reason))
        .ok()
    else {
        return;
    };
    let Some((the_box, server)) = installed_with(&apk, "apk add --allow-untrusted") else {
        return;
    };
    let before = the_box.daemon_pid().expect("dynhost runs after apk add");
    assert_eq!(the_box.ok("stat -c %a /etc/config/dynhost").trim(), "600");
    assert!(the_box.ok("apk info").lines().any(|l| l == "dynhost"));

    the_box.configure(&server, &[&ubus_record()]);
    exactly(&server, 1, PROMPT, "after uci commit");
    assert_eq!(myips(&server.requests()), [WAN1]);
    assert_eq!(
        the_box.daemon_pid(),
        Some(before),
        "reloaded, not restarted"
    );

    let removed = the_box.remove("apk del dynhost");
    assert!(!the_box.ok("apk info").lines().any(|l| l == "dynhost"));
    // The config was changed (the record enabled): apk keeps it, and a reinstall leaves it in
    // place with the package's copy beside it.
    assert_eq!(
        the_box.ok("uci get dynhost.home4.enabled").trim(),
        "1",
        "the modified config is kept: {removed}"
    );
    let again = the_box.install(&apk, "apk add --allow-untrusted");
    assert_eq!(
        the_box.ok("uci get dynhost.home4.enabled").trim(),
        "1",
        "a reinstall keeps the modified config: {again}"
    );
    the_box.ok("test -f /etc/config/dynhost.apk-new");
    the_box.stop();
}

/// wan6's DHCPv6 lease (the box's `lease6` protocol): a global address, a ULA with a longer
/// preferred lifetime and a deprecated global one with a longer valid lifetime, so that only
/// their kind and state can make the global one win; and a delegated /56.
const WAN6_GLOBAL: &str = "2001:db8:0:ff00::1a2b";
const WAN6_ULA: &str = "fd00:aaaa:bbbb:ff00::1a2b";
const WAN6_DEPRECATED: &str = "2001:db8:0:ff00::dead";
/// The first delegated prefix and the next one.
const PD1: &str = "2001:db8:1200::/56";
const PD2: &str = "2001:db8:3400::/56";
/// The interface identifier of a server on the LAN.
const SUFFIX: &str = "::1:2:3:4";

/// The lines of wan6's lease with `prefix` delegated (`box-lease -6`).
fn lease6(prefix: &str) -> String {
    [
        format!("address {WAN6_GLOBAL}/128 3600 7200"),
        format!("address {WAN6_ULA}/128 7200 7200"),
        format!("address {WAN6_DEPRECATED}/128 0 14400"),
        format!("prefix {prefix} 1800 3600"),
    ]
    .map(|line| format!("'{line}'"))
    .join(" ")
}

/// uci batch lines of an enabled ipv6 record `name` (host name `name.example.com`, interface
/// wan6 by default) with `options` (`key=value`, the values quoted here).
fn ipv6_record(name: &str, options: &[&str]) -> String {
    let mut lines = format!(
        "set dynhost.{name}=record\nset dynhost.{name}.enabled='1'\n\
         set dynhost.{name}.hostname='{name}.example.com'\n\
         set dynhost.{name}.username='{USERNAME}'\nset dynhost.{name}.password='{PASSWORD}'\n\
         set dynhost.{name}.family='ipv6'\nset dynhost.{name}.server='SERVER'"
    );
    for option in options {
        let (key, value) = option.split_once('=').expect("key=value");
        lines.push_str(&format!("\nset dynhost.{name}.{key}='{value}'"));
    }
    lines
}

/// A box with the package installed (no record enabled) and IPv6 as on a router with DHCPv6
/// prefix delegation: wan6 on wan's device with the `lease6` protocol and [`lease6`] of
/// [`PD1`], `lan` and `guest` (veth devices of their own) static with `ip6assign 64`, a ULA
/// prefix. netifd takes new interfaces' shares of a delegated prefix only when it starts, so
/// the network restarts; returns once lan holds its shares and no address is tentative (the
/// netlink source skips those). `None` after [`skip`].
fn ipv6_box() -> Option<(OpenWrtBox, MockServer)> {
    let (the_box, server) = installed()?;
    let out = the_box.script(&["link", "lan", "guest"], None);
    assert!(out.status.success(), "openwrt-box link: {}", text(&out));
    the_box.ok(&format!(
        "mkdir -p /tmp/box && printf '%s\\n' {} >/tmp/box/lease6",
        lease6(PD1)
    ));
    let mut batch = String::from(
        "set network.globals=globals\nset network.globals.ula_prefix='fd12:3456:789a::/48'\n\
         set network.wan6=interface\nset network.wan6.device='wan'\n\
         set network.wan6.proto='lease6'\n",
    );
    for (name, ipv4) in [("lan", "192.168.1.1/24"), ("guest", "192.168.2.1/24")] {
        batch.push_str(&format!(
            "set network.{name}=interface\nset network.{name}.device='{name}'\n\
             set network.{name}.proto='static'\nset network.{name}.ipaddr='{ipv4}'\n\
             set network.{name}.ip6assign='64'\n"
        ));
    }
    batch.push_str("commit network\n");
    the_box.uci_batch(&batch);
    the_box.ok("/etc/init.d/network restart");
    assert!(
        wait_within(Duration::from_secs(15), || {
            share(&the_box, "lan").is_some_and(|lan| in_prefix(lan, PD1))
                && share(&the_box, "guest").is_some()
                && !the_box.ok("ip -6 addr").contains("tentative")
        }),
        "IPv6 did not come up: {}\n{}",
        the_box.ok("ubus call network.interface dump"),
        the_box.ok("ip -6 addr")
    );
    Some((the_box, server))
}

/// `interface`'s share of a delegated prefix (a global, not the ULA's) with the router's
/// address in place, from netifd.
fn share(the_box: &OpenWrtBox, interface: &str) -> Option<Ipv6Addr> {
    let out = the_box.sh(&format!("ubus call network.interface.{interface} status"));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    status["ipv6-prefix-assignment"]
        .as_array()?
        .iter()
        .filter(|assignment| assignment["local-address"]["address"].is_string())
        .filter_map(|assignment| assignment["address"].as_str()?.parse::<Ipv6Addr>().ok())
        .find(|address| address.segments()[0] & 0xfe00 != 0xfc00)
}

/// Whether `address` lies in the /56 `prefix` (written `address/56`).
fn in_prefix(address: Ipv6Addr, prefix: &str) -> bool {
    let (network, _) = prefix.split_once('/').expect("a prefix");
    let network: Ipv6Addr = network.parse().expect("an IPv6 prefix");
    u128::from(address) >> 72 == u128::from(network) >> 72
}

/// `share`'s /64 joined with [`SUFFIX`], as text.
fn with_suffix(share: Ipv6Addr) -> String {
    let suffix: Ipv6Addr = SUFFIX.parse().expect("the suffix");
    let low = u128::from(u64::MAX);
    Ipv6Addr::from((u128::from(share) & !low) | (u128::from(suffix) & low)).to_string()
}

/// (host name, address) of each request, sorted.
fn published(requests: &[Request]) -> Vec<(String, String)> {
    let mut published: Vec<(String, String)> = requests
        .iter()
        .map(|r| {
            (
                r.query_value("hostname").unwrap_or_default(),
                r.query_value("myip").unwrap_or_default(),
            )
        })
        .collect();
    published.sort();
    published
}

/// Scenario 10: against the live netifd with DHCPv6 prefix delegation and two LANs, a plain
/// ipv6 record publishes wan6's global address, not the ULA nor the deprecated one, through
/// netifd (ubus) and the kernel (netlink on wan's device); a record with `ipv6_suffix` and
/// `prefix_interface 'lan'` publishes lan's /64 with the suffix, never guest's, through ubus
/// and through netlink with no device named (lan's device, found through netifd).
#[test]
fn ipv6_publishes_the_global_address_and_lans_share_with_a_suffix() {
    let Some((the_box, server)) = ipv6_box() else {
        return;
    };
    let lan = share(&the_box, "lan").expect("lan's share");
    let guest = share(&the_box, "guest").expect("guest's share");
    assert_ne!(lan, guest);

    the_box.configure(
        &server,
        &[
            &ipv6_record("wan6ubus", &[]),
            &ipv6_record("wan6nl", &["source=netlink", "device=wan"]),
            &ipv6_record(
                "srvubus",
                &[&format!("ipv6_suffix={SUFFIX}"), "prefix_interface=lan"],
            ),
            &ipv6_record(
                "srvnl",
                &[
                    &format!("ipv6_suffix={SUFFIX}"),
                    "prefix_interface=lan",
                    "source=netlink",
                ],
            ),
        ],
    );
    exactly(&server, 4, PROMPT, "after uci commit");
    let server_address = with_suffix(lan);
    assert_eq!(
        published(&server.requests()),
        [
            ("srvnl.example.com".to_string(), server_address.clone()),
            ("srvubus.example.com".to_string(), server_address.clone()),
            ("wan6nl.example.com".to_string(), WAN6_GLOBAL.to_string()),
            ("wan6ubus.example.com".to_string(), WAN6_GLOBAL.to_string()),
        ],
        "guest's would be {}; dynhost check: {}",
        with_suffix(guest),
        the_box.ok("dynhost check")
    );
    the_box.stop();
}

/// Scenario 11: a new delegated prefix with wan6 staying up (netifd's `ifupdate` with
/// `IFUPDATE_PREFIXES=1`) gives one request per suffix record, with lan's new /64, through ubus
/// and netlink, and none for the plain record, whose address did not change.
#[test]
fn a_new_delegated_prefix_is_published_once() {
    let Some((the_box, server)) = ipv6_box() else {
        return;
    };
    let suffix_options = [
        &format!("ipv6_suffix={SUFFIX}") as &str,
        "prefix_interface=lan",
    ];
    the_box.configure(
        &server,
        &[
            &ipv6_record("wan6ubus", &[]),
            &ipv6_record("srvubus", &suffix_options),
            &ipv6_record(
                "srvnl",
                &[suffix_options[0], suffix_options[1], "source=netlink"],
            ),
        ],
    );
    exactly(&server, 3, PROMPT, "after uci commit");

    thread::sleep(SEND_SPACING);
    let changed = Instant::now();
    the_box.ok(&format!("box-lease -6 {}", lease6(PD2)));
    assert!(
        wait_within(PROMPT, || server.request_count() >= 5),
        "after the new prefix: {}\n{}",
        server.describe(),
        the_box.log()
    );
    let took = changed.elapsed();
    exactly(&server, 5, PROMPT, "after the new prefix");
    let lan = share(&the_box, "lan").expect("lan's share");
    assert!(in_prefix(lan, PD2), "lan's new share: {lan}");
    let news = published(&server.requests()[3..]);
    assert_eq!(
        news,
        [
            ("srvnl.example.com".to_string(), with_suffix(lan)),
            ("srvubus.example.com".to_string(), with_suffix(lan)),
        ],
        "dynhost check: {}",
        the_box.ok("dynhost check")
    );
    let events = the_box.ok("logread -e box-hotplug");
    assert!(
        events
            .lines()
            .any(|line| line.contains("ifupdate wan6 ") && line.contains("IFUPDATE_PREFIXES=1")),
        "netifd's event was ifupdate with IFUPDATE_PREFIXES=1: {events}"
    );
    eprintln!("new prefix to both requests: {took:?}");
    the_box.stop();
}

/// Scenario 12: the same with the service stopped: the hotplug script acts on wan6's `ifupdate`
/// with `IFUPDATE_PREFIXES=1` itself, and its one-shot `dynhost update -i wan6` publishes lan's
/// new /64 with the suffix, once.
#[test]
fn with_the_service_stopped_a_new_delegated_prefix_is_published_by_the_hotplug_one_shot() {
    let Some((the_box, server)) = ipv6_box() else {
        return;
    };
    the_box.ok("/etc/init.d/dynhost stop");
    let record = ipv6_record(
        "srvubus",
        &[&format!("ipv6_suffix={SUFFIX}"), "prefix_interface=lan"],
    );
    the_box.configure(&server, &[&record]);
    the_box.ok("dynhost update");
    exactly(&server, 1, PROMPT, "after dynhost update");

    // Past the send limit's spacing, so the one-shot sends at once.
    thread::sleep(SEND_SPACING);
    the_box.ok(&format!("box-lease -6 {}", lease6(PD2)));
    exactly(&server, 2, PROMPT, "after the new prefix");
    assert!(the_box.daemon_pid().is_none(), "no daemon started");
    let lan = share(&the_box, "lan").expect("lan's share");
    assert!(in_prefix(lan, PD2), "lan's new share: {lan}");
    assert_eq!(
        published(&server.requests()[1..]),
        [("srvubus.example.com".to_string(), with_suffix(lan))],
        "log: {}",
        the_box.log()
    );
    let log = the_box.log();
    assert!(
        log.lines()
            .any(|line| line.contains(" daemon.info dynhost[") && line.contains("srvubus")),
        "the one-shot's own lines in logread: {log}"
    );
    the_box.stop();
}
