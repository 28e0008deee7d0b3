//! Which of the addresses a source found may be published, and which one is: the publishing
//! rules, pure and free of I/O so every rule is unit tested.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::Family;

/// One address a source found, with what the source knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub address: IpAddr,
    pub prefix_len: u8,
    /// Seconds the address stays preferred; `None` when the source gives no lifetime, which
    /// means forever (static addresses, IPv4 leases as ubus shows them, web replies).
    pub preferred: Option<u32>,
    /// Seconds until the address is removed; `None` as for `preferred`.
    pub valid: Option<u32>,
    pub flags: Flags,
    /// Where the address was found, for `check`: "wan6 ipv6-address", "device eth0", ...
    pub origin: String,
}

/// The kernel's states of an IPv6 address that make it unfit to publish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// Duplicate address detection is still running: the address may yet be taken away.
    pub tentative: bool,
    /// Another host on the link has the address.
    pub dadfailed: bool,
    /// Marked deprecated by the kernel even if a lifetime says otherwise.
    pub deprecated: bool,
    /// A privacy address: it changes every few hours by design.
    pub temporary: bool,
}

impl Candidate {
    /// An address with nothing known about it but where it came from.
    pub fn bare(address: IpAddr, origin: impl Into<String>) -> Candidate {
        let prefix_len = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        Candidate {
            address,
            prefix_len,
            preferred: None,
            valid: None,
            flags: Flags::default(),
            origin: origin.into(),
        }
    }
}

/// Why an address may never be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    WrongFamily(Family),
    Unspecified,
    Loopback,
    LinkLocal,
    Multicast,
    Broadcast,
    /// RFC 1918.
    Private,
    /// 100.64.0.0/10, the ISP's side of carrier-grade NAT.
    CarrierGradeNat,
    /// fc00::/7.
    UniqueLocal,
    /// fec0::/10, long deprecated but still seen on old equipment.
    SiteLocal,
    /// ::ffff:0:0/96, an IPv4 address dressed as IPv6.
    Ipv4Mapped,
    Expired,
    Deprecated,
    Tentative,
    DadFailed,
    Temporary,
}

impl Rejection {
    /// Addresses that mean "behind someone else's NAT": the fix is the web source.
    fn is_behind_nat(self) -> bool {
        matches!(self, Rejection::Private | Rejection::CarrierGradeNat)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = match self {
            Rejection::WrongFamily(family) => return write!(f, "not an {} address", family.name()),
            Rejection::Unspecified => "unspecified address",
            Rejection::Loopback => "loopback address",
            Rejection::LinkLocal => "link-local address",
            Rejection::Multicast => "multicast address",
            Rejection::Broadcast => "broadcast address",
            Rejection::Private => "private address (RFC 1918)",
            Rejection::CarrierGradeNat => "carrier-grade NAT address (100.64.0.0/10)",
            Rejection::UniqueLocal => "unique local address (fc00::/7)",
            Rejection::SiteLocal => "site-local address (fec0::/10)",
            Rejection::Ipv4Mapped => "IPv4-mapped address",
            Rejection::Expired => "expired (valid lifetime 0)",
            Rejection::Deprecated => "deprecated (preferred lifetime 0)",
            Rejection::Tentative => "tentative (duplicate address detection not finished)",
            Rejection::DadFailed => "duplicate address detection failed",
            Rejection::Temporary => "temporary (privacy) address, it changes by design",
        };
        f.write_str(reason)
    }
}

/// What the rules made of one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The address to publish, and why this one.
    Chosen(String),
    /// Fit to publish, but another was preferred.
    PassedOver(String),
    Rejected(Rejection),
}

impl Verdict {
    /// One word for scripts: chosen, passed over or rejected.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Chosen(_) => "chosen",
            Verdict::PassedOver(_) => "passed-over",
            Verdict::Rejected(_) => "rejected",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Verdict::Chosen(why) | Verdict::PassedOver(why) => why.clone(),
            Verdict::Rejected(rejection) => rejection.to_string(),
        }
    }
}

/// Every candidate with its verdict, in the order the source gave them, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub assessed: Vec<(Candidate, Verdict)>,
    pub outcome: Result<IpAddr, String>,
}

