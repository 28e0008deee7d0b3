//! What dynhost remembers between runs: one small JSON file per record in the state dir
//! (tmpfs on routers, so writing it at every pass costs no flash), and the lock that keeps
//! two runs from sending the same update.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Record;
use crate::error::Error;
use crate::protocol::Refusal;

pub const DEFAULT_STATE_DIR: &str = "/var/run/dynhost";
const LOCK_FILE: &str = "lock";

/// How the last exchange ended; stored and reported as one word (`good`, `badauth`, ...), so
/// scripts reading `status -j` need no knowledge of our types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "&str", try_from = "&str")]
pub enum Outcome {
    /// `good`: the record now holds the address.
    Updated,
    /// `nochg`: the record already held it.
    Unchanged,
    /// A transient failure: retried later.
    Failed,
    /// A refusal that only a config change lifts (or, for abuse, time).
    Refused(Refusal),
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Updated => "good",
            Outcome::Unchanged => "nochg",
            Outcome::Failed => "failed",
            Outcome::Refused(refusal) => refusal.code(),
        }
    }
}

impl From<Outcome> for &'static str {
    fn from(outcome: Outcome) -> Self {
        outcome.name()
    }
}

impl TryFrom<&str> for Outcome {
    type Error = String;

    fn try_from(word: &str) -> Result<Self, Self::Error> {
        match word {
            "good" => Ok(Outcome::Updated),
            "nochg" => Ok(Outcome::Unchanged),
            "failed" => Ok(Outcome::Failed),
            other => Refusal::from_code(other)
                .map(Outcome::Refused)
                .ok_or_else(|| format!("unknown result '{other}'")),
        }
    }
}

/// Times are unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordState {
    /// Of the config the server last saw, so that a refusal is lifted by a config change.
    pub fingerprint: String,
    /// The address the record is known to hold.
    pub published: Option<IpAddr>,
    /// The address of the last attempt, successful or not.
    pub attempted: Option<IpAddr>,
    pub last_result: Option<Outcome>,
    /// Why the last attempt failed, in words.
    pub last_message: Option<String>,
    pub last_attempt: Option<u64>,
    pub last_success: Option<u64>,
    /// Consecutive failures.
    pub failures: u32,
    /// No attempt before this time, unless the address changes or the user forces one.
    pub next_attempt: Option<u64>,
    /// When the last sends went, oldest first, for the send limit: only those of its window.
    pub recent_sends: Vec<u64>,
}

/// The state dir, created private on first use: state files hold a digest of the password.
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    pub fn open(path: &Path) -> Result<StateDir, Error> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(StateDir {
            path: path.to_path_buf(),
        })
    }

    /// Blocks until no other dynhost process holds the lock; released when the guard drops.
    pub fn lock(&self) -> Result<File, Error> {
        let path = self.path.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(file)
    }

    /// Records are keyed by what the server sees, so renaming a section keeps its history.
    fn file_of(&self, record: &Record) -> PathBuf {
        self.path
            .join(format!("{}.{}.json", record.hostname, record.family.name()))
    }

    /// A missing file is an empty state; an unreadable or corrupt one is a warning and an
    /// empty state, so a damaged tmpfs never stops updates.
    pub fn load(&self, record: &Record) -> RecordState {
        let path = self.file_of(record);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                log::warn!("{}: ignoring corrupt state file: {e}", path.display());
                RecordState::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => RecordState::default(),
            Err(e) => {
                log::warn!("{}: ignoring unreadable state file: {e}", path.display());
                RecordState::default()
            }
        }
    }

    /// Writes a temp file and renames it over the old one, so a crash at any point leaves
    /// either the old or the new complete state.
    pub fn save(&self, record: &Record, state: &RecordState) -> Result<(), Error> {
        let path = self.file_of(record);
        let temp = path.with_extension("json.tmp");
        let mut text = serde_json::to_vec_pretty(state).expect("state serialises");
        text.push(b'\n');
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(&text)?;
            file.sync_all()?;
            fs::rename(&temp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temp);
            Error::io(&path, e)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{Family, Secret, Source};

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dynhost-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// A plausible record for tests of any module.
    pub(crate) fn record() -> Record {
        Record {
            name: "home".into(),
            enabled: true,
            hostname: "home.example.com".into(),
            username: "example.com-router".into(),
            password: Secret::new("hunter2".into()),
            family: Family::Ipv4,
            interface: "wan".into(),
            source: Source::Ubus,
            ipv6_suffix: None,
            server: "https://dns.eu.ovhapis.com".into(),
            cacert: "/etc/ssl/certs/ca-certificates.crt".into(),
        }
    }

    #[test]
    fn saved_state_loads_back() {
        let path = scratch_dir("roundtrip");
        let dir = StateDir::open(&path).unwrap();
        let state = RecordState {
            fingerprint: "abc".into(),
            published: Some("2001:db8::1".parse().unwrap()),
            last_result: Some(Outcome::Refused(Refusal::NoHost)),
            failures: 2,
            next_attempt: Some(5),
            ..RecordState::default()
        };
        dir.save(&record(), &state).unwrap();
        assert_eq!(dir.load(&record()), state);
        let names: Vec<_> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["home.example.com.ipv4.json"],
            "no temp file left behind"
        );
        fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn missing_and_corrupt_files_are_empty_states() {
        let path = scratch_dir("corrupt");
        let dir = StateDir::open(&path).unwrap();
        assert_eq!(dir.load(&record()), RecordState::default());
        fs::write(path.join("home.example.com.ipv4.json"), b"\x00{not json").unwrap();
        assert_eq!(dir.load(&record()), RecordState::default());
        fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn state_files_and_dir_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let path = scratch_dir("private");
        let dir = StateDir::open(&path).unwrap();
        dir.save(&record(), &RecordState::default()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o700);
        assert_eq!(mode(&path.join("home.example.com.ipv4.json")), 0o600);
        fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn outcomes_are_single_words_in_json() {
        let json = serde_json::to_string(&Outcome::Refused(Refusal::BadAuth)).unwrap();
        assert_eq!(json, r#""badauth""#);
        assert_eq!(
            serde_json::to_string(&Outcome::Updated).unwrap(),
            r#""good""#
        );
        for outcome in [
            Outcome::Updated,
            Outcome::Unchanged,
            Outcome::Failed,
            Outcome::Refused(Refusal::Abuse),
        ] {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), outcome);
        }
        assert!(serde_json::from_str::<Outcome>(r#""sideways""#).is_err());
    }
}
