//! The netlink reader: the framing of messages and attributes (`Messages`, `Attributes`), the
//! replies to the address and route dumps (`Reply::take` with `AddressGather` and
//! `RouteGather`), and the address notifications the daemon reads (`changed_devices`); the
//! addresses found then go through the publishing rules, as they do in `source::detect`.
//!
//! Input: one byte choosing the dump and the family, then datagrams, each a little-endian
//! 16-bit length and that many bytes (the last one takes what is left when it is short; a
//! last lone byte is dropped).
#![no_main]

use dynhost::config::Family;
use dynhost::rules;
use dynhost::source::netlink::{
    changed_devices, AddressGather, Attributes, Dump, Messages, Reply, RouteGather,
};
use dynhost_fuzz::{assert_error_is_one_line, check_choice};
use libfuzzer_sys::fuzz_target;

/// The request's sequence number and the socket's port that the seeds' messages carry.
const SEQ: u32 = 1;
const PORT: u32 = 0x1234;
/// The device whose addresses are asked for, and its name.
const DEVICE: u32 = 2;
const PLACE: &str = "device eth0";
/// The sizes of `struct nlmsghdr` and `struct rtattr`, fixed by the kernel's ABI: no payload or
/// value may start inside its own header.
const MESSAGE_HEADER: usize = 16;
const ATTRIBUTE_HEADER: usize = 4;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, mut rest)) = data.split_first() else {
        return;
    };
    let mut datagrams = Vec::new();
    while let [low, high, tail @ ..] = rest {
        let length = usize::from(u16::from_le_bytes([*low, *high])).min(tail.len());
        let (datagram, after) = tail.split_at(length);
        datagrams.push(datagram);
        rest = after;
    }
    for datagram in &datagrams {
        check_framing(datagram);
        match changed_devices(datagram) {
            Ok(devices) => {
                let mut unique = devices.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(unique.len(), devices.len(), "{devices:?}");
            }
            Err(error) => assert_error_is_one_line(&error),
        }
    }
    let family = if choice & 1 == 0 {
        Family::Ipv4
    } else {
        Family::Ipv6
    };
    if choice & 2 == 0 {
        let gather = AddressGather::new(family, DEVICE, PLACE.to_string());
        if let Some(reply) = read(Reply::new(Dump::Addresses, SEQ, PORT, gather), &datagrams) {
            let found = reply.gather.found;
            for candidate in &found {
                assert!(family.matches(&candidate.address), "{candidate:?}");
            }
            if family == Family::Ipv6 {
                let suffix = "::1:2:3:4".parse().expect("a suffix");
                check_choice(family, PLACE, rules::suffixed(&found, suffix));
            }
            check_choice(family, PLACE, found);
        }
    } else {
        let gather = RouteGather::new(family);
        read(Reply::new(Dump::Routes, SEQ, PORT, gather), &datagrams);
    }
});

/// Feeds `datagrams` to `reply` as `run_dump` does: until the reply is finished or fails.
fn read<G: dynhost::source::netlink::Gather>(
    mut reply: Reply<G>,
    datagrams: &[&[u8]],
) -> Option<Reply<G>> {
    for datagram in datagrams {
        if reply.finished {
            break;
        }
        if let Err(error) = reply.take(datagram) {
            assert_error_is_one_line(&error);
            return None;
        }
    }
    Some(reply)
}

/// Every message the framing yields is exactly as long as its header claims and lies within the
/// datagram, after the previous one, and every attribute likewise within its message's payload;
/// after an error nothing more is yielded.
fn check_framing(datagram: &[u8]) {
    let mut after = datagram.as_ptr() as usize;
    let mut messages = Messages::new(datagram, 1);
    let mut expected_number = 1;
    while let Some(message) = messages.next() {
        let Ok(message) = message else {
            assert!(messages.next().is_none(), "a message after a framing error");
            break;
        };
        assert_eq!(message.number, expected_number);
        expected_number += 1;
        let start = within(datagram, message.payload, "message");
        assert!(
            start >= after + MESSAGE_HEADER,
            "message {} overlaps",
            message.number
        );
        after = start + message.payload.len();
        let claimed = claimed_length(datagram, start - MESSAGE_HEADER, 4);
        assert_eq!(
            claimed,
            MESSAGE_HEADER + message.payload.len(),
            "message length"
        );
        for header_len in [Dump::Addresses.header_len(), Dump::Routes.header_len()] {
            let attributes = Attributes::after(&message, header_len);
            check_attributes(message.payload, header_len, attributes);
        }
    }
}

fn check_attributes(payload: &[u8], header_len: usize, mut attributes: Attributes<'_>) {
    let mut after = payload.as_ptr() as usize + header_len;
    while let Some(attribute) = attributes.next() {
        let Ok(attribute) = attribute else {
            assert!(
                attributes.next().is_none(),
                "an attribute after a framing error"
            );
            break;
        };
        let start = within(payload, attribute.value, "attribute");
        assert!(
            start >= after + ATTRIBUTE_HEADER,
            "attribute {} overlaps",
            attribute.number
        );
        after = start + attribute.value.len();
        let claimed = claimed_length(payload, start - ATTRIBUTE_HEADER, 2);
        assert_eq!(
            claimed,
            ATTRIBUTE_HEADER + attribute.value.len(),
            "attribute length"
        );
    }
}

/// The length field (`nlmsg_len`, `rta_len`: the first field of both headers, of `width` bytes
/// in native byte order) of the header at address `header` within `bytes`.
fn claimed_length(bytes: &[u8], header: usize, width: usize) -> usize {
    let offset = header - bytes.as_ptr() as usize;
    let field = &bytes[offset..offset + width];
    match *field {
        [a, b] => usize::from(u16::from_ne_bytes([a, b])),
        [a, b, c, d] => u32::from_ne_bytes([a, b, c, d]) as usize,
        _ => unreachable!("a 16- or 32-bit field"),
    }
}

/// Where `part` starts, asserted to lie within `whole`.
fn within(whole: &[u8], part: &[u8], what: &str) -> usize {
    let (whole_start, part_start) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    assert!(
        part_start >= whole_start && part_start + part.len() <= whole_start + whole.len(),
        "{what} of {} bytes at {} runs past its container of {} bytes",
        part.len(),
        part_start.wrapping_sub(whole_start),
        whole.len()
    );
    part_start
}
