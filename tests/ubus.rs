//! The `ubus` source through a stand-in `ubus` first on PATH, which prints the shared netifd
//! fixtures (`tests/fixtures/ubus/`) and exits with a chosen status, and records its arguments.

mod common;

use serde_json::Value;

use common::*;

const PPPOE_IPV4: &str = include_str!("fixtures/ubus/wan-pppoe-ipv4-up.json");
const DHCPV6_PD: &str = include_str!("fixtures/ubus/wan6-dhcpv6-pd-up.json");
const PD_ONLY: &str = include_str!("fixtures/ubus/wan_6-pppoe-dynamic-pd-only.json");
const DOWN: &str = include_str!("fixtures/ubus/wan-down-ifdown.json");
const AUTH_FAILED: &str = include_str!("fixtures/ubus/wan-pppoe-auth-failed.json");
const DUMP: &str = include_str!("fixtures/ubus/network-interface-dump.json");

/// The outputs of OpenWrt's real netifd, unedited (tests/fixtures/ubus/netifd-real/README.md).
mod real {
    pub const WAN6_LAN_AND_GUEST: &str =
        include_str!("fixtures/ubus/netifd-real/wan6-pd-lan-and-guest.json");
    pub const DUMP_GUEST_IPV6_OFF: &str =
        include_str!("fixtures/ubus/netifd-real/dump-guest-ipv6-off-empty-local-address.json");
}

fn ubus_record(env: &TestEnv, server: &MockServer, family: &str, interface: &str) -> Section {
    env.record("home", server)
        .remove("script")
        .set("source", "ubus")
        .set("family", family)
        .set("interface", interface)
}

fn check(env: &TestEnv, record: Section) -> Value {
    let out = env.run(&env.config(&[record]), &["check", "-j"]);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("check -j printed no JSON ({e}):\n{out}"));
    report["records"][0].clone()
}

#[test]
fn pppoe_publishes_our_address_never_the_peer() {
    let env = TestEnv::new();
    let ubus = FakeUbus::new(&env).interface("wan", PPPOE_IPV4, 0);
    let server = MockServer::good();
    let config = env.config(&[ubus_record(&env, &server, "ipv4", "wan")]);

    env.run(&config, &["update"]).assert_code(0);
    assert_eq!(server.last_myip().as_deref(), Some("203.0.113.45"));
    assert_eq!(ubus.calls(), vec![FakeUbus::status_args("wan")]);
}

