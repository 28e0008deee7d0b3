//! The `netlink` source: the addresses of a kernel device, and the device of the default route,
//! read straight from the kernel with rtnetlink dumps (`RTM_GETADDR`, `RTM_GETROUTE`).
//!
//! The socket calls are in `crate::sys`; everything here is safe code over byte slices. Replies
//! are parsed in native byte order, as the kernel writes them, with the layouts of the kernel's
//! uapi headers taken from `libc` (`size_of`, `offset_of!`). The parser is built from small
//! pieces that never panic and never hand out bytes beyond what they were given:
//!
//! - [`Messages`] splits a datagram into messages, and [`Attributes`] a message into attributes,
//!   both [`Framed`] by the same code; neither yields anything that runs past its container: that
//!   is an error, after which they yield nothing more;
//! - [`Reply`] checks the framing of a whole reply, datagram by datagram (sequence number, port,
//!   `NLMSG_DONE`, `NLMSG_ERROR`, `NLM_F_DUMP_INTR`), and hands each data message to a
//!   [`Gather`]: [`AddressGather`] or [`RouteGather`], pure functions of the bytes.

#![forbid(unsafe_code)]

use std::io;
use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::config::Family;
use crate::error::{excerpt, Error};
use crate::rules::{Candidate, Flags};
use crate::sys::{self, NetlinkSocket};

/// The candidates of `family` on `device` (kernel device name), from an RTM_GETADDR dump.
pub fn addresses(device: &str, family: Family, timeout: Duration) -> Result<Vec<Candidate>, Error> {
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
pub fn default_route_device(family: Family, timeout: Duration) -> Result<Option<String>, Error> {
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
pub fn device_index(device: &str) -> Option<u32> {
    sys::interface_index(device).ok()
}

/// Bytes of one receive. The kernel makes the first datagram of a dump at most a page (and at
/// most 8 KiB), and later ones at most as large as the largest receive buffer seen, capped at
/// 32 KiB: a buffer of 32 KiB holds any datagram of a dump.
const RECEIVE_BUFFER_LEN: usize = 32 * 1024;

/// How many times in all a dump is tried while the kernel reports it inconsistent
/// (`NLM_F_DUMP_INTR`: the addresses or routes changed while it was being written).
const DUMP_ATTEMPTS: u32 = 4;

/// `NLMSG_HDRLEN`, private in libc: where a message's payload starts.
const MESSAGE_HEADER_LEN: usize = MessageFraming::HEADER_LEN;
/// `NLMSG_ALIGNTO`, private in libc (`NLMSG_ALIGN(1)` is it): messages start on multiples of it.
const MESSAGE_ALIGN: usize = libc::NLMSG_ALIGN(1) as usize;
/// `RTA_ALIGNTO`, which libc lacks; it equals `NLA_ALIGNTO`.
const ATTRIBUTE_ALIGN: usize = libc::NLA_ALIGNTO as usize;

// The control message types and flags, in the width of the header fields they are compared with.
const NLMSG_NOOP: u16 = libc::NLMSG_NOOP as u16;
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const NLMSG_OVERRUN: u16 = libc::NLMSG_OVERRUN as u16;
const NLM_F_DUMP_INTR: u16 = libc::NLM_F_DUMP_INTR as u16;
const DUMP_REQUEST_FLAGS: u16 = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
/// Clears `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` from an attribute's type.
const ATTRIBUTE_TYPE_MASK: u16 = libc::NLA_TYPE_MASK as u16;

/// The kernel's `INFINITY_LIFE_TIME` (`include/net/addrconf.h`, not in uapi): a lifetime of
/// `0xFFFFFFFF` seconds means forever.
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// A copy of `struct rtmsg` from the kernel's uapi header `linux/rtnetlink.h`, which libc lacks.
#[allow(
    dead_code,
    reason = "only its layout is used (size_of, offset_of!): fields are read from bytes"
)]
#[repr(C)]
struct RtMsg {
    rtm_family: u8,
    rtm_dst_len: u8,
    rtm_src_len: u8,
    rtm_tos: u8,
    rtm_table: u8,
    rtm_protocol: u8,
    rtm_scope: u8,
    rtm_type: u8,
    rtm_flags: u32,
}

/// A copy of `struct ifa_cacheinfo` from the kernel's uapi header `linux/if_addr.h`, which libc
/// lacks.
#[allow(
    dead_code,
    reason = "only its layout is used (size_of, offset_of!): fields are read from bytes"
)]
#[repr(C)]
struct IfaCacheinfo {
    ifa_prefered: u32,
    ifa_valid: u32,
    cstamp: u32,
    tstamp: u32,
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

