//! The OVHcloud API method: any A or AAAA record of a zone the account owns (the apex and
//! wildcards too) changed through signed REST calls, with no DynHost record or login. Which
//! calls to make and what their replies mean are pure ([`reply`], [`sign`] and the functions
//! here); [`Api::publish`] makes them over the transport it is given.

pub mod credential;
pub mod reply;
mod sign;

use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use self::reply::Called;
use self::sign::{sign, Signing};
use super::{query_escape, Accepted};
use crate::config::{self, Family, Record};
use crate::error::{Error, Refusal};
use crate::state::RecordState;
use crate::transport::{Call, HttpReply, Transport};

/// What the API method remembers during one pass: each endpoint's clock, read once, so that
/// a router whose own clock is wrong (no real-time clock, no NTP yet) still signs right.
#[derive(Default)]
pub(crate) struct Api {
    clocks: Vec<ServerClock>,
}

struct ServerClock {
    endpoint: String,
    /// The server's time when it was read, in unix seconds.
    time: u64,
    read_at: Instant,
}

/// One record's exchange with the API: its settings, and what its state left undone.
pub(crate) struct Exchange<'a> {
    label: String,
    hostname: &'a str,
    family: Family,
    settings: &'a config::Api,
    cacert: &'a Path,
    /// An earlier change was not followed by a successful refresh of the zone.
    refresh_pending: bool,
}

impl<'a> Exchange<'a> {
    pub fn new(record: &'a Record, settings: &'a config::Api, previous: &RecordState) -> Self {
        Exchange {
            label: record.label(),
            hostname: &record.hostname,
            family: record.family,
            settings,
            cacert: &record.cacert,
            refresh_pending: previous.refresh_pending,
        }
    }

    /// What publishing `address` sends, in words, for `check`: no call is made.
    pub fn describe(&self, address: IpAddr) -> String {
        let zone = match &self.settings.zone {
            Some(zone) => format!(
                "'{}' in zone {zone}",
                sub_domain(self.hostname, zone).unwrap_or_default()
            ),
            None => format!(
                "of {} in the longest of the account's zones that holds it",
                self.hostname
            ),
        };
        let ttl = self
            .settings
            .ttl
            .map_or(String::new(), |ttl| format!(", ttl {ttl}"));
        let pending = if self.refresh_pending {
            "; an earlier change still awaits the refresh"
        } else {
            ""
        };
        format!(
            "OVHcloud API {}: the {} record {zone} set to {address}{ttl} (created if missing), \
             then the zone refreshed{pending}",
            self.settings.endpoint,
            field_type(self.family)
        )
    }

    fn masked(&self) -> [&str; 2] {
        [
            self.settings.application_secret.expose(),
            self.settings.consumer_key.expose(),
        ]
    }
}

/// One call of the API: what is signed and sent.
struct ApiCall<'a> {
    method: &'a str,
    /// Under the endpoint, such as `/domain/zone`.
    path: &'a str,
    /// Empty, or `?` and the escaped query.
    query: &'a str,
    body: Option<&'a str>,
    /// A 404 means the zone is not the account's (rather than a record that went away).
    of_zone: bool,
}

impl<'a> ApiCall<'a> {
    fn get(path: &'a str, of_zone: bool) -> Self {
        ApiCall {
            method: "GET",
            path,
            query: "",
            body: None,
            of_zone,
        }
    }

    /// A POST or PUT of `body` to `path`.
    fn send(method: &'a str, path: &'a str, body: Option<&'a str>, of_zone: bool) -> Self {
        ApiCall {
            method,
            body,
            ..ApiCall::get(path, of_zone)
        }
    }
}

/// A record as `GET /domain/zone/{zone}/record/{id}` shows it: what dynhost compares.
#[derive(Deserialize)]
struct ZoneRecord {
    target: String,
    ttl: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewRecord<'a> {
    field_type: &'a str,
    sub_domain: &'a str,
    target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u32>,
}

#[derive(Serialize)]
struct Change {
    target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u32>,
}

/// What `POST /domain/zone/{zone}/record` answers: the new record, with its id.
#[derive(Deserialize)]
struct Created {
    id: u64,
}