/// Applies the publishing rules to what a source found at `place` (an interface, a device, a
/// URL). `published` is the address the record holds, kept while it stays fit so that two
/// equally good addresses do not take turns. `web_would_help` is false when the source already
/// is `web`, so the advice to use it is not given.
pub fn choose(
    family: Family,
    place: &str,
    candidates: Vec<Candidate>,
    published: Option<IpAddr>,
    web_would_help: bool,
) -> Choice {
    let rejections: Vec<Option<Rejection>> = candidates
        .iter()
        .map(|candidate| rejection(family, candidate))
        .collect();
    let fit = || {
        candidates
            .iter()
            .zip(&rejections)
            .filter(|(_, rejection)| rejection.is_none())
            .map(|(candidate, _)| candidate)
    };
    let kept = published.and_then(|published| fit().find(|c| c.address == published));
    // The first of equals wins, so the order the source lists them decides a full tie: stable,
    // as the kernel lists an interface's primary address first and netifd keeps an interface's
    // addresses and prefixes sorted by their values (never by interface name).
    let winner = kept
        .or_else(|| fit().reduce(|best, next| if rank(next) > rank(best) { next } else { best }));
    let winner_address = winner.map(|winner| winner.address);
    let outcome = winner_address
        .ok_or_else(|| nothing_fit(family, place, &candidates, &rejections, web_would_help));
    // Rivals: the other fit addresses (a second copy of the winner is no rival).
    let rivals = || fit().filter(|c| Some(c.address) != winner_address);
    let why = match (winner, kept) {
        (_, Some(_)) => "already published and still fit".to_string(),
        (Some(winner), None) => why_chosen(winner, rivals()),
        (None, None) => String::new(),
    };
    let mut chosen_once = false;
    let assessed = candidates
        .iter()
        .zip(rejections)
        .map(|(candidate, rejection)| {
            let verdict = match (rejection, winner) {
                (Some(rejection), _) => Verdict::Rejected(rejection),
                // A source may list one address twice (two interfaces, two prefixes): only
                // the first copy is the chosen one.
                (None, Some(winner)) if candidate.address == winner.address => {
                    if chosen_once {
                        Verdict::PassedOver("listed twice".into())
                    } else {
                        chosen_once = true;
                        Verdict::Chosen(why.clone())
                    }
                }
                (None, Some(winner)) => {
                    Verdict::PassedOver(why_passed_over(candidate, winner, kept.is_some()).into())
                }
                (None, None) => unreachable!("a fit candidate makes a winner"),
            };
            (candidate.clone(), verdict)
        })
        .collect();
    Choice { assessed, outcome }
}

/// How good a fit address is: the longer preferred lifetime first, then, between equal
/// preferred lifetimes, the longer valid lifetime (the address that stays longer).
fn rank(candidate: &Candidate) -> (u64, u64) {
    (
        lifetime_rank(candidate.preferred),
        lifetime_rank(candidate.valid),
    )
}

/// Why `winner`, picked by rank, beats `rivals`: told as a tie when it is one.
fn why_chosen<'a>(winner: &Candidate, rivals: impl Iterator<Item = &'a Candidate>) -> String {
    let rivals: Vec<&Candidate> = rivals.collect();
    let Some(runner_up) = rivals.iter().copied().max_by_key(|c| rank(c)) else {
        return "the only address fit to publish".into();
    };
    let preferred = describe_lifetime(winner.preferred);
    let valid = describe_lifetime(winner.valid);
    if rank(runner_up).0 < rank(winner).0 {
        format!("the longest preferred lifetime ({preferred})")
    } else if rank(runner_up) < rank(winner) {
        format!(
            "the longest valid lifetime ({valid}) among the addresses with the longest \
             preferred lifetime ({preferred})"
        )
    } else {
        let tied = 1 + rivals.iter().filter(|c| rank(c) == rank(winner)).count();
        format!(
            "a tie of {tied} addresses with the same lifetimes (preferred {preferred}, valid \
             {valid}): the first listed wins"
        )
    }
}

fn why_passed_over(candidate: &Candidate, winner: &Candidate, kept: bool) -> &'static str {
    let (preferred, valid) = rank(candidate);
    let (winner_preferred, winner_valid) = rank(winner);
    if kept {
        "another fit address is already published"
    } else if preferred < winner_preferred {
        "another fit address has a longer preferred lifetime"
    } else if valid < winner_valid {
        "another fit address has the same preferred lifetime and a longer valid lifetime"
    } else {
        "tied with another fit address with the same lifetimes, which is listed first"
    }
}

