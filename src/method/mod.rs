//! How a record's address is published: each update method behind one small interface, so that
//! what is decided and remembered (`decision`, `state`, `pass`) is the same whichever one runs.

pub mod api;
pub mod dynhost;

use std::net::IpAddr;

use crate::config::Record;
use crate::error::Error;
use crate::state::RecordState;
use crate::transport::Transport;

/// A record that holds the address it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `false` for `nochg`: the record already had the address.
    pub changed: bool,
}

/// One way to publish an address. A value serves one pass, so it may keep what it learnt from
/// the server during the pass; `transport` keeps the pass's connections, and a method may make
/// as many requests over it as its exchange takes.
pub(crate) trait Method {
    /// Publishes `address` for `record`, whose state says what earlier attempts left undone
    /// (`previous`): `Ok` once the record holds it, else the error says whether retrying can
    /// help ([`Error::severity`]).
    fn publish(
        &mut self,
        record: &Record,
        address: IpAddr,
        previous: &RecordState,
        transport: &mut dyn Transport,
    ) -> Result<Accepted, Error>;
}

/// Each record's own method, as its config says: DynHost, or the OVHcloud API.
#[derive(Default)]
pub(crate) struct ByRecord {
    api: api::Api,
}

impl Method for ByRecord {
    fn publish(
        &mut self,
        record: &Record,
        address: IpAddr,
        previous: &RecordState,
        transport: &mut dyn Transport,
    ) -> Result<Accepted, Error> {
        match &record.api {
            None => dynhost::DynHost.publish(record, address, previous, transport),
            Some(settings) => {
                let exchange = api::Exchange::new(record, settings, previous);
                self.api.publish(&exchange, address, transport)
            }
        }
    }
}

/// The method's name, as the config and `status` say it.
pub fn name(record: &Record) -> &'static str {
    match record.api {
        None => "dynhost",
        Some(_) => "api",
    }
}

/// What publishing `address` would send, in words and without a secret, for `check`.
pub fn describe(record: &Record, address: IpAddr, previous: &RecordState) -> String {
    match &record.api {
        None => format!("GET {}", dynhost::update_request(record, address).url),
        Some(settings) => api::Exchange::new(record, settings, previous).describe(address),
    }
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
fn query_escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}
