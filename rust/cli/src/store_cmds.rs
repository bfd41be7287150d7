//! `dmnoncectl store check`: asks dmnonced to read every page of its store
//! (the daemon's start reads them only after an unclean stop).

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use dmnonce_control::{Request, StoreCheckResult};

use crate::daemon_cmds::Connection;
use crate::failure;

/// `dmnoncectl store …`.
#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Check every page's HMAC and the b-tree. Exit 0 healthy, 1 damaged
    /// (the daemon then serves nothing from the store; restart it to set
    /// the file aside and recover).
    Check,
}

pub fn run(conn: &Connection, cmd: &StoreCommand) -> Result<ExitCode> {
    match cmd {
        StoreCommand::Check => {
            let value = conn.connect()?.call(&Request::StoreCheck)?;
            let r: StoreCheckResult = serde_json::from_value(value)?;
            if conn.json {
                println!("{}", serde_json::to_value(&r)?);
            } else if r.healthy {
                println!("store healthy ({} pages read)", r.pages);
            } else {
                println!(
                    "store DAMAGED ({} pages read): {}; dmnonced serves nothing from it now; \
                     restart it to set the file aside and recover",
                    r.pages,
                    r.problems.join("; ")
                );
            }
            Ok(if r.healthy {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(failure::EXIT_NEGATIVE)
            })
        }
    }
}
