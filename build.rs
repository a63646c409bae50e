//! Build step: the reviewed `tools/list` results (`tests/golden/tools-list-<revision>.json`,
//! pretty-printed for review) minified into `OUT_DIR`, for the server to send as they are
//! (`server::cached_result`). Building that result at run time (every tool's schemas and
//! descriptions) was most of what `warm_up` did when an isolate started, and the first
//! `tools/list` of each other revision paid the same (bench/README.md, twentieth pass).
//!
//! The golden test (`src/wire_contract/golden.rs`) keeps these files equal to what the code
//! builds, and `server::tests` checks the bytes served against the builder's compact JSON for
//! every revision. A revision without a file is built at run time, as before.

use std::path::{Path, PathBuf};

#[path = "src/wire_contract/golden_files.rs"]
mod golden_files;

use golden_files::{file_name, revision_of, GOLDEN_DIR};

fn main() {
    println!("cargo:rerun-if-changed={GOLDEN_DIR}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/wire_contract/golden_files.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut table = String::from("// Written by build.rs: (revision, compact tools/list result).\n&[\n");
    for (revision, path) in reviewed_lists(Path::new(GOLDEN_DIR)) {
        let pretty = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let name = file_name(&revision);
        std::fs::write(out.join(&name), minified(&pretty)).unwrap_or_else(|e| panic!("write {name}: {e}"));
        table.push_str(&format!(
            "    ({revision:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/{name}\"))),\n"
        ));
    }
    table.push_str("]\n");
    std::fs::write(out.join("tools_list_answers.rs"), table).expect("write tools_list_answers.rs");
}

/// Each golden file in `dir` with its revision, by revision.
fn reviewed_lists(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let revision = revision_of(&name)?.to_string();
            Some((revision, entry.path()))
        })
        .collect();
    files.sort();
    files
}

/// JSON text without the whitespace between tokens: serde_json's pretty output made compact, the
/// text `serde_json::to_string` writes for the same value (strings are copied as they are).
fn minified(pretty: &str) -> String {
    let mut compact = String::with_capacity(pretty.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in pretty.chars() {
        if in_string {
            compact.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            compact.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            compact.push(c);
        }
    }
    compact
}
