//! Where a record's current address comes from: each source lists candidates, and the
//! publishing rules (`crate::rules`) pick the one to publish.

mod command;
pub mod netlink;
mod script;
pub mod ubus;
mod web;

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Family, Record, Source};
use crate::error::Error;
use crate::rules::{self, Candidate, Choice};
use crate::transport::Transport;

pub use netlink::{changed_devices, device_index};

/// What a source found, and where it looked (for messages).
pub struct Detection {
    pub place: String,
    pub candidates: Vec<Candidate>,
}

/// Lists the candidates for `record` from its configured source.
pub fn detect(
    record: &Record,
    timeout: Duration,
    transport: &mut dyn Transport,
) -> Result<Detection, Error> {
    let family = record.family;
    match &record.source {
        Source::Ubus => Ok(Detection {
            place: format!("interface '{}'", record.interface),
            candidates: ubus::candidates(&record.interface, family, record.ipv6_suffix, timeout)?,
        }),
        Source::Netlink { device } => {
            let device = match device {
                Some(device) => device.clone(),
                None => default_device(&record.interface, family, timeout)?,
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
        Source::Web { check_url } => {
            let url = check_url.as_deref().unwrap_or(web::default_url(family));
            Ok(Detection {
                place: url.to_string(),
                candidates: web::candidates(url, family, &record.cacert, transport)?,
            })
        }
        Source::Script { command } => {
            let address = script::address(command, family, timeout)?;
            Ok(Detection {
                place: format!("script '{}'", command[0]),
                candidates: vec![Candidate::bare(address, "script output")],
            })
        }
    }
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

/// The publishing rules applied to what `record`'s source found; `published` is kept while fit.
pub fn choose(record: &Record, detection: Detection, published: Option<IpAddr>) -> Choice {
    let web_would_help = !matches!(record.source, Source::Web { .. });
    rules::choose(
        record.family,
        &detection.place,
        detection.candidates,
        published,
        web_would_help,
    )
}

/// The address to publish for `record` now.
pub fn current_address(
    record: &Record,
    published: Option<IpAddr>,
    timeout: Duration,
    transport: &mut dyn Transport,
) -> Result<IpAddr, Error> {
    let detection = detect(record, timeout, transport)?;
    choose(record, detection, published)
        .outcome
        .map_err(Error::Address)
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
