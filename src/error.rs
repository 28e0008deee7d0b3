//! The one error type of dynhost.
//!
//! Every failure is one of three kinds, and the kind decides what happens next: a usage or
//! configuration error stops the program before anything is sent, a transient failure is retried
//! later with growing delays, and a permanent refusal stops sending for that record until its
//! configuration changes.

use std::fmt;
use std::path::PathBuf;

use crate::decision;

/// What the caller should do about an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// May pass by itself: retry later.
    Transient,
    /// Will not pass until the record's configuration changes.
    Permanent,
    /// The command line or the configuration is wrong: nothing was attempted.
    Usage,
}

/// How much of an untrusted text (a server reply, a script's output) is worth quoting.
const EXCERPT_CHARS: usize = 80;

/// A quoted, bounded, one-line excerpt of untrusted text, safe to put in an error or a log line.
pub fn excerpt(text: &str) -> String {
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().count() > EXCERPT_CHARS {
        format!("'{printable}...'")
    } else {
        format!("'{printable}'")
    }
}

/// A refusal that retrying cannot fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    BadAuth,
    NoHost,
    NotFqdn,
    BadSys,
    BadAgent,
    Abuse,
    /// The OVHcloud API refused the keys or the call (401, 403, a bad signature).
    Denied,
    /// The OVHcloud API refused the request itself (another 400).
    BadRequest,
    /// The zone is not the account's, or no zone of the account holds the host name.
    NoZone,
    /// Several records of the name and type: which one to change is the owner's choice.
    Ambiguous,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::BadAuth => "badauth",
            Refusal::NoHost => "nohost",
            Refusal::NotFqdn => "notfqdn",
            Refusal::BadSys => "badsys",
            Refusal::BadAgent => "badagent",
            Refusal::Abuse => "abuse",
            Refusal::Denied => "denied",
            Refusal::BadRequest => "badrequest",
            Refusal::NoZone => "nozone",
            Refusal::Ambiguous => "ambiguous",
        }
    }

    pub fn from_code(word: &str) -> Option<Refusal> {
        [
            Refusal::BadAuth,
            Refusal::NoHost,
            Refusal::NotFqdn,
            Refusal::BadSys,
            Refusal::BadAgent,
            Refusal::Abuse,
            Refusal::Denied,
            Refusal::BadRequest,
            Refusal::NoZone,
            Refusal::Ambiguous,
        ]
        .into_iter()
        .find(|refusal| refusal.code().eq_ignore_ascii_case(word))
    }

    /// What the owner has to do, in words.
    pub fn explanation(self) -> &'static str {
        match self {
            Refusal::BadAuth => "wrong username or password",
            Refusal::NoHost => "host name not in the zone or not covered by this username",
            Refusal::NotFqdn => "host name is not a fully qualified domain name",
            Refusal::BadSys => {
                "the server rejected the request format (a dynhost bug: please report it)"
            }
            Refusal::BadAgent => "the server blocked this client or the request format",
            Refusal::Abuse => "the record is blocked for too many updates",
            Refusal::Denied => {
                "check application_key, application_secret, consumer_key, the endpoint and \
                 that the consumer key was validated with these access rules"
            }
            Refusal::BadRequest => "the API refused the request as written",
            Refusal::NoZone => "check zone and hostname: the account has no such zone",
            Refusal::Ambiguous => "delete all but one of them in the zone",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.explanation())
    }
}

