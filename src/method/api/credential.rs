//! `dynhost api-credential`: asks the OVHcloud API for a consumer key that may do exactly
//! what the API method does to the given zones, and nothing else. The request and the reading
//! of its reply are pure; [`ask`] sends it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::reply::{self, Called};
use crate::config::is_fqdn;
use crate::error::{excerpt, Error};
use crate::transport::{Call, Transport};

/// What the owner asked for: the endpoint as written and as a base URL, the application key,
/// and the zones the key will be allowed to change.
pub struct Ask<'a> {
    pub endpoint: &'a str,
    pub endpoint_url: &'a str,
    pub application_key: &'a str,
    pub zones: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialRequest<'a> {
    access_rules: Vec<AccessRule>,
    /// `null`: the validation page ends there, with no redirection anywhere.
    redirection: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
struct AccessRule {
    method: &'static str,
    path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialReply {
    consumer_key: String,
    validation_url: String,
}

/// The calls the API method makes, for each zone; `GET /domain/zone` finds a zone left out
/// of the config.
fn access_rules(zones: &[String]) -> Vec<AccessRule> {
    let rule = |method, path: String| AccessRule { method, path };
    std::iter::once(rule("GET", "/domain/zone".into()))
        .chain(zones.iter().flat_map(|zone| {
            let records = format!("/domain/zone/{zone}/record");
            [
                rule("GET", records.clone()),
                rule("POST", records.clone()),
                rule("GET", format!("{records}/*")),
                rule("PUT", format!("{records}/*")),
                rule("POST", format!("/domain/zone/{zone}/refresh")),
            ]
        }))
        .collect()
}

/// The request body: the access rules of `zones`, no redirection.
fn request_body(zones: &[String]) -> String {
    let request = CredentialRequest {
        access_rules: access_rules(zones),
        redirection: None,
    };
    serde_json::to_string(&request).expect("a credential request serialises")
}

/// The application key travels in a header: printable ASCII without spaces.
pub fn check_application_key(key: &str) -> Result<(), Error> {
    if !key.is_empty() && key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "-k '{}' is not an application key: printable ASCII without spaces",
        key.escape_debug()
    )))
}

/// Zones must be names, lower-cased, each once: they become paths of the access rules.
pub fn check_zones(zones: &[String]) -> Result<Vec<String>, Error> {
    if zones.is_empty() {
        return Err(Error::Usage(
            "api-credential needs at least one ZONE; see 'dynhost -h'".into(),
        ));
    }
    let mut checked: Vec<String> = Vec::new();
    for zone in zones {
        if !is_fqdn(zone) {
            return Err(Error::Usage(format!(
                "'{}' is not a zone such as example.com",
                zone.escape_debug()
            )));
        }
        let zone = zone.to_ascii_lowercase();
        if !checked.contains(&zone) {
            checked.push(zone);
        }
    }
    Ok(checked)
}

/// Asks for the credential, and returns what to print: the consumer key, the page that
/// validates it, and the config lines.
pub fn ask(ask: &Ask, cacert: &Path, transport: &mut dyn Transport) -> Result<String, Error> {
    let url = format!("{}/auth/credential", ask.endpoint_url);
    let body = request_body(ask.zones);
    crate::debug!("POST {url}");
    let headers = [("X-Ovh-Application", ask.application_key)];
    let call = Call {
        method: "POST",
        url: &url,
        headers: &headers,
        json: Some(&body),
    };
    let reply = transport.call(&call, cacert)?;
    let called = Called {
        call: "POST /auth/credential".into(),
        of_zone: false,
        masked: ["", ""],
    };
    let credential: CredentialReply = reply::json(&reply, &called)?;
    check_reply(&credential, &called)?;
    Ok(instructions(ask, &credential))
}

