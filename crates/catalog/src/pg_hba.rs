//! pg_hba.conf rules, as dbfleet's own PostgreSQL parameter `hba` holds
//! them: what the renderer writes and validation checks, so that a rule
//! the server would refuse never reaches it (PostgreSQL keeps its old rules
//! when the new file has an error, and refuses to start on one).

/// The comment that ends a rule dbfleet renders for a tenant, before the
/// tenant's name: the renderer writes it, the reader and the driver tell
/// tenant rules from the fleet's by it.
pub const TENANT_MARK: &str = "# tenant ";

/// Connection types of pg_hba.conf rules.
pub const TYPES: &[&str] = &["local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"];
/// Authentication methods of pg_hba.conf rules, PostgreSQL 13 to 17.
pub const METHODS: &[&str] = &[
    "trust",
    "reject",
    "scram-sha-256",
    "md5",
    "password",
    "gss",
    "sspi",
    "ident",
    "peer",
    "ldap",
    "radius",
    "cert",
    "pam",
    "bsd",
];

/// The fields of one pg_hba.conf rule (double quotes kept), or why the
/// server would not take it: an unknown connection type, too few fields,
/// an unknown method, or something dbfleet does not write for the fleet.
pub fn rule_fields(rule: &str) -> Result<Vec<&str>, String> {
    if rule.contains(['#', '\n', '\r']) {
        return Err("a rule is one line without comments".into());
    }
    let mut fields = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in rule.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if let Some(s) = start.take() {
                    fields.push(&rule[s..i]);
                }
                continue;
            }
            _ => {}
        }
        start.get_or_insert(i);
    }
    if quoted {
        return Err("unterminated double quote".into());
    }
    if let Some(s) = start {
        fields.push(&rule[s..]);
    }
    let Some(&kind) = fields.first() else { return Err("empty rule".into()) };
    if kind.starts_with("include") {
        return Err("include directives pull in files dbfleet does not manage".into());
    }
    if !TYPES.contains(&kind) {
        return Err(format!("unknown connection type `{kind}` (expected one of {})", TYPES.join(", ")));
    }
    // local: type database user method; host*: type database user address
    // [mask] method, the mask being a second address.
    let method_at = match kind {
        "local" => 3,
        _ if fields.get(4).is_some_and(|f| f.parse::<std::net::IpAddr>().is_ok()) => 5,
        _ => 4,
    };
    let Some(method) = fields.get(method_at) else {
        let needs = if kind == "local" { "database, user and method" } else { "database, user, address and method" };
        return Err(format!("a `{kind}` rule needs {needs}"));
    };
    if !METHODS.contains(method) {
        return Err(format!("unknown authentication method `{method}` (expected one of {})", METHODS.join(", ")));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_split_and_checked() {
        assert_eq!(rule_fields("local all all peer").unwrap(), ["local", "all", "all", "peer"]);
        assert_eq!(
            rule_fields("hostssl  \"my db\" app 10.0.0.0 255.0.0.0 scram-sha-256 clientcert=verify-full").unwrap(),
            ["hostssl", "\"my db\"", "app", "10.0.0.0", "255.0.0.0", "scram-sha-256", "clientcert=verify-full"]
        );
        for (rule, error) in [
            ("", "empty rule"),
            ("hots all all 0.0.0.0/0 md5", "unknown connection type `hots`"),
            ("host all all md5", "a `host` rule needs database, user, address and method"),
            ("local all all", "a `local` rule needs database, user and method"),
            ("host all all 0.0.0.0/0 scram", "unknown authentication method `scram`"),
            ("host all all 10.0.0.0 255.0.0.0", "a `host` rule needs"),
            ("host \"all all 0.0.0.0/0 md5", "unterminated double quote"),
            ("host all all 0.0.0.0/0 md5 # open", "a rule is one line without comments"),
            ("include_if_exists extra.conf", "include directives"),
        ] {
            let got = rule_fields(rule).unwrap_err();
            assert!(got.starts_with(error), "{rule}: {got}");
        }
    }
}
