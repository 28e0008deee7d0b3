//! The netlink wire format: the framing of messages and attributes, the dump request, and the
//! reply state machine that checks a whole reply and hands its data messages to a [`Gather`].
//! Pure: byte slices in, values or errors out.

use std::io;
use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::Family;
use crate::error::Error;

/// `NLMSG_HDRLEN`, private in libc: where a message's payload starts.
pub(super) const MESSAGE_HEADER_LEN: usize = MessageFraming::HEADER_LEN;

/// `NLMSG_ALIGNTO`, private in libc (`NLMSG_ALIGN(1)` is it): messages start on multiples of it.
pub(super) const MESSAGE_ALIGN: usize = libc::NLMSG_ALIGN(1) as usize;

/// `RTA_ALIGNTO`, which libc lacks; it equals `NLA_ALIGNTO`.
pub(super) const ATTRIBUTE_ALIGN: usize = libc::NLA_ALIGNTO as usize;

// The control message types and flags, in the width of the header fields they are compared with.
pub(super) const NLMSG_NOOP: u16 = libc::NLMSG_NOOP as u16;

pub(super) const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;

pub(super) const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;

pub(super) const NLMSG_OVERRUN: u16 = libc::NLMSG_OVERRUN as u16;

pub(super) const NLM_F_DUMP_INTR: u16 = libc::NLM_F_DUMP_INTR as u16;

pub(super) const DUMP_REQUEST_FLAGS: u16 = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;

/// Clears `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` from an attribute's type.
pub(super) const ATTRIBUTE_TYPE_MASK: u16 = libc::NLA_TYPE_MASK as u16;

/// A copy of `struct rtmsg` from the kernel's uapi header `linux/rtnetlink.h`, which libc lacks.
#[allow(
    dead_code,
    reason = "only its layout is used (size_of, offset_of!): fields are read from bytes"
)]
#[repr(C)]
pub(super) struct RtMsg {
    pub(super) rtm_family: u8,
    pub(super) rtm_dst_len: u8,
    pub(super) rtm_src_len: u8,
    pub(super) rtm_tos: u8,
    pub(super) rtm_table: u8,
    pub(super) rtm_protocol: u8,
    pub(super) rtm_scope: u8,
    pub(super) rtm_type: u8,
    pub(super) rtm_flags: u32,
}

/// The two dumps this source asks the kernel for.
#[derive(Debug, Clone, Copy)]
pub enum Dump {
    Addresses,
    Routes,
}

impl Dump {
    fn request_type(self) -> u16 {
        match self {
            Dump::Addresses => libc::RTM_GETADDR,
            Dump::Routes => libc::RTM_GETROUTE,
        }
    }

    /// The size of the family header (`ifaddrmsg`, `rtmsg`) that starts the request's payload.
    pub fn header_len(self) -> usize {
        match self {
            Dump::Addresses => size_of::<libc::ifaddrmsg>(),
            Dump::Routes => size_of::<RtMsg>(),
        }
    }

    /// Where the address family sits in that header.
    fn family_offset(self) -> usize {
        match self {
            Dump::Addresses => offset_of!(libc::ifaddrmsg, ifa_family),
            Dump::Routes => offset_of!(RtMsg, rtm_family),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Dump::Addresses => "address dump",
            Dump::Routes => "route dump",
        }
    }
}

/// The family as the kernel's headers number it (`AF_INET`, `AF_INET6`).
pub(super) fn address_family(family: Family) -> u8 {
    match family {
        Family::Ipv4 => libc::AF_INET as u8,
        Family::Ipv6 => libc::AF_INET6 as u8,
    }
}

/// The size of an address of `family` (`struct in_addr`, `struct in6_addr`).
pub(super) fn address_len(family: Family) -> usize {
    match family {
        Family::Ipv4 => size_of::<libc::in_addr>(),
        Family::Ipv6 => size_of::<libc::in6_addr>(),
    }
}

