//! Byte sizes and durations as people write them in fleet files.
//!
//! The fleet-wide convention, used for hardware facts and template filters,
//! is that size units are powers of 1024 whether or not they carry an `i`
//! (`1GB` = `1GiB` = `1024MB`), which is how PostgreSQL, ClickHouse, JVM
//! options and most DBAs read them. Engines with other conventions (Redis's
//! `1g` = 10^9) are normalised by the catalog, not here.

use std::fmt;
use std::time::Duration;

/// A size or duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{0}` is not a number followed by a unit")]
    Malformed(String),
    #[error("unknown {what} unit `{unit}` in `{input}` (expected one of {expected})")]
    UnknownUnit { what: &'static str, unit: String, input: String, expected: &'static str },
    #[error("`{0}` is too large")]
    Overflow(String),
    #[error("`{0}` is negative")]
    Negative(String),
}

const SIZE_UNITS: &str = "B, kB, MB, GB, TB (or KiB, MiB, GiB, TiB; k, M, G, T)";
const DURATION_UNITS: &str = "us, ms, s, min, h, d";

/// Splits `"64GiB"` into `(64.0, "GiB")`.
fn split_number(input: &str) -> Result<(f64, &str), UnitError> {
    let s = input.trim();
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    let (num, unit) = s.split_at(end);
    let number: f64 = num.parse().map_err(|_| UnitError::Malformed(input.to_string()))?;
    Ok((number, unit.trim()))
}

/// Multiplier in bytes of a size unit, or `None` if the unit is unknown.
pub fn size_unit_bytes(unit: &str) -> Option<u64> {
    Some(match unit {
        "" | "B" | "b" => 1,
        "k" | "K" | "kB" | "KB" | "KiB" | "kb" | "kib" => 1 << 10,
        "M" | "MB" | "MiB" | "m" | "mb" | "mib" => 1 << 20,
        "G" | "GB" | "GiB" | "g" | "gb" | "gib" => 1 << 30,
        "T" | "TB" | "TiB" | "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    })
}

/// Parses a byte size such as `64GiB`, `512MB`, `1.5G` or `4096`.
pub fn parse_size(input: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(input)?;
    let mult = size_unit_bytes(unit).ok_or_else(|| UnitError::UnknownUnit {
        what: "size",
        unit: unit.to_string(),
        input: input.to_string(),
        expected: SIZE_UNITS,
    })?;
    if number < 0.0 {
        return Err(UnitError::Negative(input.to_string()));
    }
    let bytes = number * mult as f64;
    if bytes > u64::MAX as f64 {
        return Err(UnitError::Overflow(input.to_string()));
    }
    Ok(bytes.round() as u64)
}

/// Multiplier in microseconds of a duration unit.
pub fn duration_unit_micros(unit: &str) -> Option<u64> {
    Some(match unit {
        "us" | "µs" => 1,
        "ms" => 1_000,
        "" | "s" | "sec" | "secs" | "seconds" => 1_000_000,
        "m" | "min" | "mins" | "minutes" => 60_000_000,
        "h" | "hr" | "hours" => 3_600_000_000,
        "d" | "days" => 86_400_000_000,
        "w" | "weeks" => 604_800_000_000,
        _ => return None,
    })
}

/// Parses a duration such as `30s`, `250ms`, `5min` or `1h`. A bare number
/// is seconds.
pub fn parse_duration(input: &str) -> Result<Duration, UnitError> {
    let (number, unit) = split_number(input)?;
    let mult = duration_unit_micros(unit).ok_or_else(|| UnitError::UnknownUnit {
        what: "duration",
        unit: unit.to_string(),
        input: input.to_string(),
        expected: DURATION_UNITS,
    })?;
    if number < 0.0 {
        return Err(UnitError::Negative(input.to_string()));
    }
    let micros = number * mult as f64;
    if micros > u64::MAX as f64 {
        return Err(UnitError::Overflow(input.to_string()));
    }
    Ok(Duration::from_micros(micros.round() as u64))
}

/// Writes `bytes` in `unit`, rounding down, e.g. `format_size(1 << 30, "MB")`
/// is `1024MB`.
pub fn format_size(bytes: u64, unit: &str) -> Result<String, UnitError> {
    let mult = size_unit_bytes(unit).ok_or_else(|| UnitError::UnknownUnit {
        what: "size",
        unit: unit.to_string(),
        input: unit.to_string(),
        expected: SIZE_UNITS,
    })?;
    Ok(format!("{}{}", bytes / mult, unit))
}

/// Writes a duration in `unit`, rounding down, e.g. `30s` in `ms` is `30000ms`.
pub fn format_duration(d: Duration, unit: &str) -> Result<String, UnitError> {
    let mult = duration_unit_micros(unit).ok_or_else(|| UnitError::UnknownUnit {
        what: "duration",
        unit: unit.to_string(),
        input: unit.to_string(),
        expected: DURATION_UNITS,
    })?;
    Ok(format!("{}{}", d.as_micros() as u64 / mult, unit))
}

/// A byte size that prints in the largest unit that divides it exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, mult) in [("TB", 1u64 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)] {
            if self.0 >= mult && self.0.is_multiple_of(mult) {
                return write!(f, "{}{}", self.0 / mult, unit);
            }
        }
        write!(f, "{}B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64GiB").unwrap(), 64 << 30);
        assert_eq!(parse_size("1024MB").unwrap(), parse_size("1GB").unwrap());
        assert_eq!(parse_size("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size(" 8 kB ").unwrap(), 8192);
        assert!(matches!(parse_size("12XB"), Err(UnitError::UnknownUnit { .. })));
        assert!(matches!(parse_size("GB"), Err(UnitError::Malformed(_))));
        assert!(matches!(parse_size("-1GB"), Err(UnitError::Negative(_))));
        assert_eq!(format_size(1 << 30, "MB").unwrap(), "1024MB");
        assert_eq!(ByteSize(16 << 30).to_string(), "16GB");
        assert_eq!(ByteSize(1536).to_string(), "1536B");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5min").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(format_duration(Duration::from_secs(30), "ms").unwrap(), "30000ms");
        assert!(parse_duration("3 fortnights").is_err());
    }
}
