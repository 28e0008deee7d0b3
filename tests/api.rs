//! Records in api mode (`option method 'api'`) against the OVHcloud API stand-in over real
//! TLS: the signed exchange, what it changes in the zone, how refusals and trouble end, and
//! that no secret ever shows.

mod common;

use std::path::Path;
use std::time::Duration;

use common::ovh_api::*;
use common::*;
use serde_json::Value;

const LIST_HOME: &str = "GET /domain/zone/example.com/record?fieldType=A&subDomain=home";

/// `update` over these records, with the global section of the env.
fn update(env: &TestEnv, records: &[Section]) -> Outcome {
    env.run(&env.config(records), &["update"])
}

fn status_json(env: &TestEnv, records: &[Section]) -> Value {
    let out = env.run(&env.config(records), &["status", "-j"]);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}):\n{out}"))
}

fn targets(api: &OvhApi) -> Vec<(String, String, String, u64)> {
    api.records()
        .into_iter()
        .map(|r| (r.sub_domain, r.field_type, r.target, r.ttl))
        .collect()
}

/// The home record, with these options set, after one `update` that must succeed.
#[track_caller]
fn update_home(env: &TestEnv, api: &OvhApi, options: &[(&str, &str)]) -> (Section, Outcome) {
    let mut record = api.record(env, "home", "home.example.com");
    for (option, value) in options {
        record = record.set(option, value);
    }
    let out = update(env, std::slice::from_ref(&record));
    out.assert_code(0);
    (record, out)
}

#[track_caller]
fn assert_calls(api: &OvhApi, expected: &[&str], out: &Outcome) {
    assert_eq!(api.calls(), expected, "{out}");
    assert_eq!(api.state().refused, 0, "a signature was refused\n{out}");
}

#[test]
fn a_missing_record_is_created_then_the_zone_refreshed() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let (record, out) = update_home(&env, &api, &[("ttl", "300")]);
    assert_calls(
        &api,
        &[
            "GET /auth/time",
            LIST_HOME,
            "POST /domain/zone/example.com/record",
            "POST /domain/zone/example.com/refresh",
        ],
        &out,
    );
    let create = &api.server.requests()[2];
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"fieldType": "A", "subDomain": "home", "target": ADDR1, "ttl": 300}),
        "the TTL is a JSON number"
    );
    assert_eq!(
        targets(&api),
        [("home".into(), "A".into(), ADDR1.into(), 300)]
    );
    assert_eq!(api.state().refreshes, ["example.com"]);
    let status = &status_json(&env, &[record])["records"][0];
    assert_eq!(status["method"], "api");
    assert_eq!(status["last_result"], "good");
    assert_eq!(status["refresh_pending"], false);
}

#[test]
fn a_record_with_another_address_is_changed_in_place() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let id = api.add_record(ZONE, "home", "A", ADDR2, 0);
    let (_, out) = update_home(&env, &api, &[]);
    let record = format!("/domain/zone/example.com/record/{id}");
    assert_calls(
        &api,
        &[
            "GET /auth/time",
            LIST_HOME,
            &format!("GET {record}"),
            &format!("PUT {record}"),
            "POST /domain/zone/example.com/refresh",
        ],
        &out,
    );
    let put: Value = serde_json::from_slice(&api.server.requests()[3].body).unwrap();
    assert_eq!(
        put,
        serde_json::json!({"target": ADDR1}),
        "no ttl when none is set"
    );
    assert_eq!(
        targets(&api),
        [("home".into(), "A".into(), ADDR1.into(), 0)]
    );
    assert!(out.mentions("updated to 203.0.113.7"), "{out}");
}

#[test]
fn a_record_that_already_matches_is_left_alone() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let id = api.add_record(ZONE, "home", "A", ADDR1, 120);
    let (record, out) = update_home(&env, &api, &[("ttl", "120")]);
    assert_calls(
        &api,
        &[
            "GET /auth/time",
            LIST_HOME,
            &format!("GET /domain/zone/example.com/record/{id}"),
        ],
        &out,
    );
    assert!(api.state().refreshes.is_empty(), "no change, no refresh");
    assert!(out.mentions("nochg"), "{out}");
    assert_eq!(
        status_json(&env, std::slice::from_ref(&record))["records"][0]["last_result"],
        "nochg"
    );

    // Another TTL is a change, made with the same PUT.
    let out = update(&env, &[record.set("ttl", "3600")]);
    out.assert_code(0);
    let put = api
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT");
    let put: Value = serde_json::from_slice(&put.expect("a PUT").body).unwrap();
    assert_eq!(
        put,
        serde_json::json!({"target": ADDR1, "ttl": 3600}),
        "{out}"
    );
}

