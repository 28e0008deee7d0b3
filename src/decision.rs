//! Whether to send an update, and how the record's state changes after one: pure functions of
//! the address, the stored state, the record's config fingerprint and the clock.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::config::Record;
use crate::error::{Error, Refusal};
use crate::method::Accepted;
use crate::state::{Outcome, RecordState};

/// The first retry after a transient failure waits this long; each further failure doubles it.
pub const FIRST_RETRY_SECS: u64 = 60;
pub const MAX_RETRY_SECS: u64 = 30 * 60;
/// OVHcloud blocks a record that is updated too often; coming back sooner only prolongs it.
pub const ABUSE_LOCKOUT_SECS: u64 = 24 * 60 * 60;
/// The send limit, which no trigger but `--force` passes (a flapping link once made 173
/// requests a minute, the kind of rate OVHcloud answers with `abuse`): never two sends of a
/// record within this many seconds...
pub const MIN_SEND_SPACING_SECS: u64 = 10;
/// ...and never more than this many sends of a record...
pub const SEND_BUDGET: usize = 10;
/// ...within any window of this many seconds.
pub const SEND_WINDOW_SECS: u64 = 10 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send(String),
    /// Nothing to do: the record already holds the address.
    Skip(String),
    /// Too early after a failure: the next attempt is allowed at `until` (unix seconds).
    Wait {
        until: u64,
        why: String,
    },
    /// The server refused this config for good; only a config change (or `--force`) sends again.
    Blocked(Refusal),
    /// A send is due but the send limit holds it back until `until` (unix seconds).
    Held {
        until: u64,
    },
}

pub fn decide(
    address: IpAddr,
    state: &RecordState,
    fingerprint: &str,
    now: u64,
    force: bool,
) -> Decision {
    if force {
        return Decision::Send("forced".into());
    }
    match unlimited(address, state, fingerprint, now) {
        Decision::Send(why) => match send_allowed_at(&state.recent_sends, now) {
            Some(until) => Decision::Held { until },
            None => Decision::Send(why),
        },
        other => other,
    }
}

/// When the send limit next allows a send, given the times of the record's recent sends;
/// `None` when it allows one now.
pub fn send_allowed_at(recent_sends: &[u64], now: u64) -> Option<u64> {
    let recent = in_window(recent_sends, now);
    let spacing = recent
        .iter()
        .max()
        .map(|last| last + MIN_SEND_SPACING_SECS)
        .filter(|&allowed| allowed > now);
    let budget = (recent.len() >= SEND_BUDGET)
        .then(|| recent[recent.len() - SEND_BUDGET] + SEND_WINDOW_SECS);
    spacing.max(budget)
}

/// The sends that count now, oldest first. A time ahead of the clock means the clock was set
/// back (a router without a battery-backed clock, before NTP): such a send cannot be placed, and
/// holding updates for years because of it would be worse than forgetting it.
fn in_window(recent_sends: &[u64], now: u64) -> Vec<u64> {
    let mut recent: Vec<u64> = recent_sends
        .iter()
        .copied()
        .filter(|&sent| sent <= now && now - sent < SEND_WINDOW_SECS)
        .collect();
    recent.sort_unstable();
    recent
}

/// When the daemon should look at a record again by itself (unix seconds, after `now`): when
/// its backoff ends, or when the send limit lets a held-back address go.
pub fn next_look(state: &RecordState, now: u64) -> Option<u64> {
    let retry = state.next_attempt.filter(|&at| at > now);
    let refill = (in_window(&state.recent_sends, now).len() >= SEND_BUDGET)
        .then(|| send_allowed_at(&state.recent_sends, now))
        .flatten();
    match (retry, refill) {
        (Some(retry), Some(refill)) => Some(retry.min(refill)),
        (retry, refill) => retry.or(refill),
    }
}

