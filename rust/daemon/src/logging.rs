//! Logging through `log`: one line per record on stderr (journald picks it
//! up under systemd, with each line's priority: [`journal`]), or the
//! Android log with tag `dmnonced`.
//!
//! What is logged is decided at each call site: server ids, session ids,
//! outcomes and counts; never a secret, a nonce, a digest or a credential.
//! Text that came from outside — a control-socket peer, a push, the store's
//! copy of what a peer once sent — goes through [`peer`].

use std::fmt::{self, Write as _};

use log::LevelFilter;

#[cfg(not(target_os = "android"))]
mod journal;

/// Outside text (a server id, a client name, a push header, an error that
/// quotes one) as it may appear in a log line: a `\n` in a server id must
/// not start a line of its own that reads like one of ours, and a bidi
/// override must not reorder what follows it. Hidden characters (the list
/// of `dmnonce_store::text::is_hidden`) become `\n`, `\r`, `\t` or `\u{…}`, and `\` becomes
/// `\\`, so the escaped form cannot be typed in to look like another.
pub fn peer(text: &str) -> Peer<'_> {
    Peer(text)
}

/// See [`peer`].
#[derive(Clone, Copy)]
pub struct Peer<'a>(&'a str);

impl fmt::Display for Peer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if dmnonce_store::text::is_hidden(c) => write!(f, "\\u{{{:04x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The level for a verbosity (0 = warn, 1 = info, 2 = debug, 3+ = trace).
pub fn level(verbosity: u8) -> LevelFilter {
    match verbosity {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Installs the logger once; later calls only change the level.
#[cfg(not(target_os = "android"))]
pub fn init(verbosity: u8) {
    static LOGGER: StderrLogger = StderrLogger {
        journal: std::sync::atomic::AtomicBool::new(false),
    };
    LOGGER.journal.store(
        journal::stderr_is_journal(),
        std::sync::atomic::Ordering::Relaxed,
    );
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level(verbosity));
}

/// Installs the logger once; later calls only change the level.
#[cfg(target_os = "android")]
pub fn init(verbosity: u8) {
    android_logger::init_once(
        android_logger::Config::default()
            .with_tag("dmnonced")
            .with_max_level(level(verbosity)),
    );
    log::set_max_level(level(verbosity));
}

#[cfg(not(target_os = "android"))]
struct StderrLogger {
    /// stderr is journald's stream: lines carry their priority.
    journal: std::sync::atomic::AtomicBool,
}

/// One record as a line of stderr.
#[cfg(not(target_os = "android"))]
fn line(record: &log::Record<'_>, journal: bool) -> String {
    format!(
        "{}dmnonced[{}] {:<5} {}: {}\n",
        if journal {
            journal::priority_prefix(record.level())
        } else {
            ""
        },
        std::process::id(),
        record.level(),
        record.target(),
        record.args()
    )
}

#[cfg(not(target_os = "android"))]
impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        use std::io::Write;
        // One write per line so lines of concurrent threads do not interleave.
        let journal = self.journal.load(std::sync::atomic::Ordering::Relaxed);
        let _ = std::io::stderr()
            .lock()
            .write_all(line(record, journal).as_bytes());
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::peer;

    #[test]
    fn peer_text_stays_on_one_line_and_is_unambiguous() {
        let shown = peer("a\nERROR forged\r\t\u{1b}[2J\u{202e}x\\n\u{2028}é").to_string();
        assert_eq!(
            shown,
            "a\\nERROR forged\\r\\t\\u{001b}[2J\\u{202e}x\\\\n\\u{2028}é"
        );
        assert!(!shown.chars().any(dmnonce_store::text::is_hidden));
        assert_eq!(peer("dm.example.net").to_string(), "dm.example.net");
    }
}
