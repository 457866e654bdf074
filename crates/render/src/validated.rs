//! Renders validated fleet configuration: turns `dbfleet_config::Validated`
//! targets into [`RenderInput`]s (an instance with the tenants placed on
//! it), with secrets fetched through the caller's function.

use std::collections::BTreeMap;

use dbfleet_config::{CheckedValue, Fleet, Validated};
use dbfleet_model::{Diagnostic, Diagnostics, Scope, SecretRef};
use secrecy::SecretString;

use crate::{RenderInput, RenderValue, RenderedFile, Setting, TenantInput};

fn settings<'v>(
    v: &'v Validated<'_>,
    secret: &dyn Fn(&SecretRef) -> Result<SecretString, String>,
    diags: &mut Diagnostics,
) -> Vec<Setting<'v>> {
    let mut out = Vec::new();
    for (name, c) in &v.settings {
        let value = match &c.value {
            CheckedValue::Typed(t) => RenderValue::Typed(t.clone()),
            CheckedValue::Secret(r) => match secret(r) {
                Ok(s) => RenderValue::Secret(s),
                Err(e) => {
                    diags.push(
                        Diagnostic::error("secret", format!("secret `{r}`: {e}"))
                            .at_opt(c.location().cloned())
                            .target(v.info.id.to_string()),
                    );
                    continue;
                }
            },
        };
        out.push(Setting { name, parameter: c.parameter, value, origin: c.origin() });
    }
    out
}

/// Renders every instance among `validated`; tenant targets placed on an
/// instance are rendered into its files. Returns the files by instance.
pub fn render_validated(
    fleet: &Fleet,
    validated: &[Validated<'_>],
    secret: &dyn Fn(&SecretRef) -> Result<SecretString, String>,
    revision: &str,
    annotate: bool,
) -> (Vec<(String, Vec<RenderedFile>)>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut tenants: BTreeMap<&str, Vec<&Validated<'_>>> = BTreeMap::new();
    for v in validated.iter().filter(|v| v.info.scope == Scope::Tenant) {
        tenants.entry(v.info.instance.as_str()).or_default().push(v);
    }
    let mut out = Vec::new();
    for v in validated.iter().filter(|v| v.info.scope == Scope::Instance) {
        let on_instance = tenants.get(v.info.instance.as_str()).map(Vec::as_slice).unwrap_or_default();
        let input = RenderInput {
            engine: v.info.engine,
            version: &v.info.version,
            instance: &v.info.instance,
            fleet: &fleet.spec.name,
            revision,
            annotate,
            settings: settings(v, secret, &mut diags),
            tenants: on_instance
                .iter()
                .map(|t| TenantInput {
                    tenant: t.info.tenant.as_deref().unwrap_or_default(),
                    settings: settings(t, secret, &mut diags),
                })
                .collect(),
        };
        match crate::render(&input) {
            Ok(files) => out.push((v.info.instance.clone(), files)),
            Err(e) => diags.push(Diagnostic::error("render", e.to_string()).target(v.info.id.to_string())),
        }
    }
    (out, diags)
}
