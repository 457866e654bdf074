//! Planning: a pure function from the desired state of an instance and the
//! state observed on the live server to the changes that take one to the
//! other, each with how it applies (runtime, reload, restart), in the order
//! they must happen.
//!
//! Apply, dry runs, drift detection and (later) the risk model all consume
//! the same [`Plan`]; none re-derives it. This crate does no IO.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dbfleet_catalog::Typed;
use dbfleet_model::{ApplyMethod, EngineKind, Scope};
use serde::Serialize;

/// One setting as the fleet repo wants it.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredSetting {
    /// Canonical value, for comparison. `None` for a secret, whose value is
    /// compared by `fingerprint` instead.
    pub value: Option<Typed>,
    /// The engine's own spelling, which a driver sends to the server.
    /// For a secret this is the plaintext and is never displayed.
    pub native: String,
    pub apply: ApplyMethod,
    pub sensitive: bool,
    /// Where the value came from, for display (`file:line:col`).
    pub origin: Option<String>,
}

/// One setting as the server reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObservedSetting {
    /// Canonical value; `None` when the server's text could not be read
    /// through the catalog.
    #[serde(skip)]
    pub value: Option<Typed>,
    /// The server's own text.
    pub raw: String,
    /// The server holds a new value that needs a restart to take effect.
    pub pending_restart: bool,
    /// For a sensitive setting the server reports, the SHA-256 (hex) of its
    /// text, so a secret can be compared without being kept. Never
    /// serialised: a digest of a short password can be guessed.
    #[serde(skip)]
    pub digest: Option<String>,
    /// Set through the mechanism dbfleet manages (PostgreSQL's
    /// `postgresql.auto.conf`, dbfleet's ClickHouse `config.d` file, ...),
    /// rather than by the server's own defaults or other files. Such
    /// settings that are no longer desired are reset.
    pub explicit: bool,
}

/// The settings of one scope: the instance's own (`tenant == None`) or one
/// tenant's.
pub type Settings<T> = BTreeMap<String, T>;

/// Desired state of one instance.
#[derive(Clone, Debug, Default)]
pub struct Desired {
    pub settings: Settings<DesiredSetting>,
    pub tenants: BTreeMap<String, Settings<DesiredSetting>>,
}

/// Observed state of one instance.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Observed {
    pub settings: Settings<ObservedSetting>,
    pub tenants: BTreeMap<String, Settings<ObservedSetting>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Set a value the server does not have explicitly (`+`).
    Set,
    /// Change a value (`~`).
    Change,
    /// Return a setting dbfleet managed before to the server default (`-`).
    Reset,
}

impl Action {
    pub fn symbol(self) -> char {
        match self {
            Action::Set => '+',
            Action::Change => '~',
            Action::Reset => '-',
        }
    }
}

/// One change to one setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub scope: Scope,
    /// For tenant-scope changes, the tenant.
    pub tenant: Option<String>,
    pub name: String,
    pub action: Action,
    /// The current value, for display (`(sensitive)` for secrets).
    pub from: Option<String>,
    /// The new value, for display (`(sensitive)` for secrets).
    pub to: Option<String>,
    /// What a driver sends; never serialised, never displayed.
    #[serde(skip)]
    pub native: Option<String>,
    pub apply: ApplyMethod,
    pub sensitive: bool,
    pub origin: Option<String>,
}

/// The changes for one instance, in apply order: runtime changes, then
/// reload-time ones, then restart-time ones; by scope, tenant and name
/// within each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub instance: String,
    pub engine: EngineKind,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The strongest apply method any change needs.
    pub fn needs(&self) -> Option<ApplyMethod> {
        self.changes.iter().map(|c| c.apply).max_by_key(|m| rank(*m))
    }

    pub fn needs_restart(&self) -> bool {
        self.needs() == Some(ApplyMethod::Restart)
    }
}

fn rank(m: ApplyMethod) -> u8 {
    match m {
        ApplyMethod::Runtime => 0,
        ApplyMethod::Reload => 1,
        ApplyMethod::Restart => 2,
    }
}

/// What stands for a secret's value wherever one would be shown or kept.
pub const SENSITIVE: &str = "(sensitive)";

fn shown(sensitive: bool, text: &str) -> String {
    if sensitive { SENSITIVE.to_string() } else { text.to_string() }
}

