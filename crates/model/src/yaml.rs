//! A YAML document as a tree of nodes that remember where they were written.
//!
//! Built from `saphyr-parser` events. Keys of a mapping keep their order and
//! duplicates are an error (YAML says so, and a duplicate in a config file is
//! almost always a mistake). Aliases are expanded, under a node budget so
//! that an alias bomb is an error rather than an out-of-memory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver};

use crate::{Location, Value};

/// How many nodes one document may expand to, aliases included.
const NODE_BUDGET: usize = 2_000_000;

/// One node of a YAML document and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A scalar. `plain` is false for quoted and block scalars, which are
    /// always strings; plain scalars get their type from the YAML 1.2 core
    /// schema. `tag` is the local tag suffix, for example `str` for `!!str`.
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A YAML document that could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct YamlError {
    pub location: Location,
    pub message: String,
}

impl Node {
    /// A plain null at `location`, standing for an empty document or value.
    pub fn null(location: Location) -> Node {
        Node { kind: NodeKind::Scalar { text: String::new(), plain: true, tag: None }, location }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true, .. } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The text of a scalar node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Looks up a key of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// What kind of node this is, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "scalar",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "map",
        }
    }

    /// Converts to a plain [`Value`], giving plain scalars their core-schema
    /// type. Knows nothing of dbfleet's `$` operators.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar { text, plain, tag } => scalar_value(text, *plain, tag.as_deref()),
            NodeKind::Seq(items) => Value::List(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => Value::Map(
                entries.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_value())).collect(),
            ),
        }
    }
}

/// The value of a scalar, honouring `!!str` and friends.
pub fn scalar_value(text: &str, plain: bool, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => Value::String(text.to_string()),
        Some("int") => text.parse().map_or_else(|_| Value::String(text.to_string()), Value::Int),
        Some("float") => text.parse().map_or_else(|_| Value::String(text.to_string()), Value::Float),
        _ if plain => Value::from_plain_scalar(text),
        _ => Value::String(text.to_string()),
    }
}

/// Parses one YAML document. `file` is the name used in locations. An empty
/// input is a null document.
pub fn parse(file: impl Into<Arc<str>>, input: &str) -> Result<Node, Vec<YamlError>> {
    let file = file.into();
    let mut builder = Builder {
        file: file.clone(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        errors: Vec::new(),
        nodes: 0,
    };
    let mut parser = Parser::new_from_str(input);
    if let Err(e) = parser.load(&mut builder, true) {
        let m = e.marker();
        builder.errors.push(YamlError {
            location: Location::new(file.clone(), m.line() as u32, m.col() as u32 + 1),
            message: format!("invalid YAML: {}", e.info()),
        });
    }
    if !builder.errors.is_empty() {
        return Err(builder.errors);
    }
    let mut docs = builder.docs.into_iter();
    let first = docs.next().unwrap_or_else(|| Node::null(Location::file(file.clone())));
    if let Some(second) = docs.next() {
        return Err(vec![YamlError {
            location: second.location,
            message: "a fleet file holds one YAML document; found a second one".into(),
        }]);
    }
    Ok(first)
}

enum Frame {
    Seq { location: Location, anchor: usize, items: Vec<Node> },
    Map { location: Location, anchor: usize, entries: Vec<(Node, Node)>, seen: HashSet<String>, key: Option<Node> },
}

struct Builder {
    file: Arc<str>,
    stack: Vec<Frame>,
    /// Anchored nodes by anchor id, so aliases can be expanded in place.
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
    errors: Vec<YamlError>,
    /// Nodes created so far, aliases counted by their expanded size.
    nodes: usize,
}

impl Builder {
    fn location(&self, span: &Span) -> Location {
        Location::new(self.file.clone(), span.start.line() as u32, span.start.col() as u32 + 1)
    }

    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, seen, key, .. }) => match key.take() {
                None => {
                    let Some(text) = node.as_str() else {
                        self.errors.push(YamlError {
                            location: node.location.clone(),
                            message: format!("a key must be a scalar, found a {}", node.describe()),
                        });
                        // Keep a placeholder so the value that follows pairs up.
                        *key = Some(Node::null(node.location));
                        return;
                    };
                    if !seen.insert(text.to_string()) {
                        self.errors.push(YamlError {
                            location: node.location.clone(),
                            message: format!("duplicate key `{text}`"),
                        });
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

fn node_count(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        NodeKind::Map(entries) => 1 + entries.iter().map(|(k, v)| node_count(k) + node_count(v)).sum::<usize>(),
    }
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        if !self.errors.is_empty() && self.nodes > NODE_BUDGET {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.nodes += 1;
                let tag = tag.map(|t| t.suffix.clone());
                let node = Node {
                    kind: NodeKind::Scalar { text: text.into_owned(), plain: matches!(style, ScalarStyle::Plain), tag },
                    location: self.location(&span),
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.nodes += 1;
                let location = self.location(&span);
                self.stack.push(Frame::Seq { location, anchor, items: Vec::new() });
            }
            Event::MappingStart(anchor, _) => {
                self.nodes += 1;
                let location = self.location(&span);
                self.stack.push(Frame::Map { location, anchor, entries: Vec::new(), seen: HashSet::new(), key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq { location, anchor, items }) => {
                    self.push(Node { kind: NodeKind::Seq(items), location }, anchor)
                }
                Some(Frame::Map { location, anchor, entries, .. }) => {
                    self.push(Node { kind: NodeKind::Map(entries), location }, anchor)
                }
                None => {}
            },
            Event::Alias(id) => {
                let location = self.location(&span);
                match self.anchors.get(&id) {
                    Some(node) => {
                        self.nodes += node_count(node);
                        if self.nodes > NODE_BUDGET {
                            self.errors.push(YamlError {
                                location,
                                message: format!("document expands to more than {NODE_BUDGET} nodes through aliases"),
                            });
                            return;
                        }
                        let node = Node { kind: node.kind.clone(), location };
                        self.push(node, 0);
                    }
                    None => self.errors.push(YamlError { location, message: "alias to an unknown anchor".into() }),
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based() {
        let doc = parse("f.yaml", "a: 1\nb:\n  c: [x, y]\n").unwrap();
        let c = doc.get("b").unwrap().get("c").unwrap();
        assert_eq!((c.location.line, c.location.column), (3, 6));
        assert_eq!(doc.get("a").unwrap().location.column, 4);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("f.yaml", "a: 1\na: 2\n").unwrap_err();
        assert_eq!(err[0].message, "duplicate key `a`");
        assert_eq!(err[0].location.line, 2);
    }

    #[test]
    fn syntax_errors_have_locations() {
        let err = parse("f.yaml", "a: 1\nb: [1, 2\n").unwrap_err();
        assert!(err[0].message.starts_with("invalid YAML"), "{:?}", err);
        assert!(err[0].location.line >= 2);
    }

    #[test]
    fn aliases_expand_and_bombs_stop() {
        let doc = parse("f.yaml", "a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(doc.get("b").unwrap().get("k").unwrap().as_str(), Some("1"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse("f.yaml", &bomb).unwrap_err();
        assert!(err[0].message.contains("expands"), "{:?}", err);
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("f.yaml", "").unwrap().is_null());
        assert!(parse("f.yaml", "# only a comment\n").unwrap().is_null());
    }
}