/// The request for `dump`: a message header and a zeroed family header carrying only
/// the family.
pub(super) fn dump_request(dump: Dump, family: Family, seq: u32) -> Vec<u8> {
    let family_header = zeroed_with(
        libc::NLMSG_ALIGN(dump.header_len()) as usize,
        &[(dump.family_offset(), &[address_family(family)])],
    );
    // A few dozen bytes: the length fits any u32.
    let length = (MESSAGE_HEADER_LEN + family_header.len()) as u32;
    // Port 0: the kernel fills in the sender's port.
    let mut request = message_header(length, dump.request_type(), DUMP_REQUEST_FLAGS, seq, 0);
    request.extend_from_slice(&family_header);
    request
}

/// The header of a message of `length` bytes, header included.
pub(super) fn message_header(length: u32, kind: u16, flags: u16, seq: u32, port: u32) -> Vec<u8> {
    zeroed_with(
        MESSAGE_HEADER_LEN,
        &[
            (offset_of!(libc::nlmsghdr, nlmsg_len), &length.to_ne_bytes()),
            (offset_of!(libc::nlmsghdr, nlmsg_type), &kind.to_ne_bytes()),
            (
                offset_of!(libc::nlmsghdr, nlmsg_flags),
                &flags.to_ne_bytes(),
            ),
            (offset_of!(libc::nlmsghdr, nlmsg_seq), &seq.to_ne_bytes()),
            (offset_of!(libc::nlmsghdr, nlmsg_pid), &port.to_ne_bytes()),
        ],
    )
}

/// `len` zero bytes with each of `fields` written at its offset: a C struct, in native byte
/// order, whose other fields and padding are zero.
pub(super) fn zeroed_with(len: usize, fields: &[(usize, &[u8])]) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    for (offset, value) in fields {
        put(&mut bytes, *offset, value);
    }
    bytes
}

/// Writes `value` at `offset` in `bytes`, if it fits there.
pub(super) fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
    let slot = offset
        .checked_add(value.len())
        .and_then(|end| bytes.get_mut(offset..end));
    if let Some(slot) = slot {
        slot.copy_from_slice(value);
    }
}

/// `N` bytes at `offset`, if `bytes` has them.
fn array_at<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

pub(super) fn u8_at(bytes: &[u8], offset: usize) -> Option<u8> {
    bytes.get(offset).copied()
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    array_at(bytes, offset).map(u16::from_ne_bytes)
}

pub(super) fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    array_at(bytes, offset).map(u32::from_ne_bytes)
}

fn c_int_at(bytes: &[u8], offset: usize) -> Option<libc::c_int> {
    array_at(bytes, offset).map(libc::c_int::from_ne_bytes)
}

pub(super) fn malformed(message: String) -> Error {
    Error::Address(format!("malformed netlink reply: {message}"))
}

pub(super) fn truncated(message: String) -> Error {
    Error::Address(format!("netlink reply truncated: {message}"))
}

/// One netlink message, its header read.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Its position in the reply, from 1, for error messages.
    pub number: usize,
    pub(super) kind: u16,
    flags: u16,
    seq: u32,
    port: u32,
    /// What follows the header, up to `nlmsg_len`.
    pub payload: &'a [u8],
}

/// One attribute (`struct rtattr` and its value).
#[derive(Debug, Clone, Copy)]
pub struct Attribute<'a> {
    /// Its position in its message, from 1, for error messages.
    pub number: usize,
    /// Its type, without the `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` flags.
    pub(super) kind: u16,
    pub value: &'a [u8],
}

/// The pieces of a byte slice that each start with a header holding their length, header
/// included (messages in a datagram, attributes in a message), in order and numbered. A piece
/// that does not fit is an error, after which nothing more is yielded.
pub struct Framed<'a, F> {
    rest: &'a [u8],
    next_number: usize,
    framing: F,
}

/// What sets one kind of framed piece apart: its header, and how errors name it.
pub trait Framing {
    /// The header's fields other than the length.
    type Header;
    type Piece<'a>;
    /// The size of the header's C struct.
    const HEADER_SIZE: usize;
    /// Pieces start on multiples of it.
    const ALIGN: usize;
    /// The header's size with its padding (`NLMSG_HDRLEN`, `RTA_LENGTH(0)`): where the value
    /// starts, and the least length a piece can claim.
    const HEADER_LEN: usize = Self::HEADER_SIZE.next_multiple_of(Self::ALIGN);
    /// The header as errors name it, with its article.
    const HEADER_NAME: &'static str;

