//! One parameter of a catalog, and how its values are read and written.
//!
//! [`Parameter::normalize`] turns a fleet [`Value`] into a [`Typed`] value in
//! canonical form (bytes, microseconds, the enum's own spelling), so that
//! `1GB` and `1024MB` compare equal, and checks it against the parameter's
//! type, allowed values and range. [`Parameter::format_native`] goes the
//! other way, to the spelling the engine's own configuration uses. The
//! per-engine spellings come from `conventions.rs`; this module applies a
//! parameter's unit, range and enum values to them.

use std::collections::BTreeMap;
use std::fmt;

use dbfleet_model::{ApplyMethod, EngineKind, Scope, Value, Version};

use crate::conventions::{Quantity, Syntax, parse_unit, scale, syntax};

/// One configuration parameter of an engine, as its catalog describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The engine's own name (a dotted path for nested formats).
    pub name: String,
    pub ty: ParamType,
    /// For sizes and durations: what a bare number counts in (`8kB`, `ms`).
    pub unit: Option<String>,
    pub min: Option<Typed>,
    pub max: Option<Typed>,
    /// The engine's default, as written in the catalog (native syntax).
    pub default: Option<Value>,
    /// The allowed values of an enum, in the engine's spelling.
    pub values: Vec<String>,
    pub scope: ScopeSet,
    pub apply: ApplyMethod,
    /// First version that has the parameter; `None` for all listed versions.
    pub since: Option<Version>,
    /// Last version that has the parameter; `None` if it is still present.
    pub until: Option<Version>,
    /// What to use instead once the parameter is gone.
    pub replaced_by: Option<String>,
    /// Deprecated names the engine still accepts for this parameter.
    pub aliases: Vec<String>,
    /// Which native file the parameter lives in (`main`, `jvm`, ...).
    pub section: String,
    /// The value must be a secret reference, never plain text.
    pub sensitive: bool,
    /// Reported by the server but not settable.
    pub read_only: bool,
    pub description: String,
}

/// The type of a parameter's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    Bool,
    Int,
    Real,
    String,
    Enum,
    Size,
    Duration,
    List,
    Map,
}

impl ParamType {
    /// The name as written in catalog files.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Bool => "bool",
            ParamType::Int => "int",
            ParamType::Real => "real",
            ParamType::String => "string",
            ParamType::Enum => "enum",
            ParamType::Size => "size",
            ParamType::Duration => "duration",
            ParamType::List => "list",
            ParamType::Map => "map",
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter may be set: on the whole server, per tenant (a role or
/// database inside a shared server), or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeSet {
    Instance,
    Tenant,
    Both,
}

impl ScopeSet {
    /// Whether the parameter may be set at `scope`.
    pub fn allows(self, scope: Scope) -> bool {
        matches!(
            (self, scope),
            (ScopeSet::Both, _) | (ScopeSet::Instance, Scope::Instance) | (ScopeSet::Tenant, Scope::Tenant)
        )
    }
}

/// A value in canonical form, so that `1024MB` and `1GB` compare equal.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Bool(bool),
    Int(i64),
    Real(f64),
    /// A string, or an enum member in the catalog's spelling.
    Str(String),
    /// A size in bytes. `-1` is the "disabled" or "automatic" sentinel that
    /// many engines accept as a bare `-1`, whatever the unit.
    Bytes(i64),
    /// A duration in microseconds, with the same `-1` sentinel.
    Micros(i64),
    List(Vec<Typed>),
    Map(BTreeMap<String, Typed>),
}

/// A value a parameter does not accept. Messages read well after "invalid
/// value for shared_buffers: ".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NormalizeError {
    /// A kind of value the parameter never takes, such as a list for a size.
    #[error("expected {expected}, found {found}")]
    WrongType { expected: String, found: String },
    /// Text that does not read as the parameter's type.
    #[error("`{input}` is not {expected}")]
    Malformed { input: String, expected: String },
    /// A number with a unit suffix the engine does not know.
    #[error("unknown unit `{unit}` in `{input}`: expected {expected}")]
    BadUnit { input: String, unit: String, expected: String },
    /// A size or duration finer than the parameter's unit.
    #[error("`{input}` is not a whole number of {unit}")]
    NotWholeUnits { input: String, unit: String },
    #[error("`{input}` is out of range: {range}")]
    OutOfRange { input: String, range: String },
    /// A value that is not one of an enum's members.
    #[error(
        "`{input}` is not one of {}{}",
        allowed.join(", "),
        suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
    )]
    NotAllowed { input: String, allowed: Vec<String>, suggestion: Option<String> },
    #[error("`{0}` is too large")]
    Overflow(String),
}