/// [`decide`] without `--force` and the send limit.
fn unlimited(address: IpAddr, state: &RecordState, fingerprint: &str, now: u64) -> Decision {
    // The abuse lock-out outlives config changes: the block is on the record at OVHcloud.
    if state.last_result == Some(Outcome::Refused(Refusal::Abuse)) {
        if let Some(until) = state.next_attempt.filter(|&until| now < until) {
            return Decision::Wait {
                until,
                why: "the server reported abuse".into(),
            };
        }
    }
    if state.last_result.is_none() {
        return Decision::Send("first update".into());
    }
    if state.fingerprint != fingerprint {
        return Decision::Send("the record's config changed".into());
    }
    match state.last_result {
        Some(Outcome::Refused(refusal)) if refusal != Refusal::Abuse => {
            return Decision::Blocked(refusal);
        }
        Some(Outcome::Updated | Outcome::Unchanged) if unanswered_attempt(state) => {
            return Decision::Send(unanswered(state));
        }
        Some(Outcome::Failed) | Some(Outcome::Refused(Refusal::Abuse)) => {
            if state.attempted != Some(address) {
                return Decision::Send(format!(
                    "address changed to {address} since the failed attempt"
                ));
            }
            return match state.next_attempt {
                Some(until) if now < until => Decision::Wait {
                    until,
                    why: format!("retrying after {} failure(s)", state.failures),
                },
                _ => Decision::Send("retrying after a failure".into()),
            };
        }
        _ => {}
    }
    match state.published {
        Some(published) if published == address => Decision::Skip(format!("already {address}")),
        Some(published) => Decision::Send(format!("address changed from {published} to {address}")),
        None => Decision::Send("nothing published yet".into()),
    }
}

/// What a record's state says will happen next, for `status`: a word for scripts (`send`,
/// `retry`, `wait`, `blocked` or `watch`) and the reason in words. Unlike [`decide`] it knows no
/// current address: `status` detects nothing. The record's `fingerprint` is asked for only when
/// a stored one is compared with it: a keyed digest for each record never attempted made
/// `status` of 1,000 new records half as slow again.
pub fn planned(
    state: &RecordState,
    fingerprint: impl FnOnce() -> String,
    now: u64,
) -> (&'static str, Cow<'static, str>) {
    let waiting_until = state.next_attempt.filter(|&until| now < until);
    match state.last_result {
        Some(Outcome::Refused(Refusal::Abuse)) if waiting_until.is_some() => (
            "wait",
            "the server reported abuse: no attempt before the lock-out ends".into(),
        ),
        None => ("send", "nothing was sent yet".into()),
        _ if state.fingerprint != fingerprint() => (
            "send",
            "the record's config changed since the last attempt".into(),
        ),
        Some(Outcome::Refused(refusal)) if refusal != Refusal::Abuse => (
            "blocked",
            format!("{refusal}: nothing is sent until the record's config changes").into(),
        ),
        Some(Outcome::Failed | Outcome::Refused(_)) => match waiting_until {
            Some(_) => (
                "retry",
                format!(
                    "retry after {} failure(s) when the wait ends, or at once if the address changes",
                    state.failures
                )
                .into(),
            ),
            None => ("retry", "retry at the next check".into()),
        },
        Some(Outcome::Updated | Outcome::Unchanged) if unanswered_attempt(state) => {
            ("send", unanswered(state).into())
        }
        Some(Outcome::Updated | Outcome::Unchanged) => {
            ("watch", "send when the address changes".into())
        }
    }
}

/// Whether the last attempt after a success got no answer: it names another address than the
/// published one.
fn unanswered_attempt(state: &RecordState) -> bool {
    state
        .attempted
        .is_some_and(|attempted| Some(attempted) != state.published)
}

/// Why a record whose last exchange was cut off is sent again.
fn unanswered(state: &RecordState) -> String {
    let attempted = state
        .attempted
        .map_or_else(|| "an address".to_string(), |address| address.to_string());
    format!("the exchange sending {attempted} got no answer: the record may hold it")
}

