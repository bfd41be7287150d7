//! The readable timeline on stderr: one line per step, wall-clock time and
//! time since start, never a secret or a nonce (nonces are named only as
//! "stored", "default-text", "default-zero" or "new").

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Timeline {
    start: Instant,
    level: LevelFilter,
}

static LOGGER: OnceLock<Timeline> = OnceLock::new();

impl Log for Timeline {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let since = self.start.elapsed();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = wall.as_secs() % 86_400;
        let tag = match record.level() {
            Level::Error => " ERROR",
            Level::Warn => " WARN",
            _ => "",
        };
        let line = format!(
            "{:02}:{:02}:{:02}.{:03} +{:>7.3}s server{tag}: {}\n",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            wall.subsec_millis(),
            since.as_secs_f64(),
            record.args()
        );
        // One write per line so concurrent connection threads do not interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Installs the timeline logger (`verbose` adds debug lines).
pub fn init(verbose: bool) {
    let level = if verbose {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    let logger = LOGGER.get_or_init(|| Timeline {
        start: Instant::now(),
        level,
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