    fn name(self) -> &'static str {
        match self {
            Dump::Addresses => "address dump",
            Dump::Routes => "route dump",
        }
    }
}

/// The family as the kernel's headers number it (`AF_INET`, `AF_INET6`).
fn address_family(family: Family) -> u8 {
    match family {
        Family::Ipv4 => libc::AF_INET as u8,
        Family::Ipv6 => libc::AF_INET6 as u8,
    }
}

/// The size of an address of `family` (`struct in_addr`, `struct in6_addr`).
fn address_len(family: Family) -> usize {
    match family {
        Family::Ipv4 => size_of::<libc::in_addr>(),
        Family::Ipv6 => size_of::<libc::in6_addr>(),
    }
}

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

/// The request for `dump`: a message header and a zeroed family header carrying only
/// the family.
fn dump_request(dump: Dump, family: Family, seq: u32) -> Vec<u8> {
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
fn message_header(length: u32, kind: u16, flags: u16, seq: u32, port: u32) -> Vec<u8> {
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
fn zeroed_with(len: usize, fields: &[(usize, &[u8])]) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    for (offset, value) in fields {
        put(&mut bytes, *offset, value);
    }
    bytes
}

/// Writes `value` at `offset` in `bytes`, if it fits there.
fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
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

fn u8_at(bytes: &[u8], offset: usize) -> Option<u8> {
    bytes.get(offset).copied()
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    array_at(bytes, offset).map(u16::from_ne_bytes)
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    array_at(bytes, offset).map(u32::from_ne_bytes)
}

fn c_int_at(bytes: &[u8], offset: usize) -> Option<libc::c_int> {
    array_at(bytes, offset).map(libc::c_int::from_ne_bytes)
}

fn malformed(message: String) -> Error {
    Error::Address(format!("malformed netlink reply: {message}"))
}

fn truncated(message: String) -> Error {
    Error::Address(format!("netlink reply truncated: {message}"))
}

/// One netlink message, its header read.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Its position in the reply, from 1, for error messages.
    pub number: usize,
    kind: u16,
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
    kind: u16,
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
    fn wrong_size(&self, message: &Message<'_>, name: &str, expected: &str) -> Error {
        malformed(format!(
            "attribute {} ({name}) of message {} holds {} bytes, not {expected}",
            self.number,
            message.number,
            self.value.len()
        ))
    }

    /// The value as one native-endian `u32`, which it must be exactly.
    fn u32(&self, message: &Message<'_>, name: &str) -> Result<u32, Error> {
        <[u8; 4]>::try_from(self.value)
            .map(u32::from_ne_bytes)
            .map_err(|_| self.wrong_size(message, name, "a 32-bit number"))
    }

    /// The value as an address of `family`, which it must be exactly.
    fn address(&self, message: &Message<'_>, name: &str, family: Family) -> Result<IpAddr, Error> {
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
    interrupted: bool,
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
fn family_header<'a>(
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

/// The addresses of one family on one device, from `RTM_NEWADDR` messages.
#[derive(Debug)]
pub struct AddressGather {
    family: Family,
    /// The device's index.
    index: u32,
    /// What found candidates say they come from.
    origin: String,
    /// In the kernel's order: the primary address first.
    pub found: Vec<Candidate>,
}

impl AddressGather {
    pub fn new(family: Family, index: u32, origin: String) -> AddressGather {
        AddressGather {
            family,
            index,
            origin,
            found: Vec::new(),
        }
    }
}

impl Gather for AddressGather {
    fn take(&mut self, message: &Message<'_>) -> Result<(), Error> {
        if message.kind != libc::RTM_NEWADDR {
            return Ok(());
        }
        let header_len = size_of::<libc::ifaddrmsg>();
        let header = family_header(message, "ifaddrmsg", header_len)?;
        let (Some(family), Some(prefix_len), Some(header_flags), Some(index)) = (
            u8_at(header, offset_of!(libc::ifaddrmsg, ifa_family)),
            u8_at(header, offset_of!(libc::ifaddrmsg, ifa_prefixlen)),
            u8_at(header, offset_of!(libc::ifaddrmsg, ifa_flags)),
            u32_at(header, offset_of!(libc::ifaddrmsg, ifa_index)),
        ) else {
            return Ok(()); // Unreachable: `header` has `header_len` bytes.
        };
        if family != address_family(self.family) || index != self.index {
            return Ok(());
        }
        let (mut local, mut address, mut flags, mut lifetimes) = (None, None, None, None);
        for attribute in Attributes::after(message, header_len) {
            let attribute = attribute?;
            match attribute.kind {
                libc::IFA_LOCAL => {
                    local = Some(attribute.address(message, "IFA_LOCAL", self.family)?);
                }
                libc::IFA_ADDRESS => {
                    address = Some(attribute.address(message, "IFA_ADDRESS", self.family)?);
                }
                libc::IFA_FLAGS => flags = Some(attribute.u32(message, "IFA_FLAGS")?),
                libc::IFA_CACHEINFO => lifetimes = Some(cache_info(&attribute, message)?),
                _ => {}
            }
        }
        // On a point-to-point link IFA_ADDRESS is the peer's address and IFA_LOCAL ours;
        // elsewhere both are ours, or only IFA_ADDRESS is given (IPv6).
        let Some(address) = local.or(address) else {
            return Err(malformed(format!(
                "message {} describes an address without IFA_LOCAL or IFA_ADDRESS",
                message.number
            )));
        };
        let (preferred, valid) = lifetimes.unwrap_or((None, None));
        self.found.push(Candidate {
            address,
            prefix_len,
            preferred,
            valid,
            // IFA_FLAGS holds all the flags; the header's 8 bits only the first eight.
            flags: address_flags(flags.unwrap_or(u32::from(header_flags)), self.family),
            origin: self.origin.clone(),
        });
        Ok(())
    }
}

/// The preferred and valid lifetimes of an `IFA_CACHEINFO` attribute; `None` is forever.
fn cache_info(
    attribute: &Attribute<'_>,
    message: &Message<'_>,
) -> Result<(Option<u32>, Option<u32>), Error> {
    let value = attribute.value;
    let size = size_of::<IfaCacheinfo>();
    let lifetimes = (
        u32_at(value, offset_of!(IfaCacheinfo, ifa_prefered)),
        u32_at(value, offset_of!(IfaCacheinfo, ifa_valid)),
    );
    match lifetimes {
        (Some(preferred), Some(valid)) if value.len() == size => {
            let lifetime = |seconds| (seconds != INFINITY_LIFE_TIME).then_some(seconds);
            Ok((lifetime(preferred), lifetime(valid)))
        }
        _ => Err(attribute.wrong_size(
            message,
            "IFA_CACHEINFO",
            &format!("a {size}-byte struct ifa_cacheinfo"),
        )),
    }
}

/// The flags that matter for publishing, from the kernel's `IFA_F_*` bits.
fn address_flags(bits: u32, family: Family) -> Flags {
    let set = |flag: u32| bits & flag != 0;
    Flags {
        tentative: set(libc::IFA_F_TENTATIVE),
        dadfailed: set(libc::IFA_F_DADFAILED),
        deprecated: set(libc::IFA_F_DEPRECATED),
        // The bit of IFA_F_TEMPORARY means IFA_F_SECONDARY on IPv4: a second address in the
        // same subnet, not a privacy address.
        temporary: family == Family::Ipv6 && set(libc::IFA_F_TEMPORARY),
    }
}

/// A default route: its output device and metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DefaultRoute {
    index: u32,
    metric: u32,
}

/// The default route of one family in the main table with the lowest metric (the first of
/// equals), from `RTM_NEWROUTE` messages.
#[derive(Debug)]
pub struct RouteGather {
    family: Family,
    best: Option<DefaultRoute>,
}

impl RouteGather {
    pub fn new(family: Family) -> RouteGather {
        RouteGather { family, best: None }
    }
}

impl Gather for RouteGather {
    fn take(&mut self, message: &Message<'_>) -> Result<(), Error> {
        if message.kind != libc::RTM_NEWROUTE {
            return Ok(());
        }
        let header_len = size_of::<RtMsg>();
        let header = family_header(message, "rtmsg", header_len)?;
        let (Some(family), Some(dst_len), Some(table), Some(kind)) = (
            u8_at(header, offset_of!(RtMsg, rtm_family)),
            u8_at(header, offset_of!(RtMsg, rtm_dst_len)),
            u8_at(header, offset_of!(RtMsg, rtm_table)),
            u8_at(header, offset_of!(RtMsg, rtm_type)),
        ) else {
            return Ok(()); // Unreachable: `header` has `header_len` bytes.
        };
        // Source-specific default routes (rtm_src_len > 0, "default from 2001:db8::/56") count:
        // they are how OpenWrt routes IPv6 by default.
        if family != address_family(self.family) || dst_len != 0 || kind != libc::RTN_UNICAST {
            return Ok(());
        }
        // Tables above 255 only fit RTA_TABLE; rtm_table then says RT_TABLE_COMPAT.
        let (mut table, mut index, mut metric) = (u32::from(table), None, 0);
        for attribute in Attributes::after(message, header_len) {
            let attribute = attribute?;
            match attribute.kind {
                libc::RTA_TABLE => table = attribute.u32(message, "RTA_TABLE")?,
                libc::RTA_OIF => index = Some(attribute.u32(message, "RTA_OIF")?),
                libc::RTA_PRIORITY => metric = attribute.u32(message, "RTA_PRIORITY")?,
                _ => {}
            }
        }
        // A route without RTA_OIF (multipath, or a nexthop object) names no single device.
        let Some(index) = index else {
            return Ok(());
        };
        if table != u32::from(libc::RT_TABLE_MAIN) {
            return Ok(());
        }
        if self.best.is_none_or(|best| metric < best.metric) {
            self.best = Some(DefaultRoute { index, metric });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQ: u32 = 7;
    const PORT: u32 = 4242;
    const ETH0: u32 = 2;
    const ETH1: u32 = 3;

    /// A netlink message as the kernel writes it, in native byte order: header, payload padded
    /// to the alignment, then each attribute with its header and padding. `nlmsg_len` counts
    /// everything, padding included, as the kernel's does.
    fn message_with(
        kind: u16,
        flags: u16,
        seq: u32,
        port: u32,
        payload: &[u8],
        attributes: &[(u16, &[u8])],
    ) -> Vec<u8> {
        let mut body = payload.to_vec();
        pad(&mut body, MESSAGE_ALIGN);
        for (kind, value) in attributes {
            body.extend_from_slice(&attribute(*kind, value));
        }
        let length = u32::try_from(MESSAGE_HEADER_LEN + body.len()).expect("small");
        concat(&[message_header(length, kind, flags, seq, port), body])
    }

    fn message(kind: u16, payload: &[u8], attributes: &[(u16, &[u8])]) -> Vec<u8> {
        message_with(
            kind,
            libc::NLM_F_MULTI as u16,
            SEQ,
            PORT,
            payload,
            attributes,
        )
    }

    /// One attribute, padded.
    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let length = u16::try_from(AttributeFraming::HEADER_LEN + value.len()).expect("small");
        let mut bytes = zeroed_with(
            AttributeFraming::HEADER_LEN,
            &[
                (offset_of!(libc::rtattr, rta_len), &length.to_ne_bytes()),
                (offset_of!(libc::rtattr, rta_type), &kind.to_ne_bytes()),
            ],
        );
        bytes.extend_from_slice(value);
        pad(&mut bytes, ATTRIBUTE_ALIGN);
        bytes
    }

    fn pad(bytes: &mut Vec<u8>, align: usize) {
        bytes.resize(bytes.len().next_multiple_of(align), 0);
    }

    fn set_length(message: &mut [u8], length: u32) {
        put(
            message,
            offset_of!(libc::nlmsghdr, nlmsg_len),
            &length.to_ne_bytes(),
        );
    }

    fn ifaddrmsg(family: Family, prefix_len: u8, flags: u8, index: u32) -> Vec<u8> {
        zeroed_with(
            size_of::<libc::ifaddrmsg>(),
            &[
                (
                    offset_of!(libc::ifaddrmsg, ifa_family),
                    &[address_family(family)],
                ),
                (offset_of!(libc::ifaddrmsg, ifa_prefixlen), &[prefix_len]),
                (offset_of!(libc::ifaddrmsg, ifa_flags), &[flags]),
                (offset_of!(libc::ifaddrmsg, ifa_index), &index.to_ne_bytes()),
            ],
        )
    }

    fn cacheinfo(preferred: u32, valid: u32) -> Vec<u8> {
        zeroed_with(
            size_of::<IfaCacheinfo>(),
            &[
                (
                    offset_of!(IfaCacheinfo, ifa_prefered),
                    &preferred.to_ne_bytes(),
                ),
                (offset_of!(IfaCacheinfo, ifa_valid), &valid.to_ne_bytes()),
                (offset_of!(IfaCacheinfo, cstamp), &123u32.to_ne_bytes()),
                (offset_of!(IfaCacheinfo, tstamp), &456u32.to_ne_bytes()),
            ],
        )
    }

    fn rtmsg(family: Family, dst_len: u8, table: u8, kind: u8) -> Vec<u8> {
        zeroed_with(
            size_of::<RtMsg>(),
            &[
                (offset_of!(RtMsg, rtm_family), &[address_family(family)]),
                (offset_of!(RtMsg, rtm_dst_len), &[dst_len]),
                (offset_of!(RtMsg, rtm_table), &[table]),
                (offset_of!(RtMsg, rtm_type), &[kind]),
                (offset_of!(RtMsg, rtm_protocol), &[libc::RTPROT_BOOT]),
            ],
        )
    }

    /// An IPv4 address message with IFA_ADDRESS and IFA_LOCAL both `octets`.
    fn ipv4(index: u32, octets: [u8; 4], prefix_len: u8) -> Vec<u8> {
        message(
            libc::RTM_NEWADDR,
            &ifaddrmsg(Family::Ipv4, prefix_len, 0, index),
            &[
                (libc::IFA_ADDRESS, &octets),
                (libc::IFA_LOCAL, &octets),
                (libc::IFA_CACHEINFO, &cacheinfo(u32::MAX, u32::MAX)),
            ],
        )
    }

    fn done() -> Vec<u8> {
        done_with(0)
    }

    fn done_with(code: libc::c_int) -> Vec<u8> {
        message(NLMSG_DONE, &code.to_ne_bytes(), &[])
    }

    /// An NLMSG_ERROR message: the code and a copy of the request's header.
    fn error(code: libc::c_int) -> Vec<u8> {
        let request = dump_request(Dump::Addresses, Family::Ipv4, SEQ);
        let payload = zeroed_with(
            size_of::<libc::nlmsgerr>(),
            &[
                (offset_of!(libc::nlmsgerr, error), &code.to_ne_bytes()),
                (
                    offset_of!(libc::nlmsgerr, msg),
                    &request[..size_of::<libc::nlmsghdr>()],
                ),
            ],
        );
        message_with(NLMSG_ERROR, 0, SEQ, PORT, &payload, &[])
    }

    /// A reply to the dump of the addresses of `family` on eth0.
    fn address_reply(family: Family) -> Reply<AddressGather> {
        let gather = AddressGather::new(family, ETH0, "device eth0".to_string());
        Reply::new(Dump::Addresses, SEQ, PORT, gather)
    }

    /// A reply to the dump of the IPv4 routes.
    fn route_reply() -> Reply<RouteGather> {
        Reply::new(Dump::Routes, SEQ, PORT, RouteGather::new(Family::Ipv4))
    }

    /// Feeds `datagrams` to a reply for the addresses of `family` on eth0; the reply must be
    /// finished by the last one.
    fn addresses_in(family: Family, datagrams: &[Vec<u8>]) -> Result<Vec<Candidate>, Error> {
        let mut reply = address_reply(family);
        for datagram in datagrams {
            assert!(!reply.finished, "datagram after the end");
            reply.take(datagram)?;
        }
        assert!(reply.finished, "reply not finished");
        Ok(reply.gather.found)
    }

    fn ipv4_addresses(datagram: Vec<u8>) -> Result<Vec<Candidate>, Error> {
        addresses_in(Family::Ipv4, &[datagram])
    }

    /// Just the addresses found in an IPv4 reply of `datagrams`, which must parse.
    fn ipv4_found(datagrams: &[Vec<u8>]) -> Vec<IpAddr> {
        addresses_in(Family::Ipv4, datagrams)
            .expect("parses")
            .into_iter()
            .map(|candidate| candidate.address)
            .collect()
    }

    /// The error message of feeding `datagram` to `reply`.
    fn error_of<G: Gather>(mut reply: Reply<G>, datagram: &[u8]) -> String {
        match reply.take(datagram) {
            Err(Error::Address(message)) => message,
            other => panic!("expected an address error, got {other:?}"),
        }
    }

    /// The error message of feeding `datagram` to an address reply.
    fn address_error(family: Family, datagram: &[u8]) -> String {
        error_of(address_reply(family), datagram)
    }

    fn default_route(datagram: Vec<u8>) -> Result<Option<DefaultRoute>, Error> {
        let mut reply = route_reply();
        reply.take(&datagram)?;
        assert!(reply.finished);
        Ok(reply.gather.best)
    }

    fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn v4(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn an_ipv4_address() {
        let found = ipv4_addresses(concat(&[ipv4(ETH0, [203, 0, 113, 7], 24), done()]));
        assert_eq!(
            found.expect("parses"),
            [Candidate {
                address: v4("203.0.113.7"),
                prefix_len: 24,
                preferred: None,
                valid: None,
                flags: Flags::default(),
                origin: "device eth0".to_string(),
            }]
        );
    }

    #[test]
    fn an_ipv6_address_with_ifa_flags_and_lifetimes() {
        let address: Ipv6Addr = "2001:db8::1".parse().expect("address");
        let flags = libc::IFA_F_TEMPORARY | libc::IFA_F_DEPRECATED | libc::IFA_F_MANAGETEMPADDR;
        let reply = concat(&[
            message(
                libc::RTM_NEWADDR,
                // The header's 8 bits disagree on purpose: IFA_FLAGS wins.
                &ifaddrmsg(Family::Ipv6, 64, libc::IFA_F_TENTATIVE as u8, ETH0),
                &[
                    (libc::IFA_ADDRESS, &address.octets()),
                    (libc::IFA_CACHEINFO, &cacheinfo(3600, 7200)),
                    (libc::IFA_FLAGS, &flags.to_ne_bytes()),
                ],
            ),
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv6, 64, 0, ETH0),
                &[
                    (
                        libc::IFA_ADDRESS,
                        &"2001:db8::2".parse::<Ipv6Addr>().expect("address").octets(),
                    ),
                    (libc::IFA_CACHEINFO, &cacheinfo(0, u32::MAX)),
                    (
                        libc::IFA_FLAGS,
                        &(libc::IFA_F_TENTATIVE | libc::IFA_F_DADFAILED).to_ne_bytes(),
                    ),
                ],
            ),
            done(),
        ]);
        let found = addresses_in(Family::Ipv6, &[reply]).expect("parses");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].address, IpAddr::V6(address));
        assert_eq!(found[0].prefix_len, 64);
        assert_eq!(
            (found[0].preferred, found[0].valid),
            (Some(3600), Some(7200))
        );
        assert_eq!(
            found[0].flags,
            Flags {
                tentative: false,
                dadfailed: false,
                deprecated: true,
                temporary: true,
            }
        );
        assert_eq!((found[1].preferred, found[1].valid), (Some(0), None));
        assert_eq!(
            found[1].flags,
            Flags {
                tentative: true,
                dadfailed: true,
                deprecated: false,
                temporary: false,
            }
        );
    }

    #[test]
    fn the_header_flags_count_when_ifa_flags_is_absent() {
        let bits = (libc::IFA_F_TENTATIVE | libc::IFA_F_TEMPORARY) as u8;
        let reply = concat(&[
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv6, 64, bits, ETH0),
                &[(libc::IFA_ADDRESS, &Ipv6Addr::LOCALHOST.octets())],
            ),
            done(),
        ]);
        let found = addresses_in(Family::Ipv6, &[reply]).expect("parses");
        let expected = Flags {
            tentative: true,
            temporary: true,
            ..Flags::default()
        };
        assert_eq!(found[0].flags, expected);
        // No IFA_CACHEINFO: lifetimes unknown, so forever.
        assert_eq!((found[0].preferred, found[0].valid), (None, None));
    }

    #[test]
    fn a_secondary_ipv4_address_is_not_temporary() {
        // IFA_F_SECONDARY and IFA_F_TEMPORARY are the same bit.
        let reply = concat(&[
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv4, 24, libc::IFA_F_SECONDARY as u8, ETH0),
                &[(libc::IFA_LOCAL, &[203, 0, 113, 8])],
            ),
            done(),
        ]);
        let found = ipv4_addresses(reply).expect("parses");
        assert_eq!(found[0].flags, Flags::default());
    }

    #[test]
    fn point_to_point_links_give_the_local_address_not_the_peer() {
        let local = [198, 51, 100, 20];
        let peer = [198, 51, 100, 1];
        let header = ifaddrmsg(Family::Ipv4, 32, 0, ETH0);
        for attributes in [
            [(libc::IFA_ADDRESS, &peer), (libc::IFA_LOCAL, &local)],
            [(libc::IFA_LOCAL, &local), (libc::IFA_ADDRESS, &peer)],
        ] {
            let attributes = attributes.map(|(kind, value)| (kind, &value[..]));
            let reply = concat(&[message(libc::RTM_NEWADDR, &header, &attributes), done()]);
            let found = ipv4_addresses(reply).expect("parses");
            assert_eq!(found[0].address, v4("198.51.100.20"));
            assert_eq!(found[0].prefix_len, 32);
        }
        // Without IFA_LOCAL (IPv6, or a kernel that leaves it out), IFA_ADDRESS is ours.
        let reply = concat(&[
            message(libc::RTM_NEWADDR, &header, &[(libc::IFA_ADDRESS, &peer)]),
            done(),
        ]);
        assert_eq!(
            ipv4_addresses(reply).expect("parses")[0].address,
            v4("198.51.100.1")
        );
    }

    #[test]
    fn other_devices_families_and_message_types_are_left_out() {
        let reply = concat(&[
            ipv4(ETH1, [192, 0, 2, 1], 24),
            ipv4(ETH0, [203, 0, 113, 7], 24),
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv6, 64, 0, ETH0),
                &[(libc::IFA_ADDRESS, &Ipv6Addr::LOCALHOST.octets())],
            ),
            message(libc::RTM_NEWLINK, &[0; 16], &[]),
            message(NLMSG_NOOP, &[], &[]),
            ipv4(ETH0, [203, 0, 113, 9], 24),
            done(),
        ]);
        assert_eq!(ipv4_found(&[reply]), [v4("203.0.113.7"), v4("203.0.113.9")]);
    }

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
    fn a_payload_too_short_for_ifaddrmsg_is_an_error() {
        let broken = message(libc::RTM_NEWADDR, &[libc::AF_INET as u8, 24], &[]);
        assert_eq!(
            address_error(Family::Ipv4, &broken),
            "netlink reply truncated: message 1 has 4 bytes, too few for its 8-byte ifaddrmsg"
        );
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
    fn attributes_of_the_wrong_size_are_errors() {
        let header = ifaddrmsg(Family::Ipv4, 24, 0, ETH0);
        let wrong = |attributes: &[(u16, &[u8])], expected: &str| {
            let datagram = concat(&[message(libc::RTM_NEWADDR, &header, attributes), done()]);
            assert_eq!(
                address_error(Family::Ipv4, &datagram),
                format!("malformed netlink reply: {expected}")
            );
        };
        let local = (libc::IFA_LOCAL, &[203, 0, 113, 1][..]);
        wrong(
            &[(libc::IFA_LOCAL, &[203, 0, 113, 1, 0])],
            "attribute 1 (IFA_LOCAL) of message 1 holds 5 bytes, not an ipv4 address (4 bytes)",
        );
        wrong(
            &[(libc::IFA_ADDRESS, &[0; 16])],
            "attribute 1 (IFA_ADDRESS) of message 1 holds 16 bytes, not an ipv4 address (4 bytes)",
        );
        wrong(
            &[local, (libc::IFA_FLAGS, &[0; 2])],
            "attribute 2 (IFA_FLAGS) of message 1 holds 2 bytes, not a 32-bit number",
        );
        wrong(
            &[local, (libc::IFA_CACHEINFO, &[0xff; 8])],
            "attribute 2 (IFA_CACHEINFO) of message 1 holds 8 bytes, \
             not a 16-byte struct ifa_cacheinfo",
        );
        wrong(
            &[(libc::IFA_CACHEINFO, &[0xff; 20]), local],
            "attribute 1 (IFA_CACHEINFO) of message 1 holds 20 bytes, \
             not a 16-byte struct ifa_cacheinfo",
        );
        let v6 = concat(&[
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv6, 64, 0, ETH0),
                &[(libc::IFA_ADDRESS, &[203, 0, 113, 1])],
            ),
            done(),
        ]);
        assert_eq!(
            address_error(Family::Ipv6, &v6),
            "malformed netlink reply: attribute 1 (IFA_ADDRESS) of message 1 holds 4 bytes, \
             not an ipv6 address (16 bytes)"
        );
    }

    #[test]
    fn an_address_message_without_an_address_is_an_error() {
        let datagram = concat(&[
            message(
                libc::RTM_NEWADDR,
                &ifaddrmsg(Family::Ipv4, 24, 0, ETH0),
                &[(libc::IFA_LABEL, b"eth0\0")],
            ),
            done(),
        ]);
        assert_eq!(
            address_error(Family::Ipv4, &datagram),
            "malformed netlink reply: \
             message 1 describes an address without IFA_LOCAL or IFA_ADDRESS"
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
    fn an_empty_datagram_is_an_error() {
        assert_eq!(
            address_error(Family::Ipv4, &[]),
            "malformed netlink reply: an empty datagram"
        );
    }

    /// A default route message of `family` in table `table` (RTA_TABLE when above 255).
    fn route(
        family: Family,
        dst_len: u8,
        table: u32,
        kind: u8,
        oif: Option<u32>,
        metric: Option<u32>,
    ) -> Vec<u8> {
        let header_table = u8::try_from(table).unwrap_or(libc::RT_TABLE_COMPAT);
        let table = table.to_ne_bytes();
        let oif = oif.map(u32::to_ne_bytes);
        let metric = metric.map(u32::to_ne_bytes);
        let gateway = [192, 0, 2, 1];
        let mut attributes: Vec<(u16, &[u8])> =
            vec![(libc::RTA_TABLE, &table), (libc::RTA_GATEWAY, &gateway)];
        if let Some(metric) = &metric {
            attributes.push((libc::RTA_PRIORITY, metric));
        }
        if let Some(oif) = &oif {
            attributes.push((libc::RTA_OIF, oif));
        }
        message(
            libc::RTM_NEWROUTE,
            &rtmsg(family, dst_len, header_table, kind),
            &attributes,
        )
    }

    fn main_route(oif: u32, metric: Option<u32>) -> Vec<u8> {
        route(
            Family::Ipv4,
            0,
            u32::from(libc::RT_TABLE_MAIN),
            libc::RTN_UNICAST,
            Some(oif),
            metric,
        )
    }

    #[test]
    fn the_default_route_with_the_lowest_metric_wins() {
        let reply = concat(&[
            main_route(ETH1, Some(20)),
            main_route(ETH0, Some(10)),
            main_route(9, Some(10)),
            main_route(8, Some(30)),
            done(),
        ]);
        assert_eq!(
            default_route(reply).expect("parses"),
            Some(DefaultRoute {
                index: ETH0,
                metric: 10
            })
        );
        // No RTA_PRIORITY is metric 0.
        let reply = concat(&[main_route(ETH1, Some(1)), main_route(ETH0, None), done()]);
        assert_eq!(
            default_route(reply).expect("parses"),
            Some(DefaultRoute {
                index: ETH0,
                metric: 0
            })
        );
    }

    #[test]
    fn only_unicast_default_routes_of_the_main_table_and_family_count() {
        let main = u32::from(libc::RT_TABLE_MAIN);
        let reply = concat(&[
            // Another table, in the header and in RTA_TABLE.
            route(Family::Ipv4, 0, 100, libc::RTN_UNICAST, Some(10), Some(0)),
            route(Family::Ipv4, 0, 1000, libc::RTN_UNICAST, Some(11), Some(0)),
            // The header says main, RTA_TABLE says otherwise: RTA_TABLE wins.
            {
                let header = rtmsg(Family::Ipv4, 0, libc::RT_TABLE_MAIN, libc::RTN_UNICAST);
                message(
                    libc::RTM_NEWROUTE,
                    &header,
                    &[
                        (libc::RTA_TABLE, &100u32.to_ne_bytes()),
                        (libc::RTA_OIF, &12u32.to_ne_bytes()),
                    ],
                )
            },
            // Not a default route, not unicast, another family, no device.
            route(Family::Ipv4, 24, main, libc::RTN_UNICAST, Some(13), Some(0)),
            route(
                Family::Ipv4,
                0,
                main,
                libc::RTN_UNREACHABLE,
                Some(14),
                Some(0),
            ),
            route(Family::Ipv6, 0, main, libc::RTN_UNICAST, Some(15), Some(0)),
            route(Family::Ipv4, 0, main, libc::RTN_UNICAST, None, Some(0)),
            route(
                Family::Ipv4,
                0,
                main,
                libc::RTN_UNICAST,
                Some(ETH1),
                Some(500),
            ),
            done(),
        ]);
        assert_eq!(
            default_route(reply).expect("parses"),
            Some(DefaultRoute {
                index: ETH1,
                metric: 500
            })
        );
        // The header's table counts without RTA_TABLE.
        let bare = message(
            libc::RTM_NEWROUTE,
            &rtmsg(Family::Ipv4, 0, libc::RT_TABLE_MAIN, libc::RTN_UNICAST),
            &[(libc::RTA_OIF, &ETH0.to_ne_bytes())],
        );
        assert_eq!(
            default_route(concat(&[bare, done()])).expect("parses"),
            Some(DefaultRoute {
                index: ETH0,
                metric: 0
            })
        );
    }

    #[test]
    fn no_default_route_is_none() {
        let reply = concat(&[
            route(
                Family::Ipv4,
                8,
                u32::from(libc::RT_TABLE_MAIN),
                libc::RTN_UNICAST,
                Some(ETH0),
                None,
            ),
            done(),
        ]);
        assert_eq!(default_route(reply).expect("parses"), None);
        assert_eq!(default_route(done()).expect("parses"), None);
    }

    #[test]
    fn route_attributes_of_the_wrong_size_are_errors() {
        let header = rtmsg(Family::Ipv4, 0, libc::RT_TABLE_MAIN, libc::RTN_UNICAST);
        let datagram = concat(&[
            message(libc::RTM_NEWROUTE, &header, &[(libc::RTA_OIF, &[1, 0])]),
            done(),
        ]);
        assert_eq!(
            error_of(route_reply(), &datagram),
            "malformed netlink reply: \
             attribute 1 (RTA_OIF) of message 1 holds 2 bytes, not a 32-bit number"
        );
        let short = concat(&[message(libc::RTM_NEWROUTE, &header[..8], &[]), done()]);
        let message = error_of(route_reply(), &short);
        assert!(
            message.contains("too few for its 12-byte rtmsg"),
            "{message}"
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