#[test]
fn the_apex_and_a_wildcard_are_records_like_any_other() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let six = env.address_script("six");
    six.set(ADDR6);
    let apex = api.record(&env, "apex", "example.com");
    let wildcard = api
        .record(&env, "wild", "*.example.com")
        .set("family", "ipv6")
        .set("script", &six.path_str());
    let out = update(&env, &[apex, wildcard]);
    out.assert_code(0);
    let calls = api.calls();
    assert!(
        calls.contains(&"GET /domain/zone/example.com/record?fieldType=A&subDomain=".to_string()),
        "{calls:#?}"
    );
    assert!(
        calls.contains(
            &"GET /domain/zone/example.com/record?fieldType=AAAA&subDomain=%2A".to_string()
        ),
        "{calls:#?}"
    );
    let mut records = targets(&api);
    records.sort();
    assert_eq!(
        records,
        [
            ("".into(), "A".into(), ADDR1.into(), 0),
            ("*".into(), "AAAA".into(), ADDR6.into(), 0),
        ],
        "{out}"
    );
    assert_eq!(api.state().refused, 0);
}

#[test]
fn without_a_zone_the_longest_of_the_accounts_zones_is_used() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    api.state().zones = vec!["example.org".into(), ZONE.into(), "lan.example.com".into()];
    let record = api
        .record(&env, "nas", "nas.lan.example.com")
        .remove("zone");
    let out = update(&env, &[record]);
    out.assert_code(0);
    assert_eq!(api.calls()[1], "GET /domain/zone", "{out}");
    assert_eq!(
        api.calls()[2],
        "GET /domain/zone/lan.example.com/record?fieldType=A&subDomain=nas"
    );
    assert_eq!(api.records()[0].zone, "lan.example.com");

    // A name in none of them is refused, naming it.
    let stray = api.record(&env, "stray", "home.example.net").remove("zone");
    let out = update(&env, &[stray]);
    out.assert_code(3);
    assert!(out.mentions("holds home.example.net"), "{out}");
    assert!(out.mentions("nozone"), "{out}");
}

#[test]
fn several_records_of_the_name_are_refused_untouched() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let first = api.add_record(ZONE, "home", "A", ADDR2, 0);
    let second = api.add_record(ZONE, "home", "A", "192.0.2.9", 0);
    let out = update(&env, &[api.record(&env, "home", "home.example.com")]);
    out.assert_code(3);
    assert!(out.mentions(&format!("ids {first}, {second}")), "{out}");
    assert!(out.mentions("ambiguous"), "{out}");
    assert_eq!(api.calls(), ["GET /auth/time", LIST_HOME], "{out}");
    assert_eq!(targets(&api)[0].2, ADDR2);
}

/// An option of the record and its value.
type Setting<'a> = (&'a str, &'a str);
/// A reply the server is told to give to a call (`METHOD /path`).
type Fault<'a> = Option<(&'a str, Reply)>;

/// Runs `update` for a record with `setting` against a server that answers `fault` (when
/// given) to `call`; asserts exit 3 with the server's words, and that the next run, blocked,
/// sends nothing.
#[track_caller]
fn assert_refused(setting: Setting, fault: Fault, words: &[&str], code: &str) {
    let env = TestEnv::new();
    let api = OvhApi::start();
    api.add_record(ZONE, "home", "A", ADDR2, 0);
    if let Some((call, reply)) = fault {
        api.fail(call, reply);
    }
    let record = api
        .record(&env, "home", "home.example.com")
        .set(setting.0, setting.1);
    let out = update(&env, std::slice::from_ref(&record));
    out.assert_code(3);
    for word in words {
        assert!(out.mentions(word), "{word:?} not said\n{out}");
    }
    assert!(out.mentions("query id 'EU.ext-test."), "{out}");
    assert_eq!(
        status_json(&env, std::slice::from_ref(&record))["records"][0]["last_result"],
        code
    );
    let sent = api.server.request_count();
    let again = update(&env, &[record]);
    again.assert_code(3);
    assert_eq!(
        api.server.request_count(),
        sent,
        "a refused record waits for its config\n{again}"
    );
    assert_eq!(targets(&api)[0].2, ADDR2, "nothing changed");
}

