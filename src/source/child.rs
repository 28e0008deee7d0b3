//! Runs an external program (the owner's address script, `ubus`) safely: without a shell (so
//! nothing is ever interpreted by one), with stdin closed, its output captured up to a cap, and
//! killed and reaped when it outlives its time limit.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often to look whether the program has exited once its output is complete.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// Where the program's stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// To dynhost's own stderr (the system log): the owner's script explains its own failures.
    Inherit,
    /// Nowhere: the caller phrases its own errors.
    Discard,
}

/// What a program that finished in time left behind.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    /// Everything it printed on stdout (at most the cap given to [`run`]).
    pub stdout: Vec<u8>,
}

/// Why a program gave no [`Output`]. The program, when it was started, has been killed and
/// reaped.
#[derive(Debug)]
pub enum RunError {
    /// The program does not exist (or, for a bare name, is on no directory of PATH).
    NotFound(io::Error),
    /// The program exists but could not be started (permissions, not an executable, ...).
    Spawn(io::Error),
    /// Reading its output failed.
    Read(io::Error),
    /// It printed more than the cap on stdout.
    TooLarge,
    /// It did not finish within the time limit.
    TimedOut,
}

/// Runs `program` with `args` and returns its exit status and stdout, which must fit in
/// `max_output` bytes. `program` without a slash is looked up on PATH. The program is killed
/// when its output is too large or when it has not both closed its stdout and exited within
/// `timeout`.
pub fn run<S: AsRef<OsStr>>(
    program: &str,
    args: &[S],
    timeout: Duration,
    max_output: usize,
    stderr: Stderr,
) -> Result<Output, RunError> {
    let deadline = Instant::now() + timeout;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(match stderr {
            Stderr::Inherit => Stdio::inherit(),
            Stderr::Discard => Stdio::null(),
        })
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => RunError::NotFound(e),
            _ => RunError::Spawn(e),
        })?;

    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    // A thread, so that a program that never closes its stdout cannot hold us past the
    // deadline. One more byte than the cap is read to tell "exactly the cap" from "more".
    // If a grandchild keeps the pipe open after the kill, the thread ends when it does.
    let limit = u64::try_from(max_output)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    std::thread::spawn(move || {
        let mut output = Vec::new();
        let result = stdout.take(limit).read_to_end(&mut output).map(|_| output);
        let _ = sender.send(result);
    });
    let stdout = match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(output)) if output.len() > max_output => {
            stop(&mut child);
            return Err(RunError::TooLarge);
        }
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            stop(&mut child);
            return Err(RunError::Read(e));
        }
        Err(_) => {
            stop(&mut child);
            return Err(RunError::TimedOut);
        }
    };
    let status = wait_until(&mut child, deadline).ok_or(RunError::TimedOut)?;
    Ok(Output { status, stdout })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for the exit status; kills the program at the deadline.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(5);

    fn sh(script: &str, timeout: Duration, max_output: usize) -> Result<Output, RunError> {
        run("sh", &["-c", script], timeout, max_output, Stderr::Discard)
    }

    #[test]
    fn captures_all_of_stdout_and_the_exit_status() {
        let output = sh("printf 'one\\ntwo\\n'; exit 3", LIMIT, 100).expect("runs");
        assert_eq!(output.stdout, b"one\ntwo\n");
        assert_eq!(output.status.code(), Some(3));
    }

    #[test]
    fn arguments_are_passed_as_they_are() {
        let output = run(
            "printf",
            &[String::from("%s|"), "a b".into(), "$HOME;".into()],
            LIMIT,
            100,
            Stderr::Discard,
        )
        .expect("runs");
        assert_eq!(output.stdout, b"a b|$HOME;|");
    }

    #[test]
    fn output_up_to_the_cap_is_fine_and_more_is_an_error() {
        let output = sh("printf 12345", LIMIT, 5).expect("runs");
        assert_eq!(output.stdout, b"12345");
        assert!(matches!(
            sh("printf 123456", LIMIT, 5),
            Err(RunError::TooLarge)
        ));
    }

    #[test]
    fn endless_output_is_cut_at_the_cap() {
        assert!(matches!(
            run("yes", &[] as &[&str], LIMIT, 1 << 16, Stderr::Discard),
            Err(RunError::TooLarge)
        ));
    }

    #[test]
    fn a_missing_program_is_told_apart() {
        for program in ["/nonexistent/program", "dynhost-no-such-program-on-path"] {
            match run(program, &[] as &[&str], LIMIT, 5, Stderr::Discard) {
                Err(RunError::NotFound(_)) => {}
                other => panic!("{program}: {other:?}"),
            }
        }
        match run("/", &[] as &[&str], LIMIT, 5, Stderr::Discard) {
            Err(RunError::Spawn(_)) => {}
            other => panic!("{other:?}"),
        }
    }

    /// The scripts sleep 30 s, so ending within 10 s shows they were killed, not waited for.
    fn assert_killed_at_the_deadline(script: &str) {
        let start = Instant::now();
        let result = sh(script, Duration::from_millis(200), 5);
        assert!(matches!(result, Err(RunError::TimedOut)), "{result:?}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_program_that_keeps_its_stdout_open_is_killed_at_the_deadline() {
        assert_killed_at_the_deadline("exec sleep 30");
    }

    #[test]
    fn a_program_that_closes_its_stdout_but_lingers_is_killed_at_the_deadline() {
        assert_killed_at_the_deadline("exec >&-; exec sleep 30");
    }
}
