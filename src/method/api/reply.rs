//! What the OVHcloud API's replies mean (pure): success, a refusal that waits for a config
//! change, or trouble that a retry may get past. Every failure quotes the call, the server's
//! message (bounded, printable, with the record's secrets masked) and its query id.

use serde::Deserialize;

use crate::error::{excerpt, Error, Refusal};
use crate::transport::HttpReply;

/// The error codes that mean the keys or the signature are wrong, whatever the status.
const DENIED_CODES: [&str; 5] = [
    "INVALID_SIGNATURE",
    "INVALID_CREDENTIAL",
    "INVALID_KEY",
    "NOT_CREDENTIAL",
    "NOT_GRANTED_CALL",
];
/// The signature's timestamp was too far from the server's clock.
const QUERY_TIME_OUT: &str = "QUERY_TIME_OUT";

/// The fields of an error body that dynhost reads; the API sends `message` always,
/// `errorCode` for authentication errors and `class` for the others.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ErrorBody {
    message: String,
    error_code: String,
    class: String,
}

impl ErrorBody {
    fn of(reply: &HttpReply) -> ErrorBody {
        serde_json::from_slice(&reply.body).unwrap_or_default()
    }
}

/// Whether the reply says the signature's timestamp was out of time.
pub fn is_time_out(reply: &HttpReply) -> bool {
    ErrorBody::of(reply).error_code == QUERY_TIME_OUT
}

/// How a call is named in messages, and what a 404 of it means.
pub struct Called<'a> {
    /// `GET /domain/zone/example.com/record`, without the query.
    pub call: String,
    /// A 404 means the zone is not the account's (rather than a record that went away).
    pub of_zone: bool,
    /// Texts the message must not show, should the server echo them: the record's secrets
    /// (empty when there are none).
    pub masked: [&'a str; 2],
}

/// The body of a 2xx reply; any other reply as the error it stands for.
pub fn check<'r>(reply: &'r HttpReply, called: &Called) -> Result<&'r [u8], Error> {
    let status = reply.status;
    if (200..300).contains(&status) {
        return Ok(&reply.body);
    }
    let body = ErrorBody::of(reply);
    let detail = detail(reply, called, &body.message);
    let refusal = match status {
        401 | 403 => Some(Refusal::Denied),
        400 if body.error_code == QUERY_TIME_OUT => None,
        400 if DENIED_CODES.contains(&body.error_code.as_str()) => Some(Refusal::Denied),
        400 => Some(Refusal::BadRequest),
        404 if called.of_zone => Some(Refusal::NoZone),
        _ => None,
    };
    Err(match refusal {
        Some(refusal) => Error::ApiRefused { refusal, detail },
        None => Error::Server(detail),
    })
}

/// `GET /auth/time: HTTP 403 'This call has not been granted' ('Client::Forbidden', query id
/// 'EU.ext-1.5f')`. Everything the server wrote is masked and quoted: the message (or the
/// body, when it says none), the error code, the class and the query id.
fn detail(reply: &HttpReply, called: &Called, message: &str) -> String {
    let quote = |text: &str| {
        let mut text = text.to_string();
        for secret in called.masked.iter().filter(|secret| !secret.is_empty()) {
            text = text.replace(secret, "***");
        }
        excerpt(&text)
    };
    let text = if message.is_empty() {
        String::from_utf8_lossy(&reply.body).trim().to_string()
    } else {
        message.to_string()
    };
    let quoted = if text.is_empty() {
        "(empty body)".to_string()
    } else {
        quote(&text)
    };
    let body = ErrorBody::of(reply);
    let kinds: Vec<String> = [body.error_code, body.class]
        .iter()
        .filter(|kind| !kind.is_empty())
        .map(|kind| quote(kind))
        .chain(
            reply
                .query_id
                .as_deref()
                .map(|id| format!("query id {}", quote(id))),
        )
        .collect();
    let kinds = if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(", "))
    };
    format!("{}: HTTP {} {quoted}{kinds}", called.call, reply.status)
}

/// A 2xx body that is not the JSON expected: the API or something on the way misbehaves.
fn unexpected(called: &Called, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    Error::Server(format!(
        "{}: unexpected reply {}",
        called.call,
        excerpt(text.trim())
    ))
}

