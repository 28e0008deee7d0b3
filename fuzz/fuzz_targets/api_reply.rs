//! An OVHcloud API reply, as dynhost reads it: `method::api::reply::check` on any status and
//! body (the JSON error body, its message, code and class, the query id), then the body as the
//! JSON dynhost expects of a 2xx.
//!
//! Input: two bytes, the status (big-endian, taken modulo 600); then the body. The query id is
//! the body's first line, so that it too is read from outside.
#![no_main]

use dynhost::error::{Error, Severity};
use dynhost::method::api::reply::{check, json, Called};
use dynhost::transport::HttpReply;
use dynhost_fuzz::assert_error_is_one_line;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "AS-fuzz-secret";
const CONSUMER: &str = "CK-fuzz-consumer";

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = u16::from_be_bytes(*status) % 600;
    let query_id = String::from_utf8_lossy(body).lines().next().map(str::to_string);
    let reply = HttpReply {
        status,
        body: body.to_vec(),
        location: None,
        query_id,
    };
    let called = Called {
        call: "GET /domain/zone/example.com/record".into(),
        of_zone: true,
        masked: [SECRET, CONSUMER],
    };
    match check(&reply, &called) {
        Ok(_) => assert!((200..300).contains(&status), "HTTP {status} taken as success"),
        Err(error) => {
            assert_error_is_one_line(&error);
            let message = error.to_string();
            assert!(!message.contains(SECRET) && !message.contains(CONSUMER), "{message}");
            assert!(message.chars().count() < 800, "unbounded: {message}");
            // A refusal stops the record for good: only the statuses that mean one may.
            if error.severity() == Severity::Permanent {
                assert!(matches!(status, 400 | 401 | 403 | 404), "{status}: {message}");
            }
        }
    }
    if let Err(error) = json::<Vec<u64>>(&reply, &called) {
        assert!(matches!(error, Error::Server(_) | Error::ApiRefused { .. }), "{error:?}");
        assert_error_is_one_line(&error);
    }
});
