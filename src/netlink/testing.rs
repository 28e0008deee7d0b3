//! Netlink messages as the kernel writes them, and replies fed to the parser, for the tests of
//! `wire`, `dump` and the entry points.

use std::mem::{offset_of, size_of};
use std::net::IpAddr;

use crate::config::Family;
use crate::error::Error;
use crate::rules::Candidate;

use super::dump::{AddressGather, DefaultRoute, IfaCacheinfo, RouteGather};
use super::wire::{
    address_family, dump_request, message_header, put, zeroed_with, AttributeFraming, Dump,
    Framing, Gather, Reply, RtMsg, ATTRIBUTE_ALIGN, MESSAGE_ALIGN, MESSAGE_HEADER_LEN, NLMSG_DONE,
    NLMSG_ERROR,
};

pub(super) const SEQ: u32 = 7;

pub(super) const PORT: u32 = 4242;

pub(super) const ETH0: u32 = 2;

pub(super) const ETH1: u32 = 3;

/// A netlink message as the kernel writes it, in native byte order: header, payload padded
/// to the alignment, then each attribute with its header and padding. `nlmsg_len` counts
/// everything, padding included, as the kernel's does.
pub(super) fn message_with(
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

pub(super) fn message(kind: u16, payload: &[u8], attributes: &[(u16, &[u8])]) -> Vec<u8> {
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
pub(super) fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
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

pub(super) fn pad(bytes: &mut Vec<u8>, align: usize) {
    bytes.resize(bytes.len().next_multiple_of(align), 0);
}

pub(super) fn set_length(message: &mut [u8], length: u32) {
    put(
        message,
        offset_of!(libc::nlmsghdr, nlmsg_len),
        &length.to_ne_bytes(),
    );
}

pub(super) fn ifaddrmsg(family: Family, prefix_len: u8, flags: u8, index: u32) -> Vec<u8> {
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

pub(super) fn cacheinfo(preferred: u32, valid: u32) -> Vec<u8> {
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

pub(super) fn rtmsg(family: Family, dst_len: u8, table: u8, kind: u8) -> Vec<u8> {
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
pub(super) fn ipv4(index: u32, octets: [u8; 4], prefix_len: u8) -> Vec<u8> {
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

pub(super) fn done() -> Vec<u8> {
    done_with(0)
}

pub(super) fn done_with(code: libc::c_int) -> Vec<u8> {
    message(NLMSG_DONE, &code.to_ne_bytes(), &[])
}

/// An NLMSG_ERROR message: the code and a copy of the request's header.
pub(super) fn error(code: libc::c_int) -> Vec<u8> {
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
pub(super) fn address_reply(family: Family) -> Reply<AddressGather> {
    let gather = AddressGather::new(family, ETH0, "device eth0".to_string());
    Reply::new(Dump::Addresses, SEQ, PORT, gather)
}

/// A reply to the dump of the IPv4 routes.
pub(super) fn route_reply() -> Reply<RouteGather> {
    Reply::new(Dump::Routes, SEQ, PORT, RouteGather::new(Family::Ipv4))
}

/// Feeds `datagrams` to a reply for the addresses of `family` on eth0; the reply must be
/// finished by the last one.
pub(super) fn addresses_in(family: Family, datagrams: &[Vec<u8>]) -> Result<Vec<Candidate>, Error> {
    let mut reply = address_reply(family);
    for datagram in datagrams {
        assert!(!reply.finished, "datagram after the end");
        reply.take(datagram)?;
    }
    assert!(reply.finished, "reply not finished");
    Ok(reply.gather.found)
}

pub(super) fn ipv4_addresses(datagram: Vec<u8>) -> Result<Vec<Candidate>, Error> {
    addresses_in(Family::Ipv4, &[datagram])
}

/// Just the addresses found in an IPv4 reply of `datagrams`, which must parse.
pub(super) fn ipv4_found(datagrams: &[Vec<u8>]) -> Vec<IpAddr> {
    addresses_in(Family::Ipv4, datagrams)
        .expect("parses")
        .into_iter()
        .map(|candidate| candidate.address)
        .collect()
}

/// The error message of feeding `datagram` to `reply`.
pub(super) fn error_of<G: Gather>(mut reply: Reply<G>, datagram: &[u8]) -> String {
    match reply.take(datagram) {
        Err(Error::Address(message)) => message,
        other => panic!("expected an address error, got {other:?}"),
    }
}

/// The error message of feeding `datagram` to an address reply.
pub(super) fn address_error(family: Family, datagram: &[u8]) -> String {
    error_of(address_reply(family), datagram)
}

pub(super) fn default_route(datagram: Vec<u8>) -> Result<Option<DefaultRoute>, Error> {
    let mut reply = route_reply();
    reply.take(&datagram)?;
    assert!(reply.finished);
    Ok(reply.gather.best)
}

pub(super) fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

pub(super) fn v4(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// A default route message of `family` in table `table` (RTA_TABLE when above 255).
pub(super) fn route(
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

pub(super) fn main_route(oif: u32, metric: Option<u32>) -> Vec<u8> {
    route(
        Family::Ipv4,
        0,
        u32::from(libc::RT_TABLE_MAIN),
        libc::RTN_UNICAST,
        Some(oif),
        metric,
    )
}