/// The state to save before sending `address`. State is otherwise written only after the reply,
/// so an exchange cut off after the server applied it (a stop, a kill, a power loss) would leave
/// the state naming the old address: when the address came back to it, nothing would be sent
/// and the record would stay wrong. An attempt without an answer makes the next pass send.
/// The attempt counts against the send limit from now on, even if it is cut off.
pub fn before_attempt(previous: &RecordState, address: IpAddr, now: u64) -> RecordState {
    let mut recent_sends = in_window(&previous.recent_sends, now);
    recent_sends.push(now);
    // Only the last SEND_BUDGET sends can ever hold one back.
    let stale = recent_sends.len().saturating_sub(SEND_BUDGET);
    recent_sends.drain(..stale);
    RecordState {
        attempted: Some(address),
        last_attempt: Some(now),
        recent_sends,
        ..previous.clone()
    }
}

/// The delay before retry number `failures` (1 for the first failure).
pub fn retry_delay(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(31);
    FIRST_RETRY_SECS
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_SECS)
}

/// The state after an exchange for `address` ended with `result`.
pub fn after_attempt(
    previous: &RecordState,
    address: IpAddr,
    result: &Result<Accepted, Error>,
    fingerprint: &str,
    now: u64,
) -> RecordState {
    let mut next = RecordState {
        fingerprint: fingerprint.to_string(),
        attempted: Some(address),
        last_attempt: Some(now),
        next_attempt: None,
        ..previous.clone()
    };
    // A pending refresh stays pending until a publication succeeds.
    next.refresh_pending = match result {
        Ok(_) => false,
        Err(Error::Unrefreshed(_)) => true,
        Err(_) => previous.refresh_pending,
    };
    match result {
        Ok(accepted) => {
            next.published = Some(address);
            next.last_result = Some(if accepted.changed {
                Outcome::Updated
            } else {
                Outcome::Unchanged
            });
            next.last_message = None;
            next.last_success = Some(now);
            next.failures = 0;
        }
        Err(error) => {
            next.failures = if previous.fingerprint == fingerprint {
                previous.failures.saturating_add(1)
            } else {
                1
            };
            next.last_message = Some(error.to_string());
            match error.refusal() {
                Some(refusal) => {
                    next.last_result = Some(Outcome::Refused(refusal));
                    if refusal == Refusal::Abuse {
                        next.next_attempt = Some(now + ABUSE_LOCKOUT_SECS);
                    }
                }
                None => {
                    next.last_result = Some(Outcome::Failed);
                    next.next_attempt = Some(now + retry_delay(next.failures));
                }
            }
        }
    }
    next
}

