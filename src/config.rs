//! The validated configuration: what `/etc/config/dynhost` means once every value was checked.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::net::Ipv6Addr;
use std::ops::RangeInclusive;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::uci::{self, Section, Value};

pub const DEFAULT_CONFIG_PATH: &str = "/etc/config/dynhost";
pub const DEFAULT_SERVER: &str = "https://dns.eu.ovhapis.com";
pub const DEFAULT_CACERT: &str = "/etc/ssl/certs/ca-certificates.crt";
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// A config of a thousand records is a few hundred KiB: anything larger is a mistake, and a
/// 64 MB router must not try to hold it.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
const TIMEOUT_SECS: RangeInclusive<u64> = 1..=3600;
const DEFAULT_CHECK_INTERVAL_SECS: u64 = 600;
/// A week at most: longer would leave a changed address unpublished for longer than anyone
/// wants, and keeps deadline arithmetic far from overflow.
const CHECK_INTERVAL_SECS: RangeInclusive<u64> = 30..=7 * 24 * 60 * 60;
/// The logical interfaces of OpenWrt's default WAN, which a record of each family follows
/// unless told otherwise.
const DEFAULT_IPV4_INTERFACE: &str = "wan";
const DEFAULT_IPV6_INTERFACE: &str = "wan6";

/// The init script, the hotplug script, the LuCI page and the README repeat these defaults and
/// limits in their own languages: they must say what dynhost does.
#[cfg(test)]
mod written_elsewhere {
    use super::*;

    fn read(path: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"))
    }

    fn assert_says(path: &str, expected: &[String]) {
        let text = read(path);
        for line in expected {
            assert!(text.contains(line.as_str()), "{path} does not say {line:?}");
        }
    }

    #[test]
    fn the_defaults_and_limits_are_the_same_everywhere() {
        let (interval, timeout) = (CHECK_INTERVAL_SECS, TIMEOUT_SECS);
        let (ipv4, ipv6) = (DEFAULT_IPV4_INTERFACE, DEFAULT_IPV6_INTERFACE);
        let (min_interval, max_interval) = (interval.start(), interval.end());
        let (min_timeout, max_timeout) = (timeout.start(), timeout.end());
        assert_says(
            "openwrt/files/dynhost.init",
            &[
                format!(
                    "'check_interval:range({min_interval},{max_interval}):\
                     {DEFAULT_CHECK_INTERVAL_SECS}'"
                ),
                format!("'timeout:range({min_timeout},{max_timeout}):{DEFAULT_TIMEOUT_SECS}'"),
                format!(
                    "'ttl:range({},{})'",
                    API_TTL_SECS.start(),
                    API_TTL_SECS.end()
                ),
            ],
        );
        assert_says(
            "openwrt/files/dynhost.hotplug",
            &[
                format!("{ipv4} for ipv4 and {ipv6} for ipv6 by default"),
                format!(
                    "= ipv6 ]; then\n\t\tdynhost_default={ipv6}\n\telse\n\t\t\
                     dynhost_default={ipv4}\n"
                ),
            ],
        );
        assert_says(
            "openwrt/luci-app-dynhost/htdocs/luci-static/resources/view/dynhost/overview.js",
            &[
                format!("check_interval: secondsBetween({min_interval}, {max_interval}),"),
                format!("timeout: secondsBetween({min_timeout}, {max_timeout}),"),
                format!("({min_interval} to {max_interval})"),
                format!("o.placeholder = '{DEFAULT_CHECK_INTERVAL_SECS}';"),
                format!("({min_timeout} to {max_timeout})"),
                format!("o.placeholder = '{DEFAULT_TIMEOUT_SECS}';"),
                format!("Empty: {ipv4} for IPv4, {ipv6} for IPv6."),
                format!("o.placeholder = '{ipv4} / {ipv6}';"),
            ],
        );
        assert_says(
            "README.md",
            &[
                format!(
                    "| `check_interval` | `{DEFAULT_CHECK_INTERVAL_SECS}` | seconds between \
                     periodic checks in `run` ({min_interval} to {max_interval}, a week) |"
                ),
                format!("| `timeout` | `{DEFAULT_TIMEOUT_SECS}` |"),
                format!("({min_timeout}–{max_timeout}) |"),
                format!("| `interface` | `{ipv4}` (ipv4), `{ipv6}` (ipv6) |"),
                format!(
                    "| `ttl` | the zone's default | seconds, {} to {} |",
                    API_TTL_SECS.start(),
                    API_TTL_SECS.end()
                ),
            ],
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub check_interval: Duration,
    pub cacert: Arc<Path>,
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
    Netlink {
        device: Option<String>,
    },
    /// `check_url` `None` means the documented default echo service for the family.
    Web {
        check_url: Option<String>,
    },
    /// The command and its arguments, split on white space: it runs without a shell.
    Script {
        command: Vec<String>,
    },
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

/// The OVHcloud API's endpoints by name, as its client libraries name them.
pub const API_ENDPOINTS: [(&str, &str); 3] = [
    ("ovh-eu", "https://eu.api.ovh.com/1.0"),
    ("ovh-ca", "https://ca.api.ovh.com/1.0"),
    ("ovh-us", "https://api.us.ovhcloud.com/1.0"),
];
/// Of a record's TTL in api mode, in seconds: the range OVHcloud's DNS takes.
const API_TTL_SECS: RangeInclusive<u32> = 60..=86_400;

/// A record published through the OVHcloud API (`option method 'api'`) instead of DynHost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// Base URL without a trailing slash, such as `https://eu.api.ovh.com/1.0`.
    pub endpoint: String,
    /// `None`: the longest of the account's zones that holds the host name.
    pub zone: Option<String>,
    pub application_key: String,
    pub application_secret: Secret,
    pub consumer_key: Secret,
    /// `None`: the zone's default TTL.
    pub ttl: Option<u32>,
}

impl Api {
    /// What the API is told of the record besides its host name and family, for the config
    /// fingerprint: editing any of it lifts a refusal.
    pub fn identity(&self) -> String {
        format!(
            "{}\0{}\0{}\0{}\0{}\0{}",
            self.endpoint,
            self.zone.as_deref().unwrap_or(""),
            self.application_key,
            self.application_secret.expose(),
            self.consumer_key.expose(),
            self.ttl.map_or(String::new(), |ttl| ttl.to_string())
        )
    }
}

/// The base URL that `endpoint` (a name of [`API_ENDPOINTS`] or an https URL) stands for, or
/// what is wrong with it.
pub fn api_endpoint(endpoint: &str) -> Result<String, String> {
    if let Some((_, url)) = API_ENDPOINTS.iter().find(|(name, _)| *name == endpoint) {
        return Ok((*url).to_string());
    }
    if !endpoint.starts_with("https://") {
        let names: Vec<&str> = API_ENDPOINTS.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "{endpoint:?} is not an endpoint: use {} or an https:// base URL",
            names.join(", ")
        ));
    }
    check_https_url(
        endpoint,
        UrlTail::Path,
        "so that the API's keys and signatures never travel in clear",
    )?;
    Ok(endpoint.trim_end_matches('/').to_string())
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
    /// Most records share a default, which is not copied for each (nor `prefix_interface`,
    /// `server` and `cacert`): 1,000 records made 4,000 copies.
    pub interface: Cow<'static, str>,
    pub source: Source,
    /// An interface identifier (upper 64 bits zero): publish this host in the delegated prefix
    /// instead of the router's own address. Only for IPv6 with the ubus or netlink source.
    pub ipv6_suffix: Option<Ipv6Addr>,
    /// The LAN-side interface whose share of the delegated prefix holds the address: the host
    /// of `ipv6_suffix`, or the router's own address when the IPv6 interface has none (PPPoE's
    /// `wan_6`). With the netlink source and a suffix, its device is the default device.
    pub prefix_interface: Cow<'static, str>,
    /// Base URL, always `https://`.
    pub server: Cow<'static, str>,
    /// The record's own CA bundle, or the global one.
    pub cacert: Arc<Path>,
    /// `Some` in api mode, where `username`, `password` and `server` are empty and unused.
    pub api: Option<Api>,
}

impl Record {
    /// Whether `wanted`, as `update -r` takes it, names this record: its section name or its
    /// host name.
    pub fn answers_to(&self, wanted: &str) -> bool {
        self.name == wanted || self.hostname.eq_ignore_ascii_case(wanted)
    }

    /// How the record is named in log lines: what the owner wrote and what the server sees.
    pub fn label(&self) -> String {
        format!("{} ({} {})", self.name, self.hostname, self.family.name())
    }
}

const GLOBAL_TYPE: &str = "dynhost";
const RECORD_TYPE: &str = "record";

