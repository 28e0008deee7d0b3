//! What dynhost remembers between runs: one small JSON file per record in the state dir
//! (tmpfs on routers, so writing it at every pass costs no flash), and the lock that keeps
//! two runs from sending the same update.
//!
//! dynhost runs as root, so the dir is a place where whatever it finds is suspect: the dir must
//! be a directory of its own (its owner's, writable by nobody else), every file is opened
//! without following a link or waiting on a FIFO, anything but a small regular file in place of
//! a state file is reported and read as no state, and new state is written to a file created
//! for the purpose, under a name nobody can guess, then renamed into place.

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fs::{self, File, Metadata, OpenOptions, TryLockError};
use std::hash::BuildHasher;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Record;
use crate::error::{Error, Refusal};

pub const DEFAULT_STATE_DIR: &str = "/var/run/dynhost";
const LOCK_FILE: &str = "lock";
/// The install's secret that keys the config fingerprints of the state files.
const KEY_FILE: &str = "key";
const KEY_BYTES: usize = 32;
/// Followed by an interface name: where one-shots for that interface queue for [`LOCK_FILE`].
const QUEUE_PREFIX: &str = "queued.";
/// A state file is a few hundred bytes: anything much larger was not written by dynhost.
const MAX_STATE_BYTES: u64 = 64 * 1024;
/// Never follow a link, never wait for a FIFO's other end, never leak into a child.
const SAFE_OPEN_FLAGS: libc::c_int = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;

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
    /// The OVHcloud API changed the record but its zone was not refreshed yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refresh_pending: bool,
    /// When the last sends went, oldest first, for the send limit: only those of its window.
    pub recent_sends: Vec<u64>,
}

/// The state dir, created private on first use: state files hold a digest of the password.
pub struct StateDir {
    path: PathBuf,
    /// States that could not be written (a full tmpfs, a directory in place of the file): kept
    /// for the rest of the process, so that the daemon does not send again what it already
    /// sent, and written when the dir takes them again.
    unsaved: RefCell<HashMap<PathBuf, RecordState>>,
    /// Whether the commands using it write (`update`, `run`), so may make the key.
    writes: bool,
    /// The fingerprint key, once read or made, and whether it is on disk: a key that could
    /// not be written (a full disk) is used all the same and written at a later call.
    key: RefCell<Option<(Vec<u8>, bool)>>,
    /// Whether a written file is synced to disk before it is renamed into place: not on a
    /// tmpfs (a router's `/var/run`), whose files a power cut loses whatever was synced.
    fsync: bool,
}

impl StateDir {
    /// Creates the dir (0700) when it is missing, and refuses one that others could have
    /// filled: a link, something else than a directory, another user's, or group or
    /// world-writable.
    pub fn open(path: &Path) -> Result<StateDir, Error> {
        create_private_dir(path)?;
        Ok(StateDir {
            writes: true,
            fsync: fsync_needed(crate::sys::filesystem_type(path)),
            ..StateDir::open_to_read(path)?
        })
    }

