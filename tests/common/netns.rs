//! A throw-away network namespace, so that address detection can be tested against a real
//! kernel: real veth devices, real address flags, real routes, without touching the host.
//!
//! [`Netns::create`] makes `dynhost-<pid>-<n>` with `ip netns add`; dropping the [`Netns`] runs
//! `ip netns del`, also when the test panics (the devices inside go with it). It needs root and
//! the `ip` program (iproute2); without them it returns `None` after saying why on stderr
//! (`skipped: ...`), so a test starts with
//!
//! ```ignore
//! let Some(ns) = Netns::create() else { return };
//! ns.veth("wan0", "peer0");
//! ns.ip(&["addr", "add", "192.0.2.10/24", "dev", "wan0"]);
//! let out = env.run_in(&ns, &config, &["check"]);
//! ```
//!
//! Set `DYNHOST_REQUIRE_NETNS=1` to make a missing capability fail the tests instead (CI on a
//! machine that must run them).
//!
//! # What the kernel does (found on Linux 6.18, iproute2 6.1; checked by `tests/harness.rs`)
//!
//! **(a) IPv6 is on in a fresh namespace.** With `net.core.devconf_inherit_init_net = 0` (the
//! default), a new namespace gets the kernel's defaults for IPv6 (`disable_ipv6 = 0`,
//! `accept_dad = 1` for new devices, `dad_transmits = 1`, `use_tempaddr = 0`), whatever the host
//! has set. Only with `devconf_inherit_init_net = 1` or `3` would a host's `disable_ipv6 = 1` be
//! copied in, so [`Netns::create`] writes `disable_ipv6 = 0` for `all` and `default` anyway
//! (cheap, and harmless otherwise). A kernel booted with `ipv6.disable=1` has no
//! `/proc/sys/net/ipv6` at all: then `create` skips.
//!
//! Addresses added without `nodad` are `tentative` for about one to two seconds after the link
//! has carrier (a random delay of up to `router_solicitation_delay` = 1 s, then
//! `dad_transmits` × 1 s); a `nodad` address is usable at once. A `preferred_lft 0` address is
//! listed as `deprecated` (and, without `nodad`, `deprecated tentative` at first). A
//! point-to-point address (`ip addr add 203.0.113.5 peer 198.51.100.1 dev wan0`) is listed as
//! `inet 203.0.113.5 peer 198.51.100.1/32`: the prefix length belongs to the peer.
//!
//! **(b) A tentative address, deterministically.** Three ways, all work:
//! - [`Netns::add_tentative`]: raise `dad_transmits` on the device to 1000 (one probe a second:
//!   ~17 minutes, far beyond [`super::RUN_TIMEOUT`]) and add the address without `nodad`. It is
//!   `tentative` from the moment `ip` returns, and stays so. The setting is per device, so every
//!   later address added to that device without `nodad` stays tentative as well;
//! - [`Netns::veth_no_carrier`]: the peer end stays down, the device is `NO-CARRIER`, and DAD
//!   does not start: every IPv6 address on it (the link-local one included) stays `tentative`
//!   until the peer comes up; IPv4 addresses are unaffected;
//! - a duplicate: the same address `nodad` on the peer end first, then on the device with DAD:
//!   the device's copy becomes `dadfailed tentative` for good (not wrapped in a helper: the
//!   address then exists twice in the namespace).
//!
//! **(c) A temporary (privacy) address.** `use_tempaddr` must be 1 or 2 on the device *before*
//! adding the address with `mngtmpaddr` (with 0 nothing happens); then the kernel creates the
//! `temporary dynamic` address synchronously, within the `ip addr add` (`nodad` on the base
//! address does not carry over to it). It is `tentative` for its own DAD: about 1.5–2 s with the
//! defaults. With `accept_dad = 0` on the device (and `all.accept_dad = 0`, the default) it is
//! usable at once. Its lifetimes: valid `temp_valid_lft` (604800 s), preferred
//! `temp_prefered_lft` (86400 s) minus a random desync of up to `max_desync_factor` (600 s).
//! [`Netns::add_temporary`] does all this and returns the temporary address.
//!
//! **(d) Default routes.**
//! - IPv4: `ip route add default via 192.0.2.1 dev wan0` needs the device up and an address
//!   whose subnet holds the gateway, otherwise `Error: Nexthop has invalid gateway.` (even with
//!   `onlink` when no route covers the gateway). It works on a `NO-CARRIER` device.
//!   `ip route add default dev wan0` (a point-to-point style route) needs neither.
//! - IPv6: `ip -6 route add default via 2001:db8::1 dev wan0` needs the device up and a route
//!   covering the gateway, otherwise `RTNETLINK answers: No route to host` (`onlink` bypasses
//!   the check). The prefix route of an address exists as soon as it is added, **even while the
//!   address is tentative** (on a `NO-CARRIER` device it is marked `linkdown`): a tentative
//!   address is no obstacle. `ip -6 route add default dev wan0` always works. A second default
//!   with the same metric is refused (`File exists`): give a `metric`, or delete the first.
//!
//! [`Netns::default_route4`] and [`Netns::default_route6`] add them.
//!
//! # Sockets inside
//!
//! A thread's network namespace is its own: [`in_namespace`] (or [`Netns::within`]) runs a
//! closure on a short-lived thread that has entered the namespace, and a socket made there
//! stays in it for good, whichever thread uses it later. That is how
//! [`super::MockServer::start_in`] listens on the namespace's own `127.0.0.1`, where a binary
//! run with [`TestEnv::run_in`] finds it.

