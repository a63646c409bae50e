//! get_usage: the caller's images today against its daily quota, when the quota resets, and
//! the request rate limit; the administrator also sees every key's images today.

use serde::Serialize;
use serde_json::Value;

use super::args::NoArgs;
use super::output::{json_text, result_schema, ToolOutput};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::access::Caller;
use crate::catalog::{RATE_LIMIT_PERIOD_SECONDS, RATE_LIMIT_REQUESTS};
use crate::icons;
use crate::jobs::Usage;
use crate::services::quota::{quota_for, quota_resets_at, utc_day};

pub const TOOL: ToolSpec = ToolSpec {
    name: "get_usage",
    title: "Get usage and limits",
    description: || {
        "Show how many images your key has started today (UTC), its daily image quota and what remains, when the \
         quota resets, and the request rate limit. With the administrator token, every key's images today."
            .to_string()
    },
    typed: Typed::of::<GetUsage>(),
    output_schema,
    scope: Scope::Read,
    hints: Hints::READ,
    reports_images: false,
    extras: Extras {
        icon: Some(icons::USAGE),
        ..Extras::NONE
    },
    #[cfg(test)]
    samples: sample_results,
};

fn output_schema() -> Value {
    result_schema(json_text(
        r#"{
        "key": {"type": "string", "description": "Your key's name (\"admin\" for the administrator token)."},
        "day": {"type": "string", "description": "The UTC day counted, YYYY-MM-DD."},
        "images_today": {"type": "integer", "description": "Images your generate calls started today, every image of a count > 1 call included."},
        "daily_image_quota": {"type": ["integer", "null"], "description": "Images allowed per UTC day; null means unlimited."},
        "images_remaining": {"type": ["integer", "null"], "description": "Images you can still start today; null means unlimited."},
        "resets_at": {"type": "string", "description": "When the day's count starts again (next UTC midnight)."},
        "rate_limit": {"type": "object", "properties": {
            "requests": {"type": "integer"},
            "period_seconds": {"type": "integer"}
        }, "description": "Requests per period for each key on /mcp and /sse, when the RATE_LIMITER binding is configured."},
        "keys": {"type": "array", "description": "Administrator only: every key's images today.", "items": {"type": "object", "properties": {
            "key": {"type": "string"},
            "images_today": {"type": "integer"}
        }}}
    }"#,
    ))
}

#[derive(Serialize)]
struct RateLimit {
    requests: u32,
    period_seconds: u32,
}

#[derive(Serialize)]
struct KeyUsage {
    key: String,
    images_today: i64,
}

#[derive(Serialize)]
struct UsageReport {
    success: bool,
    key: String,
    day: String,
    images_today: i64,
    daily_image_quota: Option<u32>,
    images_remaining: Option<i64>,
    resets_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<RateLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<KeyUsage>>,
}

