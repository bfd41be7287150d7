//! dmnoncectl: the operator command line of dmnonce.
//!
//! Each subcommand lives in its own module; `main` only parses, dispatches
//! and hands failures to `failure`, which owns the exit statuses and the
//! shape of error output (docs/cli.md).

mod daemon_cmds;
mod failure;
mod generate;
mod input;
mod json;
mod pkg0;
mod secret;
mod socket;
mod store_cmds;
mod trace;

use clap::{CommandFactory as _, Parser, Subcommand};
use std::process::ExitCode;

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
    /// One account's notifications and resync sessions, from the audit
    /// log, as a message sequence chart (--text, --svg FILE, --json).
    Trace(trace::TraceArgs),
    /// Follow dmnonced's events (one JSON object per line).
    Events(daemon_cmds::EventsArgs),
    /// The daemon's store: `store check` reads every page.
    #[command(subcommand)]
    Store(store_cmds::StoreCommand),
    /// Write man pages and shell completions (for packagers).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// clap's error as one line: the problem and its tips ("a similar
/// subcommand exists: …"), without the usage block that follows.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let problem: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more"))
        .filter(|line| !line.is_empty())
        .collect();
    let problem = problem.join("; ");
    let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
    format!("{problem} (see --help)")
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
            // The command line did not parse, so --json is looked for
            // by hand.
            let json = std::env::args_os().any(|a| a == "--json");
            return failure::report_kind(json, failure::Kind::Usage, &one_line(&e));
        }
    };
    let json = cli.daemon.json;
    let result = match cli.command {
        Command::Pkg0(command) => pkg0::run(command, json),
        Command::Push(args) => daemon_cmds::push(&cli.daemon, &args),
        Command::Status => daemon_cmds::status(&cli.daemon),
        Command::Account(command) => daemon_cmds::account(&cli.daemon, &command),
        Command::Trace(args) => trace::run(&cli.daemon, &args),
        Command::Events(args) => daemon_cmds::events(&cli.daemon, &args),
        Command::Store(command) => store_cmds::run(&cli.daemon, &command),
        Command::Generate(args) => generate::run(Cli::command(), &args),
    };
    result.unwrap_or_else(|e| failure::report(json, &e))
}