use std::fs::File;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::{exec_read_lock, Outcome, Running, TestEnv, CLEAN_PATH, WAIT_TIMEOUT};

/// When set (to anything), a namespace that cannot be created fails the test instead of
/// skipping it.
pub const REQUIRE_ENV: &str = "DYNHOST_REQUIRE_NETNS";

/// Where `ip netns add` leaves a handle on each namespace (`NETNS_RUN_DIR`): `/run/netns`, or
/// `/var/run/netns` where `/var/run` is not a link to `/run`.
const RUN_DIRS: [&str; 2] = ["/run/netns", "/var/run/netns"];

/// `dad_transmits` used by [`Netns::add_tentative`]: at one probe per second, far longer than
/// any test.
pub const TENTATIVE_DAD_TRANSMITS: u32 = 1000;

/// A network namespace of its own, deleted on drop.
pub struct Netns {
    name: String,
    /// Absolute path of `ip`, found on [`CLEAN_PATH`].
    ip: PathBuf,
}

impl Netns {
    /// A fresh namespace with `lo` up and IPv6 enabled; `None` (after printing
    /// `skipped: <reason>` on stderr) when this machine cannot make one. See [`REQUIRE_ENV`].
    pub fn create() -> Option<Netns> {
        match Netns::try_create() {
            Ok(ns) => Some(ns),
            Err(reason) => {
                let test = thread::current().name().unwrap_or("?").to_string();
                if std::env::var_os(REQUIRE_ENV).is_some() {
                    panic!("{test}: {reason} (and {REQUIRE_ENV} is set)");
                }
                // Straight to the process's stderr, not through the test's captured output: a
                // skipped test must be visible in a plain `cargo test` run.
                let _ = writeln!(std::io::stderr(), "skipped: {reason} ({test})");
                None
            }
        }
    }