    /// For commands that only read state (`status`, `check`): a missing dir is no state and is
    /// left missing; an existing one is checked as [`StateDir::open`] does.
    pub fn open_to_read(path: &Path) -> Result<StateDir, Error> {
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
            Ok(metadata) => check_private_dir(&metadata, crate::sys::effective_uid())
                .map_err(|why| Error::io(path, io::Error::other(why)))?,
        }
        Ok(StateDir {
            path: path.to_path_buf(),
            unsaved: RefCell::default(),
            writes: false,
            key: RefCell::default(),
            fsync: true,
        })
    }

    /// The key of the config fingerprints ([`crate::decision::fingerprint`]): random, made at
    /// first use (mode 0600) by the commands that write. Without one (none made yet, or the
    /// system gives no randomness) it is empty, so that no stored fingerprint matches: a
    /// record is then sent as if its config had changed, never held back.
    pub fn fingerprint_key(&self) -> Vec<u8> {
        let path = self.path.join(KEY_FILE);
        let mut cached = self.key.borrow_mut();
        if let Some((key, written)) = cached.as_mut() {
            if !*written {
                *written = write_whole(&path, key, self.fsync).is_ok();
            }
            return key.clone();
        }
        let (key, written) = match read_key(&path) {
            Ok(key) => (key, true),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !self.writes => (Vec::new(), true),
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    log::warn!("{}: making a new key: {e}", path.display());
                }
                match new_key() {
                    Ok(key) => {
                        // Unwritten (a full disk), said by the state that cannot be saved.
                        let written = write_whole(&path, &key, self.fsync).is_ok();
                        (key, written)
                    }
                    Err(e) => {
                        log::warn!("{}: no key: {e}", path.display());
                        (Vec::new(), true)
                    }
                }
            }
        };
        *cached = Some((key.clone(), written));
        key
    }

    /// Blocks until no other dynhost process holds the lock; released when the guard drops.
    /// A dir removed since it was opened (someone clearing /var/run under the daemon) is
    /// created again, as [`StateDir::open`] would.
    pub fn lock(&self) -> Result<File, Error> {
        let (file, path) = self.lock_file(LOCK_FILE)?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(file)
    }

    /// The lock file `name`, opened (and created) but not locked, and its path; the dir is
    /// made again first if it was removed.
    fn lock_file(&self, name: &str) -> Result<(File, PathBuf), Error> {
        create_private_dir(&self.path)?;
        let path = self.path.join(name);
        let io_error = |e| Error::io(&path, e);
        // Checked before opening: opening a device can have effects of its own.
        match fs::symlink_metadata(&path) {
            Ok(metadata) => regular_file(&metadata).map_err(io_error)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(e)),
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(SAFE_OPEN_FLAGS)
            .open(&path)
            .map_err(io_error)?;
        // What was opened, in case something was swapped in after the check.
        regular_file(&file.metadata().map_err(io_error)?).map_err(io_error)?;
        Ok((file, path))
    }

    /// The lock for a one-shot pass over the records of `interface` (what hotplug starts at each
    /// event while the daemon is stopped), or `None` when another one-shot for `interface`
    /// already queues for it. That one has not looked at the address yet, so it will publish
    /// whatever this one would; queueing as well would only pile up one process per event while
    /// a slow server holds the lock. The place in the queue is left as soon as the lock is held,
    /// so an event after that gets a pass of its own. `interface` must be a UCI name (letters,
    /// digits, `_`): it becomes part of a file name.
    pub fn lock_unless_queued(&self, interface: &str) -> Result<Option<File>, Error> {
        let (queued, path) = self.lock_file(&format!("{QUEUE_PREFIX}{interface}"))?;
        match queued.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let lock = self.lock()?;
        drop(queued);
        Ok(Some(lock))
    }

    /// Records are keyed by what the server sees, so renaming a section keeps its history.
    fn file_of(&self, record: &Record) -> PathBuf {
        let family = record.family.name();
        // Built in one allocation: formatting and joining the name were 7 % of the
        // instructions of `status` with 1,000 records. A host name never holds a `/`.
        let length = self.path.as_os_str().len() + record.hostname.len() + family.len() + 7;
        let mut path = PathBuf::with_capacity(length);
        path.push(&self.path);
        path.push(&record.hostname);
        for piece in [".", family, ".json"] {
            path.as_mut_os_string().push(piece);
        }
        path
    }

    /// A missing file is an empty state; an unreadable or corrupt one, or anything but a
    /// regular file, is a warning and an empty state, so a damaged tmpfs never stops updates.
    pub fn load(&self, record: &Record) -> RecordState {
        let path = self.file_of(record);
        let unsaved = self.unsaved.borrow().get(&path).cloned();
        if let Some(state) = unsaved {
            // Another try at writing it; still kept if that fails too.
            let _ = self.save(record, &state);
            return state;
        }
        match read_state_file(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                log::warn!("{}: ignoring corrupt state file: {e}", path.display());
                RecordState::default()
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => RecordState::default(),
            Err(e) => {
                log::warn!("{}: ignoring state file: {e}", path.display());
                RecordState::default()
            }
        }
    }

    /// Writes a temp file and renames it over the old one, so a crash at any point leaves
    /// either the old or the new complete state.
    /// The rename replaces a link or a FIFO found in place of the file, never what it names.
    /// A state that cannot be written is kept in memory (see [`StateDir::load`]), and the error
    /// says why in words.
    pub fn save(&self, record: &Record, state: &RecordState) -> Result<(), Error> {
        let path = self.file_of(record);
        let mut text = serde_json::to_vec_pretty(state).expect("state serialises");
        text.push(b'\n');
        let written = write_whole(&path, &text, self.fsync);
        let mut unsaved = self.unsaved.borrow_mut();
        match written {
            Ok(()) => {
                unsaved.remove(&path);
                Ok(())
            }
            Err(e) => {
                unsaved.insert(path.clone(), state.clone());
                Err(Error::StateNotSaved {
                    reason: not_saved_because(&e),
                    path,
                })
            }
        }
    }
}

