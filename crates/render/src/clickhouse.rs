//! ClickHouse: `config.d/dbfleet.xml` for server elements, `users.d/dbfleet.xml`
//! for the instance's profile settings, `users.d/dbfleet-tenants.xml` for
//! tenant profiles, users and quotas, and a reader for config.xml, users.xml
//! and their `config.d`/`users.d` files.
//!
//! The server merges these files into its own config.xml and users.xml. In
//! `config.d/dbfleet.xml` each setting of the catalog's `config` section is
//! an element under the root, a dotted name becoming nested elements
//! (`logger.level` is `<logger><level>`), a list repeated elements
//! (`listen_host`), a map nested elements with a list's items repeated
//! (`remote_servers`). `users.d/dbfleet.xml` holds the `users` section of
//! the instance: its settings go into profile `default`. The tenants go into
//! `users.d/dbfleet-tenants.xml`, rendered only when the instance has
//! tenants, so that the live driver can deliver them apart from the
//! instance's settings: each tenant gets a profile (inheriting `default`,
//! then its own settings), a user of its name with that profile and a quota
//! of its name that counts but limits nothing.
//! The tenant's `password` setting becomes `password_sha256_hex` with the
//! user reachable from any address (`::/0`); a tenant without one cannot log
//! in: ClickHouse requires a password element, so it gets a hash no password
//! is known to match (all zeros), and an empty `networks`, which admits no
//! address. Elements appear in name order, tenants too; escaping is
//! quick-xml's.
//!
//! The root element is `<yandex>` before 21.11 and `<clickhouse>` from 21.11
//! on: ClickHouse 21.11 (pull request #29182, autumn 2021) started to accept
//! `<clickhouse>` and to treat the two as the same, while 21.8 still refuses a
//! `config.d` file whose root is not `<yandex>` (issue #35906).

use std::collections::BTreeMap;

use dbfleet_catalog::{ParamType, Typed};
use dbfleet_model::{EngineKind, Value};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::common;
use crate::{
    ParseError, Parsed, ParsedSetting, RenderError, RenderInput, RenderValue, RenderedFile, Setting, Unmapped,
};

const CONFIG_FILE: &str = "config.d/dbfleet.xml";
const USERS_FILE: &str = "users.d/dbfleet.xml";
const TENANTS_FILE: &str = "users.d/dbfleet-tenants.xml";
/// A SHA-256 that no known password hashes to, for tenants without one.
const NO_PASSWORD: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An element to write, with the comment that goes before it.
#[derive(Debug)]
struct Element {
    name: String,
    comment: Option<String>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Text(String),
    Children(Vec<Element>),
}

impl Element {
    fn text(name: &str, text: impl Into<String>) -> Element {
        Element { name: name.to_string(), comment: None, body: Body::Text(text.into()) }
    }

    fn parent(name: &str, children: Vec<Element>) -> Element {
        Element { name: name.to_string(), comment: None, body: Body::Children(children) }
    }
}

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    if let Some(s) = input.settings.iter().find(|s| !matches!(s.parameter.section.as_str(), "config" | "users")) {
        return Err(RenderError::UnknownSection {
            engine: EngineKind::Clickhouse,
            section: s.parameter.section.clone(),
            name: s.name.to_string(),
        });
    }
    let root = root_name(input);

    let config = common::section(&input.settings, "config");
    let mut server = Vec::new();
    for s in &config {
        let path: Vec<&str> = s.name.split('.').collect();
        insert(&mut server, &path, setting_elements(input, s)?);
    }
    let config_file = RenderedFile {
        path: CONFIG_FILE.into(),
        contents: write_document(input, root, server),
        sensitive: common::any_secret(config),
    };

    let defaults = common::section(&input.settings, "users");
    let users_file = RenderedFile {
        path: USERS_FILE.into(),
        contents: write_document(
            input,
            root,
            vec![Element::parent("profiles", vec![Element::parent("default", profile_settings(input, &defaults)?)])],
        ),
        sensitive: common::any_secret(defaults.iter().copied()),
    };
    let mut files = vec![config_file, users_file];
    files.extend(tenants_file(input, root)?);
    Ok(files)
}

