//! What `status` and `check` print, for people and (with `-j`) for scripts. Neither ever
//! includes a password: they are built from the state and the non-secret record fields.

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, Family, Record};
use crate::decision::{self, Decision};
use crate::method;
use crate::plan;
use crate::rules::{self, Candidate, Verdict};
use crate::source;
use crate::state::{Outcome, RecordState, StateDir};
use crate::transport::Transport;

#[derive(Serialize)]
struct StatusReport<'a> {
    records: Vec<RecordStatus<'a>>,
}

/// The state minus its config fingerprint, which is a keyed digest of the password and of no
/// use to a reader.
#[derive(Serialize)]
struct RecordStatus<'a> {
    name: &'a str,
    hostname: &'a str,
    family: &'static str,
    /// dynhost or api.
    method: &'static str,
    enabled: bool,
    published: Option<IpAddr>,
    attempted: Option<IpAddr>,
    last_result: Option<Outcome>,
    last_message: Option<String>,
    last_attempt: Option<u64>,
    last_success: Option<u64>,
    failures: u32,
    next_attempt: Option<u64>,
    /// An api record was changed but its zone not refreshed yet.
    refresh_pending: bool,
    /// send, retry, wait, blocked or watch.
    next_action: &'static str,
    /// Most reasons are fixed text: 1,000 records would otherwise copy it 1,000 times.
    next_action_why: Cow<'static, str>,
}

impl<'a> RecordStatus<'a> {
    fn new(record: &'a Record, state: RecordState, key: &[u8], now: u64) -> Self {
        let (next_action, next_action_why) =
            decision::planned(&state, || decision::fingerprint(record, key), now);
        // Destructured field by field so that a new state field cannot reach the report
        // without a decision here.
        let RecordState {
            fingerprint: _,
            published,
            attempted,
            last_result,
            last_message,
            last_attempt,
            last_success,
            failures,
            next_attempt,
            refresh_pending,
            // The send limit's bookkeeping: `check` says when it holds a send back.
            recent_sends: _,
        } = state;
        RecordStatus {
            name: &record.name,
            hostname: &record.hostname,
            family: record.family.name(),
            method: method::name(record),
            enabled: record.enabled,
            published,
            attempted,
            last_result,
            last_message,
            last_attempt,
            last_success,
            failures,
            next_attempt,
            refresh_pending,
            next_action,
            next_action_why,
        }
    }

    /// `home home.example.com ipv4 dynhost: 192.0.2.1, last result good at ...; next: ...`
    fn write_line(&self, out: &mut String) -> fmt::Result {
        // Pieces pushed, not formatted: formatting costs more than copying, once a line.
        for piece in [
            self.name,
            " ",
            self.hostname,
            " ",
            self.family,
            " ",
            self.method,
            ": ",
        ] {
            out.push_str(piece);
        }
        match self.published {
            Some(address) => write!(out, "{address}")?,
            None => out.push('-'),
        }
        if !self.enabled {
            out.push_str(", disabled");
        }
        match (self.last_result, self.last_attempt) {
            (Some(result), Some(when)) => write!(
                out,
                ", last result {} at {}",
                result.name(),
                format_utc(when)
            )?,
            _ => out.push_str(", never attempted"),
        }
        if let Some(message) = &self.last_message {
            write!(out, " ({message})")?;
        }
        if self.failures > 0 {
            write!(out, ", {} consecutive failure(s)", self.failures)?;
        }
        if self.refresh_pending {
            out.push_str(", zone refresh pending");
        }
        if let Some(next) = self.next_attempt {
            write!(out, ", no attempt before {}", format_utc(next))?;
        }
        if self.enabled {
            out.push_str("; next: ");
            out.push_str(&self.next_action_why);
        }
        Ok(())
    }
}

