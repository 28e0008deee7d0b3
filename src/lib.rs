//! dynhost's modules, shared by the program (`src/main.rs`) and the fuzz targets (`fuzz/`), so
//! that each target drives the very parser the program runs. Public are only the modules they
//! use; within those, what only the crate uses is `pub(crate)`.
//!
//! `unsafe` is the compiler's business, not a comment's: denied everywhere but in `sys`.

#![deny(unsafe_code)]

pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
mod decision;
pub mod error;
pub mod logger;
pub mod method;
pub mod netlink;
pub mod notices;
pub mod pass;
mod plan;
pub mod report;
pub mod rules;
pub mod source;
pub mod state;
#[allow(
    unsafe_code,
    reason = "the one module that calls libc; each unsafe block says why it is sound"
)]
mod sys;
pub mod transport;
pub mod uci;