/// `users.d/dbfleet-tenants.xml`: a profile, a user and a quota per tenant
/// (see the module comment), or nothing when the instance has no tenants.
fn tenants_file(input: &RenderInput<'_>, root: &str) -> Result<Option<RenderedFile>, RenderError> {
    if input.tenants.is_empty() {
        return Ok(None);
    }
    let mut sensitive = false;
    let mut profiles = Vec::new();
    let mut users = Vec::new();
    let mut quotas = Vec::new();
    let mut tenants: Vec<_> = input.tenants.iter().collect();
    tenants.sort_by(|a, b| a.tenant.cmp(b.tenant));
    for tenant in tenants {
        let name = tenant.tenant;
        check_name(name).map_err(|reason| RenderError::Unrenderable { name: format!("tenant {name}"), reason })?;
        if name == "default" {
            return Err(RenderError::Unrenderable {
                name: "tenant default".into(),
                reason: "`default` is ClickHouse's own user and the instance's profile".into(),
            });
        }
        let own: Vec<&Setting<'_>> = tenant.settings.iter().filter(|s| s.name != common::TENANT_PASSWORD).collect();
        if let Some(s) = own.iter().find(|s| s.parameter.section != "users") {
            return Err(RenderError::Unrenderable {
                name: s.name.to_string(),
                reason: format!("tenant {name}: only profile settings (section users) can be set per tenant"),
            });
        }
        let mut own = own;
        own.sort_by(|a, b| a.name.cmp(b.name));
        sensitive |= common::any_secret(own.iter().copied());
        let mut profile = vec![Element::text("profile", "default")];
        profile.extend(profile_settings(input, &own)?);
        profiles.push(Element::parent(name, profile));

        let mut user = Vec::new();
        match common::tenant_password(input, tenant) {
            Some(password) => {
                sensitive = true;
                user.push(Element::text("password_sha256_hex", common::sha256_hex(&password)));
                user.push(Element::parent("networks", vec![Element::text("ip", "::/0")]));
            }
            None => {
                user.push(Element {
                    comment: Some(
                        "No password in the fleet: no password matches this hash, and no address may connect.".into(),
                    ),
                    ..Element::text("password_sha256_hex", NO_PASSWORD)
                });
                user.push(Element::parent("networks", Vec::new()));
            }
        }
        user.push(Element::text("profile", name));
        user.push(Element::text("quota", name));
        users.push(Element::parent(name, user));

        let interval = ["queries", "errors", "result_rows", "read_rows", "execution_time"]
            .into_iter()
            .map(|limit| Element::text(limit, "0"));
        let interval = std::iter::once(Element::text("duration", "3600")).chain(interval).collect();
        quotas.push(Element::parent(name, vec![Element::parent("interval", interval)]));
    }
    let body =
        vec![Element::parent("profiles", profiles), Element::parent("users", users), Element::parent("quotas", quotas)];
    Ok(Some(RenderedFile { path: TENANTS_FILE.into(), contents: write_document(input, root, body), sensitive }))
}

/// `clickhouse` from 21.11 on, `yandex` before (see the module comment).
fn root_name(input: &RenderInput<'_>) -> &'static str {
    if input.version.parts() < &[21, 11][..] { "yandex" } else { "clickhouse" }
}

/// The elements of settings that sit directly in a profile.
fn profile_settings(input: &RenderInput<'_>, settings: &[&Setting<'_>]) -> Result<Vec<Element>, RenderError> {
    let mut out = Vec::new();
    for s in settings {
        out.extend(setting_elements(input, s)?);
    }
    Ok(out)
}

/// The elements one setting becomes, named after the last part of its name,
/// the first carrying the origin comment.
fn setting_elements(input: &RenderInput<'_>, s: &Setting<'_>) -> Result<Vec<Element>, RenderError> {
    let name = s.name.rsplit('.').next().unwrap_or(s.name);
    let unrenderable = |reason: String| RenderError::Unrenderable { name: s.name.to_string(), reason };
    let mut elements = match &s.value {
        RenderValue::Secret(_) => vec![Element::text(name, common::native(input, s))],
        RenderValue::Typed(Typed::List(items)) => {
            items.iter().map(|item| value_element(name, item)).collect::<Result<_, _>>().map_err(unrenderable)?
        }
        RenderValue::Typed(t @ Typed::Map(_)) => vec![value_element(name, t).map_err(unrenderable)?],
        RenderValue::Typed(t) => vec![Element::text(name, s.parameter.format_native(input.engine, t))],
    };
    if let Some(first) = elements.first_mut() {
        first.comment = common::origin(input, s);
    }
    Ok(elements)
}

