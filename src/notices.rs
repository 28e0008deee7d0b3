//! Saying a thing once. The daemon looks at every record at each periodic check, retry and
//! event; a record that stays refused, backed off or current would otherwise log the same line
//! at every look (144 lines a day per record at the default interval, at `daemon.err` for a
//! refusal). A record's state is logged when it starts and when it changes, and as a reminder
//! once a day while it lasts; `status` is where the current state is read. A one-shot `update`
//! starts with nothing said, so it says everything.

use std::collections::HashMap;

/// How often a state that lasts is mentioned again.
pub const REMINDER_SECS: u64 = 24 * 60 * 60;

/// What was last said about each record, and when (unix seconds).
#[derive(Debug, Default)]
pub struct Notices {
    said: HashMap<String, (String, u64)>,
}

impl Notices {
    /// Whether `state` is news about `record` at `now`: it differs from what was last said, or
    /// that was said a day ago. Either way it is what was said from now on.
    pub fn is_news(&mut self, record: &str, state: &str, now: u64) -> bool {
        let news = match self.said.get(record) {
            Some((said, at)) => said != state || now.saturating_sub(*at) >= REMINDER_SECS,
            None => true,
        };
        if news {
            self.said
                .insert(record.to_string(), (state.to_string(), now));
        }
        news
    }

    /// Something that is always logged (a send and its result) led to `state`, which a later
    /// look need not repeat.
    pub fn said(&mut self, record: &str, state: &str, now: u64) {
        self.said
            .insert(record.to_string(), (state.to_string(), now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_news_when_it_starts_changes_or_a_day_passed() {
        let mut notices = Notices::default();
        assert!(notices.is_news("home", "refused badauth", 0));
        for now in [1, 600, REMINDER_SECS - 1] {
            assert!(!notices.is_news("home", "refused badauth", now), "{now}");
        }
        assert!(
            notices.is_news("office", "refused badauth", 5),
            "another record"
        );
        assert!(notices.is_news("home", "refused badauth", REMINDER_SECS));
        assert!(!notices.is_news("home", "refused badauth", REMINDER_SECS + 1));
        assert!(notices.is_news("home", "current 192.0.2.1", REMINDER_SECS + 2));
        assert!(notices.is_news("home", "refused badauth", REMINDER_SECS + 3));
    }

    #[test]
    fn what_a_send_led_to_is_not_repeated() {
        let mut notices = Notices::default();
        notices.said("home", "current 192.0.2.1", 0);
        assert!(!notices.is_news("home", "current 192.0.2.1", 600));
        assert!(notices.is_news("home", "current 192.0.2.2", 1200));
    }
}
