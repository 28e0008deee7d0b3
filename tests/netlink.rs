//! The `netlink` source against a real kernel: addresses added with `ip addr` in a network
//! namespace made for each test, read by the real binary running inside it (`check -j` shows
//! every candidate and its verdict). Skips, saying why, without root or namespaces.

mod common;

use serde_json::Value;

use common::*;

const DEV: &str = "wan0";

/// A namespace with `wan0` (its peer up, so DAD runs) and an env whose record reads `wan0`.
fn setup() -> Option<(Netns, TestEnv)> {
    let ns = Netns::create()?;
    ns.veth(DEV, "peer0");
    Some((ns, TestEnv::new()))
}

/// A record with the netlink source; `device` `None` leaves the default.
fn netlink_record(
    env: &TestEnv,
    family: &str,
    device: Option<&str>,
    server: &MockServer,
) -> Section {
    let record = env
        .record("home", server)
        .remove("script")
        .set("source", "netlink")
        .set("family", family);
    match device {
        Some(device) => record.set("device", device),
        None => record,
    }
}

/// Runs `check -j` inside `ns` and returns the one record's report.
fn check(env: &TestEnv, ns: &Netns, record: Section) -> Value {
    let out = env.run_in(ns, &env.config(&[record]), &["check", "-j"]);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("check -j printed no JSON ({e}):\n{out}"));
    report["records"][0].clone()
}

/// The verdict and reason given for `address`, panicking when it is not a candidate.
#[track_caller]
fn verdict(report: &Value, address: &str) -> (String, String) {
    let candidate = report["candidates"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["address"] == address))
        .unwrap_or_else(|| panic!("{address} is not a candidate:\n{report:#}"));
    (
        candidate["verdict"].as_str().unwrap().to_string(),
        candidate["reason"].as_str().unwrap().to_string(),
    )
}

/// Runs `update` inside `ns` for a `family` record reading `device`, and asserts that it
/// failed naming every one of `expected` and sent nothing.
#[track_caller]
fn assert_update_fails(ns: &Netns, env: &TestEnv, family: &str, device: &str, expected: &[&str]) {
    let server = MockServer::good();
    let config = env.config(&[netlink_record(env, family, Some(device), &server)]);
    env.run_in(ns, &config, &["update"])
        .assert_failed_without_sending(&server, expected);
}

#[track_caller]
fn assert_rejected(report: &Value, address: &str, reason: &str) {
    let (verdict, why) = verdict(report, address);
    assert_eq!(verdict, "rejected", "{address}:\n{report:#}");
    assert!(why.contains(reason), "{address}: {why:?} lacks {reason:?}");
}

#[test]
fn ipv4_public_address_is_chosen_and_private_ones_rejected() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(DEV, "10.0.0.5/8");
    ns.add_address(DEV, "192.0.2.10/24");
    ns.add_address(DEV, "100.64.1.2/10");
    let server = MockServer::good();

    let report = check(&env, &ns, netlink_record(&env, "ipv4", Some(DEV), &server));
    assert_eq!(report["address"], "192.0.2.10", "{report:#}");
    assert_eq!(report["action"], "send");
    assert_eq!(verdict(&report, "192.0.2.10").0, "chosen");
    assert_rejected(&report, "10.0.0.5", "private");
    assert_rejected(&report, "100.64.1.2", "carrier-grade NAT");
    let prefix_len = report["candidates"][1]["prefix_len"].clone();
    assert_eq!(prefix_len, 24, "{report:#}");
}

#[test]
fn point_to_point_gives_our_address_never_the_peer() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(DEV, "203.0.113.5 peer 198.51.100.1");
    let server = MockServer::good();

    let report = check(&env, &ns, netlink_record(&env, "ipv4", Some(DEV), &server));
    assert_eq!(report["address"], "203.0.113.5", "{report:#}");
    assert!(
        !report.to_string().contains("198.51.100.1"),
        "the peer became a candidate:\n{report:#}"
    );
}

#[test]
fn only_private_ipv4_names_the_web_source() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(DEV, "192.168.1.2/24");
    let expected = [
        "only private or carrier-grade NAT",
        "source 'web'",
        "192.168.1.2",
    ];
    assert_update_fails(&ns, &env, "ipv4", DEV, &expected);
}