/// An item of a list or map: a map becomes child elements (a list inside it
/// repeated elements), a scalar text.
fn value_element(name: &str, value: &Typed) -> Result<Element, String> {
    Ok(match value {
        Typed::Map(entries) => {
            let mut children = Vec::new();
            for (key, value) in entries {
                check_name(key)?;
                match value {
                    Typed::List(items) => {
                        for item in items {
                            children.push(value_element(key, item)?);
                        }
                    }
                    other => children.push(value_element(key, other)?),
                }
            }
            Element::parent(name, children)
        }
        Typed::List(_) => {
            return Err(format!("`{name}` holds a list inside a list, which XML elements cannot express"));
        }
        Typed::Bool(b) => Element::text(name, b.to_string()),
        Typed::Int(i) | Typed::Bytes(i) | Typed::Micros(i) => Element::text(name, i.to_string()),
        Typed::Real(x) => Element::text(name, x.to_string()),
        Typed::Str(text) => Element::text(name, text.clone()),
    })
}

/// Element names that ClickHouse can look up: no dots (its path separator)
/// and nothing XML would refuse.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err(format!("`{name}` cannot be an element name (a letter or `_`, then letters, digits, `_` or `-`)"))
    }
}

/// Puts `elements` at `path` below `children`, creating or joining the
/// parents on the way (`logger.level` and `logger.size` share `<logger>`).
fn insert(children: &mut Vec<Element>, path: &[&str], elements: Vec<Element>) {
    let [first, rest @ ..] = path else { return };
    if rest.is_empty() {
        children.extend(elements);
        return;
    }
    let index = match children.iter().position(|e| e.name == *first && matches!(e.body, Body::Children(_))) {
        Some(i) => i,
        None => {
            children.push(Element::parent(first, Vec::new()));
            children.len() - 1
        }
    };
    if let Body::Children(grandchildren) = &mut children[index].body {
        insert(grandchildren, rest, elements);
    }
}

fn write_document(input: &RenderInput<'_>, root: &str, body: Vec<Element>) -> String {
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 4);
    // Writing into a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", None, None)));
    for line in common::header_lines(input) {
        let _ = writer.write_event(comment(&line));
    }
    write_element(&mut writer, &Element::parent(root, body));
    let mut text = String::from_utf8(writer.into_inner()).unwrap_or_default();
    text.push('\n');
    text
}

fn write_element(writer: &mut quick_xml::Writer<Vec<u8>>, element: &Element) {
    if let Some(text) = &element.comment {
        let _ = writer.write_event(comment(text));
    }
    let start = BytesStart::new(element.name.as_str());
    match &element.body {
        Body::Children(children) if children.is_empty() => {
            let _ = writer.write_event(Event::Empty(start));
        }
        Body::Children(children) => {
            let _ = writer.write_event(Event::Start(start));
            for child in children {
                write_element(writer, child);
            }
            let _ = writer.write_event(Event::End(BytesEnd::new(element.name.as_str())));
        }
        Body::Text(text) => {
            let _ = writer.write_event(Event::Start(start));
            let _ = writer.write_event(Event::Text(BytesText::new(text)));
            let _ = writer.write_event(Event::End(BytesEnd::new(element.name.as_str())));
        }
    }
}

/// A comment; `--` may not appear inside one, so it is broken up.
fn comment(text: &str) -> Event<'static> {
    let text = text.replace("--", "- -").replace(['\n', '\r'], " ");
    Event::Comment(BytesText::from_escaped(format!(" {text} ")))
}