/// No lifetime means forever, which outranks any number.
fn lifetime_rank(preferred: Option<u32>) -> u64 {
    preferred.map_or(u64::MAX, u64::from)
}

fn describe_lifetime(preferred: Option<u32>) -> String {
    preferred.map_or("forever".into(), |seconds| format!("{seconds} s"))
}

/// The one-line explanation when no candidate may be published.
fn nothing_fit(
    family: Family,
    place: &str,
    candidates: &[Candidate],
    rejections: &[Option<Rejection>],
    web_would_help: bool,
) -> String {
    let family = family.name();
    if candidates.is_empty() {
        return format!("{place} has no {family} address");
    }
    let all_behind_nat = rejections
        .iter()
        .all(|rejection| rejection.is_some_and(Rejection::is_behind_nat));
    let listed = candidates
        .iter()
        .zip(rejections)
        .map(|(candidate, rejection)| match rejection {
            Some(rejection) => format!("{}: {rejection}", candidate.address),
            None => candidate.address.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if all_behind_nat && web_would_help {
        format!(
            "{place} has only private or carrier-grade NAT {family} addresses ({listed}): \
             this router is behind another NAT and the internet sees another address; \
             set option source 'web' to publish that one"
        )
    } else {
        format!("{place} has no {family} address fit to publish ({listed})")
    }
}

/// The first rule an address breaks, or `None` when it may be published.
pub fn rejection(family: Family, candidate: &Candidate) -> Option<Rejection> {
    if !family.matches(&candidate.address) {
        return Some(Rejection::WrongFamily(family));
    }
    let by_range = match candidate.address {
        IpAddr::V4(address) => range_rejection(&address, &IPV4_RANGES),
        IpAddr::V6(address) => range_rejection(&address, &IPV6_RANGES),
    };
    by_range.or_else(|| state_rejection(candidate))
}

/// A test for a range of addresses, and why addresses in it are never published.
type Range<A> = (fn(&A) -> bool, Rejection);

/// The ranges that are never published, first match wins, so the order names the most
/// specific reason (unspecified before private, say).
const IPV4_RANGES: [Range<Ipv4Addr>; 7] = [
    (Ipv4Addr::is_unspecified, Rejection::Unspecified),
    (Ipv4Addr::is_loopback, Rejection::Loopback),
    (Ipv4Addr::is_link_local, Rejection::LinkLocal),
    (Ipv4Addr::is_multicast, Rejection::Multicast),
    (Ipv4Addr::is_broadcast, Rejection::Broadcast),
    (Ipv4Addr::is_private, Rejection::Private),
    (is_carrier_grade_nat, Rejection::CarrierGradeNat),
];

const IPV6_RANGES: [Range<Ipv6Addr>; 7] = [
    (Ipv6Addr::is_unspecified, Rejection::Unspecified),
    (Ipv6Addr::is_loopback, Rejection::Loopback),
    (Ipv6Addr::is_unicast_link_local, Rejection::LinkLocal),
    (Ipv6Addr::is_multicast, Rejection::Multicast),
    (Ipv6Addr::is_unique_local, Rejection::UniqueLocal),
    (is_site_local, Rejection::SiteLocal),
    (is_ipv4_mapped, Rejection::Ipv4Mapped),
];

fn range_rejection<A>(address: &A, ranges: &[Range<A>]) -> Option<Rejection> {
    ranges
        .iter()
        .find(|(contains, _)| contains(address))
        .map(|(_, rejection)| *rejection)
}

/// 100.64.0.0/10 (RFC 6598).
fn is_carrier_grade_nat(address: &Ipv4Addr) -> bool {
    let [first, second, ..] = address.octets();
    first == 100 && (second & 0b1100_0000) == 64
}

/// fec0::/10 (RFC 3879).
fn is_site_local(address: &Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfec0
}

fn is_ipv4_mapped(address: &Ipv6Addr) -> bool {
    address.to_ipv4_mapped().is_some()
}

fn state_rejection(candidate: &Candidate) -> Option<Rejection> {
    let flags = candidate.flags;
    if flags.dadfailed {
        Some(Rejection::DadFailed)
    } else if flags.tentative {
        Some(Rejection::Tentative)
    } else if candidate.valid == Some(0) {
        Some(Rejection::Expired)
    } else if flags.deprecated || candidate.preferred == Some(0) {
        Some(Rejection::Deprecated)
    } else if flags.temporary {
        Some(Rejection::Temporary)
    } else {
        None
    }
}

/// The address made of `prefix`'s first `prefix_len` bits and the interface identifier
/// `suffix` (whose upper 64 bits are zero, as the config guarantees). `None` when the prefix is
/// longer than 64 bits and would cut into the identifier.
pub fn with_suffix(prefix: Ipv6Addr, prefix_len: u8, suffix: Ipv6Addr) -> Option<Ipv6Addr> {
    if prefix_len > 64 {
        return None;
    }
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix_len))
        .unwrap_or(0);
    Some(Ipv6Addr::from(
        (u128::from(prefix) & mask) | (u128::from(suffix) & !mask),
    ))
}