#[test]
fn ipv6_ula_link_local_and_deprecated_are_rejected() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(DEV, "2001:db8:1::10/64 nodad");
    ns.add_address(DEV, "fd00:1::10/64 nodad");
    ns.add_address(
        DEV,
        "2001:db8:2::10/64 nodad preferred_lft 0 valid_lft 3600",
    );
    let server = MockServer::good();

    let report = check(&env, &ns, netlink_record(&env, "ipv6", Some(DEV), &server));
    assert_eq!(report["address"], "2001:db8:1::10", "{report:#}");
    assert_rejected(&report, "fd00:1::10", "unique local");
    assert_rejected(&report, "2001:db8:2::10", "deprecated");
    let link_local = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"].as_str().unwrap().starts_with("fe80:"))
        .unwrap_or_else(|| panic!("no link-local candidate:\n{report:#}"));
    assert_eq!(link_local["reason"], "link-local address");
    let deprecated = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "2001:db8:2::10")
        .unwrap();
    assert_eq!(deprecated["preferred"], 0);
    assert_eq!(deprecated["valid"].as_u64().map(|v| v <= 3600), Some(true));
}

#[test]
fn a_tentative_address_is_not_published_until_dad_ends() {
    let Some((ns, env)) = setup() else { return };
    ns.add_tentative(DEV, "2001:db8:5::10/64");
    assert_update_fails(&ns, &env, "ipv6", DEV, &["2001:db8:5::10: tentative"]);
}

#[test]
fn a_temporary_address_is_passed_over_for_the_stable_one() {
    let Some((ns, env)) = setup() else { return };
    let temporary = ns.add_temporary(DEV, "2001:db8:7::1/64");
    let server = MockServer::good();

    let report = check(&env, &ns, netlink_record(&env, "ipv6", Some(DEV), &server));
    assert_eq!(report["address"], "2001:db8:7::1", "{report:#}");
    assert_rejected(&report, &temporary.address.to_string(), "temporary");
}

#[test]
fn the_longest_preferred_lifetime_wins_and_the_published_one_is_kept() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(
        DEV,
        "2001:db8:1::1/64 nodad preferred_lft 600 valid_lft 1200",
    );
    ns.add_address(
        DEV,
        "2001:db8:1::2/64 nodad preferred_lft 7200 valid_lft 9000",
    );
    let server = MockServer::good();
    let record = netlink_record(&env, "ipv6", Some(DEV), &server);

    let report = check(&env, &ns, record.clone());
    assert_eq!(report["address"], "2001:db8:1::2", "{report:#}");
    assert_eq!(verdict(&report, "2001:db8:1::1").0, "passed-over");

    // Once ::1 is published (written as the server's last answer), it is kept while fit.
    let state_file = env.state_dir.join("home.example.com.ipv6.json");
    std::fs::create_dir_all(&env.state_dir).unwrap();
    write_file(
        &state_file,
        br#"{"published":"2001:db8:1::1","last_result":"good","failures":0}"#,
        0o600,
    );
    let report = check(&env, &ns, record);
    assert_eq!(report["address"], "2001:db8:1::1", "{report:#}");
    assert_eq!(
        verdict(&report, "2001:db8:1::1"),
        (
            "chosen".to_string(),
            "already published and still fit".to_string()
        )
    );
}

/// `lan0` with 198.51.100.9 beside `wan0` with 192.0.2.10, which holds the default route.
fn lan_beside_the_default_route(ns: &Netns) {
    ns.veth("lan0", "peer1");
    ns.add_address("lan0", "198.51.100.9/24");
    ns.add_address(DEV, "192.0.2.10/24");
    ns.default_route4(DEV, Some("192.0.2.1"));
}

#[test]
fn the_device_defaults_to_the_default_route_without_ubus() {
    let Some((ns, env)) = setup() else { return };
    lan_beside_the_default_route(&ns);
    let server = MockServer::good();

    let report = check(&env, &ns, netlink_record(&env, "ipv4", None, &server));
    assert_eq!(report["address"], "192.0.2.10", "{report:#}");
    assert_eq!(report["candidates"][0]["origin"], format!("device {DEV}"));
}

#[test]
fn the_device_defaults_to_the_interfaces_l3_device_from_ubus() {
    let Some((ns, env)) = setup() else { return };
    lan_beside_the_default_route(&ns);
    let status = r#"{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"l3_device":"lan0","device":"lan0","ipv4-address":[],"data":{}}"#;
    let ubus = FakeUbus::new(&env).interface("wan", status, 0);
    let server = MockServer::good();

    let report = check(&env, &ns, netlink_record(&env, "ipv4", None, &server));
    assert_eq!(report["address"], "198.51.100.9", "{report:#}");
    assert_eq!(ubus.calls(), vec![FakeUbus::status_args("wan")]);
}

