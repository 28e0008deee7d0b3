//! One pass over the selected records: detect, decide, send, remember. Shared by `update` and
//! the daemon, so both follow the same rules and the same lock.

use std::net::IpAddr;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{Config, Record};
use crate::decision::{self, Decision};
use crate::error::{Error, Severity};
use crate::notices::Notices;
use crate::protocol::{self, Refusal};
use crate::source;
use crate::state::{Outcome, StateDir};
use crate::transport::{Request, Transport};

/// What `update` was asked for: records by section or host name, and a logical interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Section or host names; empty selects every enabled record.
    pub records: Vec<String>,
    pub interface: Option<String>,
    pub force: bool,
}

/// The records a selection names, in config order; naming an unknown or disabled record is a
/// usage error rather than a silent no-op.
pub fn select<'a>(config: &'a Config, selection: &Selection) -> Result<Vec<&'a Record>, Error> {
    for wanted in &selection.records {
        match config
            .records
            .iter()
            .find(|record| record.answers_to(wanted))
        {
            None => {
                return Err(Error::Usage(format!(
                    "no record named '{wanted}' in the config"
                )))
            }
            Some(record) if !record.enabled => {
                return Err(Error::Usage(format!("record '{wanted}' is disabled")))
            }
            Some(_) => {}
        }
    }
    Ok(config
        .records
        .iter()
        .filter(|record| record.enabled)
        .filter(|record| {
            selection.records.is_empty()
                || selection
                    .records
                    .iter()
                    .any(|wanted| record.answers_to(wanted))
        })
        .filter(|record| {
            selection
                .interface
                .as_ref()
                .is_none_or(|interface| &record.interface == interface)
        })
        .collect())
}

/// Runs one pass over `records` (`force`: send even to those that are current) and returns the
/// worst severity met, `None` when every record is current. Holds the state dir's lock
/// throughout, so a concurrent run waits and then sees our result. A record's state already
/// said in `notices` is logged at debug level only; sends are always logged.
pub fn run(
    records: &[&Record],
    force: bool,
    timeout: Duration,
    state_dir: &StateDir,
    transport: &mut dyn Transport,
    now: &Clock,
    notices: &mut Notices,
) -> Result<Option<Severity>, Error> {
    let _lock = state_dir.lock()?;
    let mut worst = None;
    for &record in records {
        let context = RecordContext {
            record,
            timeout,
            force,
            state_dir,
            now,
        };
        let (level, told) = match context.update(transport) {
            Ok(told) => (log::Level::Info, told),
            Err(Failure {
                error,
                consequence,
                sent,
            }) => {
                worst = worst.max(Some(error.severity()));
                let told = Told {
                    line: format!("{error}{consequence}"),
                    state: state_of(&error),
                    sent,
                };
                (log::Level::Error, told)
            }
        };
        let label = record.label();
        let news = if told.sent {
            notices.said(&label, &told.state, now());
            true
        } else {
            notices.is_news(&label, &told.state, now())
        };
        let level = if news { level } else { log::Level::Debug };
        log::log!(level, "{label}: {}", told.line);
    }
    Ok(worst)
}

/// What one record's turn in a pass came to, for the log.
struct Told {
    /// What happened, in words.
    line: String,
    /// The state it leaves the record in, so that a state that lasts is said once.
    state: String,
    /// Whether a request went: that is always said.
    sent: bool,
}

/// The state of a record that is current with `address`.
fn current(address: IpAddr) -> String {
    format!("current with {address}")
}

/// The state a failure leaves a record in: a backoff continues the failure that started it,
/// and a held-back send is one state however long it waits.
fn state_of(error: &Error) -> String {
    match error {
        Error::Backoff { last_failure, .. } => last_failure.clone(),
        Error::SendLimit { .. } => "held back by the send limit".into(),
        other => other.to_string(),
    }
}

