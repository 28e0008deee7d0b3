//! The floor that scripts/bench measures dynhost against: one bare HTTPS GET with the same
//! ureq and rustls (ring provider), built with the same recipe and flags, with ureq's defaults
//! for everything but the trusted CA. What dynhost costs above this is its own.
//!
//!     floor URL CACERT AUTHORIZATION
//!
//! Prints the reply body; exits 1 on any failure.

use std::sync::Arc;

use ureq::tls::{PemItem, RootCerts, TlsConfig, TlsProvider};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, cacert, authorization] = &args[..] else {
        return Err("usage: floor URL CACERT AUTHORIZATION".into());
    };
    let roots = ureq::tls::parse_pem(&std::fs::read(cacert)?)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    let agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .build()
        .new_agent();
    let body = agent
        .get(url)
        .header("Authorization", authorization)
        .call()?
        .body_mut()
        .read_to_string()?;
    print!("{body}");
    Ok(())
}