#[test]
fn a_missing_device_is_named() {
    let Some((ns, env)) = setup() else { return };
    assert_update_fails(&ns, &env, "ipv4", "wan9", &["device 'wan9' does not exist"]);
}

#[test]
fn an_ipv6_suffix_follows_the_devices_prefix() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(DEV, "2001:db8:1200:10::1/60 nodad");
    ns.add_address(DEV, "fd00:5::1/64 nodad");
    let server = MockServer::good();
    let record = netlink_record(&env, "ipv6", Some(DEV), &server).set("ipv6_suffix", "::1:2:3:4");

    let report = check(&env, &ns, record);
    assert_eq!(report["address"], "2001:db8:1200:10:1:2:3:4", "{report:#}");
    assert_rejected(&report, "fd00:5::1:2:3:4", "unique local");
}

#[test]
fn check_without_a_config_shows_the_default_route_devices() {
    let Some((ns, env)) = setup() else { return };
    ns.add_address(DEV, "192.0.2.10/24");
    ns.add_address(DEV, "2001:db8:1::10/64 nodad");
    ns.default_route4(DEV, Some("192.0.2.1"));
    ns.default_route6(DEV, Some("2001:db8:1::1"));
    let missing = env.config_path.with_file_name("no-such-config");
    let missing = missing.to_str().unwrap();

    let mut launch = env.launch();
    launch.wrapper = ns.wrapper();
    let text = spawn_dynhost_with(
        &launch,
        env.config_path.parent().unwrap(),
        &["-c".into(), missing.into(), "check".into()],
    )
    .wait();
    text.assert_code(0);
    assert!(
        text.stdout
            .contains(&format!("no config file at {missing}")),
        "{text}"
    );
    assert!(
        text.stdout
            .contains("ipv4: 192.0.2.10 (would be published, from device 'wan0')"),
        "{text}"
    );
    assert!(
        text.stdout
            .contains("ipv6: 2001:db8:1::10 (would be published, from device 'wan0')"),
        "{text}"
    );
    assert!(text.stdout.contains("rejected fe80:"), "{text}");
}

/// With `ipv6_suffix` and no device, the device is `prefix_interface`'s (lan0, holding lan's
/// share of the delegated prefix), not the WAN's, whose /128 has no room for a suffix. As the
/// real netifd reported it: wan6 on wan0, lan on lan0, guest beside.
#[test]
fn a_suffix_without_a_device_follows_the_prefix_interfaces_device() {
    let Some((ns, env)) = setup() else { return };
    const WAN6: &str = include_str!("fixtures/ubus/netifd-real/wan6-pd-lan-and-guest.json");
    const DUMP: &str = include_str!("fixtures/ubus/netifd-real/dump-lan-and-guest.json");
    ns.veth("lan0", "peer1");
    ns.add_address(DEV, "2001:db8:0:ff00::1a2b/128 nodad");
    ns.add_address("lan0", "2001:db8:1200:1::1/64 nodad");
    ns.add_address("lan0", "fd12:3456:789a:1::1/64 nodad");
    let ubus = FakeUbus::new(&env)
        .interface("wan6", WAN6, 0)
        .interface("lan", &dumped_status(DUMP, "lan"), 0)
        .missing("iot");
    let server = MockServer::good();
    let record = || {
        netlink_record(&env, "ipv6", None, &server)
            .set("interface", "wan6")
            .set("ipv6_suffix", "::1:2:3:4")
    };

    let report = check(&env, &ns, record());
    assert_eq!(report["address"], "2001:db8:1200:1:1:2:3:4", "{report:#}");
    assert_rejected(&report, "fd12:3456:789a:1:1:2:3:4", "unique local");
    assert_eq!(ubus.calls(), vec![FakeUbus::status_args("lan")]);

    let config = env.config(&[record().set("prefix_interface", "iot")]);
    env.run_in(&ns, &config, &["update"])
        .assert_failed_without_sending(
            &server,
            &[
                "interface 'iot' does not exist",
                "option prefix_interface 'iot'",
                "or option device",
            ],
        );
}
