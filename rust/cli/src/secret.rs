//! Secrets given on the command line or, to keep them out of shell history
//! and `ps`, read from a file or stdin. Never printed.

use crate::input;
use anyhow::Result;
use clap::Args;
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

    /// The password bytes.
    pub fn read(&self) -> Result<Vec<u8>> {
        match (&self.password, &self.password_file) {
            (Some(pw), _) => Ok(pw.as_bytes().to_vec()),
            (None, Some(path)) => Ok(trim_one_newline(input::read_all(
                Some(Path::new(path)),
                "the password file",
            )?)),
            // clap's group makes one of the two required.
            (None, None) => anyhow::bail!("give --password or --password-file"),
        }
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
