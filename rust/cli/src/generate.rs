//! `dmnoncectl generate DIR` (hidden): man pages and shell completions
//! written from the clap definitions, so they never disagree with
//! `--help`. `scripts/install.sh` runs it and installs the result.

use anyhow::{Context as _, Result};
use clap::Args;
use clap_complete::Shell;
use std::path::PathBuf;
use std::process::ExitCode;

/// `dmnoncectl generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Writes DIR/man1/*.1 (one page per command) and
    /// DIR/completions/{dmnoncectl.bash,_dmnoncectl,dmnoncectl.fish}.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// The shells a completion script is written for.
const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

pub fn run(mut command: clap::Command, args: &GenerateArgs) -> Result<ExitCode> {
    let man = args.dir.join("man1");
    let completions = args.dir.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    clap_mangen::generate_to(command.clone(), &man)
        .with_context(|| format!("cannot write man pages to {}", man.display()))?;
    let name = command.get_name().to_string();
    for shell in SHELLS {
        clap_complete::generate_to(shell, &mut command, &name, &completions)
            .with_context(|| format!("cannot write the {shell} completion"))?;
    }
    Ok(ExitCode::SUCCESS)
}
