//! Where a record's current address comes from.

mod script;

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{Record, Source};
use crate::error::Error;

/// The address the record should hold now, from the record's configured source.
pub fn current_address(record: &Record, timeout: Duration) -> Result<IpAddr, Error> {
    match &record.source {
        Source::Script { command } => script::address(command, record.family, timeout),
        other => Err(Error::Address(format!(
            "source '{}' is not supported by this version of dynhost; use source 'script'",
            other.name()
        ))),
    }
}
