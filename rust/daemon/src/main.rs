//! `dmnonced [--config FILE] [--state-dir DIR] [--socket PATH] [-v…]`
//!
//! Prints `dmnonced ready socket=<path>` on stderr once it serves.

use std::path::PathBuf;
use std::process::ExitCode;

use dmnonced::config::{Config, Environment, Overrides};
use dmnonced::Daemon;

const USAGE: &str =
    "usage: dmnonced [--config FILE] [--state-dir DIR] [--socket PATH] [-v|--verbose]...\n\
\n\
Runs the dmnonce daemon. With no arguments it uses its built-in configuration:\n\
state in $XDG_STATE_HOME/dmnonce (or ~/.local/state/dmnonce), control socket\n\
$XDG_RUNTIME_DIR/dmnonced.sock (or in the state directory), logs on stderr.\n\
See docs/configuration.md.";

fn parse_args() -> Result<Option<Overrides>, String> {
    let mut o = Overrides::default();
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut value = |name: &str| {
            args.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--config" => o.config_file = Some(value("--config")?),
            "--state-dir" => o.state_dir = Some(value("--state-dir")?),
            "--socket" => o.socket = Some(value("--socket")?),
            "-v" | "--verbose" => o.verbose += 1,
            "-vv" => o.verbose += 2,
            "-vvv" => o.verbose += 3,
            "-h" | "--help" => return Ok(None),
            "-V" | "--version" => {
                println!("dmnonced {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    let overrides = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            if !std::env::args().any(|a| a == "-V" || a == "--version") {
                println!("{USAGE}");
            }
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("dmnonced: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Before any thread exists: each thread would get an arena of its own.
    #[cfg(all(feature = "one-malloc-arena", target_os = "linux", target_env = "gnu"))]
    if let Err(e) = dmnonced::one_malloc_arena() {
        eprintln!("dmnonced: {e}");
    }
    // Before any thread exists, so that only the signal thread sees them.
    if let Err(e) = dmnonced::block_stop_signals() {
        eprintln!("dmnonced: cannot block signals: {e}");
        return ExitCode::FAILURE;
    }
    let config = match Config::load(&overrides, &Environment::from_process()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dmnonced: {e}");
            return ExitCode::from(2);
        }
    };
    dmnonced::logging::init(config.verbosity);
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Our errors' messages already name their cause, so `{e}` and
            // not the `{e:#}` chain (which would print the cause twice).
            // Off Android the log *is* stderr: one line, not two.
            log::error!("cannot run: {e}");
            #[cfg(target_os = "android")]
            eprintln!("dmnonced: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: Config) -> anyhow::Result<()> {
    let daemon = Daemon::start(config)?;
    let stop = daemon.stop_handle()?;
    dmnonced::stop_on_signal(stop)?;
    let shown = daemon.origin().to_string();
    log::info!("serving control socket {shown}");
    eprintln!("dmnonced ready socket={shown}");
    // Type=notify: systemd starts what is ordered after us from here on.
    match dmnonced::notify::notify(&format!("READY=1\nSTATUS=serving {shown}")) {
        Ok(true) => log::debug!("readiness sent to the service manager"),
        Ok(false) => {}
        Err(e) => log::warn!("cannot send readiness to the service manager (NOTIFY_SOCKET): {e}"),
    }
    // Last of the start: what starting touched and serving does not need
    // leaves the daemon's RSS (docs/performance.md, "On the device").
    #[cfg(all(feature = "release-start-pages", target_os = "linux"))]
    match dmnonced::release_start_pages() {
        Ok(n) => log::debug!("start done: {} KiB of program pages unmapped", n / 1024),
        Err(e) => log::warn!("cannot unmap the program's start pages: {e}"),
    }
    daemon.run()?;
    Ok(())
}