/// One element as read, before it is mapped to settings.
#[derive(Debug, Default)]
struct Node {
    name: String,
    line: u32,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    if !file_name.ends_with(".xml") {
        return Err(ParseError {
            line: 0,
            message: format!("`{file_name}` is not a ClickHouse configuration file (expected XML, *.xml)"),
        });
    }
    let root = read_tree(text)?;
    let mut parsed = Parsed::default();
    for node in &root.children {
        match node.name.as_str() {
            "profiles" => read_profiles(node, &mut parsed),
            "users" | "quotas" => {
                for child in &node.children {
                    parsed.unmapped.push(Unmapped {
                        line: child.line,
                        text: format!("{}.{}", node.name, child.name),
                        reason: "users and quotas are rendered from the fleet's tenants, not imported".into(),
                    });
                }
            }
            _ => read_config(node, &node.name, &mut parsed),
        }
    }
    Ok(parsed)
}

/// Reads the document into nodes, keeping each element's line and its text
/// with entities resolved.
fn read_tree(text: &str) -> Result<Node, ParseError> {
    let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_at = |pos: u64| -> u32 {
        let pos = usize::try_from(pos).unwrap_or(usize::MAX);
        u32::try_from(line_starts.partition_point(|&start| start <= pos)).unwrap_or(u32::MAX)
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ParseError { line: line_at(reader.error_position()), message: e.to_string() })?;
        let error = |message: String| ParseError { line: line_at(before), message };
        match event {
            Event::Start(start) => stack.push(node_from(&start, line_at(before)).map_err(error)?),
            Event::Empty(start) => {
                let node = node_from(&start, line_at(before)).map_err(error)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or_else(|| error("unexpected end tag".into()))?;
                node.text = node.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err(error("unexpected end tag".into())),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content().map_err(|e| error(e.to_string()))?),
            Event::CData(t) => push_text(&mut stack, &t.decode().map_err(|e| error(e.to_string()))?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| error(e.to_string()))?;
                let reference = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&reference).map_err(|e| error(e.to_string()))?;
                push_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    let document = stack.pop().filter(|_| stack.is_empty()).ok_or_else(|| ParseError {
        line: line_at(reader.buffer_position()),
        message: "the document ends inside an element".into(),
    })?;
    let mut roots = document.children.into_iter();
    match (roots.next(), roots.next()) {
        (Some(root), None) => Ok(root),
        _ => Err(ParseError { line: 1, message: "expected exactly one root element".into() }),
    }
}

fn node_from(start: &BytesStart<'_>, line: u32) -> Result<Node, String> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?.into_owned();
        attributes.push((key, value));
    }
    Ok(Node { name, line, attributes, ..Node::default() })
}

fn push_text(stack: &mut [Node], text: &str) {
    if let Some(node) = stack.last_mut() {
        node.text.push_str(text);
    }
}

/// Lists the substitution and removal attributes of `node` as unmapped;
/// returns false when the element is removed and must not be read.
fn note_attributes(node: &Node, path: &str, parsed: &mut Parsed) -> bool {
    for (key, value) in &node.attributes {
        let reason = match key.as_str() {
            "incl" => "substituted at server start from the include file (include_from), which is not followed here",
            "from_env" => "substituted at server start from an environment variable",
            "from_zk" => "substituted at server start from ZooKeeper",
            "remove" => "removes the element when the files are merged",
            _ => continue,
        };
        parsed.unmapped.push(Unmapped {
            line: node.line,
            text: format!("{path} {key}=\"{value}\""),
            reason: reason.into(),
        });
    }
    node.attribute("remove").is_none()
}

/// Reads a config.xml element: a setting when the catalog knows its dotted
/// path, its children when it has some, unmapped otherwise.
fn read_config(node: &Node, path: &str, parsed: &mut Parsed) {
    if !note_attributes(node, path, parsed) {
        return;
    }
    let substituted = node.attributes.iter().any(|(k, _)| matches!(k.as_str(), "incl" | "from_env" | "from_zk"));
    let empty = node.children.is_empty() && node.text.is_empty();
    let parameter = common::known_parameter(EngineKind::Clickhouse, path);
    match parameter {
        // Its value comes from elsewhere: nothing to read here.
        _ if substituted && empty => {}
        Some(p) if p.section == "users" => parsed.unmapped.push(Unmapped {
            line: node.line,
            text: path.to_string(),
            reason: "a profile setting outside <profiles>, where the server does not read it".into(),
        }),
        Some(p) if p.ty == ParamType::Map => {
            parsed.settings.push(ParsedSetting { name: path.to_string(), value: map_value(node), line: node.line });
        }
        Some(p) if node.children.is_empty() => add_leaf(parsed, path, &node.text, node.line, p.ty == ParamType::List),
        _ if !node.children.is_empty() && catalog_has_below(path) => {
            for child in &node.children {
                read_config(child, &format!("{path}.{}", child.name), parsed);
            }
        }
        // An element the catalog knows nothing in is listed once, whole.
        _ => parsed.unmapped.push(Unmapped {
            line: node.line,
            text: path.to_string(),
            reason: "not a parameter the catalog knows".into(),
        }),
    }
}

