//! A stand-in for the OVHcloud API on a [`MockServer`] (real TLS on loopback), at
//! `<server>/1.0`: it checks every signed call the way the API does (application key, consumer
//! key, timestamp against its own clock, `$1$` SHA-1 signature over the URL and body as
//! received) and refuses a wrong one with the API's error bodies; serves `/auth/time` with a
//! clock far from the machine's; keeps zones and their A/AAAA records in memory; hands out a
//! credential; and can be told to fail a given call. Every request is kept by the server.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};
use serde_json::{json, Value};

use super::{lock, MockServer, Reply, Request, Section, ServerCert, TestEnv};

pub const APP_KEY: &str = "AKtestApplication01";
pub const APP_SECRET: &str = "ASs3cretApplicationSecretXq";
pub const CONSUMER_KEY: &str = "CKs3cretConsumerKeyZw7";
/// A second account's keys, for records that sign with other keys on the same endpoint.
pub const OTHER_APP_KEY: &str = "AKotherApplication02";
pub const OTHER_APP_SECRET: &str = "ASotherS3cretApplicationRt";
pub const OTHER_CONSUMER_KEY: &str = "CKotherS3cretConsumerKeyUv";
/// What `/auth/credential` hands out.
pub const NEW_CONSUMER_KEY: &str = "CKnewlyIssuedConsumerKey42";
pub const VALIDATION_URL: &str = "https://eu.api.ovh.com/auth/?credentialToken=tok3n";
pub const ZONE: &str = "example.com";
/// The server's clock runs this far (seconds) from the machine's unless told otherwise: a
/// client that signs with its own clock fails.
pub const CLOCK_OFFSET: i64 = -(3 * 365 * 86_400) - 4_321;
/// How far a signature's timestamp may be from the server's clock.
const TIME_TOLERANCE: i64 = 30;

/// A record of a zone, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRecord {
    pub id: u64,
    pub zone: String,
    pub sub_domain: String,
    pub field_type: String,
    pub target: String,
    /// 0: the zone's default.
    pub ttl: u64,
}

impl ZoneRecord {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "zone": self.zone,
            "subDomain": self.sub_domain,
            "fieldType": self.field_type,
            "target": self.target,
            "ttl": self.ttl,
        })
    }
}

/// What the stand-in holds; tests read and change it through [`OvhApi::state`].
pub struct ApiState {
    /// Seconds between the server's clock and the machine's.
    pub clock_offset: i64,
    /// Application key, application secret, consumer key.
    pub accounts: Vec<(String, String, String)>,
    pub zones: Vec<String>,
    pub records: Vec<ZoneRecord>,
    next_id: u64,
    /// Zones refreshed, in order.
    pub refreshes: Vec<String>,
    /// Replies forced for `METHOD /path` (no `/1.0`, no query), each used once, in order.
    pub faults: Vec<(String, Reply)>,
    /// Signed calls that passed the checks, as `METHOD /path?query`.
    pub accepted: Vec<String>,
    /// Signed calls refused for their signature, key or time.
    pub refused: usize,
    replies: u64,
}

pub struct OvhApi {
    pub server: MockServer,
    state: Arc<Mutex<ApiState>>,
}

impl OvhApi {
    /// Zone [`ZONE`], one account ([`APP_KEY`]...), no records.
    pub fn start() -> OvhApi {
        let state = Arc::new(Mutex::new(ApiState {
            clock_offset: CLOCK_OFFSET,
            accounts: vec![
                (APP_KEY.into(), APP_SECRET.into(), CONSUMER_KEY.into()),
                (
                    OTHER_APP_KEY.into(),
                    OTHER_APP_SECRET.into(),
                    OTHER_CONSUMER_KEY.into(),
                ),
            ],
            zones: vec![ZONE.into()],
            records: Vec::new(),
            next_id: 1000,
            refreshes: Vec::new(),
            faults: Vec::new(),
            accepted: Vec::new(),
            refused: 0,
            replies: 0,
        }));
        let server = MockServer::start(ServerCert::Trusted, |_: &Request| Reply::new(503, ""));
        let base = server.url();
        let shared = Arc::clone(&state);
        server.set_responder(move |request: &Request| {
            let mut state = lock(&shared);
            state.replies += 1;
            let query_id = format!("EU.ext-test.{}", state.replies);
            respond(&mut state, &base, request).header("X-Ovh-QueryID", &query_id)
        });
        OvhApi { server, state }
    }

