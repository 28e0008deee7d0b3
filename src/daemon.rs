//! `dynhost run`: stays in the foreground under procd and keeps the records current.
//!
//! One thread waits for everything in one blocking `poll`: the kernel's address notifications,
//! the signals (through a signalfd), the end of a pass, and the nearest timer (debounce,
//! periodic check, retry after a failure). Passes run on a second thread, one at a time, with
//! the same code and the same lock as `update`; so SIGTERM is answered at once even in the middle
//! of a stalled exchange: the process exits, and the state file (only ever replaced whole)
//! names the attempt that got no answer, so the next pass sends whatever the address is then.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock;
use crate::config::{Config, Record, Source};
use crate::decision;
use crate::error::Error;
use crate::netlink;
use crate::notices::Notices;
use crate::pass;
use crate::state::StateDir;
use crate::sys::{self, NetlinkSocket, SignalFd};
use crate::transport::Https;

/// An address change is a burst of messages (and DAD marks a new IPv6 address tentative for a
/// moment): wait this long after the last one...
const SETTLE: Duration = Duration::from_secs(1);
/// ...but no longer than this after the first, so a change is published within seconds even
/// while something keeps flapping.
const MAX_SETTLE: Duration = Duration::from_secs(3);
/// Room for a burst of notifications in one read.
const NOTIFICATION_BUFFER_BYTES: usize = 32 * 1024;

/// What a pass is for: which records it looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// Every enabled record: at start, periodically, and for retries.
    All,
    /// Every enabled record, asked for by SIGUSR1 or SIGHUP (`service dynhost update`, the
    /// hotplug script, a reload): someone wants to know, so every record's state is said, even
    /// one that was said already.
    Asked,
    /// The records whose address can follow these local changes: every source but `web`,
    /// which is asked only on the periodic check so the echo service is not hammered, and of
    /// the netlink records with a named device only those on a changed device.
    Local(Changed),
}

/// Which devices' addresses changed since the last pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Changed {
    #[default]
    Nothing,
    Devices(Vec<u32>),
    /// A notification was lost or unreadable: anything may have changed.
    Anything,
}

impl Changed {
    fn merge(&mut self, news: Changed) {
        *self = match (std::mem::take(self), news) {
            (Changed::Anything, _) | (_, Changed::Anything) => Changed::Anything,
            (Changed::Nothing, news) => news,
            (old, Changed::Nothing) => old,
            (Changed::Devices(mut old), Changed::Devices(new)) => {
                for index in new {
                    if !old.contains(&index) {
                        old.push(index);
                    }
                }
                Changed::Devices(old)
            }
        }
    }

    /// Whether the device `index` may be among the changed ones; `None` is a device that does
    /// not exist now, which is news too.
    fn covers(&self, index: Option<u32>) -> bool {
        match (self, index) {
            (Changed::Devices(changed), Some(index)) => changed.contains(&index),
            (Changed::Nothing, _) => false,
            _ => true,
        }
    }
}

struct Job {
    config: Arc<Config>,
    scope: Scope,
}

/// Takes over the daemon's signals. Called first thing: until then a SIGUSR1 from the hotplug
/// script or a SIGHUP from a reload would kill the process (their default action), and at boot
/// `ifup wan` comes right when procd starts the daemon.
pub fn take_signals() -> Result<SignalFd, Error> {
    SignalFd::open(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1])
        .map_err(|error| Error::Daemon(format!("cannot take over the signals: {error}")))
}