#[test]
fn dhcpv6_publishes_the_address_with_the_longest_preferred_lifetime() {
    let env = TestEnv::new();
    FakeUbus::new(&env).interface("wan6", DHCPV6_PD, 0);
    let server = MockServer::good();

    let report = check(&env, ubus_record(&env, &server, "ipv6", "wan6"));
    assert_eq!(
        report["address"], "2001:db8:0:ff00:a00:27ff:fe12:3456",
        "{report:#}"
    );
    let candidates = report["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2, "{report:#}");
    assert_eq!(candidates[0]["address"], "2001:db8:0:ff00::1a2b");
    assert_eq!(candidates[0]["verdict"], "passed-over");
    assert_eq!(candidates[0]["preferred"], 1795);
    assert_eq!(candidates[1]["preferred"], 14395);
    assert_eq!(candidates[1]["valid"], 86395);
}

#[test]
fn a_prefix_only_interface_publishes_the_routers_address_in_the_delegated_prefix() {
    let env = TestEnv::new();
    // The dump's lan holds a share of wan6's prefix; give wan_6 that same prefix.
    let pd_only = PD_ONLY.replace("2001:db8:abcd:1200::", "2001:db8:1200::");
    let ubus = FakeUbus::new(&env)
        .interface("wan_6", &pd_only, 0)
        .dump(DUMP);
    let server = MockServer::good();
    let config = env.config(&[ubus_record(&env, &server, "ipv6", "wan_6")]);

    env.run(&config, &["update"]).assert_code(0);
    assert_eq!(server.last_myip().as_deref(), Some("2001:db8:1200::1"));
    let dump_call: Vec<String> = ["-S", "call", "network.interface", "dump"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        ubus.calls(),
        vec![FakeUbus::status_args("wan_6"), dump_call]
    );
}

#[test]
fn a_suffix_publishes_the_lan_host_in_the_current_prefix() {
    let env = TestEnv::new();
    let ubus = FakeUbus::new(&env).interface("wan6", DHCPV6_PD, 0);
    let server = MockServer::good();
    let record = ubus_record(&env, &server, "ipv6", "wan6").set("ipv6_suffix", "::1:2:3:4");
    let config = env.config(&[record]);

    env.run(&config, &["update"]).assert_code(0);
    assert_eq!(
        server.last_myip().as_deref(),
        Some("2001:db8:1200:0:1:2:3:4")
    );

    // The ISP hands out a new prefix: the host's address follows it.
    ubus.set_interface(
        "wan6",
        &DHCPV6_PD.replace("2001:db8:1200::", "2001:db8:3400::"),
        0,
    );
    env.run(&config, &["update"]).assert_code(0);
    assert_eq!(server.request_count(), 2);
    assert_eq!(
        server.last_myip().as_deref(),
        Some("2001:db8:3400:0:1:2:3:4")
    );
}

/// Runs `update` for one `family` record on `interface`, with the stand-in `ubus` set up by
/// `answer` (or none at all), and asserts that it failed naming every one of `expected` and
/// sent nothing.
#[track_caller]
fn assert_update_fails(
    family: &str,
    interface: &str,
    answer: Option<fn(FakeUbus) -> FakeUbus>,
    expected: &[&str],
) -> Outcome {
    let env = TestEnv::new();
    if let Some(answer) = answer {
        answer(FakeUbus::new(&env));
    }
    let server = MockServer::good();
    let config = env.config(&[ubus_record(&env, &server, family, interface)]);
    let out = env.run(&config, &["update"]);
    out.assert_failed_without_sending(&server, expected);
    out
}

#[test]
fn a_missing_interface_is_named_and_nothing_is_sent() {
    let answer = |ubus: FakeUbus| ubus.missing("wan_6");
    let expected = ["interface 'wan_6' does not exist"];
    assert_update_fails("ipv6", "wan_6", Some(answer), &expected);
}

#[test]
fn an_unreachable_ubusd_is_reported_with_its_status() {
    assert_update_fails("ipv4", "wan", Some(FakeUbus::down), &["cannot reach ubusd"]);
}

#[test]
fn other_exit_statuses_are_reported_with_the_status() {
    let answer = |ubus: FakeUbus| ubus.interface("wan", PPPOE_IPV4, 7);
    assert_update_fails("ipv4", "wan", Some(answer), &["exit status 7"]);
}

#[test]
fn a_down_interface_is_reported_and_nothing_is_sent() {
    let down = |ubus: FakeUbus| ubus.interface("wan", DOWN, 0);
    assert_update_fails("ipv4", "wan", Some(down), &["interface 'wan'", "is down"]);
    let auth_failed = |ubus: FakeUbus| ubus.interface("wan", AUTH_FAILED, 0);
    assert_update_fails(
        "ipv4",
        "wan",
        Some(auth_failed),
        &["interface 'wan'", "AUTH_FAILED"],
    );
}

#[test]
fn malformed_output_is_a_one_line_error() {
    let answer = |ubus: FakeUbus| {
        ubus.interface(
            "wan",
            "{\"up\": true, \"ipv4-address\": [{\"address\": 5",
            0,
        )
    };
    let out = assert_update_fails(
        "ipv4",
        "wan",
        Some(answer),
        &["network.interface.wan status"],
    );
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
}

#[test]
fn without_ubus_on_path_the_source_says_what_to_use_instead() {
    assert_update_fails("ipv4", "wan", None, &["ubus", "netlink"]);
}

/// Two LANs with a share each, guest's at offset 0: the suffix lands in lan's /64 (the default
/// `prefix_interface`), or in guest's when told; a `prefix_interface` without a share is named
/// with the interfaces that have one.
#[test]
fn a_suffix_lands_in_the_prefix_interfaces_share_on_the_real_netifd() {
    let env = TestEnv::new();
    FakeUbus::new(&env).interface("wan6", real::WAN6_LAN_AND_GUEST, 0);
    let server = MockServer::good();
    let record = |lan: Option<&str>| {
        let record = ubus_record(&env, &server, "ipv6", "wan6").set("ipv6_suffix", "::1:2:3:4");
        match lan {
            Some(lan) => record.set("prefix_interface", lan),
            None => record,
        }
    };

    let report = check(&env, record(None));
    assert_eq!(report["address"], "2001:db8:1200:1:1:2:3:4", "{report:#}");
    let candidates = report["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{report:#}");
    assert_eq!(
        candidates[0]["origin"],
        "prefix 2001:db8:1200:1::/64 (lan's share of wan6's delegated prefix 2001:db8:1200::/56) \
         with the suffix"
    );
    assert_eq!(candidates[0]["reason"], "the only address fit to publish");

    env.run(&env.config(&[record(Some("guest"))]), &["update"])
        .assert_code(0);
    assert_eq!(
        server.last_myip().as_deref(),
        Some("2001:db8:1200:0:1:2:3:4")
    );

    let out = env.run(&env.config(&[record(Some("iot"))]), &["update"]);
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    for words in [
        "interface 'iot' (option prefix_interface) has no share",
        "the interfaces that have one: guest, lan",
    ] {
        assert!(out.mentions(words), "{words:?}:\n{out}");
    }
    assert_eq!(server.request_count(), 1, "{out}");
}

/// netifd keeps guest's share with an empty `local-address` while guest's device has IPv6 off:
/// the prefix-only wan6 still publishes lan's address.
#[test]
fn an_empty_local_address_leaves_the_rest_of_the_real_dump_usable() {
    let env = TestEnv::new();
    let wan6 = dumped_status(real::DUMP_GUEST_IPV6_OFF, "wan6");
    let ubus = FakeUbus::new(&env)
        .interface("wan6", &wan6, 0)
        .dump(real::DUMP_GUEST_IPV6_OFF);
    let server = MockServer::good();
    let config = env.config(&[ubus_record(&env, &server, "ipv6", "wan6")]);

    env.run(&config, &["update"]).assert_code(0);
    assert_eq!(server.last_myip().as_deref(), Some("2001:db8:1200:1::1"));
    assert_eq!(ubus.calls().len(), 2);
}

/// Two delegated prefixes with equal lifetimes, each with a share for lan: check tells the tie
/// as a tie.
#[test]
fn check_tells_a_tie_as_a_tie() {
    let env = TestEnv::new();
    let mut wan6: Value = serde_json::from_str(real::WAN6_LAN_AND_GUEST).unwrap();
    let mut second = wan6["ipv6-prefix"][0].clone();
    second["address"] = "2001:db8:3400::".into();
    second["assigned"] = serde_json::json!({"lan": {"address": "2001:db8:3400::", "mask": 64}});
    wan6["ipv6-prefix"].as_array_mut().unwrap().push(second);
    FakeUbus::new(&env).interface("wan6", &wan6.to_string(), 0);
    let server = MockServer::good();
    let record = ubus_record(&env, &server, "ipv6", "wan6").set("ipv6_suffix", "::1:2:3:4");

    let out = env.run(&env.config(&[record]), &["check"]);
    out.assert_code(0);
    for line in [
        "chosen 2001:db8:1200:1:1:2:3:4/128 from prefix 2001:db8:1200:1::/64 (lan's share of \
         wan6's delegated prefix 2001:db8:1200::/56) with the suffix, preferred 1797 s, valid \
         3597 s: a tie of 2 addresses with the same lifetimes (preferred 1797 s, valid 3597 s): \
         the first listed wins",
        "passed-over 2001:db8:3400:0:1:2:3:4/128 from prefix 2001:db8:3400::/64",
        ": tied with another fit address with the same lifetimes, which is listed first",
    ] {
        assert!(out.stdout.contains(line), "{line:?}:\n{out}");
    }
    assert!(!out.stdout.contains("longer preferred lifetime"), "{out}");
}
