//! The `netlink` source: the addresses of a kernel device, read from the kernel
//! (`crate::netlink`); the device is named in the config, or is the interface's device as
//! netifd knows it (with `ipv6_suffix`, the device of `prefix_interface`, the host's LAN), or,
//! on a machine without ubus, the device of the family's default route.

use std::time::Duration;

use super::{ubus, Detection};
use crate::config::{Family, Record};
use crate::error::Error;
use crate::netlink;
use crate::rules::{self, Candidate};

/// The addresses a pass has read from the kernel, by device and family: a pass over many
/// records on one device dumps its addresses once (a dump and a device lookup are 14 system
/// calls). It lives as long as one pass, so it never serves an address a later pass should
/// read anew; failures are not kept, so the next record tries again.
#[derive(Debug, Default)]
pub(crate) struct Read {
    addresses: Vec<(String, Family, Vec<Candidate>)>,
}

impl Read {
    fn addresses(
        &mut self,
        device: &str,
        family: Family,
        timeout: Duration,
    ) -> Result<Vec<Candidate>, Error> {
        let known = self
            .addresses
            .iter()
            .find(|(known, known_family, _)| known == device && *known_family == family);
        if let Some((_, _, found)) = known {
            return Ok(found.clone());
        }
        let found = netlink::addresses(device, family, timeout)?;
        self.addresses
            .push((device.to_string(), family, found.clone()));
        Ok(found)
    }
}

/// The candidates of `record`'s family on `device`, or, when no device is named, on the device
/// of the interface that holds them; with a suffix, joined with it.
pub fn detect(
    device: Option<&str>,
    record: &Record,
    timeout: Duration,
    read: &mut Read,
) -> Result<Detection, Error> {
    let family = record.family;
    let device = match (device, record.ipv6_suffix) {
        (Some(device), _) => device.to_string(),
        (None, None) => default_device(&record.interface, family, timeout)?,
        // The host is on the LAN whose share of the delegated prefix it lives in: that LAN's
        // device holds the prefix, not the WAN's.
        (None, Some(_)) => {
            let lan = &record.prefix_interface;
            default_device(lan, family, timeout).map_err(|error| match error {
                Error::Address(message) => Error::Address(format!(
                    "{message} (with option ipv6_suffix the device is that of option \
                     prefix_interface '{lan}'): set option prefix_interface to the interface of \
                     the host's LAN, or option device"
                )),
                other => other,
            })?
        }
    };
    let found = read.addresses(&device, family, timeout)?;
    Ok(Detection {
        place: format!("device '{device}'"),
        candidates: match record.ipv6_suffix {
            Some(suffix) => rules::suffixed(&found, suffix),
            None => found,
        },
    })
}

/// The interface's device as netifd knows it, or, on a machine without ubus, the device that
/// carries the family's default route.
fn default_device(interface: &str, family: Family, timeout: Duration) -> Result<String, Error> {
    if let Some(device) = ubus::l3_device(interface, timeout)? {
        return Ok(device);
    }
    netlink::default_route_device(family, timeout)?.ok_or_else(|| {
        Error::Address(format!(
            "there is no ubus to name interface '{interface}''s device and no {} default \
             route to follow; set option device",
            family.name()
        ))
    })
}

/// This machine's own addresses of `family`, from the device of its default route: what
/// `check` shows when there is no config yet.
pub fn default_route_addresses(family: Family, timeout: Duration) -> Result<Detection, Error> {
    let device = netlink::default_route_device(family, timeout)?.ok_or_else(|| {
        Error::Address(format!(
            "this machine has no {} default route",
            family.name()
        ))
    })?;
    Ok(Detection {
        place: format!("device '{device}'"),
        candidates: netlink::addresses(&device, family, timeout)?,
    })
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    #[test]
    fn a_pass_reads_a_device_once_per_family_and_keeps_no_failure() {
        let mut read = Read::default();
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let first = read
            .addresses("lo", Family::Ipv4, TIMEOUT)
            .expect("netlink works");
        assert!(first.iter().any(|candidate| candidate.address == loopback));

        // What the pass read is what the next record on lo gets, without asking the kernel.
        let marker = Candidate::bare(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), "kept");
        read.addresses[0].2 = vec![marker.clone()];
        assert_eq!(
            read.addresses("lo", Family::Ipv4, TIMEOUT).unwrap(),
            [marker]
        );

        // Another family of the same device is another dump.
        let v6 = read
            .addresses("lo", Family::Ipv6, TIMEOUT)
            .expect("netlink works");
        assert!(v6.iter().all(|candidate| candidate.address.is_ipv6()));
        assert_eq!(read.addresses.len(), 2);

        let missing = read.addresses("dynhost-none0", Family::Ipv4, TIMEOUT);
        assert!(matches!(missing, Err(Error::Address(_))), "{missing:?}");
        assert_eq!(read.addresses.len(), 2);
    }
}
