//! The `netlink` source: the addresses of a kernel device, read from the kernel
//! (`crate::netlink`); the device is named in the config, or is the interface's device as
//! netifd knows it (with `ipv6_suffix`, the device of `prefix_interface`, the host's LAN), or,
//! on a machine without ubus, the device of the family's default route.

use std::time::Duration;

use super::{ubus, Detection};
use crate::config::{Family, Record};
use crate::error::Error;
use crate::netlink;
use crate::rules;

/// The candidates of `record`'s family on `device`, or, when no device is named, on the device
/// of the interface that holds them; with a suffix, joined with it.
pub fn detect(
    device: Option<&str>,
    record: &Record,
    timeout: Duration,
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
    let found = netlink::addresses(&device, family, timeout)?;
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
