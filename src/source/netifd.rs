//! What netifd says about a logical OpenWrt interface (the replies of
//! `ubus call network.interface.<name> status` and `ubus call network.interface dump`), and the
//! candidates drawn from it. Pure: every shape netifd writes is unit tested against the fixtures
//! in `tests/fixtures/ubus/`; `super::ubus` runs the calls.
//!
//! netifd's presence rules: `up`, `pending`, `available`, `autostart`, `dynamic` and `data` are
//! always there; everything about addresses exists only while `up` is true. Numbers are signed
//! 32-bit: `valid` goes negative once an address has expired, `preferred` is clamped at 0, and a
//! missing lifetime means forever. `dns_metric` and `neighbors` are missing on older releases,
//! which also escape `/` as `\/`. Only the fields used here are read; the rest is ignored.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use serde::Deserialize;

use crate::config::Family;
use crate::error::Error;
use crate::rules::{self, Candidate, Flags};

/// How much of a parser's message is worth quoting.
const MAX_MESSAGE_CHARS: usize = 160;

// ---------------------------------------------------------------------------------------------
// What netifd writes

/// `ubus call network.interface.<name> status`, the fields dynhost reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub up: bool,
    #[serde(default)]
    pub pending: bool,
    #[serde(default = "yes")]
    pub available: bool,
    #[serde(default)]
    pub l3_device: Option<String>,
    #[serde(rename = "ipv4-address", default)]
    pub ipv4_addresses: Vec<AddressEntry>,
    #[serde(rename = "ipv6-address", default)]
    pub ipv6_addresses: Vec<AddressEntry>,
    /// Prefixes delegated to this interface (a WAN side).
    #[serde(rename = "ipv6-prefix", default)]
    pub ipv6_prefixes: Vec<AddressEntry>,
    /// Shares of delegated prefixes given to this interface (a LAN side).
    #[serde(rename = "ipv6-prefix-assignment", default)]
    pub ipv6_assignments: Vec<AddressEntry>,
    /// Why the interface failed to come up (`AUTH_FAILED` from `pppoe`, ...).
    #[serde(default)]
    pub errors: Vec<InterfaceError>,
}

fn yes() -> bool {
    true
}

/// An entry of `ipv4-address`, `ipv6-address`, `ipv6-prefix` (a prefix delegated to the
/// interface) or `ipv6-prefix-assignment` (this interface's share of a delegated prefix).
/// One struct for all four, as they share their fields: a struct per kind would repeat them,
/// and sharing them through `#[serde(flatten)]` costs kilobytes of binary. The address is of
/// either family, its list's family checked after parsing: one deserialiser for the four lists,
/// not one per family (~4.5 KB on mipsel). `ptpaddress` (the PPP peer) is never read.
#[derive(Debug, Clone, Deserialize)]
pub struct AddressEntry {
    pub address: IpAddr,
    pub mask: u8,
    #[serde(default)]
    pub preferred: Option<i64>,
    #[serde(default)]
    pub valid: Option<i64>,
    /// Only in a prefix: the shares of it that netifd gave to other interfaces, by interface
    /// name.
    #[serde(default)]
    pub assigned: BTreeMap<String, Network>,
    /// Only in an assignment: the router's own address in the share, once it has one. netifd
    /// writes an empty object while the address is not in place (the LAN device has IPv6 off):
    /// that is `None`, not a malformed reply.
    #[serde(rename = "local-address", default, deserialize_with = "local_address")]
    pub local_address: Option<Network>,
}

/// `local-address`: `{}` (or either field missing) is no address.
fn local_address<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Network>, D::Error> {
    #[derive(Deserialize)]
    struct Partial {
        address: Option<Ipv6Addr>,
        mask: Option<u8>,
    }
    let partial = Option::<Partial>::deserialize(deserializer)?;
    Ok(partial.and_then(|partial| {
        Some(Network {
            address: partial.address?,
            mask: partial.mask?,
        })
    }))
}

impl AddressEntry {
    fn network(&self) -> (IpAddr, u8) {
        (self.address, self.mask)
    }

    fn lifetimes(&self) -> Lifetimes {
        (lifetime(self.preferred), lifetime(self.valid))
    }

    /// The entry's own network, then those it holds.
    fn networks(&self) -> impl Iterator<Item = (IpAddr, u8)> + '_ {
        std::iter::once(self.network()).chain(
            self.assigned
                .values()
                .chain(&self.local_address)
                .map(Network::network),
        )
    }
}

/// An address and its prefix length, with nothing else read.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Network {
    pub address: Ipv6Addr,
    pub mask: u8,
}