    /// The length and the other fields of the header at the start of `bytes`, if all there.
    fn header(bytes: &[u8]) -> Option<(usize, Self::Header)>;
    /// Piece `number` as errors name it.
    fn name(&self, number: usize) -> String;
    /// The error message for piece `name` claiming `length` bytes when only `left` are left.
    fn past_end(name: &str, length: usize, left: usize) -> String;
    fn piece<'a>(&self, number: usize, header: Self::Header, value: &'a [u8]) -> Self::Piece<'a>;
}

impl<'a, F: Framing> Framed<'a, F> {
    fn split(&mut self, number: usize) -> Result<F::Piece<'a>, Error> {
        let rest = self.rest;
        let name = || self.framing.name(number);
        let Some((length, header)) = F::header(rest) else {
            return Err(truncated(format!(
                "{} has {} of the {} bytes of {}",
                name(),
                rest.len(),
                F::HEADER_SIZE,
                F::HEADER_NAME
            )));
        };
        if length < F::HEADER_LEN {
            return Err(malformed(format!(
                "{} claims {length} bytes, less than its {}-byte header",
                name(),
                F::HEADER_LEN
            )));
        }
        let Some(piece) = rest.get(..length) else {
            return Err(truncated(F::past_end(&name(), length, rest.len())));
        };
        // The last piece of its container may lack its padding.
        let next = length.next_multiple_of(F::ALIGN).min(rest.len());
        self.rest = rest.get(next..).unwrap_or_default();
        let value = piece.get(F::HEADER_LEN..).unwrap_or_default();
        Ok(self.framing.piece(number, header, value))
    }
}

impl<'a, F: Framing> Iterator for Framed<'a, F> {
    type Item = Result<F::Piece<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let number = self.next_number;
        self.next_number = number.saturating_add(1);
        let piece = self.split(number);
        if piece.is_err() {
            // Nothing after a piece that does not fit can be framed.
            self.rest = &[];
        }
        Some(piece)
    }
}

/// The messages of a datagram.
pub type Messages<'a> = Framed<'a, MessageFraming>;

/// Messages are framed by `struct nlmsghdr`.
pub struct MessageFraming;

impl<'a> Messages<'a> {
    /// The messages of `datagram`, numbered from `first_number`.
    pub fn new(datagram: &'a [u8], first_number: usize) -> Messages<'a> {
        Framed {
            rest: datagram,
            next_number: first_number,
            framing: MessageFraming,
        }
    }
}

impl Framing for MessageFraming {
    /// Type, flags, sequence number, port.
    type Header = (u16, u16, u32, u32);
    type Piece<'a> = Message<'a>;
    const HEADER_SIZE: usize = size_of::<libc::nlmsghdr>();
    const ALIGN: usize = MESSAGE_ALIGN;
    const HEADER_NAME: &'static str = "a message header";

    fn header(bytes: &[u8]) -> Option<(usize, Self::Header)> {
        let field16 = |offset| u16_at(bytes, offset);
        let field32 = |offset| u32_at(bytes, offset);
        let length = field32(offset_of!(libc::nlmsghdr, nlmsg_len))?;
        let header = (
            field16(offset_of!(libc::nlmsghdr, nlmsg_type))?,
            field16(offset_of!(libc::nlmsghdr, nlmsg_flags))?,
            field32(offset_of!(libc::nlmsghdr, nlmsg_seq))?,
            field32(offset_of!(libc::nlmsghdr, nlmsg_pid))?,
        );
        Some((usize::try_from(length).unwrap_or(usize::MAX), header))
    }

    fn name(&self, number: usize) -> String {
        format!("message {number}")
    }

    fn past_end(name: &str, length: usize, left: usize) -> String {
        format!("{name} claims {length} bytes but only {left} are left")
    }

