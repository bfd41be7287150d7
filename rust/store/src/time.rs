//! Time as the caller passes it in: the store never reads a clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (UTC). Callers pass the current time into
/// every store operation that records or compares a time, so that tests and
/// the daemon's own clock policy decide what "now" is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// Converts a [`SystemTime`]; times before 1970 clamp to 0.
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => UnixTime(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Err(_) => UnixTime(0),
        }
    }

    /// Seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0
    }

    /// Compact UTC form `YYYYMMDDTHHMMSSZ`, used in the names of files that
    /// recovery moves aside.
    pub(crate) fn compact_utc(self) -> String {
        let days = self.0.div_euclid(86_400);
        let rem = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's
/// well-known civil-from-days algorithm, written out from its description).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_utc_matches_known_dates() {
        assert_eq!(UnixTime(0).compact_utc(), "19700101T000000Z");
        // 2000-02-29 12:34:56 UTC (leap day)
        assert_eq!(UnixTime(951_827_696).compact_utc(), "20000229T123456Z");
        // 2026-11-29 01:55:10 UTC
        assert_eq!(UnixTime(1_795_917_310).compact_utc(), "20261129T015510Z");
    }
}
