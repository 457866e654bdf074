//! PostgreSQL's SQL spelling of settings, shared by the renderer
//! (`tenants.sql`) and the driver (`ALTER SYSTEM`, `ALTER ROLE`): string
//! literals, quoted identifiers and the list parameters that `SET` takes
//! element by element.

/// Parameters PostgreSQL flags `GUC_LIST_QUOTE`: `SET` quotes each of its
/// arguments as an identifier, so a list must be sent as one literal per
/// element, not as the one string postgresql.conf takes.
pub const LIST_QUOTE: &[&str] = &[
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
];

/// The right-hand side of `SET name = ...` for `value` in postgresql.conf
/// spelling: one string literal, or one literal per element for the
/// [`LIST_QUOTE`] parameters.
pub fn set_value(name: &str, value: &str) -> String {
    if !LIST_QUOTE.contains(&name) {
        return sql_literal(value);
    }
    let elements = split_identifiers(value);
    if elements.is_empty() {
        return "''".into();
    }
    elements.iter().map(|e| sql_literal(e)).collect::<Vec<_>>().join(", ")
}

/// Splits a list the way PostgreSQL's `SplitIdentifierString` does: at
/// commas outside double quotes; quoted elements lose their quotes (`""`
/// is a quote), unquoted ones are folded to lower case.
pub fn split_identifiers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut element = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                if c == '"' && chars.next_if_eq(&'"').is_none() {
                    break;
                }
                element.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                element.push(c);
            }
            element = element.trim_end().to_lowercase();
        }
        while chars.next_if(|c| *c != ',').is_some() {}
        if !element.is_empty() {
            out.push(element);
        }
        if chars.next().is_none() {
            return out;
        }
    }
}

/// An SQL string literal that reads the same whatever
/// `standard_conforming_strings` says: `E'...'` once a backslash is in it.
pub fn sql_literal(text: &str) -> String {
    let doubled = text.replace('\'', "''");
    if text.contains('\\') { format!("E'{}'", doubled.replace('\\', "\\\\")) } else { format!("'{doubled}'") }
}

/// A double-quoted SQL identifier, so that any tenant name is taken as is.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_lists_split_like_postgresql() {
        assert_eq!(split_identifiers("\"$user\", Public ,\"My\"\"Schema\""), ["$user", "public", "My\"Schema"]);
        assert_eq!(split_identifiers(""), Vec::<String>::new());
        assert_eq!(split_identifiers("a, \"B c\", D"), ["a", "B c", "d"]);
        assert!(split_identifiers(" ").is_empty());
    }

    #[test]
    fn literals_and_identifiers_are_quoted() {
        assert_eq!(sql_literal("it's"), "'it''s'");
        assert_eq!(sql_literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(quote_ident("acme \"corp\""), "\"acme \"\"corp\"\"\"");
        assert_eq!(set_value("search_path", "\"$user\", public"), "'$user', 'public'");
        assert_eq!(set_value("search_path", ""), "''");
        assert_eq!(set_value("work_mem", "4MB"), "'4MB'");
    }
}
