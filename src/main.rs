#![deny(unsafe_code)]

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use dynhost::method::api::credential;
use dynhost::{cli, clock, config, daemon, error, logger, notices, pass, report, state, transport};

use cli::{Cli, Command, Verbosity};
use config::Config;
use error::{Error, Severity};
use state::StateDir;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("dynhost: {error}");
            return exit_code(Some(error.severity()));
        }
    };
    init_logging(&cli);
    match execute(&cli) {
        Ok(worst) => exit_code(worst),
        Err(error) => {
            log::error!("{error}");
            exit_code(Some(error.severity()))
        }
    }
}

/// Exit codes are part of the interface: hotplug scripts and the init script act on them.
fn exit_code(worst: Option<Severity>) -> ExitCode {
    ExitCode::from(match worst {
        None => 0,
        Some(Severity::Transient) => 1,
        Some(Severity::Usage) => 2,
        Some(Severity::Permanent) => 3,
    })
}

fn init_logging(cli: &Cli) {
    let level = match cli.verbosity {
        Verbosity::Quiet => log::LevelFilter::Error,
        Verbosity::Normal => log::LevelFilter::Info,
        Verbosity::Verbose => log::LevelFilter::Debug,
    };
    let syslog = cli.syslog.then_some(Path::new(logger::SYSLOG_SOCKET));
    logger::Logger::new(level, syslog).install();
}

fn execute(cli: &Cli) -> Result<Option<Severity>, Error> {
    match &cli.command {
        Command::Help => {
            print(cli::USAGE)?;
            Ok(None)
        }
        Command::Version => {
            print(concat!("dynhost ", env!("CARGO_PKG_VERSION")))?;
            Ok(None)
        }
        Command::Update(selection) => {
            let (config, state_dir) = load(cli)?;
            let records = pass::select(&config, selection)?;
            let Some(lock) = pass::lock_for_update(selection, &records, &state_dir)? else {
                return Ok(None);
            };
            let mut transport = transport::Https::new(config.global.timeout);
            let worst = pass::run(
                &records,
                selection.force,
                config.global.timeout,
                &state_dir,
                &mut transport,
                &clock::unix_now,
                Some(lock),
                &mut notices::Notices::default(),
            );
            // The process ends here: taking the kept-alive connection, its TLS state and the
            // agent apart first would only cost time (~20,000 instructions, half a per cent of
            // an update); the kernel closes the socket.
            std::mem::forget(transport);
            worst
        }
        Command::Run => {
            let signals = daemon::take_signals()?;
            let (config, state_dir) = load(cli)?;
            daemon::run(signals, &cli.config, config, state_dir).map(|()| None)
        }
        Command::Status { json } => {
            let config = Config::load(&cli.config)?;
            let state_dir = StateDir::open_to_read(&cli.state_dir)?;
            print(&report::status(
                &config,
                &state_dir,
                clock::unix_now(),
                *json,
            ))?;
            // As after an update: the process ends here, and freeing 1,000 records one by one
            // would only cost time.
            std::mem::forget(config);
            Ok(None)
        }
        Command::Check { json } => {
            let config = match Config::load(&cli.config) {
                Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                    let timeout = Duration::from_secs(config::DEFAULT_TIMEOUT_SECS);
                    print(&report::check_machine(&cli.config, timeout, *json))?;
                    return Ok(None);
                }
                loaded => loaded?,
            };
            let state_dir = StateDir::open_to_read(&cli.state_dir)?;
            let mut transport = transport::Https::new(config.global.timeout);
            let (text, all_found) = report::check(
                &config,
                &state_dir,
                &mut transport,
                clock::unix_now(),
                *json,
            );
            print(&text)?;
            Ok((!all_found).then_some(Severity::Transient))
        }
        Command::ApiCredential {
            endpoint,
            application_key,
            zones,
        } => {
            let endpoint_url = config::api_endpoint(endpoint)
                .map_err(|problem| Error::Usage(format!("-e: {problem}")))?;
            credential::check_application_key(application_key)?;
            let zones = credential::check_zones(zones)?;
            let global = config::load_global(&cli.config)?;
            let ask = credential::Ask {
                endpoint,
                endpoint_url: &endpoint_url,
                application_key,
                zones: &zones,
            };
            let mut transport = transport::Https::new(global.timeout);
            print(&credential::ask(&ask, &global.cacert, &mut transport)?)?;
            Ok(None)
        }
    }
}

/// Writes a command's output and its line end. A reader that stopped reading (`| head`) ends
/// the output quietly, as it does other tools': `println!` would panic, and a panic aborts the
/// process with an illegal instruction, which the kernel logs as a crash.
fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let written = (out.write_all(text.as_bytes()))
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() != ErrorKind::BrokenPipe => Err(Error::Output(error)),
        _ => Ok(()),
    }
}

/// What the commands that write state (update, run) work from.
fn load(cli: &Cli) -> Result<(Config, StateDir), Error> {
    Ok((Config::load(&cli.config)?, StateDir::open(&cli.state_dir)?))
}
