//! dynhost's modules, shared by the program (`src/main.rs`) and the fuzz targets (`fuzz/`), so
//! that each target drives the very parser the program runs.

pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
mod decision;
pub mod error;
pub mod logger;
pub mod netlink;
pub mod notices;
pub mod pass;
pub mod protocol;
pub mod report;
pub mod rules;
pub mod source;
pub mod state;
mod sys;
pub mod transport;
pub mod uci;
