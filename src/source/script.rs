//! The `script` source: a command of the owner's whose first output line is the address.

use std::net::IpAddr;
use std::time::Duration;

use super::child::{self, RunError, Stderr};
use crate::config::Family;
use crate::error::{excerpt, Error};

/// An address is one short line; more than this is not an address script's output.
const MAX_OUTPUT_BYTES: usize = 4096;

/// Runs `command` without a shell (so nothing in the config is ever interpreted by one), with
/// stdin closed, and kills it when it outlives `timeout`. Its stderr goes to the log, so the
/// script can explain its own failures there.
pub fn address(command: &[String], family: Family, timeout: Duration) -> Result<IpAddr, Error> {
    let (program, arguments) = command
        .split_first()
        .ok_or_else(|| Error::Address("the script command is empty".into()))?;
    let output = child::run(
        program,
        arguments,
        timeout,
        MAX_OUTPUT_BYTES,
        Stderr::Inherit,
    )
    .map_err(|e| {
        Error::Address(match e {
            RunError::NotFound(e) | RunError::Spawn(e) => {
                format!("cannot run script '{program}': {e}")
            }
            RunError::Read(e) => format!("reading the output of script '{program}': {e}"),
            RunError::TooLarge => format!(
                "script '{program}' printed more than {MAX_OUTPUT_BYTES} bytes, \
                 which is not an address"
            ),
            RunError::TimedOut => format!(
                "script '{program}' did not finish within {} s and was killed",
                timeout.as_secs()
            ),
        })
    })?;
    if !output.status.success() {
        return Err(Error::Address(format!(
            "script '{program}' failed ({})",
            output.status
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let first_line = text.lines().next().unwrap_or_default();
    parse_address(first_line.trim(), family)
        .map_err(|message| Error::Address(format!("script '{program}' {message}")))
}

fn parse_address(line: &str, family: Family) -> Result<IpAddr, String> {
    if line.is_empty() {
        return Err("printed no address".into());
    }
    let shown = excerpt(line);
    let address: IpAddr = line
        .parse()
        .map_err(|_| format!("printed {shown}, which is not an IP address"))?;
    if !family.matches(&address) {
        return Err(format!(
            "printed {shown}, which is not an {} address",
            family.name()
        ));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Family::{Ipv4, Ipv6};

    const LIMIT: Duration = Duration::from_secs(5);
    /// Far shorter than the 30 s the hanging commands sleep.
    const SHORT: Duration = Duration::from_millis(200);

    /// Word by word, as the config gives a command: nothing splits or interprets it.
    fn run(command: &[&str], family: Family, timeout: Duration) -> Result<IpAddr, String> {
        let command: Vec<String> = command.iter().map(|word| word.to_string()).collect();
        address(&command, family, timeout).map_err(|e| e.to_string())
    }

    /// The error `command` fails with, which must mention `expected`.
    fn refused(command: &[&str], family: Family, timeout: Duration, expected: &str) -> String {
        let error = run(command, family, timeout).unwrap_err();
        assert!(error.contains(expected), "{error}");
        error
    }

    #[test]
    fn takes_the_first_line() {
        assert_eq!(
            run(&["printf", "203.0.113.9\\nsecond-line\\n"], Ipv4, LIMIT),
            Ok("203.0.113.9".parse().unwrap())
        );
    }

    #[test]
    fn arguments_reach_the_command_without_a_shell() {
        refused(&["echo", "2001:db8::5;"], Ipv6, LIMIT, "'2001:db8::5;'");
        assert_eq!(
            run(&["echo", "2001:db8::5"], Ipv6, LIMIT),
            Ok("2001:db8::5".parse().unwrap())
        );
    }

    #[test]
    fn wrong_family_is_rejected() {
        refused(&["echo", "2001:db8::5"], Ipv4, LIMIT, "not an ipv4 address");
    }

    #[test]
    fn control_characters_in_the_output_never_reach_the_log() {
        let command = ["printf", "\\033[2J203.0.113.9"];
        let error = refused(&command, Ipv4, LIMIT, "'?[2J203.0.113.9'");
        assert!(!error.contains('\u{1b}'), "{error}");
    }

    #[test]
    fn garbage_and_silence_are_rejected() {
        refused(&["echo", "hello"], Ipv4, LIMIT, "not an IP address");
        refused(&["true"], Ipv4, LIMIT, "printed no address");
    }

    #[test]
    fn failing_command_is_reported_with_its_status() {
        refused(&["false"], Ipv4, LIMIT, "failed");
    }

    #[test]
    fn missing_command_is_named() {
        refused(&["/nonexistent/my-ip"], Ipv4, LIMIT, "/nonexistent/my-ip");
    }

    #[test]
    fn endless_output_is_refused() {
        let command = ["yes", "203.0.113.9"];
        refused(&command, Ipv4, LIMIT, "printed more than 4096 bytes");
    }

    #[test]
    fn invalid_utf8_is_shown_not_fatal() {
        let command = ["printf", "\\377203.0.113.9"];
        refused(&command, Ipv4, LIMIT, "not an IP address");
    }

    #[test]
    fn hanging_command_is_killed_at_the_deadline() {
        refused(&["sleep", "30"], Ipv4, SHORT, "killed");
    }

    #[test]
    fn a_background_process_holding_stdout_does_not_delay_the_address() {
        let command = ["sh", "-c", "sleep 30 & echo 192.0.2.1"];
        assert_eq!(run(&command, Ipv4, LIMIT), Ok("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn output_after_the_address_does_not_matter_but_a_late_exit_does() {
        let command = ["sh", "-c", "echo 192.0.2.1; sleep 30"];
        refused(&command, Ipv4, SHORT, "killed");
    }
}
