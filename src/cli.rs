//! The command line: `dynhost [global options] COMMAND [command options]`.

use std::path::PathBuf;

use getopts::{Options, ParsingStyle};

use crate::config::DEFAULT_CONFIG_PATH;
use crate::error::Error;
use crate::pass::Selection;
use crate::state::DEFAULT_STATE_DIR;

pub const USAGE: &str = "\
Usage: dynhost [-c FILE] [-s DIR] [-v|-q] [-S] COMMAND
Keeps OVHcloud DynHost records pointing at this machine's current public address.

Commands:
  update [-r NAME]... [-i IFACE] [-f]  one pass over the enabled records, then exit
  run                                  stay in the foreground and keep records current
  status [-j]                          last known state of every record (-j: JSON)
  check [-j]                           detect addresses, print what each record would send
                                       (without a config file: this machine's own addresses)
  api-credential -e ENDPOINT -k APPLICATION_KEY ZONE...
                                       ask the OVHcloud API for a consumer key limited to
                                       these zones (ENDPOINT: ovh-eu, ovh-ca, ovh-us or an
                                       https:// base URL); trusts the config's cacert

Options:
  -c, --config FILE      config file (default /etc/config/dynhost)
  -s, --state-dir DIR    state directory (default /var/run/dynhost)
  -v, --verbose          also log each request (without credentials) and reply
  -q, --quiet            log errors only
  -S, --syslog           log to the system log (/dev/log) at each line's priority,
                         instead of to stderr
  -r, --record NAME      update: only this record (section name or host name); repeatable
  -i, --interface IFACE  update: only records bound to this logical interface
  -f, --force            update: send even if nothing changed
  -j, --json             status, check: print JSON
  -e, --endpoint NAME    api-credential: the OVHcloud API endpoint
  -k, --application-key KEY
                         api-credential: the application key (not its secret)
  -h, --help             print this help
  -V, --version          print the version

Exit status: 0 all selected records current, 1 a failure that may pass by itself,
2 usage or configuration error, 3 a refusal by the server that needs a config change.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Update(Selection),
    Run,
    Status {
        json: bool,
    },
    Check {
        json: bool,
    },
    /// Ask for a consumer key; `zones` as given, checked later.
    ApiCredential {
        endpoint: String,
        application_key: String,
        zones: Vec<String>,
    },
    Help,
    Version,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    pub config: PathBuf,
    pub state_dir: PathBuf,
    pub verbosity: Verbosity,
    /// Log to the system log socket instead of stderr.
    pub syslog: bool,
    pub command: Command,
}

pub fn parse(args: &[String]) -> Result<Cli, Error> {
    let mut global = Options::new();
    global
        .parsing_style(ParsingStyle::StopAtFirstFree)
        .optopt("c", "config", "", "FILE")
        .optopt("s", "state-dir", "", "DIR")
        .optflag("v", "verbose", "")
        .optflag("q", "quiet", "")
        .optflag("S", "syslog", "")
        .optflag("h", "help", "")
        .optflag("V", "version", "");
    let matches = global.parse(args).map_err(usage_error)?;
    let verbosity = match (matches.opt_present("v"), matches.opt_present("q")) {
        (true, true) => return Err(Error::Usage("-v and -q exclude each other".into())),
        (true, false) => Verbosity::Verbose,
        (false, true) => Verbosity::Quiet,
        (false, false) => Verbosity::Normal,
    };
    let path_option = |name: &str, default: &str| {
        matches
            .opt_str(name)
            .map_or_else(|| PathBuf::from(default), PathBuf::from)
    };
    let config = path_option("c", DEFAULT_CONFIG_PATH);
    let state_dir = path_option("s", DEFAULT_STATE_DIR);

    let command = if matches.opt_present("h") {
        Command::Help
    } else if matches.opt_present("V") {
        Command::Version
    } else {
        let (name, rest) = matches
            .free
            .split_first()
            .ok_or_else(|| Error::Usage("no command given; see 'dynhost -h'".into()))?;
        parse_command(name, rest)?
    };
    Ok(Cli {
        config,
        state_dir,
        verbosity,
        syslog: matches.opt_present("S"),
        command,
    })
}

fn parse_command(name: &str, args: &[String]) -> Result<Command, Error> {
    let mut options = Options::new();
    options.optflag("h", "help", "");
    match name {
        "update" => {
            options
                .optmulti("r", "record", "", "NAME")
                .optopt("i", "interface", "", "IFACE")
                .optflag("f", "force", "");
        }
        "status" | "check" => {
            options.optflag("j", "json", "");
        }
        "api-credential" => {
            options
                .optopt("e", "endpoint", "", "NAME")
                .optopt("k", "application-key", "", "KEY");
        }
        "run" => {}
        other => {
            return Err(Error::Usage(format!(
                "unknown command '{}'; see 'dynhost -h'",
                other.escape_debug()
            )))
        }
    }
    let matches = options.parse(args).map_err(usage_error)?;
    if matches.opt_present("h") {
        return Ok(Command::Help);
    }
    if name == "api-credential" {
        let required = |option: &str, what: &str| {
            matches.opt_str(option).ok_or_else(|| {
                Error::Usage(format!(
                    "api-credential needs -{option} {what}; see 'dynhost -h'"
                ))
            })
        };
        return Ok(Command::ApiCredential {
            endpoint: required("e", "ENDPOINT")?,
            application_key: required("k", "APPLICATION_KEY")?,
            zones: matches.free,
        });
    }
    if let Some(extra) = matches.free.first() {
        return Err(Error::Usage(format!(
            "unexpected argument '{}' after '{name}'; see 'dynhost -h'",
            extra.escape_debug()
        )));
    }
    Ok(match name {
        "update" => Command::Update(Selection {
            records: matches.opt_strs("r"),
            interface: matches.opt_str("i"),
            force: matches.opt_present("f"),
        }),
        "status" => Command::Status {
            json: matches.opt_present("j"),
        },
        "check" => Command::Check {
            json: matches.opt_present("j"),
        },
        _ => Command::Run,
    })
}

fn usage_error(error: getopts::Fail) -> Error {
    Error::Usage(format!("{error}; see 'dynhost -h'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Cli, String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        parse(&args).map_err(|e| e.to_string())
    }

    fn command(line: &str) -> Command {
        parse_line(line).unwrap().command
    }

    #[test]
    fn defaults_are_the_router_paths() {
        let cli = parse_line("update").unwrap();
        assert_eq!(cli.config, PathBuf::from("/etc/config/dynhost"));
        assert_eq!(cli.state_dir, PathBuf::from("/var/run/dynhost"));
        assert_eq!(cli.verbosity, Verbosity::Normal);
        assert!(!cli.syslog);
        assert_eq!(cli.command, Command::Update(Selection::default()));
    }

    #[test]
    fn global_options_come_before_the_command() {
        let cli = parse_line("-c /tmp/c --state-dir /tmp/s -v status -j").unwrap();
        assert_eq!(cli.config, PathBuf::from("/tmp/c"));
        assert_eq!(cli.state_dir, PathBuf::from("/tmp/s"));
        assert_eq!(cli.verbosity, Verbosity::Verbose);
        assert_eq!(cli.command, Command::Status { json: true });
    }

    #[test]
    fn update_takes_records_interface_and_force() {
        assert_eq!(
            command("update -r home -r office --interface wan6 -f"),
            Command::Update(Selection {
                records: vec!["home".into(), "office".into()],
                interface: Some("wan6".into()),
                force: true,
            })
        );
    }

    #[test]
    fn help_and_version_need_no_command() {
        assert_eq!(command("-h"), Command::Help);
        assert_eq!(command("--version"), Command::Version);
        assert_eq!(command("update --help"), Command::Help);
        assert_eq!(command("run"), Command::Run);
        assert_eq!(command("check"), Command::Check { json: false });
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "",
            "frobnicate",
            "-x update",
            "update -j",
            "status -f",
            "run now",
            "-v -q update",
            "update -i",
        ] {
            let error = parse_line(line).unwrap_err();
            assert!(!error.contains('\n'), "{line}: {error}");
        }
        assert!(parse_line("frobnicate").unwrap_err().contains("frobnicate"));
    }

    #[test]
    fn api_credential_takes_an_endpoint_a_key_and_zones() {
        assert_eq!(
            command("api-credential -e ovh-eu -k AK example.com example.org"),
            Command::ApiCredential {
                endpoint: "ovh-eu".into(),
                application_key: "AK".into(),
                zones: vec!["example.com".into(), "example.org".into()],
            }
        );
        for line in [
            "api-credential -k AK example.com",
            "api-credential -e ovh-eu example.com",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }

    #[test]
    fn syslog_is_a_global_option() {
        assert!(parse_line("-S run").unwrap().syslog);
        assert!(parse_line("--syslog update -i wan").unwrap().syslog);
    }

    #[test]
    fn names_from_the_command_line_are_shown_escaped() {
        let args = ["fro\nb\x1b".to_string()];
        let error = parse(&args).unwrap_err().to_string();
        assert!(error.contains("fro\\nb\\u{1b}"), "{error}");
        assert!(!error.chars().any(char::is_control), "{error}");
    }
}
