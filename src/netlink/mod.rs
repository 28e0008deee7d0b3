//! Kernel rtnetlink, read straight from the kernel: the addresses of a device and the device
//! of the default route (dumps `RTM_GETADDR`, `RTM_GETROUTE`), and the devices that address
//! notifications name. The `netlink` address source (`crate::source`) and the daemon's event
//! loop both build on it.
//!
//! This file holds the entry points and the socket I/O (the socket calls themselves are in
//! `crate::sys`); everything below it is safe code over byte slices. Replies are parsed in
//! native byte order, as the kernel writes them, with the layouts of the kernel's uapi headers
//! taken from `libc` (`size_of`, `offset_of!`). The parser is built from small pieces that never
//! panic and never hand out bytes beyond what they were given:
//!
//! - [`wire`]: [`Messages`] splits a datagram into messages, and
//!   [`Attributes`](wire::Attributes) a message into attributes, both framed by the same code;
//!   neither yields anything that runs past its container: that is an error, after which they
//!   yield nothing more. [`Reply`] checks the framing of a whole reply, datagram by datagram
//!   (sequence number, port, `NLMSG_DONE`, `NLMSG_ERROR`, `NLM_F_DUMP_INTR`), and hands each
//!   data message to a [`Gather`];
//! - [`dump`]: the gatherers, [`AddressGather`] and [`RouteGather`], pure functions of the
//!   bytes.

#![forbid(unsafe_code)]

pub mod dump;
#[cfg(test)]
mod testing;
pub mod wire;

use std::io;
use std::mem::{offset_of, size_of};
use std::time::{Duration, Instant};

use crate::config::Family;
use crate::error::{excerpt, Error};
use crate::rules::Candidate;
use crate::sys::{self, NetlinkSocket};
use dump::{AddressGather, RouteGather};
use wire::{dump_request, family_header, u32_at, Dump, Gather, Messages, Reply};

/// The candidates of `family` on `device` (kernel device name), from an RTM_GETADDR dump.
pub(crate) fn addresses(
    device: &str,
    family: Family,
    timeout: Duration,
) -> Result<Vec<Candidate>, Error> {
    let index = sys::interface_index(device).map_err(|error| match error.raw_os_error() {
        Some(libc::ENODEV) => Error::Address(format!("device {} does not exist", excerpt(device))),
        _ => Error::Address(format!(
            "cannot look up device {}: {error}",
            excerpt(device)
        )),
    })?;
    let origin = format!("device {device}");
    let gathered = run_dump(Dump::Addresses, family, timeout, || {
        AddressGather::new(family, index, origin.clone())
    })?;
    Ok(gathered.found)
}

/// The device of `family`'s default route in the main table (lowest metric wins), None when
/// there is none.
pub(crate) fn default_route_device(
    family: Family,
    timeout: Duration,
) -> Result<Option<String>, Error> {
    let gathered = run_dump(Dump::Routes, family, timeout, || RouteGather::new(family))?;
    gathered
        .best
        .map(|route| {
            sys::interface_name(route.index).map_err(|error| {
                Error::Address(format!(
                    "cannot name device {} of the {} default route: {error}",
                    route.index,
                    family.name()
                ))
            })
        })
        .transpose()
}

/// The devices (by index) whose addresses an address notification reports added or removed.
/// A notification that cannot be framed is an error: the caller then re-checks everything.
pub fn changed_devices(datagram: &[u8]) -> Result<Vec<u32>, Error> {
    let mut devices = Vec::new();
    for message in Messages::new(datagram, 1) {
        let message = message?;
        if message.kind != libc::RTM_NEWADDR && message.kind != libc::RTM_DELADDR {
            continue;
        }
        let header = family_header(&message, "ifaddrmsg", size_of::<libc::ifaddrmsg>())?;
        let index = u32_at(header, offset_of!(libc::ifaddrmsg, ifa_index));
        if let Some(index) = index.filter(|index| !devices.contains(index)) {
            devices.push(index);
        }
    }
    Ok(devices)
}

/// The index of `device`, `None` when it does not exist (now).
pub(crate) fn device_index(device: &str) -> Option<u32> {
    sys::interface_index(device).ok()
}

/// Bytes of one receive. The kernel makes the first datagram of a dump at most a page (and at
/// most 8 KiB), and later ones at most as large as the largest receive buffer seen, capped at
/// 32 KiB: a buffer of 32 KiB holds any datagram of a dump.
const RECEIVE_BUFFER_LEN: usize = 32 * 1024;

/// How many times in all a dump is tried while the kernel reports it inconsistent
/// (`NLM_F_DUMP_INTR`: the addresses or routes changed while it was being written).
const DUMP_ATTEMPTS: u32 = 4;

