//! Runtime configuration read from the worker's vars and secrets, parsed once per isolate and shared.

use std::rc::Rc;

use worker::Env;

use crate::access::{parse_api_keys, ApiKey};
use crate::catalog::{
    IntLimit, AI_TIMEOUT_SECONDS, DAILY_IMAGE_QUOTA_MAX, DAILY_NEURON_BUDGET_MAX, DEFAULT_WAIT_RESPONSE_LIMIT_SECONDS,
    RETENTION_DAYS,
};

/// Where images come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageBackend {
    /// Cloudflare Workers AI (production).
    WorkersAi,
    /// Offline preview: draws a PNG from the prompt, for local runs without a Cloudflare account.
    Preview,
}

impl ImageBackend {
    const ALL: [ImageBackend; 2] = [ImageBackend::WorkersAi, ImageBackend::Preview];

    pub fn name(self) -> &'static str {
        match self {
            ImageBackend::WorkersAi => "workers-ai",
            ImageBackend::Preview => "preview",
        }
    }
}

/// Which browser origins may call /mcp and /sse (DNS-rebinding protection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPolicy {
    Any,
    /// The server's own origin and loopback origins are always allowed; these are extra.
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// None when unset or empty: the server then refuses every MCP request.
    pub auth_token: Option<String>,
    pub image_backend: ImageBackend,
    /// Without a trailing slash; None means the worker serves images itself.
    pub public_image_base_url: Option<String>,
    pub wait_response_limit_seconds: u64,
    pub allowed_origins: OriginPolicy,
    /// Named keys besides the administrator's token (`API_KEYS`); empty means one token for all.
    pub api_keys: Vec<ApiKey>,
    /// Images per key per UTC day; None (unset or 0) means unlimited. The administrator has none.
    pub daily_image_quota: Option<u32>,
    /// Estimated neurons per key per UTC day (`DAILY_NEURON_BUDGET`); None (unset or 0) means no
    /// budget. The administrator has none.
    pub daily_neuron_budget: Option<f64>,
    /// Longest one Workers AI call may take (`AI_TIMEOUT_SECONDS`).
    pub ai_timeout_seconds: u64,
    /// Finished jobs older than this many days are deleted by the sweeper; None keeps them.
    pub retention_days: Option<u64>,
    /// Tests only (`OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS=true`): accept `http://` Client ID
    /// Metadata Document URLs on loopback hosts. Off by default; production needs https.
    pub oauth_allow_http_loopback_client_ids: bool,
}

