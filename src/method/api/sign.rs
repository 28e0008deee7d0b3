//! The OVHcloud API's request signature (pure): a legacy SHA-1 over the secrets and the
//! request exactly as sent, which is what the API checks.

use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};

/// The values of a signed call's `X-Ovh-Timestamp` and `X-Ovh-Signature`. The signature is
/// derived from the secrets: never log it.
pub(crate) struct Signed {
    pub timestamp: String,
    pub signature: String,
}

/// The secrets of one record, and the request as it goes on the wire.
pub(crate) struct Signing<'a> {
    pub application_secret: &'a str,
    pub consumer_key: &'a str,
    pub method: &'a str,
    /// The whole URL, query included, byte for byte as sent.
    pub url: &'a str,
    /// The body byte for byte as sent; empty without one.
    pub body: &'a str,
    /// The server's clock, in unix seconds.
    pub timestamp: u64,
}

/// `$1$` and the hex SHA-1 of secret, consumer key, method, URL, body and timestamp, joined
/// by `+`.
pub(crate) fn sign(request: &Signing) -> Signed {
    let timestamp = request.timestamp.to_string();
    let text = [
        request.application_secret,
        request.consumer_key,
        request.method,
        request.url,
        request.body,
        &timestamp,
    ]
    .join("+");
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes());
    let hex: String = hash
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Signed {
        timestamp,
        signature: format!("$1${hex}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signing<'a>(url: &'a str, body: &'a str) -> Signing<'a> {
        Signing {
            application_secret: "secret",
            consumer_key: "consumer",
            method: "GET",
            url,
            body,
            timestamp: 1_366_560_945,
        }
    }

    #[test]
    fn the_signature_is_the_sha1_of_the_joined_fields() {
        // sha1("secret+consumer+GET+https://eu.api.ovh.com/1.0/me++1366560945"), computed
        // independently with `printf %s ... | sha1sum`.
        let signed = sign(&signing("https://eu.api.ovh.com/1.0/me", ""));
        assert_eq!(signed.timestamp, "1366560945");
        assert_eq!(
            signed.signature,
            "$1$6034a744d2c29709d3bb35232f73e16cc77f7246"
        );
    }

    #[test]
    fn every_byte_of_url_and_body_counts() {
        let base = sign(&signing("https://eu.api.ovh.com/1.0/me", "{}")).signature;
        for other in [
            sign(&signing("https://eu.api.ovh.com/1.0/me?", "{}")),
            sign(&signing("https://eu.api.ovh.com/1.0/me", "{} ")),
            sign(&Signing {
                timestamp: 1_366_560_946,
                ..signing("https://eu.api.ovh.com/1.0/me", "{}")
            }),
        ] {
            assert_ne!(other.signature, base);
        }
        assert_eq!(base.len(), 3 + 40);
    }
}
