//! journald's view of stderr (sd-daemon(3)): under a systemd service whose
//! stderr is the journal, a line that starts with `<N>` is filed under
//! syslog priority N (the prefix is stripped), so `journalctl -p err`
//! finds the errors.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

/// Whether stderr is the stream systemd named in `JOURNAL_STREAM`
/// (`device:inode`). Compared with stderr itself, not just present: a
/// script under the unit that redirects the daemon's stderr into a file
/// inherits the variable, and the file must not get the prefixes.
pub fn stderr_is_journal() -> bool {
    let Some((dev, ino)) = std::env::var("JOURNAL_STREAM")
        .ok()
        .and_then(|v| parse_stream(&v))
    else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(meta) => meta.dev() == dev && meta.ino() == ino,
        Err(_) => false,
    }
}

fn parse_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.trim().split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// The `<N>` prefix of a log level: the syslog priorities err (3),
/// warning (4), info (6) and debug (7).
pub fn priority_prefix(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "<3>",
        log::Level::Warn => "<4>",
        log::Level::Info => "<6>",
        log::Level::Debug | log::Level::Trace => "<7>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_colon_inode() {
        assert_eq!(parse_stream("8:1234"), Some((8, 1234)));
        assert_eq!(parse_stream("8:1234\n"), Some((8, 1234)));
        assert_eq!(parse_stream("8"), None);
        assert_eq!(parse_stream("x:1"), None);
        assert_eq!(parse_stream(""), None);
    }

    #[test]
    fn levels_map_to_their_syslog_priorities() {
        assert_eq!(priority_prefix(log::Level::Error), "<3>");
        assert_eq!(priority_prefix(log::Level::Warn), "<4>");
        assert_eq!(priority_prefix(log::Level::Info), "<6>");
        assert_eq!(priority_prefix(log::Level::Debug), "<7>");
        assert_eq!(priority_prefix(log::Level::Trace), "<7>");
    }
}
