//! A stand-in for OpenWrt's `ubus` command line tool, so that the `ubus` address source can be
//! tested on any machine: an executable `bin/ubus` shell script in the test's temp dir, put
//! first on the binary's PATH, answering from files the test writes.
//!
//! ```ignore
//! let env = TestEnv::new();
//! let ubus = FakeUbus::new(&env)            // also puts its bin/ first on env's PATH
//!     .interface("wan", r#"{"up":true,"ipv4-address":[...]}"#, 0)
//!     .missing("wan_6");
//! let out = env.run(&config, &["check"]);
//! assert_eq!(ubus.calls(), vec![FakeUbus::status_args("wan")]);
//! ```
//!
//! What it understands, as the real tool does (`ubus [options] call <object> <method> [<msg>]`,
//! options `-S`, `-v`, `-s <socket>`, `-t <timeout>` before the command):
//! - `call network.interface.<NAME> status`: the document set for `NAME` and its exit status;
//! - `call network.interface dump`: the document set with [`FakeUbus::dump`];
//! - anything else, or an interface without a document ([`FakeUbus::missing`]): exit 4
//!   (`UBUS_STATUS_NOT_FOUND`) with nothing on stdout, and `Command failed: Not found` on stderr
//!   unless `-S` was given (the real tool prints no error message with `-S`);
//! - after [`FakeUbus::down`]: every call exits 255 (`Failed to connect to ubus` on stderr
//!   unless `-S`), as when ubusd is not running;
//! - a wrong number of arguments after `call`: the usage on stderr, exit 254 (like the real
//!   tool's -2).
//!
//! The document is printed as given (plus a final newline), with or without `-S`: the real tool
//! would indent it without `-S`, which no JSON parser minds. Every call's argv is appended to a
//! log first, whatever the answer, for [`FakeUbus::calls`].
//!
//! The script uses shell builtins only (no `cat`), so it works whatever PATH dynhost hands its
//! children. Replies are files rewritten atomically, so a test may change them between runs.

use std::fs;
use std::path::{Path, PathBuf};

use super::{sh_quote, write_file, write_script, TestEnv};

/// `UBUS_STATUS_NOT_FOUND`: the exit status of a call to an object that does not exist.
pub const UBUS_NOT_FOUND: u8 = 4;
/// The exit status when ubusd cannot be reached (the real tool returns -1).
pub const UBUS_CONNECT_FAILED: u8 = 255;

/// Separates the arguments of one call in the log (ASCII unit separator).
const ARG_END: char = '\u{1f}';
/// Ends one call in the log (ASCII record separator, then a newline for readability).
const CALL_END: &str = "\u{1e}\n";

/// The stand-in `ubus`. Several `FakeUbus::new` on one [`TestEnv`] share the same files.
pub struct FakeUbus {
    bin_dir: PathBuf,
    program: PathBuf,
    data_dir: PathBuf,
    log: PathBuf,
}

impl FakeUbus {
    /// Writes `<env dir>/bin/ubus` and puts `bin/` first on the PATH of `env`'s later runs of
    /// the binary. Until told otherwise, every call answers "not found".
    pub fn new(env: &TestEnv) -> FakeUbus {
        let ubus = FakeUbus::in_dir(env.dir());
        env.prepend_path(&ubus.bin_dir);
        ubus
    }

