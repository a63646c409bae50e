//! Where the golden `tools/list` files are and how they are named: one definition for the golden
//! test (`golden.rs`), which writes and checks them, and `build.rs`, which embeds them for the
//! server (it includes this file by path, so it uses nothing from the crate).

/// The directory of the golden files, relative to the package root.
pub const GOLDEN_DIR: &str = "tests/golden";

const PREFIX: &str = "tools-list-";
const SUFFIX: &str = ".json";

/// The golden file's name for `revision`.
pub fn file_name(revision: &str) -> String {
    format!("{PREFIX}{revision}{SUFFIX}")
}

/// The revision a golden file's name is for, or None when the name is not a golden file's.
pub fn revision_of(file_name: &str) -> Option<&str> {
    file_name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)
}