/// Runs until SIGTERM or SIGINT arrives on `signals`. `config` was loaded from `config_path`,
/// which SIGHUP reads again.
pub fn run(
    signals: SignalFd,
    config_path: &Path,
    config: Config,
    state_dir: StateDir,
) -> Result<(), Error> {
    let groups = (libc::RTMGRP_IPV4_IFADDR | libc::RTMGRP_IPV6_IFADDR) as u32;
    let notifications = NetlinkSocket::open_route_subscribed(groups)
        .and_then(|socket| {
            // Zero means "do not wait": notifications are read until none is left.
            socket.set_receive_timeout(Duration::ZERO)?;
            Ok(socket)
        })
        .map_err(|error| Error::Daemon(format!("cannot subscribe to address changes: {error}")))?;
    let (mut done_reader, done_writer) = UnixStream::pair()
        .map_err(|error| Error::Daemon(format!("cannot create a pipe: {error}")))?;
    let (job_sender, results) = start_worker(state_dir, done_writer);

    let mut config = Arc::new(config);
    let mut timers = Timers::new(Instant::now(), config.global.check_interval);
    let mut busy = false;
    log::info!(
        "watching {} enabled record(s); periodic check every {} s",
        config.records.iter().filter(|r| r.enabled).count(),
        config.global.check_interval.as_secs()
    );
    loop {
        let now = Instant::now();
        if !busy {
            if let Some(scope) = timers.take_due(now, config.global.check_interval) {
                let job = Job {
                    config: Arc::clone(&config),
                    scope,
                };
                busy = job_sender.send(job).is_ok();
            }
        }
        let timeout = if busy { None } else { timers.until_next(now) };
        let ready = sys::wait_readable(
            &[signals.as_fd(), notifications.as_fd(), done_reader.as_fd()],
            timeout,
        )
        .map_err(|error| Error::Daemon(format!("waiting for events: {error}")))?;
        if ready[0] {
            while let Some(signal) = signals
                .take()
                .map_err(|error| Error::Daemon(format!("reading a signal: {error}")))?
            {
                match signal {
                    libc::SIGTERM | libc::SIGINT => {
                        log::info!("stopping");
                        return Ok(());
                    }
                    // Signals come in storms too (the hotplug script sends one per event of a
                    // flapping link): they settle like address changes.
                    libc::SIGUSR1 => timers.asked(Instant::now()),
                    libc::SIGHUP => {
                        if let Some(reloaded) = reload(config_path) {
                            timers.reschedule(Instant::now(), reloaded.global.check_interval);
                            config = Arc::new(reloaded);
                            timers.asked(Instant::now());
                        }
                    }
                    _ => {}
                }
            }
        }
        if ready[1] {
            let changed = drain(&notifications);
            if changed != Changed::Nothing {
                timers.address_changed(Instant::now(), changed);
            }
        }
        if ready[2] {
            let mut byte = [0u8; 1];
            let _ = done_reader.read(&mut byte);
            busy = false;
            if let Ok(retry_at) = results.try_recv() {
                timers.retry = retry_at;
            }
        }
    }
}

/// Reads the config again; a broken one is reported and `None` keeps the old one running.
fn reload(config_path: &Path) -> Option<Config> {
    match Config::load(config_path) {
        Ok(config) => {
            log::info!("config reloaded");
            Some(config)
        }
        Err(error) => {
            log::error!("config not reloaded, the previous one stays in use: {error}");
            None
        }
    }
}

/// Reads every pending notification and says which devices they name. A notification lost to
/// a full socket buffer (`ENOBUFS`) or unreadable means anything may have changed.
fn drain(notifications: &NetlinkSocket) -> Changed {
    let mut buffer = vec![0u8; NOTIFICATION_BUFFER_BYTES];
    let mut changed = Changed::Nothing;
    loop {
        match notifications.receive(&mut buffer) {
            Ok(length) => changed.merge(netlink::changed_devices(&buffer[..length]).map_or_else(
                |error| {
                    crate::debug!("address notification: {error}");
                    Changed::Anything
                },
                Changed::Devices,
            )),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return changed
            }
            Err(error) => {
                crate::debug!("address notifications: {error}");
                changed.merge(Changed::Anything);
                if error.raw_os_error() != Some(libc::ENOBUFS) {
                    return changed;
                }
            }
        }
    }
}

/// The thread that runs passes, one at a time. After each, it sends when the earliest retry is
/// due and writes a byte to `done`, which wakes the main loop's poll.
fn start_worker(
    state_dir: StateDir,
    mut done: UnixStream,
) -> (mpsc::Sender<Job>, mpsc::Receiver<Option<Instant>>) {
    let (job_sender, jobs) = mpsc::channel::<Job>();
    let (result_sender, results) = mpsc::channel();
    std::thread::spawn(move || {
        let mut transport: Option<(Duration, Https)> = None;
        let mut notices = Notices::default();
        for job in jobs {
            let timeout = job.config.global.timeout;
            // A reloaded config may change the timeout; otherwise connections are kept.
            let https = match &mut transport {
                Some((kept, https)) if *kept == timeout => https,
                slot => &mut slot.insert((timeout, Https::new(timeout))).1,
            };
            if job.scope == Scope::Asked {
                notices = Notices::default();
            }
            if let Some(records) = in_scope(&job.config, &job.scope) {
                let timeout = job.config.global.timeout;
                if let Err(error) = pass::run(
                    &records,
                    false,
                    timeout,
                    &state_dir,
                    https,
                    &clock::unix_now,
                    None,
                    &mut notices,
                ) {
                    log::error!("{error}");
                }
            }
            let retry_at = earliest_retry(&job.config, &state_dir);
            if result_sender.send(retry_at).is_err() || done.write_all(&[1]).is_err() {
                return;
            }
        }
    });
    (job_sender, results)
}

