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

impl UnixNanos {
    /// Parses a UTC date (`2024-08-08`, midnight) or time (`2024-08-08T12:30:00Z`, `2024-08-08 12:30:00.250`,
    /// `...+00:00`), as written in configuration files. `None` for anything else (other offsets included:
    /// configuration times are UTC).
    #[must_use]
    pub fn parse_utc(text: &str) -> Option<UnixNanos> {
        let text = text.trim();
        let text = text.strip_suffix('Z').or_else(|| text.strip_suffix("+00:00")).unwrap_or(text);
        let (date, time) = match text.split_once(['T', ' ']) {
            Some((date, time)) => (date, Some(time)),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let year: u64 = parts.next()?.parse().ok()?;
        let month: u64 = parts.next()?.parse().ok()?;
        let day: u64 = parts.next()?.parse().ok()?;
        if parts.next().is_some() || !(1970..=2500).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        let mut nanos = 0u64;
        if let Some(time) = time {
            let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
            let mut fields = clock.split(':');
            let hour: u64 = fields.next()?.parse().ok()?;
            let minute: u64 = fields.next()?.parse().ok()?;
            let second: u64 = fields.next().map_or(Some(0), |text| text.parse().ok())?;
            if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 || fraction.len() > 9 {
                return None;
            }
            let fraction_nanos = if fraction.is_empty() {
                0
            } else {
                let digits: u64 = fraction.parse().ok()?;
                digits * 10u64.pow(9 - fraction.len() as u32)
            };
            nanos = ((hour * 60 + minute) * 60 + second) * 1_000_000_000 + fraction_nanos;
        }
        Some(UnixNanos(days * 86_400_000_000_000 + nanos))
    }
}

/// Day number of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`), `None` for an invalid day.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let days_in_month = match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let yoe = year - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
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
        assert_eq!(UnixNanos::parse_utc("2024-03-01"), Some(UnixNanos::from_millis(1_709_251_200_000)));
        assert_eq!(UnixNanos::parse_utc("2024-08-08T23:54:15.030314667Z"), Some(UnixNanos(1_723_161_255_030_314_667)));
        assert_eq!(UnixNanos::parse_utc("2024-08-08 23:54:15+00:00"), Some(UnixNanos(1_723_161_255_000_000_000)));
        assert_eq!(UnixNanos::parse_utc("2023-02-29"), None);
        assert_eq!(UnixNanos::parse_utc("2024-08-08T10:00:00+02:00"), None);
        assert_eq!(UnixNanos::parse_utc("yesterday"), None);
    }
}
