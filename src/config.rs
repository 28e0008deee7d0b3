//! The validated configuration: what `/etc/config/dynhost` means once every value was checked.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;

pub const DEFAULT_CONFIG_PATH: &str = "/etc/config/dynhost";
pub const DEFAULT_SERVER: &str = "https://dns.eu.ovhapis.com";
pub const DEFAULT_CACERT: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub check_interval: Duration,
    pub cacert: PathBuf,
    /// Budget for one whole HTTP exchange, and for one run of a `script` source.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }

    pub fn matches(self, address: &std::net::IpAddr) -> bool {
        matches!(
            (self, address),
            (Family::Ipv4, std::net::IpAddr::V4(_)) | (Family::Ipv6, std::net::IpAddr::V6(_))
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Ubus,
    /// `device` is the kernel device; `None` means the interface's l3_device.
    Netlink { device: Option<String> },
    /// `check_url` `None` means the documented default echo service for the family.
    Web { check_url: Option<String> },
    /// The command and its arguments, split on white space: it runs without a shell.
    Script { command: Vec<String> },
}

impl Source {
    pub fn name(&self) -> &'static str {
        match self {
            Source::Ubus => "ubus",
            Source::Netlink { .. } => "netlink",
            Source::Web { .. } => "web",
            Source::Script { .. } => "script",
        }
    }
}

/// A password that can be passed around and compared but never printed by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The only way to the real text: every caller is a place the password leaves memory.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The section name, or `@record[N]` for an anonymous section.
    pub name: String,
    pub enabled: bool,
    pub hostname: String,
    pub username: String,
    pub password: Secret,
    pub family: Family,
    /// The logical OpenWrt interface the record follows.
    pub interface: String,
    pub source: Source,
    /// Base URL, always `https://`.
    pub server: String,
    /// The record's own CA bundle, or the global one.
    pub cacert: PathBuf,
}

impl Config {
    /// Reads, parses and validates the config file. Warns when other users may read it.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let _ = path;
        todo!("config loading")
    }
}