impl Api {
    pub fn publish(
        &mut self,
        exchange: &Exchange,
        address: IpAddr,
        transport: &mut dyn Transport,
    ) -> Result<Accepted, Error> {
        let zone = match &exchange.settings.zone {
            Some(zone) => zone.clone(),
            None => self.discover_zone(exchange, transport)?,
        };
        let sub = sub_domain(exchange.hostname, &zone).ok_or_else(|| Error::ApiRefused {
            refusal: Refusal::NoZone,
            detail: format!("zone {zone} does not hold {}", exchange.hostname),
        })?;
        let records = format!("/domain/zone/{zone}/record");
        let fieldtype = field_type(exchange.family);
        let query = format!("?fieldType={fieldtype}&subDomain={}", query_escape(sub));
        let list = ApiCall {
            query: &query,
            ..ApiCall::get(&records, true)
        };
        let ids: Vec<u64> = self.json(exchange, transport, &list)?;
        let ttl = exchange.settings.ttl;
        match ids.as_slice() {
            [] => {
                let body = NewRecord {
                    field_type: fieldtype,
                    sub_domain: sub,
                    target: address.to_string(),
                    ttl,
                };
                let body = serde_json::to_string(&body).expect("a record serialises");
                let create = ApiCall::send("POST", &records, Some(&body), true);
                let created: Created = self.json(exchange, transport, &create)?;
                crate::debug!("{}: created record {}", exchange.label, created.id);
            }
            [id] => {
                let path = format!("{records}/{id}");
                let current: ZoneRecord =
                    self.json(exchange, transport, &ApiCall::get(&path, false))?;
                let holds = current.target.parse::<IpAddr>() == Ok(address)
                    && ttl.is_none_or(|ttl| current.ttl == Some(ttl));
                if holds && !exchange.refresh_pending {
                    return Ok(Accepted { changed: false });
                }
                if !holds {
                    let change = Change {
                        target: address.to_string(),
                        ttl,
                    };
                    let body = serde_json::to_string(&change).expect("a change serialises");
                    let change = ApiCall::send("PUT", &path, Some(&body), false);
                    let reply = self.signed(exchange, transport, &change)?;
                    reply::check(&reply, &called(&change, exchange))?;
                }
            }
            several => {
                let ids: Vec<String> = several.iter().map(u64::to_string).collect();
                return Err(Error::ApiRefused {
                    refusal: Refusal::Ambiguous,
                    detail: format!(
                        "zone {zone} has {} {fieldtype} records for '{sub}' (ids {})",
                        ids.len(),
                        ids.join(", ")
                    ),
                });
            }
        }
        let path = format!("/domain/zone/{zone}/refresh");
        let refresh = ApiCall::send("POST", &path, None, true);
        self.signed(exchange, transport, &refresh)
            .and_then(|reply| reply::check(&reply, &called(&refresh, exchange)).map(|_| ()))
            .map_err(|error| Error::Unrefreshed(Box::new(error)))?;
        Ok(Accepted { changed: true })
    }

    /// The longest of the account's zones that holds the host name.
    fn discover_zone(
        &mut self,
        exchange: &Exchange,
        transport: &mut dyn Transport,
    ) -> Result<String, Error> {
        let zones: Vec<String> =
            self.json(exchange, transport, &ApiCall::get("/domain/zone", false))?;
        longest_zone(exchange.hostname, &zones).ok_or_else(|| Error::ApiRefused {
            refusal: Refusal::NoZone,
            detail: format!(
                "none of the account's {} zone(s) holds {}",
                zones.len(),
                exchange.hostname
            ),
        })
    }

    /// A signed call whose 2xx reply is read as `T`.
    fn json<T: serde::de::DeserializeOwned>(
        &mut self,
        exchange: &Exchange,
        transport: &mut dyn Transport,
        call: &ApiCall,
    ) -> Result<T, Error> {
        let reply = self.signed(exchange, transport, call)?;
        reply::json(&reply, &called(call, exchange))
    }

