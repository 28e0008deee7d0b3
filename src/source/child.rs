//! Runs an external program (the owner's address script, `ubus`) safely: without a shell (so
//! nothing is ever interpreted by one), with stdin closed, its output captured up to a cap, and
//! in a process group of its own, killed whole when the program exits or outlives its time
//! limit: what it started in the background cannot outlive the pass, nor keep dynhost waiting.
//!
//! One `poll` waits for its output and its exit together (the exit through a pidfd, Linux 5.3
//! and later): no thread, no sleep.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::sys;

/// How much of the output one read takes.
const READ_CHUNK: usize = 4096;

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
    /// What it printed on stdout before it exited (at most the cap given to [`run`]).
    pub stdout: Vec<u8>,
}

/// Why a program gave no [`Output`]. The program, when it was started, has been killed with
/// its process group and reaped.
#[derive(Debug)]
pub enum RunError {
    /// The program does not exist (or, for a bare name, is on no directory of PATH).
    NotFound(io::Error),
    /// The program exists but could not be started (permissions, not an executable, ...), or
    /// its exit could not be watched.
    Spawn(io::Error),
    /// Reading its output failed.
    Read(io::Error),
    /// It printed more than the cap on stdout.
    TooLarge,
    /// It did not finish within the time limit.
    TimedOut,
}

/// Runs `program` with `args` and returns its exit status and what it printed on stdout until
/// it exited, which must fit in `max_output` bytes. `program` without a slash is looked up on
/// PATH. The program is killed when its output is too large or when it has not exited within
/// `timeout`; whatever else its process group holds is killed when it exits.
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
        .process_group(0)
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => RunError::NotFound(e),
            _ => RunError::Spawn(e),
        })?;
    let stdout = collect(&mut child, deadline, max_output);
    // Before the program is reaped, while its number still names its group and nothing else.
    // Killing fails only for a member that changed its user; that one is left alone.
    let _ = sys::kill_group(child.id());
    let status = child.wait().map_err(RunError::Read)?;
    Ok(Output {
        status,
        stdout: stdout?,
    })
}

/// Reads the program's stdout until it exits, then what it wrote before exiting, and returns
/// it; the pipe is not waited on after that, since a background process may hold it open.
fn collect(child: &mut Child, deadline: Instant, max_output: usize) -> Result<Vec<u8>, RunError> {
    let exit = sys::ProcessFd::open(child.id()).map_err(RunError::Spawn)?;
    let mut stdout = child.stdout.take();
    let mut output = Vec::new();
    let mut exited = false;
    loop {
        let mut fds = vec![exit.as_fd()];
        fds.extend(stdout.as_ref().map(AsFd::as_fd));
        // Once it has exited, only what is already in the pipe is read.
        let wait = if exited {
            Duration::ZERO
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        let ready = sys::wait_readable(&fds, Some(wait)).map_err(RunError::Read)?;
        exited |= ready[0];
        match (&mut stdout, ready.get(1)) {
            (Some(pipe), Some(true)) => {
                let mut chunk = [0u8; READ_CHUNK];
                match pipe.read(&mut chunk) {
                    Ok(0) => stdout = None,
                    Ok(length) => output.extend_from_slice(&chunk[..length]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(RunError::Read(e)),
                }
                if output.len() > max_output {
                    return Err(RunError::TooLarge);
                }
            }
            _ if exited => return Ok(output),
            _ if Instant::now() >= deadline => return Err(RunError::TimedOut),
            _ => {}
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

    /// Whether process `pid` is gone (or dead and waiting for its parent), within 5 s: killing
    /// is asynchronous.
    fn is_gone(pid: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // The state follows the parenthesised command name.
            let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
            if matches!(state, None | Some("Z" | "X")) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::yield_now();
        }
    }

    #[test]
    fn what_the_program_leaves_running_is_killed_when_it_exits() {
        let start = Instant::now();
        let output = sh("sleep 30 & echo $!", LIMIT, 100).expect("runs");
        assert!(output.status.success());
        assert!(start.elapsed() < LIMIT, "waited for the background child");
        let pid = String::from_utf8(output.stdout).unwrap();
        assert!(is_gone(pid.trim()), "background child {pid} still runs");
    }

    #[test]
    fn what_the_program_started_is_killed_with_it_at_the_deadline() {
        let dir = std::env::temp_dir().join(format!("dynhost-command-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("background.pid");
        let script = format!(
            "sleep 30 & echo $! > '{}'; exec sleep 30",
            pid_file.display()
        );
        assert!(matches!(
            sh(&script, Duration::from_millis(200), 5),
            Err(RunError::TimedOut)
        ));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(is_gone(pid.trim()), "background child {pid} still runs");
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