#[test]
fn every_refusal_class_stops_until_the_config_changes() {
    let not_granted = api_error(
        403,
        serde_json::json!({"errorCode": "NOT_GRANTED_CALL", "message": "This call has not been granted"}),
    );
    let invalid_target = api_error(
        400,
        serde_json::json!({"class": "Client::BadRequest", "message": "Invalid target for an A record"}),
    );
    let cases: [(Setting, Fault, &[&str], &str); 6] = [
        (
            ("application_secret", "ASwrongSecret"),
            None,
            &["HTTP 400 'Invalid signature'", "INVALID_SIGNATURE"],
            "denied",
        ),
        (
            ("consumer_key", "CKunknown"),
            None,
            &[
                "HTTP 403 'This credential is not valid'",
                "INVALID_CREDENTIAL",
            ],
            "denied",
        ),
        (
            ("application_key", "AKunknown"),
            None,
            &["HTTP 403 'This application key is invalid'"],
            "denied",
        ),
        (
            ("ttl", "60"),
            Some(("GET /domain/zone/example.com/record", not_granted)),
            &["GET /domain/zone/example.com/record: HTTP 403 'This call has not been granted'"],
            "denied",
        ),
        (
            ("zone", "home.example.com"),
            None,
            &["HTTP 404 'This service does not exist'", "nozone"],
            "nozone",
        ),
        (
            ("ttl", "60"),
            Some(("PUT /domain/zone/example.com/record/1001", invalid_target)),
            &["HTTP 400 'Invalid target for an A record'", "badrequest"],
            "badrequest",
        ),
    ];
    for (setting, fault, words, code) in cases {
        assert_refused(setting, fault, words, code);
    }
}

/// A transient answer to `call`: exit 1, a backoff in the state, nothing sent before it ends.
#[track_caller]
fn assert_backs_off(call: &str, reply: Reply, words: &str) {
    let env = TestEnv::new();
    let api = OvhApi::start();
    api.fail(call, reply);
    let record = api.record(&env, "home", "home.example.com");
    let out = update(&env, std::slice::from_ref(&record));
    out.assert_code(1);
    assert!(out.mentions(words), "{out}");
    let status = &status_json(&env, std::slice::from_ref(&record))["records"][0];
    assert_eq!(status["last_result"], "failed");
    assert!(status["next_attempt"].as_u64().unwrap() > status["last_attempt"].as_u64().unwrap());
    let sent = api.server.request_count();
    let waiting = update(&env, std::slice::from_ref(&record));
    waiting.assert_code(1);
    assert_eq!(
        api.server.request_count(),
        sent,
        "nothing before the retry time\n{waiting}"
    );
    let forced = env.run(&env.config(&[record]), &["update", "-f"]);
    forced.assert_code(0);
    assert_eq!(
        targets(&api),
        [("home".into(), "A".into(), ADDR1.into(), 0)],
        "{forced}"
    );
}

#[test]
fn too_many_requests_server_errors_and_query_out_of_time_back_off() {
    let cases = [
        (
            "GET /domain/zone/example.com/record",
            api_error(429, serde_json::json!({"message": "Too many requests"})),
            "HTTP 429 'Too many requests'",
        ),
        (
            "POST /domain/zone/example.com/record",
            api_error(
                503,
                serde_json::json!({"class": "Server::ServiceUnavailable", "message": "Maintenance"}),
            ),
            "HTTP 503 'Maintenance'",
        ),
        (
            "GET /domain/zone/example.com/record",
            api_error(
                400,
                serde_json::json!({"errorCode": "QUERY_TIME_OUT", "message": "Query out of time"}),
            ),
            "QUERY_TIME_OUT",
        ),
    ];
    for (call, reply, words) in cases {
        assert_backs_off(call, reply, words);
    }
}

