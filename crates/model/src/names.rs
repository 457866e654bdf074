//! Closed sets of names that the fleet model is built from.
//!
//! Each is an enum rather than a string so that a typo is caught once, at
//! load time, with a suggestion, and never travels further into the pipeline.

use std::fmt;
use std::str::FromStr;

/// A name that is not a member of one of the closed sets below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`{}", suggestion.map(|s| format!(", did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub suggestion: Option<&'static str>,
}

macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal { $($variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name as written in fleet files.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        kind: $kind,
                        name: s.to_string(),
                        suggestion: crate::did_you_mean(s, [$($text),+]),
                    }),
                }
            }
        }
    };
}

closed_set! {
    /// A database engine dbfleet can configure.
    EngineKind, "engine" {
        Postgresql => "postgresql",
        Redis => "redis",
        Mongodb => "mongodb",
        Clickhouse => "clickhouse",
        Elasticsearch => "elasticsearch",
        Neo4j => "neo4j",
        Cassandra => "cassandra",
    }
}

closed_set! {
    /// A deployment environment.
    Environment, "environment" {
        Development => "development",
        Testing => "testing",
        Staging => "staging",
        Production => "production",
        Sandbox => "sandbox",
        Performance => "performance",
    }
}

closed_set! {
    /// A commercial tier, which decides placement and limits of a tenant.
    TierName, "tier" {
        Free => "free",
        Premium => "premium",
        Enterprise => "enterprise",
        Platform => "platform",
    }
}

closed_set! {
    /// The shape of load a tenant or pool is tuned for.
    Workload, "workload" {
        ReadHeavy => "read_heavy",
        WriteHeavy => "write_heavy",
        Analytics => "analytics",
        Realtime => "realtime",
        Mixed => "mixed",
    }
}

closed_set! {
    /// Which part of a server a setting configures: the server itself, or
    /// one tenant inside a shared server (per-role or per-database settings,
    /// quotas).
    Scope, "scope" {
        Instance => "instance",
        Tenant => "tenant",
    }
}

closed_set! {
    /// What it takes for a changed setting to take effect.
    ApplyMethod, "apply method" {
        Runtime => "runtime",
        Reload => "reload",
        Restart => "restart",
    }
}
