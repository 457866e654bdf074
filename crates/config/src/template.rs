//! Jinja templates inside setting values.
//!
//! A string value containing `{{`, `{%` or `{#` is a minijinja template,
//! rendered once per target after layers are merged, and its output is read
//! back as a plain YAML scalar (so `"{{ instance.cpus * 50 }}"` becomes the
//! integer it prints). Templates see only the documented context (see
//! docs/fleet-repo.md): no files, no network, no environment variables, no
//! secrets; undefined variables are errors; each render runs under a fuel
//! limit so a runaway loop stops.

use dbfleet_model::units;
use minijinja::value::Value as JValue;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use crate::layer::{EngineLayer, Op, ScopeLayer};
use crate::load::Fleet;

/// Instructions one render may execute.
const FUEL: u64 = 50_000;

pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Every template in a fleet, compiled once.
pub struct Templates<'f> {
    env: Environment<'f>,
}

/// A template that failed to compile or render; `line` is within the
/// template text.
#[derive(Debug, Clone)]
pub struct TemplateError {
    pub message: String,
    pub line: Option<usize>,
}

impl From<Error> for TemplateError {
    fn from(e: Error) -> TemplateError {
        let mut message = e.detail().map_or_else(|| e.kind().to_string(), |d| format!("{}: {d}", e.kind()));
        if e.kind() == ErrorKind::UndefinedError && e.detail().is_none() {
            message = "undefined value (see docs/fleet-repo.md for what templates can use)".into();
        }
        TemplateError { message, line: e.line() }
    }
}

fn filter_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn number(v: &JValue) -> Result<f64, Error> {
    if let Some(s) = v.as_str() {
        return s.trim().parse().map_err(|_| filter_error(format!("`{s}` is not a number")));
    }
    f64::try_from(v.clone()).map_err(|_| filter_error(format!("expected a number, got {}", v.kind())))
}

fn environment<'f>() -> Environment<'f> {
    // `new` brings the built-in filters and tests; there is no loader, so
    // `include` and `import` cannot reach any file.
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(50);
    // `bytes`: a size (`"64GB"`, or a number of bytes) as an integer.
    env.add_filter("bytes", |v: JValue| -> Result<i64, Error> {
        match v.as_str() {
            Some(s) => units::parse_size(s).map(|b| b as i64).map_err(|e| filter_error(e.to_string())),
            None => number(&v).map(|n| n as i64),
        }
    });
    // `millis`: a duration (`"30s"`, or seconds) as integer milliseconds.
    env.add_filter("millis", |v: JValue| -> Result<i64, Error> {
        match v.as_str() {
            Some(s) => units::parse_duration(s).map(|d| d.as_millis() as i64).map_err(|e| filter_error(e.to_string())),
            None => number(&v).map(|n| (n * 1000.0) as i64),
        }
    });
    // `size(unit)`: a number of bytes written in `unit`, rounded down.
    env.add_filter("size", |v: JValue, unit: &str| -> Result<String, Error> {
        let n = number(&v)?;
        if n < 0.0 {
            return Err(filter_error("size of a negative number"));
        }
        units::format_size(n as u64, unit).map_err(|e| filter_error(e.to_string()))
    });
    // `duration(unit)`: a number of milliseconds written in `unit`.
    env.add_filter("duration", |v: JValue, unit: &str| -> Result<String, Error> {
        let ms = number(&v)?;
        if ms < 0.0 {
            return Err(filter_error("duration of a negative number"));
        }
        units::format_duration(std::time::Duration::from_micros((ms * 1000.0) as u64), unit)
            .map_err(|e| filter_error(e.to_string()))
    });
    // `clamp(lo, hi)`: keeps a number within bounds.
    env.add_filter("clamp", |v: JValue, lo: f64, hi: f64| -> Result<JValue, Error> {
        let n = number(&v)?.clamp(lo, hi);
        Ok(if n.fract() == 0.0 { JValue::from(n as i64) } else { JValue::from(n) })
    });
    env
}

