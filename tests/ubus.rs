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