/// Declares [`OptionName`] from each option's variant and name in the file, written once.
macro_rules! option_names {
    ($($option:ident = $name:literal,)*) => {
        /// An option dynhost reads. A section's options are put in slots by name once
        /// ([`Options::new`]): the twenty questions asked of a record are then each an index,
        /// where a search by name each was a tenth of loading 1,000 records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum OptionName {
            $($option,)*
        }

        impl OptionName {
            const COUNT: usize = [$(OptionName::$option,)*].len();

            fn as_str(self) -> &'static str {
                match self {
                    $(OptionName::$option => $name,)*
                }
            }

            /// Lengths compared first, in place: most names differ in length, and the call
            /// that a `match` made to compare each name's bytes cost more than the comparison.
            fn from_name(name: &str) -> Option<OptionName> {
                $(if name.len() == $name.len() && name == $name {
                    return Some(OptionName::$option);
                })*
                None
            }
        }
    };
}

// The records' usual options first: names are looked for in this order.
option_names! {
    Hostname = "hostname",
    Username = "username",
    Password = "password",
    Family = "family",
    Source = "source",
    Server = "server",
    Enabled = "enabled",
    Interface = "interface",
    Device = "device",
    CheckUrl = "check_url",
    Script = "script",
    Ipv6Suffix = "ipv6_suffix",
    PrefixInterface = "prefix_interface",
    Cacert = "cacert",
    Method = "method",
    CheckInterval = "check_interval",
    Timeout = "timeout",
    Zone = "zone",
    Endpoint = "endpoint",
    ApplicationKey = "application_key",
    ApplicationSecret = "application_secret",
    ConsumerKey = "consumer_key",
    Ttl = "ttl",
}

impl fmt::Display for OptionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const GLOBAL_OPTIONS: &[OptionName] = &[
    OptionName::CheckInterval,
    OptionName::Cacert,
    OptionName::Timeout,
];
const RECORD_OPTIONS: &[OptionName] = &[
    OptionName::Enabled,
    OptionName::Hostname,
    OptionName::Username,
    OptionName::Password,
    OptionName::Family,
    OptionName::Interface,
    OptionName::Source,
    OptionName::Device,
    OptionName::CheckUrl,
    OptionName::Script,
    OptionName::Ipv6Suffix,
    OptionName::PrefixInterface,
    OptionName::Server,
    OptionName::Cacert,
    OptionName::Method,
];
/// Options that only DynHost reads, and those that only the API reads (which are record
/// options too).
const DYNHOST_OPTIONS: &[OptionName] = &[
    OptionName::Username,
    OptionName::Password,
    OptionName::Server,
];
const API_OPTIONS: &[OptionName] = &[
    OptionName::Zone,
    OptionName::Endpoint,
    OptionName::ApplicationKey,
    OptionName::ApplicationSecret,
    OptionName::ConsumerKey,
    OptionName::Ttl,
];
/// Options that only one source reads, with the name of that source.
const SOURCE_OPTIONS: [(OptionName, &str); 3] = [
    (OptionName::Device, "netlink"),
    (OptionName::CheckUrl, "web"),
    (OptionName::Script, "script"),
];

impl Config {
    /// Reads, parses and validates the config file. Warns when other users may read it.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let config = Config::parse(path, read(path)?)?;
        config.check_cacerts()?;
        Ok(config)
    }

    /// Parses and validates config text; `path` only names the file in messages.
    pub fn parse(path: &Path, text: impl AsRef<[u8]>) -> Result<Config, Error> {
        let (config, warnings) = interpret(&sections(path, text.as_ref())?)?;
        for warning in warnings {
            log::warn!("{}:{}: {}", path.display(), warning.line, warning.message);
        }
        Ok(config)
    }

    /// A missing bundle would otherwise only show as a TLS failure, retried forever. Each
    /// bundle is opened once: records mostly share one, and 1,000 records opened it 1,000 times.
    fn check_cacerts(&self) -> Result<(), Error> {
        // Hashed as bytes: a path hashes component by component, several times slower.
        let mut checked = std::collections::HashSet::new();
        let enabled = self.records.iter().filter(|record| record.enabled);
        for record in enabled.filter(|record| checked.insert(record.cacert.as_os_str())) {
            // Opening a directory succeeds: only reading it fails.
            File::open(&record.cacert)
                .and_then(|mut file| file.read(&mut [0; 1]))
                .map_err(|error| {
                    Error::config_value(
                        &record.name,
                        OptionName::Cacert.as_str(),
                        format!("{:?} cannot be read: {error}", record.cacert),
                    )
                })?;
        }
        Ok(())
    }
}

/// The global section alone, for `api-credential`, which runs while records may still miss
/// the key it asks for; the defaults when there is no file.
pub fn load_global(path: &Path) -> Result<Global, Error> {
    let text = match read(path) {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Vec::new()
        }
        text => text?,
    };
    let sections = sections(path, &text)?;
    let section = sections.iter().find(|s| s.section_type == GLOBAL_TYPE);
    global(&Options::new(section, GLOBAL_TYPE, 0, &[GLOBAL_OPTIONS]))
}

/// The file's bytes, refusing one too large to be a config. Warns when other users may read it.
fn read(path: &Path) -> Result<Vec<u8>, Error> {
    let io_error = |error| Error::io(path, error);
    let file = File::open(path).map_err(io_error)?;
    // The file that was opened, not whatever the path names a moment later.
    let metadata = file.metadata().map_err(io_error)?;
    let mode = metadata.permissions().mode();
    if mode & 0o004 != 0 {
        log::warn!(
            "{}: other users can read this file, and it holds passwords: chmod 600 it",
            path.display()
        );
    }
    // The bound is also read through, in case the file grows after its size was checked.
    let size = metadata.len();
    // Room for the whole file at once: growing by doubling copied a large config eight times.
    let mut text = Vec::with_capacity(size.min(MAX_CONFIG_BYTES) as usize);
    if size <= MAX_CONFIG_BYTES {
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(io_error)?;
    }
    if size > MAX_CONFIG_BYTES || text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("larger than {MAX_CONFIG_BYTES} bytes (1 MiB): refused unread"),
            ),
        ));
    }
    Ok(text)
}

fn sections<'a>(path: &Path, text: &'a [u8]) -> Result<Vec<Section<'a>>, Error> {
    uci::parse(text).map_err(|error| Error::ConfigSyntax {
        path: path.to_path_buf(),
        line: error.line,
        message: error.message,
    })
}

/// Something in the file that is not an error but is most likely a mistake, such as a typo in
/// an option name.
#[derive(Debug)]
struct Warning {
    line: usize,
    message: String,
}

fn interpret(sections: &[Section]) -> Result<(Config, Vec<Warning>), Error> {
    let global_options = Options::new(
        sections
            .iter()
            .find(|section| section.section_type == GLOBAL_TYPE),
        GLOBAL_TYPE,
        0,
        &[GLOBAL_OPTIONS],
    );
    let global = global(&global_options)?;
    let mut warnings = global_options.unknown();
    let record_sections = sections.iter().filter(|s| s.section_type == RECORD_TYPE);
    let mut records = Vec::with_capacity(record_sections.count());
    let mut global_seen = false;
    for section in sections {
        match &*section.section_type {
            RECORD_TYPE => {
                let known = [RECORD_OPTIONS, API_OPTIONS];
                let options = Options::new(Some(section), RECORD_TYPE, records.len(), &known);
                records.push(record(&options, &global, &mut warnings)?);
            }
            GLOBAL_TYPE if global_seen => warnings.push(Warning {
                line: section.line,
                message: "only the first dynhost section is read: this one is ignored".into(),
            }),
            GLOBAL_TYPE => global_seen = true,
            other => warnings.push(Warning {
                line: section.line,
                message: format!("unknown section type {other:?} ignored"),
            }),
        }
    }
    check_unique_hostnames(&records)?;
    Ok((Config { global, records }, warnings))
}

fn global(options: &Options) -> Result<Global, Error> {
    Ok(Global {
        check_interval: options.seconds(
            OptionName::CheckInterval,
            DEFAULT_CHECK_INTERVAL_SECS,
            CHECK_INTERVAL_SECS,
        )?,
        cacert: Path::new(options.text(OptionName::Cacert)?.unwrap_or(DEFAULT_CACERT)).into(),
        timeout: options.seconds(OptionName::Timeout, DEFAULT_TIMEOUT_SECS, TIMEOUT_SECS)?,
    })
}