impl Parameter {
    /// Reads `v` the way `engine` would and checks it against the type,
    /// enum values and range of this parameter.
    pub fn normalize(&self, engine: EngineKind, v: &Value) -> Result<Typed, NormalizeError> {
        let typed = self.read(engine, v)?;
        let below_min = self.min.as_ref().is_some_and(|min| less(&typed, min));
        let above_max = self.max.as_ref().is_some_and(|max| less(max, &typed));
        if below_min || above_max {
            return Err(NormalizeError::OutOfRange { input: show(v), range: self.range_text(engine) });
        }
        Ok(typed)
    }

    /// Writes `t` in the engine's own spelling, such as PostgreSQL's `1GB`
    /// and `30s` or Redis's `1gb` and `yes`.
    pub fn format_native(&self, engine: EngineKind, t: &Typed) -> String {
        let syntax = syntax(engine, &self.section);
        match t {
            Typed::Bool(b) => syntax.bools.write(*b).to_string(),
            Typed::Int(i) => i.to_string(),
            Typed::Real(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            Typed::Real(x) => format!("{x:?}"),
            Typed::Str(s) => s.clone(),
            Typed::Bytes(n) => syntax.sizes.write(*n, self.unit_in(Quantity::Size)),
            Typed::Micros(n) => syntax.durations.write(*n, self.unit_in(Quantity::Duration)),
            Typed::List(items) if syntax.list_separator == ' ' => {
                items.iter().map(|item| self.format_native(engine, item)).collect::<Vec<_>>().join(" ")
            }
            Typed::List(_) | Typed::Map(_) => flow(t),
        }
    }

    /// Reads `v` without checking the range: used for the catalog's own
    /// `min` and `max` too.
    pub(crate) fn read(&self, engine: EngineKind, v: &Value) -> Result<Typed, NormalizeError> {
        let syntax = syntax(engine, &self.section);
        match self.ty {
            ParamType::Bool => match v {
                Value::Bool(b) => Ok(Typed::Bool(*b)),
                Value::String(_) | Value::Int(_) => {
                    let text = show(v);
                    syntax
                        .bools
                        .parse(&text)
                        .map(Typed::Bool)
                        .ok_or_else(|| NormalizeError::Malformed { input: text, expected: syntax.bools.describe() })
                }
                _ => Err(wrong_type(syntax.bools.describe(), v)),
            },
            ParamType::Int => match v {
                Value::Int(i) => Ok(Typed::Int(*i)),
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Typed::Int(*f as i64)),
                Value::String(s) => s
                    .trim()
                    .parse()
                    .map(Typed::Int)
                    .map_err(|_| NormalizeError::Malformed { input: s.clone(), expected: "an integer".into() }),
                _ => Err(wrong_type("an integer".into(), v)),
            },
            ParamType::Real => match v {
                Value::Int(i) => Ok(Typed::Real(*i as f64)),
                Value::Float(f) => Ok(Typed::Real(*f)),
                Value::String(s) => s
                    .trim()
                    .parse()
                    .map(Typed::Real)
                    .map_err(|_| NormalizeError::Malformed { input: s.clone(), expected: "a number".into() }),
                _ => Err(wrong_type("a number".into(), v)),
            },
            ParamType::String => match v {
                Value::String(s) => Ok(Typed::Str(s.clone())),
                Value::Bool(_) | Value::Int(_) | Value::Float(_) => Ok(Typed::Str(v.to_string())),
                _ => Err(wrong_type("a string".into(), v)),
            },
            ParamType::Enum => self.read_enum(syntax, v),
            ParamType::Size => self.read_quantity(syntax, Quantity::Size, v),
            ParamType::Duration => self.read_quantity(syntax, Quantity::Duration, v),
            ParamType::List => read_list(syntax, v),
            ParamType::Map => match v {
                Value::Map(_) => generic(v),
                Value::String(s) if s.trim_start().starts_with('{') => generic(&parse_flow(s)?),
                _ => Err(wrong_type("a map such as `{key: value}`".into(), v)),
            },
        }
    }