fn scope_templates<'f>(scope: &'f ScopeLayer, out: &mut Vec<(&'f str, &'f crate::layer::Entry)>) {
    for entry in &scope.entries {
        let values: &[dbfleet_model::Value] = match &entry.op {
            Op::Set(v) => std::slice::from_ref(v),
            Op::Append(items) | Op::Remove(items) => items,
            Op::Unset => &[],
        };
        for v in values {
            collect_strings(v, entry, out);
        }
    }
}

fn collect_strings<'f>(
    v: &'f dbfleet_model::Value,
    entry: &'f crate::layer::Entry,
    out: &mut Vec<(&'f str, &'f crate::layer::Entry)>,
) {
    match v {
        dbfleet_model::Value::String(s) if is_template(s) => out.push((s, entry)),
        dbfleet_model::Value::List(items) => items.iter().for_each(|i| collect_strings(i, entry, out)),
        dbfleet_model::Value::Map(m) => m.values().for_each(|i| collect_strings(i, entry, out)),
        _ => {}
    }
}

fn engine_layer_templates<'f>(l: &'f EngineLayer, out: &mut Vec<(&'f str, &'f crate::layer::Entry)>) {
    scope_templates(&l.instance, out);
    scope_templates(&l.tenant, out);
}

impl<'f> Templates<'f> {
    /// Compiles every template in the fleet; syntax errors are returned with
    /// the entry they are in, whether or not any target uses them.
    pub fn compile(fleet: &'f Fleet) -> (Templates<'f>, Vec<(TemplateError, &'f crate::layer::Entry)>) {
        let mut sources = Vec::new();
        for layer in fleet.layers.values().flat_map(|m| m.values()) {
            engine_layer_templates(layer, &mut sources);
        }
        for tenant in fleet.tenants.values() {
            tenant.overrides.values().for_each(|l| engine_layer_templates(l, &mut sources));
        }
        for inst in fleet.instances.values() {
            engine_layer_templates(&inst.overrides, &mut sources);
        }
        let mut env = environment();
        let mut errors = Vec::new();
        for (src, entry) in sources {
            // The source is its own name: equal templates compile once.
            if env.get_template(src).is_ok() {
                continue;
            }
            if let Err(e) = env.add_template(src, src) {
                errors.push((TemplateError::from(e), entry));
            }
        }
        (Templates { env }, errors)
    }

    /// Renders a template compiled by [`Templates::compile`].
    pub fn render(&self, src: &str, ctx: &JValue) -> Result<String, TemplateError> {
        let template = self.env.get_template(src)?;
        Ok(template.render(ctx)?)
    }
}

/// Renders a template that was not part of a fleet (tests, `dbfleet` docs).
pub fn render_once(src: &str, ctx: &JValue) -> Result<String, TemplateError> {
    let env = environment();
    Ok(env.render_str(src, ctx)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> JValue {
        minijinja::context! { instance => minijinja::context! { memory => 64i64 << 30, cpus => 16 } }
    }

    #[test]
    fn filters() {
        let r = |s| render_once(s, &ctx()).unwrap();
        assert_eq!(r("{{ (instance.memory * 0.25) | size('MB') }}"), "16384MB");
        assert_eq!(r("{{ '64GB' | bytes }}"), "68719476736");
        assert_eq!(r("{{ '5min' | millis }}"), "300000");
        assert_eq!(r("{{ 30000 | duration('s') }}"), "30s");
        assert_eq!(r("{{ (instance.cpus * 50) | clamp(100, 500) }}"), "500");
    }

    #[test]
    fn undefined_is_an_error() {
        let e = render_once("{{ tenant.id }}", &ctx()).unwrap_err();
        assert!(e.message.contains("undefined"), "{}", e.message);
    }

    #[test]
    fn fuel_stops_runaway_loops() {
        let e =
            render_once("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", &ctx())
                .unwrap_err();
        assert!(e.message.to_lowercase().contains("fuel"), "{}", e.message);
    }

    #[test]
    fn no_file_access() {
        assert!(render_once("{% include 'etc/passwd' %}", &ctx()).is_err());
    }
}
