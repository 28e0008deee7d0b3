//! The `netlink` source: the addresses of a kernel device, read from the kernel
//! (`crate::netlink`); the device is named in the config, or is the interface's device as
//! netifd knows it, or, on a machine without ubus, the device of the family's default route.

use std::net::Ipv6Addr;
use std::time::Duration;

use super::{ubus, Detection};
use crate::config::Family;
use crate::error::Error;
use crate::netlink;
use crate::rules;

/// The candidates of `family` on `device`, or on `interface`'s device when no device is named;
/// with `suffix`, joined with it.
pub fn detect(
    device: Option<&str>,
    interface: &str,
    family: Family,
    suffix: Option<Ipv6Addr>,
    timeout: Duration,
) -> Result<Detection, Error> {
    let device = match device {
        Some(device) => device.to_string(),
        None => default_device(interface, family, timeout)?,
    };
    let found = netlink::addresses(&device, family, timeout)?;
    Ok(Detection {
        place: format!("device '{device}'"),
        candidates: match suffix {
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
