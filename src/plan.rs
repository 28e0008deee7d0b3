//! What a pass does for one record, from what its source found and what its state remembers:
//! the publishing rules pick the address, then the decision says whether to send it. Pure, and
//! the one path both `update` (which follows it) and `check` (which shows it) take, so that
//! `check` can never tell of something `update` would not do.

use std::net::IpAddr;

use crate::config::Record;
use crate::decision::{self, Decision};
use crate::error::Error;
use crate::rules::{Candidate, Verdict};
use crate::source::{self, Detection};
use crate::state::RecordState;

/// The plan for one record.
#[derive(Debug)]
pub struct Plan {
    /// Every candidate the source found, with the rules' verdict; none when the source failed.
    pub assessed: Vec<(Candidate, Verdict)>,
    /// The address to publish and what to do about it, or why there is none.
    pub next: Result<(IpAddr, Decision), Error>,
}

/// Plans `record`'s pass at `now` from what its source found (`detected`), its `state` and its
/// config `fingerprint` ([`decision::fingerprint`]); `force` sends even when the record is
/// current.
pub fn plan(
    record: &Record,
    detected: Result<Detection, Error>,
    state: &RecordState,
    fingerprint: &str,
    now: u64,
    force: bool,
) -> Plan {
    let detection = match detected {
        Ok(detection) => detection,
        Err(error) => {
            return Plan {
                assessed: Vec::new(),
                next: Err(error),
            }
        }
    };
    let choice = source::choose(record, detection, state.published);
    let next = choice.outcome.map_err(Error::Address).map(|address| {
        let decision = decision::decide(address, state, fingerprint, now, force);
        (address, decision)
    });
    Plan {
        assessed: choice.assessed,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::record;
    use crate::state::Outcome;

    const NOW: u64 = 1_700_000_000;
    const FP: &str = "the record's fingerprint";

    fn found(addresses: &[&str]) -> Result<Detection, Error> {
        Ok(Detection {
            place: "interface 'wan'".into(),
            candidates: addresses
                .iter()
                .map(|address| Candidate::bare(address.parse().expect("address"), "test"))
                .collect(),
        })
    }

    #[test]
    fn a_source_that_fails_plans_nothing() {
        let failed = Err(Error::Address("interface 'wan' is down".into()));
        let plan = plan(&record(), failed, &RecordState::default(), FP, NOW, false);
        assert!(plan.assessed.is_empty());
        let error = plan.next.expect_err("no address");
        assert_eq!(
            error.to_string(),
            "no usable address: interface 'wan' is down"
        );
    }

    #[test]
    fn candidates_the_rules_refuse_are_shown_with_the_reason_nothing_is_sent() {
        let plan = plan(
            &record(),
            found(&["192.168.1.2"]),
            &RecordState::default(),
            FP,
            NOW,
            false,
        );
        assert_eq!(plan.assessed.len(), 1);
        assert!(matches!(plan.assessed[0].1, Verdict::Rejected(_)));
        assert!(
            matches!(plan.next, Err(Error::Address(_))),
            "{:?}",
            plan.next
        );
    }

    #[test]
    fn the_chosen_address_is_sent_or_skipped_as_the_state_says() {
        let address: IpAddr = "203.0.113.7".parse().expect("address");
        let record = record();
        let first = plan(
            &record,
            found(&["203.0.113.7"]),
            &RecordState::default(),
            FP,
            NOW,
            false,
        );
        assert!(matches!(first.next, Ok((a, Decision::Send(_))) if a == address));
        let current = RecordState {
            fingerprint: FP.into(),
            published: Some(address),
            last_result: Some(Outcome::Updated),
            ..RecordState::default()
        };
        let again = plan(&record, found(&["203.0.113.7"]), &current, FP, NOW, false);
        assert!(
            matches!(again.next, Ok((_, Decision::Skip(_)))),
            "{:?}",
            again.next
        );
        let forced = plan(&record, found(&["203.0.113.7"]), &current, FP, NOW, true);
        assert!(
            matches!(forced.next, Ok((_, Decision::Send(_)))),
            "{:?}",
            forced.next
        );
    }
}
