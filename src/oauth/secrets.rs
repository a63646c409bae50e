//! Secrets of the authorization server: random values from the runtime's CSPRNG, their SHA-256
//! hashes (the only form D1 keeps), and the PKCE S256 check (RFC 7636).

use sha2::{Digest, Sha256};

/// Random bytes in every token, code and client secret: 256 bits.
pub const SECRET_BYTES: usize = 32;

/// What a secret is, written as its prefix so a leaked one is recognisable (and scanners can
/// find it); the prefix also keeps an access token from passing for a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    AccessToken,
    RefreshToken,
    Code,
    ClientSecret,
}

impl SecretKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::AccessToken => "mcpat_",
            SecretKind::RefreshToken => "mcprt_",
            SecretKind::Code => "mcpac_",
            SecretKind::ClientSecret => "mcpcs_",
        }
    }
}

/// A fresh secret: the kind's prefix and 256 random bits, base64url without padding.
/// `getrandom` is `crypto.getRandomValues` in the Worker (its `wasm_js` backend).
pub fn new_secret(kind: SecretKind) -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("the runtime's CSPRNG is available");
    format!("{}{}", kind.prefix(), base64url(&bytes))
}

/// A random identifier for clients and grants (128 bits, hex): not a secret, but unguessable.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the runtime's CSPRNG is available");
    crate::access::hex(&bytes)
}

/// The SHA-256 hex of a secret: what D1 stores and looks up.
pub fn hash(secret: &str) -> String {
    crate::access::hex(&Sha256::digest(secret.as_bytes()))
}

/// Base64url without padding (RFC 4648 §5, as RFC 7636 uses it): the standard encoding with the
/// two URL-unsafe symbols swapped and the padding dropped.
pub fn base64url(bytes: &[u8]) -> String {
    crate::media::base64_encode(bytes)
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect()
}

/// Whether `verifier` is a PKCE code verifier (43 to 128 unreserved characters, RFC 7636 §4.1).
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(is_unreserved)
}

/// Whether `challenge` has the shape of an S256 challenge (43 base64url characters).
pub fn valid_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// PKCE S256: `BASE64URL(SHA256(verifier)) == challenge`, compared in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    valid_verifier(verifier)
        && crate::access::constant_time_eq(
            base64url(&Sha256::digest(verifier.as_bytes())).as_bytes(),
            challenge.as_bytes(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn s256_challenges_verify() {
        // The pair computed independently (Python: urlsafe_b64encode(sha256(verifier))).
        let verifier = "dBjftJeZ4CVP-mJ92K9D_D3JVAtBPmaJ3ZtKYhYpW3A";
        let challenge = "IMKyfJXQOJ3xV7f67YVKGewH_z-NGgD4W2UpEJKhBzM";
        assert!(valid_s256_challenge(challenge));
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(&verifier.replace('d', "e"), challenge));
        assert!(!pkce_matches(challenge, challenge));
        assert!(!pkce_matches("short", challenge), "a verifier under 43 characters");
    }

    #[test]
    fn base64url_agrees_with_the_base64_crate() {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        for len in 0..70u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(97).wrapping_add(len)).collect();
            assert_eq!(base64url(&bytes), engine.encode(&bytes));
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn secrets_are_prefixed_random_and_256_bits() {
        let a = new_secret(SecretKind::AccessToken);
        let b = new_secret(SecretKind::AccessToken);
        assert_ne!(a, b);
        assert!(a.starts_with("mcpat_"));
        let encoded = &a["mcpat_".len()..];
        assert_eq!(encoded.len(), 43, "32 bytes in base64url");
        assert!(new_secret(SecretKind::RefreshToken).starts_with("mcprt_"));
        assert_eq!(new_id().len(), 32);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