    fn piece<'a>(
        &self,
        number: usize,
        (kind, flags, seq, port): Self::Header,
        payload: &'a [u8],
    ) -> Message<'a> {
        Message {
            number,
            kind,
            flags,
            seq,
            port,
            payload,
        }
    }
}

/// The attributes of a message.
pub type Attributes<'a> = Framed<'a, AttributeFraming>;

/// Attributes are framed by `struct rtattr`.
pub struct AttributeFraming {
    /// The number of their message, for error messages.
    message: usize,
}

impl<'a> Attributes<'a> {
    /// The attributes following the family header of `header_len` bytes (already checked to be
    /// there) in `message`.
    pub fn after(message: &Message<'a>, header_len: usize) -> Attributes<'a> {
        let start = libc::NLMSG_ALIGN(header_len) as usize;
        Framed {
            rest: message.payload.get(start..).unwrap_or_default(),
            next_number: 1,
            framing: AttributeFraming {
                message: message.number,
            },
        }
    }
}

impl Framing for AttributeFraming {
    /// The type, flags included.
    type Header = u16;
    type Piece<'a> = Attribute<'a>;
    const HEADER_SIZE: usize = size_of::<libc::rtattr>();
    const ALIGN: usize = ATTRIBUTE_ALIGN;
    const HEADER_NAME: &'static str = "an attribute header";

    fn header(bytes: &[u8]) -> Option<(usize, Self::Header)> {
        let length = u16_at(bytes, offset_of!(libc::rtattr, rta_len))?;
        let kind = u16_at(bytes, offset_of!(libc::rtattr, rta_type))?;
        Some((usize::from(length), kind))
    }

    fn name(&self, number: usize) -> String {
        format!("attribute {number} of message {}", self.message)
    }

    fn past_end(name: &str, _length: usize, _left: usize) -> String {
        format!("{name} runs past its end")
    }

    fn piece<'a>(&self, number: usize, kind: Self::Header, value: &'a [u8]) -> Attribute<'a> {
        Attribute {
            number,
            kind: kind & ATTRIBUTE_TYPE_MASK,
            value,
        }
    }
}

impl Attribute<'_> {
    /// The error for a value of the wrong size; `name` is the attribute's name in the headers.
    pub(super) fn wrong_size(&self, message: &Message<'_>, name: &str, expected: &str) -> Error {
        malformed(format!(
            "attribute {} ({name}) of message {} holds {} bytes, not {expected}",
            self.number,
            message.number,
            self.value.len()
        ))
    }

    /// The value as one native-endian `u32`, which it must be exactly.
    pub(super) fn u32(&self, message: &Message<'_>, name: &str) -> Result<u32, Error> {
        <[u8; 4]>::try_from(self.value)
            .map(u32::from_ne_bytes)
            .map_err(|_| self.wrong_size(message, name, "a 32-bit number"))
    }

    /// The value as an address of `family`, which it must be exactly.
    pub(super) fn address(
        &self,
        message: &Message<'_>,
        name: &str,
        family: Family,
    ) -> Result<IpAddr, Error> {
        let address = match family {
            Family::Ipv4 => <[u8; 4]>::try_from(self.value)
                .ok()
                .map(|octets| IpAddr::V4(Ipv4Addr::from(octets))),
            Family::Ipv6 => <[u8; 16]>::try_from(self.value)
                .ok()
                .map(|octets| IpAddr::V6(Ipv6Addr::from(octets))),
        };
        address.ok_or_else(|| {
            let expected = format!(
                "an {} address ({} bytes)",
                family.name(),
                address_len(family)
            );
            self.wrong_size(message, name, &expected)
        })
    }
}

/// The checks every message of a reply gets, and what is done with its data messages.
pub trait Gather {
    /// Takes in one message that is not a control message (`NLMSG_*`).
    fn take(&mut self, message: &Message<'_>) -> Result<(), Error>;
}

/// A reply to one dump request being read, datagram by datagram.
pub struct Reply<G> {
    dump: Dump,
    seq: u32,
    port: u32,
    pub gather: G,
    /// Messages read so far.
    messages: usize,
    /// `NLMSG_DONE`, or an acknowledgement, has arrived.
    pub finished: bool,
    /// A message was flagged `NLM_F_DUMP_INTR`: the dump is inconsistent.
    pub(super) interrupted: bool,
}

impl<G: Gather> Reply<G> {
    /// The reply to the request `seq` of `dump` from `port`, fed to `gather`.
    pub fn new(dump: Dump, seq: u32, port: u32, gather: G) -> Reply<G> {
        Reply {
            dump,
            seq,
            port,
            gather,
            messages: 0,
            finished: false,
            interrupted: false,
        }
    }