#[test]
fn a_failed_refresh_is_retried_without_a_second_record() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    api.fail(
        "POST /domain/zone/example.com/refresh",
        api_error(500, serde_json::json!({"message": "Internal server error"})),
    );
    let record = api.record(&env, "home", "home.example.com");
    let out = update(&env, std::slice::from_ref(&record));
    out.assert_code(1);
    assert!(out.mentions("zone not refreshed"), "{out}");
    assert_eq!(api.records().len(), 1, "the record was created");
    let status = &status_json(&env, std::slice::from_ref(&record))["records"][0];
    assert_eq!(status["refresh_pending"], true);
    assert_eq!(status["last_result"], "failed");

    // The retry finds the record as wanted, and refreshes all the same.
    let retry = env.run(
        &env.config(std::slice::from_ref(&record)),
        &["update", "-f"],
    );
    retry.assert_code(0);
    let calls = api.calls();
    assert_eq!(
        calls[5..],
        [
            LIST_HOME,
            "GET /domain/zone/example.com/record/1001",
            "POST /domain/zone/example.com/refresh",
        ],
        "{retry}"
    );
    assert_eq!(api.records().len(), 1, "never a second record");
    assert_eq!(api.state().refreshes, ["example.com"]);
    let status = &status_json(&env, std::slice::from_ref(&record))["records"][0];
    assert_eq!(status["refresh_pending"], false);
    assert_eq!(status["last_result"], "good");

    // A refused refresh is pending too, and waits for a config change.
    api.fail(
        "POST /domain/zone/example.com/refresh",
        api_error(403, serde_json::json!({"errorCode": "NOT_GRANTED_CALL", "message": "This call has not been granted"})),
    );
    env.set_address(ADDR2);
    let refused = update(&env, std::slice::from_ref(&record));
    refused.assert_code(3);
    assert_eq!(
        status_json(&env, &[record])["records"][0]["refresh_pending"],
        true
    );
}

#[test]
fn a_server_clock_twenty_years_away_is_the_one_signed_with() {
    for years in [20, -20] {
        let env = TestEnv::new();
        let api = OvhApi::start();
        api.state().clock_offset = years * 365 * 86_400;
        let out = update(&env, &[api.record(&env, "home", "home.example.com")]);
        out.assert_code(0);
        assert_eq!(api.state().refused, 0, "{out}");
        assert_eq!(targets(&api).len(), 1, "{out}");
        let time_reads = api
            .calls()
            .iter()
            .filter(|c| *c == "GET /auth/time")
            .count();
        assert_eq!(time_reads, 1, "the clock is read once per pass");
    }
}

#[test]
fn records_of_one_endpoint_share_one_connection_and_sign_with_their_own_keys() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let home = api.record(&env, "home", "home.example.com");
    let office = api
        .record(&env, "office", "office.example.com")
        .set("application_key", OTHER_APP_KEY)
        .set("application_secret", OTHER_APP_SECRET)
        .set("consumer_key", OTHER_CONSUMER_KEY);
    let out = update(&env, &[home, office]);
    out.assert_code(0);
    assert_eq!(api.state().refused, 0, "{out}");
    assert_eq!(api.records().len(), 2, "{out}");
    assert_eq!(
        api.server.connection_count(),
        1,
        "{}",
        api.server.describe()
    );
    let requests = api.server.requests();
    assert!(requests.iter().all(|r| r.connection == 1));
    let applications: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.header("X-Ovh-Application"))
        .collect();
    assert!(applications.contains(&APP_KEY) && applications.contains(&OTHER_APP_KEY));
    assert_eq!(
        api.calls()
            .iter()
            .filter(|c| *c == "GET /auth/time")
            .count(),
        1
    );
}

#[test]
fn check_shows_what_would_be_sent_without_calling_the_api() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let record = api
        .record(&env, "home", "home.example.com")
        .set("ttl", "300");
    let out = env.run(&env.config(std::slice::from_ref(&record)), &["check"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!(
            "sends OVHcloud API {}: the A record 'home' in zone example.com set to {ADDR1}, \
             ttl 300 (created if missing), then the zone refreshed",
            api.endpoint()
        )),
        "{out}"
    );
    let json = env.run(&env.config(&[record]), &["check", "-j"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["records"][0]["method"], "api");
    assert_eq!(api.server.request_count(), 0, "check calls nothing");
}

