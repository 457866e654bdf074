//! Redis ACL users as dbfleet's synthetic `users.acl` setting: reading
//! `user <name> <rules...>` lines (of the rendered file and of `ACL LIST`)
//! and comparing them by meaning.
//!
//! Redis re-describes the rules it is given: `ACL LIST` adds
//! `sanitize-payload`, moves `resetchannels` next to the channels, spells
//! `allkeys` as `~*`, `%RW~` as `~`, and a password given as `>plaintext`
//! as its SHA-256 (`#hex`). So lines are compared per user after replaying
//! their rules the way Redis does: on/off, the set of password hashes,
//! `nopass`, the set of key patterns, the set of channel patterns, the
//! command rules in order (`allcommands` and `+@all` start them afresh,
//! `nocommands` and `-@all` clear them, a later rule for the same command
//! or category replaces an earlier one) and the selectors in order.
//! `reset`, `resetpass`, `resetkeys`, `resetchannels` and
//! `sanitize-payload` only take part through what they clear.
//!
//! Command rules Redis compacts further than that (`+get -get` on `-@all`
//! is dropped) read as different: the plan then keeps proposing the change
//! and the verification after an apply reports it. The rendered file only
//! holds `+@all` and `+@all -@dangerous`, which Redis keeps as they are.

use std::collections::{BTreeMap, BTreeSet};

/// dbfleet's setting for the ACL users, and the rendered file's name.
pub(crate) const ACL: &str = "users.acl";

/// One user's rules, replayed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rules {
    on: bool,
    nopass: bool,
    /// SHA-256 hex, lower case.
    passwords: BTreeSet<String>,
    skip_sanitize: bool,
    keys: BTreeSet<String>,
    channels: BTreeSet<String>,
    /// Without the leading `-@all` Redis shows when they do not start with
    /// `+@all`.
    commands: Vec<String>,
    selectors: Vec<String>,
    /// Rules this reading does not know, in order.
    other: Vec<String>,
}

impl Rules {
    pub(crate) fn read<S: AsRef<str>>(rules: &[S]) -> Rules {
        let mut r = Rules::default();
        for rule in rules {
            r.apply(rule.as_ref());
        }
        r
    }

    fn apply(&mut self, rule: &str) {
        let word = rule.to_ascii_lowercase();
        match word.as_str() {
            "on" => self.on = true,
            "off" => self.on = false,
            "nopass" => {
                self.passwords.clear();
                self.nopass = true;
            }
            "resetpass" => {
                self.passwords.clear();
                self.nopass = false;
            }
            "sanitize-payload" => self.skip_sanitize = false,
            "skip-sanitize-payload" => self.skip_sanitize = true,
            "allkeys" => {
                self.keys.insert("~*".into());
            }
            "resetkeys" => self.keys.clear(),
            "allchannels" => {
                self.channels.insert("&*".into());
            }
            "resetchannels" => self.channels.clear(),
            "allcommands" | "+@all" => self.commands = vec!["+@all".into()],
            "nocommands" | "-@all" => self.commands.clear(),
            "clearselectors" => self.selectors.clear(),
            "reset" => *self = Rules::default(),
            _ => self.apply_pattern(rule),
        }
    }

    fn apply_pattern(&mut self, rule: &str) {
        if let Some(plain) = rule.strip_prefix('>') {
            self.passwords.insert(dbfleet_plan::secret_digest(plain));
            self.nopass = false;
        } else if let Some(plain) = rule.strip_prefix('<') {
            self.passwords.remove(&dbfleet_plan::secret_digest(plain));
        } else if let Some(hash) = rule.strip_prefix('#') {
            self.passwords.insert(hash.to_ascii_lowercase());
            self.nopass = false;
        } else if let Some(hash) = rule.strip_prefix('!') {
            self.passwords.remove(&hash.to_ascii_lowercase());
        } else if rule.starts_with('~') {
            self.keys.insert(rule.to_string());
        } else if let Some(rest) = rule.strip_prefix('%') {
            match rest.split_once('~') {
                Some((perms, pattern)) => {
                    let perms = perms.to_ascii_uppercase();
                    let key = if perms.contains('R') && perms.contains('W') {
                        format!("~{pattern}")
                    } else {
                        format!("%{perms}~{pattern}")
                    };
                    self.keys.insert(key);
                }
                None => self.other.push(rule.to_string()),
            }
        } else if rule.starts_with('&') {
            self.channels.insert(rule.to_string());
        } else if let Some(inner) = rule.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            self.selectors.push(inner.split_whitespace().collect::<Vec<_>>().join(" "));
        } else if let Some(target) = rule.strip_prefix(['+', '-']) {
            let target = target.to_ascii_lowercase();
            self.commands.retain(|c| c[1..] != target);
            self.commands.push(format!("{}{target}", &rule[..1]));
        } else {
            self.other.push(rule.to_string());
        }
    }
}

/// The rules of an ACL line, after the user name: split on whitespace,
/// except inside a selector's parentheses.
pub(crate) fn split_rules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            c if c.is_whitespace() && depth == 0 => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A `user <name> <rules...>` line as the user's name and rules; `None`
/// for a blank line or one that does not define a user.
pub(crate) fn user_line(line: &str) -> Option<(String, Vec<String>)> {
    let mut words = split_rules(line);
    if words.len() < 2 || !words[0].eq_ignore_ascii_case("user") {
        return None;
    }
    let rules = words.split_off(2);
    Some((words.swap_remove(1), rules))
}