/// Why a record is not current, and what dynhost will do about it.
struct Failure {
    error: Error,
    consequence: String,
    /// Whether a request went.
    sent: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let consequence = match error {
            Error::Refused(Refusal::Abuse) => format!(
                "; nothing more is sent for {} hours",
                decision::ABUSE_LOCKOUT_SECS / 3600
            ),
            Error::Refused(_) => "; nothing more is sent until the record's config changes".into(),
            _ => String::new(),
        };
        Failure {
            error,
            consequence,
            sent: false,
        }
    }
}

struct RecordContext<'a> {
    record: &'a Record,
    timeout: Duration,
    force: bool,
    state_dir: &'a StateDir,
    now: &'a Clock,
}

impl RecordContext<'_> {
    fn update(&self, transport: &mut dyn Transport) -> Result<Told, Failure> {
        let record = self.record;
        let state = self.state_dir.load(record);
        let fingerprint = decision::fingerprint(record);
        let (address, why, now) = loop {
            let address =
                source::current_address(record, state.published, self.timeout, transport)?;
            let now = (self.now)();
            match decision::decide(address, &state, &fingerprint, now, self.force) {
                Decision::Send(why) => break (address, why, now),
                Decision::Skip(why) => {
                    return Ok(Told {
                        line: format!("{why}, nothing sent"),
                        state: current(address),
                        sent: false,
                    })
                }
                Decision::Wait { until, why } => {
                    let error = match state.last_result {
                        Some(Outcome::Refused(refusal)) => Error::Refused(refusal),
                        _ => Error::Backoff {
                            last_failure: state.last_message.unwrap_or_default(),
                            retry_in: until.saturating_sub(now),
                        },
                    };
                    log::debug!("{}: {why}", record.label());
                    return Err(Failure {
                        error,
                        consequence: "; nothing sent".into(),
                        sent: false,
                    });
                }
                Decision::Blocked(refusal) => return Err(Error::Refused(refusal).into()),
                // A short hold is waited out, so that a one-shot `update` sends the address
                // too; then the address is read again, as it may have moved on meanwhile.
                Decision::Held { until } if until - now <= decision::MIN_SEND_SPACING_SECS => {
                    log::debug!(
                        "{}: the last send was moments ago: waiting {} s",
                        record.label(),
                        until - now
                    );
                    std::thread::sleep(Duration::from_secs(until - now));
                }
                Decision::Held { until } => {
                    return Err(Error::SendLimit {
                        retry_in: until - now,
                    }
                    .into())
                }
            }
        };

        let attempt = decision::before_attempt(&state, address, now);
        self.state_dir.save(record, &attempt)?;
        let request = protocol::update_request(record, address);
        log::debug!("{}: GET {}", record.label(), request.url);
        let get = Request {
            url: &request.url,
            authorization: Some(&request.authorization),
            family: None,
        };
        let result = transport.get(&get, &record.cacert).and_then(|reply| {
            log::debug!(
                "{}: HTTP {} {:?}",
                record.label(),
                reply.status,
                String::from_utf8_lossy(&reply.body).trim()
            );
            protocol::classify(&reply, address)
        });
        let answered = (self.now)();
        let next_state =
            decision::after_attempt(&attempt, address, &result, &fingerprint, answered);
        self.state_dir.save(record, &next_state)?;
        match result {
            Ok(accepted) => Ok(Told {
                line: format!("{}, {why}", describe_success(address, accepted.changed)),
                state: current(address),
                sent: true,
            }),
            Err(error) => {
                let mut failure = Failure::from(error);
                if let Some(next) = next_state.next_attempt {
                    failure.consequence = format!(
                        "{}; next attempt in {} s",
                        failure.consequence,
                        next.saturating_sub(answered)
                    );
                }
                failure.sent = true;
                Err(failure)
            }
        }
    }
}

fn describe_success(address: IpAddr, changed: bool) -> String {
    if changed {
        format!("updated to {address}")
    } else {
        format!("server already had {address} (nochg)")
    }
}