#[test]
fn api_mode_options_are_checked_and_dynhost_ones_warned_about() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let record = || api.record(&env, "home", "home.example.com");
    for (section, option, words) in [
        (
            record().remove("consumer_key"),
            "consumer_key",
            "is required",
        ),
        (
            record().set("endpoint", "ovh-mars"),
            "endpoint",
            "is not an endpoint",
        ),
        (
            record().set("endpoint", "http://127.0.0.1/1.0"),
            "endpoint",
            "is not an endpoint",
        ),
        (record().set("ttl", "59"), "ttl", "60 to 86400"),
        (record().set("ttl", "86401"), "ttl", "60 to 86400"),
        (record().set("zone", "example.org"), "zone", "does not hold"),
        (record().set("method", "rest"), "method", "not a method"),
        (
            record().set("hostname", "*.*.example.com"),
            "hostname",
            "fully qualified",
        ),
    ] {
        let out = env.run(&env.config(&[section]), &["update"]);
        out.assert_code(2);
        assert!(
            out.mentions(&format!("section 'home' option '{option}'")),
            "{out}"
        );
        assert!(out.mentions(words), "{out}");
    }
    let wildcard_dynhost = env
        .record_for_url("home", &api.endpoint())
        .set("hostname", "*.example.com");
    env.run(&env.config(&[wildcard_dynhost]), &["update"])
        .assert_code(2);
    assert_eq!(api.server.request_count(), 0);

    let leftovers = record()
        .set("username", "u")
        .set("password", PASSWORD)
        .set("server", "https://x");
    let out = update(&env, &[leftovers]);
    out.assert_code(0);
    for option in ["username", "password", "server"] {
        assert!(
            out.mentions(&format!(
                "option '{option}' in section 'home' ignored: only method dynhost reads it"
            )),
            "{out}"
        );
    }
}

/// `dynhost -c CONFIG api-credential -e ENDPOINT -k KEY ZONE...`.
fn api_credential(
    env: &TestEnv,
    config: &Path,
    endpoint: &str,
    key: &str,
    zones: &[&str],
) -> Outcome {
    let config = config.to_string_lossy();
    let mut args = vec!["-c", &config, "api-credential", "-e", endpoint, "-k", key];
    args.extend(zones);
    env.run_args(&args)
}

#[test]
fn api_credential_asks_for_exactly_the_calls_of_the_method() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    env.write_config(&env.config(&[]));
    let config = env.config_path.clone();
    let endpoint = api.endpoint();
    let out = api_credential(
        &env,
        &config,
        &endpoint,
        APP_KEY,
        &["example.com", "Example.org"],
    );
    out.assert_code(0);
    let requests = api.server.requests();
    assert_eq!(requests.len(), 1, "{out}");
    let request = &requests[0];
    assert_eq!(request.request_line, "POST /1.0/auth/credential HTTP/1.1");
    assert_eq!(request.header("X-Ovh-Application"), Some(APP_KEY));
    let content_type = request.header("Content-Type").unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(
        request.header("X-Ovh-Signature").is_none(),
        "nothing to sign with yet"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let mut rules = vec![serde_json::json!({"method": "GET", "path": "/domain/zone"})];
    for zone in ["example.com", "example.org"] {
        let records = format!("/domain/zone/{zone}/record");
        rules.extend([
            serde_json::json!({"method": "GET", "path": records}),
            serde_json::json!({"method": "POST", "path": records}),
            serde_json::json!({"method": "GET", "path": format!("{records}/*")}),
            serde_json::json!({"method": "PUT", "path": format!("{records}/*")}),
            serde_json::json!({"method": "POST", "path": format!("/domain/zone/{zone}/refresh")}),
        ]);
    }
    assert_eq!(
        body,
        serde_json::json!({"accessRules": rules, "redirection": null})
    );
    for line in [
        format!("consumerKey: {NEW_CONSUMER_KEY}\n"),
        format!("validationUrl: {VALIDATION_URL}\n"),
        format!("\toption consumer_key '{NEW_CONSUMER_KEY}'"),
        format!("\toption application_key '{APP_KEY}'"),
    ] {
        assert!(out.stdout.contains(&line), "{line:?}\n{out}");
    }

    // A key the API does not know is a refusal, a server away is transient, a CA the config
    // does not name is not trusted, and an endpoint of no known name is a usage error.
    let refused = api_credential(&env, &config, &endpoint, "AKnope", &["example.com"]);
    refused.assert_code(3);
    assert!(
        refused.mentions("This application key is invalid"),
        "{refused}"
    );
    drop(api);
    api_credential(&env, &config, &endpoint, APP_KEY, &["example.com"]).assert_code(1);
    let other = OvhApi::start();
    let untrusting = env.dir().join("untrusting.conf");
    let global = env
        .global()
        .set("cacert", &env.untrusted_ca_path.to_string_lossy());
    write_file(&untrusting, render_config(&[global]).as_bytes(), 0o600);
    let untrusted = api_credential(
        &env,
        &untrusting,
        &other.endpoint(),
        APP_KEY,
        &["example.com"],
    );
    untrusted.assert_code(1);
    assert_eq!(other.server.request_count(), 0, "{untrusted}");
    api_credential(&env, &config, "ovh-mars", APP_KEY, &["example.com"]).assert_code(2);
    api_credential(&env, &config, &other.endpoint(), APP_KEY, &[]).assert_code(2);
}