/// A digest of what the server sees of a record, so that a refusal is lifted by editing any of
/// it (a fixed password after `badauth` among them). It covers the password, so it is keyed with
/// the install's secret (HMAC-SHA-256): a state file copied without the key is no oracle for
/// guessing the password offline.
pub fn fingerprint(record: &Record, key: &[u8]) -> String {
    let fields = [
        record.hostname.as_str(),
        record.username.as_str(),
        record.password.expose(),
        record.family.name(),
        &record.server,
    ];
    let api = record.api.as_ref().map(crate::config::Api::identity);
    let mut context =
        ring::hmac::Context::with_key(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key));
    for field in fields.into_iter().chain(api.as_deref()) {
        // A field's length first, so that fields cannot run into each other.
        context.update(&(field.len() as u64).to_be_bytes());
        context.update(field.as_bytes());
    }
    // Digits looked up, not formatted: a `format!` for each of the 32 bytes cost more than the
    // digest.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    context
        .sign()
        .as_ref()
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0xf])
        .map(|digit| char::from(DIGITS[usize::from(digit)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const FP: &str = "fp";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn published(address: &str) -> RecordState {
        RecordState {
            fingerprint: FP.into(),
            published: Some(ip(address)),
            attempted: Some(ip(address)),
            last_result: Some(Outcome::Updated),
            last_attempt: Some(NOW - 100),
            last_success: Some(NOW - 100),
            ..RecordState::default()
        }
    }

    fn failed(address: &str, failures: u32, until: u64) -> RecordState {
        RecordState {
            last_result: Some(Outcome::Failed),
            attempted: Some(ip(address)),
            failures,
            next_attempt: Some(until),
            ..published("192.0.2.1")
        }
    }

    fn refused(refusal: Refusal) -> RecordState {
        let state = published("192.0.2.1");
        after_attempt(
            &state,
            ip("192.0.2.1"),
            &Err(Error::Refused(refusal)),
            FP,
            NOW,
        )
    }

    fn is_send(decision: &Decision) -> bool {
        matches!(decision, Decision::Send(_))
    }

    #[test]
    fn empty_state_sends() {
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &RecordState::default(),
            FP,
            NOW,
            false
        )));
    }

    #[test]
    fn same_address_skips() {
        let decision = decide(ip("192.0.2.1"), &published("192.0.2.1"), FP, NOW, false);
        assert!(matches!(decision, Decision::Skip(_)), "{decision:?}");
    }

    #[test]
    fn nochg_is_not_repeated() {
        let state = after_attempt(
            &RecordState::default(),
            ip("192.0.2.1"),
            &Ok(Accepted { changed: false }),
            FP,
            NOW,
        );
        assert_eq!(state.last_result, Some(Outcome::Unchanged));
        let decision = decide(ip("192.0.2.1"), &state, FP, NOW + 1, false);
        assert!(matches!(decision, Decision::Skip(_)), "{decision:?}");
    }

    #[test]
    fn an_attempt_cut_off_before_its_answer_sends_even_the_published_address() {
        let cut_off = before_attempt(&published("192.0.2.1"), ip("192.0.2.8"), NOW);
        assert_eq!(cut_off.published, Some(ip("192.0.2.1")));
        let later = NOW + MIN_SEND_SPACING_SECS;
        for address in ["192.0.2.1", "192.0.2.8"] {
            let decision = decide(ip(address), &cut_off, FP, later, false);
            assert!(is_send(&decision), "{address}: {decision:?}");
        }
        assert_eq!(plan(&cut_off), "send");
        let answered = after_attempt(
            &cut_off,
            ip("192.0.2.8"),
            &Ok(Accepted { changed: true }),
            FP,
            NOW + 1,
        );
        assert_eq!(plan(&answered), "watch");
        let failed = after_attempt(
            &cut_off,
            ip("192.0.2.8"),
            &Err(Error::Transport("timed out".into())),
            FP,
            NOW + 1,
        );
        assert!(is_send(&decide(ip("192.0.2.1"), &failed, FP, later, false)));
    }

    /// The state after sending at each of `times`.
    fn sent_at(times: impl IntoIterator<Item = u64>) -> RecordState {
        times
            .into_iter()
            .fold(published("192.0.2.1"), |state, now| {
                before_attempt(&state, ip("192.0.2.1"), now)
            })
    }

    #[test]
    fn no_two_sends_within_the_spacing() {
        let state = sent_at([NOW]);
        let until = NOW + MIN_SEND_SPACING_SECS;
        for now in [NOW, until - 1] {
            assert_eq!(
                decide(ip("192.0.2.2"), &state, FP, now, false),
                Decision::Held { until }
            );
        }
        assert!(is_send(&decide(ip("192.0.2.2"), &state, FP, until, false)));
        assert!(is_send(&decide(ip("192.0.2.2"), &state, FP, NOW, true)));
        // Holding back is for sends only.
        let current = decide(ip("192.0.2.1"), &published("192.0.2.1"), FP, NOW, false);
        assert!(matches!(current, Decision::Skip(_)), "{current:?}");
    }

    #[test]
    fn the_budget_holds_back_until_the_window_slides() {
        let spacing = MIN_SEND_SPACING_SECS;
        let state = sent_at((0..SEND_BUDGET as u64).map(|n| NOW + n * spacing));
        let after = NOW + SEND_BUDGET as u64 * spacing;
        let refill = NOW + SEND_WINDOW_SECS;
        assert_eq!(
            decide(ip("192.0.2.2"), &state, FP, after, false),
            Decision::Held { until: refill }
        );
        assert_eq!(next_look(&state, after), Some(refill));
        assert!(is_send(&decide(ip("192.0.2.2"), &state, FP, refill, false)));
        assert_eq!(next_look(&state, refill), None);
    }

    #[test]
    fn at_most_the_budget_of_sends_is_remembered() {
        let state = sent_at((0..3 * SEND_BUDGET as u64).map(|n| NOW + n));
        assert_eq!(state.recent_sends.len(), SEND_BUDGET);
        assert_eq!(state.recent_sends.last(), Some(&(NOW + 29)));
        let much_later = before_attempt(&state, ip("192.0.2.1"), NOW + SEND_WINDOW_SECS + 100);
        assert_eq!(much_later.recent_sends, [NOW + SEND_WINDOW_SECS + 100]);
    }

    #[test]
    fn sends_ahead_of_a_clock_set_back_hold_nothing() {
        let state = sent_at([NOW + 5000]);
        assert_eq!(send_allowed_at(&state.recent_sends, NOW), None);
        assert!(is_send(&decide(ip("192.0.2.2"), &state, FP, NOW, false)));
    }

    #[test]
    fn the_daemon_looks_again_when_a_backoff_ends_but_not_for_one_that_ended() {
        let state = failed("192.0.2.1", 1, NOW + 60);
        assert_eq!(next_look(&state, NOW), Some(NOW + 60));
        assert_eq!(next_look(&state, NOW + 60), None);
        assert_eq!(next_look(&sent_at([NOW]), NOW), None);
    }

    #[test]
    fn a_flapping_address_is_sent_within_the_limit_and_its_final_value_goes() {
        // Passes every 3 s (the longest settling) for 30 minutes, each with a new address, as
        // the daemon makes them: a short hold is waited out, a long one ends at `next_look`.
        let flapping_until = NOW + 30 * 60;
        let address_at = |now: u64| match now {
            _ if now >= flapping_until => ip("192.0.2.4"),
            _ if now.is_multiple_of(2) => ip("192.0.2.2"),
            _ => ip("192.0.2.3"),
        };
        let mut state = published("192.0.2.1");
        let mut sends = Vec::new();
        let mut now = NOW;
        while now < flapping_until + 2 * SEND_WINDOW_SECS {
            let mut at = now;
            loop {
                match decide(address_at(at), &state, FP, at, false) {
                    Decision::Held { until } if until - at <= MIN_SEND_SPACING_SECS => at = until,
                    Decision::Send(_) => {
                        state = before_attempt(&state, address_at(at), at);
                        let good = Ok(Accepted { changed: true });
                        state = after_attempt(&state, address_at(at), &good, FP, at);
                        sends.push(at);
                        break;
                    }
                    _ => break,
                }
            }
            now = if now < flapping_until {
                at + 3
            } else {
                next_look(&state, at).unwrap_or(at + SEND_WINDOW_SECS)
            };
        }
        assert_eq!(state.published, Some(ip("192.0.2.4")));
        for (i, &sent) in sends.iter().enumerate() {
            let window = sends[i..]
                .iter()
                .take_while(|&&later| later < sent + SEND_WINDOW_SECS)
                .count();
            assert!(window <= SEND_BUDGET, "{window} sends from {sent}");
            if let Some(&next) = sends.get(i + 1) {
                assert!(next >= sent + MIN_SEND_SPACING_SECS, "{sent} then {next}");
            }
        }
        // 30 minutes of flapping: three windows' worth, then the final state.
        assert!(sends.len() <= 3 * SEND_BUDGET + 1, "{}", sends.len());
        assert!(sends.len() > SEND_BUDGET, "the budget was never used up");
    }

    #[test]
    fn an_attempt_cut_off_after_a_refusal_stays_blocked_until_the_config_changes() {
        let cut_off = before_attempt(&refused(Refusal::BadAuth), ip("192.0.2.8"), NOW);
        assert_eq!(
            decide(ip("192.0.2.1"), &cut_off, FP, NOW, false),
            Decision::Blocked(Refusal::BadAuth)
        );
    }

    #[test]
    fn changed_address_sends() {
        assert!(is_send(&decide(
            ip("192.0.2.2"),
            &published("192.0.2.1"),
            FP,
            NOW,
            false
        )));
    }

    #[test]
    fn force_sends_even_when_current_or_refused() {
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &published("192.0.2.1"),
            FP,
            NOW,
            true
        )));
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &refused(Refusal::BadAuth),
            FP,
            NOW,
            true
        )));
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &refused(Refusal::Abuse),
            FP,
            NOW,
            true
        )));
    }

    #[test]
    fn changed_config_sends_even_when_current() {
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &published("192.0.2.1"),
            "other",
            NOW,
            false
        )));
    }

    #[test]
    fn transient_failure_waits_until_the_retry_time() {
        let state = failed("192.0.2.1", 1, NOW + 60);
        assert_eq!(
            decide(ip("192.0.2.1"), &state, FP, NOW, false),
            Decision::Wait {
                until: NOW + 60,
                why: "retrying after 1 failure(s)".into()
            }
        );
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &state,
            FP,
            NOW + 60,
            false
        )));
    }

    #[test]
    fn address_change_cuts_the_retry_wait_short() {
        let state = failed("192.0.2.1", 3, NOW + 600);
        assert!(is_send(&decide(ip("192.0.2.9"), &state, FP, NOW, false)));
    }

    #[test]
    fn a_failure_to_send_the_published_address_again_is_retried_not_skipped() {
        let state = failed("192.0.2.1", 1, NOW - 1);
        assert!(is_send(&decide(ip("192.0.2.1"), &state, FP, NOW, false)));
    }

    #[test]
    fn every_permanent_refusal_blocks_until_the_config_changes() {
        for refusal in [
            Refusal::BadAuth,
            Refusal::NoHost,
            Refusal::NotFqdn,
            Refusal::BadSys,
            Refusal::BadAgent,
        ] {
            let state = refused(refusal);
            assert_eq!(state.next_attempt, None);
            assert_eq!(
                decide(ip("192.0.2.1"), &state, FP, NOW + 999_999, false),
                Decision::Blocked(refusal)
            );
            assert_eq!(
                decide(ip("192.0.2.7"), &state, FP, NOW, false),
                Decision::Blocked(refusal)
            );
            assert!(is_send(&decide(
                ip("192.0.2.1"),
                &state,
                "new password",
                NOW,
                false
            )));
        }
    }

    #[test]
    fn abuse_waits_a_day_even_across_config_and_address_changes() {
        let state = refused(Refusal::Abuse);
        assert_eq!(state.next_attempt, Some(NOW + ABUSE_LOCKOUT_SECS));
        for (address, fingerprint) in [("192.0.2.1", FP), ("192.0.2.8", FP), ("192.0.2.1", "other")]
        {
            let decision = decide(
                ip(address),
                &state,
                fingerprint,
                NOW + ABUSE_LOCKOUT_SECS - 1,
                false,
            );
            assert!(matches!(decision, Decision::Wait { .. }), "{decision:?}");
        }
        assert!(is_send(&decide(
            ip("192.0.2.1"),
            &state,
            FP,
            NOW + ABUSE_LOCKOUT_SECS,
            false
        )));
    }

    #[test]
    fn backoff_doubles_from_a_minute_to_half_an_hour() {
        let delays: Vec<u64> = (1..=8).map(retry_delay).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1800, 1800, 1800]);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY_SECS);
    }

    #[test]
    fn failures_accumulate_and_success_resets_them() {
        let transient = Err(Error::Server("911".into()));
        let mut state = RecordState::default();
        for expected in 1..=3 {
            state = after_attempt(&state, ip("192.0.2.1"), &transient, FP, NOW);
            assert_eq!(state.failures, expected);
            assert_eq!(state.next_attempt, Some(NOW + retry_delay(expected)));
            assert_eq!(state.published, None);
        }
        let good = Ok(Accepted { changed: true });
        state = after_attempt(&state, ip("192.0.2.1"), &good, FP, NOW + 10);
        assert_eq!(state.failures, 0);
        assert_eq!(state.next_attempt, None);
        assert_eq!(state.published, Some(ip("192.0.2.1")));
        assert_eq!(state.last_success, Some(NOW + 10));
        assert_eq!(state.last_result, Some(Outcome::Updated));
    }

    #[test]
    fn a_failure_keeps_the_last_published_address() {
        let state = after_attempt(
            &published("192.0.2.1"),
            ip("192.0.2.2"),
            &Err(Error::Transport("timed out".into())),
            FP,
            NOW,
        );
        assert_eq!(state.published, Some(ip("192.0.2.1")));
        assert_eq!(state.attempted, Some(ip("192.0.2.2")));
        assert_eq!(
            state.last_message.as_deref(),
            Some("connection failed: timed out")
        );
    }

    #[test]
    fn failure_count_restarts_when_the_config_changed() {
        let state = failed("192.0.2.1", 5, NOW);
        let next = after_attempt(
            &state,
            ip("192.0.2.1"),
            &Err(Error::Server("911".into())),
            "other",
            NOW,
        );
        assert_eq!(next.failures, 1);
    }

    const KEY: &[u8] = b"a key of this install";

    #[test]
    fn a_fingerprint_is_the_hex_hmac_of_the_length_prefixed_fields() {
        // Python's hmac over the fields, each after its length as 8 big-endian bytes: the
        // fingerprints in state files written by earlier versions keep matching.
        assert_eq!(
            fingerprint(&crate::state::tests::record(), KEY),
            "f7890278094166794f9c049750dabd3976c8b2a4f49998d8098b21ec75f6f029"
        );
    }

    #[test]
    fn fingerprint_follows_what_the_server_sees_and_nothing_else() {
        let base = crate::state::tests::record();
        let original = fingerprint(&base, KEY);
        assert_eq!(fingerprint(&base.clone(), KEY), original);
        let changes: [fn(&mut Record); 5] = [
            |r| r.password = crate::config::Secret::new("new password".into()),
            |r| r.username.push('x'),
            |r| r.hostname = "other.example.com".into(),
            |r| r.family = crate::config::Family::Ipv6,
            |r| r.server = "https://dns.example.net".into(),
        ];
        for change in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(fingerprint(&changed, KEY), original, "{changed:?}");
        }
        let mut moved = base.clone();
        moved.interface = "wan2".into();
        moved.name = "renamed".into();
        assert_eq!(fingerprint(&moved, KEY), original);
    }

    #[test]
    fn every_api_setting_is_in_the_fingerprint() {
        let api = crate::config::Api {
            endpoint: "https://eu.api.ovh.com/1.0".into(),
            zone: None,
            application_key: "AK".into(),
            application_secret: crate::config::Secret::new("AS".into()),
            consumer_key: crate::config::Secret::new("CK".into()),
            ttl: None,
        };
        let base = Record {
            api: Some(api),
            ..crate::state::tests::record()
        };
        let original = fingerprint(&base, KEY);
        assert_ne!(original, fingerprint(&crate::state::tests::record(), KEY));
        let changes: [fn(&mut crate::config::Api); 6] = [
            |a| a.endpoint = "https://ca.api.ovh.com/1.0".into(),
            |a| a.zone = Some("example.com".into()),
            |a| a.application_key.push('x'),
            |a| a.application_secret = crate::config::Secret::new("AS2".into()),
            |a| a.consumer_key = crate::config::Secret::new("CK2".into()),
            |a| a.ttl = Some(60),
        ];
        for change in changes {
            let mut changed = base.clone();
            change(changed.api.as_mut().expect("api"));
            assert_ne!(fingerprint(&changed, KEY), original, "{changed:?}");
        }
    }

    #[test]
    fn a_refresh_stays_pending_until_a_publication_succeeds() {
        let address = ip("203.0.113.7");
        let unrefreshed = Err(Error::Unrefreshed(Box::new(Error::Server(
            "HTTP 500".into(),
        ))));
        let pending = after_attempt(&RecordState::default(), address, &unrefreshed, FP, NOW);
        assert!(pending.refresh_pending);
        assert_eq!(pending.last_result, Some(Outcome::Failed));
        assert_eq!(pending.next_attempt, Some(NOW + FIRST_RETRY_SECS));
        let still = after_attempt(
            &pending,
            address,
            &Err(Error::Transport("down".into())),
            FP,
            NOW,
        );
        assert!(
            still.refresh_pending,
            "a failure before the refresh keeps it pending"
        );
        let done = Ok(Accepted { changed: true });
        assert!(!after_attempt(&still, address, &done, FP, NOW).refresh_pending);

        // A refused refresh is a refusal, and pending too.
        let denied = Err(Error::Unrefreshed(Box::new(Error::ApiRefused {
            refusal: Refusal::Denied,
            detail: "POST /domain/zone/example.com/refresh: HTTP 403".into(),
        })));
        let blocked = after_attempt(&RecordState::default(), address, &denied, FP, NOW);
        assert!(blocked.refresh_pending);
        assert_eq!(blocked.last_result, Some(Outcome::Refused(Refusal::Denied)));
    }

    #[test]
    fn fingerprint_fields_cannot_run_into_each_other() {
        let mut first = crate::state::tests::record();
        let mut second = first.clone();
        first.username = "ab".into();
        first.password = crate::config::Secret::new("c".into());
        second.username = "a".into();
        second.password = crate::config::Secret::new("bc".into());
        assert_ne!(fingerprint(&first, KEY), fingerprint(&second, KEY));
    }

    #[test]
    fn without_the_key_a_fingerprint_tells_nothing_of_the_password() {
        let record = crate::state::tests::record();
        let stored = fingerprint(&record, KEY);
        // What someone holding a copied state file would try: the right password, any key.
        for guess in [&b""[..], b"dynhost", b"a key of this install!"] {
            assert_ne!(fingerprint(&record, guess), stored);
        }
        assert_eq!(stored.len(), 64, "{stored}");
    }

    fn plan(state: &RecordState) -> &'static str {
        planned(state, || FP.into(), NOW).0
    }

    #[test]
    fn the_plan_follows_the_state() {
        assert_eq!(plan(&RecordState::default()), "send");
        assert_eq!(plan(&published("192.0.2.1")), "watch");
        let changed = RecordState {
            fingerprint: "other".into(),
            ..published("192.0.2.1")
        };
        assert_eq!(plan(&changed), "send");
        assert_eq!(plan(&failed("192.0.2.1", 2, NOW + 60)), "retry");
        assert_eq!(plan(&failed("192.0.2.1", 2, NOW - 1)), "retry");
        let (action, why) = planned(&refused(Refusal::BadAuth), || FP.into(), NOW);
        assert_eq!(action, "blocked");
        assert!(
            why.starts_with("badauth (wrong username or password)"),
            "{why}"
        );
        assert_eq!(plan(&refused(Refusal::Abuse)), "wait");
    }

    #[test]
    fn the_plan_of_a_record_never_attempted_computes_no_fingerprint() {
        let unasked = || -> String { panic!("nothing stored to compare the fingerprint with") };
        assert_eq!(planned(&RecordState::default(), unasked, NOW).0, "send");
    }

    #[test]
    fn a_changed_config_lifts_a_block_but_not_the_abuse_lock_out() {
        let fixed = |state: RecordState| RecordState {
            fingerprint: "fixed".into(),
            ..state
        };
        assert_eq!(plan(&fixed(refused(Refusal::BadAuth))), "send");
        assert_eq!(plan(&fixed(refused(Refusal::Abuse))), "wait");
    }
}