fn record(
    options: &Options,
    global: &Global,
    warnings: &mut Vec<Warning>,
) -> Result<Record, Error> {
    let family = family(options)?;
    let source = source(options)?;
    let api_mode = match options.text(OptionName::Method)? {
        None | Some("dynhost") => false,
        Some("api") => true,
        Some(other) => {
            return Err(options.invalid(
                OptionName::Method,
                format!("{other:?} is not a method: use dynhost or api"),
            ))
        }
    };
    let hostname = hostname(options, api_mode)?;
    let (unused, method) = if api_mode {
        (DYNHOST_OPTIONS, "dynhost")
    } else {
        (API_OPTIONS, "api")
    };
    warnings.extend(unused.iter().filter_map(|option| {
        options.entry(*option).map(|entry| Warning {
            line: entry.line,
            message: format!(
                "option '{option}' in section '{}' ignored: only method {method} reads it",
                options.label
            ),
        })
    }));
    warnings.extend(options.unknown());
    warnings.extend(
        SOURCE_OPTIONS
            .iter()
            .filter(|(_, reader)| *reader != source.name())
            .filter_map(|(option, reader)| {
                options.entry(*option).map(|entry| Warning {
                    line: entry.line,
                    message: format!(
                        "option '{option}' in section '{}' ignored: only source {reader} reads it",
                        options.label
                    ),
                })
            }),
    );
    let api = api_mode.then(|| api(options, &hostname)).transpose()?;
    // What api mode leaves empty.
    fn dynhost<T: Default>(
        api: &Option<Api>,
        read: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        match api {
            Some(_) => Ok(T::default()),
            None => read(),
        }
    }
    Ok(Record {
        name: options.label.to_string(),
        enabled: options.boolean(OptionName::Enabled, true)?,
        username: dynhost(&api, || username(options))?,
        password: Secret::new(dynhost(&api, || password(options))?),
        hostname,
        family,
        interface: interface(options, family)?,
        ipv6_suffix: ipv6_suffix(options, family, &source)?,
        prefix_interface: prefix_interface(options, family, &source, warnings)?,
        source,
        server: dynhost(&api, || server(options))?,
        cacert: options
            .text(OptionName::Cacert)?
            .map_or_else(|| global.cacert.clone(), |path| Path::new(path).into()),
        api,
    })
}

fn server(options: &Options) -> Result<Cow<'static, str>, Error> {
    let server = options.https_url(
        OptionName::Server,
        "so that the password never travels in clear",
        UrlTail::None,
    )?;
    Ok(server.map_or(Cow::Borrowed(DEFAULT_SERVER), |url| url.to_string().into()))
}

/// In api mode the host name may also be a wildcard, `*.` and a fully qualified name.
fn hostname(options: &Options, api_mode: bool) -> Result<String, Error> {
    let hostname = options.required(OptionName::Hostname)?;
    let name = match hostname.strip_prefix("*.") {
        Some(name) if api_mode => name,
        _ => hostname,
    };
    if !is_fqdn(name) {
        let wildcard = if api_mode {
            ", or '*.' and such a name"
        } else {
            " (a wildcard needs method api)"
        };
        return Err(options.invalid(
            OptionName::Hostname,
            format!(
                "{hostname:?} is not a fully qualified host name: at least two labels \
                 of letters, digits and inner -, up to 63 characters each and 253 in all\
                 {wildcard}"
            ),
        ));
    }
    Ok(hostname.to_ascii_lowercase())
}

fn api(options: &Options, hostname: &str) -> Result<Api, Error> {
    let endpoint = api_endpoint(options.required(OptionName::Endpoint)?)
        .map_err(|problem| options.invalid(OptionName::Endpoint, problem))?;
    Ok(Api {
        endpoint,
        zone: zone(options, hostname)?,
        application_key: api_key(options, OptionName::ApplicationKey)?,
        application_secret: Secret::new(api_key(options, OptionName::ApplicationSecret)?),
        consumer_key: Secret::new(api_key(options, OptionName::ConsumerKey)?),
        ttl: ttl(options)?,
    })
}

/// The zone must hold the host name: the sub-domain is what is left of it.
fn zone(options: &Options, hostname: &str) -> Result<Option<String>, Error> {
    let Some(zone) = options.text(OptionName::Zone)? else {
        return Ok(None);
    };
    let zone = zone.to_ascii_lowercase();
    if !is_fqdn(&zone) {
        return Err(options.invalid(
            OptionName::Zone,
            format!("{zone:?} is not a domain name such as 'example.com'"),
        ));
    }
    let name = hostname.strip_prefix("*.").unwrap_or(hostname);
    if name != zone && !name.ends_with(&format!(".{zone}")) {
        return Err(options.invalid(
            OptionName::Zone,
            format!("{zone:?} does not hold hostname {hostname:?}"),
        ));
    }
    Ok(Some(zone))
}

/// The API's keys travel in headers: printable ASCII without spaces. A secret key is never
/// quoted, even when refused.
fn api_key(options: &Options, option: OptionName) -> Result<String, Error> {
    let key = options.required(option)?;
    if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        let shown = if option == OptionName::ApplicationKey {
            format!("{key:?} ")
        } else {
            String::new()
        };
        return Err(options.invalid(
            option,
            format!("{shown}holds something else than printable ASCII without spaces"),
        ));
    }
    Ok(key.to_string())
}

fn ttl(options: &Options) -> Result<Option<u32>, Error> {
    let Some(text) = options.text(OptionName::Ttl)? else {
        return Ok(None);
    };
    match text.parse() {
        Ok(ttl) if API_TTL_SECS.contains(&ttl) => Ok(Some(ttl)),
        _ => Err(options.invalid(
            OptionName::Ttl,
            format!(
                "{text:?} is not a TTL: a whole number of seconds from {} to {}",
                API_TTL_SECS.start(),
                API_TTL_SECS.end()
            ),
        )),
    }
}

pub(crate) fn is_fqdn(name: &str) -> bool {
    let is_label = |label: &[u8]| {
        (1..=63).contains(&label.len())
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
            && label
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-')
    };
    let mut labels = 0;
    // Split as bytes: a `str` split by a character cost half of the whole check.
    let all_labels = name.as_bytes().split(|&byte| byte == b'.').all(|label| {
        labels += 1;
        is_label(label)
    });
    name.len() <= 253 && all_labels && labels >= 2
}

fn username(options: &Options) -> Result<String, Error> {
    let username = options.required(OptionName::Username)?;
    if username.contains(':') {
        return Err(options.invalid(
            OptionName::Username,
            format!("{username:?} contains ':', which HTTP Basic authentication cannot carry"),
        ));
    }
    if holds(username, char::is_control) {
        return Err(options.invalid(
            OptionName::Username,
            format!("{username:?} contains a control character"),
        ));
    }
    Ok(username.to_string())
}

fn password(options: &Options) -> Result<String, Error> {
    let password = options.required(OptionName::Password)?;
    if holds(password, char::is_control) {
        return Err(options.invalid(OptionName::Password, "contains a control character"));
    }
    Ok(password.to_string())
}

fn family(options: &Options) -> Result<Family, Error> {
    match options.text(OptionName::Family)? {
        None | Some("ipv4") => Ok(Family::Ipv4),
        Some("ipv6") => Ok(Family::Ipv6),
        Some(other) => Err(options.invalid(
            OptionName::Family,
            format!("{other:?} is not a family: use ipv4 or ipv6"),
        )),
    }
}

fn interface(options: &Options, family: Family) -> Result<Cow<'static, str>, Error> {
    let default = match family {
        Family::Ipv4 => DEFAULT_IPV4_INTERFACE,
        Family::Ipv6 => DEFAULT_IPV6_INTERFACE,
    };
    interface_name(options, OptionName::Interface, default)
}

/// Read by the ipv6 records of the sources that know the delegated prefix; elsewhere a warning.
fn prefix_interface(
    options: &Options,
    family: Family,
    source: &Source,
    warnings: &mut Vec<Warning>,
) -> Result<Cow<'static, str>, Error> {
    const OPTION: OptionName = OptionName::PrefixInterface;
    let name = interface_name(options, OPTION, "lan")?;
    let read = family == Family::Ipv6 && matches!(source, Source::Ubus | Source::Netlink { .. });
    if let (false, Some(entry)) = (read, options.entry(OPTION)) {
        warnings.push(Warning {
            line: entry.line,
            message: format!(
                "option '{OPTION}' in section '{}' ignored: only ipv6 records with source ubus \
                 or netlink read it",
                options.label
            ),
        });
    }
    Ok(name)
}

/// An OpenWrt logical interface's name (a UCI section name), `default` when not set.
fn interface_name(
    options: &Options,
    option: OptionName,
    default: &'static str,
) -> Result<Cow<'static, str>, Error> {
    match options.text(option)? {
        None => Ok(Cow::Borrowed(default)),
        Some(interface) if uci::is_name(interface) => Ok(interface.to_string().into()),
        Some(interface) => Err(options.invalid(
            option,
            format!("{interface:?} is not an interface name: only letters, digits and _"),
        )),
    }
}