/// The key at `path`: a regular file of exactly [`KEY_BYTES`].
fn read_key(path: &Path) -> io::Result<Vec<u8>> {
    let key = read_state_file(path)?;
    if key.len() != KEY_BYTES {
        return Err(io::Error::other(format!(
            "{} bytes, not {KEY_BYTES}",
            key.len()
        )));
    }
    Ok(key)
}

/// A new random key.
fn new_key() -> io::Result<Vec<u8>> {
    let mut key = vec![0u8; KEY_BYTES];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| io::Error::other("no randomness from the system"))?;
    Ok(key)
}

/// Whether files written on the file system of magic number `filesystem` must be synced for a
/// power cut to leave the old file or the new one whole. A tmpfs keeps nothing across one, so
/// there `fsync` buys nothing; when the type is unknown, files are synced.
fn fsync_needed(filesystem: io::Result<u32>) -> bool {
    !matches!(filesystem, Ok(magic) if magic == libc::TMPFS_MAGIC as u32)
}

/// Writes `bytes` whole under a fresh name and renames it into place, so that a crash leaves
/// the old file or the new one, and nothing planted is written through; `fsync` (see
/// [`fsync_needed`]) makes that hold across a power cut too.
fn write_whole(path: &Path, bytes: &[u8], fsync: bool) -> io::Result<()> {
    let (temp, mut file) = create_temp(path)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| if fsync { file.sync_all() } else { Ok(()) })
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Creates `path` (0700) if it is missing; what is there is checked by the caller.
fn create_private_dir(path: &Path) -> Result<(), Error> {
    let created = fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path);
    match created {
        // Something else than a directory: said in words by the caller's check.
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Why a state file could not be written, in the words a router owner needs.
fn not_saved_because(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ENOSPC | libc::EDQUOT) => "the disk is full".into(),
        Some(libc::EISDIR) => "a directory is in its place, not a file".into(),
        _ => error.to_string(),
    }
}