    fn read_enum(&self, syntax: &Syntax, v: &Value) -> Result<Typed, NormalizeError> {
        let text = match v {
            // A YAML `true` means the engine's own word for true, which is
            // how PostgreSQL's on/off enums (synchronous_commit) spell it.
            Value::Bool(b) => syntax.bools.write(*b).to_string(),
            Value::String(_) | Value::Int(_) | Value::Float(_) => show(v),
            _ => return Err(wrong_type(format!("one of {}", self.values.join(", ")), v)),
        };
        let member = |word: &str| self.values.iter().find(|m| m.eq_ignore_ascii_case(word.trim()));
        // Engines take any of their boolean spellings for the on/off members
        // of an enum (PostgreSQL reads `synchronous_commit = true`).
        let found = member(&text).or_else(|| syntax.bools.parse(&text).and_then(|b| member(syntax.bools.write(b))));
        match found {
            Some(m) => Ok(Typed::Str(m.clone())),
            None => Err(NormalizeError::NotAllowed {
                suggestion: dbfleet_model::did_you_mean(&text, self.values.iter().map(String::as_str))
                    .map(str::to_string),
                input: text,
                allowed: self.values.clone(),
            }),
        }
    }

    fn read_quantity(&self, syntax: &Syntax, quantity: Quantity, v: &Value) -> Result<Typed, NormalizeError> {
        let units = match quantity {
            Quantity::Size => &syntax.sizes,
            Quantity::Duration => &syntax.durations,
        };
        let unit = self.unit_in(quantity);
        let unit_name = self.unit_name(quantity);
        let overflow = || NormalizeError::Overflow(show(v));
        let amount = match v {
            Value::Int(-1) => -1,
            Value::Int(i) => i.checked_mul(unit).ok_or_else(overflow)?,
            Value::Float(f) if *f == -1.0 => -1,
            Value::Float(f) => scale(*f, unit).ok_or_else(overflow)?,
            Value::String(s) => units.parse(s, quantity, unit, &unit_name)?,
            _ => return Err(wrong_type(units.describe(quantity, &unit_name), v)),
        };
        // Engines keep sizes in whole units (PostgreSQL rounds `100kB` to
        // 13 blocks of 8kB), and engines that write bare numbers cannot
        // write a fraction of one: refuse rather than round silently.
        let whole = matches!(quantity, Quantity::Size) || !syntax.fractional_durations || units.bare();
        if whole && amount != -1 && amount % unit != 0 {
            return Err(NormalizeError::NotWholeUnits { input: show(v), unit: unit_name });
        }
        Ok(match quantity {
            Quantity::Size => Typed::Bytes(amount),
            Quantity::Duration => Typed::Micros(amount),
        })
    }

    /// The parameter's unit in bytes or microseconds; without one, a bare
    /// number is bytes or seconds.
    fn unit_in(&self, quantity: Quantity) -> i64 {
        let default = match quantity {
            Quantity::Size => 1,
            Quantity::Duration => 1_000_000,
        };
        self.unit.as_deref().and_then(|u| parse_unit(u, quantity)).unwrap_or(default)
    }

    fn unit_name(&self, quantity: Quantity) -> String {
        match (&self.unit, quantity) {
            (Some(u), _) => u.clone(),
            (None, Quantity::Size) => "bytes".into(),
            (None, Quantity::Duration) => "seconds".into(),
        }
    }

