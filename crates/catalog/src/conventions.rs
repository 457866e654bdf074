//! How each engine spells booleans, sizes and durations.
//!
//! One small table per engine (and one for JVM options, which every JVM
//! engine shares) says which words and unit suffixes the engine reads and
//! which it writes. [`Syntax`] reads and writes quantities from those tables;
//! it knows nothing of a parameter's range or of the catalog file, which
//! `parameter.rs` layers on top.
//!
//! Sizes and durations also accept the fleet-wide forms of
//! [`dbfleet_model::units`] (`1GiB`, `5min`) wherever that cannot change the
//! meaning: not for Redis or ClickHouse sizes, where `1g` and `1G` are powers
//! of ten.

use dbfleet_model::EngineKind;
use dbfleet_model::units::{duration_unit_micros, size_unit_bytes};

use crate::NormalizeError;

const KIB: i64 = 1 << 10;
const MIB: i64 = 1 << 20;
const GIB: i64 = 1 << 30;
const TIB: i64 = 1 << 40;
const PIB: i64 = 1 << 50;

const MS: i64 = 1_000;
const SEC: i64 = 1_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// How an engine writes booleans and which spellings it reads.
pub(crate) struct Bools {
    pub(crate) truths: &'static [&'static str],
    pub(crate) falsehoods: &'static [&'static str],
    /// PostgreSQL reads any unambiguous prefix of its words (`t`, `of`).
    pub(crate) prefixes: bool,
    pub(crate) yes: &'static str,
    pub(crate) no: &'static str,
}

/// The unit suffixes of one kind of quantity (bytes or microseconds).
pub(crate) struct Units {
    /// Suffixes the engine reads, with their value in the base quantity.
    pub(crate) input: &'static [(&'static str, i64)],
    pub(crate) case_insensitive: bool,
    /// Whether the fleet-wide forms of `dbfleet_model::units` are read too.
    pub(crate) fleet_forms: bool,
    /// Suffixes the engine writes, largest first, ending with the base unit.
    /// Empty: the engine writes a bare number in the parameter's unit.
    pub(crate) output: &'static [(&'static str, i64)],
}

/// Everything engine-specific about reading and writing values.
pub(crate) struct Syntax {
    pub(crate) bools: Bools,
    pub(crate) sizes: Units,
    pub(crate) durations: Units,
    /// Whether a duration may be a fraction of the parameter's unit.
    /// PostgreSQL's real-valued delays (`vacuum_cost_delay = 0.5ms`) can.
    pub(crate) fractional_durations: bool,
    /// How a list is written as one string: Redis separates items with
    /// spaces; the others with commas, or as YAML flow `[a, b]`.
    pub(crate) list_separator: char,
}

/// Which kind of quantity a [`Units`] table measures, for messages.
#[derive(Clone, Copy)]
pub(crate) enum Quantity {
    Size,
    Duration,
}

impl Quantity {
    fn noun(self) -> &'static str {
        match self {
            Quantity::Size => "a size",
            Quantity::Duration => "a duration",
        }
    }

    fn fleet_multiplier(self, unit: &str) -> Option<i64> {
        let m = match self {
            Quantity::Size => size_unit_bytes(unit),
            Quantity::Duration => duration_unit_micros(unit),
        }?;
        i64::try_from(m).ok()
    }
}

const PG_BOOLS: Bools = Bools {
    truths: &["on", "true", "yes", "1"],
    falsehoods: &["off", "false", "no", "0"],
    prefixes: true,
    yes: "on",
    no: "off",
};

const REDIS_BOOLS: Bools = Bools { truths: &["yes"], falsehoods: &["no"], prefixes: false, yes: "yes", no: "no" };

const CLICKHOUSE_BOOLS: Bools =
    Bools { truths: &["1", "true"], falsehoods: &["0", "false"], prefixes: false, yes: "1", no: "0" };

const PLAIN_BOOLS: Bools =
    Bools { truths: &["true"], falsehoods: &["false"], prefixes: false, yes: "true", no: "false" };

/// The IEC suffixes, which mean powers of 1024 to every engine, so every
/// table reads them even where the fleet-wide forms would be ambiguous.
const IEC: [(&str, i64); 4] = [("KiB", KIB), ("MiB", MIB), ("GiB", GIB), ("TiB", TIB)];

