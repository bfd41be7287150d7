//! Reading operator inputs: a file, or stdin for `-` (or no argument).

use anyhow::{bail, Context as _, Result};
use std::io::Read as _;
use std::path::Path;

/// Inputs larger than this are refused rather than read into memory; a
/// Package #0 or a secret is far smaller.
const MAX_INPUT: u64 = 1 << 20;

/// Whether `path` names stdin.
pub fn is_stdin(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

/// Read all bytes of `path`, or of stdin when it is `-` or absent.
/// `what` names the input in error messages.
pub fn read_all(path: Option<&Path>, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if is_stdin(path) {
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {what} from stdin"))?;
    } else if let Some(path) = path {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {what} from {}", path.display()))?;
    }
    if bytes.len() as u64 > MAX_INPUT {
        bail!("{what} is larger than {MAX_INPUT} bytes");
    }
    Ok(bytes)
}
