//! HTTPS for the update exchange: blocking ureq over rustls with the ring provider, trusting
//! only the configured CA bundle, following no redirect, reading a bounded body.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::config::{Config, IpFamily};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

use crate::config::Family;
use crate::error::Error;

pub const USER_AGENT: &str = concat!("dynhost/", env!("CARGO_PKG_VERSION"));
/// Replies (DynHost's, an echo service's) are tens of bytes; anything near this is not one.
pub const MAX_REPLY_BYTES: u64 = 4096;

/// The one thing the update logic and the web source need from the network, so tests can stand
/// in for it.
pub trait Transport {
    /// One GET, trusting only the CAs in `cacert`; a reply with any status is `Ok`.
    fn get(&mut self, request: &Request, cacert: &Path) -> Result<HttpReply, Error>;
}

/// What came back over HTTP, before interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// At most [`MAX_REPLY_BYTES`].
    pub body: Vec<u8>,
    /// The `Location` header of a redirect, which is never followed.
    pub location: Option<String>,
}

pub struct Request<'a> {
    pub url: &'a str,
    /// The `Authorization` header, if any: never log it.
    pub authorization: Option<&'a str>,
    /// Connect over this family only: an address echo service answers with the address of the
    /// connection, so asking over IPv4 for the IPv6 address would get the wrong one.
    pub family: Option<Family>,
}

/// Keeps one agent per CA bundle and family, so records sharing a server share its kept-alive
/// connection.
pub struct Https {
    timeout: Duration,
    agents: Vec<(AgentKey, Agent)>,
}

type AgentKey = (PathBuf, Option<Family>);

impl Https {
    pub fn new(timeout: Duration) -> Self {
        Https {
            timeout,
            agents: Vec::new(),
        }
    }

    fn agent_for(&mut self, cacert: &Path, family: Option<Family>) -> Result<&Agent, Error> {
        let wanted = |(key, _): &(AgentKey, Agent)| key.0 == cacert && key.1 == family;
        let index = match self.agents.iter().position(wanted) {
            Some(index) => index,
            None => {
                let agent = agent_config(load_roots(cacert)?, self.timeout, family).new_agent();
                self.agents.push(((cacert.to_path_buf(), family), agent));
                self.agents.len() - 1
            }
        };
        Ok(&self.agents[index].1)
    }
}

impl Transport for Https {
    fn get(&mut self, request: &Request, cacert: &Path) -> Result<HttpReply, Error> {
        exchange(self.agent_for(cacert, request.family)?, request)
    }
}

/// One GET over `agent`, read into an [`HttpReply`]. Public so that the fuzz target can feed
/// ureq's reply parsing and this reading of it with arbitrary replies.
pub fn exchange(agent: &Agent, request: &Request) -> Result<HttpReply, Error> {
    let mut call = agent.get(request.url);
    if let Some(authorization) = request.authorization {
        call = call.header("Authorization", authorization);
    }
    let mut response = call.call().map_err(describe)?;
    let location = response
        .headers()
        .get("location")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_to_vec()
        .map_err(describe)?;
    Ok(HttpReply {
        status: response.status().as_u16(),
        body,
        location,
    })
}

/// A CA bundle with no certificate in it would make every server untrusted: say so instead.
fn load_roots(cacert: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let pem = std::fs::read(cacert).map_err(|e| Error::io(cacert, e))?;
    let roots: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    if roots.is_empty() {
        return Err(Error::io(
            cacert,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no PEM certificate in the file",
            ),
        ));
    }
    Ok(roots)
}

/// Everything about an agent but how it connects: [`Https`] adds the default connector (TCP,
/// then rustls), the fuzz target one that replays a recorded reply.
pub fn agent_config(
    roots: Vec<Certificate<'static>>,
    timeout: Duration,
    family: Option<Family>,
) -> Config {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    Agent::config_builder()
        .tls_config(tls)
        .https_only(true)
        // Credentials must never follow a redirect to another host or to plain HTTP.
        .max_redirects(0)
        .http_status_as_error(false)
        .no_delay(true)
        .timeout_global(Some(timeout))
        .ip_family(match family {
            None => IpFamily::Any,
            Some(Family::Ipv4) => IpFamily::Ipv4Only,
            Some(Family::Ipv6) => IpFamily::Ipv6Only,
        })
        .user_agent(USER_AGENT)
        .accept_encoding("identity")
        .build()
}

fn describe(error: ureq::Error) -> Error {
    match error {
        ureq::Error::BodyExceedsLimit(limit) => {
            Error::Transport(format!("reply body larger than {limit} bytes"))
        }
        ureq::Error::Timeout(_) => Error::Transport("timed out".into()),
        ureq::Error::HostNotFound => Error::Transport("host name not found".into()),
        other => Error::Transport(other.to_string()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::HttpReply;

    /// A reply without a `Location`, for the tests of everything that reads replies.
    pub(crate) fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply {
            status,
            body: body.as_bytes().to_vec(),
            location: None,
        }
    }
}
