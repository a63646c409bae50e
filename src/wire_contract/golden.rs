//! Golden `tools/list` per revision: the exact result the server sends, committed under
//! `tests/golden/`, so any change to a tool's name, description or schemas is seen in review.
//! `UPDATE_GOLDEN=1 cargo test golden` rewrites the files from the current code. The server
//! sends these files as `build.rs` minified them, so a tool change reaches clients only once
//! they are regenerated (the next build embeds them).

use std::path::PathBuf;

use super::golden_files::{file_name, revision_of, GOLDEN_DIR};
use super::{manifest_path, revisions, tools_list_result};

const UPDATE_VARIABLE: &str = "UPDATE_GOLDEN";

fn golden_path(revision: &str) -> PathBuf {
    manifest_path(GOLDEN_DIR).join(file_name(revision))
}

/// Pretty JSON (two-space indent, keys in the order sent) with one trailing newline.
fn rendered(revision: &str) -> String {
    let mut text = serde_json::to_string_pretty(&tools_list_result(revision)).expect("tools/list serializes");
    text.push('\n');
    text
}

fn update_requested() -> bool {
    std::env::var(UPDATE_VARIABLE).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The first line where the two texts differ, with both versions of it.
fn first_difference(committed: &str, current: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut current_lines = current.lines();
    for number in 1.. {
        match (committed_lines.next(), current_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                return format!(
                    "first difference at line {number}:\n      committed: {}\n      current:   {}",
                    a.unwrap_or("(end of file)"),
                    b.unwrap_or("(end of output)")
                )
            }
        }
    }
    "the texts differ only in trailing newlines".to_string()
}

#[test]
fn tools_list_matches_the_reviewed_golden_file_for_every_revision() {
    let update = update_requested();
    let mut problems = Vec::new();
    for revision in revisions() {
        let path = golden_path(revision);
        let current = rendered(revision);
        let committed = std::fs::read_to_string(&path).ok();
        let matches = committed
            .as_deref()
            .is_some_and(|c| c.trim_end_matches('\n') == current.trim_end_matches('\n'));
        if matches {
            continue;
        }
        if update {
            std::fs::create_dir_all(manifest_path(GOLDEN_DIR)).expect("create the golden directory");
            std::fs::write(&path, &current).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            eprintln!("updated {}", path.display());
            continue;
        }
        problems.push(match committed {
            None => format!("  {revision}: {} is missing", path.display()),
            Some(committed) => format!(
                "  {revision}: {} differs from what the server sends; {}",
                path.display(),
                first_difference(&committed, &current)
            ),
        });
    }
    // A golden file for a revision the server no longer speaks is stale.
    let known: Vec<PathBuf> = revisions().into_iter().map(golden_path).collect();
    let entries = std::fs::read_dir(manifest_path(GOLDEN_DIR))
        .into_iter()
        .flatten()
        .flatten();
    for stale in entries.map(|e| e.path()).filter(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        revision_of(name).is_some() && !known.contains(p)
    }) {
        if update {
            std::fs::remove_file(&stale).unwrap_or_else(|e| panic!("remove {}: {e}", stale.display()));
            eprintln!("removed {}", stale.display());
        } else {
            problems.push(format!(
                "  {} is for a revision the server does not speak",
                stale.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "tools/list changed without a reviewed golden file:\n{}\n\
         If the change is intended, regenerate with `{UPDATE_VARIABLE}=1 cargo test golden`, \
         review `git diff {GOLDEN_DIR}` and commit it with the change.",
        problems.join("\n")
    );
}

#[test]
fn golden_mismatches_point_at_the_first_differing_line() {
    assert_eq!(
        first_difference("{\n  \"a\": 1\n}\n", "{\n  \"a\": 2\n}"),
        "first difference at line 2:\n      committed:   \"a\": 1\n      current:     \"a\": 2"
    );
    assert!(first_difference("x\n", "x\ny").contains("committed: (end of file)"));
}
