//! Secrets given on the command line or, to keep them out of shell history
//! and `ps`, read from a file or stdin. Never printed.

use crate::{failure, input};
use anyhow::Result;
use clap::Args;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// `--password PW` or `--password-file FILE|-` (exactly one).
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct PasswordArgs {
    /// The server password (AAuthSecret of the SRVCRED AppAuth). Visible in
    /// shell history and `ps`: prefer --password-file.
    #[arg(long, value_name = "PW")]
    password: Option<String>,
    /// Read the password from FILE, or from stdin with `-`; one trailing
    /// newline (LF or CRLF) is removed, everything else is kept.
    #[arg(long, value_name = "FILE|-")]
    password_file: Option<PathBuf>,
}

impl PasswordArgs {
    /// Whether the password comes from stdin.
    pub fn uses_stdin(&self) -> bool {
        self.password_file
            .as_deref()
            .is_some_and(|p| input::is_stdin(Some(p)))
    }

    /// The password bytes; `json`: warnings as JSON.
    pub fn read(&self, json: bool) -> Result<Vec<u8>> {
        match (&self.password, &self.password_file) {
            (Some(pw), _) => Ok(pw.as_bytes().to_vec()),
            (None, Some(path)) => {
                warn_if_exposed(path, "the password file", json);
                let bytes = input::read_all(Some(Path::new(path)), "the password file")?;
                Ok(trim_one_newline(bytes))
            }
            // clap's group makes one of the two required.
            (None, None) => anyhow::bail!("give --password or --password-file"),
        }
    }
}

/// Warns on stderr when a file holding secrets can be read or written by
/// its group or by others: the secret is then as good as shared. Only
/// regular files: stdin, pipes and process substitution have no mode worth
/// the name. The command goes on (the operator may have reasons).
pub fn warn_if_exposed(path: &Path, what: &str, json: bool) {
    if input::is_stdin(Some(path)) {
        return;
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return; // reading it reports the problem
    };
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_file() && mode & 0o077 != 0 {
        let message = format!(
            "{what} {} has mode {mode:04o}: group or others can read or change it \
             (chmod 600 it)",
            path.display()
        );
        failure::warn(json, "secrets_file_mode", &message);
    }
}

/// Remove one trailing `\n` or `\r\n`, as `echo` and editors add.
fn trim_one_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::trim_one_newline;

    #[test]
    fn trims_exactly_one_trailing_newline() {
        assert_eq!(trim_one_newline(b"pw\n".to_vec()), b"pw");
        assert_eq!(trim_one_newline(b"pw\r\n".to_vec()), b"pw");
        assert_eq!(trim_one_newline(b"pw\n\n".to_vec()), b"pw\n");
        assert_eq!(trim_one_newline(b"pw".to_vec()), b"pw");
        assert_eq!(trim_one_newline(b" pw \n".to_vec()), b" pw ");
        assert_eq!(trim_one_newline(b"\n".to_vec()), b"");
    }
}
