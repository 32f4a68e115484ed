//! Time as nanoseconds since the Unix epoch.

use std::fmt;

/// Nanoseconds since the Unix epoch (UTC). `u64` reaches the year 2554.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct UnixNanos(pub u64);

impl UnixNanos {
    /// From milliseconds (Binance `E`/`T`, Bybit `ts`).
    #[inline]
    #[must_use]
    pub const fn from_millis(millis: u64) -> UnixNanos {
        UnixNanos(millis.saturating_mul(1_000_000))
    }

    /// From microseconds (tardis CSV, 2023 collector recordings, 2025+ Binance spot klines).
    #[inline]
    #[must_use]
    pub const fn from_micros(micros: u64) -> UnixNanos {
        UnixNanos(micros.saturating_mul(1_000))
    }

    /// A timestamp of unknown unit, told apart by magnitude: seconds, milliseconds, microseconds or
    /// nanoseconds of a date between 2001 and 2286.
    #[inline]
    #[must_use]
    pub const fn from_any_unit(value: u64) -> UnixNanos {
        if value < 10_000_000_000 {
            UnixNanos(value.saturating_mul(1_000_000_000))
        } else if value < 10_000_000_000_000 {
            UnixNanos(value * 1_000_000)
        } else if value < 10_000_000_000_000_000 {
            UnixNanos(value * 1_000)
        } else {
            UnixNanos(value)
        }
    }

    /// The raw nanoseconds.
    #[inline]
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Days since the epoch (the catalog's date partition).
    #[inline]
    #[must_use]
    pub const fn days_since_epoch(self) -> u64 {
        self.0 / 86_400_000_000_000
    }
}

impl fmt::Display for UnixNanos {
    /// ISO 8601 UTC with nanoseconds, e.g. `2024-08-08T23:54:15.030314667Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.days_since_epoch();
        let (year, month, day) = civil_from_days(days);
        let rem = self.0 % 86_400_000_000_000;
        let secs = rem / 1_000_000_000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rem % 1_000_000_000
        )
    }
}

/// Proleptic Gregorian date of a day number (Howard Hinnant's `civil_from_days`).
#[must_use]
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_display() {
        assert_eq!(UnixNanos::from_any_unit(1_723_161_256_299), UnixNanos::from_millis(1_723_161_256_299));
        assert_eq!(UnixNanos::from_any_unit(1_680_652_701_048_293), UnixNanos::from_micros(1_680_652_701_048_293));
        assert_eq!(UnixNanos::from_any_unit(1_723_161_255_030_314_667), UnixNanos(1_723_161_255_030_314_667));
        assert_eq!(UnixNanos(1_723_161_255_030_314_667).to_string(), "2024-08-08T23:54:15.030314667Z");
        assert_eq!(UnixNanos(0).to_string(), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(UnixNanos::from_millis(1_709_251_200_000).to_string(), "2024-03-01T00:00:00.000000000Z");
    }
}