pub fn status(config: &Config, state_dir: &StateDir, now: u64, json: bool) -> String {
    let key = state_dir.fingerprint_key();
    let statuses = (config.records.iter())
        .map(|record| RecordStatus::new(record, state_dir.load(record), &key, now));
    if json {
        let report = StatusReport {
            records: statuses.collect(),
        };
        return serde_json::to_string_pretty(&report).expect("status serialises");
    }
    // One string written in place, each line as soon as its record is looked at: a string per
    // line, or all the statuses kept until the end, took allocations and pages that 1,000
    // records make felt.
    let mut text = String::new();
    for status in statuses {
        if !text.is_empty() {
            text.push('\n');
        }
        status
            .write_line(&mut text)
            .expect("a String takes any text");
    }
    text
}

#[derive(Serialize)]
struct CheckReport {
    records: Vec<RecordCheck>,
}

#[derive(Serialize)]
struct RecordCheck {
    name: String,
    hostname: String,
    family: &'static str,
    /// dynhost or api.
    method: &'static str,
    address: Option<IpAddr>,
    /// send, skip, wait, blocked, or error when no address could be found.
    action: &'static str,
    why: String,
    /// What `update` would send, in words and without a secret, when the action is send.
    sends: Option<String>,
    candidates: Vec<CandidateCheck>,
}

/// One address a source found and what the publishing rules made of it.
#[derive(Serialize)]
struct CandidateCheck {
    address: IpAddr,
    prefix_len: u8,
    origin: String,
    preferred: Option<u32>,
    valid: Option<u32>,
    /// chosen, passed-over or rejected.
    verdict: &'static str,
    reason: String,
}

impl CandidateCheck {
    fn all(assessed: &[(Candidate, Verdict)]) -> Vec<CandidateCheck> {
        assessed
            .iter()
            .map(|(candidate, verdict)| CandidateCheck {
                address: candidate.address,
                prefix_len: candidate.prefix_len,
                origin: candidate.origin.clone(),
                preferred: candidate.preferred,
                valid: candidate.valid,
                verdict: verdict.name(),
                reason: verdict.reason(),
            })
            .collect()
    }

    /// `    chosen 2001:db8::1/64 from device wan, preferred 3600 s, valid 7200 s: why`
    fn line(&self) -> String {
        let lifetimes: String = [("preferred", self.preferred), ("valid", self.valid)]
            .iter()
            .filter_map(|(name, seconds)| seconds.map(|seconds| format!(", {name} {seconds} s")))
            .collect();
        format!(
            "    {} {}/{} from {}{lifetimes}: {}",
            self.verdict, self.address, self.prefix_len, self.origin, self.reason
        )
    }
}

