//! Who is calling: the administrator (`AUTH_TOKEN`) or a named key from `API_KEYS`, and what
//! each may see. Jobs record their owner's name; a key sees only its own, the administrator all.

/// The name the administrator's jobs, logs and gallery session go under. No key may take it.
pub const ADMIN_NAME: &str = "admin";
/// Key names go into logs, cookies and D1, so they keep to a small alphabet.
const KEY_NAME_MAX_CHARS: usize = 32;
/// Shorter tokens are guessable; refusing them at configuration time protects the whole team.
pub const KEY_TOKEN_MIN_CHARS: usize = 16;

/// One entry of `API_KEYS` (`name:token`).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    token: String,
}

// Hand-written so a configuration dump or a debug log can never print a token.
impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.name)
    }
}

/// Whose request this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Key(String),
}

impl Caller {
    /// The name logs, job rows and usage counters use.
    pub fn name(&self) -> &str {
        match self {
            Caller::Admin => ADMIN_NAME,
            Caller::Key(name) => name,
        }
    }

    /// The owner every query must match, or None for the administrator, who sees everything.
    pub fn visible_owner(&self) -> Option<&str> {
        match self {
            Caller::Admin => None,
            Caller::Key(name) => Some(name),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin)
    }

    /// What an SSE session row records as its owner for a static token: `admin` or `key:<name>`.
    /// The prefix keeps the kinds apart (a key can never pass for the administrator or for an
    /// OAuth grant's `grant:<id>`, see [`Principal::session_owner`]), and only the caller with
    /// exactly this owner may post into the session.
    pub fn session_owner(&self) -> String {
        match self {
            Caller::Admin => ADMIN_NAME.to_string(),
            Caller::Key(name) => format!("key:{name}"),
        }
    }
}

/// Which authorization a call needs: reading what exists, or starting, changing, cancelling or
/// deleting work. The one list of OAuth scopes: metadata, challenges, the consent page and the
/// docs all read it from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::Write];

    /// The OAuth scope name (RFC 6749 `scope-token`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "images:read",
            Scope::Write => "images:write",
        }
    }

    /// What the scope allows, in the words the consent page and the docs use.
    pub fn description(self) -> &'static str {
        match self {
            Scope::Read => "See your image jobs, images, models and usage",
            Scope::Write => "Generate, edit, cancel and delete images as you (counts against your quota)",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.name() == name)
    }
}

/// A set of scopes (what a token was granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub const ALL: Scopes = Scopes(0b11);
    #[cfg(test)]
    pub const NONE: Scopes = Scopes(0);

    fn bit(scope: Scope) -> u8 {
        match scope {
            Scope::Read => 1,
            Scope::Write => 2,
        }
    }

    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, scope| bits | Scopes::bit(*scope)))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & Scopes::bit(scope) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes named in a space-separated `scope` value; names we do not know are dropped.
    pub fn parse_known(text: &str) -> Scopes {
        let named: Vec<Scope> = text.split(' ').filter_map(Scope::from_name).collect();
        Scopes::of(&named)
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |scope| self.contains(*scope))
    }

    /// The space-separated `scope` value (RFC 6749 §3.3), in [`Scope::ALL`] order.
    pub fn to_text(self) -> String {
        self.iter().map(Scope::name).collect::<Vec<_>>().join(" ")
    }
}

/// The OAuth grant a request came through, when it came with an OAuth access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRef {
    pub id: String,
    pub client_name: String,
}

/// An authenticated request: the caller it acts as, the scopes it holds, and the OAuth grant
/// it came through (None for a static token or API key, which hold every scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub caller: Caller,
    pub scopes: Scopes,
    pub grant: Option<GrantRef>,
}

impl Principal {
    /// A static bearer token or API key: every scope, no grant.
    pub fn token(caller: Caller) -> Principal {
        Principal {
            caller,
            scopes: Scopes::ALL,
            grant: None,
        }
    }

    /// What an SSE session records as its owner: the caller's ([`Caller::session_owner`]) for a
    /// static token, or `grant:<id>` for an OAuth grant, whose access tokens rotate while the
    /// grant stays. A grant never shares sessions with its own key's static token.
    pub fn session_owner(&self) -> String {
        match &self.grant {
            Some(grant) => format!("grant:{}", grant.id),
            None => self.caller.session_owner(),
        }
    }

    /// Who is calling, for logs: `key alice` or `key alice via <client name>`.
    pub fn describe(&self) -> String {
        let who = match &self.caller {
            Caller::Admin => ADMIN_NAME.to_string(),
            Caller::Key(name) => format!("key {name}"),
        };
        match &self.grant {
            Some(grant) => format!("{who} via {}", grant.client_name),
            None => who,
        }
    }
}

