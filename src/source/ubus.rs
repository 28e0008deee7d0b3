//! The `ubus` source: runs `ubus -S call network.interface.<name> status` (and, for a
//! delegated prefix without an address, `network.interface dump`) and reads the replies with
//! `super::netifd`.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use super::child::{self, RunError, Stderr};
use super::netifd::{device, extract, parse_dump, parse_status, status_call, DUMP_CALL};
use crate::config::Family;
use crate::error::Error;
use crate::rules::Candidate;

/// The `ubus` program, looked up on PATH.
const UBUS: &str = "ubus";
/// A status is about 2 KB and a dump of many interfaces tens of KB: this is far more than any.
const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// Candidates of `family` for the logical interface (e.g. "wan", "wan6", "wan_6"); see
/// `netifd::extract` for `suffix` and `prefix_interface`.
pub fn candidates(
    interface: &str,
    family: Family,
    suffix: Option<Ipv6Addr>,
    prefix_interface: &str,
    timeout: Duration,
) -> Result<Vec<Candidate>, Error> {
    candidates_from(UBUS, interface, family, suffix, prefix_interface, timeout)
}

/// The interface's l3_device; Ok(None) when `ubus` is not on PATH at all (plain Linux), so
/// callers can fall back.
pub fn l3_device(interface: &str, timeout: Duration) -> Result<Option<String>, Error> {
    l3_device_from(UBUS, interface, timeout)
}

fn candidates_from(
    program: &str,
    interface: &str,
    family: Family,
    suffix: Option<Ipv6Addr>,
    prefix_interface: &str,
    timeout: Duration,
) -> Result<Vec<Candidate>, Error> {
    let deadline = Instant::now() + timeout;
    let text = call_status(program, interface, timeout)?;
    let status = parse_status(interface, &text)?;
    extract(interface, family, suffix, prefix_interface, &status, || {
        let text = call(
            program,
            "network.interface",
            "dump",
            DUMP_CALL,
            deadline.saturating_duration_since(Instant::now()),
            timeout,
        )?;
        parse_dump(&text)
    })
}

fn l3_device_from(
    program: &str,
    interface: &str,
    timeout: Duration,
) -> Result<Option<String>, Error> {
    let text = match call_status(program, interface, timeout) {
        Err(CallFailure::NotInstalled) => return Ok(None),
        other => other?,
    };
    device(interface, &parse_status(interface, &text)?).map(Some)
}

/// Why a call gave no reply; `ubus` missing is told apart for `l3_device`, a missing object
/// for naming the interface.
enum CallFailure {
    NotInstalled,
    /// Exit status 4: the object of this call does not exist.
    NoSuchObject(String),
    Other(Error),
}

impl From<CallFailure> for Error {
    fn from(failure: CallFailure) -> Error {
        match failure {
            CallFailure::NotInstalled => Error::Address(
                "ubus not found on PATH: this does not look like OpenWrt; on other machines \
                 use source 'netlink' or 'web'"
                    .into(),
            ),
            CallFailure::NoSuchObject(call) => Error::Address(format!(
                "ubus call {call} failed: not found (is netifd running?)"
            )),
            CallFailure::Other(error) => error,
        }
    }
}

fn call_status(program: &str, interface: &str, timeout: Duration) -> Result<String, CallFailure> {
    if interface.is_empty() {
        return Err(CallFailure::Other(Error::Address(
            "the interface name is empty".into(),
        )));
    }
    let object = format!("network.interface.{interface}");
    match call(
        program,
        &object,
        "status",
        &status_call(interface),
        timeout,
        timeout,
    ) {
        Err(CallFailure::NoSuchObject(_)) => Err(CallFailure::Other(Error::Address(format!(
            "interface '{interface}' does not exist (ubus: not found)"
        )))),
        other => other,
    }
}

