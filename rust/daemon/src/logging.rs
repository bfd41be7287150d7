//! Logging through `log`: one line per record on stderr (journald picks it
//! up under systemd), or the Android log with tag `dmnonced`.
//!
//! What is logged is decided at each call site: server ids, session ids,
//! outcomes and counts; never a secret, a nonce, a digest or a credential.

use log::LevelFilter;

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
    static LOGGER: StderrLogger = StderrLogger;
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
struct StderrLogger;

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
        let line = format!(
            "dmnonced[{}] {:<5} {}: {}\n",
            std::process::id(),
            record.level(),
            record.target(),
            record.args()
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}