    /// The range in the engine's spelling, and for sizes and durations with
    /// a unit also in that unit: `must be between 128kB and 8GB (16 to
    /// 1048576 in units of 8kB)`.
    fn range_text(&self, engine: EngineKind) -> String {
        let native = |t: &Typed| self.format_native(engine, t);
        let mut text = match (&self.min, &self.max) {
            (Some(min), Some(max)) => format!("must be between {} and {}", native(min), native(max)),
            (Some(min), None) => format!("must be at least {}", native(min)),
            (None, Some(max)) => format!("must be at most {}", native(max)),
            (None, None) => String::new(),
        };
        let quantity = match self.ty {
            ParamType::Size => Quantity::Size,
            ParamType::Duration => Quantity::Duration,
            _ => return text,
        };
        if let Some(unit) = &self.unit {
            let in_units = |t: &Option<Typed>| match t {
                Some(Typed::Bytes(n) | Typed::Micros(n)) if *n == -1 => Some("-1".to_string()),
                Some(Typed::Bytes(n) | Typed::Micros(n)) => Some((n / self.unit_in(quantity)).to_string()),
                _ => None,
            };
            match (in_units(&self.min), in_units(&self.max)) {
                (Some(a), Some(b)) => text.push_str(&format!(" ({a} to {b} in units of {unit})")),
                (Some(a), None) => text.push_str(&format!(" ({a} in units of {unit})")),
                (None, Some(b)) => text.push_str(&format!(" ({b} in units of {unit})")),
                (None, None) => {}
            }
        }
        text
    }
}

/// `a < b` for values of one kind; values of different kinds never are.
pub(crate) fn less(a: &Typed, b: &Typed) -> bool {
    match (a, b) {
        (Typed::Int(x), Typed::Int(y)) | (Typed::Bytes(x), Typed::Bytes(y)) | (Typed::Micros(x), Typed::Micros(y)) => {
            x < y
        }
        (Typed::Real(x), Typed::Real(y)) => x < y,
        (Typed::Int(x), Typed::Real(y)) => (*x as f64) < *y,
        (Typed::Real(x), Typed::Int(y)) => *x < *y as f64,
        _ => false,
    }
}

/// A value as the user wrote it, for messages.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn wrong_type(expected: String, v: &Value) -> NormalizeError {
    let found = match v {
        Value::List(_) => "a list".to_string(),
        Value::Map(_) => "a map".to_string(),
        Value::Null => "null".to_string(),
        Value::Secret(r) => format!("secret reference `{r}`, which is only checked once resolved"),
        other => format!("{} `{}`", other.kind(), show(other)),
    };
    NormalizeError::WrongType { expected, found }
}

fn read_list(syntax: &Syntax, v: &Value) -> Result<Typed, NormalizeError> {
    let redis = syntax.list_separator == ' ';
    let items: Vec<Value> = match v {
        Value::List(items) => items.clone(),
        Value::String(s) if s.trim_start().starts_with('[') => match parse_flow(s)? {
            Value::List(items) => items,
            _ => return Err(wrong_type("a list".into(), v)),
        },
        Value::String(s) if redis => s.split_whitespace().map(|p| Value::String(p.to_string())).collect(),
        Value::String(s) => s
            .split(syntax.list_separator)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Value::from_plain_scalar)
            .collect(),
        _ => return Err(wrong_type("a list".into(), v)),
    };
    let items = items
        .iter()
        .map(|item| match item {
            // Redis reads every item of a list as a word.
            Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::String(_) if redis => Ok(Typed::Str(show(item))),
            _ if redis => Err(wrong_type("a list of words".into(), item)),
            _ => generic(item),
        })
        .collect::<Result<_, _>>()?;
    Ok(Typed::List(items))
}

/// Reads a YAML flow collection (`[a, b]`, `{k: v}`) written as a string.
fn parse_flow(text: &str) -> Result<Value, NormalizeError> {
    let malformed =
        || NormalizeError::Malformed { input: text.to_string(), expected: "a YAML flow list or map".into() };
    dbfleet_model::yaml::parse("value", text).map(|node| node.to_value()).map_err(|_| malformed())
}

/// Gives the items of a list or map parameter a type from their own form.
fn generic(v: &Value) -> Result<Typed, NormalizeError> {
    Ok(match v {
        Value::Bool(b) => Typed::Bool(*b),
        Value::Int(i) => Typed::Int(*i),
        Value::Float(f) => Typed::Real(*f),
        Value::String(s) => Typed::Str(s.clone()),
        Value::List(items) => Typed::List(items.iter().map(generic).collect::<Result<_, _>>()?),
        Value::Map(map) => {
            Typed::Map(map.iter().map(|(k, v)| Ok((k.clone(), generic(v)?))).collect::<Result<_, NormalizeError>>()?)
        }
        Value::Null | Value::Secret(_) => return Err(wrong_type("a plain value".into(), v)),
    })
}