fn source(options: &Options) -> Result<Source, Error> {
    match options.text(OptionName::Source)? {
        None | Some("ubus") => Ok(Source::Ubus),
        Some("netlink") => Ok(Source::Netlink {
            device: device(options)?,
        }),
        Some("web") => Ok(Source::Web {
            check_url: options
                .https_url(
                    OptionName::CheckUrl,
                    "so that nobody on the way can forge the address",
                    UrlTail::PathAndQuery,
                )?
                .map(str::to_string),
        }),
        Some("script") => Ok(Source::Script {
            command: command(options)?,
        }),
        Some(other) => Err(options.invalid(
            OptionName::Source,
            format!("{other:?} is not a source: use ubus, netlink, web or script"),
        )),
    }
}

fn ipv6_suffix(
    options: &Options,
    family: Family,
    source: &Source,
) -> Result<Option<Ipv6Addr>, Error> {
    let Some(text) = options.text(OptionName::Ipv6Suffix)? else {
        return Ok(None);
    };
    let refuse =
        |why: &str| Err(options.invalid(OptionName::Ipv6Suffix, format!("{text:?} {why}")));
    if family != Family::Ipv6 {
        return refuse("needs option family 'ipv6'");
    }
    if !matches!(source, Source::Ubus | Source::Netlink { .. }) {
        return refuse(
            "needs source 'ubus' or 'netlink', which know the delegated prefix; \
             with other sources the router's own address would be published instead",
        );
    }
    let Ok(suffix) = text.parse::<Ipv6Addr>() else {
        return refuse("is not an IPv6 interface identifier such as '::1:2:3:4'");
    };
    let bits = u128::from(suffix);
    if bits >> 64 != 0 {
        return refuse("sets bits of the prefix: an interface identifier is the last 64 bits, as in '::1:2:3:4'");
    }
    if bits == 0 {
        return refuse("is all zeros, which is the prefix's router anycast address");
    }
    Ok(Some(suffix))
}

fn device(options: &Options) -> Result<Option<String>, Error> {
    match options.text(OptionName::Device)? {
        None => Ok(None),
        Some(device) if is_device_name(device) => Ok(Some(device.to_string())),
        Some(device) => Err(options.invalid(
            OptionName::Device,
            format!(
                "{device:?} is not a network device name: 1 to 15 characters, \
                 no '/', ':' or white space"
            ),
        )),
    }
}

/// The kernel's `dev_valid_name`.
fn is_device_name(name: &str) -> bool {
    (1..16).contains(&name.len())
        && name != "."
        && name != ".."
        && !name
            .contains(|character: char| matches!(character, '/' | ':') || character.is_whitespace())
}

fn command(options: &Options) -> Result<Vec<String>, Error> {
    let script = options.required(OptionName::Script)?;
    let command: Vec<String> = script
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect();
    if command.is_empty() {
        return Err(options.invalid(OptionName::Script, format!("{script:?} names no command")));
    }
    Ok(command)
}

/// What an https URL option may hold after its host and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlTail {
    /// At most a `/`: dynhost adds the DynHost path and query itself, and anything else would
    /// steer the request elsewhere.
    None,
    /// A path, no query or fragment: dynhost adds the API's paths to it.
    Path,
    /// A path and a query, no fragment.
    PathAndQuery,
}

/// What is wrong with `url` as an https URL allowing `tail`, in words; `why` says what plain
/// HTTP would expose. A URL with a user part is never quoted: that part may be a password.
fn check_https_url(url: &str, tail: UrlTail, why: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("https://")
        .filter(|_| !holds(url, is_space_or_control))
    else {
        return Err(format!(
            "{url:?} is refused: it must be an https:// URL with a host, {why}"
        ));
    };
    // By byte: the three are ASCII, which no byte of a longer character can be.
    let end = rest
        .bytes()
        .position(|byte| matches!(byte, b'/' | b'?' | b'#'));
    let (authority, after) = rest.split_at(end.unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(
            "is refused: it holds a user part (user:password@), and dynhost sends \
                    the record's own credentials"
                .into(),
        );
    }
    let host = match authority.rsplit_once(':') {
        // An IPv6 literal's colons are inside its brackets.
        Some((host, port)) if !port.contains(']') => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{url:?} is refused: its port is not a number"));
            }
            host
        }
        _ => authority,
    };
    if host.is_empty() {
        return Err(format!(
            "{url:?} is refused: it must be an https:// URL with a host, {why}"
        ));
    }
    match tail {
        UrlTail::None if !matches!(after, "" | "/") => Err(format!(
            "{url:?} is refused: only https://host or https://host:port, with no path, query \
             or fragment (dynhost adds the update path itself)"
        )),
        UrlTail::PathAndQuery if after.contains('#') => Err(format!(
            "{url:?} is refused: a fragment (#...) is never sent to the server"
        )),
        UrlTail::Path if after.contains(['?', '#']) => Err(format!(
            "{url:?} is refused: a base URL has no query or fragment"
        )),
        _ => Ok(()),
    }
}

/// Whether `text` holds a character that `refused` is true of. A config's values are mostly
/// ASCII, and looked at a byte at a time they cost a fifth of decoding them.
fn holds(text: &str, refused: impl Fn(char) -> bool) -> bool {
    if text.is_ascii() {
        text.bytes().map(char::from).any(&refused)
    } else {
        text.chars().any(refused)
    }
}

/// `char::is_whitespace` or `char::is_control`: in ASCII, a space and what comes before it,
/// and DEL, without the call to Unicode's tables.
fn is_space_or_control(character: char) -> bool {
    if character.is_ascii() {
        character <= ' ' || character == '\x7f'
    } else {
        character.is_whitespace() || character.is_control()
    }
}

/// Tabs and line ends are text; other control characters never are.
fn is_forbidden_in_value(character: char) -> bool {
    character < ' ' && !matches!(character, '\t' | '\n' | '\r')
}

/// Two records for one name would overwrite each other's address, or send the same update twice.
fn check_unique_hostnames(records: &[Record]) -> Result<(), Error> {
    // Hashed rather than compared pairwise, which made many records quadratic, or sorted,
    // which cost ten times more. In file order: the record named is the first that repeats
    // an earlier one.
    let mut seen = HashMap::with_capacity(records.len());
    for record in records.iter().filter(|record| record.enabled) {
        let key = (record.hostname.as_str(), record.family.name());
        let Some(earlier) = seen.insert(key, record) else {
            continue;
        };
        return Err(Error::config_value(
            &record.name,
            OptionName::Hostname.as_str(),
            format!(
                "{:?} ({}) is already updated by section '{}'",
                record.hostname,
                record.family.name(),
                earlier.name
            ),
        ));
    }
    Ok(())
}

/// The options of one section, or of none, which gives every default.
struct Options<'a> {
    /// The section's entries, at the index of the option they set.
    found: [Option<&'a uci::Entry<'a>>; OptionName::COUNT],
    /// Entries of options that this type of section does not have.
    unknown: Vec<&'a uci::Entry<'a>>,
    /// The section name, or `@type[N]` as `uci` names an anonymous section.
    label: Cow<'a, str>,
}

