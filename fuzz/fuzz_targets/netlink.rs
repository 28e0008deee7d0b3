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
use dynhost::netlink::changed_devices;
use dynhost::netlink::dump::{AddressGather, RouteGather};
use dynhost::netlink::wire::{
    Attribute, Attributes, Dump, Framed, Framing, Gather, Message, Messages, Reply,
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
fn read<G: Gather>(
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
    let messages = Messages::new(datagram, 1);
    let layout = Layout {
        container: datagram,
        first: 0,
        header: MESSAGE_HEADER,
        length_width: 4,
    };
    check_pieces(layout, messages, |message: &Message<'_>| {
        for header_len in [Dump::Addresses.header_len(), Dump::Routes.header_len()] {
            let layout = Layout {
                container: message.payload,
                first: header_len,
                header: ATTRIBUTE_HEADER,
                length_width: 2,
            };
            check_pieces(layout, Attributes::after(message, header_len), |_| {});
        }
    });
}

/// Where framed pieces may lie: in `container`, from offset `first`, each after a header of
/// `header` bytes that starts with its length field of `length_width` bytes.
struct Layout<'a> {
    container: &'a [u8],
    first: usize,
    header: usize,
    length_width: usize,
}

/// What the checks read of a message or an attribute.
trait Piece {
    fn number(&self) -> usize;
    /// What follows its header.
    fn content(&self) -> &[u8];
}

impl Piece for Message<'_> {
    fn number(&self) -> usize {
        self.number
    }
    fn content(&self) -> &[u8] {
        self.payload
    }
}

impl Piece for Attribute<'_> {
    fn number(&self) -> usize {
        self.number
    }
    fn content(&self) -> &[u8] {
        self.value
    }
}

fn check_pieces<'a, F: Framing>(
    layout: Layout<'_>,
    mut pieces: Framed<'a, F>,
    mut check_inside: impl FnMut(&F::Piece<'a>),
) where
    F::Piece<'a>: Piece,
{
    let mut after = layout.container.as_ptr() as usize + layout.first;
    let mut expected_number = 1;
    while let Some(piece) = pieces.next() {
        let Ok(piece) = piece else {
            assert!(pieces.next().is_none(), "a piece after a framing error");
            break;
        };
        let number = piece.number();
        assert_eq!(number, expected_number);
        expected_number += 1;
        let start = within(layout.container, piece.content(), number);
        assert!(start >= after + layout.header, "piece {number} overlaps");
        after = start + piece.content().len();
        let claimed = claimed_length(layout.container, start - layout.header, layout.length_width);
        assert_eq!(
            claimed,
            layout.header + piece.content().len(),
            "the length of piece {number}"
        );
        check_inside(&piece);
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

/// Where `part` (piece `number`) starts, asserted to lie within `whole`.
fn within(whole: &[u8], part: &[u8], number: usize) -> usize {
    let (whole_start, part_start) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    assert!(
        part_start >= whole_start && part_start + part.len() <= whole_start + whole.len(),
        "piece {number} of {} bytes at {} runs past its container of {} bytes",
        part.len(),
        part_start.wrapping_sub(whole_start),
        whole.len()
    );
    part_start
}