#[derive(Debug)]
pub enum Error {
    /// The command line could not be understood.
    Usage(String),
    /// A file (config, CA bundle, state dir) could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The config file breaks the UCI grammar; `line` is 1-based.
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The config file parses but a value is not acceptable.
    ConfigValue {
        section: String,
        option: String,
        message: String,
    },
    /// The address source failed or gave nothing usable (yet).
    Address(String),
    /// The interface the record follows is down: a routine state of a router (a PPPoE
    /// reconnect, a cable out), which passes when it comes up; nothing to publish until then.
    InterfaceDown(String),
    /// The HTTPS exchange failed before a complete reply arrived: DNS, connect, TLS, timeout,
    /// or a reply too large or malformed to read.
    Transport(String),
    /// The server answered, but with something that is neither success nor a known refusal:
    /// `911`/`dnserr`, a 5xx, a redirect, a success word with an error status, or an unknown body.
    Server(String),
    /// The server refused the update for a reason that will not pass by itself.
    Refused(Refusal),
    /// The OVHcloud API refused a call for a reason that will not pass by itself; `detail`
    /// quotes the call, the server's message and its query id.
    ApiRefused { refusal: Refusal, detail: String },
    /// The OVHcloud API changed the record but refreshing its zone failed as the inner error
    /// says, so the change is not served yet. It is as transient or permanent as the inner
    /// error, and the next attempt refreshes the zone even if the record matches by then.
    Unrefreshed(Box<Error>),
    /// An earlier attempt failed and its retry time has not come yet, so nothing was sent.
    Backoff { last_failure: String, retry_in: u64 },
    /// The record was sent as often as the send limit allows: nothing was sent, the address
    /// may go in `retry_in` seconds.
    SendLimit { retry_in: u64 },
    /// A record's state could not be written (a full disk, something in the way): it is kept
    /// in memory by the process and written again later; a one-shot run forgets it.
    StateNotSaved { path: PathBuf, reason: String },
    /// `run` could not set up or keep watching its events (signals, address notifications);
    /// procd restarts it.
    Daemon(String),
    /// A command's output could not be written (a full disk behind a redirection). A reader
    /// that stopped reading (`dynhost status | head`) is not an error.
    Output(std::io::Error),
}

impl Error {
    pub fn severity(&self) -> Severity {
        match self {
            Error::Usage(_)
            | Error::Io { .. }
            | Error::ConfigSyntax { .. }
            | Error::ConfigValue { .. } => Severity::Usage,
            Error::Address(_)
            | Error::InterfaceDown(_)
            | Error::Transport(_)
            | Error::Server(_)
            | Error::Backoff { .. }
            | Error::SendLimit { .. }
            | Error::StateNotSaved { .. }
            | Error::Daemon(_)
            | Error::Output(_) => Severity::Transient,
            Error::Unrefreshed(error) => error.severity(),
            Error::Refused(_) | Error::ApiRefused { .. } => Severity::Permanent,
        }
    }

    /// The refusal a permanent error stands for.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Refused(refusal) | Error::ApiRefused { refusal, .. } => Some(*refusal),
            Error::Unrefreshed(error) => error.refusal(),
            _ => None,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn config_value(section: &str, option: &str, message: impl Into<String>) -> Self {
        Error::ConfigValue {
            section: section.to_string(),
            option: option.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::ConfigSyntax {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            Error::ConfigValue {
                section,
                option,
                message,
            } => write!(f, "section '{section}' option '{option}': {message}"),
            Error::Address(message) | Error::InterfaceDown(message) => {
                write!(f, "no usable address: {message}")
            }
            Error::Transport(message) => write!(f, "connection failed: {message}"),
            Error::Server(message) => write!(f, "server trouble: {message}"),
            Error::Refused(refusal) => write!(f, "refused by the server: {refusal}"),
            Error::ApiRefused { refusal, detail } => {
                write!(f, "refused by the OVHcloud API: {detail}: {refusal}")
            }
            Error::Unrefreshed(error) => {
                write!(f, "record changed but its zone not refreshed: {error}")
            }
            Error::Backoff {
                last_failure,
                retry_in,
            } => write!(f, "{last_failure} (next attempt in {retry_in} s)"),
            Error::SendLimit { retry_in } => write!(
                f,
                "sent {} times in the last {} minutes, the most the send limit allows \
                 (next send in {retry_in} s)",
                decision::SEND_BUDGET,
                decision::SEND_WINDOW_SECS / 60
            ),
            Error::StateNotSaved { path, reason } => write!(
                f,
                "state not saved to {}: {reason} (kept in memory, written again later)",
                path.display()
            ),
            Error::Daemon(message) => write!(f, "{message}"),
            Error::Output(source) => write!(f, "cannot write the output: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