#[test]
fn the_daemon_follows_an_address_change_in_api_mode() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let global = env.global().set("check_interval", "3600");
    let config = render_config(&[global, api.record(&env, "home", "home.example.com")]);
    let daemon = env.spawn(&config, &["run"]);
    let created = wait_until(|| targets(&api).first().is_some_and(|r| r.2 == ADDR1));
    env.set_address(ADDR2);
    daemon.signal("USR1");
    let followed = wait_until(|| {
        targets(&api).first().is_some_and(|r| r.2 == ADDR2) && api.state().refreshes.len() == 2
    });
    daemon.signal("TERM");
    let out = daemon.wait();
    assert!(created && followed, "{:?}\n{out}", api.calls());
    out.assert_code(0);
    assert_eq!(api.records().len(), 1, "changed in place");
    assert_eq!(api.state().refused, 0);
}

#[test]
fn no_secret_ever_shows_in_output_state_or_argv() {
    let env = TestEnv::new();
    let api = OvhApi::start();
    let secrets = [APP_SECRET, CONSUMER_KEY];
    let good = api.record(&env, "home", "home.example.com");
    let wrong = api
        .record(&env, "office", "office.example.com")
        .set("application_secret", "ASanotherWrongSecretValue");
    api.fail(
        "POST /domain/zone/example.com/refresh",
        api_error(
            500,
            serde_json::json!({"message": format!("echo {APP_SECRET} {CONSUMER_KEY}")}),
        ),
    );
    let config = env.config(&[good, wrong]);
    let mut outputs = Vec::new();
    for args in [
        &["-v", "update"][..],
        &["-v", "update", "-f"],
        &["status"],
        &["status", "-j"],
        &["-v", "check"],
        &["check", "-j"],
    ] {
        let out = env.run(&config, args);
        outputs.push(format!("{args:?}\n{out}"));
    }
    let daemon = env.spawn(
        &env.config(&[api.record(&env, "home", "home.example.com")]),
        &["-v", "run"],
    );
    std::thread::sleep(Duration::from_millis(300));
    let argv = std::fs::read(format!("/proc/{}/cmdline", daemon.pid())).unwrap_or_default();
    daemon.signal("TERM");
    outputs.push(format!("run\n{}", daemon.wait()));
    assert!(
        outputs.iter().any(|o| o.contains("zone not refreshed")),
        "the echoing reply was read"
    );
    assert!(api.state().refused > 0, "the wrong secret was tried");
    for secret in secrets.iter().chain(&["ASanotherWrongSecretValue"]) {
        for output in &outputs {
            assert!(!output.contains(secret), "{secret} shown:\n{output}");
        }
        for (path, bytes) in env.state_dir_contents() {
            assert!(
                !contains_bytes(&bytes, secret.as_bytes()),
                "{secret} in {path:?}"
            );
        }
        assert!(
            !contains_bytes(&argv, secret.as_bytes()),
            "{secret} in argv"
        );
    }
}