/// The records a pass of `scope` looks at, or `None` when there are none.
fn in_scope<'a>(config: &'a Config, scope: &Scope) -> Option<Vec<&'a Record>> {
    let records: Vec<&Record> = config
        .records
        .iter()
        .filter(|record| record.enabled)
        .filter(|record| match (scope, &record.source) {
            (Scope::All | Scope::Asked, _) => true,
            (Scope::Local(_), Source::Web { .. }) => false,
            (
                Scope::Local(changed),
                Source::Netlink {
                    device: Some(device),
                },
            ) => changed.covers(netlink::device_index(device)),
            // The interface's device is known only to ubus, at the pass.
            (Scope::Local(_), _) => true,
        })
        .collect();
    (!records.is_empty()).then_some(records)
}

/// When the first record waiting out a backoff or the send limit should be looked at again.
fn earliest_retry(config: &Config, state_dir: &StateDir) -> Option<Instant> {
    let now = clock::unix_now();
    config
        .records
        .iter()
        .filter(|record| record.enabled)
        .filter_map(|record| decision::next_look(&state_dir.load(record), now))
        .min()
        .map(|next| Instant::now() + Duration::from_secs(next.saturating_sub(now)))
}

/// The daemon's timers. Pure: the loop passes in the time, so the rules are unit tested.
#[derive(Debug)]
struct Timers {
    /// The first pass, due at once.
    starting: bool,
    /// The end of the settling time of a burst of events, and when the burst began.
    settled_at: Option<(Instant, Instant)>,
    /// What the burst changed.
    changed: Changed,
    /// A signal in the burst asked for every record.
    asked: bool,
    periodic: Instant,
    retry: Option<Instant>,
}

impl Timers {
    /// The first pass is due at once.
    fn new(now: Instant, check_interval: Duration) -> Timers {
        Timers {
            starting: true,
            settled_at: None,
            changed: Changed::Nothing,
            asked: false,
            periodic: now + check_interval,
            retry: None,
        }
    }

    fn address_changed(&mut self, now: Instant, changed: Changed) {
        self.settle(now);
        self.changed.merge(changed);
    }

    /// A signal asked for a pass over every record.
    fn asked(&mut self, now: Instant) {
        self.settle(now);
        self.asked = true;
    }

    fn settle(&mut self, now: Instant) {
        let first = self.settled_at.map_or(now, |(_, first)| first);
        self.settled_at = Some(((now + SETTLE).min(first + MAX_SETTLE), first));
    }

    fn reschedule(&mut self, now: Instant, check_interval: Duration) {
        self.periodic = now + check_interval;
    }

    /// The pass due at `now`, if any, clearing what it answers. A full pass answers everything;
    /// the periodic timer keeps its own beat, so that events do not delay it.
    fn take_due(&mut self, now: Instant, check_interval: Duration) -> Option<Scope> {
        let periodic = self.periodic <= now;
        let retry = self.retry.is_some_and(|at| at <= now);
        let settled = self.settled_at.is_some_and(|(at, _)| at <= now);
        let scope = if settled && self.asked {
            Scope::Asked
        } else if periodic || retry || self.starting {
            Scope::All
        } else if settled {
            Scope::Local(std::mem::take(&mut self.changed))
        } else {
            return None;
        };
        if periodic {
            // Skipped beats are not made up for: after a long pass, one check is enough.
            while self.periodic <= now {
                self.periodic += check_interval;
            }
        }
        self.starting = false;
        self.settled_at = None;
        self.changed = Changed::Nothing;
        self.asked = false;
        self.retry = None;
        Some(scope)
    }