impl<'a> Options<'a> {
    /// `known` are the options a section of `section_type` has, in pieces: joining the lists
    /// for each record made the allocator map and unmap memory for each of them (`status` of
    /// 1,000 records: 109 of its 249 mappings).
    fn new(
        section: Option<&'a Section<'a>>,
        section_type: &str,
        index: usize,
        known: &[&[OptionName]],
    ) -> Self {
        let label = match section.and_then(|section| section.name.as_deref()) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("@{section_type}[{index}]")),
        };
        let mut options = Options {
            found: [None; OptionName::COUNT],
            unknown: Vec::new(),
            label,
        };
        for entry in section.iter().flat_map(|section| &section.options) {
            match OptionName::from_name(&entry.name) {
                Some(option) if known.iter().any(|names| names.contains(&option)) => {
                    options.found[option as usize] = Some(entry);
                }
                _ => options.unknown.push(entry),
            }
        }
        options
    }

    fn invalid(&self, option: OptionName, message: impl Into<String>) -> Error {
        Error::config_value(&self.label, option.as_str(), message)
    }

    fn entry(&self, option: OptionName) -> Option<&'a uci::Entry<'a>> {
        self.found[option as usize]
    }

    /// Every value dynhost uses is read here: libuci takes any byte, but a value that is not
    /// text, or holds a control character, could change a request or a log line once sent.
    fn text(&self, option: OptionName) -> Result<Option<&'a str>, Error> {
        match self.entry(option).map(|entry| &entry.value) {
            None => Ok(None),
            Some(Value::Single(bytes)) => match std::str::from_utf8(bytes) {
                Err(_) => Err(self.invalid(option, "is not UTF-8 text")),
                // Every forbidden character is ASCII: a byte is one, and cheaper than a char.
                Ok(text) => match text
                    .bytes()
                    .map(char::from)
                    .find(|&c| is_forbidden_in_value(c))
                {
                    Some(character) => Err(self.invalid(
                        option,
                        format!("holds the control character U+{:04X}", u32::from(character)),
                    )),
                    None => Ok(Some(text)),
                },
            },
            Some(Value::List(_)) => {
                Err(self.invalid(option, "is a list: write it once, as 'option', not 'list'"))
            }
        }
    }

    fn required(&self, option: OptionName) -> Result<&'a str, Error> {
        self.text(option)?
            .ok_or_else(|| self.invalid(option, "is required but missing or empty"))
    }

    /// The words of the shell's `config_get_bool`.
    fn boolean(&self, option: OptionName, default: bool) -> Result<bool, Error> {
        match self.text(option)? {
            None => Ok(default),
            Some("1" | "on" | "true" | "yes" | "enabled") => Ok(true),
            Some("0" | "off" | "false" | "no" | "disabled") => Ok(false),
            Some(other) => Err(self.invalid(
                option,
                format!(
                    "{other:?} is not a boolean: use 1, on, true, yes, enabled \
                     or 0, off, false, no, disabled"
                ),
            )),
        }
    }

    fn seconds(
        &self,
        option: OptionName,
        default: u64,
        allowed: RangeInclusive<u64>,
    ) -> Result<Duration, Error> {
        let Some(text) = self.text(option)? else {
            return Ok(Duration::from_secs(default));
        };
        match text.parse() {
            Ok(seconds) if allowed.contains(&seconds) => Ok(Duration::from_secs(seconds)),
            Ok(_) if *allowed.end() == u64::MAX => Err(self.invalid(
                option,
                format!(
                    "{text:?} is too small: at least {} seconds",
                    allowed.start()
                ),
            )),
            Ok(_) => Err(self.invalid(
                option,
                format!(
                    "{text:?} is out of range: {} to {} seconds",
                    allowed.start(),
                    allowed.end()
                ),
            )),
            Err(_) => {
                Err(self.invalid(option, format!("{text:?} is not a whole number of seconds")))
            }
        }
    }

    /// `why` tells the user what plain HTTP would expose.
    fn https_url(
        &self,
        option: OptionName,
        why: &str,
        tail: UrlTail,
    ) -> Result<Option<&'a str>, Error> {
        let url = self.text(option)?;
        if let Some(url) = url {
            check_https_url(url, tail, why).map_err(|problem| self.invalid(option, problem))?;
        }
        Ok(url)
    }

    /// A warning for each option that this type of section does not have.
    fn unknown(&self) -> Vec<Warning> {
        (self.unknown.iter())
            .map(|entry| Warning {
                line: entry.line,
                message: format!(
                    "unknown option {:?} in section '{}' ignored",
                    entry.name, self.label
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const PASSWORD: &str = "hunter2-Secret";
    const HOME: &str = "config record 'home'
\toption hostname 'home.example.com'
\toption username 'example.com-router'
\toption password 'hunter2-Secret'
";

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(Path::new("/etc/config/dynhost"), text)
    }

    fn config(text: &str) -> Config {
        parse(text).unwrap_or_else(|error| panic!("{text:?} refused: {error}"))
    }

    /// The home record with `options` added to it, each `(name, value)`.
    fn home_with(options: &[(&str, &str)]) -> String {
        let mut text = HOME.to_string();
        for (name, value) in options {
            text += &format!("\toption {name} '{value}'\n");
        }
        text
    }

    fn home(options: &[(&str, &str)]) -> Record {
        config(&home_with(options)).records.remove(0)
    }

    #[test]
    fn a_hostname_and_family_is_updated_by_one_enabled_record_only() {
        let record = |name: &str, host: &str, family: &str, enabled: &str| {
            format!(
                "config record '{name}'\n\toption hostname '{host}.example.com'\n\toption \
                 username 'example.com-u'\n\toption password 'p'\n\toption family '{family}'\n\
                 \toption enabled '{enabled}'\n"
            )
        };
        let text = [
            record("a", "one", "ipv4", "1"),
            record("b", "two", "ipv4", "1"),
            record("c", "one", "ipv6", "1"),
            record("d", "one", "ipv4", "0"),
            record("e", "two", "ipv4", "1"),
            record("f", "one", "ipv4", "1"),
        ]
        .concat();
        let error = parse(&text).unwrap_err().to_string();
        assert!(
            error.contains("'e'")
                && error.contains("\"two.example.com\" (ipv4)")
                && error.ends_with("already updated by section 'b'"),
            "{error}"
        );
        // Another family, or a disabled record, is no repeat.
        assert_eq!(
            config(&text[..text.find("config record 'e'").unwrap()])
                .records
                .len(),
            4
        );
    }

    /// The section, option and message of the value error that `text` gives.
    fn value_error(text: &str) -> (String, String, String) {
        match parse(text) {
            Err(Error::ConfigValue {
                section,
                option,
                message,
            }) => (section, option, message),
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    /// Asserts that setting `option` to `value` in the home record is refused, with a message
    /// that quotes the value.
    fn assert_refused(option: &str, value: &str) {
        let (section, refused, message) = value_error(&home_with(&[(option, value)]));
        assert_eq!((section.as_str(), refused.as_str()), ("home", option));
        assert!(message.contains(&format!("{value:?}")), "{message}");
    }

    fn warnings(text: &str) -> Vec<String> {
        let sections = uci::parse(text).expect("valid UCI");
        let (_, warnings) = interpret(&sections).expect("valid config");
        warnings
            .into_iter()
            .map(|warning| format!("{}: {}", warning.line, warning.message))
            .collect()
    }

    #[test]
    fn defaults() {
        let config = config(HOME);
        assert_eq!(
            config.global,
            Global {
                check_interval: Duration::from_secs(600),
                cacert: Path::new(DEFAULT_CACERT).into(),
                timeout: Duration::from_secs(30),
            }
        );
        assert_eq!(
            config.records,
            [Record {
                name: "home".into(),
                enabled: true,
                hostname: "home.example.com".into(),
                username: "example.com-router".into(),
                password: Secret::new(PASSWORD.into()),
                family: Family::Ipv4,
                interface: "wan".into(),
                source: Source::Ubus,
                ipv6_suffix: None,
                prefix_interface: "lan".into(),
                server: DEFAULT_SERVER.into(),
                cacert: Path::new(DEFAULT_CACERT).into(),
                api: None,
            }]
        );
    }

    #[test]
    fn an_empty_file_has_no_records() {
        let config = config("");
        assert!(config.records.is_empty());
        assert_eq!(config.global.check_interval, Duration::from_secs(600));
    }

    #[test]
    fn global_values() {
        let config = config(
            "config dynhost 'anything'
\toption check_interval 30
\toption cacert '/etc/my-ca.pem'
\toption timeout 3600
",
        );
        assert_eq!(
            config.global,
            Global {
                check_interval: Duration::from_secs(30),
                cacert: Path::new("/etc/my-ca.pem").into(),
                timeout: Duration::from_secs(3600),
            }
        );
    }

    #[test]
    fn the_global_section_may_come_after_the_records_and_be_anonymous() {
        let config = config(&format!("{HOME}config dynhost\n\toption cacert '/ca'\n"));
        assert_eq!(&*config.records[0].cacert, Path::new("/ca"));
    }

    #[test]
    fn only_the_first_global_section_is_read() {
        let text = "config dynhost\n\toption timeout 5\nconfig dynhost\n\toption timeout 6\n";
        assert_eq!(config(text).global.timeout, Duration::from_secs(5));
        assert_eq!(
            warnings(text),
            ["3: only the first dynhost section is read: this one is ignored"]
        );
    }

    #[test]
    fn check_interval_is_30_seconds_to_a_week() {
        let global = |value: &str| {
            parse(&format!(
                "config dynhost\n\toption check_interval '{value}'\n"
            ))
        };
        assert!(global("30").is_ok());
        assert!(global("604800").is_ok());
        for bad in ["29", "0", "-1", "abc", "1.5", "10m", " 60", "604801"] {
            match global(bad) {
                Err(Error::ConfigValue {
                    section,
                    option,
                    message,
                }) => {
                    assert_eq!(
                        (section.as_str(), option.as_str()),
                        ("@dynhost[0]", "check_interval")
                    );
                    assert!(message.contains(&format!("{bad:?}")), "{message}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn timeout_is_1_to_3600_seconds() {
        let global =
            |value: &str| parse(&format!("config dynhost 'g'\n\toption timeout '{value}'\n"));
        assert_eq!(
            config("config dynhost 'g'\n\toption timeout 1\n")
                .global
                .timeout,
            Duration::from_secs(1)
        );
        assert!(global("3600").is_ok());
        for bad in ["0", "3601", "x"] {
            let error = global(bad).unwrap_err().to_string();
            assert!(error.contains("'g' option 'timeout'"), "{error}");
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn the_first_enabled_record_of_an_unreadable_cacert_is_named() {
        let record = |name: &str, cacert: &str, enabled: &str| {
            format!(
                "config record '{name}'\n\toption hostname '{name}.example.com'
\toption username 'u'\n\toption password 'p'\n\toption cacert '{cacert}'
\toption enabled '{enabled}'\n"
            )
        };
        let readable = "/dev/zero";
        let missing = "/nonexistent-dynhost-test/ca.pem";
        let text = [
            record("one", readable, "1"),
            record("off", missing, "0"),
            record("two", readable, "1"),
            record("three", missing, "1"),
            record("four", missing, "1"),
        ]
        .concat();
        let error = config(&text).check_cacerts().expect_err("a missing bundle");
        let message = error.to_string();
        assert!(
            message.contains("three") && message.contains(missing),
            "{message}"
        );
        assert!(config(&text[..text.find("config record 'three'").unwrap()])
            .check_cacerts()
            .is_ok());
    }

    #[test]
    fn a_record_cacert_overrides_the_global_one() {
        let text = format!(
            "config dynhost\n\toption cacert '/global.pem'\n{}config record 'other'
\toption hostname 'other.example.com'
\toption username 'u'
\toption password 'p'
",
            home_with(&[("cacert", "/own.pem")])
        );
        let records = config(&text).records;
        assert_eq!(&*records[0].cacert, Path::new("/own.pem"));
        assert_eq!(&*records[1].cacert, Path::new("/global.pem"));
    }

    #[test]
    fn booleans() {
        for word in ["1", "on", "true", "yes", "enabled"] {
            assert!(home(&[("enabled", word)]).enabled, "{word}");
        }
        for word in ["0", "off", "false", "no", "disabled"] {
            assert!(!home(&[("enabled", word)]).enabled, "{word}");
        }
        for word in ["2", "TRUE", "Yes", "y", "enable", " 1"] {
            assert_refused("enabled", word);
        }
    }

    #[test]
    fn hostnames_are_fully_qualified_and_lowercased() {
        assert_eq!(
            home(&[("hostname", "Home.EXAMPLE.com")]).hostname,
            "home.example.com"
        );
        let longest_label = "a".repeat(63);
        for good in [
            "a.b",
            "xn--bcher-kva.example",
            "1.example.com",
            "a-b.c-d.e",
            longest_label.as_str(),
        ] {
            let hostname = if good.contains('.') {
                good.to_string()
            } else {
                format!("{good}.com")
            };
            assert_eq!(home(&[("hostname", &hostname)]).hostname, hostname);
        }
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = hostname_of_length(254);
        for bad in [
            "example",
            "home..example.com",
            ".example.com",
            "example.com.",
            "-home.example.com",
            "home-.example.com",
            "home_1.example.com",
            "home example.com",
            "hôme.example.com",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert_refused("hostname", bad);
        }
    }

    /// Made of labels short enough to be valid, so only the total length can be wrong.
    fn hostname_of_length(length: usize) -> String {
        let label = "a".repeat(62);
        let hostname = format!("{label}.{label}.{label}.{}.com", "a".repeat(length - 193));
        assert_eq!(hostname.len(), length);
        hostname
    }

    #[test]
    fn the_longest_hostname_is_253_characters() {
        let hostname = hostname_of_length(253);
        assert_eq!(home(&[("hostname", &hostname)]).hostname, hostname);
    }

    #[test]
    fn required_options() {
        for option in ["hostname", "username", "password"] {
            let text = HOME.replace(
                &format!("\toption {option} "),
                &format!("\toption other_{option} "),
            );
            let (section, missing, message) = value_error(&text);
            assert_eq!((section.as_str(), missing.as_str()), ("home", option));
            assert!(message.contains("required"), "{message}");

            let (_, empty, _) = value_error(&text.replace(
                &format!("\toption other_{option} "),
                &format!("\toption {option} '' # "),
            ));
            assert_eq!(empty, option);
        }
    }

    #[test]
    fn an_empty_option_keeps_an_earlier_value_as_libuci_does() {
        assert_eq!(
            home(&[("hostname", "")]).hostname,
            "home.example.com",
            "uci show says the same"
        );
    }

    #[test]
    fn values_dynhost_uses_must_be_text_without_control_characters() {
        for (value, why) in [
            (&b"hunter2-Secret\x01"[..], "U+0001"),
            (b"hunter2-Secret\x1b", "U+001B"),
            (b"hunter2-Secret\xe9", "not UTF-8"),
        ] {
            let mut text = HOME.as_bytes().to_vec();
            text.extend_from_slice(b"\toption password '");
            text.extend_from_slice(value);
            text.extend_from_slice(b"'\n");
            match Config::parse(Path::new("dynhost"), &text) {
                Err(error @ Error::ConfigValue { .. }) => {
                    let shown = error.to_string();
                    assert!(
                        shown.starts_with("section 'home' option 'password': "),
                        "{shown}"
                    );
                    assert!(shown.contains(why), "{shown}");
                    assert!(!shown.contains("hunter2"), "{shown}");
                }
                other => panic!("{value:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn bytes_that_are_not_text_are_fine_where_dynhost_does_not_look() {
        let mut text = b"# caf\xe9 \x01\n".to_vec();
        text.extend_from_slice(HOME.as_bytes());
        text.extend_from_slice(b"\toption note 'caf\xe9'\nconfig other\n\toption x '\xff\x02'\n");
        let config =
            Config::parse(Path::new("dynhost"), &text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(config.records[0].hostname, "home.example.com");
    }

    #[test]
    fn usernames() {
        assert_eq!(home(&[("username", "a b.c@d")]).username, "a b.c@d");
        for bad in ["a:b", "a\tb", "a\u{7f}b", "a\u{85}b"] {
            assert_refused("username", bad);
        }
    }

    #[test]
    fn passwords_may_hold_anything_printable() {
        let password = "p@ss' \"w0rd#1;:\\ é";
        let text = format!("{HOME}\toption password \"p@ss' \\\"w0rd#1;:\\\\ é\"\n");
        assert_eq!(config(&text).records[0].password.expose(), password);
    }

    #[test]
    fn passwords_with_control_characters_are_refused_without_showing_them() {
        let (section, option, message) =
            value_error(&home_with(&[("password", "hunter2\tSecret")]));
        assert_eq!((section.as_str(), option.as_str()), ("home", "password"));
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn families_and_their_default_interfaces() {
        let ipv6 = home(&[("family", "ipv6")]);
        assert_eq!((ipv6.family, &*ipv6.interface), (Family::Ipv6, "wan6"));
        let ipv4 = home(&[("family", "ipv4")]);
        assert_eq!((ipv4.family, &*ipv4.interface), (Family::Ipv4, "wan"));
        for bad in ["IPv4", "inet6", "4"] {
            assert_refused("family", bad);
        }
    }

    #[test]
    fn interfaces() {
        let record = home(&[("family", "ipv6"), ("interface", "wan_6")]);
        assert_eq!(record.interface, "wan_6");
        for bad in ["wan-6", "wan.6", "pppoe wan"] {
            assert_refused("interface", bad);
        }
    }

    #[test]
    fn prefix_interfaces() {
        let v6 = ("family", "ipv6");
        assert_eq!(home(&[v6]).prefix_interface, "lan");
        let record = home(&[
            v6,
            ("ipv6_suffix", "::1:2:3:4"),
            ("prefix_interface", "srv_lan"),
        ]);
        assert_eq!(record.prefix_interface, "srv_lan");
        for bad in ["lan-2", "lan.2", "my lan"] {
            assert_refused("prefix_interface", bad);
        }
        let (_, option, message) = value_error(&home_with(&[v6, ("prefix_interface", "a/b")]));
        assert_eq!(option, "prefix_interface");
        assert!(message.contains("not an interface name"), "{message}");
    }

    #[test]
    fn prefix_interface_is_warned_about_where_it_is_not_read() {
        for options in [
            vec![("prefix_interface", "guest")],
            vec![
                ("family", "ipv6"),
                ("source", "web"),
                ("prefix_interface", "guest"),
            ],
        ] {
            assert_eq!(
                warnings(&home_with(&options)),
                [format!(
                    "{}: option 'prefix_interface' in section 'home' ignored: only ipv6 records \
                     with source ubus or netlink read it",
                    options.len() + 4
                )],
                "{options:?}"
            );
        }
        let read = home_with(&[
            ("family", "ipv6"),
            ("source", "netlink"),
            ("prefix_interface", "g"),
        ]);
        assert_eq!(warnings(&read), Vec::<String>::new());
    }

    #[test]
    fn sources() {
        assert_eq!(home(&[("source", "ubus")]).source, Source::Ubus);
        assert_eq!(
            home(&[("source", "netlink")]).source,
            Source::Netlink { device: None }
        );
        assert_eq!(
            home(&[("source", "netlink"), ("device", "pppoe-wan")]).source,
            Source::Netlink {
                device: Some("pppoe-wan".into())
            }
        );
        assert_eq!(
            home(&[("source", "web")]).source,
            Source::Web { check_url: None }
        );
        assert_eq!(
            home(&[("source", "web"), ("check_url", "https://ip.example/")]).source,
            Source::Web {
                check_url: Some("https://ip.example/".into())
            }
        );
        assert_eq!(
            home(&[
                ("source", "script"),
                ("script", " /usr/bin/my-ip  --v4\targ ")
            ])
            .source,
            Source::Script {
                command: vec!["/usr/bin/my-ip".into(), "--v4".into(), "arg".into()]
            }
        );
        for bad in ["UBUS", "http"] {
            assert_refused("source", bad);
        }
    }

    #[test]
    fn ipv6_suffixes() {
        let v6 = [("family", "ipv6")];
        assert_eq!(home(&v6).ipv6_suffix, None);
        for (source, text) in [("ubus", "::1:2:3:4"), ("netlink", "::a00:27ff:fe12:3456")] {
            let record = home(&[v6[0], ("source", source), ("ipv6_suffix", text)]);
            assert_eq!(record.ipv6_suffix, Some(text.parse().unwrap()));
        }
        for bad in [
            "1:2:3:4",
            "::1:2:3:4/64",
            "2001:db8::1",
            "::",
            "::ffff:1:0:0:1",
        ] {
            let (_, option, message) = value_error(&home_with(&[v6[0], ("ipv6_suffix", bad)]));
            assert_eq!(option, "ipv6_suffix");
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
    }

    #[test]
    fn ipv6_suffix_needs_ipv6_and_a_source_that_knows_the_prefix() {
        let (_, _, message) = value_error(&home_with(&[("ipv6_suffix", "::1")]));
        assert!(message.contains("needs option family 'ipv6'"), "{message}");
        for source in [
            vec![("source", "web")],
            vec![("source", "script"), ("script", "x")],
        ] {
            let mut options = vec![("family", "ipv6"), ("ipv6_suffix", "::1")];
            options.extend(source);
            let (_, _, message) = value_error(&home_with(&options));
            assert!(
                message.contains("needs source 'ubus' or 'netlink'"),
                "{message}"
            );
        }
    }

    #[test]
    fn device_names_follow_the_kernel() {
        for bad in ["a/b", "a:1", "a b", ".", "..", "sixteen-chars-xx"] {
            let text = home_with(&[("source", "netlink"), ("device", bad)]);
            let (_, option, message) = value_error(&text);
            assert_eq!(option, "device");
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
        let fifteen = "fifteen-chars-x";
        let record = home(&[("source", "netlink"), ("device", fifteen)]);
        assert_eq!(
            record.source,
            Source::Netlink {
                device: Some(fifteen.into())
            }
        );
    }

    #[test]
    fn a_script_source_needs_a_command() {
        let (_, option, message) = value_error(&home_with(&[("source", "script")]));
        assert_eq!(option, "script");
        assert!(message.contains("required"), "{message}");
        let (_, option, message) =
            value_error(&home_with(&[("source", "script"), ("script", " \t ")]));
        assert_eq!(option, "script");
        assert!(message.contains("\" \\t \""), "{message}");
    }

    #[test]
    fn the_server_must_be_https_with_a_host() {
        assert_eq!(
            home(&[("server", "https://127.0.0.1:8443")]).server,
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            home(&[("server", "https://dns.example/")]).server,
            "https://dns.example/"
        );
        assert_eq!(
            home(&[("server", "https://[2001:db8::1]:8443")]).server,
            "https://[2001:db8::1]:8443"
        );
        for bad in [
            "https://dns.example/base/",
            "https://dns.example/?x=1",
            "https://dns.example?x=1",
            "https://dns.example#top",
            "https://dns.example/#",
            "https://dns.example:port",
            "https://:8443",
            "http://dns.eu.ovhapis.com",
            "dns.eu.ovhapis.com",
            "HTTP://dns.eu.ovhapis.com",
            "ftp://dns.eu.ovhapis.com",
            "https://",
            "https:///nic/update",
            "https://?x",
            "https://dns.example/a b",
            " https://dns.example",
        ] {
            assert_refused("server", bad);
        }
    }

    #[test]
    fn a_url_with_a_user_part_is_refused_without_showing_it() {
        for option in ["server", "check_url"] {
            for url in [
                "https://user:hunter2@dns.example",
                "https://hunter2@dns.example/",
                "https://user:hunter2@dns.example/path?q#f",
            ] {
                let text = home_with(&[("source", "web"), (option, url)]);
                let (section, refused, message) = value_error(&text);
                assert_eq!((section.as_str(), refused.as_str()), ("home", option));
                assert!(message.contains("user part"), "{message}");
                assert!(!message.contains("hunter2"), "{message}");
            }
        }
    }

    #[test]
    fn the_check_url_may_have_a_path_and_query_but_no_fragment() {
        let url = "https://ip.example:8443/where/am/i?format=text";
        assert_eq!(
            home(&[("source", "web"), ("check_url", url)]).source,
            Source::Web {
                check_url: Some(url.into())
            }
        );
        let text = home_with(&[("source", "web"), ("check_url", "https://ip.example/#x")]);
        let (_, option, message) = value_error(&text);
        assert_eq!(option, "check_url");
        assert!(message.contains("fragment"), "{message}");
    }

    #[test]
    fn the_check_url_must_be_https() {
        for bad in ["http://ip.example/", "https://"] {
            let text = home_with(&[("source", "web"), ("check_url", bad)]);
            let (_, option, message) = value_error(&text);
            assert_eq!(option, "check_url");
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
    }

    #[test]
    fn a_list_where_one_value_is_expected() {
        let (section, option, _) = value_error(&format!("{HOME}\tlist family 'ipv4'\n"));
        assert_eq!((section.as_str(), option.as_str()), ("home", "family"));
        let (section, option, _) =
            value_error("config dynhost\n\tlist timeout 5\n\tlist timeout 6\n");
        assert_eq!(
            (section.as_str(), option.as_str()),
            ("@dynhost[0]", "timeout")
        );
    }

    #[test]
    fn anonymous_records_are_named_by_their_index_among_records() {
        let record = |name: &str, host: &str| {
            format!("config record {name}\n\toption hostname {host}.example.com\n\toption username u\n\toption password p\n")
        };
        let text = [
            record("", "a"),
            "config dynhost\n".to_string(),
            record("'named'", "b"),
            "config other\n".to_string(),
            record("''", "c"),
        ]
        .concat();
        let names: Vec<String> = config(&text).records.into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["@record[0]", "named", "@record[2]"]);

        let (section, _, _) = value_error(&format!(
            "{}config record\n\toption username u\n",
            record("", "a")
        ));
        assert_eq!(section, "@record[1]");
    }

    #[test]
    fn two_enabled_records_cannot_update_the_same_name_and_family() {
        let second = |name: &str, options: &str| {
            format!("config record '{name}'\n\toption hostname 'HOME.example.com'\n\toption username u\n\toption password p\n{options}")
        };
        let (section, option, message) = value_error(&format!("{HOME}{}", second("again", "")));
        assert_eq!((section.as_str(), option.as_str()), ("again", "hostname"));
        assert!(message.contains("\"home.example.com\""), "{message}");
        assert!(message.contains("'home'"), "{message}");

        assert!(parse(&format!("{HOME}{}", second("v6", "\toption family ipv6\n"))).is_ok());
        assert!(parse(&format!("{HOME}{}", second("off", "\toption enabled 0\n"))).is_ok());
    }

    #[test]
    fn unknown_section_types_and_options_are_warned_about() {
        let text = format!(
            "config dynhost\n\toption timout 5\n{HOME}\toption hostnmae x\nconfig recrod 'x'\n"
        );
        assert_eq!(
            warnings(&text),
            [
                "2: unknown option \"timout\" in section '@dynhost[0]' ignored",
                "7: unknown option \"hostnmae\" in section 'home' ignored",
                "8: unknown section type \"recrod\" ignored",
            ]
        );
        assert!(warnings(HOME).is_empty());
    }

    #[test]
    fn options_of_other_sources_are_warned_about() {
        let text = home_with(&[
            ("source", "netlink"),
            ("device", "eth0"),
            ("check_url", "https://ip.example"),
            ("script", "/bin/ip"),
        ]);
        assert_eq!(
            warnings(&text),
            [
                "7: option 'check_url' in section 'home' ignored: only source web reads it",
                "8: option 'script' in section 'home' ignored: only source script reads it",
            ]
        );
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        match parse("config record 'home'\n\toption bad.name x\n") {
            Err(Error::ConfigSyntax { path, line, .. }) => {
                assert_eq!(
                    (path.as_path(), line),
                    (Path::new("/etc/config/dynhost"), 2)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    const API: &str = "config record 'apex'
\toption method 'api'
\toption hostname 'Example.com'
\toption endpoint 'ovh-ca'
\toption application_key 'AK1'
\toption application_secret 'AS-secret-1'
\toption consumer_key 'CK-secret-1'
";

    fn api_with(options: &[(&str, &str)]) -> Result<Config, Error> {
        let mut text = API.to_string();
        for (name, value) in options {
            text += &format!("\toption {name} '{value}'\n");
        }
        parse(&text)
    }

    #[test]
    fn an_api_record_needs_no_dynhost_login() {
        let record = api_with(&[]).expect("valid").records.remove(0);
        assert_eq!(record.hostname, "example.com");
        assert_eq!((record.username.as_str(), &*record.server), ("", ""));
        assert_eq!(
            record.api,
            Some(Api {
                endpoint: "https://ca.api.ovh.com/1.0".into(),
                zone: None,
                application_key: "AK1".into(),
                application_secret: Secret::new("AS-secret-1".into()),
                consumer_key: Secret::new("CK-secret-1".into()),
                ttl: None,
            })
        );
        let full = api_with(&[
            ("endpoint", "https://127.0.0.1:8443/1.0/"),
            ("zone", "Example.COM"),
            ("ttl", "86400"),
        ])
        .expect("valid")
        .records
        .remove(0);
        let api = full.api.expect("api mode");
        assert_eq!(api.endpoint, "https://127.0.0.1:8443/1.0");
        assert_eq!(api.zone.as_deref(), Some("example.com"));
        assert_eq!(api.ttl, Some(86400));
    }

    #[test]
    fn endpoints_are_names_or_https_base_urls() {
        assert_eq!(
            api_endpoint("ovh-eu").unwrap(),
            "https://eu.api.ovh.com/1.0"
        );
        assert_eq!(
            api_endpoint("ovh-us").unwrap(),
            "https://api.us.ovhcloud.com/1.0"
        );
        for bad in [
            "eu",
            "http://eu.api.ovh.com/1.0",
            "https://x/1.0?a=b",
            "https://u:p@x/",
        ] {
            assert!(api_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcards_only_in_api_mode_and_the_zone_must_hold_the_name() {
        let wild = api_with(&[("zone", "example.com")]).map(|c| c.records[0].hostname.clone());
        assert_eq!(wild.unwrap(), "example.com");
        let text = API.replace("'Example.com'", "'*.home.example.com'");
        let record = parse(&format!("{text}\toption zone 'example.com'\n")).expect("valid");
        assert_eq!(record.records[0].hostname, "*.home.example.com");
        let (_, option, _) = value_error(&format!("{text}\toption zone 'home.example.org'\n"));
        assert_eq!(option, "zone");
        let (_, option, message) =
            value_error(&home_with(&[]).replace("'home.example.com'", "'*.example.com'"));
        assert_eq!(option, "hostname");
        assert!(message.contains("needs method api"), "{message}");
    }

    #[test]
    fn api_secrets_are_never_quoted_in_errors() {
        for option in ["application_secret", "consumer_key"] {
            let text = API.replace(
                &format!("option {option} '"),
                &format!("option {option} 'with space "),
            );
            let (_, refused, message) = value_error(&text);
            assert_eq!(refused, option);
            assert!(!message.contains("secret-1"), "{message}");
        }
        let (_, _, message) = value_error(&API.replace("'AK1'", "'A K1'"));
        assert!(
            message.contains("\"A K1\""),
            "the application key is no secret: {message}"
        );
    }

    #[test]
    fn ttls_are_60_to_86400_seconds() {
        for bad in ["59", "86401", "0", "1m", "-60"] {
            assert!(api_with(&[("ttl", bad)]).is_err(), "{bad}");
        }
        assert!(api_with(&[("ttl", "60")]).is_ok());
    }

    #[test]
    fn the_password_never_shows() {
        let config = config(HOME);
        assert!(!format!("{config:?}").contains(PASSWORD));
        assert!(!format!("{:#?}", config.records).contains(PASSWORD));

        let broken = [
            home_with(&[("password", "hunter2-Secret\u{1}")]),
            home_with(&[("password", "hunter2-Secret\t")]),
            format!("{HOME}\tlist password '{PASSWORD}'\n"),
            format!("{HOME}\toption password {PASSWORD} extra\n"),
            format!("{HOME}\toption password hunter2'x';Secret\n"),
            format!("{HOME}\toption password '{PASSWORD}\n"),
            format!("{HOME}\toption password \"{PASSWORD}\u{1b}\"\n"),
            format!("{HOME}\toption hostname bad_host\n"),
            format!("{HOME}config record 'two'\n\toption hostname home.example.com\n\toption username u\n\toption password '{PASSWORD}'\n"),
        ];
        for text in broken {
            let error = parse(&text).expect_err(&text);
            for shown in [error.to_string(), format!("{error:?}")] {
                assert!(!shown.contains("hunter2"), "{shown}");
                assert!(!shown.contains("Secret"), "{shown}");
            }
        }
    }

    #[test]
    fn warnings_never_show_values() {
        let text = home_with(&[("script", PASSWORD)]);
        let warnings = warnings(&text);
        assert_eq!(warnings.len(), 1);
        assert!(!warnings[0].contains("hunter2"), "{}", warnings[0]);
    }

    /// A directory that is removed when the test ends.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            let path =
                std::env::temp_dir().join(format!("dynhost-config-{}-{test}", std::process::id()));
            std::fs::create_dir_all(&path).expect("temp dir");
            TempDir(path)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).expect("temp file");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn load_reads_a_file_whose_ca_bundles_can_be_read() {
        let dir = TempDir::new("good");
        let ca = dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
        let path = dir.write(
            "dynhost",
            &format!("config dynhost\n\toption cacert '{}'\n{HOME}", ca.display()),
        );
        assert_eq!(
            Config::load(&path).expect("loads").records[0].cacert,
            ca.into()
        );
    }

    #[test]
    fn load_refuses_a_file_over_1_mib_before_reading_it() {
        let dir = TempDir::new("huge");
        let path = dir.write("dynhost", HOME);
        // Sparse: a file read whole would show as 2 GiB of memory, not as a refusal.
        File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_len(2 << 30))
            .unwrap();
        let error = Config::load(&path).expect_err("a 2 GiB config");
        assert!(matches!(error, Error::Io { .. }), "{error:?}");
        assert!(error.to_string().contains("1 MiB"), "{error}");

        let padding = "#".repeat(MAX_CONFIG_BYTES as usize - HOME.len() - 1);
        let path = dir.write("dynhost", &format!("{HOME}{padding}\n"));
        assert_eq!(fs_len(&path), MAX_CONFIG_BYTES);
        // Read and parsed: what is left to refuse is at most the CA bundle, if absent here.
        if let Err(error) = Config::load(&path) {
            assert!(matches!(error, Error::ConfigValue { .. }), "{error:?}");
        }
    }

    fn fs_len(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    #[test]
    fn load_refuses_a_missing_file() {
        let dir = TempDir::new("missing");
        let path = dir.0.join("dynhost");
        match Config::load(&path) {
            Err(Error::Io { path: named, .. }) => assert_eq!(named, path),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn load_refuses_an_unreadable_ca_bundle_of_an_enabled_record() {
        let dir = TempDir::new("cacert");
        for cacert in [dir.0.join("absent.pem"), dir.0.clone()] {
            let path = dir.write(
                "dynhost",
                &home_with(&[("cacert", &cacert.to_string_lossy())]),
            );
            match Config::load(&path) {
                Err(Error::ConfigValue {
                    section,
                    option,
                    message,
                }) => {
                    assert_eq!((section.as_str(), option.as_str()), ("home", "cacert"));
                    assert!(message.contains(&format!("{cacert:?}")), "{message}");
                }
                other => panic!("{cacert:?}: {other:?}"),
            }
        }
        let disabled = home_with(&[("enabled", "0"), ("cacert", "/nonexistent/ca.pem")]);
        assert!(Config::load(&dir.write("dynhost", &disabled)).is_ok());
        // A bundle checked for one record does not let another record's through.
        let readable = dir.write("ca.pem", "");
        let record = |name: &str, cacert: &Path| {
            format!(
                "config record '{name}'\n\toption hostname '{name}.example.com'\n\toption \
                 username 'example.com-u'\n\toption password 'p'\n\toption cacert '{}'\n",
                cacert.display()
            )
        };
        let text = [
            record("a", &readable),
            record("b", &readable),
            record("c", &dir.0.join("absent.pem")),
        ]
        .join("\n");
        match Config::load(&dir.write("dynhost", &text)) {
            Err(Error::ConfigValue { section, .. }) => assert_eq!(section, "c"),
            other => panic!("{other:?}"),
        }
    }
}
