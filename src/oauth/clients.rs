//! Which client an authorization request comes from: one registered here (RFC 7591), or one
//! named by the URL of its Client ID Metadata Document, fetched at authorization time (the one
//! outbound fetch this server makes), size-capped, with a timeout, and cached in D1 for the
//! document's HTTP lifetime.
//! Spec: https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/

use futures::future::{select, Either};
use futures::StreamExt;

use super::requests::{self, ClientIdKind, ClientMetadata, OAuthError};
use super::store::{Client, OAuthStore};
use crate::http::body::LimitedBody;

/// Largest metadata document read (the draft suggests 5 KB is plenty; we allow more).
pub const DOCUMENT_MAX_BYTES: usize = 64 * 1024;
/// How long the document's server has to answer.
pub const DOCUMENT_TIMEOUT_MS: u64 = 5_000;
/// Longest a document is cached, whatever its Cache-Control says.
pub const DOCUMENT_CACHE_MAX_MS: i64 = 24 * 3_600_000;

/// How long a response may be cached, from its Cache-Control (`max-age`, capped at a day);
/// zero for `no-store`, `no-cache` or no `max-age`.
pub fn cache_lifetime_ms(cache_control: Option<&str>) -> i64 {
    let Some(header) = cache_control else {
        return 0;
    };
    let mut max_age = None;
    for directive in header.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return 0;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds.trim_matches('"').parse::<i64>().ok();
        }
    }
    max_age.map_or(0, |s| s.saturating_mul(1000).clamp(0, DOCUMENT_CACHE_MAX_MS))
}

/// The client `client_id` names, or the error to show (never redirected: the redirect URI is
/// not trusted until the client is known).
pub async fn resolve(
    store: &OAuthStore,
    client_id: &str,
    allow_loopback_http: bool,
    now: i64,
) -> Result<Client, OAuthError> {
    let unknown = || OAuthError::new("invalid_client", "unknown client: register it first");
    match requests::client_id_kind(client_id, allow_loopback_http) {
        ClientIdKind::Refused(why) => Err(OAuthError::new("invalid_client", why)),
        ClientIdKind::Registered => match store.client(client_id).await {
            Ok(Some(client)) if client.kind == "dcr" => Ok(client),
            Ok(_) => Err(unknown()),
            Err(error) => Err(server_error(error)),
        },
        ClientIdKind::MetadataDocument => {
            if let Ok(Some(client)) = store.client(client_id).await {
                if client.kind == "cimd" && client.expires_at.is_some_and(|at| at > now) {
                    return Ok(client);
                }
            }
            let (metadata, lifetime) = fetch_document(client_id).await?;
            let client = Client::from_document(client_id, &metadata, now + lifetime);
            store.cache_document(&client, now).await.map_err(server_error)?;
            Ok(client)
        }
    }
}

fn server_error(error: impl std::fmt::Display) -> OAuthError {
    worker::console_error!("oauth: {error}");
    OAuthError::new("server_error", "the client could not be looked up; try again")
}

/// Fetches and checks a metadata document: GET with a timeout, a 200 answer, at most
/// [`DOCUMENT_MAX_BYTES`], then [`requests::metadata_document`].
async fn fetch_document(url: &str) -> Result<(ClientMetadata, i64), OAuthError> {
    let refused = |why: String| OAuthError::new("invalid_client", format!("the client's metadata document {why}"));
    let controller = worker::AbortController::default();
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Get);
    let headers = worker::Headers::new();
    let _ = headers.set("Accept", "application/json");
    init.with_headers(headers);
    // Workers support only "follow" and "manual": a redirect answers 3xx, which is refused below.
    init.with_redirect(worker::RequestRedirect::Manual);
    let request = worker::Request::new_with_init(url, &init).map_err(|_| refused("URL is not fetchable".into()))?;
    let (fetcher, signal) = (worker::Fetch::Request(request), controller.signal());
    let fetch = Box::pin(fetcher.send_with_signal(&signal));
    let timeout = Box::pin(crate::time::sleep_ms(DOCUMENT_TIMEOUT_MS));
    let mut response = match select(fetch, timeout).await {
        Either::Left((Ok(response), _)) => response,
        Either::Left((Err(_), _)) => return Err(refused("could not be fetched".into())),
        Either::Right(((), _)) => {
            controller.abort();
            return Err(refused(format!(
                "did not arrive within {} s",
                DOCUMENT_TIMEOUT_MS / 1000
            )));
        }
    };
    if response.status_code() != 200 {
        return Err(refused(format!("answered HTTP {}", response.status_code())));
    }
    let declared = response.headers().get("Content-Length").ok().flatten();
    let too_large = || refused(format!("is larger than {DOCUMENT_MAX_BYTES} bytes"));
    let expected =
        crate::http::body::declared_length(declared.as_deref(), DOCUMENT_MAX_BYTES).map_err(|_| too_large())?;
    let lifetime = cache_lifetime_ms(response.headers().get("Cache-Control").ok().flatten().as_deref());
    let mut body = LimitedBody::new(DOCUMENT_MAX_BYTES, expected);
    let mut stream = response.stream().map_err(|_| refused("could not be read".into()))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| refused("could not be read".into()))?;
        body.push(&chunk).map_err(|_| too_large())?;
    }
    let metadata = requests::metadata_document(url, &body.into_bytes())?;
    Ok((metadata, lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_cached_for_their_max_age_up_to_a_day() {
        assert_eq!(cache_lifetime_ms(None), 0);
        assert_eq!(cache_lifetime_ms(Some("public, max-age=300")), 300_000);
        assert_eq!(cache_lifetime_ms(Some("max-age=300, no-store")), 0);
        assert_eq!(cache_lifetime_ms(Some("no-cache")), 0);
        assert_eq!(cache_lifetime_ms(Some("max-age=99999999999")), DOCUMENT_CACHE_MAX_MS);
        assert_eq!(cache_lifetime_ms(Some("max-age=-5")), 0);
        assert_eq!(cache_lifetime_ms(Some("max-age=soon")), 0);
    }
}
