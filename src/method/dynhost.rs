//! The DynHost (dyndns2) method: one GET per record with HTTP Basic authentication. What to ask
//! and what the answer means are pure; `DynHost::publish` sends the request over the
//! transport it is given.

use std::net::IpAddr;

use super::{query_escape, Accepted, Method};
use crate::config::Record;
use crate::error::{excerpt, Error, Refusal};
use crate::state::RecordState;
use crate::transport::{HttpReply, Request, Transport};

/// OVHcloud's DynHost: the record's `server`, `username` and `password`.
pub(crate) struct DynHost;

impl Method for DynHost {
    fn publish(
        &mut self,
        record: &Record,
        address: IpAddr,
        _previous: &RecordState,
        transport: &mut dyn Transport,
    ) -> Result<Accepted, Error> {
        let request = update_request(record, address);
        crate::debug!("{}: GET {}", record.label(), request.url);
        let get = Request {
            url: &request.url,
            authorization: Some(&request.authorization),
            family: None,
        };
        let reply = transport.get(&get, &record.cacert)?;
        crate::debug!(
            "{}: HTTP {} {:?}",
            record.label(),
            reply.status,
            String::from_utf8_lossy(&reply.body).trim()
        );
        classify(&reply, address)
    }
}

/// One update request, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpdateRequest {
    /// The whole URL; it holds no credentials, so it may be logged.
    pub url: String,
    /// The value of the `Authorization` header: never log it.
    pub authorization: String,
}

pub(crate) fn update_request(record: &Record, address: IpAddr) -> UpdateRequest {
    let base = record.server.trim_end_matches('/');
    let url = format!(
        "{base}/nic/update?system=dyndns&hostname={}&myip={}",
        query_escape(&record.hostname),
        query_escape(&address.to_string()),
    );
    let credentials = format!("{}:{}", record.username, record.password.expose());
    UpdateRequest {
        url,
        authorization: format!("Basic {}", base64(credentials.as_bytes())),
    }
}

