//! The script source over many passes: whatever a script leaves behind must pile up neither in
//! dynhost (threads, descriptors) nor on the router (processes). This file holds one test, so
//! that this process's threads and descriptors are counted with nothing else running.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use dynhost::config::{Config, Record};
use dynhost::error::Error;
use dynhost::state::StateDir;
use dynhost::transport::{Call, HttpReply, Request, Transport};

const TIMEOUT: Duration = Duration::from_secs(5);
const PASSES: usize = 100;

fn entries(dir: &str) -> usize {
    fs::read_dir(dir).expect(dir).count()
}

/// How many live processes have exactly `argv`.
fn processes_running(argv: &[&str]) -> usize {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|arg| [arg.as_bytes(), b"\0"].concat())
        .collect();
    fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        // A dead process that is not reaped yet has an empty command line.
        .filter(|entry| fs::read(entry.path().join("cmdline")).is_ok_and(|line| line == wanted))
        .count()
}

/// A DynHost server that accepts every update, and counts them.
#[derive(Default)]
struct Accepting {
    updates: usize,
}

impl Transport for Accepting {
    fn get(&mut self, _: &Request, _: &Path) -> Result<HttpReply, Error> {
        self.updates += 1;
        Ok(HttpReply {
            status: 200,
            body: b"good 192.0.2.1\n".to_vec(),
            location: None,
            query_id: None,
        })
    }

    fn call(&mut self, call: &Call, _: &Path) -> Result<HttpReply, Error> {
        panic!(
            "only DynHost records here, yet {} {}",
            call.method, call.url
        )
    }
}

/// A record whose address comes from `script`, as the config gives it.
fn script_record(script: &Path) -> Record {
    let text = format!(
        "config record 'home'\n\
         \toption hostname 'home.example.com'\n\
         \toption username 'example.com-router'\n\
         \toption password 'unused'\n\
         \toption source 'script'\n\
         \toption script '{}'\n",
        script.display()
    );
    let mut config = Config::parse(Path::new("test"), text).expect("valid config");
    config.records.remove(0)
}

#[test]
fn passes_with_a_script_whose_background_child_keeps_stdout_open_leave_nothing_behind() {
    let dir = std::env::temp_dir().join(format!("dynhost-script-source-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    // The background child's argument is found in no other process: how leftovers are told.
    let seconds = format!("600.{}", std::process::id());
    let script = dir.join("address.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\nsleep {seconds} &\necho 192.0.2.1\n"),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let record = script_record(&script);
    let state_dir = StateDir::open(&dir.join("state")).unwrap();
    let mut server = Accepting::default();
    // Forced, so that every pass goes all the way: detect, send, remember.
    let mut pass = |number: usize| {
        let started = Instant::now();
        let worst = dynhost::pass::run(
            &[&record],
            true,
            TIMEOUT,
            &state_dir,
            &mut server,
            &|| 1_700_000_000,
            None,
            &mut dynhost::notices::Notices::default(),
        )
        .unwrap_or_else(|error| panic!("pass {number}: {error}"));
        assert_eq!(worst, None, "pass {number} failed");
        assert!(
            started.elapsed() < TIMEOUT,
            "pass {number} waited for the background child"
        );
    };

    // The first pass may set up what every later one reuses.
    pass(0);
    let threads = entries("/proc/self/task");
    let fds = entries("/proc/self/fd");
    for number in 1..=PASSES {
        pass(number);
    }
    assert_eq!(
        entries("/proc/self/task"),
        threads,
        "threads after {PASSES} passes"
    );
    assert_eq!(
        entries("/proc/self/fd"),
        fds,
        "descriptors after {PASSES} passes"
    );
    // Killing is asynchronous: the last ones may take a moment to die.
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_running(&["sleep", &seconds]) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = processes_running(&["sleep", &seconds]);
    assert_eq!(server.updates, PASSES + 1, "one update per forced pass");
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(left, 0, "background children left running");
}
