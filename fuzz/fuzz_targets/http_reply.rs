//! The DynHost server's reply, from the bytes on the wire to what dynhost makes of it: ureq's
//! parsing of the status line, headers, chunked or sized body (`transport::exchange`, with the
//! agent settings of `transport::agent_config`), then `method::dynhost::classify`.
//!
//! Input: one byte, the most bytes each read gets (0: as many as the buffer takes), so replies
//! arrive split everywhere a network can split them; then the reply as the server sent it.
//! The replaying connection stands where TCP and rustls are: it hands over the plaintext, so
//! it says it is TLS, as ureq's own test transport does, and the agent stays https-only.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dynhost::config::Family;
use dynhost::error::{Error, Refusal, Severity};
use dynhost::method::dynhost::classify;
use dynhost::transport::{self, HttpReply, Request, MAX_REPLY_BYTES};
use dynhost_fuzz::assert_error_is_one_line;
use libfuzzer_sys::fuzz_target;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};
use ureq::Agent;

/// The address the request sends, which a success reply must not contradict.
const SENT: &str = "203.0.113.7";
/// Loopback, so that nothing could ever leave the machine even if the connector were bypassed.
const URL: &str =
    "https://127.0.0.1/nic/update?system=dyndns&hostname=home.example.com&myip=203.0.113.7";

fuzz_target!(|data: &[u8]| {
    let Some((&read_size, reply)) = data.split_first() else {
        return;
    };
    let connector = Replay {
        reply: reply.to_vec(),
        read_size: usize::from(read_size),
    };
    let config = transport::agent_config(Vec::new(), Duration::from_secs(30), None);
    let agent = Agent::with_parts(config, connector, Loopback);
    let request = Request {
        url: URL,
        authorization: Some("Basic ZXhhbXBsZS5jb20tcm91dGVyOnNlY3JldA=="),
        family: None::<Family>,
    };
    let reply = match transport::exchange(&agent, &request) {
        Ok(reply) => reply,
        Err(error) => {
            assert!(matches!(error, Error::Transport(_)), "{error:?}");
            assert_error_is_one_line(&error);
            return;
        }
    };
    assert!(
        reply.body.len() as u64 <= MAX_REPLY_BYTES,
        "{}",
        reply.body.len()
    );
    check_class(&reply);
});

/// Every reply falls in exactly one of the README's classes (success, a transient failure that
/// is retried, a refusal that stops the record), and only when its status and body allow it.
fn check_class(reply: &HttpReply) {
    let sent: std::net::IpAddr = SENT.parse().expect("an address");
    let outcome = classify(reply, sent);
    let status = reply.status;
    let text = String::from_utf8_lossy(&reply.body);
    // The first word with any whitespace around it, for what a class requires: a word glued to
    // non-ASCII blanks may still count, so only a word nothing else could count as is required.
    let first_word =
        |words: &mut dyn Iterator<Item = &str>| words.next().unwrap_or("").to_ascii_lowercase();
    let loose_word = first_word(&mut text.split_whitespace());
    // The first word between ASCII blanks, as the protocol writes it, for what a class implies.
    let strict_word = first_word(&mut text.split_ascii_whitespace());
    let success_status = (200..300).contains(&status);
    match outcome {
        Ok(accepted) => {
            assert!(success_status, "success with HTTP {status}");
            let changed = match loose_word.as_str() {
                "good" => true,
                "nochg" => false,
                _ => panic!("success from {loose_word:?}"),
            };
            assert_eq!(accepted.changed, changed);
        }
        Err(error) => {
            assert_error_is_one_line(&error);
            match (&error, error.severity()) {
                (Error::Refused(refusal), Severity::Permanent) => {
                    assert!(status < 500, "{refusal:?} from HTTP {status}");
                    assert!(
                        Refusal::from_code(&loose_word) == Some(*refusal)
                            || (status == 401 && *refusal == Refusal::BadAuth),
                        "{refusal:?} from HTTP {status} {loose_word:?}"
                    );
                }
                (Error::Server(_), Severity::Transient) => {
                    let success_word = matches!(strict_word.as_str(), "good" | "nochg");
                    let names_ours = text
                        .split_ascii_whitespace()
                        .nth(1)
                        .is_none_or(|named| named.parse() == Ok(sent));
                    assert!(
                        !(success_status && success_word && names_ours),
                        "{strict_word:?} with HTTP {status} failed: {error}"
                    );
                }
                _ => panic!("a reply classified as {error:?}"),
            }
        }
    }
}

/// Serves the fuzz bytes as the server's reply on the one connection the request makes.
#[derive(Debug)]
struct Replay {
    reply: Vec<u8>,
    read_size: usize,
}

impl Connector for Replay {
    type Out = Replayed;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _: Option<()>,
    ) -> Result<Option<Replayed>, ureq::Error> {
        let config = details.config;
        Ok(Some(Replayed {
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
            rest: self.reply.clone(),
            read_size: self.read_size,
        }))
    }
}

#[derive(Debug)]
struct Replayed {
    buffers: LazyBuffers,
    rest: Vec<u8>,
    read_size: usize,
}

impl Transport for Replayed {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    /// The request goes nowhere: only the reply is under test.
    fn transmit_output(&mut self, _: usize, _: NextTimeout) -> Result<(), ureq::Error> {
        Ok(())
    }

    /// Like a socket: as much as is there and fits, and no progress at the end of the stream.
    fn await_input(&mut self, _: NextTimeout) -> Result<bool, ureq::Error> {
        let input = self.buffers.input_append_buf();
        let mut amount = input.len().min(self.rest.len());
        if self.read_size > 0 {
            amount = amount.min(self.read_size);
        }
        input[..amount].copy_from_slice(&self.rest[..amount]);
        self.rest.drain(..amount);
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        false
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// Names the loopback address without a lookup (ureq's resolver would start a thread for it).
#[derive(Debug)]
struct Loopback;

impl Resolver for Loopback {
    fn resolve(
        &self,
        _: &Uri,
        _: &Config,
        _: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addresses = self.empty();
        addresses.push(SocketAddr::from((Ipv4Addr::LOCALHOST, 443)));
        Ok(addresses)
    }
}
