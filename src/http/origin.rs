//! Origin validation against DNS rebinding: a browser page may only call us from an allowed origin.
//!
//! The server's own host is not trusted as an origin: under DNS rebinding the attacker's page
//! and the Host header share the attacker's name. Loopback origins (local tools such as the MCP
//! Inspector) and the configured list are allowed; requests without Origin are not from a page.

use crate::config::OriginPolicy;

pub fn origin_allowed(origin: Option<&str>, policy: &OriginPolicy) -> bool {
    let Some(origin) = origin.map(str::trim) else {
        return true;
    };
    if matches!(policy, OriginPolicy::Any) {
        return true;
    }
    let normalized = origin.trim_end_matches('/').to_ascii_lowercase();
    if is_loopback_origin(&normalized) {
        return true;
    }
    match policy {
        OriginPolicy::Any => true,
        OriginPolicy::List(allowed) => allowed.contains(&normalized),
    }
}

/// http(s)://localhost, 127.0.0.1 or [::1], with any port.
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = if rest.starts_with('[') {
        rest.split_inclusive(']').next().unwrap_or(rest)
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    let port_ok = match rest.strip_prefix(host) {
        Some("") => true,
        Some(port) => port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    };
    port_ok && matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(origins: &[&str]) -> OriginPolicy {
        OriginPolicy::List(origins.iter().map(|o| o.to_string()).collect())
    }

    #[test]
    fn requests_without_origin_are_allowed() {
        assert!(origin_allowed(None, &list(&[])));
    }

    #[test]
    fn loopback_origins_are_allowed_with_any_port() {
        for origin in [
            "http://localhost:6274",
            "http://127.0.0.1:8787",
            "http://[::1]:3000",
            "https://localhost",
        ] {
            assert!(origin_allowed(Some(origin), &list(&[])), "{origin}");
        }
    }

    #[test]
    fn foreign_and_lookalike_origins_are_refused() {
        for origin in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io:8787",
            "http://localhost:80@evil.example",
            "null",
            "file://",
        ] {
            assert!(!origin_allowed(Some(origin), &list(&[])), "{origin}");
        }
    }

    #[test]
    fn configured_origins_and_star_are_honoured() {
        let policy = list(&["https://app.example.com"]);
        assert!(origin_allowed(Some("https://app.example.com"), &policy));
        assert!(origin_allowed(Some("https://APP.example.com/"), &policy));
        assert!(!origin_allowed(Some("https://other.example.com"), &policy));
        assert!(origin_allowed(Some("https://anything.example"), &OriginPolicy::Any));
    }
}