/// The first line of one check, followed by its candidates, one per line.
fn with_candidates(first: String, candidates: &[CandidateCheck]) -> String {
    std::iter::once(first)
        .chain(candidates.iter().map(CandidateCheck::line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn describe_address(address: Option<IpAddr>) -> String {
    address.map_or("no address".into(), |address| address.to_string())
}

/// Detects each enabled record's address and says what `update` would do, sending nothing.
/// Returns the text and whether every record had a usable address.
pub fn check(
    config: &Config,
    state_dir: &StateDir,
    transport: &mut dyn Transport,
    now: u64,
    json: bool,
) -> (String, bool) {
    let records: Vec<RecordCheck> = config
        .records
        .iter()
        .filter(|record| record.enabled)
        .map(|record| check_record(record, config, state_dir, transport, now))
        .collect();
    let all_found = records.iter().all(|record| record.address.is_some());
    let text = if json {
        serde_json::to_string_pretty(&CheckReport { records }).expect("check serialises")
    } else {
        records
            .iter()
            .map(|check| {
                let first = format!(
                    "{} {} {}: {} -> {} ({})",
                    check.name,
                    check.hostname,
                    check.family,
                    describe_address(check.address),
                    check.action,
                    check.why
                );
                let first = match &check.sends {
                    Some(sends) => format!("{first}\n    sends {sends}"),
                    None => first,
                };
                with_candidates(first, &check.candidates)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    (text, all_found)
}

fn check_record(
    record: &Record,
    config: &Config,
    state_dir: &StateDir,
    transport: &mut dyn Transport,
    now: u64,
) -> RecordCheck {
    let state = state_dir.load(record);
    let detected = source::detect(
        record,
        config.global.timeout,
        transport,
        &mut source::Read::default(),
    );
    let fingerprint = decision::fingerprint(record, &state_dir.fingerprint_key());
    let plan = plan::plan(record, detected, &state, &fingerprint, now, false);
    let candidates = CandidateCheck::all(&plan.assessed);
    let (address, action, why) = match plan.next {
        Err(error) => (None, "error", error.to_string()),
        Ok((address, decision)) => {
            let (action, why) = describe_decision(decision);
            (Some(address), action, why)
        }
    };
    let sends = address
        .filter(|_| action == "send")
        .map(|address| method::describe(record, address, &state));
    RecordCheck {
        name: record.name.clone(),
        hostname: record.hostname.clone(),
        family: record.family.name(),
        method: method::name(record),
        address,
        action,
        why,
        sends,
        candidates,
    }
}

fn describe_decision(decision: Decision) -> (&'static str, String) {
    match decision {
        Decision::Send(why) => ("send", why),
        Decision::Skip(why) => ("skip", why),
        Decision::Wait { until, why } => ("wait", format!("{why}, until {}", format_utc(until))),
        Decision::Blocked(refusal) => ("blocked", refusal.to_string()),
        Decision::Held { until } => (
            "wait",
            format!("held back by the send limit, until {}", format_utc(until)),
        ),
    }
}

#[derive(Serialize)]
struct MachineReport {
    machine: Vec<FamilyCheck>,
}

/// What this machine would publish for one family, were it a record with source netlink.
#[derive(Serialize)]
struct FamilyCheck {
    family: &'static str,
    address: Option<IpAddr>,
    why: String,
    candidates: Vec<CandidateCheck>,
}

/// `check` without a config: this machine's own addresses on its default-route devices, with
/// the verdict of the publishing rules, so a new owner sees what dynhost would do.
pub fn check_machine(config_path: &Path, timeout: Duration, json: bool) -> String {
    let machine: Vec<FamilyCheck> = [Family::Ipv4, Family::Ipv6]
        .into_iter()
        .map(
            |family| match source::default_route_addresses(family, timeout) {
                Err(error) => FamilyCheck {
                    family: family.name(),
                    address: None,
                    why: error.to_string(),
                    candidates: Vec::new(),
                },
                Ok(detection) => {
                    let place = detection.place;
                    let choice = rules::choose(family, &place, detection.candidates, None, true);
                    let candidates = CandidateCheck::all(&choice.assessed);
                    let (address, why) = match choice.outcome {
                        Ok(address) => (Some(address), format!("would be published, from {place}")),
                        Err(why) => (None, why),
                    };
                    FamilyCheck {
                        family: family.name(),
                        address,
                        why,
                        candidates,
                    }
                }
            },
        )
        .collect();
    if json {
        return serde_json::to_string_pretty(&MachineReport { machine }).expect("check serialises");
    }
    let heading = format!(
        "no config file at {}: this machine's own addresses, from its default-route devices",
        config_path.display()
    );
    std::iter::once(heading)
        .chain(machine.iter().map(|check| {
            let first = format!(
                "{}: {} ({})",
                check.family,
                describe_address(check.address),
                check.why
            );
            with_candidates(first, &check.candidates)
        }))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `YYYY-MM-DD HH:MM:SS UTC`, without pulling in a date crate for one format.
pub fn format_utc(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let seconds_of_day = unix_seconds % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), shifted so eras start on 0000-03-01.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_798_761_599), "2026-12-31 23:59:59 UTC");
        assert_eq!(format_utc(4_107_542_400), "2100-03-01 00:00:00 UTC");
    }
}
