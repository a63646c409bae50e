//! Property tests (proptest) of what clients send the authorization server: authorize and
//! token requests, registration bodies and Client ID Metadata Documents. Arbitrary input never
//! panics; whatever is accepted keeps every rule (PKCE S256 shape, known non-empty scopes, our
//! own resource, valid redirect URIs, the document's own URL, the size limits). 60,000 cases in
//! all; `FUZZ_SCALE=10 cargo test oauth::proptests` multiplies them.

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Value};

use super::requests::{
    self, authorize_request, metadata_document, redirect_uri_matches, registration, token_request, valid_redirect_uri,
    TokenRequest, CLIENT_NAME_MAX_CHARS, PARAM_MAX_CHARS, REDIRECT_URIS_MAX,
};
use crate::access::Scopes;

const ORIGIN: &str = "https://img.example.com";

fn config(cases: u32) -> ProptestConfig {
    let scale = std::env::var("FUZZ_SCALE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(1.0);
    ProptestConfig {
        cases: (f64::from(cases) * scale).max(1.0) as u32,
        ..ProptestConfig::default()
    }
}

/// Values a client may send: plausible ones, near misses, and arbitrary text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("code".to_string()),
        Just("S256".to_string()),
        Just("plain".to_string()),
        Just("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_string()),
        Just("images:read images:write".to_string()),
        Just("openid images:write".to_string()),
        Just(ORIGIN.to_string()),
        Just(format!("{ORIGIN}/mcp/")),
        Just("https://other.example/mcp".to_string()),
        Just("http://127.0.0.1:9/cb".to_string()),
        Just("authorization_code".to_string()),
        Just("refresh_token".to_string()),
        Just(String::new()),
        "[ -~]{0,60}",
        any::<String>(),
        ("[a-zA-Z0-9_-]{0,3}", 0usize..3000).prop_map(|(piece, n)| piece.repeat(n)),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("response_type"),
        Just("client_id"),
        Just("redirect_uri"),
        Just("state"),
        Just("scope"),
        Just("code_challenge"),
        Just("code_challenge_method"),
        Just("resource"),
        Just("grant_type"),
        Just("code"),
        Just("code_verifier"),
        Just("refresh_token"),
        Just("other"),
    ]
    .prop_map(String::from)
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((name(), value()), 0..14)
}

/// JSON a registration body or metadata document may hold: the fields we read with values of
/// every type, valid or not.
fn client_json() -> impl Strategy<Value = Value> {
    let uri = prop_oneof![
        Just(json!("https://claude.ai/api/mcp/auth_callback")),
        Just(json!("http://127.0.0.1:6274/cb")),
        Just(json!("http://evil.example/cb")),
        Just(json!("javascript:alert(1)")),
        Just(json!("com.example.app:/cb")),
        Just(json!("https://a.example/cb#x")),
        Just(json!(5)),
        "[ -~]{0,40}".prop_map(Value::from),
    ];
    let field = prop_oneof![
        proptest::collection::vec(uri, 0..13).prop_map(|uris| ("redirect_uris", Value::Array(uris))),
        any::<String>().prop_map(|s| ("client_name", Value::from(s))),
        prop_oneof![
            Just("none"),
            Just("client_secret_post"),
            Just("client_secret_basic"),
            Just("private_key_jwt")
        ]
        .prop_map(|m| ("token_endpoint_auth_method", Value::from(m))),
        prop_oneof![
            Just(json!(["authorization_code"])),
            Just(json!(["implicit"])),
            Just(json!("code"))
        ]
        .prop_map(|g| ("grant_types", g)),
        prop_oneof![Just(json!(["code"])), Just(json!(["token"]))].prop_map(|r| ("response_types", r)),
        prop_oneof![
            Just(json!("https://app.example/c.json")),
            Just(json!("https://app.example/other.json")),
            Just(json!(null))
        ]
        .prop_map(|c| ("client_id", c)),
        Just(("client_secret", json!("s"))),
    ];
    proptest::collection::vec(field, 0..8)
        .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn check_metadata(metadata: &requests::ClientMetadata) {
    assert!(!metadata.redirect_uris.is_empty() && metadata.redirect_uris.len() <= REDIRECT_URIS_MAX);
    for uri in &metadata.redirect_uris {
        assert!(valid_redirect_uri(uri), "{uri}");
        assert!(!uri.contains('#') && uri.len() <= PARAM_MAX_CHARS);
        assert!(redirect_uri_matches(uri, uri));
    }
    assert!(metadata.client_name.chars().count() <= CLIENT_NAME_MAX_CHARS);
    assert!(!metadata.client_name.chars().any(char::is_control));
}

/// URL-like strings near every rule: schemes, user info, loopback and other hosts, ports,
/// paths, queries, fragments and stray spaces.
fn url_like() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("https"),
            Just("http"),
            Just("HTTP"),
            Just("javascript"),
            Just("com.example.app"),
            Just("ftp")
        ],
        prop_oneof![Just("://"), Just(":/"), Just(":")],
        prop_oneof![Just(""), Just("user@"), Just("a:b@")],
        prop_oneof![
            Just("a.example"),
            Just("127.0.0.1"),
            Just("127.1.2.3"),
            Just("localhost"),
            Just("[::1]"),
            Just("evil.com"),
            Just("")
        ],
        prop_oneof![Just(""), Just(":8080"), Just(":1")],
        "(/[a-z%.]{0,5}){0,3}",
        prop_oneof![Just(""), Just("?x=1"), Just("#f"), Just(" "), Just("\\")],
    )
        .prop_map(|(scheme, sep, user, host, port, path, tail)| format!("{scheme}{sep}{user}{host}{port}{path}{tail}"))
}