/// The digest a driver records for a sensitive setting's text.
pub fn secret_digest(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the server already has what is desired.
fn satisfied(want: &DesiredSetting, have: &ObservedSetting) -> bool {
    match &want.value {
        Some(v) => have.value.as_ref() == Some(v),
        // Secrets: equal when the server reports the same text, compared
        // by digest (Redis reports requirepass); servers that hide them
        // entirely are always re-sent, which is idempotent.
        None => have.digest.as_deref() == Some(secret_digest(&want.native).as_str()),
    }
}

/// Diffs one scope.
fn diff_scope(
    scope: Scope,
    tenant: Option<&str>,
    desired: &Settings<DesiredSetting>,
    observed: &Settings<ObservedSetting>,
    out: &mut Vec<Change>,
) {
    let managed: BTreeSet<&String> = observed.iter().filter(|(_, o)| o.explicit).map(|(k, _)| k).collect();
    for (name, want) in desired {
        let have = observed.get(name);
        if have.is_some_and(|h| satisfied(want, h)) {
            continue;
        }
        out.push(Change {
            scope,
            tenant: tenant.map(str::to_string),
            name: name.clone(),
            action: if have.is_some() { Action::Change } else { Action::Set },
            from: have.map(|h| shown(want.sensitive, &h.raw)),
            to: Some(shown(want.sensitive, &want.native)),
            native: Some(want.native.clone()),
            apply: want.apply,
            sensitive: want.sensitive,
            origin: want.origin.clone(),
        });
    }
    for name in managed {
        if desired.contains_key(name.as_str()) {
            continue;
        }
        if let Some(have) = observed.get(name) {
            out.push(Change {
                scope,
                tenant: tenant.map(str::to_string),
                name: name.clone(),
                action: Action::Reset,
                from: Some(have.raw.clone()),
                to: None,
                native: None,
                // Resetting takes effect the way setting would; the driver
                // tells the method through `reset_apply`.
                apply: ApplyMethod::Reload,
                sensitive: false,
                origin: None,
            });
        }
    }
}

/// Plans one instance. Settings the server holds explicitly (see
/// [`ObservedSetting::explicit`]) that are no longer desired are reset;
/// `reset_apply` gives the apply method of such a reset by setting name
/// (from the catalog).
pub fn plan(
    instance: &str,
    engine: EngineKind,
    desired: &Desired,
    observed: &Observed,
    reset_apply: impl Fn(&str) -> ApplyMethod,
) -> Plan {
    let mut changes = Vec::new();
    diff_scope(Scope::Instance, None, &desired.settings, &observed.settings, &mut changes);
    for (tenant, want) in &desired.tenants {
        let empty = Settings::new();
        let have = observed.tenants.get(tenant).unwrap_or(&empty);
        diff_scope(Scope::Tenant, Some(tenant), want, have, &mut changes);
    }
    for c in &mut changes {
        if c.action == Action::Reset && c.scope == Scope::Instance {
            c.apply = reset_apply(&c.name);
        }
        if c.action == Action::Reset && c.scope == Scope::Tenant {
            c.apply = ApplyMethod::Runtime;
        }
    }
    changes.sort_by(|a, b| {
        rank(a.apply)
            .cmp(&rank(b.apply))
            .then_with(|| (a.scope as u8).cmp(&(b.scope as u8)))
            .then_with(|| a.tenant.cmp(&b.tenant))
            .then_with(|| a.name.cmp(&b.name))
    });
    Plan { instance: instance.to_string(), engine, changes }
}

/// Terraform-style text: `+` set, `~` change, `-` reset, with the apply
/// method of each change and a summary line.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "  {} ({}): no changes", self.instance, self.engine);
        }
        writeln!(f, "  {} ({}):", self.instance, self.engine)?;
        for c in &self.changes {
            let who = match &c.tenant {
                Some(t) => format!("tenant {t}: "),
                None => String::new(),
            };
            let what = match c.action {
                Action::Set => format!("{} = {}", c.name, c.to.as_deref().unwrap_or_default()),
                Action::Change => format!(
                    "{}: {} -> {}",
                    c.name,
                    c.from.as_deref().unwrap_or_default(),
                    c.to.as_deref().unwrap_or_default()
                ),
                // A reset whose outcome is known (a rollback to a recorded
                // state) shows it.
                Action::Reset => format!(
                    "{} (was {}) -> {}",
                    c.name,
                    c.from.as_deref().unwrap_or_default(),
                    c.to.as_deref().map_or_else(|| "default".to_string(), |to| format!("as before: {to}"))
                ),
            };
            writeln!(f, "    {} {who}{what}  [{}]", c.action.symbol(), c.apply)?;
        }
        let count = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        write!(
            f,
            "    {} to set, {} to change, {} to reset",
            count(Action::Set),
            count(Action::Change),
            count(Action::Reset)
        )?;
        if self.needs_restart() {
            write!(f, "; needs a restart")?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(v: i64, apply: ApplyMethod) -> DesiredSetting {
        DesiredSetting { value: Some(Typed::Int(v)), native: v.to_string(), apply, sensitive: false, origin: None }
    }

    fn have(v: i64) -> ObservedSetting {
        ObservedSetting {
            value: Some(Typed::Int(v)),
            raw: v.to_string(),
            pending_restart: false,
            digest: None,
            explicit: false,
        }
    }

    /// Plans `desired` against `observed`, where the `managed` keys are
    /// held explicitly by the server.
    fn run(desired: &[(&str, DesiredSetting)], observed: &[(&str, ObservedSetting)], managed: &[&str]) -> Plan {
        let d = Desired {
            settings: desired.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            tenants: BTreeMap::new(),
        };
        let o = Observed {
            settings: observed
                .iter()
                .map(|(k, v)| (k.to_string(), ObservedSetting { explicit: managed.contains(k), ..v.clone() }))
                .collect(),
            tenants: BTreeMap::new(),
        };
        plan("i", EngineKind::Postgresql, &d, &o, |_| ApplyMethod::Reload)
    }

    #[test]
    fn no_changes_when_equal() {
        assert!(run(&[("a", want(1, ApplyMethod::Reload))], &[("a", have(1))], &["a"]).is_empty());
    }

    #[test]
    fn change_and_set() {
        let p =
            run(&[("a", want(2, ApplyMethod::Reload)), ("b", want(3, ApplyMethod::Runtime))], &[("a", have(1))], &[]);
        let actions: Vec<_> = p.changes.iter().map(|c| (c.name.as_str(), c.action)).collect();
        // Runtime before reload.
        assert_eq!(actions, [("b", Action::Set), ("a", Action::Change)]);
    }

    #[test]
    fn restart_changes_come_last_and_are_flagged() {
        let p = run(
            &[("shared_buffers", want(2, ApplyMethod::Restart)), ("work_mem", want(3, ApplyMethod::Reload))],
            &[],
            &[],
        );
        assert_eq!(p.changes.last().unwrap().name, "shared_buffers");
        assert!(p.needs_restart());
        assert_eq!(p.needs(), Some(ApplyMethod::Restart));
    }

    #[test]
    fn managed_keys_no_longer_wanted_are_reset() {
        let p = run(&[], &[("a", have(1)), ("b", have(2))], &["a"]);
        assert_eq!(p.changes.len(), 1);
        assert_eq!((p.changes[0].name.as_str(), p.changes[0].action), ("a", Action::Reset));
    }

    #[test]
    fn unmanaged_server_settings_are_left_alone() {
        assert!(run(&[], &[("a", have(1))], &[]).is_empty());
    }

    #[test]
    fn secrets_are_never_displayed() {
        let secret = DesiredSetting {
            value: None,
            native: "hunter2".into(),
            apply: ApplyMethod::Runtime,
            sensitive: true,
            origin: None,
        };
        let p = run(
            &[("requirepass", secret)],
            &[(
                "requirepass",
                ObservedSetting {
                    value: None,
                    raw: "old".into(),
                    pending_restart: false,
                    digest: None,
                    explicit: false,
                },
            )],
            &[],
        );
        let text = p.to_string();
        assert!(!text.contains("hunter2") && !text.contains("old"), "{text}");
        assert!(!format!("{:?}", serde_json_like(&p)).contains("hunter2"));
        assert_eq!(p.changes[0].native.as_deref(), Some("hunter2"));
    }

    fn serde_json_like(p: &Plan) -> Vec<(Option<String>, Option<String>)> {
        p.changes.iter().map(|c| (c.from.clone(), c.to.clone())).collect()
    }

    #[test]
    fn secrets_equal_by_digest_are_not_changed() {
        let secret = DesiredSetting {
            value: None,
            native: "hunter2".into(),
            apply: ApplyMethod::Runtime,
            sensitive: true,
            origin: None,
        };
        let have = ObservedSetting {
            value: None,
            raw: "(sensitive)".into(),
            pending_restart: false,
            digest: Some(secret_digest("hunter2")),
            explicit: false,
        };
        assert!(run(&[("requirepass", secret.clone())], &[("requirepass", have)], &[]).is_empty());
        // A server that hides the secret entirely gets it sent again.
        let hidden = ObservedSetting {
            value: None,
            raw: "(sensitive)".into(),
            pending_restart: false,
            digest: None,
            explicit: false,
        };
        assert_eq!(run(&[("requirepass", secret)], &[("requirepass", hidden)], &[]).changes.len(), 1);
    }

    #[test]
    fn human_output() {
        let p = run(
            &[("shared_buffers", want(2, ApplyMethod::Restart)), ("work_mem", want(3, ApplyMethod::Reload))],
            &[("work_mem", have(4)), ("old", have(9))],
            &["old"],
        );
        insta::assert_snapshot!(p.to_string(), @r"
          i (postgresql):
            - old (was 9) -> default  [reload]
            ~ work_mem: 4 -> 3  [reload]
            + shared_buffers = 2  [restart]
            1 to set, 1 to change, 1 to reset; needs a restart
        ");
    }
}
