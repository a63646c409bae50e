//! Protocol revisions this server speaks, and how a request's revision is chosen.

/// Revisions with the initialize handshake, newest first.
pub const SUPPORTED: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// Stateless revisions: no initialize, version and capabilities in every request's `_meta`.
pub const STATELESS: [&str; 1] = ["2026-07-28"];
/// The newest revision; offered when a client asks for one we do not know.
pub const LATEST: &str = SUPPORTED[0];
/// What a Streamable HTTP request without an MCP-Protocol-Version header is taken to use.
pub const ASSUMED_WITHOUT_HEADER: &str = "2025-03-26";

pub fn is_supported(version: &str) -> bool {
    SUPPORTED.contains(&version)
}

pub fn is_stateless(version: &str) -> bool {
    STATELESS.contains(&version)
}

/// Every revision a client may use with this server, stateless first, newest first.
pub fn all() -> impl Iterator<Item = &'static str> {
    STATELESS.into_iter().chain(SUPPORTED)
}

/// The version to answer `initialize` with: the client's if we support it, else our latest.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|v| SUPPORTED.iter().find(|s| **s == v).copied())
        .unwrap_or(LATEST)
}

/// What the legacy HTTP+SSE transport's requests are taken to use when they name no version:
/// that transport is the 2024-11-05 one.
pub const ASSUMED_ON_LEGACY_SSE: &str = "2024-11-05";

/// `title` on resources, templates and tools appeared in 2025-06-18 (the stateless revision keeps it).
pub fn has_titles(version: &str) -> bool {
    version >= "2025-06-18"
}

/// Tasks were core in 2025-11-25 only (`params.task`, `tasks/*`); 2026-07-28 moved them to the
/// `io.modelcontextprotocol/tasks` extension.
pub fn has_core_tasks(version: &str) -> bool {
    version == "2025-11-25"
}

/// JSON-RPC batches were part of 2025-03-26 (and allowed before); 2025-06-18 removed them.
pub fn allows_batches(version: &str) -> bool {
    version <= "2025-03-26"
}

/// The optional fields of `Tool` that only some revisions define, with those revisions (the
/// wire-contract tests check this table against each revision's official schema).
pub const TOOL_FIELDS_BY_REVISION: [(&str, &[&str]); 3] = [
    ("_meta", &["2025-06-18", "2025-11-25", "2026-07-28"]),
    ("icons", &["2025-11-25", "2026-07-28"]),
    ("execution", &["2025-11-25"]),
];

/// Whether `version`'s `Tool` has the optional `field` (`_meta`, `icons`, `execution`).
pub fn tool_has(version: &str, field: &str) -> bool {
    TOOL_FIELDS_BY_REVISION
        .iter()
        .any(|(name, revisions)| *name == field && revisions.contains(&version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_echoes_supported_versions_and_offers_latest_otherwise() {
        for version in SUPPORTED {
            assert_eq!(negotiate(Some(version)), version);
        }
        assert_eq!(negotiate(Some("1999-01-01")), LATEST);
        assert_eq!(negotiate(None), LATEST);
    }

    #[test]
    fn all_lists_every_revision_once_newest_first() {
        let all: Vec<&str> = all().collect();
        assert!(all.windows(2).all(|pair| pair[0] > pair[1]), "{all:?}");
        for version in &all {
            assert!(is_supported(version) != is_stateless(version), "{version}");
        }
        assert_eq!(all.len(), SUPPORTED.len() + STATELESS.len());
        assert!(all.contains(&ASSUMED_WITHOUT_HEADER) && all.contains(&ASSUMED_ON_LEGACY_SSE));
        // The handshake offers its newest revision; the stateless ones are newer still.
        assert_eq!(LATEST, *all.iter().find(|v| is_supported(v)).unwrap());
        assert_eq!(all.iter().take_while(|v| is_stateless(v)).count(), STATELESS.len());
    }

    #[test]
    fn titles_from_2025_06_18_on() {
        assert!(!has_titles("2024-11-05"));
        assert!(!has_titles("2025-03-26"));
        assert!(has_titles("2025-06-18"));
        assert!(has_titles("2025-11-25"));
        assert!(has_titles("2026-07-28"));
    }

    #[test]
    fn batches_only_up_to_2025_03_26() {
        assert!(allows_batches("2024-11-05"));
        assert!(allows_batches("2025-03-26"));
        assert!(!allows_batches("2025-06-18"));
        assert!(!allows_batches("2025-11-25"));
    }
}