/// A configuration value that cannot be used; reported instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// The configuration, read from the environment once per isolate. Vars and secrets are fixed
    /// for the life of an isolate (a change deploys a new version, which starts new isolates), so
    /// parsing them, `API_KEYS` included, on every request was pure overhead.
    /// Shared, not copied: a request holds the isolate's one copy (`API_KEYS` can name many keys).
    pub fn from_env(env: &Env) -> Result<Rc<Config>, ConfigError> {
        thread_local! {
            static CACHED: std::cell::OnceCell<Result<Rc<Config>, ConfigError>> = const { std::cell::OnceCell::new() };
        }
        CACHED.with(|cached| {
            cached
                .get_or_init(|| crate::promise::cold_call(Config::read, env))
                .clone()
        })
    }

    /// The isolate's one read of the vars, called through [`crate::promise::cold_call`]: inlined,
    /// it made [`Config::from_env`] a 9.8 KB function that V8 compiled on every isolate's first
    /// request only to return the cached copy (bench/README.md, "thirty-first pass").
    fn read(env: &Env) -> Result<Rc<Config>, ConfigError> {
        Config::parse(|name| env.var(name).ok().map(|value| value.to_string())).map(Rc::new)
    }

    /// Parses configuration from a lookup, so the rules are testable without a worker.
    pub fn parse(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let image_backend = match get("IMAGE_BACKEND") {
            None => ImageBackend::WorkersAi,
            Some(name) => ImageBackend::ALL
                .into_iter()
                .find(|backend| backend.name() == name)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "IMAGE_BACKEND must be \"workers-ai\" or \"preview\", not {name:?}"
                    ))
                })?,
        };
        let public_image_base_url = match get("PUBLIC_IMAGE_BASE_URL") {
            None => None,
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Some(url.trim_end_matches('/').to_string())
            }
            Some(url) => {
                return Err(ConfigError(format!(
                    "PUBLIC_IMAGE_BASE_URL must be an absolute http(s) URL, not {url:?}"
                )))
            }
        };
        let wait_response_limit_seconds = match get("WAIT_RESPONSE_LIMIT_SECONDS") {
            None => DEFAULT_WAIT_RESPONSE_LIMIT_SECONDS,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=900).contains(s))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "WAIT_RESPONSE_LIMIT_SECONDS must be a whole number from 1 to 900, not {text:?}"
                    ))
                })?,
        };
        let allowed_origins = match get("ALLOWED_ORIGINS").as_deref() {
            Some("*") => OriginPolicy::Any,
            None => OriginPolicy::List(Vec::new()),
            Some(list) => OriginPolicy::List(
                list.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|o| !o.is_empty())
                    .collect(),
            ),
        };
        let auth_token = get("AUTH_TOKEN");
        let api_keys = match get("API_KEYS") {
            None => Vec::new(),
            Some(text) => parse_api_keys(&text, auth_token.as_deref()).map_err(ConfigError)?,
        };
        let daily_image_quota = match get("DAILY_IMAGE_QUOTA") {
            None => None,
            Some(text) => match text.parse::<u32>() {
                Ok(0) => None,
                Ok(quota) if quota <= DAILY_IMAGE_QUOTA_MAX => Some(quota),
                _ => {
                    return Err(ConfigError(format!(
                        "DAILY_IMAGE_QUOTA must be a whole number from 0 (unlimited) to {DAILY_IMAGE_QUOTA_MAX}, not {text:?}"
                    )))
                }
            },
        };
        let daily_neuron_budget = match get("DAILY_NEURON_BUDGET") {
            None => None,
            Some(text) => match text.parse::<f64>() {
                Ok(0.0) => None,
                Ok(budget) if budget > 0.0 && budget <= DAILY_NEURON_BUDGET_MAX => Some(budget),
                _ => {
                    return Err(ConfigError(format!(
                        "DAILY_NEURON_BUDGET must be a number of neurons from 0 (no budget) to {DAILY_NEURON_BUDGET_MAX}, not {:?}",
                        crate::catalog::echo(&text)
                    )))
                }
            },
        };
        let whole_number = |name: &str, limit: IntLimit| -> Result<Option<u64>, ConfigError> {
            let Some(text) = get(name) else {
                return Ok(None);
            };
            let max = limit.max.unwrap_or(i64::MAX);
            text.parse::<i64>()
                .ok()
                .filter(|n| (limit.min..=max).contains(n))
                .map(|n| Some(n as u64))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "{name} must be a whole number from {}, not {:?}",
                        limit.range_text().replace('-', " to "),
                        crate::catalog::echo(&text)
                    ))
                })
        };
        let ai_timeout_seconds =
            whole_number("AI_TIMEOUT_SECONDS", AI_TIMEOUT_SECONDS)?.unwrap_or(AI_TIMEOUT_SECONDS.default as u64);
        let retention_days = whole_number("RETENTION_DAYS", RETENTION_DAYS)?;
        let oauth_allow_http_loopback_client_ids = match get("OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError(format!(
                    "OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS must be true or false, not {:?}",
                    crate::catalog::echo(other)
                )))
            }
        };
        Ok(Config {
            auth_token,
            api_keys,
            daily_image_quota,
            daily_neuron_budget,
            image_backend,
            public_image_base_url,
            wait_response_limit_seconds,
            allowed_origins,
            ai_timeout_seconds,
            retention_days,
            oauth_allow_http_loopback_client_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::parse(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_workers_ai_no_public_base_and_fifty_second_waits() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.image_backend, ImageBackend::WorkersAi);
        assert_eq!(config.public_image_base_url, None);
        assert_eq!(config.wait_response_limit_seconds, 50);
        assert_eq!(config.auth_token, None);
        assert_eq!(config.allowed_origins, OriginPolicy::List(vec![]));
        assert!(
            !config.oauth_allow_http_loopback_client_ids,
            "off unless a test turns it on"
        );
        assert!(
            parse(&[("OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS", "true")])
                .unwrap()
                .oauth_allow_http_loopback_client_ids
        );
        assert!(parse(&[("OAUTH_ALLOW_HTTP_LOOPBACK_CLIENT_IDS", "yes")]).is_err());
    }

    #[test]
    fn empty_or_blank_auth_token_counts_as_unset() {
        assert_eq!(parse(&[("AUTH_TOKEN", "  ")]).unwrap().auth_token, None);
        assert_eq!(
            parse(&[("AUTH_TOKEN", "s3cret")]).unwrap().auth_token.as_deref(),
            Some("s3cret")
        );
    }

    #[test]
    fn public_base_url_loses_trailing_slash_and_must_be_absolute() {
        let config = parse(&[("PUBLIC_IMAGE_BASE_URL", "https://img.example.com/")]).unwrap();
        assert_eq!(config.public_image_base_url.as_deref(), Some("https://img.example.com"));
        assert!(parse(&[("PUBLIC_IMAGE_BASE_URL", "img.example.com")]).is_err());
    }

    #[test]
    fn unknown_backend_and_bad_wait_limit_are_rejected() {
        assert!(parse(&[("IMAGE_BACKEND", "dalle")]).is_err());
        assert_eq!(
            parse(&[("IMAGE_BACKEND", "preview")]).unwrap().image_backend,
            ImageBackend::Preview
        );
        assert!(parse(&[("WAIT_RESPONSE_LIMIT_SECONDS", "0")]).is_err());
        assert!(parse(&[("WAIT_RESPONSE_LIMIT_SECONDS", "soon")]).is_err());
        assert_eq!(
            parse(&[("WAIT_RESPONSE_LIMIT_SECONDS", "5")])
                .unwrap()
                .wait_response_limit_seconds,
            5
        );
    }

    #[test]
    fn ai_timeout_and_retention_default_to_two_minutes_and_off_and_are_checked() {
        let config = parse(&[("RETENTION_DAYS", " ")]).unwrap();
        assert_eq!((config.ai_timeout_seconds, config.retention_days), (120, None));
        let set = parse(&[("AI_TIMEOUT_SECONDS", "2"), ("RETENTION_DAYS", "30")]).unwrap();
        assert_eq!((set.ai_timeout_seconds, set.retention_days), (2, Some(30)));
        for (name, bad) in [
            ("AI_TIMEOUT_SECONDS", "0"),
            ("AI_TIMEOUT_SECONDS", "901"),
            ("RETENTION_DAYS", "0"),
            ("RETENTION_DAYS", "-1"),
            ("RETENTION_DAYS", "a week"),
        ] {
            let error = parse(&[(name, bad)]).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(bad), "{error}");
        }
    }

    #[test]
    fn allowed_origins_parse_star_and_lists() {
        assert_eq!(
            parse(&[("ALLOWED_ORIGINS", "*")]).unwrap().allowed_origins,
            OriginPolicy::Any
        );
        assert_eq!(
            parse(&[("ALLOWED_ORIGINS", "https://A.example/, https://b.example")])
                .unwrap()
                .allowed_origins,
            OriginPolicy::List(vec!["https://a.example".into(), "https://b.example".into()])
        );
    }

    #[test]
    fn api_keys_and_quota_parse_or_fail_without_echoing_tokens() {
        let config = parse(&[
            ("AUTH_TOKEN", "root"),
            ("API_KEYS", "alice:alice-token-0123456789,bob:bob-token-0123456789"),
            ("DAILY_IMAGE_QUOTA", "25"),
        ])
        .unwrap();
        let names: Vec<&str> = config.api_keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(config.daily_image_quota, Some(25));
        assert_eq!(parse(&[]).unwrap().api_keys, vec![]);
        assert_eq!(parse(&[("DAILY_IMAGE_QUOTA", "0")]).unwrap().daily_image_quota, None);
        assert!(parse(&[("DAILY_IMAGE_QUOTA", "-1")]).is_err());
        assert!(parse(&[("DAILY_IMAGE_QUOTA", "lots")]).is_err());
        let error = parse(&[("API_KEYS", "alice:tiny-secret")]).unwrap_err().to_string();
        assert!(
            error.contains("at least 16") && !error.contains("tiny-secret"),
            "{error}"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("alice-token"), "{debug}");
    }

    #[test]
    fn the_neuron_budget_is_a_positive_number_or_none() {
        assert_eq!(parse(&[]).unwrap().daily_neuron_budget, None);
        assert_eq!(
            parse(&[("DAILY_NEURON_BUDGET", "0")]).unwrap().daily_neuron_budget,
            None
        );
        assert_eq!(
            parse(&[("DAILY_NEURON_BUDGET", "10000")]).unwrap().daily_neuron_budget,
            Some(10_000.0)
        );
        assert_eq!(
            parse(&[("DAILY_NEURON_BUDGET", "57.6")]).unwrap().daily_neuron_budget,
            Some(57.6)
        );
        for bad in ["-1", "NaN", "inf", "1e12", "lots"] {
            let error = parse(&[("DAILY_NEURON_BUDGET", bad)]).unwrap_err().to_string();
            assert!(error.contains("DAILY_NEURON_BUDGET"), "{bad}: {error}");
        }
    }
}