    /// The endpoint to configure: `https://127.0.0.1:<port>/1.0`.
    pub fn endpoint(&self) -> String {
        format!("{}/1.0", self.server.url())
    }

    pub fn state(&self) -> MutexGuard<'_, ApiState> {
        lock(&self.state)
    }

    /// Adds a record to a zone and returns its id.
    pub fn add_record(
        &self,
        zone: &str,
        sub: &str,
        field_type: &str,
        target: &str,
        ttl: u64,
    ) -> u64 {
        let mut state = self.state();
        add(&mut state, zone, sub, field_type, target, ttl).id
    }

    pub fn records(&self) -> Vec<ZoneRecord> {
        self.state().records.clone()
    }

    /// The next `call` (`METHOD /path`) gets `reply`, whatever it asks.
    pub fn fail(&self, call: &str, reply: Reply) {
        self.state().faults.push((call.to_string(), reply));
    }

    /// Every request the server received, as `METHOD /path?query` without the `/1.0`.
    pub fn calls(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.target.trim_start_matches("/1.0")))
            .collect()
    }

    /// An enabled api record for `hostname` in [`ZONE`], with the first account's keys and
    /// the env's default address script.
    pub fn record(&self, env: &TestEnv, name: &str, hostname: &str) -> Section {
        Section::new("record", name)
            .set("enabled", "1")
            .set("method", "api")
            .set("hostname", hostname)
            .set("zone", ZONE)
            .set("endpoint", &self.endpoint())
            .set("application_key", APP_KEY)
            .set("application_secret", APP_SECRET)
            .set("consumer_key", CONSUMER_KEY)
            .set("family", "ipv4")
            .set("source", "script")
            .set("script", &env.address().path_str())
    }
}

/// An API error body with this status.
pub fn api_error(status: u16, fields: Value) -> Reply {
    json_reply(status, &fields)
}

fn json_reply(status: u16, body: &Value) -> Reply {
    let mut reply = Reply::new(status, body.to_string());
    reply.headers = vec![(
        "Content-Type".into(),
        "application/json; charset=utf-8".into(),
    )];
    reply
}

fn not_found() -> Reply {
    api_error(
        404,
        json!({"class": "Client::NotFound", "message": "This service does not exist"}),
    )
}

fn bad_request(message: &str) -> Reply {
    api_error(
        400,
        json!({"class": "Client::BadRequest", "message": message}),
    )
}

fn server_time(state: &ApiState) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now + state.clock_offset
}

fn add<'a>(
    state: &'a mut ApiState,
    zone: &str,
    sub: &str,
    field_type: &str,
    target: &str,
    ttl: u64,
) -> &'a ZoneRecord {
    state.next_id += 1;
    state.records.push(ZoneRecord {
        id: state.next_id,
        zone: zone.into(),
        sub_domain: sub.into(),
        field_type: field_type.into(),
        target: target.into(),
        ttl,
    });
    state.records.last().unwrap()
}

/// The signature as the API computes it, from what it received.
pub fn signature(
    secret: &str,
    consumer: &str,
    method: &str,
    url: &str,
    body: &str,
    ts: &str,
) -> String {
    let text = format!("{secret}+{consumer}+{method}+{url}+{body}+{ts}");
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("$1${hex}")
}

