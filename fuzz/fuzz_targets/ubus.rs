//! The ubus replies (`parse_status`, `parse_dump`) and the candidates drawn from them
//! (`extract`, `device`), for both families, with and without `ipv6_suffix`, then the
//! publishing rules over those candidates.
//!
//! Input: the status reply, then optionally a NUL and the dump reply (JSON text never holds a
//! raw NUL, so the split is unambiguous).
#![no_main]

use std::net::{IpAddr, Ipv6Addr};

use dynhost::config::Family;
use dynhost::error::Error;
use dynhost::source::netifd;
use dynhost_fuzz::{assert_error_is_one_line, assert_one_line, check_choice};
use libfuzzer_sys::fuzz_target;

const INTERFACE: &str = "wan";
/// The default `prefix_interface`, the name the real fixtures' shares go to.
const PREFIX_INTERFACE: &str = "lan";

fuzz_target!(|data: &[u8]| {
    // The reply of `ubus` is refused before parsing when it is not UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (status_text, dump_text) = text.split_once('\0').unwrap_or((text, ""));
    let dump = || {
        let parsed = netifd::parse_dump(dump_text);
        if let Ok(dump) = &parsed {
            for interface in &dump.interface {
                for entry in &interface.ipv6_assignments {
                    assert!(entry.mask <= 128, "dump mask {}", entry.mask);
                }
            }
        }
        parsed
    };
    let status = match netifd::parse_status(INTERFACE, status_text) {
        Ok(status) => status,
        Err(error) => {
            check_error(&error);
            return;
        }
    };
    for entry in &status.ipv4_addresses {
        assert!(entry.mask <= 32, "IPv4 mask {}", entry.mask);
    }
    let ipv6 = [
        &status.ipv6_addresses,
        &status.ipv6_prefixes,
        &status.ipv6_assignments,
    ];
    for entry in ipv6.into_iter().flatten() {
        assert!(entry.mask <= 128, "IPv6 mask {}", entry.mask);
    }
    if let Err(error) = netifd::device(INTERFACE, &status) {
        check_error(&error);
    }
    let suffix: Ipv6Addr = "::1:2:3:4".parse().expect("a suffix");
    for (family, suffix) in [
        (Family::Ipv4, None),
        (Family::Ipv6, None),
        (Family::Ipv6, Some(suffix)),
    ] {
        match netifd::extract(INTERFACE, family, suffix, PREFIX_INTERFACE, &status, dump) {
            Ok(candidates) => {
                for candidate in &candidates {
                    assert!(family.matches(&candidate.address), "{candidate:?}");
                    let bits = match candidate.address {
                        IpAddr::V4(_) => 32,
                        IpAddr::V6(_) => 128,
                    };
                    assert!(candidate.prefix_len <= bits, "{candidate:?}");
                    if let (Some(suffix), IpAddr::V6(address)) = (suffix, candidate.address) {
                        let host_bits = u128::from(u64::MAX);
                        assert_eq!(
                            u128::from(address) & host_bits,
                            u128::from(suffix),
                            "{candidate:?}"
                        );
                    }
                    assert_one_line("origin", &candidate.origin);
                }
                check_choice(family, &format!("interface '{INTERFACE}'"), candidates);
            }
            Err(error) => check_error(&error),
        }
    }
});

fn check_error(error: &Error) {
    assert!(
        matches!(error, Error::Address(_) | Error::InterfaceDown(_)),
        "{error:?}"
    );
    assert_error_is_one_line(error);
}