/// Why a state dir cannot be trusted, if it cannot.
fn check_private_dir(metadata: &Metadata, uid: u32) -> Result<(), String> {
    if metadata.file_type().is_symlink() {
        return Err("is a symbolic link: the state dir must be a directory of its own".into());
    }
    if !metadata.is_dir() {
        return Err("is not a directory".into());
    }
    if metadata.uid() != uid {
        return Err(format!(
            "belongs to user {}, not to {uid} who runs dynhost: refused",
            metadata.uid()
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(format!(
            "can be written by other users (mode {:o}): refused, chmod 700 it",
            metadata.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Refuses, in words, whatever is not a regular file.
fn regular_file(metadata: &Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(io::Error::other(format!("is {what}, not a regular file")))
}

/// At most [`MAX_STATE_BYTES`] of a regular file; nothing else is read. Opened without a look
/// first (a system call a record): a link is not followed, a FIFO not waited on, and a device
/// could only be there if root planted it in the private dir; what was opened is then refused
/// unless it is a regular file.
fn read_state_file(path: &Path) -> io::Result<Vec<u8>> {
    let file = crate::sys::open_file(path, libc::O_RDONLY | libc::O_NOCTTY | SAFE_OPEN_FLAGS, 0)
        .map_err(|e| match e.raw_os_error() {
            // What O_NOFOLLOW answers for a link, said as the check below says it.
            Some(libc::ELOOP) => io::Error::other("is a symbolic link, not a regular file"),
            _ => e,
        })?;
    let metadata = file.metadata()?;
    regular_file(&metadata)?;
    if metadata.len() > MAX_STATE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {MAX_STATE_BYTES} bytes: corrupt, not read"),
        ));
    }
    // The size fstat gave, read in one call: the limit ends the reading without a read that
    // finds the end (the file is replaced by renames, never written in place).
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(metadata.len()).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A new file next to `path`, under a name drawn from the OS's randomness (std seeds its hash
/// maps from it), created exclusively, so that nothing planted can be written through.
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let mut attempts = 0;
    loop {
        // Each RandomState has keys of its own (the process's random seed, then a count), so
        // what it hashes needs no uniqueness: not the pid, which costs a system call a record.
        let random = RandomState::new().hash_one(attempts);
        let temp = path.with_extension(format!("json.{random:016x}.tmp"));
        let created = crate::sys::open_file(
            &temp,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | SAFE_OPEN_FLAGS,
            0o600,
        );
        match created {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => attempts += 1,
            Err(e) => return Err(e),
        }
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
            prefix_interface: "lan".into(),
            server: "https://dns.eu.ovhapis.com".into(),
            cacert: Path::new("/etc/ssl/certs/ca-certificates.crt").into(),
            api: None,
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
    fn the_fingerprint_key_is_made_once_private_and_only_by_writers() {
        use std::os::unix::fs::PermissionsExt;
        let path = scratch_dir("key");
        let reader = StateDir::open_to_read(&path).unwrap();
        assert_eq!(reader.fingerprint_key(), Vec::<u8>::new());
        assert!(!path.exists(), "a reader made the dir");
        let dir = StateDir::open(&path).unwrap();
        let key = dir.fingerprint_key();
        assert_eq!(key.len(), KEY_BYTES);
        let file = path.join(KEY_FILE);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(StateDir::open(&path).unwrap().fingerprint_key(), key);
        assert_eq!(
            StateDir::open_to_read(&path).unwrap().fingerprint_key(),
            key
        );
        let other = scratch_dir("key-other");
        assert_ne!(StateDir::open(&other).unwrap().fingerprint_key(), key);
        // A damaged key is replaced, never used.
        fs::write(&file, b"short").unwrap();
        let replaced = StateDir::open(&path).unwrap().fingerprint_key();
        assert_eq!(replaced.len(), KEY_BYTES);
        assert_ne!(replaced, key);
        fs::remove_dir_all(&path).unwrap();
        fs::remove_dir_all(&other).unwrap();
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

    /// Whether some process holds a `flock` on `path`, from the kernel's list of locks.
    fn is_flocked(path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(metadata) = fs::metadata(path) else {
            return false;
        };
        // Lines such as "1: FLOCK  ADVISORY  WRITE 1234 fe:01:5678 0 EOF"; the inode is last in
        // the device:inode field.
        let inode = format!(":{}", metadata.ino());
        fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .filter(|line| line.contains(" FLOCK "))
            .any(|line| line.split_whitespace().any(|field| field.ends_with(&inode)))
    }

    #[test]
    fn one_one_shot_per_interface_queues_for_the_lock() {
        let path = scratch_dir("queue");
        let dir = StateDir::open(&path).unwrap();
        let running = dir.lock().unwrap();
        std::thread::scope(|scope| {
            let (queued_sender, queued) = std::sync::mpsc::channel();
            // Another process's view of the same dir (a StateDir serves one thread).
            let first_dir = StateDir::open(&path).unwrap();
            let first = scope.spawn(move || {
                let lock = first_dir.lock_unless_queued("wan").unwrap();
                queued_sender.send(()).unwrap();
                lock
            });
            // Looked up without locking, which could take the first one's place.
            let wan_queue = path.join("queued.wan");
            while !is_flocked(&wan_queue) {
                std::thread::yield_now();
            }
            assert!(dir.lock_unless_queued("wan").unwrap().is_none());
            assert!(
                queued.try_recv().is_err(),
                "the first waits while the lock is held"
            );
            drop(running);
            let lock = first.join().unwrap();
            assert!(
                lock.is_some(),
                "the first gets the lock when it is released"
            );
            assert!(
                !is_flocked(&wan_queue),
                "the queue is left once the lock is held"
            );
        });
        fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn only_a_private_dir_of_ours_is_a_state_dir() {
        use std::os::unix::fs::PermissionsExt;
        let path = scratch_dir("trust");
        let dir = StateDir::open(&path).unwrap();
        let uid = crate::sys::effective_uid();
        let metadata = || fs::symlink_metadata(&path).unwrap();
        assert_eq!(check_private_dir(&metadata(), uid), Ok(()));
        let other = check_private_dir(&metadata(), uid + 1).unwrap_err();
        assert!(other.contains("belongs to user"), "{other}");
        for mode in [0o770, 0o702, 0o777] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let error = StateDir::open(&path).err().expect("refused").to_string();
            assert!(error.contains("other users"), "{error}");
            assert!(error.contains(&path.display().to_string()), "{error}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();
        StateDir::open(&path).expect("readable by the group is fine");
        let link = path.with_extension("link");
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let error = StateDir::open(&link).err().expect("refused").to_string();
        assert!(error.contains("symbolic link"), "{error}");
        fs::remove_file(&link).unwrap();
        fs::write(&link, b"").unwrap();
        assert!(StateDir::open(&link).is_err());
        fs::remove_file(&link).unwrap();
        drop(dir);
        fs::remove_dir_all(&path).unwrap();
    }

    /// `mkfifo` makes a FIFO that blocks whoever opens it plainly.
    fn plant_fifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// A name and how to plant that object at a path.
    type Planter<'a> = (&'a str, &'a dyn Fn(&Path));

    #[test]
    fn planted_objects_are_not_followed_read_or_written_through() {
        let path = scratch_dir("planted");
        let dir = StateDir::open(&path).unwrap();
        let state_file = path.join("home.example.com.ipv4.json");
        let outside = path.with_extension("outside");
        fs::write(&outside, b"{\"failures\": 7}").unwrap();
        let saved = RecordState {
            failures: 1,
            ..RecordState::default()
        };
        let plants: [Planter; 4] = [
            ("link", &|at| {
                std::os::unix::fs::symlink(&outside, at).unwrap()
            }),
            ("dangling", &|at| {
                std::os::unix::fs::symlink(path.join("nowhere"), at).unwrap()
            }),
            ("fifo", &plant_fifo),
            ("huge", &|at| {
                File::create(at)
                    .and_then(|file| file.set_len(MAX_STATE_BYTES + 1))
                    .unwrap()
            }),
        ];
        for (name, plant) in plants {
            plant(&state_file);
            assert_eq!(dir.load(&record()), RecordState::default(), "{name}");
            dir.save(&record(), &saved).unwrap();
            assert_eq!(dir.load(&record()), saved, "{name}");
            fs::remove_file(&state_file).unwrap();
            let lock = path.join(LOCK_FILE);
            plant(&lock);
            if name == "huge" {
                drop(dir.lock().expect("a large lock is still a lock"));
            } else {
                let error = dir.lock().expect_err(name).to_string();
                assert!(error.contains("not a regular file"), "{name}: {error}");
            }
            fs::remove_file(&lock).unwrap();
        }
        assert_eq!(fs::read(&outside).unwrap(), b"{\"failures\": 7}");
        assert!(!path.join("nowhere").exists());

        fs::create_dir(&state_file).unwrap();
        assert_eq!(dir.load(&record()), RecordState::default());
        assert!(dir.save(&record(), &saved).is_err());
        let names: Vec<_> = fs::read_dir(&path).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file left behind: {names:?}");
        fs::remove_dir_all(&path).unwrap();
        fs::remove_file(&outside).unwrap();
    }

    #[test]
    fn temp_files_have_names_nobody_can_guess() {
        let path = scratch_dir("temp").join("x.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let (first, _) = create_temp(&path).unwrap();
        let (second, _) = create_temp(&path).unwrap();
        assert_ne!(first, second);
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn files_are_synced_unless_on_a_tmpfs() {
        const EXT4_SUPER_MAGIC: u32 = 0xef53;
        assert!(!fsync_needed(Ok(libc::TMPFS_MAGIC as u32)));
        assert!(fsync_needed(Ok(EXT4_SUPER_MAGIC)));
        assert!(fsync_needed(Err(io::Error::from_raw_os_error(
            libc::ENOSYS
        ))));
    }

    /// The file system of `path` as `stat -f` names it (`tmpfs`, `ext2/ext3`, ...): what the
    /// state dir's own look is checked against.
    fn filesystem_name(path: &Path) -> String {
        let output = std::process::Command::new("stat")
            .args(["-f", "-c", "%T"])
            .arg(path)
            .output()
            .unwrap();
        assert!(output.status.success(), "stat -f {}", path.display());
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn a_state_dir_syncs_its_files_unless_it_is_on_a_tmpfs() {
        let places = [
            Path::new("/dev/shm").to_path_buf(),
            std::env::temp_dir(),
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        ];
        for place in places.iter().filter(|place| place.is_dir()) {
            let path = place.join(format!("dynhost-state-sync-{}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            let dir = StateDir::open(&path).unwrap();
            let on_tmpfs = filesystem_name(&path) == "tmpfs";
            assert_eq!(dir.fsync, !on_tmpfs, "{}", path.display());
            assert!(StateDir::open_to_read(&path).unwrap().fsync);
            dir.save(&record(), &RecordState::default()).unwrap();
            assert_eq!(dir.load(&record()), RecordState::default());
            fs::remove_dir_all(&path).unwrap();
        }
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