/// Runs `ubus -S call <object> <method>` within `remaining` and returns its reply. `call` names
/// the call in messages; `timeout` is the whole time limit, for messages.
fn call(
    program: &str,
    object: &str,
    method: &str,
    call: &str,
    remaining: Duration,
    timeout: Duration,
) -> Result<String, CallFailure> {
    let fail = |message: String| CallFailure::Other(Error::Address(message));
    let output = child::run(
        program,
        &["-S", "call", object, method],
        remaining,
        MAX_OUTPUT_BYTES,
        Stderr::Discard,
    )
    .map_err(|e| match e {
        RunError::NotFound(_) => CallFailure::NotInstalled,
        RunError::Spawn(e) => fail(format!("cannot run ubus: {e}")),
        RunError::Read(e) => fail(format!("reading the reply of ubus call {call}: {e}")),
        RunError::TooLarge => fail(format!(
            "ubus call {call} replied with more than {} KiB",
            MAX_OUTPUT_BYTES / 1024
        )),
        RunError::TimedOut => fail(format!(
            "ubus call {call} did not answer within {} s and was killed",
            timeout.as_secs()
        )),
    })?;
    match output.status.code() {
        Some(0) => {}
        Some(4) => return Err(CallFailure::NoSuchObject(call.to_string())),
        Some(255) => {
            return Err(fail(format!(
                "ubus call {call}: cannot reach ubusd (is it running?)"
            )))
        }
        Some(code) => {
            return Err(fail(format!(
                "ubus call {call} failed: {} (exit status {code})",
                ubus_status(code)
            )))
        }
        None => return Err(fail(format!("ubus call {call} failed ({})", output.status))),
    }
    String::from_utf8(output.stdout).map_err(|_| {
        fail(format!(
            "ubus call {call} replied with text that is not UTF-8"
        ))
    })
}

