//! The `script` source: a command of the owner's whose first output line is the address.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::config::Family;
use crate::error::{excerpt, Error};

/// An address is one short line; more than this is not an address script's output.
const MAX_OUTPUT_BYTES: u64 = 4096;
/// How often to look whether the command has exited once its output is complete.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// Runs `command` without a shell (so nothing in the config is ever interpreted by one), with
/// stdin closed, and kills it when it outlives `timeout`.
pub fn address(command: &[String], family: Family, timeout: Duration) -> Result<IpAddr, Error> {
    let (program, arguments) = command
        .split_first()
        .ok_or_else(|| Error::Address("the script command is empty".into()))?;
    let deadline = Instant::now() + timeout;
    let mut child = Command::new(program)
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::Address(format!("cannot run script '{program}': {e}")))?;

    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut output = String::new();
        let result = BufReader::new(stdout.take(MAX_OUTPUT_BYTES))
            .read_line(&mut output)
            .map(|_| output);
        let _ = sender.send(result);
    });
    let first_line = match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => {
            stop(&mut child);
            return Err(Error::Address(format!(
                "reading the output of script '{program}': {e}"
            )));
        }
        Err(_) => {
            stop(&mut child);
            return Err(timed_out(program, timeout));
        }
    };
    let status = wait_until(&mut child, deadline).ok_or_else(|| timed_out(program, timeout))?;
    if !status.success() {
        return Err(Error::Address(format!(
            "script '{program}' failed ({status})"
        )));
    }
    parse_address(first_line.trim(), family)
        .map_err(|message| Error::Address(format!("script '{program}' {message}")))
}

fn timed_out(program: &str, timeout: Duration) -> Error {
    Error::Address(format!(
        "script '{program}' did not finish within {} s and was killed",
        timeout.as_secs()
    ))
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for the exit status; kills the command at the deadline.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(EXIT_POLL),
            _ => {
                stop(child);
                return None;
            }
        }
    }
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

    fn words(command: &str) -> Vec<String> {
        command.split_whitespace().map(String::from).collect()
    }

    fn run(command: &str, family: Family) -> Result<IpAddr, String> {
        address(&words(command), family, Duration::from_secs(5)).map_err(|e| e.to_string())
    }

    #[test]
    fn takes_the_first_line() {
        assert_eq!(
            run("printf 203.0.113.9\\nsecond-line\\n", Family::Ipv4),
            Ok("203.0.113.9".parse().unwrap())
        );
    }

    #[test]
    fn arguments_reach_the_command_without_a_shell() {
        let error = run("echo 2001:db8::5;", Family::Ipv6).unwrap_err();
        assert!(error.contains("'2001:db8::5;'"), "{error}");
        assert_eq!(
            run("echo 2001:db8::5", Family::Ipv6),
            Ok("2001:db8::5".parse().unwrap())
        );
    }

    #[test]
    fn wrong_family_is_rejected() {
        let error = run("echo 2001:db8::5", Family::Ipv4).unwrap_err();
        assert!(error.contains("not an ipv4 address"), "{error}");
    }

    #[test]
    fn control_characters_in_the_output_never_reach_the_log() {
        let command = ["printf", "\\033[2J203.0.113.9"].map(String::from);
        let error = address(&command, Family::Ipv4, Duration::from_secs(5)).unwrap_err();
        assert!(!error.to_string().contains('\u{1b}'), "{error}");
        assert!(error.to_string().contains("'?[2J203.0.113.9'"), "{error}");
    }

    #[test]
    fn garbage_and_silence_are_rejected() {
        assert!(run("echo hello", Family::Ipv4)
            .unwrap_err()
            .contains("not an IP address"));
        assert!(run("true", Family::Ipv4)
            .unwrap_err()
            .contains("printed no address"));
    }

    #[test]
    fn failing_command_is_reported_with_its_status() {
        let error = run("false", Family::Ipv4).unwrap_err();
        assert!(error.contains("failed"), "{error}");
    }

    #[test]
    fn missing_command_is_named() {
        let error = run("/nonexistent/my-ip", Family::Ipv4).unwrap_err();
        assert!(error.contains("/nonexistent/my-ip"), "{error}");
    }

    #[test]
    fn hanging_command_is_killed_at_the_deadline() {
        let error =
            address(&words("sleep 30"), Family::Ipv4, Duration::from_millis(200)).unwrap_err();
        assert!(error.to_string().contains("killed"), "{error}");
    }

    #[test]
    fn output_after_the_address_does_not_matter_but_a_late_exit_does() {
        let command = ["sh", "-c", "echo 192.0.2.1; sleep 30"].map(String::from);
        let error = address(&command, Family::Ipv4, Duration::from_millis(200)).unwrap_err();
        assert!(error.to_string().contains("killed"), "{error}");
    }
}