    /// The same without a [`TestEnv`]: `<dir>/bin/ubus`, answers in `<dir>/ubus/`.
    pub fn in_dir(dir: &Path) -> FakeUbus {
        let bin_dir = dir.join("bin");
        let data_dir = dir.join("ubus");
        for d in [&bin_dir, &data_dir] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
        }
        let program = bin_dir.join("ubus");
        let log = data_dir.join("calls.log");
        write_script(&program, &script(&data_dir, &log));
        FakeUbus {
            bin_dir,
            program,
            data_dir,
            log,
        }
    }

    /// `call network.interface.<name> status` prints `json` and exits with `code`.
    pub fn interface(self, name: &str, json: &str, code: u8) -> FakeUbus {
        self.set_interface(name, json, code);
        self
    }

    /// `call network.interface.<name> status` answers "not found" (exit 4, no output).
    pub fn missing(self, name: &str) -> FakeUbus {
        self.set_missing(name);
        self
    }

    /// `call network.interface dump` prints `json` and exits 0.
    pub fn dump(self, json: &str) -> FakeUbus {
        self.set_dump(json, 0);
        self
    }

    /// Every call fails as when ubusd is not running (exit 255).
    pub fn down(self) -> FakeUbus {
        self.set_down(true);
        self
    }

    /// [`FakeUbus::interface`] for an existing stand-in (e.g. between two runs).
    pub fn set_interface(&self, name: &str, json: &str, code: u8) {
        write_reply(&self.interface_file(name), json, code);
    }

    pub fn set_missing(&self, name: &str) {
        remove(&self.interface_file(name));
    }

    /// `call network.interface dump` prints `json` and exits with `code`.
    pub fn set_dump(&self, json: &str, code: u8) {
        write_reply(&self.data_dir.join("dump"), json, code);
    }

    pub fn set_down(&self, down: bool) {
        let marker = self.data_dir.join("down");
        if down {
            write_file(&marker, b"", 0o644);
        } else {
            remove(&marker);
        }
    }

    /// The `bin/` directory holding `ubus` (for a hand-made [`super::Launch`]).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The `ubus` script itself.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The argv (without `ubus` itself) of every call so far, in order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        let text = match fs::read(&self.log) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => panic!("cannot read {}: {e}", self.log.display()),
        };
        let mut calls: Vec<&str> = text.split(CALL_END).collect();
        let rest = calls.pop().unwrap_or_default();
        assert!(
            rest.is_empty(),
            "unterminated entry in the ubus log: {rest:?}"
        );
        calls
            .into_iter()
            .map(|call| {
                let mut args: Vec<String> = call.split(ARG_END).map(str::to_string).collect();
                // Every argument ends with the separator: the last piece is empty.
                args.pop();
                args
            })
            .collect()
    }

    /// Forgets the calls so far.
    pub fn clear_calls(&self) {
        remove(&self.log);
    }

    /// `["-S", "call", "network.interface.<name>", "status"]`, for comparing with
    /// [`FakeUbus::calls`].
    pub fn status_args(name: &str) -> Vec<String> {
        ["-S", "call", &format!("network.interface.{name}"), "status"]
            .map(str::to_string)
            .to_vec()
    }

    fn interface_file(&self, name: &str) -> PathBuf {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
            "the fake ubus only knows interface names of [A-Za-z0-9_.-]: {name:?}"
        );
        self.data_dir.join(format!("interface.{name}"))
    }
}

/// One interface's status as the reply of `network.interface dump` shows it (the dump's
/// entries are the statuses plus the name), for a test that needs both from one moment.
pub fn dumped_status(dump: &str, interface: &str) -> String {
    let dump: serde_json::Value =
        serde_json::from_str(dump).unwrap_or_else(|e| panic!("the dump is no JSON: {e}"));
    dump["interface"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["interface"] == interface))
        .unwrap_or_else(|| panic!("no interface {interface:?} in the dump"))
        .to_string()
}

/// A reply file: the exit status on the first line, then the document.
fn write_reply(path: &Path, json: &str, code: u8) {
    write_file(path, format!("{code}\n{json}").as_bytes(), 0o644);
}

fn remove(path: &Path) {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove {}: {e}", path.display()),
    }
}

fn script(data_dir: &Path, log: &Path) -> String {
    format!(
        r#"#!/bin/sh
# Stand-in for OpenWrt's ubus CLI, written by tests/common/ubus.rs. Shell builtins only.
data={data}
# Log the exact argv first: each argument followed by \037, the call ended by \036 and a newline.
us=$(printf '\037')
line=
for arg in "$@"; do line="$line$arg$us"; done
printf '%s\036\n' "$line" >> {log}

simple=0
while [ $# -gt 0 ]; do
	case $1 in
	-S) simple=1; shift ;;
	-v) shift ;;
	-s|-t|-m|-M) [ $# -ge 2 ] || break; shift 2 ;;
	*) break ;;
	esac
done
fail() {{
	[ "$simple" = 1 ] || printf '%s\n' "$2" >&2
	exit "$1"
}}
usage() {{
	printf 'Usage: ubus [<options>] <command> [arguments...]\n' >&2
	exit 254
}}
[ -e "$data/down" ] && fail {down} 'Failed to connect to ubus'
[ $# -ge 1 ] || usage
[ "$1" = call ] || fail {not_found} 'Command failed: Not found'
[ $# -ge 3 ] && [ $# -le 4 ] || usage
case $2 in
network.interface)
	[ "$3" = dump ] || fail {not_found} 'Command failed: Not found'
	reply=dump ;;
network.interface.*)
	[ "$3" = status ] || fail {not_found} 'Command failed: Not found'
	name=${{2#network.interface.}}
	case $name in ''|*[!A-Za-z0-9_.-]*) fail {not_found} 'Command failed: Not found' ;; esac
	reply=interface.$name ;;
*) fail {not_found} 'Command failed: Not found' ;;
esac
[ -f "$data/$reply" ] || fail {not_found} 'Command failed: Not found'
{{
	IFS= read -r code
	while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done
}} < "$data/$reply"
exit "$code"
"#,
        data = sh_quote(&data_dir.to_string_lossy()),
        log = sh_quote(&log.to_string_lossy()),
        down = UBUS_CONNECT_FAILED,
        not_found = UBUS_NOT_FOUND,
    )
}