/// libubus's status codes, which the `ubus` program exits with.
fn ubus_status(code: i32) -> &'static str {
    match code {
        1 => "invalid command",
        2 => "invalid argument",
        3 => "method not found",
        4 => "not found",
        5 => "no response",
        6 => "permission denied",
        7 => "request timed out",
        8 => "operation not supported",
        9 => "unknown error",
        10 => "connection failed",
        11 => "out of memory",
        12 => "parsing message data failed",
        13 => "system error",
        _ => "unknown status",
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::source::netifd::tests::{
        addresses, ip, pd_only_dump, suffix, DHCPV6_PD, PD_ONLY, PPPOE_IPV4,
    };

    /// A directory with a stand-in `ubus` that serves `<name>.json` for
    /// `-S call network.interface.<name> status` and `dump.json` for the dump, and exits 4 for
    /// anything it has no file for, as ubus does. Removed on drop.
    struct StandIn {
        dir: std::path::PathBuf,
    }

    impl StandIn {
        fn new(test: &str) -> StandIn {
            let dir =
                std::env::temp_dir().join(format!("dynhost-ubus-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            let stand_in = StandIn { dir };
            stand_in.program(&format!(
                r#"[ "$#" = 4 ] && [ "$1" = -S ] && [ "$2" = call ] || exit 2
case "$3 $4" in
"network.interface dump") file=dump ;;
network.interface.*" status") file=${{3#network.interface.}} ;;
*) exit 3 ;;
esac
[ -f "{dir}/$file.json" ] || exit 4
exec cat "{dir}/$file.json""#,
                dir = stand_in.dir.display()
            ));
            stand_in
        }

        fn ubus(&self) -> String {
            self.dir.join("ubus").display().to_string()
        }

        /// Replaces the stand-in with a shell script. Written by another process, so that no
        /// descriptor of it open for writing can leak into a child forked by another test
        /// thread and make the exec fail with ETXTBSY.
        fn program(&self, body: &str) {
            let written = std::process::Command::new("sh")
                .args([
                    "-c",
                    r#"printf '#!/bin/sh\n%s\n' "$2" > "$1" && chmod 755 "$1""#,
                ])
                .args(["sh", &self.ubus(), body])
                .status()
                .expect("sh runs");
            assert!(written.success());
        }

        fn reply(&self, name: &str, text: &str) {
            std::fs::write(self.dir.join(format!("{name}.json")), text).expect("reply file");
        }
    }

    impl Drop for StandIn {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn ask(
        stand_in: &StandIn,
        interface: &str,
        family: Family,
        suffix: Option<Ipv6Addr>,
    ) -> Result<Vec<IpAddr>, String> {
        candidates_from(&stand_in.ubus(), interface, family, suffix, "lan", TIMEOUT)
            .map(|candidates| addresses(&candidates))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn ubus_replies_become_candidates() {
        let stand_in = StandIn::new("replies");
        stand_in.reply("wan", PPPOE_IPV4);
        stand_in.reply("wan6", DHCPV6_PD);
        assert_eq!(
            ask(&stand_in, "wan", Family::Ipv4, None),
            Ok(vec![ip("203.0.113.45")])
        );
        assert_eq!(
            ask(&stand_in, "wan6", Family::Ipv6, Some(suffix("::5"))),
            Ok(vec![ip("2001:db8:1200::5")])
        );
        assert_eq!(
            l3_device_from(&stand_in.ubus(), "wan", TIMEOUT).map_err(|e| e.to_string()),
            Ok(Some("pppoe-wan".into()))
        );
    }

    #[test]
    fn ubus_dump_is_asked_for_a_prefix_without_an_address() {
        let stand_in = StandIn::new("dump");
        stand_in.reply("wan_6", PD_ONLY);
        let error = ask(&stand_in, "wan_6", Family::Ipv6, None).unwrap_err();
        assert!(
            error.contains("ubus call network.interface dump failed: not found"),
            "{error}"
        );
        stand_in.reply("dump", &pd_only_dump());
        assert_eq!(
            ask(&stand_in, "wan_6", Family::Ipv6, None),
            Ok(vec![ip("2001:db8:abcd:1200::1")])
        );
    }

    #[test]
    fn ubus_failures_are_named() {
        let stand_in = StandIn::new("failures");
        assert_eq!(
            ask(&stand_in, "wan_6", Family::Ipv6, None),
            Err("no usable address: interface 'wan_6' does not exist (ubus: not found)".into())
        );
        assert!(l3_device_from(&stand_in.ubus(), "wan_6", TIMEOUT)
            .unwrap_err()
            .to_string()
            .contains("interface 'wan_6' does not exist"));
        assert_eq!(
            ask(&stand_in, "", Family::Ipv4, None),
            Err("no usable address: the interface name is empty".into())
        );
        stand_in.reply("wan", "{\"up\": tru");
        let error = ask(&stand_in, "wan", Family::Ipv4, None).unwrap_err();
        assert!(
            error.contains("ubus call network.interface.wan status gave malformed JSON"),
            "{error}"
        );
        stand_in.program("exit 255");
        let error = ask(&stand_in, "wan", Family::Ipv4, None).unwrap_err();
        assert!(error.contains("cannot reach ubusd"), "{error}");
        stand_in.program("echo 'Command failed: Permission denied' >&2; exit 6");
        assert_eq!(
            ask(&stand_in, "wan", Family::Ipv4, None),
            Err(
                "no usable address: ubus call network.interface.wan status failed: permission \
                 denied (exit status 6)"
                    .into()
            )
        );
        stand_in.program("kill -9 $$");
        let error = ask(&stand_in, "wan", Family::Ipv4, None).unwrap_err();
        assert!(error.contains("failed (signal: 9"), "{error}");
        stand_in.program("printf '\\377'");
        let error = ask(&stand_in, "wan", Family::Ipv4, None).unwrap_err();
        assert!(error.contains("not UTF-8"), "{error}");
        stand_in.program("exec yes");
        let error = ask(&stand_in, "wan", Family::Ipv4, None).unwrap_err();
        assert!(error.contains("replied with more than 1024 KiB"), "{error}");
    }

    #[test]
    fn ubus_that_hangs_is_killed() {
        let stand_in = StandIn::new("hangs");
        stand_in.program("exec sleep 30");
        let error = candidates_from(
            &stand_in.ubus(),
            "wan",
            Family::Ipv4,
            None,
            "lan",
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains(
                "ubus call network.interface.wan status did not answer within 0 s and was killed"
            ),
            "{error}"
        );
    }

    #[test]
    fn missing_ubus_is_named_and_lets_l3_device_fall_back() {
        let missing = "/nonexistent/ubus";
        let error =
            candidates_from(missing, "wan", Family::Ipv4, None, "lan", TIMEOUT).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no usable address: ubus not found on PATH: this does not look like OpenWrt; on \
             other machines use source 'netlink' or 'web'"
        );
        assert!(matches!(l3_device_from(missing, "wan", TIMEOUT), Ok(None)));
    }
}