/// Runs `dump` for `family` from a fresh socket, within `timeout` in all, and
/// returns what `fresh()`'s gatherer made of it. A dump the kernel reports inconsistent is run
/// again, with a fresh gatherer, up to [`DUMP_ATTEMPTS`] times in all.
fn run_dump<G: Gather>(
    dump: Dump,
    family: Family,
    timeout: Duration,
    mut fresh: impl FnMut() -> G,
) -> Result<G, Error> {
    let started = Instant::now();
    let what = dump.name();
    let failed = |doing: &str, error: io::Error| {
        Error::Address(format!("netlink {what}: cannot {doing}: {error}"))
    };
    let socket = NetlinkSocket::open_route().map_err(|error| failed("open a socket", error))?;
    let port = socket
        .port()
        .map_err(|error| failed("learn the socket's port", error))?;
    let mut buffer = vec![0u8; RECEIVE_BUFFER_LEN];
    for seq in 1..=DUMP_ATTEMPTS {
        let mut reply = Reply::new(dump, seq, port, fresh());
        socket
            .send(&dump_request(dump, family, seq))
            .map_err(|error| failed("send the request", error))?;
        while !reply.finished {
            let remaining = timeout.saturating_sub(started.elapsed());
            let timed_out = || {
                Error::Address(format!(
                    "netlink {what}: the kernel did not complete its reply within {timeout:?}"
                ))
            };
            if remaining.is_zero() {
                return Err(timed_out());
            }
            socket
                .set_receive_timeout(remaining)
                .map_err(|error| failed("set the receive timeout", error))?;
            let length = socket
                .receive(&mut buffer)
                .map_err(|error| match error.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(),
                    _ => failed("read the reply", error),
                })?;
            reply.take(buffer.get(..length).unwrap_or_default())?;
        }
        if !reply.interrupted {
            return Ok(reply.gather);
        }
    }
    Err(Error::Address(format!(
        "netlink {what}: the kernel's tables kept changing during the dump \
         ({DUMP_ATTEMPTS} attempts)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testing::*;
    use crate::netlink::wire::MESSAGE_HEADER_LEN;
    use crate::rules::Flags;
    use std::net::{IpAddr, Ipv6Addr};

    #[test]
    fn notifications_name_each_changed_device_once() {
        let added = |index| {
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv6, 64, 0, index),
                &[],
            )
        };
        let removed = message(libc::RTM_DELADDR, &ifaddrmsg(Family::Ipv4, 24, 0, 7), &[]);
        let link = message(libc::RTM_NEWLINK, &ifaddrmsg(Family::Ipv4, 0, 0, 9), &[]);
        let datagram = concat(&[added(3), removed, added(3), link]);
        assert_eq!(changed_devices(&datagram).ok(), Some(vec![3, 7]));
        assert_eq!(changed_devices(&[]).ok(), Some(vec![]));
        let mut short = added(3);
        set_length(&mut short, u32::try_from(MESSAGE_HEADER_LEN + 2).unwrap());
        assert!(changed_devices(&short).is_err());
    }

    #[test]
    fn the_kernel_lists_127_0_0_1_on_loopback() {
        let found = addresses("lo", Family::Ipv4, Duration::from_secs(5)).expect("netlink works");
        let loopback = found
            .iter()
            .find(|candidate| candidate.address == v4("127.0.0.1"))
            .unwrap_or_else(|| panic!("no 127.0.0.1 on lo: {found:?}"));
        assert_eq!(loopback.prefix_len, 8);
        assert_eq!(loopback.origin, "device lo");
        assert_eq!((loopback.preferred, loopback.valid), (None, None));

        // IPv6 may be disabled, but what lo has then is ::1/128, permanent.
        let found = addresses("lo", Family::Ipv6, Duration::from_secs(5)).expect("netlink works");
        for candidate in found {
            assert_eq!(candidate.address, IpAddr::V6(Ipv6Addr::LOCALHOST));
            assert_eq!((candidate.prefix_len, candidate.valid), (128, None));
            assert_eq!(candidate.flags, Flags::default());
        }
    }

    #[test]
    fn a_device_the_kernel_lacks_does_not_exist() {
        let timeout = Duration::from_secs(5);
        for (device, expected) in [
            (
                "dynhost-nodev",
                "no usable address: device 'dynhost-nodev' does not exist",
            ),
            (
                "a-name-too-long-for-any-device",
                "no usable address: device 'a-name-too-long-for-any-device' does not exist",
            ),
            ("", "no usable address: device '' does not exist"),
        ] {
            let error = addresses(device, Family::Ipv4, timeout).expect_err(device);
            assert_eq!(error.to_string(), expected);
        }
        let error = addresses("lo\0", Family::Ipv4, timeout).expect_err("NUL");
        assert_eq!(
            error.to_string(),
            "no usable address: cannot look up device 'lo?': \
             a device name cannot contain a NUL byte"
        );
    }

    #[test]
    fn the_kernel_answers_the_route_dump() {
        let timeout = Duration::from_secs(5);
        for family in [Family::Ipv4, Family::Ipv6] {
            if let Some(device) = default_route_device(family, timeout).expect("netlink works") {
                sys::interface_index(&device).expect("the default route's device exists");
            }
        }
    }
}