fn respond(state: &mut ApiState, base: &str, request: &Request) -> Reply {
    let Some(target) = request.target.strip_prefix("/1.0/") else {
        return not_found();
    };
    let target = format!("/{target}");
    let path = target.split('?').next().unwrap_or("").to_string();
    let call = format!("{} {path}", request.method);
    match call.as_str() {
        "GET /auth/time" => return json_reply(200, &json!(server_time(state))),
        "POST /auth/credential" => return credential(state, request),
        _ => {}
    }
    if let Some(refusal) = check_signature(state, base, request) {
        state.refused += 1;
        return refusal;
    }
    state.accepted.push(format!("{} {target}", request.method));
    if let Some(index) = state.faults.iter().position(|(c, _)| *c == call) {
        return state.faults.remove(index).1;
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), parts.as_slice()) {
        ("GET", ["domain", "zone"]) => json_reply(200, &json!(state.zones)),
        (_, ["domain", "zone", zone, ..]) if !state.zones.iter().any(|z| z == zone) => not_found(),
        ("GET", ["domain", "zone", zone, "record"]) => {
            let field_type = request.query_value("fieldType");
            let sub = request.query_value("subDomain");
            let ids: Vec<u64> = state
                .records
                .iter()
                .filter(|r| r.zone == *zone)
                .filter(|r| field_type.as_ref().is_none_or(|t| *t == r.field_type))
                .filter(|r| sub.as_ref().is_none_or(|s| *s == r.sub_domain))
                .map(|r| r.id)
                .collect();
            json_reply(200, &json!(ids))
        }
        ("POST", ["domain", "zone", zone, "record"]) => {
            let (Some(field_type), Some(sub), Some(target)) = (
                body["fieldType"].as_str(),
                body["subDomain"].as_str(),
                body["target"].as_str(),
            ) else {
                return bad_request("fieldType, subDomain and target are required");
            };
            let ttl = match &body["ttl"] {
                Value::Null => 0,
                Value::Number(n) if n.as_u64().is_some() => n.as_u64().unwrap(),
                _ => return bad_request("ttl must be a number"),
            };
            let zone = zone.to_string();
            let record = add(state, &zone, sub, field_type, target, ttl).to_json();
            json_reply(200, &record)
        }
        ("GET" | "PUT", ["domain", "zone", zone, "record", id]) => {
            let Some(record) = state
                .records
                .iter_mut()
                .find(|r| r.zone == *zone && r.id.to_string() == *id)
            else {
                return not_found();
            };
            if request.method == "GET" {
                return json_reply(200, &record.to_json());
            }
            if let Some(target) = body["target"].as_str() {
                record.target = target.into();
            }
            match &body["ttl"] {
                Value::Null => {}
                Value::Number(n) if n.as_u64().is_some() => record.ttl = n.as_u64().unwrap(),
                _ => return bad_request("ttl must be a number"),
            }
            json_reply(200, &Value::Null)
        }
        ("POST", ["domain", "zone", zone, "refresh"]) => {
            let zone = zone.to_string();
            state.refreshes.push(zone);
            json_reply(200, &Value::Null)
        }
        _ => not_found(),
    }
}

/// The API's checks of a signed call, in its order; `None` when the call passes.
fn check_signature(state: &ApiState, base: &str, request: &Request) -> Option<Reply> {
    let header = |name: &str| request.header(name).unwrap_or("");
    let Some((_, secret, consumer)) = state
        .accounts
        .iter()
        .find(|(key, _, _)| key == header("X-Ovh-Application"))
    else {
        return Some(api_error(
            403,
            json!({"errorCode": "INVALID_KEY", "httpCode": "403 Forbidden",
                   "message": "This application key is invalid"}),
        ));
    };
    if consumer != header("X-Ovh-Consumer") {
        return Some(api_error(
            403,
            json!({"errorCode": "INVALID_CREDENTIAL", "httpCode": "403 Forbidden",
                   "message": "This credential is not valid"}),
        ));
    }
    let timestamp = header("X-Ovh-Timestamp");
    let in_time = timestamp
        .parse::<i64>()
        .is_ok_and(|ts| (ts - server_time(state)).abs() <= TIME_TOLERANCE);
    if !in_time {
        return Some(api_error(
            400,
            json!({"errorCode": "QUERY_TIME_OUT", "httpCode": "400 Bad Request",
                   "message": "Query out of time"}),
        ));
    }
    let body = String::from_utf8_lossy(&request.body);
    let url = format!("{base}{}", request.target);
    let expected = signature(secret, consumer, &request.method, &url, &body, timestamp);
    if header("X-Ovh-Signature") != expected {
        return Some(api_error(
            400,
            json!({"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request",
                   "message": "Invalid signature"}),
        ));
    }
    if !body.is_empty() && !header("Content-Type").starts_with("application/json") {
        return Some(bad_request("a body must be application/json"));
    }
    None
}

/// `POST /auth/credential`: needs a known application key, hands out [`NEW_CONSUMER_KEY`].
fn credential(state: &ApiState, request: &Request) -> Reply {
    let key = request.header("X-Ovh-Application").unwrap_or("");
    if !state.accounts.iter().any(|(k, _, _)| k == key) {
        return api_error(
            403,
            json!({"errorCode": "INVALID_KEY", "httpCode": "403 Forbidden",
                   "message": "This application key is invalid"}),
        );
    }
    if serde_json::from_slice::<Value>(&request.body).is_err() {
        return bad_request("the body is not JSON");
    }
    json_reply(
        200,
        &json!({"validationUrl": VALIDATION_URL, "consumerKey": NEW_CONSUMER_KEY,
                "state": "pendingValidation"}),
    )
}