    /// Takes in the next datagram of the reply. Messages after the end of the reply are ignored.
    pub fn take(&mut self, datagram: &[u8]) -> Result<(), Error> {
        if datagram.is_empty() {
            return Err(malformed("an empty datagram".to_string()));
        }
        for message in Messages::new(datagram, self.messages.saturating_add(1)) {
            let message = message?;
            self.messages = message.number;
            if message.seq != self.seq || message.port != self.port {
                return Err(malformed(format!(
                    "message {} answers request {} of port {}, not request {} of port {}",
                    message.number, message.seq, message.port, self.seq, self.port
                )));
            }
            if message.flags & NLM_F_DUMP_INTR != 0 {
                self.interrupted = true;
            }
            match message.kind {
                NLMSG_DONE => {
                    // The kernel ends a dump with its outcome: 0, or a negative errno when the
                    // dump failed part way. Only very old kernels leave it out.
                    match c_int_at(message.payload, 0) {
                        Some(code) if code != 0 => self.refused(&message, code)?,
                        _ => {}
                    }
                    self.finished = true;
                    return Ok(());
                }
                NLMSG_ERROR => {
                    let offset = offset_of!(libc::nlmsgerr, error);
                    let Some(code) = c_int_at(message.payload, offset) else {
                        return Err(truncated(format!(
                            "error message {} has {} bytes, too few for its error code",
                            message.number,
                            message.payload.len()
                        )));
                    };
                    if code != 0 {
                        self.refused(&message, code)?;
                    }
                    // An acknowledgement: the request is done.
                    self.finished = true;
                    return Ok(());
                }
                NLMSG_OVERRUN => {
                    return Err(malformed(format!(
                        "message {} reports an overrun: data was lost",
                        message.number
                    )))
                }
                NLMSG_NOOP => {}
                _ => self.gather.take(&message)?,
            }
        }
        Ok(())
    }