const PG_SIZES: Units = Units {
    input: &[("B", 1), ("kB", KIB), ("MB", MIB), ("GB", GIB), ("TB", TIB)],
    case_insensitive: false,
    fleet_forms: true,
    output: &[("TB", TIB), ("GB", GIB), ("MB", MIB), ("kB", KIB), ("B", 1)],
};

const PG_DURATIONS: Units = Units {
    input: &[("us", 1), ("ms", MS), ("s", SEC), ("min", MIN), ("h", HOUR), ("d", DAY)],
    case_insensitive: false,
    fleet_forms: true,
    output: &[("d", DAY), ("h", HOUR), ("min", MIN), ("s", SEC), ("ms", MS), ("us", 1)],
};

/// Redis's `memtoll`: `k`/`m`/`g` are powers of ten, `kb`/`mb`/`gb` powers
/// of two, in any case.
const REDIS_SIZES: Units = Units {
    input: &[
        ("b", 1),
        ("k", 1_000),
        ("kb", KIB),
        ("m", 1_000_000),
        ("mb", MIB),
        ("g", 1_000_000_000),
        ("gb", GIB),
        IEC[0],
        IEC[1],
        IEC[2],
        IEC[3],
    ],
    case_insensitive: true,
    fleet_forms: false,
    output: &[("gb", GIB), ("mb", MIB), ("kb", KIB), ("", 1)],
};

