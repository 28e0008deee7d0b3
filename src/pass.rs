//! One pass over the selected records: detect, decide, send, remember. Shared by `update` and
//! the daemon, so both follow the same rules and the same lock.

use std::fs::File;
use std::net::IpAddr;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{Config, Record};
use crate::decision::{self, Decision};
use crate::error::{Error, Refusal, Severity};
use crate::method::{ByRecord, Method};
use crate::notices::Notices;
use crate::plan;
use crate::source;
use crate::state::{Outcome, StateDir};
use crate::transport::Transport;

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
                    "no record named '{}' in the config",
                    wanted.escape_debug()
                )))
            }
            Some(record) if !record.enabled => {
                return Err(Error::Usage(format!(
                    "record '{}' is disabled",
                    wanted.escape_debug()
                )))
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

/// The state dir's lock for an `update` of `selection`, which selected `records`; `None` when
/// the pass is left to another one. Hotplug starts `update -i IFACE` at each event of an
/// interface while the daemon is stopped: of those, one runs and one queues, and the others
/// leave (see [`StateDir::lock_unless_queued`]).
pub fn lock_for_update(
    selection: &Selection,
    records: &[&Record],
    state_dir: &StateDir,
) -> Result<Option<File>, Error> {
    let hotplug = selection.interface.is_some() && selection.records.is_empty() && !selection.force;
    // The name as the records give it, rather than the command line's: the config's is checked.
    let interface = match records.first() {
        Some(record) if hotplug => &record.interface,
        _ => return state_dir.lock().map(Some),
    };
    let lock = state_dir.lock_unless_queued(interface)?;
    if lock.is_none() {
        log::info!(
            "another update for interface '{interface}' is already waiting to run, \
             and will publish the same address: leaving it to that one"
        );
    }
    Ok(lock)
}

/// Runs one pass over `records` (`force`: send even to those that are current) and returns the
/// worst severity met, `None` when every record is current. Holds the state dir's lock
/// throughout, so a concurrent run waits and then sees our result: `held` when the caller took
/// it already, else taken here. A record's state already said in `notices` is logged at debug
/// level only; sends are always logged.
// Each is what one caller has and the other lacks (update's held lock, the daemon's notices):
// a struct for them would only move the list.
#[allow(clippy::too_many_arguments)]
pub fn run(
    records: &[&Record],
    force: bool,
    timeout: Duration,
    state_dir: &StateDir,
    transport: &mut dyn Transport,
    now: &Clock,
    held: Option<File>,
    notices: &mut Notices,
) -> Result<Option<Severity>, Error> {
    let _lock = match held {
        Some(lock) => lock,
        None => state_dir.lock()?,
    };
    let mut pass = Pass {
        timeout,
        force,
        state_dir,
        now,
        read: source::Read::default(),
    };
    pass.run(records, &mut ByRecord::default(), transport, notices)
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

/// How loud a failure is in the log: a down interface is a router's routine, an address not
/// (yet) there is worth a look, anything else is an error.
fn level_of(error: &Error) -> log::Level {
    match error {
        Error::InterfaceDown(_) => log::Level::Info,
        Error::Address(_) => log::Level::Warn,
        _ => log::Level::Error,
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
        let consequence = match error.refusal() {
            Some(Refusal::Abuse) => format!(
                "; nothing more is sent for {} hours",
                decision::ABUSE_LOCKOUT_SECS / 3600
            ),
            Some(_) => "; nothing more is sent until the record's config changes".into(),
            None => String::new(),
        };
        Failure {
            error,
            consequence,
            sent: false,
        }
    }
}

/// What the records of one pass share.
struct Pass<'a> {
    timeout: Duration,
    force: bool,
    state_dir: &'a StateDir,
    now: &'a Clock,
    /// What the sources read during this pass.
    read: source::Read,
}

impl Pass<'_> {
    fn run(
        &mut self,
        records: &[&Record],
        method: &mut dyn Method,
        transport: &mut dyn Transport,
        notices: &mut Notices,
    ) -> Result<Option<Severity>, Error> {
        let mut worst = None;
        for &record in records {
            let (level, told) = match self.update(record, method, transport) {
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
                    (level_of(&error), told)
                }
            };
            let label = record.label();
            let now = (self.now)();
            let news = if told.sent {
                notices.said(&label, &told.state, now);
                true
            } else {
                notices.is_news(&label, &told.state, now)
            };
            let level = if news { level } else { log::Level::Debug };
            log::log!(level, "{label}: {}", told.line);
        }
        Ok(worst)
    }

    fn update(
        &mut self,
        record: &Record,
        method: &mut dyn Method,
        transport: &mut dyn Transport,
    ) -> Result<Told, Failure> {
        let state = self.state_dir.load(record);
        let fingerprint = decision::fingerprint(record, &self.state_dir.fingerprint_key());
        let (address, why, now) = loop {
            let detected = source::detect(record, self.timeout, transport, &mut self.read);
            let now = (self.now)();
            let (address, decision) =
                plan::plan(record, detected, &state, &fingerprint, now, self.force).next?;
            match decision {
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
                    crate::debug!("{}: {why}", record.label());
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
                    crate::debug!(
                        "{}: the last send was moments ago: waiting {} s",
                        record.label(),
                        until - now
                    );
                    std::thread::sleep(Duration::from_secs(until - now));
                    // What the pass read before the wait is not what is there now.
                    self.read = source::Read::default();
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
        // Unwritable, the attempt is kept in memory, and the save after the reply says why.
        let _ = self.state_dir.save(record, &attempt);
        let result = method.publish(record, address, &attempt, transport);
        let answered = (self.now)();
        let next_state =
            decision::after_attempt(&attempt, address, &result, &fingerprint, answered);
        let saved = self.state_dir.save(record, &next_state);
        let told = match result {
            Ok(accepted) => Told {
                line: format!("{}, {why}", describe_success(address, accepted.changed)),
                state: current(address),
                sent: true,
            },
            Err(error) => {
                let mut failure = Failure::from(error);
                if let Some(next) = next_state.next_attempt {
                    failure.consequence = format!(
                        "{}; next attempt in {} s",
                        failure.consequence,
                        next.saturating_sub(answered)
                    );
                }
                if let Err(not_saved) = saved {
                    failure.consequence = format!("{}; {not_saved}", failure.consequence);
                }
                failure.sent = true;
                return Err(failure);
            }
        };
        match saved {
            Ok(()) => Ok(told),
            // Sent, and said in one line: what the server did, and why it is not on disk.
            Err(not_saved) => Err(Failure {
                error: not_saved,
                consequence: format!("; {}", told.line),
                sent: true,
            }),
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::config::Source;
    use crate::method::Accepted;
    use crate::state::tests::record;
    use crate::transport::tests::reply;
    use crate::transport::{Call, HttpReply, Request};

    const ECHO: &str = "https://echo.example/";
    const ADDRESS: &str = "203.0.113.7";
    const NOW: u64 = 1_700_000_000;

    /// An echo service that sees [`ADDRESS`] at [`ECHO`], and a DynHost server that answers
    /// every other URL with `update_reply`. Keeps what it was asked: URL and authorization.
    struct Server {
        update_reply: (u16, &'static str),
        asked: Vec<(String, Option<String>)>,
    }

    impl Server {
        fn answering(status: u16, body: &'static str) -> Server {
            Server {
                update_reply: (status, body),
                asked: Vec::new(),
            }
        }
    }

    impl Transport for Server {
        fn get(&mut self, request: &Request, _cacert: &Path) -> Result<HttpReply, Error> {
            let authorization = request.authorization.map(str::to_string);
            self.asked.push((request.url.to_string(), authorization));
            Ok(match request.url {
                ECHO => reply(200, ADDRESS),
                _ => reply(self.update_reply.0, self.update_reply.1),
            })
        }

        fn call(&mut self, call: &Call, _cacert: &Path) -> Result<HttpReply, Error> {
            self.asked
                .push((format!("{} {}", call.method, call.url), None));
            Ok(reply(self.update_reply.0, self.update_reply.1))
        }
    }

    /// A method that sends nothing: it notes what it was asked to publish and answers with
    /// `outcome`.
    struct Double {
        outcome: fn() -> Result<Accepted, Error>,
        published: Vec<(String, IpAddr)>,
    }

    impl Double {
        fn answering(outcome: fn() -> Result<Accepted, Error>) -> Double {
            Double {
                outcome,
                published: Vec::new(),
            }
        }
    }

    impl Method for Double {
        fn publish(
            &mut self,
            record: &Record,
            address: IpAddr,
            _previous: &crate::state::RecordState,
            _transport: &mut dyn Transport,
        ) -> Result<Accepted, Error> {
            self.published.push((record.name.clone(), address));
            (self.outcome)()
        }
    }

    fn address() -> IpAddr {
        ADDRESS.parse().expect("address")
    }

    /// A record whose address comes from the echo service of [`Server`].
    fn web_record() -> Record {
        Record {
            source: Source::Web {
                check_url: Some(ECHO.into()),
            },
            ..record()
        }
    }

    /// A fresh state dir for `test`; the caller removes it.
    fn scratch(test: &str) -> (PathBuf, StateDir) {
        let path = std::env::temp_dir().join(format!("dynhost-pass-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let state_dir = StateDir::open(&path).expect("state dir");
        (path, state_dir)
    }

    /// One pass at `now` over `record` with `method`.
    fn pass_with(
        state_dir: &StateDir,
        now: u64,
        record: &Record,
        method: &mut dyn Method,
    ) -> Option<Severity> {
        let mut pass = Pass {
            timeout: Duration::from_secs(5),
            force: false,
            state_dir,
            now: &move || now,
            read: source::Read::default(),
        };
        let mut transport = Server::answering(500, "not asked");
        pass.run(&[record], method, &mut transport, &mut Notices::default())
            .expect("the pass runs")
    }

    #[test]
    fn what_a_method_publishes_is_decided_and_remembered_by_the_pass() {
        let (path, state_dir) = scratch("remembered");
        let record = web_record();
        let mut method = Double::answering(|| Ok(Accepted { changed: true }));
        assert_eq!(pass_with(&state_dir, NOW, &record, &mut method), None);
        assert_eq!(method.published, [("home".to_string(), address())]);
        let state = state_dir.load(&record);
        assert_eq!(state.published, Some(address()));
        assert_eq!(state.last_result, Some(Outcome::Updated));
        // Current now: the method is not asked again.
        assert_eq!(pass_with(&state_dir, NOW + 60, &record, &mut method), None);
        assert_eq!(method.published.len(), 1);
        let _ = std::fs::remove_dir_all(path);
    }

    #[test]
    fn a_refusal_from_a_method_blocks_the_record_until_its_config_changes() {
        let (path, state_dir) = scratch("refusal");
        let record = web_record();
        let mut method = Double::answering(|| Err(Error::Refused(Refusal::BadAuth)));
        let worst = pass_with(&state_dir, NOW, &record, &mut method);
        assert_eq!(worst, Some(Severity::Permanent));
        let state = state_dir.load(&record);
        assert_eq!(state.last_result, Some(Outcome::Refused(Refusal::BadAuth)));
        let worst = pass_with(&state_dir, NOW + 3600, &record, &mut method);
        assert_eq!(worst, Some(Severity::Permanent));
        assert_eq!(method.published.len(), 1, "a blocked record is not sent");
        let changed = Record {
            username: "another-login".into(),
            ..record
        };
        pass_with(&state_dir, NOW + 3600, &changed, &mut method);
        assert_eq!(method.published.len(), 2, "a config change lifts the block");
        let _ = std::fs::remove_dir_all(path);
    }

    #[test]
    fn a_transient_failure_of_a_method_waits_out_its_backoff() {
        let (path, state_dir) = scratch("backoff");
        let record = web_record();
        let mut method = Double::answering(|| Err(Error::Server("HTTP 503".into())));
        let worst = pass_with(&state_dir, NOW, &record, &mut method);
        assert_eq!(worst, Some(Severity::Transient));
        let retry_at = state_dir.load(&record).next_attempt.expect("a retry time");
        assert_eq!(retry_at, NOW + decision::FIRST_RETRY_SECS);
        pass_with(&state_dir, retry_at - 1, &record, &mut method);
        assert_eq!(
            method.published.len(),
            1,
            "nothing is sent before the retry time"
        );
        pass_with(&state_dir, retry_at, &record, &mut method);
        assert_eq!(method.published.len(), 2);
        let _ = std::fs::remove_dir_all(path);
    }

    #[test]
    fn dynhost_publishes_with_one_authenticated_get_and_its_reply_decides() {
        let record = web_record();
        for (body, worst, outcome) in [
            ("good 203.0.113.7", None, Outcome::Updated),
            ("nochg 203.0.113.7", None, Outcome::Unchanged),
            (
                "badauth",
                Some(Severity::Permanent),
                Outcome::Refused(Refusal::BadAuth),
            ),
            ("911", Some(Severity::Transient), Outcome::Failed),
        ] {
            let (path, state_dir) = scratch(&format!("dynhost-{}", &body[..3]));
            let mut server = Server::answering(200, body);
            let ran = run(
                &[&record],
                false,
                Duration::from_secs(5),
                &state_dir,
                &mut server,
                &|| NOW,
                None,
                &mut Notices::default(),
            );
            assert_eq!(ran.expect("the pass runs"), worst, "{body}");
            assert_eq!(state_dir.load(&record).last_result, Some(outcome), "{body}");
            let expected = crate::method::dynhost::update_request(&record, address());
            assert_eq!(
                server.asked,
                [
                    (ECHO.to_string(), None),
                    (expected.url, Some(expected.authorization))
                ],
                "{body}"
            );
            let _ = std::fs::remove_dir_all(path);
        }
    }
}