    /// One signed call under the record's endpoint.
    fn signed(
        &mut self,
        exchange: &Exchange,
        transport: &mut dyn Transport,
        call: &ApiCall,
    ) -> Result<HttpReply, Error> {
        let settings = exchange.settings;
        let ApiCall {
            method,
            path,
            query,
            body,
            ..
        } = *call;
        let url = format!("{}{path}{query}", settings.endpoint);
        let timestamp = self.server_time(exchange, transport)?;
        let signed = sign(&Signing {
            application_secret: settings.application_secret.expose(),
            consumer_key: settings.consumer_key.expose(),
            method,
            url: &url,
            body: body.unwrap_or(""),
            timestamp,
        });
        let headers = [
            ("X-Ovh-Application", settings.application_key.as_str()),
            ("X-Ovh-Consumer", settings.consumer_key.expose()),
            ("X-Ovh-Timestamp", signed.timestamp.as_str()),
            ("X-Ovh-Signature", signed.signature.as_str()),
        ];
        crate::debug!("{}: {method} {url}", exchange.label);
        let request = Call {
            method,
            url: &url,
            headers: &headers,
            json: body,
        };
        let reply = transport.call(&request, exchange.cacert)?;
        crate::debug!(
            "{}: HTTP {}, {} bytes",
            exchange.label,
            reply.status,
            reply.body.len()
        );
        if reply::is_time_out(&reply) {
            // Read again by the next call, rather than signing with a clock that failed.
            self.clocks
                .retain(|clock| clock.endpoint != settings.endpoint);
        }
        Ok(reply)
    }

    /// The endpoint's clock now: read with `GET /auth/time` (unsigned) the first time in the
    /// pass, then advanced by the time elapsed here.
    fn server_time(
        &mut self,
        exchange: &Exchange,
        transport: &mut dyn Transport,
    ) -> Result<u64, Error> {
        let endpoint = &exchange.settings.endpoint;
        if let Some(clock) = self.clocks.iter().find(|clock| clock.endpoint == *endpoint) {
            return Ok(clock.time + clock.read_at.elapsed().as_secs());
        }
        let url = format!("{endpoint}/auth/time");
        crate::debug!("{}: GET {url}", exchange.label);
        let call = Call {
            method: "GET",
            url: &url,
            headers: &[],
            json: None,
        };
        let reply = transport.call(&call, exchange.cacert)?;
        let time: u64 = reply::json(
            &reply,
            &called(&ApiCall::get("/auth/time", false), exchange),
        )?;
        self.clocks.push(ServerClock {
            endpoint: endpoint.clone(),
            time,
            read_at: Instant::now(),
        });
        Ok(time)
    }
}

/// How a call is named in messages: method and path, never the query or a header.
fn called<'a>(call: &ApiCall, exchange: &'a Exchange) -> Called<'a> {
    Called {
        call: format!("{} {}", call.method, call.path),
        of_zone: call.of_zone,
        masked: exchange.masked(),
    }
}

fn field_type(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "A",
        Family::Ipv6 => "AAAA",
    }
}

/// The part of `hostname` before `zone`: empty for the apex, `*` or `*.home` for wildcards;
/// `None` when the zone does not hold the name.
fn sub_domain<'h>(hostname: &'h str, zone: &str) -> Option<&'h str> {
    if hostname == zone {
        return Some("");
    }
    hostname
        .strip_suffix(zone)
        .and_then(|sub| sub.strip_suffix('.'))
        .filter(|sub| !sub.is_empty())
}

/// Of `zones`, the longest that holds `hostname`: `home.example.co.uk` is in `example.co.uk`
/// rather than `co.uk`, should the account own both.
fn longest_zone(hostname: &str, zones: &[String]) -> Option<String> {
    zones
        .iter()
        .map(|zone| zone.to_ascii_lowercase())
        .filter(|zone| sub_domain(hostname, zone).is_some())
        .max_by_key(String::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sub_domain_is_the_name_before_the_zone() {
        assert_eq!(sub_domain("example.com", "example.com"), Some(""));
        assert_eq!(sub_domain("home.example.com", "example.com"), Some("home"));
        assert_eq!(sub_domain("*.example.com", "example.com"), Some("*"));
        assert_eq!(
            sub_domain("*.home.example.com", "example.com"),
            Some("*.home")
        );
        assert_eq!(sub_domain("home.myexample.com", "example.com"), None);
        assert_eq!(sub_domain("example.com", "home.example.com"), None);
    }

    #[test]
    fn the_longest_zone_holding_the_name_is_chosen() {
        let zones: Vec<String> = ["co.uk", "Example.co.uk", "other.org", "le.co.uk"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            longest_zone("home.example.co.uk", &zones).as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            longest_zone("example.co.uk", &zones).as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            longest_zone("*.ample.co.uk", &zones).as_deref(),
            Some("co.uk")
        );
        assert_eq!(longest_zone("home.example.com", &zones), None);
    }
}