/// ClickHouse's `parseWithSizeSuffix` (newer servers): `K`, `M`, `G`, `T`
/// are powers of ten, `Ki`, `Mi`, `Gi`, `Ti` powers of two. Written as plain
/// byte counts, which every server version reads.
const CLICKHOUSE_SIZES: Units = Units {
    input: &[
        ("k", 1_000),
        ("K", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("Ki", KIB),
        ("Mi", MIB),
        ("Gi", GIB),
        ("Ti", TIB),
        IEC[0],
        IEC[1],
        IEC[2],
        IEC[3],
    ],
    case_insensitive: false,
    fleet_forms: false,
    output: &[],
};

/// Engines whose configuration holds plain numbers only (MongoDB, and
/// ClickHouse and Redis durations).
const BARE_DURATIONS: Units = Units { input: &[], case_insensitive: false, fleet_forms: true, output: &[] };

const BARE_SIZES: Units = Units { input: &IEC, case_insensitive: false, fleet_forms: true, output: &[] };

const ES_SIZES: Units = Units {
    input: &[
        ("b", 1),
        ("k", KIB),
        ("kb", KIB),
        ("m", MIB),
        ("mb", MIB),
        ("g", GIB),
        ("gb", GIB),
        ("t", TIB),
        ("tb", TIB),
        ("p", PIB),
        ("pb", PIB),
    ],
    case_insensitive: true,
    fleet_forms: true,
    output: &[("pb", PIB), ("tb", TIB), ("gb", GIB), ("mb", MIB), ("kb", KIB), ("b", 1)],
};

const ES_DURATIONS: Units = Units {
    input: &[("micros", 1), ("ms", MS), ("s", SEC), ("m", MIN), ("h", HOUR), ("d", DAY)],
    case_insensitive: false,
    fleet_forms: true,
    output: &[("d", DAY), ("h", HOUR), ("m", MIN), ("s", SEC), ("ms", MS), ("micros", 1)],
};

const NEO4J_SIZES: Units = Units {
    input: &[
        ("b", 1),
        ("k", KIB),
        ("kb", KIB),
        ("kib", KIB),
        ("m", MIB),
        ("mb", MIB),
        ("mib", MIB),
        ("g", GIB),
        ("gb", GIB),
        ("gib", GIB),
        ("t", TIB),
        ("tb", TIB),
        ("tib", TIB),
    ],
    case_insensitive: true,
    fleet_forms: true,
    output: &[("t", TIB), ("g", GIB), ("m", MIB), ("k", KIB), ("", 1)],
};

const NEO4J_DURATIONS: Units = Units {
    input: &[("μs", 1), ("ms", MS), ("s", SEC), ("m", MIN), ("h", HOUR), ("d", DAY)],
    case_insensitive: false,
    fleet_forms: true,
    output: &[("d", DAY), ("h", HOUR), ("m", MIN), ("s", SEC), ("ms", MS), ("μs", 1)],
};

/// Cassandra 4.1+ `DataStorageSpec`.
const CASSANDRA_SIZES: Units = Units {
    input: &[("B", 1), ("KiB", KIB), ("MiB", MIB), ("GiB", GIB)],
    case_insensitive: false,
    fleet_forms: true,
    output: &[("GiB", GIB), ("MiB", MIB), ("KiB", KIB), ("B", 1)],
};

/// Cassandra 4.1+ `DurationSpec`.
const CASSANDRA_DURATIONS: Units = Units {
    input: &[("us", 1), ("µs", 1), ("ms", MS), ("s", SEC), ("m", MIN), ("h", HOUR), ("d", DAY)],
    case_insensitive: false,
    fleet_forms: true,
    output: &[("d", DAY), ("h", HOUR), ("m", MIN), ("s", SEC), ("ms", MS), ("us", 1)],
};

/// `-Xmx4g`: powers of 1024 in either case, a bare number is bytes.
const JVM_SIZES: Units = Units {
    input: &[("k", KIB), ("m", MIB), ("g", GIB), ("t", TIB)],
    case_insensitive: true,
    fleet_forms: true,
    output: &[("g", GIB), ("m", MIB), ("k", KIB), ("", 1)],
};

const POSTGRESQL: Syntax = Syntax {
    bools: PG_BOOLS,
    sizes: PG_SIZES,
    durations: PG_DURATIONS,
    fractional_durations: true,
    list_separator: ',',
};

const REDIS: Syntax = Syntax {
    bools: REDIS_BOOLS,
    sizes: REDIS_SIZES,
    durations: BARE_DURATIONS,
    fractional_durations: false,
    list_separator: ' ',
};

const MONGODB: Syntax = Syntax {
    bools: PLAIN_BOOLS,
    sizes: BARE_SIZES,
    durations: BARE_DURATIONS,
    fractional_durations: false,
    list_separator: ',',
};

const CLICKHOUSE: Syntax = Syntax {
    bools: CLICKHOUSE_BOOLS,
    sizes: CLICKHOUSE_SIZES,
    durations: BARE_DURATIONS,
    fractional_durations: false,
    list_separator: ',',
};

const ELASTICSEARCH: Syntax = Syntax {
    bools: PLAIN_BOOLS,
    sizes: ES_SIZES,
    durations: ES_DURATIONS,
    fractional_durations: false,
    list_separator: ',',
};

const NEO4J: Syntax = Syntax {
    bools: PLAIN_BOOLS,
    sizes: NEO4J_SIZES,
    durations: NEO4J_DURATIONS,
    fractional_durations: false,
    list_separator: ',',
};

const CASSANDRA: Syntax = Syntax {
    bools: PLAIN_BOOLS,
    sizes: CASSANDRA_SIZES,
    durations: CASSANDRA_DURATIONS,
    fractional_durations: false,
    list_separator: ',',
};

/// JVM options differ from their engine's own syntax only in sizes.
const fn jvm(engine: Syntax) -> Syntax {
    Syntax { sizes: JVM_SIZES, ..engine }
}

const JVM_ELASTICSEARCH: Syntax = jvm(ELASTICSEARCH);
const JVM_NEO4J: Syntax = jvm(NEO4J);
const JVM_CASSANDRA: Syntax = jvm(CASSANDRA);

/// The syntax of a parameter of `engine` that lives in `section` of its
/// configuration (`jvm` for JVM options).
pub(crate) fn syntax(engine: EngineKind, section: &str) -> &'static Syntax {
    match (engine, section == "jvm") {
        (EngineKind::Postgresql, _) => &POSTGRESQL,
        (EngineKind::Redis, _) => &REDIS,
        (EngineKind::Mongodb, _) => &MONGODB,
        (EngineKind::Clickhouse, _) => &CLICKHOUSE,
        (EngineKind::Elasticsearch, false) => &ELASTICSEARCH,
        (EngineKind::Elasticsearch, true) => &JVM_ELASTICSEARCH,
        (EngineKind::Neo4j, false) => &NEO4J,
        (EngineKind::Neo4j, true) => &JVM_NEO4J,
        (EngineKind::Cassandra, false) => &CASSANDRA,
        (EngineKind::Cassandra, true) => &JVM_CASSANDRA,
    }
}