/// Whether the catalog has a parameter inside the element at `path`.
fn catalog_has_below(path: &str) -> bool {
    let prefix = format!("{path}.");
    dbfleet_catalog::catalog(EngineKind::Clickhouse).parameters().any(|p| p.name.starts_with(&prefix))
}

/// Adds a leaf setting. Repeated elements of a list add up to one setting;
/// of anything else the server reads only the first, so later ones are
/// listed as unmapped.
fn add_leaf(parsed: &mut Parsed, name: &str, text: &str, line: u32, list: bool) {
    let earlier = parsed.settings.iter_mut().find(|s| s.name == name);
    match earlier {
        Some(s) if list => {
            let items = match std::mem::replace(&mut s.value, Value::Null) {
                Value::List(items) => items,
                first => vec![first],
            };
            s.value = Value::List(items.into_iter().chain([Value::String(text.to_string())]).collect());
        }
        Some(_) => parsed.unmapped.push(Unmapped {
            line,
            text: name.to_string(),
            reason: "given again: the server reads only the first".into(),
        }),
        None => {
            parsed.settings.push(ParsedSetting { name: name.to_string(), value: Value::String(text.to_string()), line })
        }
    }
}

/// Reads `<profiles>`: the settings of profile `default` are the instance's;
/// other profiles belong to users and are listed as unmapped.
fn read_profiles(node: &Node, parsed: &mut Parsed) {
    for profile in &node.children {
        for setting in &profile.children {
            let path = format!("profiles.{}.{}", profile.name, setting.name);
            if !note_attributes(setting, &path, parsed) {
                continue;
            }
            let reason = if profile.name != "default" {
                Some(format!(
                    "profile `{}`: only profile `default` holds instance settings; dbfleet renders one profile per tenant",
                    profile.name
                ))
            } else if setting.name == "profile" {
                Some("inherits another profile, which dbfleet does not model".into())
            } else {
                match common::known_parameter(EngineKind::Clickhouse, &setting.name) {
                    Some(p) if p.section == "users" => None,
                    Some(_) => Some("a server setting inside a profile, where the server does not read it".into()),
                    None => Some("not a parameter the catalog knows".into()),
                }
            };
            match reason {
                Some(reason) => parsed.unmapped.push(Unmapped { line: setting.line, text: path, reason }),
                None => add_leaf(parsed, &setting.name, &setting.text, setting.line, false),
            }
        }
    }
}

