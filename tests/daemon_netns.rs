//! `dynhost run` against a real kernel: addresses change on a veth device inside a network
//! namespace made for each test, the daemon runs inside it (netlink source) and the DynHost
//! stand-in listens on the namespace's own loopback. Skips, saying why, without root.

mod common;

use std::time::{Duration, Instant};

use common::*;

const DEV: &str = "wan0";

/// A namespace with `wan0`, the DynHost stand-in inside it, and a daemon watching `wan0` for
/// `family`, with no periodic check during the test: every update comes from an event.
struct World {
    ns: Netns,
    /// Holds the daemon's config and state dir until the test ends.
    _env: TestEnv,
    server: MockServer,
    daemon: Option<Running>,
}

impl World {
    fn start(family: &str) -> Option<World> {
        World::start_with(family, echo_good)
    }

    /// With a DynHost stand-in answering with `responder`.
    fn start_with(
        family: &str,
        responder: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> Option<World> {
        let ns = Netns::create()?;
        ns.veth(DEV, "peer0");
        let env = TestEnv::new();
        let server = MockServer::start_in(&ns, ServerCert::Trusted, responder);
        let record = env
            .record("home", &server)
            .remove("script")
            .set("source", "netlink")
            .set("device", DEV)
            .set("family", family);
        let config = render_config(&[env.global().set("check_interval", "3600"), record]);
        let daemon = env.spawn_in(&ns, &config, &["run"]);
        // No need to wait for the daemon: it subscribes to address changes before its first
        // pass, so a change made from now on is either seen by that pass or announced.
        Some(World {
            ns,
            _env: env,
            server,
            daemon: Some(daemon),
        })
    }

    /// Moves the device from address `old` to `new` (both `address/length`).
    fn replace(&self, old: &str, new: &str) {
        self.remove(old);
        self.ns.add_address(DEV, new);
    }

    fn remove(&self, cidr: &str) {
        self.ns.ip(&["addr", "del", cidr, "dev", DEV]);
    }

    /// Adds `spec` to the device and waits for the `n`th request.
    #[track_caller]
    fn add_and_wait_for_update(&mut self, spec: &str, n: usize) {
        let added = Instant::now();
        self.ns.add_address(DEV, spec);
        self.wait_for_update(n, added);
    }

    /// Waits for the `n`th request and says how long it took from `since` (a figure for the
    /// reader, not a test: timing goals are measured, not asserted).
    #[track_caller]
    fn wait_for_update(&mut self, n: usize, since: Instant) {
        if !self.server.wait_for_requests(n) {
            panic!(
                "no update number {n}\n{}{}",
                self.server.describe(),
                self.stop()
            );
        }
        eprintln!("update {n} sent {:?} after the change", since.elapsed());
    }

    fn myips(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .filter_map(|request| request.query_value("myip"))
            .collect()
    }

    /// Lets any stray update arrive, then stops the daemon.
    fn settle_and_stop(&mut self) -> Outcome {
        std::thread::sleep(Duration::from_secs(4));
        self.stop()
    }

    fn stop(&mut self) -> Outcome {
        let daemon = self.daemon.take().expect("running");
        daemon.signal("TERM");
        let out = daemon.wait();
        out.assert_code(0);
        out
    }
}

#[test]
fn an_added_address_is_published_once() {
    let Some(mut world) = World::start("ipv4") else {
        return;
    };
    world.add_and_wait_for_update("192.0.2.10/24", 1);
    let out = world.settle_and_stop();
    assert_eq!(world.myips(), ["192.0.2.10"], "{out}");
}

#[test]
fn a_replaced_address_is_published_once_and_a_removed_one_not_at_all() {
    let Some(mut world) = World::start("ipv4") else {
        return;
    };
    world.add_and_wait_for_update("192.0.2.10/24", 1);

    let replaced = Instant::now();
    world.replace("192.0.2.10/24", "198.51.100.20/24");
    world.wait_for_update(2, replaced);

    // DynHost cannot remove a record: with no address left, nothing is sent.
    world.remove("198.51.100.20/24");
    let out = world.settle_and_stop();
    assert_eq!(world.myips(), ["192.0.2.10", "198.51.100.20"], "{out}");
}

#[test]
fn an_address_flapping_twenty_times_in_two_seconds_gives_one_update_for_the_final_state() {
    let Some(mut world) = World::start("ipv4") else {
        return;
    };
    world.add_and_wait_for_update("192.0.2.10/24", 1);

    // Twenty times over and back, paced to fit two seconds, ending on the new address.
    let start = Instant::now();
    for flap in 0..20u32 {
        world.replace("192.0.2.10/24", "198.51.100.20/24");
        world.replace("198.51.100.20/24", "192.0.2.10/24");
        let next = start + Duration::from_millis(95) * (flap + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    world.replace("192.0.2.10/24", "198.51.100.20/24");
    eprintln!("flapping took {:?}", start.elapsed());
    world.wait_for_update(2, start);
    let out = world.settle_and_stop();
    assert_eq!(world.myips(), ["192.0.2.10", "198.51.100.20"], "{out}");
}

#[test]
fn a_new_ipv6_address_is_published_once_duplicate_address_detection_ends() {
    let Some(mut world) = World::start("ipv6") else {
        return;
    };
    // Without nodad: tentative for a moment, then usable; only the usable one is sent.
    world.add_and_wait_for_update("2001:db8:1::10/64", 1);
    let out = world.settle_and_stop();
    assert_eq!(world.myips(), ["2001:db8:1::10"], "{out}");
}

#[test]
fn an_address_change_ends_the_wait_after_a_failure() {
    let responder = first_then(1, Reply::new(500, "busy"), echo_good);
    let Some(mut world) = World::start_with("ipv4", responder) else {
        return;
    };
    // The first update fails: the retry would wait a minute...
    world.add_and_wait_for_update("192.0.2.10/24", 1);
    // ...but a new address is sent as soon as it settles.
    let replaced = Instant::now();
    world.replace("192.0.2.10/24", "198.51.100.20/24");
    world.wait_for_update(2, replaced);
    let out = world.settle_and_stop();
    assert_eq!(world.myips(), ["192.0.2.10", "198.51.100.20"], "{out}");
    assert!(out.mentions("updated to 198.51.100.20"), "{out}");
}