    fn try_create() -> Result<Netns, String> {
        let ip = find_program("ip").ok_or_else(|| format!("`ip` not found in {CLEAN_PATH}"))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root (network namespaces need CAP_SYS_ADMIN)".into());
        }
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "dynhost-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let out = run(&ip, &["netns", "add", &name]);
        if !out.status.success() {
            return Err(format!(
                "cannot create network namespaces: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        // From here on, drop deletes it.
        let ns = Netns { name, ip };
        ns.ip(&["link", "set", "lo", "up"]);
        if !ns
            .exec(&["test", "-d", "/proc/sys/net/ipv6"])
            .status
            .success()
        {
            return Err("IPv6 is disabled in this kernel (no /proc/sys/net/ipv6)".into());
        }
        // Finding (a): already 0 in a fresh namespace unless the host's settings are inherited.
        ns.sysctl("net.ipv6.conf.all.disable_ipv6", "0");
        ns.sysctl("net.ipv6.conf.default.disable_ipv6", "0");
        Ok(ns)
    }

    /// `dynhost-<pid>-<n>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens the namespace's handle (`/run/netns/NAME`), for [`in_namespace`]. While the file
    /// is open the namespace lives on, also after drop has run `ip netns del`.
    #[track_caller]
    pub fn open(&self) -> File {
        RUN_DIRS
            .iter()
            .find_map(|dir| File::open(Path::new(dir).join(&self.name)).ok())
            .unwrap_or_else(|| panic!("no handle on {} in {RUN_DIRS:?}", self.name))
    }

    /// Runs `f` inside the namespace (see [`in_namespace`]) and returns what it returns.
    #[track_caller]
    pub fn within<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        in_namespace(&self.open(), f)
            .unwrap_or_else(|e| panic!("cannot enter network namespace {}: {e}", self.name))
    }

    /// The command that runs a program inside: `[/path/to/ip, netns, exec, NAME]`. `ip netns
    /// exec` passes the environment on unchanged and execs the program in place.
    pub fn wrapper(&self) -> Vec<String> {
        vec![
            self.ip.to_string_lossy().into_owned(),
            "netns".into(),
            "exec".into(),
            self.name.clone(),
        ]
    }

    /// Whether a namespace of this name exists (`ip netns list`).
    pub fn exists(name: &str) -> bool {
        let Some(ip) = find_program("ip") else {
            return false;
        };
        let out = run(&ip, &["netns", "list"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|line| line.split_whitespace().next() == Some(name))
    }

    /// `ip -n NAME <args>`, without judging the result.
    pub fn try_ip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run(&self.ip, &full)
    }

    /// `ip -n NAME <args>`; its stdout. Panics with the command and its stderr on failure.
    #[track_caller]
    pub fn ip(&self, args: &[&str]) -> String {
        succeeded(
            self.try_ip(args),
            &format!("ip -n {} {}", self.name, args.join(" ")),
        )
    }

    /// Runs `argv` inside the namespace (`ip netns exec NAME argv...`) with the clean
    /// environment (only `PATH` = [`CLEAN_PATH`]), without judging the result.
    pub fn exec(&self, argv: &[&str]) -> Output {
        let mut full = vec!["netns", "exec", self.name.as_str()];
        full.extend_from_slice(argv);
        run(&self.ip, &full)
    }

    /// [`Netns::exec`]; its stdout. Panics with the command and its stderr on failure.
    #[track_caller]
    pub fn exec_ok(&self, argv: &[&str]) -> String {
        succeeded(
            self.exec(argv),
            &format!("ip netns exec {} {}", self.name, argv.join(" ")),
        )
    }

    /// A veth pair with both ends inside, both up (and `lo` up): `dev` has carrier.
    #[track_caller]
    pub fn veth(&self, dev: &str, peer: &str) {
        self.ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
        self.ip(&["link", "set", "lo", "up"]);
        self.ip(&["link", "set", peer, "up"]);
        self.ip(&["link", "set", dev, "up"]);
    }

    /// A veth pair whose `peer` end stays down: `dev` is up but `NO-CARRIER`, so its IPv6
    /// addresses stay `tentative` (finding (b)) until `ip link set <peer> up`.
    #[track_caller]
    pub fn veth_no_carrier(&self, dev: &str, peer: &str) {
        self.ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
        self.ip(&["link", "set", "lo", "up"]);
        self.ip(&["link", "set", dev, "up"]);
    }

    /// Sets a sysctl inside the namespace by writing its `/proc/sys` file (which shows the
    /// writer's namespace). `key` as `net.ipv6.conf.wan0.use_tempaddr`, or with slashes
    /// (`net/ipv6/conf/wan0.100/use_tempaddr`) when a device name holds a dot.
    #[track_caller]
    pub fn sysctl(&self, key: &str, value: &str) {
        let path = sysctl_path(key);
        self.exec_ok(&[
            "sh",
            "-c",
            "printf '%s\\n' \"$1\" > \"$2\"",
            "sh",
            value,
            &path,
        ]);
    }

    /// Reads a sysctl inside the namespace (trimmed). Panics when it does not exist.
    #[track_caller]
    pub fn sysctl_get(&self, key: &str) -> String {
        self.exec_ok(&["cat", &sysctl_path(key)]).trim().to_string()
    }

    /// The addresses of `dev`, as `ip -o addr show dev <dev>` lists them.
    #[track_caller]
    pub fn addresses(&self, dev: &str) -> Vec<Addr> {
        parse_addresses(&self.ip(&["-o", "addr", "show", "dev", dev]))
    }

    /// The address `address` (without prefix length) on `dev`, if any.
    #[track_caller]
    pub fn address(&self, dev: &str, address: &str) -> Option<Addr> {
        let wanted: IpAddr = address
            .parse()
            .unwrap_or_else(|e| panic!("not an address: {address:?}: {e}"));
        self.addresses(dev)
            .into_iter()
            .find(|a| a.address == wanted)
    }

    /// Adds the IPv6 `cidr` (e.g. `2001:db8:5::10/64`) to `dev` so that it stays `tentative`
    /// (finding (b)): sets `accept_dad = 1` and `dad_transmits` = [`TENTATIVE_DAD_TRANSMITS`] on
    /// `dev` first. Later addresses added to `dev` without `nodad` stay tentative too.
    #[track_caller]
    pub fn add_tentative(&self, dev: &str, cidr: &str) -> Addr {
        self.sysctl(&format!("net.ipv6.conf.{dev}.accept_dad"), "1");
        self.sysctl(
            &format!("net.ipv6.conf.{dev}.dad_transmits"),
            &TENTATIVE_DAD_TRANSMITS.to_string(),
        );
        self.ip(&["addr", "add", cidr, "dev", dev]);
        let (address, _) = split_cidr(cidr);
        let addr = self
            .address(dev, &address.to_string())
            .unwrap_or_else(|| panic!("{cidr} not on {dev}:\n{}", self.show(dev)));
        assert!(
            addr.has("tentative"),
            "{cidr} should be tentative:\n{}",
            self.show(dev)
        );
        addr
    }

    /// Adds the IPv6 `cidr` (e.g. `2001:db8:1::1/64`) to `dev` with `mngtmpaddr nodad` after
    /// setting `use_tempaddr = 2` and `accept_dad = 0` on `dev`, and returns the `temporary`
    /// address the kernel made in that prefix, once it is no longer tentative (finding (c)).
    /// Later addresses added to `dev` skip DAD (until [`Netns::add_tentative`]).
    #[track_caller]
    pub fn add_temporary(&self, dev: &str, cidr: &str) -> Addr {
        self.sysctl(&format!("net.ipv6.conf.{dev}.use_tempaddr"), "2");
        self.sysctl(&format!("net.ipv6.conf.{dev}.accept_dad"), "0");
        self.ip(&["addr", "add", cidr, "dev", dev, "mngtmpaddr", "nodad"]);
        let (base, prefix_len) = split_cidr(cidr);
        let IpAddr::V6(base) = base else {
            panic!("temporary addresses are IPv6 only: {cidr}");
        };
        let in_prefix = |a: &Addr| match a.address {
            IpAddr::V6(v6) => same_prefix(v6, base, prefix_len),
            IpAddr::V4(_) => false,
        };
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let found = self
                .addresses(dev)
                .into_iter()
                .find(|a| a.has("temporary") && !a.has("tentative") && in_prefix(a));
            if let Some(addr) = found {
                return addr;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no usable temporary address in {cidr} after {WAIT_TIMEOUT:?}:\n{}",
                    self.show(dev)
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `ip route add default [via <via>] dev <dev>` (finding (d)): with a gateway, `dev` must be
    /// up and hold an address in the gateway's subnet.
    #[track_caller]
    pub fn default_route4(&self, dev: &str, via: Option<&str>) {
        self.default_route("-4", dev, via);
    }

    /// `ip -6 route add default [via <via>] dev <dev>` (finding (d)): with a gateway, `dev` must
    /// be up and hold an address (tentative or not) whose prefix covers the gateway, or the
    /// gateway must be link-local.
    #[track_caller]
    pub fn default_route6(&self, dev: &str, via: Option<&str>) {
        self.default_route("-6", dev, via);
    }

    #[track_caller]
    fn default_route(&self, family: &str, dev: &str, via: Option<&str>) {
        let mut args = vec![family, "route", "add", "default"];
        if let Some(via) = via {
            args.extend_from_slice(&["via", via]);
        }
        args.extend_from_slice(&["dev", dev]);
        self.ip(&args);
    }

    /// `ip -n NAME addr add <spec...> dev <dev>`, the words of `spec` split on white space
    /// (e.g. `"2001:db8::1/64 nodad preferred_lft 0"`).
    #[track_caller]
    pub fn add_address(&self, dev: &str, spec: &str) {
        let mut args = vec!["addr", "add"];
        args.extend(spec.split_whitespace());
        args.extend(["dev", dev]);
        self.ip(&args);
    }

    /// `ip -n NAME addr show dev <dev>`, for assertion messages (never panics).
    pub fn show(&self, dev: &str) -> String {
        let out = self.try_ip(&["addr", "show", "dev", dev]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// Runs `f` on a short-lived thread that has first entered the network namespace `ns` (a
/// handle from [`Netns::open`]), and returns what `f` returned. Sockets that `f` makes belong
/// to that namespace for their whole life, whichever thread then uses them; the calling thread
/// never leaves its own namespace. An error only when the thread cannot enter; a panic in `f`
/// is passed on.
pub fn in_namespace<T: Send>(ns: &File, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    thread::scope(|scope| {
        let inside = thread::Builder::new()
            .name("netns-enter".into())
            .spawn_scoped(scope, || {
                // SAFETY: `ns` is an open file for the whole call (borrowed for the scope);
                // setns only reads the descriptor and changes nothing but this thread's network
                // namespace, and this thread ends when `f` returns.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(f())
            })?;
        inside
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The stdout of `out`; panics naming `command` and quoting its stderr when it failed.
#[track_caller]
fn succeeded(out: Output, command: &str) -> String {
    if !out.status.success() {
        panic!(
            "`{command}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = run(&self.ip, &["netns", "del", &self.name]);
        if !out.status.success() {
            // No panic in drop (it may run while unwinding): say it loudly instead.
            let _ = writeln!(
                std::io::stderr(),
                "warning: `ip netns del {}` failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
}

impl TestEnv {
    /// Writes `config`, then runs `dynhost -c <config> -s <state> <args...>` inside `ns`
    /// (`ip netns exec NAME`), with this env's PATH additions and the same clean environment.
    pub fn run_in(&self, ns: &Netns, config: &str, args: &[&str]) -> Outcome {
        self.spawn_in(ns, config, args).wait()
    }

    /// Like [`TestEnv::run_in`], without waiting.
    pub fn spawn_in(&self, ns: &Netns, config: &str, args: &[&str]) -> Running {
        let mut launch = self.launch();
        launch.wrapper = ns.wrapper();
        self.spawn_with(&launch, config, args)
    }
}

/// One address line of `ip -o addr show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub dev: String,
    pub address: IpAddr,
    /// For a point-to-point address, the prefix length given with the peer.
    pub prefix_len: u8,
    /// The other end of a point-to-point address.
    pub peer: Option<IpAddr>,
    /// `global`, `link`, `host`, ...
    pub scope: String,
    /// Bare words such as `tentative`, `deprecated`, `temporary`, `dynamic`, `nodad`,
    /// `mngtmpaddr`, `dadfailed`, `secondary`, `noprefixroute`.
    pub flags: Vec<String>,
    /// IPv4 only: the label (the device name, or `dev:alias`).
    pub label: Option<String>,
    /// Seconds; `None` for `forever`.
    pub valid_lft: Option<u64>,
    pub preferred_lft: Option<u64>,
}

impl Addr {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    pub fn is_ipv6(&self) -> bool {
        self.address.is_ipv6()
    }
}

/// Parses the output of `ip -o addr show` (lines of other kinds are ignored).
pub fn parse_addresses(text: &str) -> Vec<Addr> {
    text.lines().filter_map(parse_address_line).collect()
}

fn parse_address_line(line: &str) -> Option<Addr> {
    // `3: wan0    inet6 2001:db8::10/64 scope global nodad \       valid_lft forever ...`
    let line = line.replace('\\', " ");
    let mut words = line.split_whitespace();
    let _index = words.next()?;
    let dev = words.next()?.to_string();
    let family = words.next()?;
    if family != "inet" && family != "inet6" {
        return None;
    }
    let local = words.next()?;
    let (address, mut prefix_len) = match local.split_once('/') {
        Some((a, len)) => (a.parse().ok()?, len.parse().ok()?),
        None => {
            let a: IpAddr = local.parse().ok()?;
            (a, if a.is_ipv6() { 128 } else { 32 })
        }
    };
    let mut addr = Addr {
        dev,
        address,
        prefix_len,
        peer: None,
        scope: String::new(),
        flags: Vec::new(),
        label: None,
        valid_lft: None,
        preferred_lft: None,
    };
    let lifetime = |w: Option<&str>| w.and_then(|w| w.strip_suffix("sec")?.parse().ok());
    while let Some(word) = words.next() {
        match word {
            "peer" => {
                let peer = words.next()?;
                let (p, len) = match peer.split_once('/') {
                    Some((p, len)) => (p, len.parse().ok()?),
                    None => (peer, prefix_len),
                };
                addr.peer = Some(p.parse().ok()?);
                prefix_len = len;
            }
            "scope" => addr.scope = words.next()?.to_string(),
            "valid_lft" => addr.valid_lft = lifetime(words.next()),
            "preferred_lft" => addr.preferred_lft = lifetime(words.next()),
            "brd" | "any" | "metric" | "proto" => {
                words.next();
            }
            w if family == "inet"
                && (w == addr.dev || w.starts_with(&format!("{}:", addr.dev))) =>
            {
                addr.label = Some(w.to_string())
            }
            flag => addr.flags.push(flag.to_string()),
        }
    }
    addr.prefix_len = prefix_len;
    Some(addr)
}

fn split_cidr(cidr: &str) -> (IpAddr, u8) {
    let (address, len) = cidr.split_once('/').unwrap_or((cidr, "128"));
    let address: IpAddr = address
        .parse()
        .unwrap_or_else(|e| panic!("not an address: {cidr:?}: {e}"));
    let len = len
        .parse()
        .unwrap_or_else(|e| panic!("bad prefix length: {cidr:?}: {e}"));
    (address, len)
}

fn same_prefix(a: Ipv6Addr, b: Ipv6Addr, len: u8) -> bool {
    let len = u32::from(len.min(128));
    if len == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - len);
    (u128::from(a) & mask) == (u128::from(b) & mask)
}

fn sysctl_path(key: &str) -> String {
    let relative = if key.contains('/') {
        key.trim_start_matches('/').to_string()
    } else {
        key.replace('.', "/")
    };
    format!("/proc/sys/{relative}")
}

/// The first executable `name` on [`CLEAN_PATH`].
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    CLEAN_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Runs `program args` with the clean environment, under the spawn lock (see `EXEC_LOCK`).
fn run(program: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", CLEAN_PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = {
        let _guard = exec_read_lock();
        command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()))
    };
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {}: {e}", program.display()))
}