    /// The error for a negative errno `code` in `message`; a positive one is invalid.
    fn refused(&self, message: &Message<'_>, code: libc::c_int) -> Result<(), Error> {
        match code.checked_neg().filter(|errno| *errno > 0) {
            Some(errno) => Err(Error::Address(format!(
                "netlink {}: the kernel answered with an error: {}",
                self.dump.name(),
                io::Error::from_raw_os_error(errno)
            ))),
            None => Err(malformed(format!(
                "message {} carries the invalid error code {code}",
                message.number
            ))),
        }
    }
}

/// The family header of `message`'s payload, checked to be there, as `header_len` bytes.
pub(super) fn family_header<'a>(
    message: &Message<'a>,
    name: &str,
    header_len: usize,
) -> Result<&'a [u8], Error> {
    message.payload.get(..header_len).ok_or_else(|| {
        truncated(format!(
            "message {} has {} bytes, too few for its {header_len}-byte {name}",
            message.number,
            message.payload.len()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testing::*;

    #[test]
    fn a_dump_over_several_datagrams_keeps_the_kernel_order() {
        let datagrams = [
            concat(&[
                ipv4(ETH0, [203, 0, 113, 1], 24),
                ipv4(ETH0, [203, 0, 113, 2], 24),
            ]),
            ipv4(ETH0, [203, 0, 113, 3], 24),
            concat(&[
                ipv4(ETH1, [192, 0, 2, 1], 24),
                ipv4(ETH0, [203, 0, 113, 4], 24),
            ]),
            done(),
        ];
        let expected: Vec<IpAddr> = (1..=4).map(|n| v4(&format!("203.0.113.{n}"))).collect();
        assert_eq!(ipv4_found(&datagrams), expected);
    }

    #[test]
    fn messages_are_numbered_across_datagrams() {
        let mut broken = ipv4(ETH0, [203, 0, 113, 2], 24);
        broken.truncate(broken.len() - 2);
        let mut reply = address_reply(Family::Ipv4);
        reply
            .take(&concat(&[
                ipv4(ETH0, [203, 0, 113, 1], 24),
                ipv4(ETH1, [192, 0, 2, 1], 24),
            ]))
            .expect("first datagram");
        let message = error_of(reply, &broken);
        assert!(message.contains("message 3 "), "{message}");
    }

    #[test]
    fn done_ends_the_reply_and_what_follows_is_ignored() {
        let mut reply = address_reply(Family::Ipv4);
        reply
            .take(&concat(&[
                ipv4(ETH0, [203, 0, 113, 1], 24),
                done(),
                ipv4(ETH0, [203, 0, 113, 2], 24),
            ]))
            .expect("parses");
        assert!(reply.finished);
        assert!(!reply.interrupted);
        assert_eq!(reply.gather.found.len(), 1);

        // Before NLMSG_DONE the reply goes on, and a reply may hold no address at all.
        let mut reply = address_reply(Family::Ipv4);
        reply.take(&ipv4(ETH1, [192, 0, 2, 1], 24)).expect("parses");
        assert!(!reply.finished);
        reply.take(&done()).expect("parses");
        assert!(reply.finished);
        assert!(reply.gather.found.is_empty());

        // Very old kernels send NLMSG_DONE without its code.
        assert_eq!(
            ipv4_addresses(message(NLMSG_DONE, &[], &[])).expect("parses"),
            []
        );
    }

    #[test]
    fn done_with_an_errno_fails_the_dump() {
        let message = address_error(
            Family::Ipv4,
            &concat(&[ipv4(ETH0, [203, 0, 113, 1], 24), done_with(-libc::EBUSY)]),
        );
        let expected = io::Error::from_raw_os_error(libc::EBUSY).to_string();
        assert!(message.contains(&expected), "{message}");
        assert!(message.contains("address dump"), "{message}");
    }

    #[test]
    fn an_error_message_names_the_errno() {
        let message = address_error(Family::Ipv4, &error(-libc::EPERM));
        let expected = io::Error::from_raw_os_error(libc::EPERM).to_string();
        assert_eq!(
            message,
            format!("netlink address dump: the kernel answered with an error: {expected}")
        );
        // A positive code, or no room for the code, is malformed.
        let message = address_error(Family::Ipv4, &error(5));
        assert!(message.contains("invalid error code 5"), "{message}");
        // Two bytes of payload (the builder pads them to four: `nlmsg_len` says two).
        let mut short = message_with(NLMSG_ERROR, 0, SEQ, PORT, &[0, 0], &[]);
        set_length(
            &mut short,
            u32::try_from(MESSAGE_HEADER_LEN + 2).expect("small"),
        );
        let message = address_error(Family::Ipv4, &short);
        assert_eq!(
            message,
            "netlink reply truncated: error message 1 has 2 bytes, too few for its error code"
        );
        assert!(
            message.starts_with("netlink reply truncated: error message 1"),
            "{message}"
        );
        let message = address_error(Family::Ipv4, &error(libc::c_int::MIN));
        assert!(message.contains("invalid error code"), "{message}");
    }

    #[test]
    fn an_acknowledgement_ends_the_reply() {
        assert_eq!(
            ipv4_addresses(concat(&[ipv4(ETH0, [203, 0, 113, 1], 24), error(0)]))
                .expect("parses")
                .len(),
            1
        );
    }

    #[test]
    fn an_overrun_is_an_error() {
        let message = address_error(Family::Ipv4, &message(NLMSG_OVERRUN, &[], &[]));
        assert!(message.contains("overrun"), "{message}");
    }

    #[test]
    fn an_interrupted_dump_is_flagged() {
        let interrupted = message_with(
            NLMSG_DONE,
            libc::NLM_F_MULTI as u16 | NLM_F_DUMP_INTR,
            SEQ,
            PORT,
            &0i32.to_ne_bytes(),
            &[],
        );
        let mut reply = address_reply(Family::Ipv4);
        reply
            .take(&concat(&[ipv4(ETH0, [203, 0, 113, 1], 24), interrupted]))
            .expect("parses");
        assert!(reply.finished);
        assert!(reply.interrupted);
    }

    #[test]
    fn a_foreign_sequence_number_or_port_is_an_error() {
        for (seq, port) in [(SEQ + 1, PORT), (SEQ, PORT + 1)] {
            let foreign = message_with(NLMSG_DONE, 0, seq, port, &0i32.to_ne_bytes(), &[]);
            let message = address_error(Family::Ipv4, &foreign);
            assert_eq!(
                message,
                format!(
                    "malformed netlink reply: message 1 answers request {seq} of port {port}, \
                     not request {SEQ} of port {PORT}"
                )
            );
        }
    }

    #[test]
    fn a_truncated_message_header_is_an_error() {
        let reply = concat(&[ipv4(ETH0, [203, 0, 113, 1], 24), done()]);
        let cut = &reply[..reply.len() - done().len() + 10];
        assert_eq!(
            address_error(Family::Ipv4, cut),
            "netlink reply truncated: message 2 has 10 of the 16 bytes of a message header"
        );
    }

    #[test]
    fn a_message_length_shorter_than_the_header_is_an_error() {
        let mut broken = done();
        set_length(&mut broken, 15);
        assert_eq!(
            address_error(Family::Ipv4, &broken),
            "malformed netlink reply: message 1 claims 15 bytes, less than its 16-byte header"
        );
        set_length(&mut broken, 0);
        assert!(address_error(Family::Ipv4, &broken).contains("claims 0 bytes"));
    }

    #[test]
    fn a_message_length_past_the_datagram_is_an_error() {
        let mut broken = ipv4(ETH0, [203, 0, 113, 1], 24);
        let length = u32::try_from(broken.len()).expect("small");
        set_length(&mut broken, length + 4);
        assert_eq!(
            address_error(Family::Ipv4, &broken),
            format!(
                "netlink reply truncated: message 1 claims {} bytes but only {length} are left",
                length + 4
            )
        );
        set_length(&mut broken, u32::MAX);
        assert!(address_error(Family::Ipv4, &broken).starts_with("netlink reply truncated"));
    }

    #[test]
    fn an_attribute_shorter_than_its_header_is_an_error() {
        let mut broken = ipv4(ETH0, [203, 0, 113, 1], 24);
        let first = MESSAGE_HEADER_LEN + size_of::<libc::ifaddrmsg>();
        // The second attribute claims 3 bytes.
        let second = first + attribute(libc::IFA_ADDRESS, &[0; 4]).len();
        put(
            &mut broken,
            second + offset_of!(libc::rtattr, rta_len),
            &3u16.to_ne_bytes(),
        );
        assert_eq!(
            address_error(Family::Ipv4, &broken),
            "malformed netlink reply: attribute 2 of message 1 claims 3 bytes, \
             less than its 4-byte header"
        );
    }

    #[test]
    fn an_attribute_past_its_message_is_an_error() {
        // The message's length stops 4 bytes into the last attribute's 20-byte cacheinfo...
        let mut broken = ipv4(ETH0, [203, 0, 113, 1], 24);
        let length = u32::try_from(broken.len()).expect("small") - 16;
        set_length(&mut broken, length);
        // ...and the datagram goes on with a message, so the attribute must not be read into it.
        let datagram = concat(&[broken[..length as usize].to_vec(), done()]);
        assert_eq!(
            address_error(Family::Ipv4, &datagram),
            "netlink reply truncated: attribute 3 of message 1 runs past its end"
        );

        // Two stray bytes after the last attribute: too few for an attribute header.
        let mut stray = message(
            libc::RTM_NEWADDR,
            &ifaddrmsg(Family::Ipv4, 24, 0, ETH0),
            &[(libc::IFA_LOCAL, &[203, 0, 113, 1])],
        );
        stray.extend_from_slice(&[1, 2]);
        let length = u32::try_from(stray.len()).expect("small");
        set_length(&mut stray, length);
        assert_eq!(
            address_error(Family::Ipv4, &stray),
            "netlink reply truncated: attribute 2 of message 1 has 2 of the 4 bytes \
             of an attribute header"
        );
    }

    #[test]
    fn attribute_padding_is_skipped() {
        // A 7-byte label is padded to 8 before the address; flag bits in the type are ignored.
        let nested_label = libc::IFA_LABEL | libc::NLA_F_NESTED as u16;
        let padded = message(
            libc::RTM_NEWADDR,
            &ifaddrmsg(Family::Ipv4, 24, 0, ETH0),
            &[
                (nested_label, b"eth0:1\0"),
                (
                    libc::IFA_LOCAL | libc::NLA_F_NET_BYTEORDER as u16,
                    &[203, 0, 113, 1],
                ),
                (libc::IFA_LABEL, b"x\0"),
            ],
        );
        assert_eq!(
            ipv4_addresses(concat(&[padded.clone(), done()])).expect("parses")[0].address,
            v4("203.0.113.1")
        );

        // The last attribute ("x\0", 6 bytes with its header) and so the message without their
        // padding: the next message still starts at the aligned offset.
        let mut unpadded = padded;
        let length = u32::try_from(unpadded.len()).expect("small") - 2;
        set_length(&mut unpadded, length);
        let found = ipv4_addresses(concat(&[unpadded.clone(), done()])).expect("parses");
        assert_eq!(found[0].address, v4("203.0.113.1"));
        // And at the very end of a datagram, without the padding bytes at all.
        unpadded.truncate(length as usize);
        let mut reply = address_reply(Family::Ipv4);
        reply.take(&unpadded).expect("parses");
        assert_eq!(reply.gather.found.len(), 1);
    }

    #[test]
    fn an_empty_datagram_is_an_error() {
        assert_eq!(
            address_error(Family::Ipv4, &[]),
            "malformed netlink reply: an empty datagram"
        );
    }

    #[test]
    fn the_request_is_a_dump_of_one_family() {
        for (dump, family, header_len, kind) in [
            (
                Dump::Addresses,
                Family::Ipv6,
                size_of::<libc::ifaddrmsg>(),
                libc::RTM_GETADDR,
            ),
            (
                Dump::Routes,
                Family::Ipv4,
                size_of::<RtMsg>(),
                libc::RTM_GETROUTE,
            ),
        ] {
            let request = dump_request(dump, family, 9);
            assert_eq!(request.len(), MESSAGE_HEADER_LEN + header_len);
            let messages: Vec<Message> = Messages::new(&request, 1)
                .collect::<Result<_, _>>()
                .expect("frames");
            assert_eq!(messages.len(), 1);
            let message = messages[0];
            assert_eq!((message.kind, message.seq, message.port), (kind, 9, 0));
            assert_eq!(
                message.flags,
                (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16
            );
            let mut expected = vec![0u8; header_len];
            expected[0] = address_family(family);
            assert_eq!(message.payload, expected);
        }
    }

    #[test]
    fn no_prefix_or_mutation_of_a_reply_panics() {
        let reply = concat(&[
            ipv4(ETH0, [203, 0, 113, 1], 24),
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv4, 32, 0, ETH0),
                &[
                    (libc::IFA_ADDRESS, &[198, 51, 100, 1]),
                    (libc::IFA_LOCAL, &[198, 51, 100, 2]),
                    (libc::IFA_FLAGS, &0u32.to_ne_bytes()),
                ],
            ),
            main_route(ETH0, Some(3)),
            done(),
        ]);
        let feed = |bytes: &[u8]| {
            let _ = address_reply(Family::Ipv4).take(bytes);
            let _ = route_reply().take(bytes);
        };
        for end in 0..=reply.len() {
            feed(&reply[..end]);
        }
        for position in 0..reply.len() {
            for value in [0x00, 0x01, 0x03, 0x04, 0x7f, 0x80, 0xfe, 0xff] {
                let mut mutated = reply.clone();
                mutated[position] = value;
                feed(&mutated);
            }
        }
    }
}
