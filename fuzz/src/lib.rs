//! What the fuzz targets check in common.

use dynhost::config::Family;
use dynhost::error::Error;
use dynhost::rules::{self, Candidate};

/// Errors end up in log lines and in `check`'s output, one line per record: text read from
/// outside must not be able to break that line or write a fake one.
pub fn assert_one_line(what: &str, text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "{what} is not one printable line: {text:?}"
    );
}

pub fn assert_error_is_one_line(error: &Error) {
    assert_one_line("error message", &error.to_string());
}

/// Hands what a source found to the publishing rules, as `source::choose` does: the address
/// they pick must be one of the candidates that breaks no rule.
pub fn check_choice(family: Family, place: &str, candidates: Vec<Candidate>) {
    let choice = rules::choose(family, place, candidates.clone(), None, true);
    match choice.outcome {
        Ok(address) => assert!(
            candidates
                .iter()
                .any(|c| c.address == address && rules::rejection(family, c).is_none()),
            "{address} chosen from {candidates:?}"
        ),
        Err(message) => assert_one_line("the reason nothing was chosen", &message),
    }
}