/// The report for `caller` from the day's usage rows (every owner's for the administrator).
fn report(
    caller: &Caller,
    configured_quota: Option<u32>,
    key_names: &[&str],
    rows: &[Usage],
    rate_limited: bool,
    now: i64,
) -> UsageReport {
    let images_today = rows
        .iter()
        .find(|row| row.owner == caller.name())
        .map_or(0, |row| row.images);
    let quota = quota_for(caller, configured_quota);
    // Every owner with images today (the rows come sorted by name), then every configured key
    // that has none yet, with 0.
    let keys = caller.is_admin().then(|| {
        let counted = rows.iter().map(|row| KeyUsage {
            key: row.owner.clone(),
            images_today: row.images,
        });
        let idle = key_names
            .iter()
            .filter(|name| !rows.iter().any(|row| row.owner == **name))
            .map(|name| KeyUsage {
                key: name.to_string(),
                images_today: 0,
            });
        counted.chain(idle).collect()
    });
    UsageReport {
        success: true,
        key: caller.name().to_string(),
        day: utc_day(now),
        images_today,
        daily_image_quota: quota,
        images_remaining: quota.map(|quota| (i64::from(quota) - images_today).max(0)),
        resets_at: quota_resets_at(now),
        rate_limit: rate_limited.then_some(RateLimit {
            requests: RATE_LIMIT_REQUESTS,
            period_seconds: RATE_LIMIT_PERIOD_SECONDS,
        }),
        keys,
    }
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct GetUsage;

impl Handler for GetUsage {
    type Args = NoArgs;

    async fn handle(ctx: &ToolContext, _args: NoArgs) -> ToolResult {
        let now = crate::time::now_ms();
        let rows = ctx.store()?.usage(&utc_day(now), ctx.caller.visible_owner()).await?;
        let key_names: Vec<&str> = ctx.config.api_keys.iter().map(|key| key.name.as_str()).collect();
        let rate_limited = crate::rate_limit::is_configured(&ctx.env);
        Ok(ToolOutput::success(&report(
            &ctx.caller,
            ctx.config.daily_image_quota,
            &key_names,
            &rows,
            rate_limited,
            now,
        )))
    }
}

#[cfg(test)]
const SAMPLE_NOW: i64 = 1_795_977_000_000;

#[cfg(test)]
fn sample_rows() -> Vec<Usage> {
    vec![
        Usage {
            owner: "admin".into(),
            images: 40,
        },
        Usage {
            owner: "alice".into(),
            images: 7,
        },
    ]
}

#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let alice = Caller::Key("alice".into());
    let alice_rows: Vec<Usage> = sample_rows().into_iter().filter(|r| r.owner == "alice").collect();
    vec![
        (
            "a key with a quota",
            ToolOutput::success(&report(
                &alice,
                Some(10),
                &["alice", "bob"],
                &alice_rows,
                true,
                SAMPLE_NOW,
            )),
        ),
        (
            "the administrator",
            ToolOutput::success(&report(
                &Caller::Admin,
                Some(10),
                &["alice", "bob"],
                &sample_rows(),
                false,
                SAMPLE_NOW,
            )),
        ),
        (
            "storage failure",
            ToolOutput::error_message("D1 query failed while reading daily usage: D1_ERROR: network connection lost"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_key_sees_its_count_quota_and_reset_and_no_other_key() {
        let rows: Vec<Usage> = sample_rows().into_iter().filter(|r| r.owner == "alice").collect();
        let report = serde_json::to_value(report(
            &Caller::Key("alice".into()),
            Some(10),
            &["alice", "bob"],
            &rows,
            true,
            SAMPLE_NOW,
        ))
        .unwrap();
        assert_eq!(report["key"], "alice");
        assert_eq!(report["images_today"], 7);
        assert_eq!(report["daily_image_quota"], 10);
        assert_eq!(report["images_remaining"], 3);
        assert_eq!(report["day"], "2026-11-29");
        assert_eq!(report["resets_at"], "2026-11-30T00:00:00.000Z");
        assert_eq!(report["rate_limit"], json!({"requests": 120, "period_seconds": 60}));
        assert!(report.get("keys").is_none());
    }

    #[test]
    fn the_administrator_is_unlimited_and_sees_every_key() {
        let report = serde_json::to_value(report(
            &Caller::Admin,
            Some(10),
            &["alice", "bob"],
            &sample_rows(),
            false,
            SAMPLE_NOW,
        ))
        .unwrap();
        assert_eq!(report["key"], "admin");
        assert_eq!(report["images_today"], 40);
        assert!(report["daily_image_quota"].is_null());
        assert!(report["images_remaining"].is_null());
        assert!(report.get("rate_limit").is_none());
        assert_eq!(
            report["keys"],
            json!([
                {"key": "admin", "images_today": 40},
                {"key": "alice", "images_today": 7},
                {"key": "bob", "images_today": 0}
            ])
        );
    }
}