/// Reads a 2xx body as `T`.
pub fn json<T: serde::de::DeserializeOwned>(
    reply: &HttpReply,
    called: &Called,
) -> Result<T, Error> {
    let body = check(reply, called)?;
    serde_json::from_slice(body).map_err(|_| unexpected(called, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tests::reply;

    fn records() -> Called<'static> {
        Called {
            call: "GET /domain/zone/example.com/record".into(),
            of_zone: true,
            masked: ["the-secret", "the-consumer"],
        }
    }

    fn error_of(status: u16, body: &str) -> Error {
        let mut reply = reply(status, body);
        reply.query_id = Some("EU.ext-1.5f0c".into());
        check(&reply, &records()).expect_err("a failure")
    }

    fn refusal_of(status: u16, body: &str) -> Option<Refusal> {
        error_of(status, body).refusal()
    }

    #[test]
    fn a_2xx_reply_is_its_body() {
        let ok = reply(200, "[1,2]");
        assert_eq!(check(&ok, &records()).expect("success"), b"[1,2]");
        let ids: Vec<u64> = json(&ok, &records()).expect("ids");
        assert_eq!(ids, [1, 2]);
        let wrong = json::<Vec<u64>>(&reply(200, "<html>"), &records()).expect_err("not JSON");
        assert!(matches!(wrong, Error::Server(_)), "{wrong}");
    }

    #[test]
    fn keys_and_grants_refused_are_denied() {
        for (status, body) in [
            (
                400,
                r#"{"errorCode":"INVALID_SIGNATURE","message":"Invalid signature"}"#,
            ),
            (
                403,
                r#"{"errorCode":"INVALID_CREDENTIAL","message":"This credential is not valid"}"#,
            ),
            (
                403,
                r#"{"errorCode":"NOT_GRANTED_CALL","message":"This call has not been granted"}"#,
            ),
            (
                403,
                r#"{"class":"Client::Forbidden","message":"This call has not been granted"}"#,
            ),
            (
                403,
                r#"{"errorCode":"INVALID_KEY","message":"This application key is invalid"}"#,
            ),
            (401, r#"{"message":"You must login first"}"#),
            (401, ""),
        ] {
            assert_eq!(refusal_of(status, body), Some(Refusal::Denied), "{body}");
        }
    }

    #[test]
    fn another_400_is_a_bad_request_and_a_404_of_the_zone_no_zone() {
        let invalid = r#"{"class":"Client::BadRequest","message":"Invalid TTL"}"#;
        assert_eq!(refusal_of(400, invalid), Some(Refusal::BadRequest));
        let missing = r#"{"class":"Client::NotFound","message":"This service does not exist"}"#;
        assert_eq!(refusal_of(404, missing), Some(Refusal::NoZone));
        let record = Called {
            of_zone: false,
            ..records()
        };
        let gone = check(&reply(404, missing), &record).expect_err("a failure");
        assert!(matches!(gone, Error::Server(_)), "{gone}");
    }

    #[test]
    fn busy_broken_or_out_of_time_is_transient() {
        let time_out = r#"{"errorCode":"QUERY_TIME_OUT","message":"Query out of time"}"#;
        assert!(is_time_out(&reply(400, time_out)));
        assert!(!is_time_out(&reply(400, "{}")));
        for (status, body) in [
            (400, time_out),
            (429, r#"{"message":"Too many requests"}"#),
            (
                500,
                r#"{"class":"Server::InternalServerError","message":"Internal"}"#,
            ),
            (503, "<html>maintenance</html>"),
            (302, ""),
        ] {
            let error = error_of(status, body);
            assert!(matches!(error, Error::Server(_)), "{status}: {error}");
        }
    }

    #[test]
    fn the_message_code_and_query_id_are_quoted_bounded_and_printable() {
        let body = r#"{"errorCode":"NOT_GRANTED_CALL","message":"This call has not been granted"}"#;
        assert_eq!(
            error_of(403, body).to_string(),
            "refused by the OVHcloud API: GET /domain/zone/example.com/record: HTTP 403 \
             'This call has not been granted' ('NOT_GRANTED_CALL', query id 'EU.ext-1.5f0c'): \
             denied (check application_key, application_secret, consumer_key, the endpoint and \
             that the consumer key was validated with these access rules)"
        );
        let long = format!(r#"{{"message":"bell\u0007{}"}}"#, "x".repeat(500));
        let message = error_of(500, &long).to_string();
        assert!(message.len() < 250, "{message}");
        assert!(!message.contains('\u{7}'), "{message}");
    }

    #[test]
    fn a_secret_echoed_by_the_server_is_masked() {
        let body = r#"{"message":"key the-consumer signed with the-secret is wrong"}"#;
        let message = error_of(403, body).to_string();
        assert!(!message.contains("the-consumer"), "{message}");
        assert!(!message.contains("the-secret"), "{message}");
        assert!(
            message.contains("'key *** signed with *** is wrong'"),
            "{message}"
        );
        let raw = error_of(502, "proxy says the-secret").to_string();
        assert!(raw.contains("'proxy says ***'"), "{raw}");
        let mut echoed = reply(500, r#"{"errorCode":"the-secret","class":"the-consumer"}"#);
        echoed.query_id = Some("id-the-secret".into());
        let message = check(&echoed, &records())
            .expect_err("a failure")
            .to_string();
        assert!(!message.contains("the-"), "{message}");
    }
}