/// A loopback host as the `url` crate reports it.
fn url_crate_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    /// Differential: what the hand-written URL rules accept, the `url` crate (a dev-dependency)
    /// parses the same way: no user info or fragment, https with a host, http only on loopback,
    /// and loopback matches only across ports of the same host, path and query.
    #[test]
    fn url_rules_agree_with_the_url_crate(a in url_like(), b in url_like()) {
        if valid_redirect_uri(&a) && a.to_ascii_lowercase().starts_with("http") {
            let parsed = url::Url::parse(&a).unwrap();
            prop_assert!(parsed.fragment().is_none() && parsed.username().is_empty() && parsed.password().is_none());
            match parsed.scheme() {
                "https" => prop_assert!(parsed.host_str().is_some_and(|h| !h.is_empty())),
                "http" => prop_assert!(url_crate_loopback(&parsed), "{}", a),
                other => prop_assert!(false, "scheme {}", other),
            }
        }
        if a != b && redirect_uri_matches(&a, &b) {
            let (x, y) = (url::Url::parse(&a).unwrap(), url::Url::parse(&b).unwrap());
            prop_assert_eq!(x.scheme(), "http");
            prop_assert!(url_crate_loopback(&x));
            prop_assert_eq!((x.host(), x.path(), x.query()), (y.host(), y.path(), y.query()));
        }
        if let requests::ClientIdKind::MetadataDocument = requests::client_id_kind(&a, false) {
            let parsed = url::Url::parse(&a).unwrap();
            prop_assert_eq!(parsed.scheme(), "https");
            prop_assert!(parsed.path() != "/" && parsed.fragment().is_none() && parsed.username().is_empty());
        }
    }

    #[test]
    fn authorize_requests_never_panic_and_accept_only_valid_ones(pairs in pairs()) {
        if let Ok(request) = authorize_request(&pairs, ORIGIN) {
            let count = |n: &str| pairs.iter().filter(|(name, _)| name == n).count();
            prop_assert_eq!(count("response_type"), 1);
            prop_assert_eq!(pairs.iter().find(|(n, _)| n == "code_challenge_method").map(|(_, v)| v.as_str()), Some("S256"));
            prop_assert!(super::secrets::valid_s256_challenge(&request.code_challenge));
            prop_assert!(!request.scopes.is_empty());
            prop_assert!(super::resource_identifiers(ORIGIN).contains(&request.resource));
            prop_assert!(!request.target.client_id.is_empty() && request.target.client_id.chars().count() <= PARAM_MAX_CHARS);
            prop_assert!(!request.target.redirect_uri.is_empty());
            prop_assert!(request.target.state.as_ref().is_none_or(|s| s.chars().count() <= PARAM_MAX_CHARS));
        }
    }

    #[test]
    fn token_requests_never_panic_and_carry_their_required_fields(pairs in pairs()) {
        match token_request(&pairs) {
            Ok(TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier, .. }) => {
                prop_assert!(!code.is_empty() && !redirect_uri.is_empty() && !code_verifier.is_empty());
            }
            Ok(TokenRequest::RefreshToken { refresh_token, scope, .. }) => {
                prop_assert!(!refresh_token.is_empty());
                prop_assert!(scope.is_none_or(|s| Scopes::ALL.iter().count() >= s.iter().count()));
            }
            Err(error) => prop_assert!(!error.description.is_empty() && error.description.len() < 200),
        }
    }

    #[test]
    fn registration_bodies_never_panic_and_accepted_ones_are_valid(body in client_json(), raw in any::<String>()) {
        if let Ok(metadata) = registration(&body.to_string()) {
            check_metadata(&metadata);
        }
        let looks_like_object = raw.trim_start().starts_with('{');
        prop_assert!(registration(&raw).is_err() || looks_like_object);
    }

    #[test]
    fn metadata_documents_are_accepted_only_for_their_own_url(body in client_json(), raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let url = "https://app.example/c.json";
        if let Ok(metadata) = metadata_document(url, body.to_string().as_bytes()) {
            check_metadata(&metadata);
            prop_assert_eq!(body["client_id"].as_str(), Some(url));
            prop_assert!(body.get("client_secret").is_none());
            prop_assert_eq!(metadata.auth_method, requests::AuthMethod::None);
        }
        let looks_like_object = raw.first() == Some(&b'{');
        prop_assert!(metadata_document(url, &raw).is_err() || looks_like_object);
    }

    #[test]
    fn loopback_redirects_match_on_every_port_and_nothing_else_changes(port in 1u16.., other in 1u16.., path in "/[a-z]{0,8}") {
        let registered = format!("http://127.0.0.1:{port}{path}");
        let elsewhere = format!("http://127.0.0.1:{other}{path}");
        let longer = format!("{elsewhere}x");
        let other_host = format!("http://127.0.0.2:{other}{path}");
        prop_assert!(redirect_uri_matches(&registered, &elsewhere));
        prop_assert!(!redirect_uri_matches(&registered, &longer));
        prop_assert!(!redirect_uri_matches(&registered, &other_host));
        let https = format!("https://a.example:{port}{path}");
        let https_other = format!("https://a.example:{other}{path}");
        prop_assert_eq!(redirect_uri_matches(&https, &https_other), port == other);
    }
}