/// YAML flow text that [`parse_flow`] and [`generic`] read back as `t`.
fn flow(t: &Typed) -> String {
    match t {
        Typed::Bool(b) => b.to_string(),
        Typed::Int(i) | Typed::Bytes(i) | Typed::Micros(i) => i.to_string(),
        Typed::Real(x) => format!("{x:?}"),
        Typed::Str(s) => Value::String(s.clone()).to_string(),
        Typed::List(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Typed::Map(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    const PG: EngineKind = EngineKind::Postgresql;

    fn pg(name: &str) -> &'static Parameter {
        catalog(PG).get(name).unwrap_or_else(|| panic!("{name} is not in the PostgreSQL catalog"))
    }

    /// A parameter of `engine` from a one-entry catalog; `fields` are its
    /// YAML lines without scope, apply and description.
    fn param(engine: EngineKind, fields: &str) -> Parameter {
        let fields: String = fields.lines().map(|l| format!("    {l}\n")).collect();
        let text = format!(
            "engine: {engine}\nversions: [\"1\"]\nparameters:\n  p:\n{fields}    scope: instance\n    apply: restart\n    description: d\n"
        );
        crate::load(engine, "t.yaml", &text).unwrap().get("p").unwrap().clone()
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_string())
    }

    /// Checks that every input normalizes to `want`.
    fn check(engine: EngineKind, p: &Parameter, inputs: &[Value], want: Typed) {
        for input in inputs {
            assert_eq!(p.normalize(engine, input), Ok(want.clone()), "{} = {input}", p.name);
        }
    }

    fn error(engine: EngineKind, p: &Parameter, input: Value) -> String {
        let e = p.normalize(engine, &input).expect_err("should be refused");
        format!("invalid value for {}: {e}", p.name)
    }

    #[test]
    fn postgresql_sizes_compare_in_bytes() {
        let gb = Typed::Bytes(1 << 30);
        check(
            PG,
            pg("shared_buffers"),
            &[s("1GB"), s("1024MB"), Value::Int(131072), s("131072"), s("1GiB"), s("1 GB")],
            gb,
        );
        check(PG, pg("work_mem"), &[s("64MB"), Value::Int(65536), s("65536kB")], Typed::Bytes(64 << 20));
        check(PG, pg("wal_buffers"), &[Value::Int(-1), s("-1")], Typed::Bytes(-1));
        check(PG, pg("max_wal_size"), &[s("2GB"), Value::Int(2048)], Typed::Bytes(2 << 30));
    }

    #[test]
    fn postgresql_durations_compare_in_microseconds() {
        check(
            PG,
            pg("statement_timeout"),
            &[s("30s"), Value::Int(30000), s("30000"), s("0.5min"), s("30000ms")],
            Typed::Micros(30_000_000),
        );
        check(PG, pg("checkpoint_timeout"), &[s("5min"), Value::Int(300), s("300s")], Typed::Micros(300_000_000));
        check(PG, pg("vacuum_cost_delay"), &[s("0.5ms"), s("500us"), Value::Float(0.5)], Typed::Micros(500));
        check(PG, pg("log_min_duration_statement"), &[Value::Int(-1)], Typed::Micros(-1));
    }

    #[test]
    fn postgresql_booleans_and_enums() {
        let on = [Value::Bool(true), s("on"), s("ON"), s("true"), s("yes"), s("1"), Value::Int(1), s("t")];
        check(PG, pg("enable_seqscan"), &on, Typed::Bool(true));
        check(
            PG,
            pg("enable_seqscan"),
            &[Value::Bool(false), s("off"), s("of"), s("no"), Value::Int(0)],
            Typed::Bool(false),
        );
        check(
            PG,
            pg("synchronous_commit"),
            &[Value::Bool(true), s("on"), s("TRUE"), s("yes")],
            Typed::Str("on".into()),
        );
        check(PG, pg("synchronous_commit"), &[s("Remote_Apply")], Typed::Str("remote_apply".into()));
        check(PG, pg("default_transaction_isolation"), &[s("repeatable read")], Typed::Str("repeatable read".into()));
    }

    #[test]
    fn other_engines_read_their_own_units() {
        use EngineKind::*;
        let maxmemory = param(Redis, "type: size");
        check(
            Redis,
            &maxmemory,
            &[s("1gb"), s("1GB"), s("1024mb"), s("1GiB"), Value::Int(1 << 30)],
            Typed::Bytes(1 << 30),
        );
        check(Redis, &maxmemory, &[s("1g"), s("1000m")], Typed::Bytes(1_000_000_000));
        let appendonly = param(Redis, "type: bool");
        check(Redis, &appendonly, &[s("yes"), Value::Bool(true)], Typed::Bool(true));
        let cache = param(Cassandra, "type: size\nunit: MiB");
        check(Cassandra, &cache, &[s("256MiB"), Value::Int(256), s("0.25GiB")], Typed::Bytes(256 << 20));
        let timeout = param(Cassandra, "type: duration\nunit: ms");
        check(Cassandra, &timeout, &[s("10s"), Value::Int(10000), s("10000ms")], Typed::Micros(10_000_000));
        let heap = param(Elasticsearch, "type: size\nunit: MB\nsection: jvm");
        check(Elasticsearch, &heap, &[s("4g"), s("4G"), s("4096m"), Value::Int(4096)], Typed::Bytes(4 << 30));
        let buffer = param(Elasticsearch, "type: size\nunit: B");
        check(Elasticsearch, &buffer, &[s("512mb"), s("512MB")], Typed::Bytes(512 << 20));
        let pagecache = param(Neo4j, "type: size");
        check(Neo4j, &pagecache, &[s("512m"), s("512MiB")], Typed::Bytes(512 << 20));
        let max_memory = param(Clickhouse, "type: size");
        check(Clickhouse, &max_memory, &[s("10G"), Value::Int(10_000_000_000)], Typed::Bytes(10_000_000_000));
    }

    #[test]
    fn refusals_name_the_accepted_forms_and_range() {
        let cases: &[(&str, Value, &str)] = &[
            (
                "shared_buffers",
                s("64kB"),
                "invalid value for shared_buffers: `64kB` is out of range: must be between 128kB and 8589934584kB (16 to 1073741823 in units of 8kB)",
            ),
            ("shared_buffers", s("100kB"), "invalid value for shared_buffers: `100kB` is not a whole number of 8kB"),
            (
                "shared_buffers",
                s("12XB"),
                "invalid value for shared_buffers: unknown unit `XB` in `12XB`: expected a size (a number with one of B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, or a bare number counted in 8kB)",
            ),
            (
                "work_mem",
                Value::List(vec![]),
                "invalid value for work_mem: expected a size (a number with one of B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, or a bare number counted in kB), found a list",
            ),
            (
                "statement_timeout",
                s("soon"),
                "invalid value for statement_timeout: `soon` is not a duration (a number with one of us, ms, s, min, h, d, or a bare number counted in ms)",
            ),
            (
                "wal_level",
                s("replca"),
                "invalid value for wal_level: `replca` is not one of minimal, replica, logical; did you mean `replica`?",
            ),
            (
                "enable_seqscan",
                s("o"),
                "invalid value for enable_seqscan: `o` is not a boolean (on, off, true, false, yes, no, 1, 0, or an unambiguous prefix of one)",
            ),
            (
                "max_connections",
                Value::Int(0),
                "invalid value for max_connections: `0` is out of range: must be between 1 and 262143",
            ),
            ("max_connections", s("many"), "invalid value for max_connections: `many` is not an integer"),
            (
                "random_page_cost",
                Value::Float(-1.5),
                "invalid value for random_page_cost: `-1.5` is out of range: must be between 0 and 1.79769e308",
            ),
            (
                "wal_buffers",
                Value::Int(-2),
                "invalid value for wal_buffers: `-2` is out of range: must be between -1 and 2097144kB (-1 to 262143 in units of 8kB)",
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(error(PG, pg(name), input.clone()), *want);
        }
        let redis_timeout = param(EngineKind::Redis, "type: duration");
        assert_eq!(
            error(EngineKind::Redis, &redis_timeout, s("1500ms")),
            "invalid value for p: `1500ms` is not a whole number of seconds"
        );
    }

    #[test]
    fn native_spelling_round_trips() {
        let cases: &[(EngineKind, &Parameter, Value, &str)] = &[
            (PG, pg("shared_buffers"), s("1024MB"), "1GB"),
            (PG, pg("shared_buffers"), Value::Int(16), "128kB"),
            (PG, pg("work_mem"), s("64MB"), "64MB"),
            (PG, pg("statement_timeout"), Value::Int(30000), "30s"),
            (PG, pg("checkpoint_timeout"), Value::Int(300), "5min"),
            (PG, pg("log_rotation_age"), s("1d"), "1d"),
            (PG, pg("vacuum_cost_delay"), s("0.5ms"), "500us"),
            (PG, pg("wal_buffers"), Value::Int(-1), "-1"),
            (PG, pg("enable_seqscan"), Value::Bool(false), "off"),
            (PG, pg("random_page_cost"), Value::Float(1.1), "1.1"),
            (PG, pg("random_page_cost"), Value::Int(4), "4"),
            (PG, pg("search_path"), s("\"$user\", public"), "\"$user\", public"),
            (PG, pg("synchronous_commit"), Value::Bool(true), "on"),
        ];
        let redis_maxmemory = param(EngineKind::Redis, "type: size");
        let redis_bool = param(EngineKind::Redis, "type: bool");
        let redis_save = param(EngineKind::Redis, "type: list");
        let cassandra_cache = param(EngineKind::Cassandra, "type: size\nunit: MiB");
        let cassandra_timeout = param(EngineKind::Cassandra, "type: duration\nunit: ms");
        let es_heap = param(EngineKind::Elasticsearch, "type: size\nunit: MB\nsection: jvm");
        let es_hosts = param(EngineKind::Elasticsearch, "type: list");
        let mongo_map = param(EngineKind::Mongodb, "type: map");
        let clickhouse_bytes = param(EngineKind::Clickhouse, "type: size");
        let clickhouse_bool = param(EngineKind::Clickhouse, "type: bool");
        let neo4j_timeout = param(EngineKind::Neo4j, "type: duration\nunit: ms");
        let list = |items: &[&str]| Value::List(items.iter().map(|i| s(i)).collect());
        let others: &[(EngineKind, &Parameter, Value, &str)] = &[
            (EngineKind::Redis, &redis_maxmemory, s("1GB"), "1gb"),
            (EngineKind::Redis, &redis_maxmemory, s("1g"), "1000000000"),
            (EngineKind::Redis, &redis_bool, Value::Bool(true), "yes"),
            (EngineKind::Redis, &redis_save, list(&["3600", "1", "300", "100"]), "3600 1 300 100"),
            (EngineKind::Cassandra, &cassandra_cache, Value::Int(256), "256MiB"),
            (EngineKind::Cassandra, &cassandra_timeout, s("2h"), "2h"),
            (EngineKind::Elasticsearch, &es_heap, s("4GB"), "4g"),
            (EngineKind::Elasticsearch, &es_hosts, list(&["a:9300", "b:9300"]), r#"["a:9300", "b:9300"]"#),
            (EngineKind::Mongodb, &mongo_map, Value::Map([("a".to_string(), Value::Int(1))].into()), "{a: 1}"),
            (EngineKind::Clickhouse, &clickhouse_bytes, s("10Gi"), "10737418240"),
            (EngineKind::Clickhouse, &clickhouse_bool, s("true"), "1"),
            (EngineKind::Neo4j, &neo4j_timeout, s("90s"), "90s"),
        ];
        for (engine, p, input, native) in cases.iter().chain(others) {
            let typed = p.normalize(*engine, input).unwrap_or_else(|e| panic!("{} = {input}: {e}", p.name));
            let written = p.format_native(*engine, &typed);
            assert_eq!(written, *native, "{engine} {} = {input}", p.name);
            assert_eq!(p.normalize(*engine, &s(&written)), Ok(typed), "{engine} {} reads back {written}", p.name);
        }
    }

    #[test]
    fn scopes() {
        assert!(ScopeSet::Both.allows(Scope::Tenant) && ScopeSet::Both.allows(Scope::Instance));
        assert!(!ScopeSet::Instance.allows(Scope::Tenant));
        assert_eq!(pg("work_mem").scope, ScopeSet::Both);
        assert_eq!(pg("shared_buffers").scope, ScopeSet::Instance);
    }
}
