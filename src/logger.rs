//! Where dynhost's log lines go, and how they look to a router owner.
//!
//! Under procd an instance's stderr reaches the system log at `err` priority whatever it says,
//! so a daemon that logs to stderr shows "updated to …" as an error. With `--syslog` each line
//! goes to the system log socket itself, the way OpenWrt's own daemons log, with the priority
//! its level deserves; logd adds the time. Without the socket (or without `--syslog`, at a
//! terminal) lines go to stderr, prefixed with what the priority would have said.
//!
//! simple_logger was replaced by this because it writes every level to one stream and knows
//! no syslog; this is also smaller.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Where OpenWrt's logd (and every syslog daemon) listens.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// Logs a debug line of dynhost's own, shown with `-v`, like `log::debug!` would.
///
/// log's compile-time filter stops at `info` (Cargo.toml): that removes the debug records of
/// ureq and rustls from the binary, which the logger drops anyway (~26 KB on mipsel), but
/// `log::debug!` would be removed with them. This one skips that filter, not the level chosen
/// at run time. clippy.toml forbids `log::debug!` and `log::trace!`, which would vanish silently.
#[macro_export]
macro_rules! debug {
    ($($message:tt)+) => {
        if log::max_level() >= log::LevelFilter::Debug {
            $crate::logger::debug(module_path!(), format_args!($($message)+));
        }
    };
}

/// What [`debug!`] expands to, so each call site stays one call.
pub fn debug(target: &str, message: std::fmt::Arguments) {
    log::logger().log(
        &Record::builder()
            .level(Level::Debug)
            .target(target)
            .args(message)
            .build(),
    );
}

/// How the lines of one program run are written.
pub struct Logger {
    level: LevelFilter,
    syslog: Option<Syslog>,
}

struct Syslog {
    socket: UnixDatagram,
    path: PathBuf,
    /// `dynhost[PID]`, the tag `logread -e dynhost` finds.
    tag: String,
}

impl Logger {
    /// `syslog`: the socket to log to; `None` logs to stderr.
    pub fn new(level: LevelFilter, syslog: Option<&Path>) -> Logger {
        let syslog = syslog.and_then(|path| {
            Some(Syslog {
                socket: UnixDatagram::unbound().ok()?,
                path: path.to_path_buf(),
                tag: format!("dynhost[{}]", std::process::id()),
            })
        });
        Logger { level, syslog }
    }

    /// Makes this the logger of the process.
    pub fn install(self) {
        log::set_max_level(self.level);
        // Only main calls this, once.
        let _ = log::set_boxed_logger(Box::new(self));
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        // The libraries' chatter is not ours to show, their warnings and errors are.
        let ours = metadata.target().starts_with(env!("CARGO_CRATE_NAME"));
        metadata.level() <= self.level && (ours || metadata.level() <= Level::Warn)
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = one_line(&record.args().to_string());
        if let Some(syslog) = &self.syslog {
            let line = syslog_line(record.level(), &syslog.tag, &message);
            // logd gone (restarting, or never there): the line still goes somewhere.
            if syslog.socket.send_to(line.as_bytes(), &syslog.path).is_ok() {
                return;
            }
        }
        // One write per line: stderr is unbuffered, and writeln! would write the newline apart.
        let mut line = stderr_line(record.level(), &message);
        line.push('\n');
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// The syslog priority of a level, in the daemon facility.
fn priority(level: Level) -> libc::c_int {
    let severity = match level {
        Level::Error => libc::LOG_ERR,
        Level::Warn => libc::LOG_WARNING,
        Level::Info => libc::LOG_INFO,
        Level::Debug | Level::Trace => libc::LOG_DEBUG,
    };
    libc::LOG_DAEMON | severity
}

/// A datagram for the syslog socket: priority and tag, no timestamp (logd adds its own).
fn syslog_line(level: Level, tag: &str, message: &str) -> String {
    format!("<{}>{tag}: {message}", priority(level))
}

fn stderr_line(level: Level, message: &str) -> String {
    match level {
        Level::Error => format!("dynhost: error: {message}"),
        Level::Warn => format!("dynhost: warning: {message}"),
        Level::Info | Level::Debug | Level::Trace => format!("dynhost: {message}"),
    }
}

/// One log entry per line: a message that quotes something with a line break in it must not
/// forge a second entry.
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_has_its_priority_and_its_word() {
        for (level, datagram, on_stderr) in [
            (Level::Error, "<27>dynhost[7]: m", "dynhost: error: m"),
            (Level::Warn, "<28>dynhost[7]: m", "dynhost: warning: m"),
            (Level::Info, "<30>dynhost[7]: m", "dynhost: m"),
            (Level::Debug, "<31>dynhost[7]: m", "dynhost: m"),
        ] {
            assert_eq!(syslog_line(level, "dynhost[7]", "m"), datagram);
            assert_eq!(stderr_line(level, "m"), on_stderr);
        }
    }

    #[test]
    fn the_libraries_debug_records_are_not_compiled_in() {
        assert_eq!(log::STATIC_MAX_LEVEL, LevelFilter::Info);
    }

    #[test]
    fn a_message_cannot_forge_a_second_entry() {
        assert_eq!(one_line("a\nb\r\tc"), "a b  c");
    }

    fn record_at(level: Level, target: &str, run: impl FnOnce(&Record)) {
        run(&Record::builder()
            .level(level)
            .target(target)
            .args(format_args!(
                "home4 (home.example.com ipv4): updated to 192.0.2.7"
            ))
            .build());
    }

    #[test]
    fn lines_reach_the_syslog_socket_with_their_priority() {
        let dir = std::env::temp_dir().join(format!("dynhost-logger-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let daemon = UnixDatagram::bind(&path).unwrap();
        let logger = Logger::new(LevelFilter::Info, Some(&path));
        record_at(Level::Info, "dynhost::pass", |record| logger.log(record));
        record_at(Level::Warn, "ureq::unit", |record| logger.log(record));
        record_at(Level::Info, "rustls::client", |record| logger.log(record));
        record_at(Level::Debug, "dynhost::pass", |record| logger.log(record));
        daemon.set_nonblocking(true).unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 512];
        while let Ok(size) = daemon.recv(&mut buffer) {
            received.push(String::from_utf8_lossy(&buffer[..size]).into_owned());
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let tag = format!("dynhost[{}]", std::process::id());
        let line = "home4 (home.example.com ipv4): updated to 192.0.2.7";
        assert_eq!(
            received,
            [format!("<30>{tag}: {line}"), format!("<28>{tag}: {line}")]
        );
    }
}