impl Bools {
    /// Reads a boolean spelled as this engine spells it.
    pub(crate) fn parse(&self, input: &str) -> Option<bool> {
        let s = input.trim();
        if s.is_empty() {
            return None;
        }
        let matches = |word: &&str| {
            word.eq_ignore_ascii_case(s)
                || (self.prefixes && word.len() > s.len() && word[..s.len()].eq_ignore_ascii_case(s))
        };
        match (self.truths.iter().any(matches), self.falsehoods.iter().any(matches)) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            // Neither, or a prefix of both (`o` for on and off).
            _ => None,
        }
    }

    pub(crate) fn write(&self, b: bool) -> &'static str {
        if b { self.yes } else { self.no }
    }

    /// The accepted spellings, for messages.
    pub(crate) fn describe(&self) -> String {
        let words: Vec<&str> = self.truths.iter().zip(self.falsehoods).flat_map(|(t, f)| [*t, *f]).collect();
        let prefixes = if self.prefixes { ", or an unambiguous prefix of one" } else { "" };
        format!("a boolean ({}{prefixes})", words.join(", "))
    }
}

impl Units {
    fn lookup(&self, suffix: &str, quantity: Quantity) -> Option<i64> {
        let native = self.input.iter().find(|(s, _)| *s == suffix).or_else(|| {
            self.case_insensitive.then(|| self.input.iter().find(|(s, _)| s.eq_ignore_ascii_case(suffix))).flatten()
        });
        match native {
            Some((_, m)) => Some(*m),
            None if self.fleet_forms => quantity.fleet_multiplier(suffix),
            None => None,
        }
    }

    /// Whether values are written as bare numbers in the parameter's unit.
    pub(crate) fn bare(&self) -> bool {
        self.output.is_empty()
    }

    /// What a value looks like, for messages: `a size (a number with one
    /// of B, kB, ..., or a bare number counted in 8kB)`.
    pub(crate) fn describe(&self, quantity: Quantity, unit_name: &str) -> String {
        let mut names: Vec<&str> = self.input.iter().map(|(s, _)| *s).collect();
        if self.fleet_forms {
            let fleet: &[&str] = match quantity {
                Quantity::Size => &["KiB", "MiB", "GiB", "TiB"],
                Quantity::Duration => &["us", "ms", "s", "min", "h", "d"],
            };
            for s in fleet {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(s)) {
                    names.push(s);
                }
            }
        }
        if names.is_empty() {
            format!("{} (a bare number counted in {unit_name})", quantity.noun())
        } else {
            format!(
                "{} (a number with one of {}, or a bare number counted in {unit_name})",
                quantity.noun(),
                names.join(", ")
            )
        }
    }

    /// Reads `64MB`, `1.5h` or a bare number, into bytes or microseconds.
    /// A bare number counts in `bare_unit`, except the bare `-1` that many
    /// engines use for "disabled" or "automatic", which stays `-1`.
    pub(crate) fn parse(
        &self,
        input: &str,
        quantity: Quantity,
        bare_unit: i64,
        unit_name: &str,
    ) -> Result<i64, NormalizeError> {
        let s = input.trim();
        let malformed =
            || NormalizeError::Malformed { input: input.to_string(), expected: self.describe(quantity, unit_name) };
        let end = s
            .char_indices()
            .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
            .map_or(s.len(), |(i, _)| i);
        let (number, suffix) = s.split_at(end);
        let number: f64 = number.parse().map_err(|_| malformed())?;
        let suffix = suffix.trim();
        let multiplier = if suffix.is_empty() {
            if number == -1.0 {
                return Ok(-1);
            }
            bare_unit
        } else {
            if number < 0.0 {
                return Err(malformed());
            }
            self.lookup(suffix, quantity).ok_or_else(|| NormalizeError::BadUnit {
                input: input.to_string(),
                unit: suffix.to_string(),
                expected: self.describe(quantity, unit_name),
            })?
        };
        scale(number, multiplier).ok_or_else(|| NormalizeError::Overflow(input.to_string()))
    }

    /// Writes bytes or microseconds in the engine's spelling: the largest
    /// suffix that divides the value exactly, or a bare number of
    /// `bare_unit` for engines that write no suffixes.
    pub(crate) fn write(&self, value: i64, bare_unit: i64) -> String {
        if value == -1 || value == 0 {
            return value.to_string();
        }
        if self.bare() {
            return format_ratio(value, bare_unit);
        }
        let (suffix, m) =
            self.output.iter().find(|(_, m)| value % m == 0).unwrap_or(&self.output[self.output.len() - 1]);
        format!("{}{suffix}", format_ratio(value, *m))
    }
}

