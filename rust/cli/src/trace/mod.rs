//! `dmnoncectl trace`: one account's notifications and resync sessions,
//! from the daemon's audit log (the `audit` request), as a message
//! sequence chart. Fetching is here; [`model`] reads the entries, [`text`]
//! and [`svg`] draw them (pure functions, unit-tested).

mod escape;
pub mod model;
pub mod svg;
pub mod text;

use anyhow::{Context as _, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::daemon_cmds::Connection;

/// `dmnoncectl trace`.
#[derive(Args, Debug)]
pub struct TraceArgs {
    /// The account's server id.
    #[arg(long, value_name = "ID")]
    server_id: String,
    /// Draw the chart in the terminal (the default without --svg/--json).
    #[arg(long)]
    text: bool,
    /// Write the chart as SVG to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Only what happened after audit entry ID (a step's `id` in
    /// `--json`): one episode of a longer history.
    #[arg(long, value_name = "ID", default_value_t = 0)]
    after: i64,
}

/// Every entry of the account still kept after audit id `after`, page by
/// page.
fn fetch(conn: &Connection, server_id: &str, mut after: i64) -> Result<model::Trace> {
    let mut client = conn.connect()?;
    let mut entries = Vec::new();
    let mut oldest = None;
    loop {
        let page = client.audit(server_id, after)?;
        oldest = oldest.or(page.oldest_kept);
        after = page.entries.last().map_or(after, |e| e.id);
        let done = !page.more || page.entries.is_empty();
        entries.extend(page.entries);
        if done {
            break;
        }
    }
    Ok(model::from_entries(server_id, &entries, oldest))
}

pub fn run(conn: &Connection, args: &TraceArgs) -> Result<ExitCode> {
    let trace = fetch(conn, &args.server_id, args.after)?;
    if let Some(path) = &args.svg {
        let drawing = svg::render(&trace);
        if path.as_os_str() == "-" {
            print!("{drawing}");
        } else {
            std::fs::write(path, drawing)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    if conn.json {
        println!("{}", serde_json::to_value(&trace)?);
    }
    if args.text || (args.svg.is_none() && !conn.json) {
        print!("{}", text::render(&trace));
    }
    Ok(ExitCode::SUCCESS)
}