/// The reply is printed for the owner to paste and open: a key that is not a plain word or
/// a page that is not https is not shown.
fn check_reply(credential: &CredentialReply, called: &Called) -> Result<(), Error> {
    let key = &credential.consumer_key;
    let url = &credential.validation_url;
    let plain_key =
        !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_alphanumeric());
    let https = url.starts_with("https://")
        && url.len() <= 2048
        && url.bytes().all(|b| b.is_ascii_graphic());
    if plain_key && https {
        return Ok(());
    }
    Err(Error::Server(format!(
        "{}: the reply's consumerKey or validationUrl is malformed (validationUrl {})",
        called.call,
        excerpt(url)
    )))
}

fn instructions(ask: &Ask, credential: &CredentialReply) -> String {
    let zones = ask.zones.join(", ");
    format!(
        "consumerKey: {key}\n\
         validationUrl: {url}\n\
         \n\
         Open the validationUrl, log in with the OVHcloud account that owns {zones} and\n\
         choose a validity (Unlimited for a router). The key then may read the zone list and\n\
         read, create, change and refresh the records of {zones}, nothing else.\n\
         Then add these lines to each api record of /etc/config/dynhost, with the\n\
         application secret shown when the application was created:\n\
         \n\
         \toption method 'api'\n\
         \toption endpoint '{endpoint}'\n\
         \toption application_key '{application_key}'\n\
         \toption application_secret 'APPLICATION_SECRET'\n\
         \toption consumer_key '{key}'",
        key = credential.consumer_key,
        url = credential.validation_url,
        endpoint = ask.endpoint,
        application_key = ask.application_key,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn the_rules_grant_exactly_the_calls_of_the_method() {
        let body: serde_json::Value =
            serde_json::from_str(&request_body(&zones(&["example.com", "example.org"])))
                .expect("JSON");
        let rules: Vec<String> = body["accessRules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|rule| {
                format!(
                    "{} {}",
                    rule["method"].as_str().unwrap(),
                    rule["path"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            rules,
            [
                "GET /domain/zone",
                "GET /domain/zone/example.com/record",
                "POST /domain/zone/example.com/record",
                "GET /domain/zone/example.com/record/*",
                "PUT /domain/zone/example.com/record/*",
                "POST /domain/zone/example.com/refresh",
                "GET /domain/zone/example.org/record",
                "POST /domain/zone/example.org/record",
                "GET /domain/zone/example.org/record/*",
                "PUT /domain/zone/example.org/record/*",
                "POST /domain/zone/example.org/refresh",
            ]
        );
        assert!(body["redirection"].is_null());
        assert_eq!(body.as_object().unwrap().len(), 2);
    }

    #[test]
    fn zones_are_names_each_once() {
        assert_eq!(
            check_zones(&zones(&["Example.com", "example.com", "b.org"])).unwrap(),
            ["example.com", "b.org"]
        );
        for bad in [&[][..], &["example"], &["a/b.com"], &["*.example.com"]] {
            let error = check_zones(&zones(bad)).unwrap_err();
            assert!(matches!(error, Error::Usage(_)), "{bad:?}: {error}");
        }
    }

    #[test]
    fn an_application_key_is_one_printable_word() {
        assert!(check_application_key("AKtest01").is_ok());
        for bad in ["", "a b", "a\nb", "é"] {
            assert!(check_application_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_malformed_reply_is_not_printed() {
        let called = Called {
            call: "POST /auth/credential".into(),
            of_zone: false,
            masked: ["", ""],
        };
        let reply = |key: &str, url: &str| CredentialReply {
            consumer_key: key.into(),
            validation_url: url.into(),
        };
        assert!(check_reply(
            &reply("abc123", "https://eu.api.ovh.com/auth/?credentialToken=x"),
            &called
        )
        .is_ok());
        for (key, url) in [
            ("", "https://x/"),
            ("a b", "https://x/"),
            ("abc\n", "https://x/"),
            ("abc", "http://x/"),
            ("abc", "https://x/\u{1b}[2J"),
        ] {
            assert!(
                check_reply(&reply(key, url), &called).is_err(),
                "{key:?} {url:?}"
            );
        }
    }
}