    /// How long the loop may sleep: until the nearest timer.
    fn until_next(&self, now: Instant) -> Option<Duration> {
        let mut next = self.periodic;
        if let Some((settled, _)) = self.settled_at {
            next = next.min(settled);
        }
        if let Some(retry) = self.retry {
            next = next.min(retry);
        }
        if self.starting {
            next = now;
        }
        Some(next.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(600);

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Timers whose first pass, due at start, was taken.
    fn after_first_pass() -> (Instant, Timers) {
        let start = Instant::now();
        let mut timers = Timers::new(start, INTERVAL);
        timers.take_due(start, INTERVAL);
        (start, timers)
    }

    fn devices(indexes: &[u32]) -> Changed {
        Changed::Devices(indexes.to_vec())
    }

    #[test]
    fn changes_add_up() {
        let mut changed = Changed::Nothing;
        changed.merge(devices(&[2]));
        changed.merge(Changed::Nothing);
        changed.merge(devices(&[3, 2]));
        assert_eq!(changed, devices(&[2, 3]));
        assert!(changed.covers(Some(3)) && !changed.covers(Some(4)));
        assert!(changed.covers(None), "a vanished device is news");
        changed.merge(Changed::Anything);
        assert_eq!(changed, Changed::Anything);
        assert!(changed.covers(Some(4)));
        assert!(!Changed::Nothing.covers(None));
    }

    #[test]
    fn the_first_pass_is_due_at_once_and_then_the_periodic_one() {
        let start = Instant::now();
        let mut timers = Timers::new(start, INTERVAL);
        assert_eq!(timers.until_next(start), Some(Duration::ZERO));
        assert_eq!(timers.take_due(start, INTERVAL), Some(Scope::All));
        assert_eq!(timers.take_due(start + secs(599), INTERVAL), None);
        assert_eq!(timers.until_next(start + secs(100)), Some(secs(500)));
        assert_eq!(
            timers.take_due(start + secs(600), INTERVAL),
            Some(Scope::All)
        );
        assert_eq!(timers.until_next(start + secs(600)), Some(INTERVAL));
    }

    #[test]
    fn a_burst_of_changes_gives_one_local_pass_after_it_settles() {
        let (start, mut timers) = after_first_pass();
        timers.address_changed(start + secs(10), devices(&[2]));
        timers.address_changed(start + secs(10) + Duration::from_millis(500), devices(&[3]));
        assert_eq!(timers.take_due(start + secs(11), INTERVAL), None);
        assert_eq!(
            timers.until_next(start + secs(11)),
            Some(Duration::from_millis(500))
        );
        let settled = start + secs(11) + Duration::from_millis(500);
        assert_eq!(
            timers.take_due(settled, INTERVAL),
            Some(Scope::Local(devices(&[2, 3])))
        );
        assert_eq!(timers.take_due(settled, INTERVAL), None);
    }

    #[test]
    fn endless_flapping_is_checked_within_the_settling_limit() {
        let (start, mut timers) = after_first_pass();
        let first = start + secs(10);
        let mut now = first;
        while now < first + MAX_SETTLE {
            timers.address_changed(now, devices(&[2]));
            now += Duration::from_millis(100);
        }
        assert_eq!(
            timers.take_due(first + MAX_SETTLE, INTERVAL),
            Some(Scope::Local(devices(&[2])))
        );
    }

    #[test]
    fn a_retry_brings_a_full_pass() {
        let (start, mut timers) = after_first_pass();
        timers.retry = Some(start + secs(60));
        assert_eq!(timers.until_next(start), Some(secs(60)));
        assert_eq!(
            timers.take_due(start + secs(60), INTERVAL),
            Some(Scope::All)
        );
        assert_eq!(timers.retry, None);
    }

    #[test]
    fn signals_settle_like_address_changes_and_bring_a_full_pass() {
        let (start, mut timers) = after_first_pass();
        let first = start + secs(10);
        timers.address_changed(first, devices(&[2]));
        timers.asked(first + Duration::from_millis(200));
        assert_eq!(timers.take_due(first + secs(1), INTERVAL), None);
        let mut now = first;
        while now < first + MAX_SETTLE {
            timers.asked(now);
            assert_eq!(timers.take_due(now, INTERVAL), None, "{now:?}");
            now += Duration::from_millis(100);
        }
        assert_eq!(
            timers.take_due(first + MAX_SETTLE, INTERVAL),
            Some(Scope::Asked)
        );
        assert_eq!(timers.take_due(first + MAX_SETTLE, INTERVAL), None);
    }

    #[test]
    fn a_storm_of_address_changes_and_signals_sends_within_the_limit_then_the_final_address() {
        use crate::decision::{Decision, MIN_SEND_SPACING_SECS};
        use crate::method::Accepted;
        use crate::state::RecordState;
        // 200 flips in 60 s, each followed by the hotplug script's SIGUSR1, and a SIGHUP
        // every tenth; passes run as the worker runs them (a short hold is waited out, then
        // the address read again), with time injected.
        const UNIX_START: u64 = 1_800_000_000;
        let start = Instant::now();
        let flip = Duration::from_millis(300);
        let storm_end = start + flip * 200;
        let address_at = |at: Instant| -> std::net::IpAddr {
            let flips = (at.min(storm_end) - start).as_millis() / flip.as_millis();
            format!("192.0.2.{}", 10 + flips % 7).parse().unwrap()
        };
        let unix = |at: Instant| UNIX_START + (at - start).as_secs();
        let mut timers = Timers::new(start, INTERVAL);
        let mut state = RecordState::default();
        let mut sends = Vec::new();
        let mut busy_until = start;
        let mut now = start;
        let mut next_flip = start + flip;
        while now < storm_end + secs(60) {
            if now >= next_flip && next_flip <= storm_end {
                timers.address_changed(now, Changed::Anything);
                timers.asked(now);
                next_flip += flip;
            }
            if now >= busy_until && timers.take_due(now, INTERVAL).is_some() {
                let mut at = now;
                loop {
                    let unix_at = unix(at);
                    match decision::decide(address_at(at), &state, "fp", unix_at, false) {
                        Decision::Held { until } if until - unix_at <= MIN_SEND_SPACING_SECS => {
                            at = start + secs(until - UNIX_START);
                        }
                        Decision::Send(_) => {
                            let address = address_at(at);
                            state = decision::before_attempt(&state, address, unix_at);
                            let good = Ok(Accepted { changed: true });
                            state = decision::after_attempt(&state, address, &good, "fp", unix_at);
                            sends.push(at - start);
                            break;
                        }
                        _ => break,
                    }
                }
                busy_until = at;
                timers.retry = decision::next_look(&state, unix(at))
                    .map(|next| start + secs(next - UNIX_START));
            }
            now += Duration::from_millis(50);
        }
        assert_eq!(state.published, Some(address_at(storm_end)), "{sends:?}");
        // The first pass, one per spacing during the storm, and the final address.
        let bound = 1 + 60 / MIN_SEND_SPACING_SECS as usize + 1;
        assert!(sends.len() <= bound, "{} sends: {sends:?}", sends.len());
    }

    #[test]
    fn events_do_not_move_the_periodic_beat() {
        let (start, mut timers) = after_first_pass();
        timers.address_changed(start + secs(300), Changed::Anything);
        assert_eq!(
            timers.take_due(start + secs(301), INTERVAL),
            Some(Scope::Local(Changed::Anything))
        );
        assert_eq!(timers.until_next(start + secs(301)), Some(secs(299)));
    }

    #[test]
    fn missed_beats_are_not_made_up_for() {
        let (start, mut timers) = after_first_pass();
        assert_eq!(
            timers.take_due(start + secs(1900), INTERVAL),
            Some(Scope::All)
        );
        assert_eq!(timers.until_next(start + secs(1900)), Some(secs(500)));
    }

    #[test]
    fn local_changes_check_the_local_records_on_changed_devices() {
        let text = "config record 'local'
\toption hostname 'a.example.com'
\toption username 'u'
\toption password 'p'
config record 'web'
\toption hostname 'b.example.com'
\toption username 'u'
\toption password 'p'
\toption source 'web'
config record 'loopback'
\toption hostname 'c.example.com'
\toption username 'u'
\toption password 'p'
\toption source 'netlink'
\toption device 'lo'
config record 'off'
\toption enabled '0'
\toption hostname 'd.example.com'
\toption username 'u'
\toption password 'p'
";
        let config = Config::parse(Path::new("test"), text).unwrap();
        let names = |scope| {
            in_scope(&config, &scope)
                .map(|records| records.iter().map(|record| record.name.clone()).collect())
        };
        let all: Vec<String> = ["local", "web", "loopback"].map(String::from).into();
        assert_eq!(names(Scope::All), Some(all.clone()));
        assert_eq!(names(Scope::Asked), Some(all));
        let lo = netlink::device_index("lo").expect("every namespace has lo");
        assert_eq!(
            names(Scope::Local(devices(&[lo]))),
            Some(vec!["local".into(), "loopback".into()])
        );
        assert_eq!(
            names(Scope::Local(devices(&[lo + 1000]))),
            Some(vec!["local".into()])
        );
        let only_web = Config {
            records: config.records[1..2].to_vec(),
            ..config.clone()
        };
        assert_eq!(in_scope(&only_web, &Scope::Local(Changed::Anything)), None);
    }
}