impl Network {
    fn network(&self) -> (IpAddr, u8) {
        (IpAddr::V6(self.address), self.mask)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct InterfaceError {
    #[serde(default)]
    pub subsystem: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// `ubus call network.interface dump`, the fields dynhost reads.
#[derive(Debug, Clone, Deserialize)]
pub struct InterfaceDump {
    pub interface: Vec<DumpedInterface>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DumpedInterface {
    pub interface: String,
    #[serde(rename = "ipv6-prefix-assignment", default)]
    pub ipv6_assignments: Vec<AddressEntry>,
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses the reply of `ubus call network.interface.<interface> status`.
pub fn parse_status(interface: &str, text: &str) -> Result<Status, Error> {
    let call = status_call(interface);
    // from_slice, not from_str: one serde_json reader (the state file's and the API's) instead
    // of two copies of the parser in the binary (~10 KB on mipsel).
    let status: Status =
        serde_json::from_slice(text.as_bytes()).map_err(|e| malformed(&call, &e))?;
    check_family(&call, "ipv4-address", &status.ipv4_addresses, Family::Ipv4)?;
    for (key, entries) in [
        ("ipv6-address", &status.ipv6_addresses),
        ("ipv6-prefix", &status.ipv6_prefixes),
        ("ipv6-prefix-assignment", &status.ipv6_assignments),
    ] {
        check_family(&call, key, entries, Family::Ipv6)?;
    }
    let masks = status
        .ipv4_addresses
        .iter()
        .flat_map(AddressEntry::networks)
        .chain(
            [
                &status.ipv6_addresses,
                &status.ipv6_prefixes,
                &status.ipv6_assignments,
            ]
            .into_iter()
            .flatten()
            .flat_map(AddressEntry::networks),
        );
    check_masks(&call, masks)?;
    Ok(status)
}

/// Parses the reply of `ubus call network.interface dump`.
pub fn parse_dump(text: &str) -> Result<InterfaceDump, Error> {
    let call = DUMP_CALL;
    let dump: InterfaceDump =
        serde_json::from_slice(text.as_bytes()).map_err(|e| malformed(call, &e))?;
    for interface in &dump.interface {
        let entries = &interface.ipv6_assignments;
        check_family(call, "ipv6-prefix-assignment", entries, Family::Ipv6)?;
    }
    check_masks(
        call,
        dump.interface
            .iter()
            .flat_map(|interface| &interface.ipv6_assignments)
            .flat_map(AddressEntry::networks),
    )?;
    Ok(dump)
}

/// Refuses an address of the other family in the list `key`.
fn check_family(
    call: &str,
    key: &str,
    entries: &[AddressEntry],
    family: Family,
) -> Result<(), Error> {
    let wanted_ipv4 = family == Family::Ipv4;
    match entries.iter().find(|e| e.address.is_ipv4() != wanted_ipv4) {
        Some(entry) => Err(Error::Address(format!(
            "ubus call {call} gave malformed JSON: {key} holds {}, not an {} address",
            entry.address,
            if wanted_ipv4 { "IPv4" } else { "IPv6" }
        ))),
        None => Ok(()),
    }
}

/// Refuses prefix lengths longer than the address, so no arithmetic on them can overflow.
fn check_masks(call: &str, mut masks: impl Iterator<Item = (IpAddr, u8)>) -> Result<(), Error> {
    match masks.find(|(address, mask)| {
        let bits = if address.is_ipv4() { 32 } else { 128 };
        *mask > bits
    }) {
        Some((address, mask)) => Err(Error::Address(format!(
            "ubus call {call} gave the impossible prefix length {mask} for {address}"
        ))),
        None => Ok(()),
    }
}

fn malformed(call: &str, error: &serde_json::Error) -> Error {
    let message = error.to_string();
    let mut shown: String = message
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        shown.push_str("...");
    }
    Error::Address(format!("ubus call {call} gave malformed JSON: {shown}"))
}

pub(super) fn status_call(interface: &str) -> String {
    format!("network.interface.{interface} status")
}

pub(super) const DUMP_CALL: &str = "network.interface dump";

// ---------------------------------------------------------------------------------------------
// Candidates

/// The candidates of `family` for `interface` from its parsed `status`. `dump` is called only
/// when the address must be looked for on the interface the delegated prefix was shared with
/// (an IPv6 WAN with a prefix and no address of its own).
///
/// `prefix_interface` names the interface whose share of a delegated prefix holds the address
/// (the LAN the host is on): with `suffix` (an interface identifier), the candidates are that
/// share joined with it, the address of a server on that LAN; without, and when the WAN has no
/// address of its own, the router's own address in that share.
pub fn extract(
    interface: &str,
    family: Family,
    suffix: Option<Ipv6Addr>,
    prefix_interface: &str,
    status: &Status,
    dump: impl FnOnce() -> Result<InterfaceDump, Error>,
) -> Result<Vec<Candidate>, Error> {
    check_up(interface, status)?;
    let delegation = Delegation {
        interface,
        prefix_interface,
        prefixes: &status.ipv6_prefixes,
    };
    match (family, suffix) {
        (Family::Ipv4, _) => Ok(ipv4_candidates(interface, status)),
        (Family::Ipv6, Some(suffix)) => suffixed_candidates(&delegation, status, suffix),
        (Family::Ipv6, None) => ipv6_candidates(&delegation, status, dump),
    }
}

/// The interface's layer-3 device, from its parsed `status`.
pub fn device(interface: &str, status: &Status) -> Result<String, Error> {
    check_up(interface, status)?;
    status
        .l3_device
        .clone()
        .ok_or_else(|| Error::Address(format!("interface '{interface}' has no layer-3 device")))
}

fn check_up(interface: &str, status: &Status) -> Result<(), Error> {
    if status.up {
        return Ok(());
    }
    let mut message = format!("interface '{interface}' is down");
    if status.pending {
        message.push_str(", waiting for an address");
    }
    if !status.available {
        message.push_str(" (its device is not present)");
    }
    for error in &status.errors {
        let code = error.code.as_deref().map_or("?".into(), identifier);
        match error.subsystem.as_deref() {
            Some(subsystem) => {
                message.push_str(&format!(" ({} error {code})", identifier(subsystem)))
            }
            None => message.push_str(&format!(" (error {code})")),
        }
    }
    // Down by itself is routine; down with netifd's errors (a PPPoE login refused) needs a look.
    Err(if status.errors.is_empty() {
        Error::InterfaceDown(message)
    } else {
        Error::Address(message)
    })
}

/// netifd's error codes, subsystems and interface names are identifiers (`AUTH_FAILED`,
/// `pppoe`, `lan`); anything else in them is dropped so that a log line, or a line of `check`,
/// stays one clean line.
fn identifier(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(40)
        .collect()
}

/// A candidate's preferred and valid lifetimes.
type Lifetimes = (Option<u32>, Option<u32>);

/// Seconds from netifd's signed number: negative (expired) is 0.
fn lifetime(seconds: Option<i64>) -> Option<u32> {
    seconds.map(|seconds| u32::try_from(seconds.max(0)).unwrap_or(u32::MAX))
}

/// Whether `address/mask` lies within `prefix/prefix_len`.
/// Either family: an IPv4 address compares as its IPv4-mapped IPv6 address.
fn within(address: IpAddr, mask: u8, prefix: IpAddr, prefix_len: u8) -> bool {
    let wide = |address: IpAddr| match address {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let bits = u128::MAX
        .checked_shl(128 - u32::from(prefix_len.min(128)))
        .unwrap_or(0);
    mask >= prefix_len && (wide(address) ^ wide(prefix)) & bits == 0
}

fn candidate(
    (address, prefix_len): (IpAddr, u8),
    (preferred, valid): Lifetimes,
    origin: String,
) -> Candidate {
    Candidate {
        address,
        prefix_len,
        preferred,
        valid,
        flags: Flags::default(),
        origin,
    }
}

/// `ipv4-address`, without lifetimes (netifd's IPv4 entries carry none worth reading), and
/// never `ptpaddress`, which is the PPP peer's address, not ours.
fn ipv4_candidates(interface: &str, status: &Status) -> Vec<Candidate> {
    let origin = format!("interface {interface}");
    entry_candidates(&status.ipv4_addresses, |_| (None, None), &origin)
}

fn entry_candidates(
    entries: &[AddressEntry],
    lifetimes: impl Fn(&AddressEntry) -> Lifetimes,
    origin: &str,
) -> Vec<Candidate> {
    entries
        .iter()
        .map(|entry| candidate(entry.network(), lifetimes(entry), origin.into()))
        .collect()
}

/// `2001:db8:1200::/56, ...`
fn listed(entries: &[AddressEntry]) -> String {
    entries
        .iter()
        .map(|entry| format!("{}/{}", entry.address, entry.mask))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The prefixes delegated to `interface` and the interface whose share of them is wanted.
struct Delegation<'a> {
    interface: &'a str,
    prefix_interface: &'a str,
    prefixes: &'a [AddressEntry],
}

impl Delegation<'_> {
    /// `prefix_interface`'s share of `prefix`, if it got one.
    fn share<'p>(&self, prefix: &'p AddressEntry) -> Option<&'p Network> {
        prefix.assigned.get(self.prefix_interface)
    }

    /// Why no candidate came from `prefix_interface`'s share, naming the interfaces that have
    /// a share instead.
    fn no_share(&self) -> String {
        let mut sharers: Vec<String> = self
            .prefixes
            .iter()
            .flat_map(|prefix| prefix.assigned.keys().map(|name| identifier(name)))
            .collect();
        sharers.sort_unstable();
        sharers.dedup();
        format!(
            "interface '{}' (option prefix_interface) has no share of {}'s delegated prefix {}; \
             the interfaces that have one: {}; set option prefix_interface to one of them",
            self.prefix_interface,
            self.interface,
            listed(self.prefixes),
            sharers.join(", ")
        )
    }
}

/// The interface's own IPv6 addresses; failing those, the router's own addresses in the
/// shares of delegated prefixes it holds, or in `prefix_interface`'s share of the prefixes
/// delegated to it.
fn ipv6_candidates(
    delegation: &Delegation,
    status: &Status,
    dump: impl FnOnce() -> Result<InterfaceDump, Error>,
) -> Result<Vec<Candidate>, Error> {
    let interface = delegation.interface;
    if !status.ipv6_addresses.is_empty() {
        let origin = format!("interface {interface}");
        return Ok(entry_candidates(
            &status.ipv6_addresses,
            AddressEntry::lifetimes,
            &origin,
        ));
    }
    // A LAN-side interface: its own address in each share it got.
    let own_shares = local_addresses(&status.ipv6_assignments, None, |_| {
        format!("interface {interface}, its share of a delegated prefix")
    });
    if !own_shares.is_empty() {
        return Ok(own_shares);
    }
    if delegation.prefixes.is_empty() {
        if status.ipv6_assignments.is_empty() {
            return Ok(own_shares);
        }
        return Err(Error::Address(format!(
            "interface '{interface}' has no IPv6 address of its own, not even in its shares \
             {} of a delegated prefix (is IPv6 off on its device?)",
            listed(&status.ipv6_assignments)
        )));
    }
    // A WAN side with a delegated prefix and no address (PPPoE's wan_6): the router's address
    // is on the interface that got a share of the prefix.
    let prefix_interface = delegation.prefix_interface;
    let held: Vec<&AddressEntry> = delegation
        .prefixes
        .iter()
        .filter(|prefix| delegation.share(prefix).is_some())
        .collect();
    if held.is_empty() {
        let shared = delegation.prefixes.iter().any(|p| !p.assigned.is_empty());
        return Err(Error::Address(if shared {
            format!(
                "interface '{interface}' has no IPv6 address of its own, and {}",
                delegation.no_share()
            )
        } else {
            format!(
                "interface '{interface}' has no IPv6 address of its own, and its delegated \
                 prefix {} is assigned to no interface: assign it to {prefix_interface} (option \
                 ip6assign) or set option ipv6_suffix to publish the address of a host on the LAN",
                listed(delegation.prefixes)
            )
        }));
    }
    let dump = dump()?;
    let shares = dump
        .interface
        .iter()
        .find(|i| i.interface == prefix_interface)
        .map_or(&[][..], |i| &i.ipv6_assignments);
    let found: Vec<Candidate> = held
        .iter()
        .flat_map(|prefix| {
            local_addresses(shares, Some(prefix), |_| {
                format!(
                    "{prefix_interface}'s share of {interface}'s delegated prefix {}/{}",
                    prefix.address, prefix.mask
                )
            })
        })
        .collect();
    if found.is_empty() {
        return Err(Error::Address(format!(
            "interface '{interface}' has no IPv6 address of its own, and {prefix_interface} has \
             no address in its share of the delegated prefix {} yet (is IPv6 off on its device?)",
            listed(delegation.prefixes)
        )));
    }
    Ok(found)
}

/// The router's own addresses in `assignments`, only those within `parent` when given;
/// lifetimes from the assignment, else from `parent`. A share without a local address has
/// none to offer.
fn local_addresses(
    assignments: &[AddressEntry],
    parent: Option<&AddressEntry>,
    origin: impl Fn(&AddressEntry) -> String,
) -> Vec<Candidate> {
    assignments
        .iter()
        .filter(|assignment| {
            parent.is_none_or(|parent| {
                within(
                    assignment.address,
                    assignment.mask,
                    parent.address,
                    parent.mask,
                )
            })
        })
        .filter_map(|assignment| {
            let local = assignment.local_address?;
            Some(candidate(
                local.network(),
                (
                    lifetime(assignment.preferred.or(parent.and_then(|p| p.preferred))),
                    lifetime(assignment.valid.or(parent.and_then(|p| p.valid))),
                ),
                origin(assignment),
            ))
        })
        .collect()
}

/// The current prefixes joined with `suffix`: `prefix_interface`'s share of each delegated
/// prefix (the LAN where the host lives), or the whole prefix when nothing got a share of it;
/// on a LAN-side interface, its own shares.
fn suffixed_candidates(
    delegation: &Delegation,
    status: &Status,
    suffix: Ipv6Addr,
) -> Result<Vec<Candidate>, Error> {
    let interface = delegation.interface;
    let mut prefixes = Vec::new();
    for prefix in delegation.prefixes {
        let lifetimes = prefix.lifetimes();
        if prefix.assigned.is_empty() {
            let origin = format!("{interface}'s delegated prefix, shared with no interface");
            prefixes.push(candidate(prefix.network(), lifetimes, origin));
        } else if let Some(share) = delegation.share(prefix) {
            let origin = format!(
                "{}'s share of {interface}'s delegated prefix {}/{}",
                delegation.prefix_interface, prefix.address, prefix.mask
            );
            prefixes.push(candidate(share.network(), lifetimes, origin));
        }
    }
    if prefixes.is_empty() && !delegation.prefixes.is_empty() {
        return Err(Error::Address(delegation.no_share()));
    }
    if prefixes.is_empty() {
        let origin = format!("{interface}'s share of a delegated prefix");
        prefixes = entry_candidates(&status.ipv6_assignments, AddressEntry::lifetimes, &origin);
    }
    if prefixes.is_empty() {
        return Err(Error::Address(format!(
            "interface '{interface}' has no delegated IPv6 prefix to join with option \
             ipv6_suffix"
        )));
    }
    let joined = rules::suffixed(&prefixes, suffix);
    if joined.is_empty() {
        return Err(Error::Address(format!(
            "every IPv6 prefix of interface '{interface}' is longer than /64, too long to join \
             with option ipv6_suffix"
        )));
    }
    Ok(joined)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const PPPOE_IPV4: &str =
        include_str!("../../tests/fixtures/ubus/wan-pppoe-ipv4-up.json");
    const DHCP_IPV4: &str = include_str!("../../tests/fixtures/ubus/wan-dhcp-ipv4-up.json");
    pub(crate) const DHCPV6_PD: &str =
        include_str!("../../tests/fixtures/ubus/wan6-dhcpv6-pd-up.json");
    pub(crate) const PD_ONLY: &str =
        include_str!("../../tests/fixtures/ubus/wan_6-pppoe-dynamic-pd-only.json");
    const DOWN: &str = include_str!("../../tests/fixtures/ubus/wan-down-ifdown.json");
    const AUTH_FAILED: &str = include_str!("../../tests/fixtures/ubus/wan-pppoe-auth-failed.json");
    const PENDING: &str = include_str!("../../tests/fixtures/ubus/wan-dhcp-pending.json");
    pub(crate) const DUMP: &str =
        include_str!("../../tests/fixtures/ubus/network-interface-dump.json");

    const STATUSES: [(&str, &str); 7] = [
        ("wan-pppoe-ipv4-up", PPPOE_IPV4),
        ("wan-dhcp-ipv4-up", DHCP_IPV4),
        ("wan6-dhcpv6-pd-up", DHCPV6_PD),
        ("wan_6-pppoe-dynamic-pd-only", PD_ONLY),
        ("wan-down-ifdown", DOWN),
        ("wan-pppoe-auth-failed", AUTH_FAILED),
        ("wan-dhcp-pending", PENDING),
    ];

    /// The outputs of OpenWrt's real netifd, unedited (see the folder's README).
    pub(crate) mod real {
        macro_rules! real {
            ($name:literal) => {
                include_str!(concat!("../../tests/fixtures/ubus/netifd-real/", $name))
            };
        }
        pub(crate) const WAN6_PD: &str = real!("wan6-dhcpv6-pd-addresses.json");
        pub(crate) const LAN: &str = real!("lan-ip6assign-64.json");
        pub(crate) const DUMP_PD: &str = real!("dump-wan6-pd-lan.json");
        pub(crate) const WAN6_PREFIX_ONLY: &str = real!("wan6-prefix-only.json");
        pub(crate) const LAN_PREFIX_ONLY: &str = real!("lan-prefix-only.json");
        pub(crate) const DUMP_PREFIX_ONLY: &str = real!("dump-wan6-prefix-only.json");
        pub(crate) const WAN6_LAN_AND_GUEST: &str = real!("wan6-pd-lan-and-guest.json");
        pub(crate) const DUMP_LAN_AND_GUEST: &str = real!("dump-lan-and-guest.json");
        pub(crate) const GUEST_IPV6_OFF: &str = real!("guest-ipv6-off.json");
        pub(crate) const DUMP_GUEST_IPV6_OFF: &str =
            real!("dump-guest-ipv6-off-empty-local-address.json");

        pub(crate) const STATUSES: [&str; 6] = [
            WAN6_PD,
            LAN,
            WAN6_PREFIX_ONLY,
            LAN_PREFIX_ONLY,
            WAN6_LAN_AND_GUEST,
            GUEST_IPV6_OFF,
        ];
        pub(crate) const DUMPS: [&str; 4] = [
            DUMP_PD,
            DUMP_PREFIX_ONLY,
            DUMP_LAN_AND_GUEST,
            DUMP_GUEST_IPV6_OFF,
        ];

        /// One interface's status as the dump `dump` shows it.
        pub(crate) fn dumped(dump: &str, interface: &str) -> String {
            let dump: serde_json::Value = serde_json::from_str(dump).expect("fixture");
            let found = dump["interface"]
                .as_array()
                .expect("interfaces")
                .iter()
                .find(|i| i["interface"] == interface)
                .expect("the interface is in the dump");
            found.to_string()
        }
    }

    pub(crate) fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    pub(crate) fn suffix(text: &str) -> Ipv6Addr {
        text.parse().expect("test suffix")
    }

    fn status(text: &str) -> Status {
        parse_status("wan", text).expect("parses")
    }

    fn no_dump() -> Result<InterfaceDump, Error> {
        panic!("the dump is not needed here")
    }

    /// The dump of a router whose lan got a share of the prefix `wan_6` holds.
    pub(crate) fn pd_only_dump() -> String {
        DUMP.replace("2001:db8:1200::", "2001:db8:abcd:1200::")
    }

    /// The candidates with the default `prefix_interface`, lan.
    fn found(
        interface: &str,
        family: Family,
        suffix: Option<Ipv6Addr>,
        text: &str,
        dump: Option<&str>,
    ) -> Result<Vec<Candidate>, String> {
        found_in("lan", interface, family, suffix, text, dump)
    }

    fn found_in(
        prefix_interface: &str,
        interface: &str,
        family: Family,
        suffix: Option<Ipv6Addr>,
        text: &str,
        dump: Option<&str>,
    ) -> Result<Vec<Candidate>, String> {
        let status = parse_status(interface, text).map_err(|e| e.to_string())?;
        extract(
            interface,
            family,
            suffix,
            prefix_interface,
            &status,
            || match dump {
                Some(dump) => parse_dump(dump),
                None => no_dump(),
            },
        )
        .map_err(|e| e.to_string())
    }

    pub(crate) fn addresses(candidates: &[Candidate]) -> Vec<IpAddr> {
        candidates.iter().map(|c| c.address).collect()
    }

    /// The address and lifetimes of the only candidate.
    fn sole(candidates: &[Candidate]) -> (IpAddr, Option<u32>, Option<u32>) {
        match candidates {
            [only] => (only.address, only.preferred, only.valid),
            _ => panic!("not one candidate: {candidates:?}"),
        }
    }

    /// A fixture as a JSON value, to change a field for an edge case.
    fn edited(text: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut value: serde_json::Value = serde_json::from_str(text).expect("fixture");
        edit(&mut value);
        value.to_string()
    }

    // --- parsing -------------------------------------------------------------------------------

    #[test]
    fn every_fixture_parses() {
        for (name, text) in STATUSES {
            assert!(parse_status("wan", text).is_ok(), "{name}");
        }
        let dump = parse_dump(DUMP).expect("dump parses");
        let names: Vec<&str> = dump
            .interface
            .iter()
            .map(|i| i.interface.as_str())
            .collect();
        assert_eq!(names, ["lan", "loopback", "wan", "wan6"]);
        assert_eq!(dump.interface[0].ipv6_assignments.len(), 2);
    }

    #[test]
    fn down_interfaces_have_no_address_arrays() {
        for text in [DOWN, AUTH_FAILED, PENDING] {
            let status = status(text);
            assert!(!status.up);
            assert!(status.l3_device.is_none());
            assert!(status.ipv4_addresses.is_empty() && status.ipv6_addresses.is_empty());
            assert!(status.ipv6_prefixes.is_empty() && status.ipv6_assignments.is_empty());
        }
    }

    #[test]
    fn escaped_slashes_are_read() {
        let text = r#"{"up":true,"pending":false,"available":true,"autostart":true,
            "dynamic":false,"l3_device":"eth0\/1","ipv4-address":[{"address":"203.0.113.5",
            "mask":32}],"route":[{"target":"0.0.0.0","mask":0,"source":"0.0.0.0\/0"}],"data":{}}"#;
        let status = status(text);
        assert_eq!(status.l3_device.as_deref(), Some("eth0/1"));
        assert_eq!(status.ipv4_addresses[0].address, ip("203.0.113.5"));
    }

    #[test]
    fn missing_optional_keys_and_unknown_keys_are_fine() {
        // Older netifd: no dns_metric, no neighbors; a newer one may add keys anywhere.
        let text = edited(DHCPV6_PD, |value| {
            let object = value.as_object_mut().expect("object");
            object.remove("dns_metric");
            object.remove("neighbors");
            object.insert("future-key".into(), serde_json::json!({"nested": [1, 2]}));
            value["ipv6-address"][0]["future"] = serde_json::json!("x");
            value["ipv6-prefix"][0]["excluded"] = serde_json::json!("2001:db8:1200:ff::/64");
        });
        let status = status(&text);
        assert_eq!(status.ipv6_addresses.len(), 2);
        // Only `up` is required: nothing else is, even of what netifd always writes.
        let minimal = status_from(r#"{"up":false}"#).expect("parses");
        assert!(!minimal.up && !minimal.pending && minimal.available);
    }

    fn status_from(text: &str) -> Result<Status, String> {
        parse_status("wan", text).map_err(|e| e.to_string())
    }

    #[test]
    fn wrong_types_and_malformed_json_are_one_line_errors_naming_the_call() {
        let cases = [
            String::new(),
            "not json".into(),
            r#"{"pending":false}"#.into(),
            r#"{"up":"yes"}"#.into(),
            edited(PPPOE_IPV4, |v| v["ipv4-address"][0]["mask"] = "32".into()),
            edited(PPPOE_IPV4, |v| {
                v["ipv4-address"][0]["address"] = "2001:db8::1".into()
            }),
            edited(PPPOE_IPV4, |v| {
                v["ipv4-address"][0]["address"] = "203.0.113.256".into()
            }),
            edited(DHCPV6_PD, |v| v["ipv6-address"][0]["valid"] = 1.5.into()),
            edited(DHCPV6_PD, |v| v["ipv6-address"] = serde_json::json!({})),
            edited(DHCPV6_PD, |v| {
                v["ipv6-prefix"][0]["assigned"]["lan"] = 1.into()
            }),
            format!("{PPPOE_IPV4}x"),
        ];
        for text in cases {
            let error = status_from(&text).unwrap_err();
            assert!(
                error.starts_with(
                    "no usable address: ubus call network.interface.wan status gave malformed \
                     JSON: "
                ),
                "{text}: {error}"
            );
            assert!(!error.contains('\n'), "{error}");
        }
        let error = parse_dump(r#"{"interface":{}}"#).unwrap_err().to_string();
        assert!(
            error.contains("ubus call network.interface dump gave malformed JSON"),
            "{error}"
        );
    }

    #[test]
    fn an_address_of_the_other_family_names_its_list() {
        let cases = [
            (
                edited(PPPOE_IPV4, |v| {
                    v["ipv4-address"][0]["address"] = "2001:db8::1".into()
                }),
                "ipv4-address holds 2001:db8::1, not an IPv4 address",
            ),
            (
                edited(DHCPV6_PD, |v| {
                    v["ipv6-address"][0]["address"] = "203.0.113.5".into()
                }),
                "ipv6-address holds 203.0.113.5, not an IPv6 address",
            ),
            (
                edited(DHCPV6_PD, |v| {
                    v["ipv6-prefix"][0]["address"] = "203.0.113.0".into()
                }),
                "ipv6-prefix holds 203.0.113.0, not an IPv6 address",
            ),
            (
                edited(real::LAN, |v| {
                    v["ipv6-prefix-assignment"][0]["address"] = "10.0.0.0".into()
                }),
                "ipv6-prefix-assignment holds 10.0.0.0, not an IPv6 address",
            ),
        ];
        for (text, wanted) in cases {
            let error = status_from(&text).unwrap_err();
            assert!(
                error.ends_with(&format!(
                    "ubus call network.interface.wan status gave malformed JSON: {wanted}"
                )),
                "{error}"
            );
        }
        let dump = edited(real::DUMP_PD, |v| {
            let interfaces = v["interface"].as_array_mut().expect("interfaces");
            let lan = interfaces
                .iter_mut()
                .find(|i| !i["ipv6-prefix-assignment"][0].is_null())
                .expect("an interface with a share");
            lan["ipv6-prefix-assignment"][0]["address"] = "10.0.0.0".into();
        });
        let error = parse_dump(&dump).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "ubus call network.interface dump gave malformed JSON: ipv6-prefix-assignment \
                 holds 10.0.0.0, not an IPv6 address"
            ),
            "{error}"
        );
    }

    #[test]
    fn quoted_values_in_parse_errors_are_bounded_and_printable() {
        let value = format!("\u{1b}[2J{}", "x".repeat(1000));
        let text = serde_json::json!({ "up": value }).to_string();
        let error = status_from(&text).unwrap_err();
        assert!(!error.contains('\u{1b}'), "{error}");
        assert!(error.len() < 300, "{error}");
        assert!(error.ends_with("..."), "{error}");
    }

    #[test]
    fn impossible_prefix_lengths_are_refused() {
        let cases = [
            edited(PPPOE_IPV4, |v| v["ipv4-address"][0]["mask"] = 33.into()),
            edited(DHCPV6_PD, |v| v["ipv6-address"][0]["mask"] = 129.into()),
            edited(DHCPV6_PD, |v| v["ipv6-prefix"][0]["mask"] = 200.into()),
            edited(DHCPV6_PD, |v| {
                v["ipv6-prefix"][0]["assigned"]["lan"]["mask"] = 129.into()
            }),
        ];
        for text in cases {
            let error = status_from(&text).unwrap_err();
            assert!(error.contains("impossible prefix length"), "{error}");
        }
        let dump = DUMP.replace(
            "\"mask\": 60,\n\t\t\t\t\t\"preferred\"",
            "\"mask\": 255,\"x\"",
        );
        assert_ne!(dump, DUMP);
        let error = parse_dump(&dump).unwrap_err().to_string();
        assert!(error.contains("impossible prefix length 255"), "{error}");
        // A mask out of u8's range is a type error.
        let text = edited(PPPOE_IPV4, |v| v["ipv4-address"][0]["mask"] = (-1).into());
        assert!(status_from(&text).unwrap_err().contains("malformed JSON"));
    }

    #[test]
    fn lifetimes_are_clamped_into_u32() {
        assert_eq!(lifetime(None), None);
        assert_eq!(lifetime(Some(-5)), Some(0));
        assert_eq!(lifetime(Some(0)), Some(0));
        assert_eq!(lifetime(Some(3595)), Some(3595));
        assert_eq!(lifetime(Some(i64::MAX)), Some(u32::MAX));
    }

    #[test]
    fn containment_of_prefixes() {
        let net = |text: &str| text.parse::<IpAddr>().expect("test address");
        assert!(within(
            net("2001:db8:abcd:1200::"),
            64,
            net("2001:db8:abcd:1200::"),
            56
        ));
        assert!(within(
            net("2001:db8:abcd:12ff::"),
            64,
            net("2001:db8:abcd:1200::"),
            56
        ));
        assert!(!within(
            net("2001:db8:abcd:1300::"),
            64,
            net("2001:db8:abcd:1200::"),
            56
        ));
        assert!(!within(
            net("2001:db8:abcd:1200::"),
            48,
            net("2001:db8:abcd:1200::"),
            56
        ));
        assert!(!within(
            net("fd12:3456:789a::"),
            60,
            net("2001:db8:1200::"),
            56
        ));
        assert!(within(net("fd12:3456:789a::"), 60, net("::"), 0));
        assert!(within(net("2001:db8::1"), 128, net("2001:db8::1"), 128));
    }

    // --- candidates ----------------------------------------------------------------------------

    #[test]
    fn pppoe_ipv4_gives_our_address_never_the_peer() {
        let candidates = found("wan", Family::Ipv4, None, PPPOE_IPV4, None).expect("found");
        assert_eq!(
            candidates,
            [Candidate {
                address: ip("203.0.113.45"),
                prefix_len: 32,
                preferred: None,
                valid: None,
                flags: Flags::default(),
                origin: "interface wan".into(),
            }]
        );
    }

    #[test]
    fn dhcp_ipv4_gives_the_leased_address() {
        let candidates = found("wan", Family::Ipv4, None, DHCP_IPV4, None).expect("found");
        assert_eq!(addresses(&candidates), [ip("192.0.2.77")]);
        assert_eq!(candidates[0].prefix_len, 24);
        assert_eq!(candidates[0].valid, None);
    }

    #[test]
    fn dhcpv6_gives_both_addresses_with_lifetimes() {
        let candidates = found("wan6", Family::Ipv6, None, DHCPV6_PD, None).expect("found");
        let expected = [
            ("2001:db8:0:ff00::1a2b", 128, 1795, 3595),
            ("2001:db8:0:ff00:a00:27ff:fe12:3456", 64, 14395, 86395),
        ]
        .map(|(address, prefix_len, preferred, valid)| Candidate {
            address: ip(address),
            prefix_len,
            preferred: Some(preferred),
            valid: Some(valid),
            flags: Flags::default(),
            origin: "interface wan6".into(),
        });
        assert_eq!(candidates, expected);
        // The rules then prefer the longer preferred lifetime.
        let choice = rules::choose(Family::Ipv6, "wan6", candidates, None, true);
        assert_eq!(choice.outcome, Ok(ip("2001:db8:0:ff00:a00:27ff:fe12:3456")));
    }

    #[test]
    fn the_other_family_finds_nothing() {
        assert_eq!(
            found("wan6", Family::Ipv4, None, DHCPV6_PD, None),
            Ok(vec![])
        );
        assert_eq!(
            found("wan", Family::Ipv6, None, PPPOE_IPV4, None),
            Ok(vec![])
        );
    }

    #[test]
    fn pd_only_interface_gives_lans_address_in_the_prefix() {
        let dump = pd_only_dump();
        let candidates = found("wan_6", Family::Ipv6, None, PD_ONLY, Some(&dump)).expect("found");
        assert_eq!(
            candidates,
            [Candidate {
                address: ip("2001:db8:abcd:1200::1"),
                prefix_len: 60,
                preferred: Some(1795),
                valid: Some(3595),
                flags: Flags::default(),
                origin: "lan's share of wan_6's delegated prefix 2001:db8:abcd:1200::/56".into(),
            }]
        );
    }

    #[test]
    fn pd_only_lifetimes_come_from_the_prefix_when_the_share_has_none() {
        let dump = edited(&pd_only_dump(), |value| {
            let share = &mut value["interface"][0]["ipv6-prefix-assignment"][0];
            let share = share.as_object_mut().expect("object");
            share.remove("preferred");
            share.remove("valid");
        });
        let candidates = found("wan_6", Family::Ipv6, None, PD_ONLY, Some(&dump)).expect("found");
        assert_eq!(
            sole(&candidates),
            (ip("2001:db8:abcd:1200::1"), Some(14400), Some(86400))
        );
    }

    #[test]
    fn pd_only_ignores_shares_of_other_prefixes() {
        // The unchanged dump: lan's shares are of 2001:db8:1200::/56 and a ULA, not of
        // wan_6's 2001:db8:abcd:1200::/56.
        let error = found("wan_6", Family::Ipv6, None, PD_ONLY, Some(DUMP)).unwrap_err();
        assert!(
            error.contains(
                "interface 'wan_6' has no IPv6 address of its own, and lan has no address in \
                 its share of the delegated prefix 2001:db8:abcd:1200::/56 yet"
            ),
            "{error}"
        );
        // Nor is a share without the router's own address, or a missing sharer, any better.
        let without_local = edited(&pd_only_dump(), |value| {
            let share = &mut value["interface"][0]["ipv6-prefix-assignment"][0];
            share
                .as_object_mut()
                .expect("object")
                .remove("local-address");
        });
        let error = found("wan_6", Family::Ipv6, None, PD_ONLY, Some(&without_local)).unwrap_err();
        assert!(error.contains("lan has no address"), "{error}");
        let no_lan = r#"{"interface":[{"interface":"wan"}]}"#;
        let error = found("wan_6", Family::Ipv6, None, PD_ONLY, Some(no_lan)).unwrap_err();
        assert!(error.contains("lan has no address"), "{error}");
    }

    #[test]
    fn pd_only_with_an_unassigned_prefix_says_what_to_do() {
        let text = edited(PD_ONLY, |value| {
            value["ipv6-prefix"][0]["assigned"] = serde_json::json!({});
        });
        let error = found("wan_6", Family::Ipv6, None, &text, None).unwrap_err();
        assert!(
            error.contains("2001:db8:abcd:1200::/56 is assigned to no interface"),
            "{error}"
        );
        assert!(error.contains("option ipv6_suffix"), "{error}");
        assert!(error.contains("assign it to lan"), "{error}");
    }

    /// Found by fuzzing (the `ubus` target's crash, minimized): interface names, the keys of
    /// `assigned`, went into candidates' origins and into messages as they were, so a name with
    /// a newline could forge a log line.
    #[test]
    fn interface_names_from_the_reply_cannot_break_a_line() {
        let status = r#"{"up":true,"ipv6-prefix":[{"address":"::","mask":6,"assigned":{"\n":{"address":"::","mask":4}}}]}"#;
        let one_line = |text: &str| !text.contains(char::is_control);
        let error = found("wan", Family::Ipv6, Some(suffix("::1:2:3:4")), status, None)
            .expect_err("no share for lan");
        assert!(one_line(&error), "{error:?}");
        let no_sharer = r#"{"interface":[]}"#;
        let error = found("wan", Family::Ipv6, None, status, Some(no_sharer)).unwrap_err();
        assert!(one_line(&error), "{error:?}");
    }

    #[test]
    fn a_failing_dump_is_reported() {
        let status = status(PD_ONLY);
        let error = extract("wan_6", Family::Ipv6, None, "lan", &status, || {
            Err(Error::Address("dump failed".into()))
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "no usable address: dump failed");
    }

    #[test]
    fn a_lan_side_interface_gives_its_own_address_in_each_share() {
        let lan = edited(DUMP, |value| *value = value["interface"][0].take());
        let candidates = found("lan", Family::Ipv6, None, &lan, None).expect("found");
        assert_eq!(
            addresses(&candidates),
            [ip("2001:db8:1200::1"), ip("fd12:3456:789a::1")]
        );
        assert_eq!(candidates[0].valid, Some(3595));
        assert_eq!(candidates[1].valid, None);
        let choice = rules::choose(Family::Ipv6, "lan", candidates, None, true);
        assert_eq!(choice.outcome, Ok(ip("2001:db8:1200::1")));
    }

    #[test]
    fn negative_valid_means_expired() {
        let text = edited(DHCPV6_PD, |value| {
            value["ipv6-address"][0]["valid"] = (-42).into();
            value["ipv6-address"][0]["preferred"] = 0.into();
            value["ipv6-address"]
                .as_array_mut()
                .expect("array")
                .truncate(1);
        });
        let candidates = found("wan6", Family::Ipv6, None, &text, None).expect("found");
        assert_eq!(
            sole(&candidates),
            (ip("2001:db8:0:ff00::1a2b"), Some(0), Some(0))
        );
        let choice = rules::choose(Family::Ipv6, "wan6", candidates, None, true);
        assert_eq!(
            choice.assessed[0].1,
            rules::Verdict::Rejected(rules::Rejection::Expired)
        );
    }

    #[test]
    fn a_down_interface_is_reported() {
        assert_eq!(
            found("wan", Family::Ipv4, None, DOWN, None),
            Err("no usable address: interface 'wan' is down".into())
        );
        assert_eq!(
            found("wan", Family::Ipv4, None, PENDING, None),
            Err("no usable address: interface 'wan' is down, waiting for an address".into())
        );
        assert_eq!(
            found("wan", Family::Ipv6, Some(suffix("::1")), AUTH_FAILED, None),
            Err("no usable address: interface 'wan' is down (pppoe error AUTH_FAILED)".into())
        );
        let absent = edited(DOWN, |value| value["available"] = false.into());
        assert_eq!(
            found("wan", Family::Ipv4, None, &absent, None),
            Err("no usable address: interface 'wan' is down (its device is not present)".into())
        );
        let odd = r#"{"up":false,"errors":[{"code":"BAD\u001b[2J\ncode"},{"subsystem":"x"}]}"#;
        assert_eq!(
            found("wan", Family::Ipv4, None, odd, None),
            Err("no usable address: interface 'wan' is down (error BAD2Jcode) (x error ?)".into())
        );
    }

    // --- the real netifd -----------------------------------------------------------------------

    #[test]
    fn every_real_reply_parses() {
        for text in real::STATUSES {
            assert!(
                status_from(text).is_ok(),
                "{}",
                status_from(text).unwrap_err()
            );
        }
        for text in real::DUMPS {
            let dump = parse_dump(text).map_err(|e| e.to_string());
            assert!(dump.is_ok(), "{dump:?}");
        }
        // netifd's empty local-address, while guest's device has IPv6 off, is no address.
        let guest = status(real::GUEST_IPV6_OFF);
        assert_eq!(guest.ipv6_assignments.len(), 2);
        assert!(guest
            .ipv6_assignments
            .iter()
            .all(|a| a.local_address.is_none()));
        let lan = status(real::LAN);
        assert_eq!(
            lan.ipv6_assignments[0].local_address.map(|l| l.address),
            Some("2001:db8:1200::1".parse().expect("address"))
        );
        // Half an address is none either, and a wrong type is still malformed.
        for (local, none) in [(r#"{"mask":64}"#, true), (r#"{"address":"::1"}"#, true)] {
            let text = format!(
                r#"{{"up":true,"ipv6-prefix-assignment":[{{"address":"2001:db8::","mask":64,"local-address":{local}}}]}}"#
            );
            let parsed = status(&text);
            assert_eq!(parsed.ipv6_assignments[0].local_address.is_none(), none);
        }
        let text = edited(real::LAN, |v| {
            v["ipv6-prefix-assignment"][0]["local-address"] = serde_json::json!([])
        });
        assert!(status_from(&text).unwrap_err().contains("malformed JSON"));
    }

    #[test]
    fn real_wan6_publishes_its_global_address() {
        let candidates = found("wan6", Family::Ipv6, None, real::WAN6_PD, None).expect("found");
        let choice = rules::choose(Family::Ipv6, "wan6", candidates, None, true);
        assert_eq!(choice.outcome, Ok(ip("2001:db8:0:ff00::1a2b")));
    }

    /// netifd gave guest the /64 at offset 0 and lan the next: the suffix goes to lan's, the
    /// `prefix_interface`, whatever the names' order.
    #[test]
    fn real_suffix_goes_to_the_prefix_interfaces_share() {
        let joined = |lan| {
            found_in(
                lan,
                "wan6",
                Family::Ipv6,
                Some(suffix("::1:2:3:4")),
                real::WAN6_LAN_AND_GUEST,
                None,
            )
        };
        let candidates = joined("lan").expect("found");
        assert_eq!(
            candidates,
            [Candidate {
                address: ip("2001:db8:1200:1:1:2:3:4"),
                prefix_len: 128,
                preferred: Some(1797),
                valid: Some(3597),
                flags: Flags::default(),
                origin: "prefix 2001:db8:1200:1::/64 (lan's share of wan6's delegated prefix \
                         2001:db8:1200::/56) with the suffix"
                    .into(),
            }]
        );
        assert_eq!(
            addresses(&joined("guest").expect("found")),
            [ip("2001:db8:1200:0:1:2:3:4")]
        );
        assert_eq!(
            joined("iot"),
            Err(
                "no usable address: interface 'iot' (option prefix_interface) has no share of \
                 wan6's delegated prefix 2001:db8:1200::/56; the interfaces that have one: \
                 guest, lan; set option prefix_interface to one of them"
                    .into()
            )
        );
        // The single-LAN router as before.
        let candidates = found(
            "wan6",
            Family::Ipv6,
            Some(suffix("::5")),
            real::WAN6_PD,
            None,
        );
        assert_eq!(
            addresses(&candidates.expect("found")),
            [ip("2001:db8:1200::5")]
        );
    }

    #[test]
    fn real_prefix_only_wan6_publishes_the_prefix_interfaces_address() {
        let candidates = found(
            "wan6",
            Family::Ipv6,
            None,
            real::WAN6_PREFIX_ONLY,
            Some(real::DUMP_PREFIX_ONLY),
        )
        .expect("found");
        assert_eq!(addresses(&candidates), [ip("2001:db8:1200::1")]);
        assert_eq!(
            candidates[0].origin,
            "lan's share of wan6's delegated prefix 2001:db8:1200::/56"
        );
        // Two LANs, one with IPv6 off and an empty local-address: lan's address all the same.
        let wan6 = real::dumped(real::DUMP_GUEST_IPV6_OFF, "wan6");
        let ask = |lan| {
            found_in(
                lan,
                "wan6",
                Family::Ipv6,
                None,
                &wan6,
                Some(real::DUMP_GUEST_IPV6_OFF),
            )
        };
        assert_eq!(
            addresses(&ask("lan").expect("found")),
            [ip("2001:db8:1200:1::1")]
        );
        assert_eq!(
            ask("guest"),
            Err(
                "no usable address: interface 'wan6' has no IPv6 address of its own, and guest \
                 has no address in its share of the delegated prefix 2001:db8:1200::/56 yet (is \
                 IPv6 off on its device?)"
                    .into()
            )
        );
        let error = ask("iot").unwrap_err();
        assert!(
            error.contains(
                "interface 'iot' (option prefix_interface) has no share of wan6's delegated \
                 prefix 2001:db8:1200::/56; the interfaces that have one: guest, lan"
            ),
            "{error}"
        );
    }

    #[test]
    fn real_lan_side_interfaces() {
        let candidates = found("lan", Family::Ipv6, None, real::LAN, None).expect("found");
        let choice = rules::choose(Family::Ipv6, "lan", candidates, None, true);
        assert_eq!(choice.outcome, Ok(ip("2001:db8:1200::1")));
        // guest's device has IPv6 off: no address, said so; its prefix still takes a suffix.
        assert_eq!(
            found("guest", Family::Ipv6, None, real::GUEST_IPV6_OFF, None),
            Err(
                "no usable address: interface 'guest' has no IPv6 address of its own, not \
                 even in its shares 2001:db8:1200::/64, fd12:3456:789a::/64 of a delegated \
                 prefix (is IPv6 off on its device?)"
                    .into()
            )
        );
        let joined = found(
            "guest",
            Family::Ipv6,
            Some(suffix("::1:2:3:4")),
            real::GUEST_IPV6_OFF,
            None,
        );
        assert_eq!(
            addresses(&joined.expect("found")),
            [
                ip("2001:db8:1200:0:1:2:3:4"),
                ip("fd12:3456:789a:0:1:2:3:4")
            ]
        );
        let ipv4 = found("guest", Family::Ipv4, None, real::GUEST_IPV6_OFF, None);
        assert_eq!(addresses(&ipv4.expect("found")), [ip("192.168.2.1")]);
    }

    /// Two delegated prefixes with the same lifetimes, each with a share for lan: a tie, told
    /// as one, won by the one netifd lists first.
    #[test]
    fn real_tie_between_two_prefixes_is_told_as_a_tie() {
        let text = edited(real::WAN6_LAN_AND_GUEST, |value| {
            let mut second = value["ipv6-prefix"][0].clone();
            second["address"] = "2001:db8:3400::".into();
            second["assigned"] = serde_json::json!({
                "lan": {"address": "2001:db8:3400::", "mask": 64}
            });
            value["ipv6-prefix"]
                .as_array_mut()
                .expect("array")
                .push(second);
        });
        let candidates =
            found("wan6", Family::Ipv6, Some(suffix("::1:2:3:4")), &text, None).expect("found");
        let choice = rules::choose(Family::Ipv6, "interface 'wan6'", candidates, None, true);
        assert_eq!(choice.outcome, Ok(ip("2001:db8:1200:1:1:2:3:4")));
        let reasons: Vec<String> = choice.assessed.iter().map(|(_, v)| v.reason()).collect();
        assert_eq!(
            reasons,
            [
                "a tie of 2 addresses with the same lifetimes (preferred 1797 s, valid 3597 s): \
                 the first listed wins",
                "tied with another fit address with the same lifetimes, which is listed first"
            ]
        );
    }

    // --- the suffix ----------------------------------------------------------------------------

    #[test]
    fn suffix_joins_lans_share_of_the_delegated_prefix() {
        let candidates = found(
            "wan6",
            Family::Ipv6,
            Some(suffix("::a00:27ff:fe00:1")),
            DHCPV6_PD,
            None,
        )
        .expect("found");
        assert_eq!(
            candidates,
            [Candidate {
                address: ip("2001:db8:1200:0:a00:27ff:fe00:1"),
                prefix_len: 128,
                preferred: Some(1795),
                valid: Some(3595),
                flags: Flags::default(),
                origin: "prefix 2001:db8:1200::/60 (lan's share of wan6's delegated prefix \
                         2001:db8:1200::/56) with the suffix"
                    .into(),
            }]
        );
        let candidates =
            found("wan_6", Family::Ipv6, Some(suffix("::5")), PD_ONLY, None).expect("found");
        assert_eq!(
            sole(&candidates),
            (ip("2001:db8:abcd:1200::5"), Some(14400), Some(86400))
        );
    }

    #[test]
    fn suffix_joins_prefix_interfaces_share_and_unshared_prefixes() {
        let text = edited(DHCPV6_PD, |value| {
            value["ipv6-prefix"][0]["assigned"]["guest"] =
                serde_json::json!({"address": "2001:db8:1210::", "mask": 64});
            let mut unshared = value["ipv6-prefix"][0].clone();
            unshared["address"] = "2001:db8:5500::".into();
            unshared["assigned"] = serde_json::json!({});
            unshared["preferred"] = 0.into();
            value["ipv6-prefix"]
                .as_array_mut()
                .expect("array")
                .push(unshared);
        });
        let joined = |lan| {
            found_in(lan, "wan6", Family::Ipv6, Some(suffix("::5")), &text, None).expect("found")
        };
        let candidates = joined("lan");
        assert_eq!(
            addresses(&candidates),
            [ip("2001:db8:1200::5"), ip("2001:db8:5500::5")]
        );
        assert_eq!(
            candidates[1].origin,
            "prefix 2001:db8:5500::/56 (wan6's delegated prefix, shared with no interface) with \
             the suffix"
        );
        assert_eq!(candidates[1].preferred, Some(0));
        assert_eq!(
            addresses(&joined("guest")),
            [ip("2001:db8:1210::5"), ip("2001:db8:5500::5")]
        );
    }

    #[test]
    fn suffix_joins_the_whole_prefix_when_nothing_got_a_share() {
        let text = edited(PD_ONLY, |value| {
            value["ipv6-prefix"][0]["assigned"] = serde_json::json!({});
        });
        let candidates = found(
            "wan_6",
            Family::Ipv6,
            Some(suffix("::1:2:3:4")),
            &text,
            None,
        )
        .expect("found");
        assert_eq!(addresses(&candidates), [ip("2001:db8:abcd:1200:1:2:3:4")]);
        assert_eq!(
            candidates[0].origin,
            "prefix 2001:db8:abcd:1200::/56 (wan_6's delegated prefix, shared with no \
             interface) with the suffix"
        );
    }

    #[test]
    fn suffix_on_a_lan_side_interface_joins_its_shares() {
        let lan = edited(DUMP, |value| *value = value["interface"][0].take());
        let candidates =
            found("lan", Family::Ipv6, Some(suffix("::1:2:3:4")), &lan, None).expect("found");
        assert_eq!(
            addresses(&candidates),
            [
                ip("2001:db8:1200:0:1:2:3:4"),
                ip("fd12:3456:789a:0:1:2:3:4")
            ]
        );
        assert_eq!(
            candidates[0].origin,
            "prefix 2001:db8:1200::/60 (lan's share of a delegated prefix) with the suffix"
        );
        let choice = rules::choose(Family::Ipv6, "lan", candidates, None, true);
        assert_eq!(choice.outcome, Ok(ip("2001:db8:1200:0:1:2:3:4")));
    }

    #[test]
    fn suffix_without_a_usable_prefix_is_an_error() {
        // wan6 with addresses but no delegated prefix.
        let text = edited(DHCPV6_PD, |value| {
            value["ipv6-prefix"] = serde_json::json!([])
        });
        let error = found("wan6", Family::Ipv6, Some(suffix("::5")), &text, None).unwrap_err();
        assert!(
            error.contains("interface 'wan6' has no delegated IPv6 prefix"),
            "{error}"
        );
        let text = edited(DHCPV6_PD, |value| {
            value["ipv6-prefix"][0]["assigned"]["lan"]["mask"] = 80.into();
        });
        let error = found("wan6", Family::Ipv6, Some(suffix("::5")), &text, None).unwrap_err();
        assert!(error.contains("longer than /64"), "{error}");
    }

    #[test]
    fn the_device_of_an_interface() {
        assert_eq!(
            device("wan", &status(PPPOE_IPV4)).ok(),
            Some("pppoe-wan".into())
        );
        assert_eq!(
            device("wan", &status(DOWN)).unwrap_err().to_string(),
            "no usable address: interface 'wan' is down"
        );
        let text = edited(DHCP_IPV4, |value| {
            value.as_object_mut().expect("object").remove("l3_device");
        });
        assert!(device("wan", &status(&text))
            .unwrap_err()
            .to_string()
            .contains("has no layer-3 device"));
    }
}