pub fn valid_key_name(name: &str) -> bool {
    (1..=KEY_NAME_MAX_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Parses `API_KEYS`: comma-separated `name:token` pairs. Errors name the entry by position or
/// name, never by token. No key may reuse another's token or the administrator's.
pub fn parse_api_keys(text: &str, admin_token: Option<&str>) -> Result<Vec<ApiKey>, String> {
    let mut keys: Vec<ApiKey> = Vec::new();
    for (index, entry) in text.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        let position = index + 1;
        let Some((name, token)) = entry.split_once(':') else {
            return Err(format!("API_KEYS entry {position} is not `name:token`"));
        };
        let (name, token) = (name.trim(), token.trim());
        if !valid_key_name(name) {
            return Err(format!(
                "API_KEYS entry {position}: a key name is 1 to {KEY_NAME_MAX_CHARS} characters of a-z, 0-9, '-' and '_'"
            ));
        }
        if name == ADMIN_NAME {
            return Err(format!(
                "API_KEYS entry {position}: the name \"{ADMIN_NAME}\" is the administrator's (AUTH_TOKEN)"
            ));
        }
        if token.chars().count() < KEY_TOKEN_MIN_CHARS {
            return Err(format!(
                "API_KEYS key \"{name}\": its token must have at least {KEY_TOKEN_MIN_CHARS} characters"
            ));
        }
        if keys.iter().any(|key| key.name == name) {
            return Err(format!("API_KEYS names the key \"{name}\" twice"));
        }
        if keys.iter().any(|key| key.token == token) || admin_token == Some(token) {
            return Err(format!("API_KEYS key \"{name}\" reuses another key's token"));
        }
        keys.push(ApiKey {
            name: name.to_string(),
            token: token.to_string(),
        });
    }
    Ok(keys)
}

/// The caller a presented token belongs to. Every configured token is compared, in constant
/// time, whatever matched earlier, so the answer's timing does not tell which key (if any) was
/// close. A key that reuses the administrator's token is refused at configuration time.
pub fn identify(token: &str, admin_token: &str, keys: &[ApiKey]) -> Option<Caller> {
    let mut found = None;
    if constant_time_eq(token.as_bytes(), admin_token.as_bytes()) {
        found = Some(Caller::Admin);
    }
    for key in keys {
        if constant_time_eq(token.as_bytes(), key.token.as_bytes()) && found.is_none() {
            found = Some(Caller::Key(key.name.clone()));
        }
    }
    found
}

/// What an OAuth grant records about the token that approved it: a SHA-256 of the token, so a
/// grant ends when its key's token (or AUTH_TOKEN, for the administrator) changes. None when
/// the subject is no longer configured (a removed key), which ends its grants too.
pub fn credential_fingerprint(subject: &str, admin_token: &str, keys: &[ApiKey]) -> Option<String> {
    let token = if subject == ADMIN_NAME {
        admin_token
    } else {
        keys.iter().find(|key| key.name == subject)?.token.as_str()
    };
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"mcp-image-generator oauth grant credential\n")
        .chain_update(token.as_bytes())
        .finalize();
    Some(hex(&digest))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The caller a gallery session's subject stands for, if that subject may still sign in: a key
/// removed from `API_KEYS` loses its sessions at once.
pub fn caller_for_subject(subject: &str, keys: &[ApiKey]) -> Option<Caller> {
    if subject == ADMIN_NAME {
        return Some(Caller::Admin);
    }
    keys.iter()
        .find(|key| key.name == subject)
        .map(|key| Caller::Key(key.name.clone()))
}

/// Compares without an early exit, so response time does not reveal how much of a guess matched.
/// (The length is not secret-dependent in a useful way: it only tells a guess is the wrong size.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        difference |= x ^ y;
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_matches_only_identical_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
        // 256 bytes longer must not wrap the length difference to zero.
        assert!(!constant_time_eq(&[0u8; 256], b""));
    }

    const ALICE: &str = "alice-token-0123456789";
    const BOB: &str = "bob-token-abcdefghijkl";

    fn keys() -> Vec<ApiKey> {
        parse_api_keys(&format!(" alice:{ALICE} , bob:{BOB},"), Some("root-token")).unwrap()
    }

    #[test]
    fn keys_parse_from_name_token_pairs() {
        let keys = keys();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].name, "alice");
        assert_eq!(keys[1].name, "bob");
        assert_eq!(parse_api_keys("", None).unwrap(), vec![]);
        assert_eq!(parse_api_keys(" , ", None).unwrap(), vec![]);
    }

    #[test]
    fn bad_entries_are_refused_without_echoing_tokens() {
        for (text, expected) in [
            ("alice", "entry 1 is not `name:token`"),
            ("Alice:0123456789abcdef", "a key name is"),
            (":0123456789abcdef", "a key name is"),
            ("a b:0123456789abcdef", "a key name is"),
            ("admin:0123456789abcdef", "administrator"),
            ("alice:short", "at least 16 characters"),
            ("alice:0123456789abcdef,alice:fedcba9876543210", "twice"),
            ("alice:0123456789abcdef,bob:0123456789abcdef", "reuses"),
            ("alice:0123456789abcdef0", "reuses"),
        ] {
            let error = parse_api_keys(text, Some("0123456789abcdef0")).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("0123456789abcdef"), "token echoed: {error}");
            assert!(!error.contains("short"), "token echoed: {error}");
        }
        assert_eq!(format!("{:?}", keys()[0]), "ApiKey(alice)");
    }

    #[test]
    fn session_owners_keep_callers_and_kinds_apart() {
        assert_eq!(Caller::Admin.session_owner(), "admin");
        assert_eq!(Caller::Key("alice".into()).session_owner(), "key:alice");
        assert_ne!(
            Caller::Key("alice".into()).session_owner(),
            Caller::Key("bob".into()).session_owner()
        );
    }

    #[test]
    fn scopes_have_one_name_each_and_unknown_names_are_dropped() {
        assert_eq!(Scopes::ALL.to_text(), "images:read images:write");
        assert_eq!(Scopes::parse_known("images:write  openid images:read"), Scopes::ALL);
        assert_eq!(Scopes::parse_known("profile"), Scopes::NONE);
        assert_eq!(Scopes::parse_known("images:read").to_text(), "images:read");
        assert!(!Scopes::parse_known("images:read").contains(Scope::Write));
        for scope in Scope::ALL {
            assert_eq!(Scope::from_name(scope.name()), Some(scope));
        }
    }

    #[test]
    fn principals_own_sessions_by_grant_and_describe_their_client() {
        let alice = Principal::token(Caller::Key("alice".into()));
        assert_eq!(alice.session_owner(), "key:alice");
        assert_eq!(alice.describe(), "key alice");
        let via = Principal {
            grant: Some(GrantRef {
                id: "g1".into(),
                client_name: "Claude".into(),
            }),
            ..alice.clone()
        };
        assert_eq!(via.session_owner(), "grant:g1");
        assert_eq!(via.describe(), "key alice via Claude");
        assert_ne!(via.session_owner(), alice.session_owner());
    }

    #[test]
    fn credentials_change_with_the_token_and_vanish_with_the_key() {
        let keys = keys();
        let alice = credential_fingerprint("alice", "root-token", &keys).unwrap();
        assert_eq!(alice.len(), 64);
        assert!(!alice.contains(ALICE));
        let changed = parse_api_keys("alice:alice-token-changed-99", None).unwrap();
        assert_ne!(credential_fingerprint("alice", "root-token", &changed).unwrap(), alice);
        assert_eq!(credential_fingerprint("carol", "root-token", &keys), None);
        assert_ne!(
            credential_fingerprint("admin", "root-token", &keys),
            credential_fingerprint("admin", "other-root", &keys)
        );
    }

    #[test]
    fn tokens_identify_their_caller() {
        let keys = keys();
        assert_eq!(identify("root-token", "root-token", &keys), Some(Caller::Admin));
        assert_eq!(identify(ALICE, "root-token", &keys), Some(Caller::Key("alice".into())));
        assert_eq!(identify(BOB, "root-token", &keys), Some(Caller::Key("bob".into())));
        assert_eq!(identify("nobody", "root-token", &keys), None);
        assert_eq!(identify(&ALICE[..ALICE.len() - 1], "root-token", &keys), None);
        assert_eq!(identify(ALICE, "root-token", &[]), None);
    }

    #[test]
    fn callers_see_their_own_jobs_and_the_administrator_sees_all() {
        assert_eq!(Caller::Admin.visible_owner(), None);
        assert_eq!(Caller::Admin.name(), "admin");
        let alice = Caller::Key("alice".into());
        assert_eq!(alice.visible_owner(), Some("alice"));
        assert_eq!(alice.name(), "alice");
        assert!(!alice.is_admin());
    }

    #[test]
    fn sessions_survive_only_while_their_key_is_configured() {
        let keys = keys();
        assert_eq!(caller_for_subject("admin", &keys), Some(Caller::Admin));
        assert_eq!(caller_for_subject("bob", &keys), Some(Caller::Key("bob".into())));
        assert_eq!(caller_for_subject("carol", &keys), None);
        assert_eq!(caller_for_subject("bob", &[]), None);
    }
}
