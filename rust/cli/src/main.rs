//! dmnoncectl: the operator command line of dmnonce.
//!
//! Each subcommand lives in its own module; `main` only parses, dispatches
//! and turns errors into one line on stderr with exit status 2.

mod daemon_cmds;
mod input;
mod json;
mod pkg0;
mod secret;
mod store_cmds;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit status for usage errors and malformed input.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "dmnoncectl", version, about = "Operator tools for dmnonce")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    daemon: daemon_cmds::Connection,
}

#[derive(Subcommand)]
enum Command {
    /// Offline Package #0 tools: build, decode, verify.
    #[command(subcommand)]
    Pkg0(pkg0::Pkg0Command),
    /// Hand a push (WSP PDU, bare Package #0, or SMS PDUs) to dmnonced.
    Push(daemon_cmds::PushArgs),
    /// Daemon status and per-account state (no secrets).
    Status,
    /// Provision, list and remove DM accounts in dmnonced.
    #[command(subcommand)]
    Account(daemon_cmds::AccountCommand),
    /// Follow dmnonced's events (one JSON object per line).
    Events(daemon_cmds::EventsArgs),
    /// The daemon's store: `store check` reads every page.
    #[command(subcommand)]
    Store(store_cmds::StoreCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: clap prints them, status 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line, like every other error of this tool: clap's first
            // paragraph (the problem), without the usage that follows.
            let rendered = e.render().to_string();
            let problem: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let problem = problem.join(" ");
            let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
            eprintln!("dmnoncectl: {problem} (see --help)");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = match cli.command {
        Command::Pkg0(command) => pkg0::run(command),
        Command::Push(args) => daemon_cmds::push(&cli.daemon, &args),
        Command::Status => daemon_cmds::status(&cli.daemon),
        Command::Account(command) => daemon_cmds::account(&cli.daemon, &command),
        Command::Events(args) => daemon_cmds::events(&cli.daemon, &args),
        Command::Store(command) => store_cmds::run(&cli.daemon, &command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dmnoncectl: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
