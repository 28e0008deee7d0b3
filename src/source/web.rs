//! The `web` source: ask an address echo service which address the internet sees, for routers
//! behind someone else's NAT where no local address is public.

use std::net::IpAddr;
use std::path::Path;

use crate::config::Family;
use crate::error::{excerpt, Error};
use crate::rules::Candidate;
use crate::transport::{HttpReply, Request, Transport};

/// Plain-text echo services whose host names resolve to one family only, so the reply is the
/// address of that family whatever the router prefers (documented in the README).
pub fn default_url(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "https://api4.ipify.org/",
        Family::Ipv6 => "https://api6.ipify.org/",
    }
}

/// GETs `url` over `family` only, through the same TLS setup, size cap and time limit as the
/// update itself.
pub fn candidates(
    url: &str,
    family: Family,
    cacert: &Path,
    transport: &mut dyn Transport,
) -> Result<Vec<Candidate>, Error> {
    let request = Request {
        url,
        authorization: None,
        family: Some(family),
    };
    let reply = transport
        .get(&request, cacert)
        .map_err(|error| Error::Address(format!("asking {url} over {}: {error}", family.name())))?;
    let address = reported_address(&reply).map_err(|why| Error::Address(format!("{url} {why}")))?;
    Ok(vec![Candidate::bare(address, format!("reply of {url}"))])
}

/// The address in an echo service's reply: the first line of a 2xx body.
fn reported_address(reply: &HttpReply) -> Result<IpAddr, String> {
    if !(200..300).contains(&reply.status) {
        return Err(format!("answered HTTP {}", reply.status));
    }
    let text = String::from_utf8_lossy(&reply.body);
    let line = text.lines().next().unwrap_or_default().trim();
    if line.is_empty() {
        return Err("answered with an empty body".into());
    }
    line.parse()
        .map_err(|_| format!("answered {}, which is not an IP address", excerpt(line)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tests::reply;

    #[test]
    fn the_first_line_of_a_successful_reply_is_the_address() {
        assert_eq!(
            reported_address(&reply(200, "203.0.113.7\n")),
            Ok("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            reported_address(&reply(200, " 2001:db8::1 \r\nextra")),
            Ok("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn errors_and_garbage_are_refused_with_a_bounded_quote() {
        assert_eq!(
            reported_address(&reply(503, "203.0.113.7")),
            Err("answered HTTP 503".into())
        );
        assert_eq!(
            reported_address(&reply(200, "\n")),
            Err("answered with an empty body".into())
        );
        let html = format!("<html>{}</html>", "x".repeat(200));
        let error = reported_address(&reply(200, &html)).unwrap_err();
        assert!(error.contains("not an IP address"), "{error}");
        assert!(error.len() < 150, "{error}");
    }
}