/// `number × multiplier`, rounded to a whole number of the base quantity.
pub(crate) fn scale(number: f64, multiplier: i64) -> Option<i64> {
    let v = (number * multiplier as f64).round();
    (v.is_finite() && v.abs() < i64::MAX as f64).then_some(v as i64)
}

/// `value / unit` as the shortest decimal that reads back to `value`.
fn format_ratio(value: i64, unit: i64) -> String {
    if value % unit == 0 { (value / unit).to_string() } else { (value as f64 / unit as f64).to_string() }
}

/// Reads the `unit` field of a catalog entry (`8kB`, `MB`, `ms`): an
/// optional whole multiplier and a fleet-wide unit name. Returns the unit in
/// bytes or microseconds.
pub(crate) fn parse_unit(text: &str, quantity: Quantity) -> Option<i64> {
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (count, name) = text.split_at(digits);
    let count: i64 = if count.is_empty() { 1 } else { count.parse().ok()? };
    let m = quantity.fleet_multiplier(name).filter(|_| !name.is_empty())?;
    count.checked_mul(m).filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_booleans_take_unambiguous_prefixes() {
        let b = &syntax(EngineKind::Postgresql, "main").bools;
        for (input, want) in [
            ("on", Some(true)),
            ("OFF", Some(false)),
            ("of", Some(false)),
            ("t", Some(true)),
            ("fals", Some(false)),
            ("y", Some(true)),
            ("1", Some(true)),
            ("0", Some(false)),
            ("o", None),
            ("truex", None),
            ("", None),
        ] {
            assert_eq!(b.parse(input), want, "{input}");
        }
    }

    #[test]
    fn other_engines_take_their_own_words_only() {
        let redis = &syntax(EngineKind::Redis, "main").bools;
        assert_eq!(redis.parse("YES"), Some(true));
        assert_eq!(redis.parse("true"), None);
        assert_eq!(redis.parse("y"), None);
        let es = &syntax(EngineKind::Elasticsearch, "main").bools;
        assert_eq!(es.parse("false"), Some(false));
        assert_eq!(es.parse("no"), None);
        let ch = &syntax(EngineKind::Clickhouse, "main").bools;
        assert_eq!((ch.parse("1"), ch.parse("True")), (Some(true), Some(true)));
        assert_eq!(ch.write(true), "1");
    }

    fn size(engine: EngineKind, section: &str, input: &str) -> Result<i64, NormalizeError> {
        syntax(engine, section).sizes.parse(input, Quantity::Size, 1, "B")
    }

    #[test]
    fn size_suffixes_follow_the_engine() {
        use EngineKind::*;
        let cases: &[(EngineKind, &str, &str, i64)] = &[
            (Postgresql, "main", "1GB", GIB),
            (Postgresql, "main", "1.5 MB", 3 * MIB / 2),
            (Postgresql, "main", "1GiB", GIB),
            (Postgresql, "main", "1gb", GIB),
            (Redis, "main", "1gb", GIB),
            (Redis, "main", "1g", 1_000_000_000),
            (Redis, "main", "1K", 1_000),
            (Redis, "main", "1MB", MIB),
            (Redis, "main", "2GiB", 2 * GIB),
            (Clickhouse, "main", "10G", 10_000_000_000),
            (Clickhouse, "main", "10Gi", 10 * GIB),
            (Clickhouse, "main", "10GiB", 10 * GIB),
            (Elasticsearch, "main", "512mb", 512 * MIB),
            (Elasticsearch, "main", "1GB", GIB),
            (Neo4j, "main", "512m", 512 * MIB),
            (Neo4j, "main", "512MiB", 512 * MIB),
            (Cassandra, "main", "256MiB", 256 * MIB),
            (Cassandra, "main", "10KiB", 10 * KIB),
            (Cassandra, "main", "100B", 100),
            (Cassandra, "jvm", "4g", 4 * GIB),
            (Elasticsearch, "jvm", "512M", 512 * MIB),
        ];
        for (engine, section, input, want) in cases {
            assert_eq!(size(*engine, section, input), Ok(*want), "{engine} {section} {input}");
        }
    }

    #[test]
    fn ambiguous_or_unknown_suffixes_are_refused() {
        use EngineKind::*;
        for (engine, input) in [(Redis, "1t"), (Clickhouse, "1GB"), (Postgresql, "1XB"), (Cassandra, "1PiB")] {
            assert!(matches!(size(engine, "main", input), Err(NormalizeError::BadUnit { .. })), "{engine} {input}");
        }
        assert!(matches!(size(Postgresql, "main", "-1kB"), Err(NormalizeError::Malformed { .. })));
        assert!(matches!(size(Postgresql, "main", "kB"), Err(NormalizeError::Malformed { .. })));
        assert!(matches!(size(Postgresql, "main", "99999999999TB"), Err(NormalizeError::Overflow(_))));
    }

    #[test]
    fn bare_numbers_count_in_the_unit_except_minus_one() {
        let pg = &syntax(EngineKind::Postgresql, "main").sizes;
        assert_eq!(pg.parse("16", Quantity::Size, 8 * KIB, "8kB"), Ok(128 * KIB));
        assert_eq!(pg.parse("-1", Quantity::Size, 8 * KIB, "8kB"), Ok(-1));
    }

    #[test]
    fn durations_follow_the_engine() {
        use EngineKind::*;
        let cases: &[(EngineKind, &str, i64)] = &[
            (Postgresql, "30s", 30 * SEC),
            (Postgresql, "5min", 5 * MIN),
            (Postgresql, "250us", 250),
            (Postgresql, "2h", 2 * HOUR),
            (Cassandra, "10ms", 10 * MS),
            (Cassandra, "1m", MIN),
            (Cassandra, "1d", DAY),
            (Elasticsearch, "1m", MIN),
            (Elasticsearch, "100micros", 100),
            (Neo4j, "5m", 5 * MIN),
            (Redis, "5min", 5 * MIN),
        ];
        for (engine, input, want) in cases {
            let got = syntax(*engine, "main").durations.parse(input, Quantity::Duration, SEC, "s");
            assert_eq!(got, Ok(*want), "{engine} {input}");
        }
    }

    #[test]
    fn writing_picks_the_largest_exact_suffix() {
        use EngineKind::*;
        let cases: &[(EngineKind, &str, i64, &str)] = &[
            (Postgresql, "main", GIB, "1GB"),
            (Postgresql, "main", 1536 * KIB, "1536kB"),
            (Postgresql, "main", -1, "-1"),
            (Redis, "main", GIB, "1gb"),
            (Redis, "main", 1_000_000_000, "1000000000"),
            (Clickhouse, "main", 10 * GIB, "10737418240"),
            (Elasticsearch, "main", 512 * MIB, "512mb"),
            (Neo4j, "main", 512 * MIB, "512m"),
            (Cassandra, "main", 256 * MIB, "256MiB"),
            (Cassandra, "jvm", 4 * GIB, "4g"),
        ];
        for (engine, section, value, want) in cases {
            assert_eq!(syntax(*engine, section).sizes.write(*value, 1), *want, "{engine} {section}");
        }
        let pg = &syntax(Postgresql, "main").durations;
        assert_eq!(pg.write(90 * SEC, MS), "90s");
        assert_eq!(pg.write(2 * HOUR, MS), "2h");
        assert_eq!(syntax(Redis, "main").durations.write(300 * SEC, SEC), "300");
    }

    #[test]
    fn units_of_catalog_entries() {
        assert_eq!(parse_unit("8kB", Quantity::Size), Some(8 * KIB));
        assert_eq!(parse_unit("MB", Quantity::Size), Some(MIB));
        assert_eq!(parse_unit("min", Quantity::Duration), Some(MIN));
        assert_eq!(parse_unit("ms", Quantity::Duration), Some(MS));
        assert_eq!(parse_unit("8", Quantity::Size), None);
        assert_eq!(parse_unit("furlong", Quantity::Duration), None);
    }
}