/// The candidates for a host behind the router: each prefix the source found (the network part
/// of `prefixes`' addresses) joined with `suffix`. The router's own address states (temporary,
/// tentative) say nothing about the host's, so only the prefix's lifetimes carry over.
pub fn suffixed(prefixes: &[Candidate], suffix: Ipv6Addr) -> Vec<Candidate> {
    let mut joined: Vec<Candidate> = Vec::new();
    for prefix in prefixes {
        let IpAddr::V6(address) = prefix.address else {
            continue;
        };
        let Some(host) = with_suffix(address, prefix.prefix_len, suffix) else {
            continue;
        };
        // Two addresses of the router in one prefix give the host one address.
        if joined.iter().any(|candidate| candidate.address == host) {
            continue;
        }
        let network = with_suffix(address, prefix.prefix_len, Ipv6Addr::UNSPECIFIED)
            .expect("the prefix length was checked above");
        joined.push(Candidate {
            address: IpAddr::V6(host),
            prefix_len: 128,
            preferred: prefix.preferred,
            valid: prefix.valid,
            flags: Flags {
                deprecated: prefix.flags.deprecated,
                ..Flags::default()
            },
            origin: format!(
                "prefix {network}/{} ({}) with the suffix",
                prefix.prefix_len, prefix.origin
            ),
        });
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(address: &str) -> Candidate {
        Candidate::bare(address.parse().unwrap(), "test")
    }

    fn with_lifetimes(address: &str, preferred: u32, valid: u32) -> Candidate {
        Candidate {
            preferred: Some(preferred),
            valid: Some(valid),
            ..candidate(address)
        }
    }

    fn verdict_of(family: Family, address: &str) -> Option<Rejection> {
        rejection(family, &candidate(address))
    }

    fn pick(family: Family, candidates: Vec<Candidate>, published: Option<&str>) -> Choice {
        choose(
            family,
            "interface 'wan'",
            candidates,
            published.map(|p| p.parse().unwrap()),
            true,
        )
    }

    fn chosen(choice: &Choice) -> String {
        choice.outcome.clone().unwrap().to_string()
    }

    #[test]
    fn ipv4_ranges_that_are_never_published() {
        let cases = [
            ("0.0.0.0", Rejection::Unspecified),
            ("127.0.0.1", Rejection::Loopback),
            ("169.254.1.1", Rejection::LinkLocal),
            ("224.0.0.251", Rejection::Multicast),
            ("255.255.255.255", Rejection::Broadcast),
            ("10.1.2.3", Rejection::Private),
            ("172.16.0.1", Rejection::Private),
            ("172.31.255.254", Rejection::Private),
            ("192.168.1.1", Rejection::Private),
            ("100.64.0.1", Rejection::CarrierGradeNat),
            ("100.127.255.254", Rejection::CarrierGradeNat),
        ];
        for (address, expected) in cases {
            assert_eq!(
                verdict_of(Family::Ipv4, address),
                Some(expected),
                "{address}"
            );
        }
    }

    #[test]
    fn ipv4_neighbours_of_the_forbidden_ranges_are_public() {
        for address in [
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "203.0.113.7",
            "11.0.0.1",
        ] {
            assert_eq!(verdict_of(Family::Ipv4, address), None, "{address}");
        }
    }

    #[test]
    fn ipv6_ranges_that_are_never_published() {
        let cases = [
            ("::", Rejection::Unspecified),
            ("::1", Rejection::Loopback),
            ("fe80::1", Rejection::LinkLocal),
            ("febf::1", Rejection::LinkLocal),
            ("ff02::1", Rejection::Multicast),
            ("fc00::1", Rejection::UniqueLocal),
            ("fd12:3456:789a::1", Rejection::UniqueLocal),
            ("fec0::1", Rejection::SiteLocal),
            ("::ffff:203.0.113.7", Rejection::Ipv4Mapped),
        ];
        for (address, expected) in cases {
            assert_eq!(
                verdict_of(Family::Ipv6, address),
                Some(expected),
                "{address}"
            );
        }
        assert_eq!(verdict_of(Family::Ipv6, "2001:db8::1"), None);
        assert_eq!(verdict_of(Family::Ipv6, "2a01:cb00::1"), None);
    }

    #[test]
    fn the_wrong_family_is_rejected() {
        assert_eq!(
            verdict_of(Family::Ipv6, "203.0.113.7"),
            Some(Rejection::WrongFamily(Family::Ipv6))
        );
        assert_eq!(
            verdict_of(Family::Ipv4, "2001:db8::1"),
            Some(Rejection::WrongFamily(Family::Ipv4))
        );
    }

    #[test]
    fn address_states_that_are_never_published() {
        let flagged = |flags: Flags| Candidate {
            flags,
            ..candidate("2001:db8::1")
        };
        let cases = [
            (
                flagged(Flags {
                    tentative: true,
                    ..Flags::default()
                }),
                Rejection::Tentative,
            ),
            (
                flagged(Flags {
                    dadfailed: true,
                    tentative: true,
                    ..Flags::default()
                }),
                Rejection::DadFailed,
            ),
            (
                flagged(Flags {
                    deprecated: true,
                    ..Flags::default()
                }),
                Rejection::Deprecated,
            ),
            (
                flagged(Flags {
                    temporary: true,
                    ..Flags::default()
                }),
                Rejection::Temporary,
            ),
            (
                with_lifetimes("2001:db8::1", 0, 3600),
                Rejection::Deprecated,
            ),
            (with_lifetimes("2001:db8::1", 0, 0), Rejection::Expired),
        ];
        for (candidate, expected) in cases {
            assert_eq!(
                rejection(Family::Ipv6, &candidate),
                Some(expected),
                "{candidate:?}"
            );
        }
    }

    #[test]
    fn the_range_is_named_before_the_state() {
        let ula_tentative = Candidate {
            flags: Flags {
                tentative: true,
                ..Flags::default()
            },
            ..candidate("fd00::1")
        };
        assert_eq!(
            rejection(Family::Ipv6, &ula_tentative),
            Some(Rejection::UniqueLocal)
        );
    }

    #[test]
    fn the_longest_preferred_lifetime_wins() {
        let choice = pick(
            Family::Ipv6,
            vec![
                with_lifetimes("2001:db8:0:ff00::1a2b", 1795, 3595),
                with_lifetimes("2001:db8:0:ff00:a00:27ff:fe12:3456", 14395, 86395),
            ],
            None,
        );
        assert_eq!(chosen(&choice), "2001:db8:0:ff00:a00:27ff:fe12:3456");
        assert_eq!(
            choice.assessed[1].1,
            Verdict::Chosen("the longest preferred lifetime (14395 s)".into())
        );
        assert_eq!(
            choice.assessed[0].1,
            Verdict::PassedOver("another fit address has a longer preferred lifetime".into())
        );
    }

    #[test]
    fn no_lifetime_means_forever_and_ties_go_to_the_first() {
        let choice = pick(
            Family::Ipv6,
            vec![
                with_lifetimes("2001:db8::1", 86400, 86400),
                candidate("2001:db8::2"),
                candidate("2001:db8::3"),
            ],
            None,
        );
        assert_eq!(chosen(&choice), "2001:db8::2");
        let choice = pick(
            Family::Ipv4,
            vec![candidate("203.0.113.7"), candidate("198.51.100.23")],
            None,
        );
        assert_eq!(chosen(&choice), "203.0.113.7");
    }

    /// Each candidate's verdict and reason, in order.
    fn verdicts(choice: &Choice) -> Vec<(&'static str, String)> {
        choice
            .assessed
            .iter()
            .map(|(_, verdict)| (verdict.name(), verdict.reason()))
            .collect()
    }

    /// The tie netifd gave when two shares of one delegated prefix had the same lifetimes:
    /// told as a tie, not as a longer lifetime.
    #[test]
    fn a_tie_is_told_as_a_tie_and_goes_to_the_first_listed() {
        let choice = pick(
            Family::Ipv6,
            vec![
                with_lifetimes("2001:db8:1200::1", 1792, 3592),
                with_lifetimes("2001:db8:1200:1::1", 1792, 3592),
                with_lifetimes("2001:db8:1200:2::1", 600, 3592),
            ],
            None,
        );
        assert_eq!(chosen(&choice), "2001:db8:1200::1");
        assert_eq!(
            verdicts(&choice),
            [
                (
                    "chosen",
                    "a tie of 2 addresses with the same lifetimes (preferred 1792 s, valid \
                     3592 s): the first listed wins"
                        .into()
                ),
                (
                    "passed-over",
                    "tied with another fit address with the same lifetimes, which is listed first"
                        .into()
                ),
                (
                    "passed-over",
                    "another fit address has a longer preferred lifetime".into()
                ),
            ]
        );
    }

    #[test]
    fn equal_preferred_lifetimes_go_to_the_longer_valid_lifetime() {
        let candidates = vec![
            with_lifetimes("2001:db8::1", 1800, 3600),
            with_lifetimes("2001:db8::2", 1800, 7200),
            candidate("203.0.113.7"),
        ];
        let choice = pick(Family::Ipv6, candidates.clone(), None);
        assert_eq!(chosen(&choice), "2001:db8::2");
        assert_eq!(
            verdicts(&choice)[..2],
            [
                (
                    "passed-over",
                    "another fit address has the same preferred lifetime and a longer valid \
                     lifetime"
                        .into()
                ),
                (
                    "chosen",
                    "the longest valid lifetime (7200 s) among the addresses with the longest \
                     preferred lifetime (1800 s)"
                        .into()
                ),
            ]
        );
        // Whatever the order they are listed in.
        let reversed = candidates.into_iter().rev().collect();
        assert_eq!(chosen(&pick(Family::Ipv6, reversed, None)), "2001:db8::2");
    }

    #[test]
    fn the_published_address_is_kept_while_it_stays_fit() {
        let candidates = vec![
            with_lifetimes("2001:db8::1", 86400, 86400),
            with_lifetimes("2001:db8::2", 3600, 7200),
        ];
        let choice = pick(Family::Ipv6, candidates.clone(), Some("2001:db8::2"));
        assert_eq!(chosen(&choice), "2001:db8::2");
        assert_eq!(
            choice.assessed[1].1,
            Verdict::Chosen("already published and still fit".into())
        );
        assert_eq!(
            choice.assessed[0].1,
            Verdict::PassedOver("another fit address is already published".into())
        );

        let mut deprecated = candidates;
        deprecated[1].preferred = Some(0);
        let choice = pick(Family::Ipv6, deprecated, Some("2001:db8::2"));
        assert_eq!(chosen(&choice), "2001:db8::1");
    }

    #[test]
    fn a_published_address_that_is_gone_is_not_kept() {
        let choice = pick(
            Family::Ipv4,
            vec![candidate("203.0.113.7")],
            Some("198.51.100.23"),
        );
        assert_eq!(chosen(&choice), "203.0.113.7");
        assert_eq!(
            choice.assessed[0].1,
            Verdict::Chosen("the only address fit to publish".into())
        );
    }

    #[test]
    fn an_address_listed_twice_is_chosen_once() {
        let choice = pick(
            Family::Ipv4,
            vec![candidate("203.0.113.7"), candidate("203.0.113.7")],
            None,
        );
        assert_eq!(choice.assessed[0].1.name(), "chosen");
        assert_eq!(
            choice.assessed[1].1,
            Verdict::PassedOver("listed twice".into())
        );
    }

    #[test]
    fn only_private_addresses_name_the_web_source() {
        let choice = pick(
            Family::Ipv4,
            vec![candidate("192.168.1.2"), candidate("100.64.3.4")],
            None,
        );
        let message = choice.outcome.unwrap_err();
        assert!(
            message.starts_with("interface 'wan' has only private"),
            "{message}"
        );
        assert!(
            message.contains("192.168.1.2: private address (RFC 1918)"),
            "{message}"
        );
        assert!(
            message.contains("100.64.3.4: carrier-grade NAT"),
            "{message}"
        );
        assert!(message.contains("source 'web'"), "{message}");
        assert_eq!(choice.assessed[0].1, Verdict::Rejected(Rejection::Private));
    }

    #[test]
    fn the_web_source_is_not_advised_to_itself_nor_for_other_rejections() {
        let choice = choose(
            Family::Ipv4,
            "https://example.net/ip",
            vec![candidate("10.0.0.1")],
            None,
            false,
        );
        let message = choice.outcome.unwrap_err();
        assert!(!message.contains("web"), "{message}");
        let choice = pick(
            Family::Ipv4,
            vec![candidate("10.0.0.1"), candidate("127.0.0.1")],
            None,
        );
        let message = choice.outcome.unwrap_err();
        assert_eq!(
            message,
            "interface 'wan' has no ipv4 address fit to publish \
             (10.0.0.1: private address (RFC 1918); 127.0.0.1: loopback address)"
        );
    }

    #[test]
    fn nothing_found_says_so() {
        let choice = pick(Family::Ipv6, Vec::new(), Some("2001:db8::1"));
        assert_eq!(
            choice.outcome,
            Err("interface 'wan' has no ipv6 address".into())
        );
        assert!(choice.assessed.is_empty());
    }

    #[test]
    fn a_suffix_replaces_the_interface_identifier() {
        let suffix: Ipv6Addr = "::1:2:3:4".parse().unwrap();
        let join = |prefix: &str, length| {
            with_suffix(prefix.parse().unwrap(), length, suffix).map(|a| a.to_string())
        };
        assert_eq!(
            join("2001:db8:1200::", 56).as_deref(),
            Some("2001:db8:1200:0:1:2:3:4")
        );
        assert_eq!(
            join("2001:db8:1200:10::1", 60).as_deref(),
            Some("2001:db8:1200:10:1:2:3:4")
        );
        assert_eq!(
            join("2001:db8:0:ff00:a00:27ff:fe12:3456", 64).as_deref(),
            Some("2001:db8:0:ff00:1:2:3:4")
        );
        // Bits of the prefix address beyond its length are not ours to keep.
        assert_eq!(
            join("2001:db8:12ff::", 40).as_deref(),
            Some("2001:db8:1200:0:1:2:3:4")
        );
        assert_eq!(join("2001:db8::1a2b", 128), None);
        assert_eq!(join("2001:db8::", 65), None);
        assert_eq!(join("2001:db8::", 0).as_deref(), Some("::1:2:3:4"));
    }

    #[test]
    fn suffixed_candidates_keep_the_prefix_lifetimes_but_not_the_router_states() {
        let suffix: Ipv6Addr = "::1:2:3:4".parse().unwrap();
        let mut temporary = with_lifetimes("2001:db8:0:ff00:1111:2222:3333:4444", 600, 3600);
        temporary.prefix_len = 64;
        temporary.flags.temporary = true;
        let mut stable = with_lifetimes("2001:db8:0:ff00:a00:27ff:fe12:3456", 600, 3600);
        stable.prefix_len = 64;
        let mut deprecated = with_lifetimes("2001:db8:1::5", 0, 3600);
        deprecated.prefix_len = 48;
        deprecated.flags.deprecated = true;
        let mut too_long = candidate("2001:db8::1a2b");
        too_long.prefix_len = 128;

        let joined = suffixed(&[temporary, stable, deprecated, too_long], suffix);
        let addresses: Vec<String> = joined.iter().map(|c| c.address.to_string()).collect();
        assert_eq!(
            addresses,
            ["2001:db8:0:ff00:1:2:3:4", "2001:db8:1:0:1:2:3:4"]
        );
        assert_eq!(joined[0].flags, Flags::default());
        assert_eq!(
            (joined[0].preferred, joined[0].valid),
            (Some(600), Some(3600))
        );
        assert_eq!(
            joined[0].origin,
            "prefix 2001:db8:0:ff00::/64 (test) with the suffix"
        );
        assert!(joined[1].flags.deprecated);
        assert_eq!(
            rejection(Family::Ipv6, &joined[1]),
            Some(Rejection::Deprecated)
        );
    }
}
