//! How a record's address is published: each update method behind one small interface, so that
//! what is decided and remembered (`decision`, `state`, `pass`) is the same whichever one runs.

pub mod dynhost;

use std::net::IpAddr;

use crate::config::Record;
use crate::error::Error;
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
    /// Publishes `address` for `record`: `Ok` once the record holds it, else the error says
    /// whether retrying can help ([`Error::severity`]).
    fn publish(
        &mut self,
        record: &Record,
        address: IpAddr,
        transport: &mut dyn Transport,
    ) -> Result<Accepted, Error>;
}
