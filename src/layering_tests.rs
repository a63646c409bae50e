//! Architecture check: the top-level modules of src/ keep the declared order of layers.
//!
//! Reads the source tree and collects every `crate::<module>` reference per top-level module.
//! [`LAYERS`] lists the layers from the top; a module imports only modules of layers below its
//! own (never one beside it or above it), every module is in exactly one layer, and the imports
//! have no cycle. Binding names are written in `bindings` alone.

/// The layers, top first: (what the layer is, its top-level modules).
const LAYERS: &[(&str, &[&str])] = &[
    // The cron trigger: re-queues and fails jobs, expires the SSE mailbox of `transport`, deletes
    // old images, re-queues with the consumer's backoff.
    ("cron entry point", &["sweeper"]),
    // The fetch handler (routes, auth, Origin, SSE) and the queue consumer (backend → R2 → D1).
    ("request and queue entry points", &["transport", "pipeline"]),
    // MCP methods over the wire types, OpenAI's images API, and the pages people see (which
    // list the tools).
    ("MCP server, OpenAI API and pages", &["server", "openai", "pages"]),
    ("tools", &["tools", "prompts"]),
    // Job creation, image inputs, R2 objects: what tools (and the entry points) share.
    ("services", &["services"]),
    // `oauth`: the authorization server's rules, its D1 tables and its one outbound fetch.
    (
        "job store and platform adapters",
        &["jobs", "images_binding", "oauth", "rate_limit"],
    ),
    ("wire and request types", &["protocol", "http"]),
    ("configuration and rules", &["config", "models", "urls", "icons"]),
    (
        "primitives",
        &["access", "bindings", "catalog", "d1", "html", "media", "time"],
    ),
    // JS promises awaited from Rust (handed to the main module by a request it drives), and code
    // kept out of its caller's Wasm function (`cold`, `cold_call`).
    ("promises", &["promise"]),
];

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` (the source scans of this module and `models::literal_scan`).
pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
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
    // A name after `crate::` that is no top-level module (an item of lib.rs) is no edge.
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

/// The modules lib.rs declares under `#[cfg(test)]`: compiled for `cargo test` only, they may
/// use anything and are in no layer.
fn test_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == "#[cfg(test)]")
        .filter_map(|pair| pair[1].strip_prefix("mod ")?.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The layer of each declared module, by index from the top.
fn layer_of() -> BTreeMap<&'static str, usize> {
    let mut layers = BTreeMap::new();
    for (index, (_, modules)) in LAYERS.iter().enumerate() {
        for module in *modules {
            assert!(
                layers.insert(*module, index).is_none(),
                "{module} is declared in two layers"
            );
        }
    }
    layers
}

/// Every import of a module beside or above the importer, as "a (layer) imports b (layer)".
fn imports_against_the_order(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let layers = layer_of();
    let mut wrong = Vec::new();
    for (module, edges) in graph {
        let Some(&own) = layers.get(module.as_str()) else {
            continue;
        };
        for target in edges {
            let Some(&other) = layers.get(target.as_str()) else {
                continue;
            };
            if other <= own {
                let relation = if other == own { "beside it" } else { "above it" };
                wrong.push(format!(
                    "{module} ({}) imports {target} ({}), {relation}",
                    LAYERS[own].0, LAYERS[other].0
                ));
            }
        }
    }
    wrong
}

#[test]
fn every_module_imports_only_layers_below_its_own() {
    let graph = module_graph();
    let wrong = imports_against_the_order(&graph);
    assert!(
        wrong.is_empty(),
        "imports against the declared layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_is_in_exactly_one_layer() {
    let graph = module_graph();
    let layers = layer_of();
    let tests = test_modules();
    assert!(tests.contains("wire_contract"), "{tests:?}");
    let undeclared: Vec<&String> = graph
        .keys()
        .filter(|m| !layers.contains_key(m.as_str()) && !tests.contains(*m))
        .collect();
    assert!(undeclared.is_empty(), "modules in no layer of LAYERS: {undeclared:?}");
    let missing: Vec<&&str> = layers.keys().filter(|m| !graph.contains_key(**m)).collect();
    assert!(
        missing.is_empty(),
        "LAYERS names modules src/ does not have: {missing:?}"
    );
}

#[test]
fn binding_names_are_written_in_the_bindings_module_alone() {
    use crate::bindings::{AI, DB, IMAGES, IMAGE_QUEUE, R2_BUCKET, RATE_LIMITER, REGISTRATION_LIMITER};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        if relative == Path::new("bindings.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for name in [
            DB,
            R2_BUCKET,
            IMAGE_QUEUE,
            AI,
            IMAGES,
            RATE_LIMITER,
            REGISTRATION_LIMITER,
        ] {
            if source.contains(&format!("\"{name}\"")) {
                found.push(format!("{} writes \"{name}\"", relative.display()));
            }
        }
    }
    assert!(found.is_empty(), "binding names outside src/bindings.rs: {found:?}");
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

#[test]
fn the_checker_finds_planted_imports_against_the_order() {
    let edges = |targets: &[&str]| targets.iter().map(|t| t.to_string()).collect::<BTreeSet<_>>();
    let mut graph = BTreeMap::new();
    graph.insert("tools".to_string(), edges(&["services", "jobs", "time"]));
    graph.insert("services".to_string(), edges(&["jobs", "bindings"]));
    assert!(imports_against_the_order(&graph).is_empty());
    // Upward: a service reaching for a tool; sideways: two modules of one layer.
    graph.get_mut("services").unwrap().insert("tools".to_string());
    graph.insert("jobs".to_string(), edges(&["rate_limit"]));
    assert_eq!(
        imports_against_the_order(&graph),
        [
            "jobs (job store and platform adapters) imports rate_limit (job store and platform adapters), beside it",
            "services (services) imports tools (tools), above it",
        ]
    );
}
