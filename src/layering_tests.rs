//! Architecture check: the top-level modules of src/ import each other without cycles.
//!
//! Reads the source tree, collects every `crate::<module>` reference per top-level module, and
//! fails naming the cycle if one module reaches back to itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under src/ belongs to (`None` for the crate root files).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "layering_tests").then_some(name)
}

/// Every module named after `crate::` in `source`, including `crate::{a, b::c}` groups.
fn referenced_modules(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = top_module(&src, &file) else {
            continue;
        };
        let source = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for target in referenced_modules(&source) {
            if target != module {
                edges.insert(target);
            }
        }
    }
    // Functions at the crate root (clock, timers) are not a module.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        edges.retain(|target| modules.contains(target));
    }
    graph
}

/// A cycle through `start`, if any, as the path of modules.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let graph = module_graph();
    assert!(graph.len() >= 10, "expected the whole tree, found {:?}", graph.keys());
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between top-level modules: {}", cycle.join(" → "));
    }
}

#[test]
fn wire_types_depend_on_nothing_but_the_catalog() {
    let graph = module_graph();
    let protocol = &graph["protocol"];
    assert!(
        protocol.iter().all(|m| m == "catalog"),
        "protocol/ must hold wire types only, but imports {protocol:?}"
    );
}

#[test]
fn the_sweeper_is_an_entry_point_that_no_module_imports() {
    let graph = module_graph();
    assert!(graph.contains_key("sweeper"), "{:?}", graph.keys());
    let importers: Vec<&String> = graph
        .iter()
        .filter(|(_, edges)| edges.contains("sweeper"))
        .map(|(module, _)| module)
        .collect();
    assert!(
        importers.is_empty(),
        "only lib.rs may call the sweeper, but {importers:?} import it"
    );
}

#[test]
fn the_checker_finds_a_planted_cycle_and_group_imports() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);
    let found = referenced_modules("use crate::{jobs::X, urls};\nlet x = crate::media::sniff(b); // crate::pages");
    assert_eq!(found, BTreeSet::from(["jobs".into(), "media".into(), "urls".into()]));
}
