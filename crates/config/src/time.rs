//! Time-of-day profiles: which are active at a given instant.

use jiff::civil::{Date, Time, Weekday as JWeekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::spec::{TimeProfileSpec, Weekday};

/// A time profile made ready for evaluation.
#[derive(Clone, Debug)]
pub struct TimeProfile {
    pub name: String,
    tz: TimeZone,
    windows: Vec<Window>,
    dates: Vec<Date>,
}

#[derive(Clone, Debug)]
struct Window {
    days: Vec<JWeekday>,
    start: Time,
    end: Time,
}

/// A field of a time profile that cannot be read; `field` names where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeProfileError {
    pub field: Vec<String>,
    pub message: String,
}

fn weekday(d: Weekday) -> JWeekday {
    match d {
        Weekday::Mon => JWeekday::Monday,
        Weekday::Tue => JWeekday::Tuesday,
        Weekday::Wed => JWeekday::Wednesday,
        Weekday::Thu => JWeekday::Thursday,
        Weekday::Fri => JWeekday::Friday,
        Weekday::Sat => JWeekday::Saturday,
        Weekday::Sun => JWeekday::Sunday,
    }
}

fn hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    // `24:00` is the end of the day, which an exclusive end needs.
    if (h, m) == (24, 0) {
        return Some(Time::MAX);
    }
    Time::new(h, m, 0, 0).ok()
}

impl TimeProfile {
    pub fn compile(name: &str, spec: &TimeProfileSpec) -> Result<TimeProfile, Vec<TimeProfileError>> {
        let mut errors = Vec::new();
        let tz = TimeZone::get(&spec.timezone).unwrap_or_else(|_| {
            errors.push(TimeProfileError {
                field: vec!["timezone".into()],
                message: format!("unknown time zone `{}` (use an IANA name such as Europe/Berlin)", spec.timezone),
            });
            TimeZone::UTC
        });
        let mut windows = Vec::new();
        for (i, w) in spec.windows.iter().enumerate() {
            let mut parse = |field: &str, text: &str| {
                hhmm(text).ok_or_else(|| {
                    errors.push(TimeProfileError {
                        field: vec!["windows".into(), i.to_string(), field.into()],
                        message: format!("`{text}` is not a time of day (write HH:MM, such as 07:30)"),
                    })
                })
            };
            let (start, end) = (parse("start", &w.start), parse("end", &w.end));
            if let (Ok(start), Ok(end)) = (start, end) {
                if start == end {
                    errors.push(TimeProfileError {
                        field: vec!["windows".into(), i.to_string(), "end".into()],
                        message: "a window's end must differ from its start".into(),
                    });
                }
                windows.push(Window { days: w.days.iter().copied().map(weekday).collect(), start, end });
            }
        }
        let mut dates = Vec::new();
        for (i, d) in spec.dates.iter().enumerate() {
            match d.parse::<Date>() {
                Ok(date) => dates.push(date),
                Err(_) => errors.push(TimeProfileError {
                    field: vec!["dates".into(), i.to_string()],
                    message: format!("`{d}` is not a date (write YYYY-MM-DD)"),
                }),
            }
        }
        if spec.windows.is_empty() && spec.dates.is_empty() {
            errors.push(TimeProfileError {
                field: vec![],
                message: format!("time profile `{name}` has no windows and no dates, so it is never active"),
            });
        }
        if errors.is_empty() { Ok(TimeProfile { name: name.to_string(), tz, windows, dates }) } else { Err(errors) }
    }

    /// Whether the profile is active at `at`.
    pub fn is_active(&self, at: Timestamp) -> bool {
        let local = self.tz.to_datetime(at);
        let (date, time) = (local.date(), local.time());
        if self.dates.contains(&date) {
            return true;
        }
        let yesterday = date.checked_sub(1.day()).ok().map(|d| d.weekday());
        self.windows.iter().any(|w| {
            if w.start < w.end {
                w.days.contains(&date.weekday()) && time >= w.start && time < w.end
            } else {
                // Past midnight: the part before midnight belongs to today's
                // window, the part after it to yesterday's.
                (w.days.contains(&date.weekday()) && time >= w.start)
                    || (yesterday.is_some_and(|y| w.days.contains(&y)) && time < w.end)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(tz: &str, windows: Vec<(Vec<Weekday>, &str, &str)>, dates: Vec<&str>) -> TimeProfile {
        let spec = TimeProfileSpec {
            description: None,
            timezone: tz.into(),
            windows: windows
                .into_iter()
                .map(|(days, s, e)| crate::spec::WindowSpec { days, start: s.into(), end: e.into() })
                .collect(),
            dates: dates.into_iter().map(String::from).collect(),
        };
        TimeProfile::compile("p", &spec).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn windows_respect_time_zone() {
        let p = profile("Europe/Berlin", vec![(vec![Weekday::Mon], "07:00", "10:00")], vec![]);
        // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
        assert!(p.is_active(at("2026-11-23T06:30:00Z")));
        assert!(!p.is_active(at("2026-11-23T09:00:00Z")));
        assert!(!p.is_active(at("2026-11-24T06:30:00Z")));
    }

    #[test]
    fn windows_past_midnight() {
        let p = profile("UTC", vec![(vec![Weekday::Fri], "22:00", "02:00")], vec![]);
        assert!(p.is_active(at("2026-11-27T23:00:00Z")));
        assert!(p.is_active(at("2026-11-28T01:00:00Z")));
        assert!(!p.is_active(at("2026-11-28T02:00:00Z")));
        assert!(!p.is_active(at("2026-11-26T23:00:00Z")));
    }

    #[test]
    fn dates_cover_the_whole_local_day() {
        let p = profile("America/New_York", vec![], vec!["2026-12-25"]);
        assert!(p.is_active(at("2026-12-25T05:00:00Z")));
        assert!(!p.is_active(at("2026-12-25T04:59:00Z")));
    }

    #[test]
    fn bad_fields_are_named() {
        let spec = TimeProfileSpec {
            description: None,
            timezone: "Mars/Olympus".into(),
            windows: vec![crate::spec::WindowSpec {
                days: vec![Weekday::Mon],
                start: "7am".into(),
                end: "10:00".into(),
            }],
            dates: vec!["25.12.2026".into()],
        };
        let errs = TimeProfile::compile("p", &spec).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.join(".")).collect();
        assert_eq!(fields, ["timezone", "windows.0.start", "dates.0"]);
    }
}
