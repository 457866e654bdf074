//! Embeds the example fleet (`examples/fleet`) so `dbfleet init` can write it
//! anywhere without the source tree.

use std::fs;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("examples/fleet is readable").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        // Hidden entries are local state (`.dbfleet/`, the store a render
        // or apply on the example leaves behind), not part of the fleet.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, root, out);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, path.canonicalize().unwrap()));
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    let mut code = String::from(
        "/// The example fleet's files: path inside the repo, contents.\npub(crate) static EXAMPLE_FLEET: &[(&str, &str)] = &[\n",
    );
    for (rel, abs) in &files {
        println!("cargo::rerun-if-changed={}", abs.display());
        code.push_str(&format!("    ({rel:?}, include_str!({:?})),\n", abs.display().to_string()));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("example_fleet.rs");
    fs::write(out, code).unwrap();
}
