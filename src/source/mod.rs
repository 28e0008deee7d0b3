//! Where a record's current address comes from: each source lists candidates, and the
//! publishing rules (`crate::rules`) pick the one to publish.

mod child;
pub mod netifd;
mod netlink;
mod script;
mod ubus;
mod web;

pub(crate) use netlink::{default_route_addresses, Read};

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Record, Source};
use crate::error::Error;
use crate::rules::{self, Candidate, Choice};
use crate::transport::Transport;

/// What a source found, and where it looked (for messages).
pub(crate) struct Detection {
    pub place: String,
    pub candidates: Vec<Candidate>,
}

/// Lists the candidates for `record` from its configured source; `read` holds what the pass
/// read already, so that records sharing a device cost one kernel dump, not one each.
pub(crate) fn detect(
    record: &Record,
    timeout: Duration,
    transport: &mut dyn Transport,
    read: &mut Read,
) -> Result<Detection, Error> {
    let family = record.family;
    match &record.source {
        Source::Ubus => Ok(Detection {
            place: format!("interface '{}'", record.interface),
            candidates: ubus::candidates(
                &record.interface,
                family,
                record.ipv6_suffix,
                &record.prefix_interface,
                timeout,
            )?,
        }),
        Source::Netlink { device } => netlink::detect(device.as_deref(), record, timeout, read),
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

/// The publishing rules applied to what `record`'s source found; `published` is kept while fit.
pub(crate) fn choose(record: &Record, detection: Detection, published: Option<IpAddr>) -> Choice {
    let web_would_help = !matches!(record.source, Source::Web { .. });
    rules::choose(
        record.family,
        &detection.place,
        detection.candidates,
        published,
        web_would_help,
    )
}