/// Standard base64 with padding and no line breaks (a wrapped value breaks Basic auth).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let group = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        for position in 0..4 {
            if position <= chunk.len() {
                let index = (group >> (18 - 6 * position)) & 0x3f;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Reads the reply to sending `sent` from both its status and its body: neither alone can be
/// trusted. A success naming another address is no success for ours: the record may hold
/// anything, so it is a failure that is retried.
pub fn classify(reply: &HttpReply, sent: IpAddr) -> Result<Accepted, Error> {
    let text = String::from_utf8_lossy(&reply.body);
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let mut words = first_line.split_ascii_whitespace();
    let word = words.next().unwrap_or("").to_ascii_lowercase();
    let named = words.next();
    let status = reply.status;
    let success_status = (200..300).contains(&status);
    let server_error = status >= 500;

    match word.as_str() {
        "good" | "nochg" if success_status => match named {
            Some(named) if named.parse::<IpAddr>() != Ok(sent) => Err(Error::Server(format!(
                "{} names another address than {sent}",
                quote(first_line)
            ))),
            _ => Ok(Accepted {
                changed: word == "good",
            }),
        },
        "good" | "nochg" => Err(Error::Server(format!(
            "'{word}' with HTTP {status}: not trusted as success"
        ))),
        "911" | "dnserr" => Err(Error::Server(format!("'{word}' (HTTP {status})"))),
        _ if server_error => Err(Error::Server(format!(
            "HTTP {status}: {}",
            quote(first_line)
        ))),
        _ => {
            if let Some(refusal) = Refusal::from_code(&word) {
                return Err(Error::Refused(refusal));
            }
            if status == 401 {
                return Err(Error::Refused(Refusal::BadAuth));
            }
            if (300..400).contains(&status) {
                let target = reply.location.as_deref().unwrap_or("nowhere");
                return Err(Error::Server(format!(
                    "HTTP {status} redirect to {} not followed",
                    quote(target)
                )));
            }
            Err(Error::Server(format!(
                "unexpected reply (HTTP {status}): {}",
                quote(first_line)
            )))
        }
    }
}

/// Like [`excerpt`], but says so when there is nothing to quote.
fn quote(text: &str) -> String {
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        excerpt(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tests::reply;

    const SENT: &str = "203.0.113.7";

    fn classify(reply: &HttpReply) -> Result<Accepted, Error> {
        super::classify(reply, SENT.parse().unwrap())
    }

    fn refusal_of(status: u16, body: &str) -> Option<Refusal> {
        match classify(&reply(status, body)) {
            Err(Error::Refused(refusal)) => Some(refusal),
            _ => None,
        }
    }

    fn is_transient(status: u16, body: &str) -> bool {
        matches!(classify(&reply(status, body)), Err(Error::Server(_)))
    }

    #[test]
    fn good_with_address_is_a_change() {
        let accepted = classify(&reply(200, "good 203.0.113.7\n")).unwrap();
        assert!(accepted.changed);
    }

    #[test]
    fn nochg_is_success_without_change() {
        let accepted = classify(&reply(200, "nochg 203.0.113.7")).unwrap();
        assert!(!accepted.changed);
        let v6 = super::classify(
            &reply(200, "nochg 2001:db8::1"),
            "2001:db8::1".parse().unwrap(),
        );
        assert_eq!(v6.unwrap(), Accepted { changed: false });
    }

    #[test]
    fn a_success_naming_another_address_is_a_failure_quoting_the_reply() {
        for body in [
            "good 198.51.100.1",
            "nochg 198.51.100.1",
            "good 2001:db8::7",
            "good not-an-address",
        ] {
            let error = classify(&reply(200, body)).unwrap_err();
            assert_eq!(
                error.severity(),
                crate::error::Severity::Transient,
                "{body}"
            );
            let message = error.to_string();
            assert!(
                message.contains(body) && message.contains(SENT),
                "{message}"
            );
        }
    }

    #[test]
    fn good_without_address_is_still_success() {
        assert_eq!(
            classify(&reply(200, "good")).unwrap(),
            Accepted { changed: true }
        );
    }

    #[test]
    fn success_words_with_error_status_are_failures() {
        assert!(is_transient(500, "good 203.0.113.7"));
        assert!(is_transient(401, "nochg 203.0.113.7"));
        assert!(is_transient(302, "good"));
    }

    #[test]
    fn every_refusal_word_is_permanent() {
        for (body, refusal) in [
            ("badauth", Refusal::BadAuth),
            ("nohost", Refusal::NoHost),
            ("notfqdn", Refusal::NotFqdn),
            ("badsys", Refusal::BadSys),
            ("badagent", Refusal::BadAgent),
            ("abuse", Refusal::Abuse),
        ] {
            assert_eq!(refusal_of(200, body), Some(refusal), "{body}");
            assert_eq!(refusal_of(400, body), Some(refusal), "{body}");
        }
        assert_eq!(refusal_of(401, "badauth\n"), Some(Refusal::BadAuth));
    }

    #[test]
    fn status_401_without_a_word_is_badauth() {
        assert_eq!(
            refusal_of(401, "<html>Unauthorized</html>"),
            Some(Refusal::BadAuth)
        );
    }

    #[test]
    fn server_side_trouble_is_transient() {
        assert!(is_transient(200, "911"));
        assert!(is_transient(200, "dnserr"));
        assert!(is_transient(503, ""));
        assert!(is_transient(500, "nohost"));
    }

    #[test]
    fn unknown_bodies_are_transient_failures() {
        assert!(is_transient(200, "<html>maintenance</html>"));
        assert!(is_transient(200, ""));
        assert!(is_transient(400, "{\"message\":\"system is required\"}"));
        assert!(is_transient(200, "goodbye 203.0.113.7"));
    }

    #[test]
    fn success_word_must_be_the_first_word() {
        assert!(is_transient(200, "error: not good"));
    }

    #[test]
    fn redirect_names_its_target_and_is_not_success() {
        let mut redirect = reply(301, "");
        redirect.location = Some("http://evil.example/".to_string());
        let message = classify(&redirect).unwrap_err().to_string();
        assert!(message.contains("http://evil.example/"), "{message}");
    }

    #[test]
    fn unknown_reply_quote_is_bounded_and_printable() {
        let long = format!("weird\u{7}{}", "x".repeat(500));
        let message = classify(&reply(200, &long)).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(!message.contains('\u{7}'));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(query_escape("2001:db8::1"), "2001%3Adb8%3A%3A1");
        assert_eq!(query_escape("home.example.com"), "home.example.com");
    }
}