/// The children of a map element as a map: repeated names become lists,
/// text is read as a YAML scalar, the way the fleet's own files type it.
fn map_value(node: &Node) -> Value {
    if node.children.is_empty() {
        return match Value::from_plain_scalar(&node.text) {
            Value::Null => Value::String(node.text.clone()),
            other => other,
        };
    }
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for child in &node.children {
        let value = map_value(child);
        let repeated = node.children.iter().filter(|c| c.name == child.name).count() > 1;
        match map
            .entry(child.name.clone())
            .or_insert_with(|| if repeated { Value::List(Vec::new()) } else { Value::Null })
        {
            Value::List(items) if repeated => items.push(value),
            slot => *slot = value,
        }
    }
    Value::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::{input, secret_setting, tenant};

    fn sample(version: &str, annotate: bool) -> RenderInput<'static> {
        let mut input = input(
            EngineKind::Clickhouse,
            version,
            &[
                ("logger.level", "debug"),
                ("logger.size", "100M"),
                ("max_concurrent_queries", "50"),
                ("timezone", "Europe/Berlin & <UTC>"),
                ("listen_host", "127.0.0.1,::1"),
                ("macros", "{shard: 1, replica: r-1}"),
                (
                    "remote_servers",
                    "{c1: {shard: [{replica: {host: a, port: 9000}}, {replica: {host: b, port: 9000}}]}}",
                ),
                ("max_memory_usage", "10000000000"),
                ("max_threads", "8"),
                ("load_balancing", "random"),
            ],
        );
        input.annotate = annotate;
        input.tenants = vec![
            tenant(EngineKind::Clickhouse, "zeta", &[("max_threads", "2"), ("readonly", "1")]),
            crate::TenantInput {
                tenant: "acme",
                settings: vec![
                    crate::common::testing::setting(EngineKind::Clickhouse, "max_execution_time", "60"),
                    secret_setting(EngineKind::Clickhouse, common::TENANT_PASSWORD, "pw"),
                ],
            },
        ];
        input
    }

    #[test]
    fn renders_config_and_users() {
        let files = crate::render(&sample("18.16.1", false)).unwrap();
        assert_eq!(
            files.iter().map(|f| (f.path.as_str(), f.sensitive)).collect::<Vec<_>>(),
            [("config.d/dbfleet.xml", false), ("users.d/dbfleet-tenants.xml", true), ("users.d/dbfleet.xml", false)]
        );
        insta::assert_snapshot!("clickhouse_config_d", files[0].contents);
        insta::assert_snapshot!("clickhouse_tenants_d", files[1].contents);
        insta::assert_snapshot!("clickhouse_users_d", files[2].contents);
    }

    #[test]
    fn the_tenants_file_is_rendered_only_for_tenants() {
        let mut input = sample("24.8", false);
        input.tenants.clear();
        let files = crate::render(&input).unwrap();
        assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), [CONFIG_FILE, USERS_FILE]);
        // A tenant without a password or secrets: nothing sensitive in it,
        // and the same root element as the other files.
        input.tenants = vec![tenant(EngineKind::Clickhouse, "t", &[("max_threads", "2")])];
        let files = crate::render(&input).unwrap();
        let tenants = files.iter().find(|f| f.path == TENANTS_FILE).unwrap();
        assert!(!tenants.sensitive);
        assert!(tenants.contents.contains("<clickhouse>") && tenants.contents.contains("Rendered by dbfleet"));
        assert!(!files.iter().find(|f| f.path == USERS_FILE).unwrap().contents.contains("<t>"));
    }

    #[test]
    fn annotates_before_each_element() {
        let files = crate::render(&sample("18.16.1", true)).unwrap();
        insta::assert_snapshot!("clickhouse_config_d_annotated", files[0].contents);
        insta::assert_snapshot!("clickhouse_tenants_d_annotated", files[1].contents);
        insta::assert_snapshot!("clickhouse_users_d_annotated", files[2].contents);
    }

    #[test]
    fn root_element_follows_the_version() {
        for (version, root) in
            [("18.16.1", "yandex"), ("21.8", "yandex"), ("21.11", "clickhouse"), ("24.8", "clickhouse")]
        {
            let files = crate::render(&input(EngineKind::Clickhouse, version, &[])).unwrap();
            assert!(files[0].contents.contains(&format!("<{root}/>")), "{version}: {}", files[0].contents);
        }
    }

    #[test]
    fn bad_tenants_are_refused() {
        for name in ["default", "a b", "1st", "a.b"] {
            let mut input = input(EngineKind::Clickhouse, "24.8", &[]);
            input.tenants = vec![crate::TenantInput { tenant: name, settings: Vec::new() }];
            assert!(matches!(crate::render(&input), Err(RenderError::Unrenderable { .. })), "{name:?}");
        }
        let mut input = input(EngineKind::Clickhouse, "24.8", &[]);
        input.tenants = vec![tenant(EngineKind::Clickhouse, "t", &[("max_concurrent_queries", "5")])];
        assert!(matches!(crate::render(&input), Err(RenderError::Unrenderable { .. })));
    }

    #[test]
    fn rendered_files_read_back() {
        let input = sample("24.8", false);
        let files = crate::render(&input).unwrap();
        let mut parsed = parse("config.d/dbfleet.xml", &files[0].contents).unwrap();
        let users = parse("users.d/dbfleet.xml", &files[2].contents).unwrap();
        parsed.settings.extend(users.settings);
        parsed.unmapped.extend(users.unmapped);
        assert!(parsed.unmapped.is_empty(), "{:?}", parsed.unmapped);
        let tenants = parse("users.d/dbfleet-tenants.xml", &files[1].contents).unwrap();
        assert!(tenants.settings.is_empty(), "{:?}", tenants.settings);
        assert_eq!(parsed.settings.len(), input.settings.len());
        for s in &input.settings {
            let p = parsed.settings.iter().find(|p| p.name == s.name).unwrap_or_else(|| panic!("{}", s.name));
            let back = s.parameter.normalize(EngineKind::Clickhouse, &p.value).unwrap();
            let RenderValue::Typed(t) = &s.value else { unreachable!() };
            assert_eq!(&back, t, "{}", s.name);
        }
        // Tenants' users, profiles and quotas are listed, not imported.
        assert_eq!(tenants.unmapped.iter().filter(|u| u.text.starts_with("profiles.")).count(), 5);
        assert_eq!(tenants.unmapped.iter().filter(|u| !u.text.starts_with("profiles.")).count(), 4);
    }

    #[test]
    fn reader_cases() {
        let text = r#"<?xml version="1.0"?>
<yandex>
    <logger><level>trace</level><unknown_thing>1</unknown_thing></logger>
    <listen_host>::1</listen_host>
    <listen_host>127.0.0.1</listen_host>
    <timezone>A &amp; B&#33;</timezone>
    <timezone>again</timezone>
    <zookeeper incl="zookeeper-servers" optional="true" />
    <macros from_env="MACROS"/>
    <path remove="1"/>
    <max_threads>4</max_threads>
    <profiles>
        <default><max_threads>8</max_threads><profile>base</profile><http_port>1</http_port></default>
        <readonly><readonly>1</readonly></readonly>
    </profiles>
</yandex>
"#;
        let parsed = parse("config.xml", text).unwrap();
        let settings: Vec<(&str, &Value, u32)> =
            parsed.settings.iter().map(|s| (s.name.as_str(), &s.value, s.line)).collect();
        let s = |v: &str| Value::String(v.into());
        assert_eq!(
            settings,
            [
                ("logger.level", &s("trace"), 3),
                ("listen_host", &Value::List(vec![s("::1"), s("127.0.0.1")]), 4),
                ("timezone", &s("A & B!"), 6),
                ("max_threads", &s("8"), 13),
            ]
        );
        let unmapped: Vec<(u32, &str)> = parsed.unmapped.iter().map(|u| (u.line, u.text.as_str())).collect();
        assert_eq!(
            unmapped,
            [
                (3, "logger.unknown_thing"),
                (7, "timezone"),
                (8, "zookeeper incl=\"zookeeper-servers\""),
                (9, "macros from_env=\"MACROS\""),
                (10, "path remove=\"1\""),
                (11, "max_threads"),
                (13, "profiles.default.profile"),
                (13, "profiles.default.http_port"),
                (14, "profiles.readonly.readonly"),
            ]
        );
    }

    #[test]
    fn maps_read_with_repeated_elements_as_lists() {
        let text = "<yandex><remote_servers><c><shard><replica><host>a</host><port>9000</port></replica></shard>\
                    <shard><replica><host>b</host><port>9000</port></replica></shard><shard><replica><host>c</host></replica></shard></c></remote_servers></yandex>";
        let parsed = parse("config.xml", text).unwrap();
        let replica = |h: &str| {
            let mut r = BTreeMap::from([("host".to_string(), Value::String(h.into()))]);
            if h != "c" {
                r.insert("port".into(), Value::Int(9000));
            }
            Value::Map(BTreeMap::from([("replica".to_string(), Value::Map(r))]))
        };
        let want = Value::Map(BTreeMap::from([(
            "c".to_string(),
            Value::Map(BTreeMap::from([(
                "shard".to_string(),
                Value::List(vec![replica("a"), replica("b"), replica("c")]),
            )])),
        )]));
        assert_eq!(parsed.settings[0].value, want);
    }

    #[test]
    fn malformed_xml_is_an_error_with_its_line() {
        let err = parse("config.xml", "<yandex>\n<a>\n</b>\n</yandex>").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(parse("config.xml", "<a/><b/>").is_err());
        assert!(parse("config.json", "{}").is_err());
    }
}