/// Every user of `lines`, by name, its rules replayed.
pub(crate) fn users<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> BTreeMap<String, Rules> {
    lines.into_iter().filter_map(|l| user_line(l.as_ref())).map(|(name, rules)| (name, Rules::read(&rules))).collect()
}

/// Whether the users `ACL LIST` reports (`listed`) are those of the
/// rendered file, no more and no fewer. `keep` is a user to leave out of
/// the comparison when the file does not define it: the one dbfleet
/// connects as, which dbfleet never deletes.
pub(crate) fn same_users<S: AsRef<str>>(rendered: &str, listed: &[S], keep: Option<&str>) -> bool {
    let want = users(rendered.lines());
    let mut have = users(listed);
    if let Some(keep) = keep.filter(|k| !want.contains_key(*k)) {
        have.remove(keep);
    }
    want == have
}

/// Whether an ACL rule carries password material (plaintext or hash),
/// which no error message may quote.
pub(crate) fn is_password_rule(rule: &str) -> bool {
    rule.starts_with(['>', '<', '#', '!'])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

    fn rendered() -> String {
        format!(
            "user default on #{HASH} ~* &* +@all\n\
             user acme on resetchannels ~acme:* &acme:* +@all -@dangerous #{HASH}\n\
             user zeta off resetchannels ~zeta:* &zeta:* +@all -@dangerous\n"
        )
    }

    /// What Redis 7.0's `ACL LIST` says after `ACL SETUSER <name> reset
    /// <rules>` of each rendered line (checked against redis-server 7.0.15).
    fn listed() -> Vec<String> {
        vec![
            format!("user acme on sanitize-payload #{HASH} ~acme:* resetchannels &acme:* +@all -@dangerous"),
            format!("user default on sanitize-payload #{HASH} ~* &* +@all"),
            "user zeta off sanitize-payload ~zeta:* resetchannels &zeta:* +@all -@dangerous".into(),
        ]
    }

    #[test]
    fn redis_redescribed_rules_compare_equal() {
        assert!(same_users(&rendered(), &listed(), None));
        assert!(same_users(&rendered(), &listed(), Some("default")));
    }

    #[test]
    fn every_difference_that_matters_is_seen() {
        let changed = |from: &str, to: &str| {
            let mut l = listed();
            let i = l.iter().position(|l| l.contains(from)).unwrap();
            l[i] = l[i].replacen(from, to, 1);
            same_users(&rendered(), &l, None)
        };
        assert!(!changed("zeta off", "zeta on"), "on/off");
        assert!(!changed(&format!("#{HASH}"), &format!("#{}", HASH.replace('5', "6"))), "password");
        assert!(!changed(&format!("acme on sanitize-payload #{HASH}"), "acme on sanitize-payload nopass"), "nopass");
        assert!(!changed("~acme:*", "~*"), "keys");
        assert!(!changed("~acme:*", "%R~acme:*"), "read-only keys");
        assert!(!changed("&acme:*", "&*"), "channels");
        assert!(!changed("+@all -@dangerous", "-@dangerous +@all"), "command order");
        assert!(!changed("+@all -@dangerous", "+@all"), "commands");
        assert!(!changed("sanitize-payload ~zeta", "skip-sanitize-payload ~zeta"), "skip-sanitize-payload");
        assert!(changed("~acme:*", "%RW~acme:*"), "%RW~ is ~");

        let mut extra = listed();
        extra.push("user intruder on nopass ~* &* +@all".into());
        assert!(!same_users(&rendered(), &extra, None), "a user the file does not define");
        assert!(same_users(&rendered(), &extra, Some("intruder")), "except the one dbfleet connects as");
        assert!(!same_users(&rendered(), &listed()[..2], None), "a user missing");
    }

    #[test]
    fn rules_replay_the_way_redis_does() {
        let r = |rules: &str| Rules::read(&split_rules(rules));
        assert_eq!(r(">password"), r(&format!("#{}", HASH.to_uppercase())));
        assert_eq!(r("allkeys allchannels allcommands"), r("~* &* +@all"));
        assert_eq!(r("+@all +get nocommands +set"), r("-@all +set"));
        assert_eq!(r("+get +set +get"), r("+set +get"));
        assert_eq!(r("on nopass ~a reset ~b"), r("~b off"));
        assert_eq!(r(">a >b <a"), r(">b"));
        assert_eq!(r("nopass >a"), r(">a"));
        assert_ne!(r("nopass"), r("resetpass"));
        assert_eq!(r("(~x  +get) on"), r("on (~x +get)"));
    }

    #[test]
    fn lines_split_outside_selectors() {
        assert_eq!(
            user_line("user y on %R~r:* (~sel* resetchannels -@all +get) +set"),
            Some((
                "y".into(),
                vec!["on".into(), "%R~r:*".into(), "(~sel* resetchannels -@all +get)".into(), "+set".into()]
            ))
        );
        assert_eq!(user_line(""), None);
        assert_eq!(user_line("# comment"), None);
    }
}
