//! What the address and route dumps hold: the gatherers that read `RTM_NEWADDR` and
//! `RTM_NEWROUTE` messages into candidates and the default route. Pure.

use std::mem::{offset_of, size_of};

use crate::config::Family;
use crate::error::Error;
use crate::rules::{Candidate, Flags};

use super::wire::{
    address_family, family_header, malformed, u32_at, u8_at, Attribute, Attributes, Gather,
    Message, RtMsg,
};

/// The kernel's `INFINITY_LIFE_TIME` (`include/net/addrconf.h`, not in uapi): a lifetime of
/// `0xFFFFFFFF` seconds means forever.
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// A copy of `struct ifa_cacheinfo` from the kernel's uapi header `linux/if_addr.h`, which libc
/// lacks.
#[allow(
    dead_code,
    reason = "only its layout is used (size_of, offset_of!): fields are read from bytes"
)]
#[repr(C)]
pub(super) struct IfaCacheinfo {
    pub(super) ifa_prefered: u32,
    pub(super) ifa_valid: u32,
    pub(super) cstamp: u32,
    pub(super) tstamp: u32,
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
pub(super) struct DefaultRoute {
    pub(super) index: u32,
    pub(super) metric: u32,
}

/// The default route of one family in the main table with the lowest metric (the first of
/// equals), from `RTM_NEWROUTE` messages.
#[derive(Debug)]
pub struct RouteGather {
    family: Family,
    pub(super) best: Option<DefaultRoute>,
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
    use crate::netlink::testing::*;
    use crate::netlink::wire::NLMSG_NOOP;
    use std::net::{IpAddr, Ipv6Addr};

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
    fn a_payload_too_short_for_ifaddrmsg_is_an_error() {
        let broken = message(libc::RTM_NEWADDR, &[libc::AF_INET as u8, 24], &[]);
        assert_eq!(
            address_error(Family::Ipv4, &broken),
            "netlink reply truncated: message 1 has 4 bytes, too few for its 8-byte ifaddrmsg"
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
}
