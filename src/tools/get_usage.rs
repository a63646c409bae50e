//! get_usage: the caller's images and estimated spend (neurons, USD) today against its daily
//! quota and neuron budget, when they reset, and the request rate limit; the administrator also
//! sees every key's images and spend today.

use serde::Serialize;
use serde_json::Value;

use super::args::NoArgs;
use super::output::{json_text, result_schema, ToolOutput};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::access::Caller;
use crate::catalog::{RATE_LIMIT_PERIOD_SECONDS, RATE_LIMIT_REQUESTS};
use crate::icons;
use crate::jobs::{Limits, Usage};
use crate::models::{js_f64, js_opt_f64, USD_PER_THOUSAND_NEURONS};
use crate::services::quota::{budget_for, quota_for, quota_resets_at, utc_day};

pub const TOOL: ToolSpec = ToolSpec {
    name: "get_usage",
    title: "Get usage and limits",
    description: || {
        "Show how many images your key has started today (UTC) and their estimated spend in Workers AI neurons \
         and USD, its daily image quota and neuron budget and what remains, when they reset, and the request rate \
         limit. With the administrator token, every key's images and spend today."
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
        "neurons_today": {"type": "number", "description": "Estimated Workers AI neurons of your calls today (images as estimated when started; describe_image as the model counted)."},
        "usd_today": {"type": "number", "description": "The same spend in USD, background removals included."},
        "daily_neuron_budget": {"type": ["number", "null"], "description": "Neurons allowed per UTC day (DAILY_NEURON_BUDGET); null means no budget."},
        "neurons_remaining": {"type": ["number", "null"], "description": "Neurons you can still spend today; null means no budget."},
        "usd_per_1000_neurons": {"type": "number"},
        "resets_at": {"type": "string", "description": "When the day's count starts again (next UTC midnight)."},
        "rate_limit": {"type": "object", "properties": {
            "requests": {"type": "integer"},
            "period_seconds": {"type": "integer"}
        }, "description": "Requests per period for each key on /mcp and /sse, when the RATE_LIMITER binding is configured."},
        "keys": {"type": "array", "description": "Administrator only: every key's images today.", "items": {"type": "object", "properties": {
            "key": {"type": "string"},
            "images_today": {"type": "integer"},
            "neurons_today": {"type": "number"},
            "usd_today": {"type": "number"}
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
    #[serde(serialize_with = "js_f64")]
    neurons_today: f64,
    #[serde(serialize_with = "js_f64")]
    usd_today: f64,
}

#[derive(Serialize)]
struct UsageReport {
    success: bool,
    key: String,
    day: String,
    images_today: i64,
    daily_image_quota: Option<u32>,
    images_remaining: Option<i64>,
    #[serde(serialize_with = "js_f64")]
    neurons_today: f64,
    #[serde(serialize_with = "js_f64")]
    usd_today: f64,
    #[serde(serialize_with = "js_opt_f64")]
    daily_neuron_budget: Option<f64>,
    #[serde(serialize_with = "js_opt_f64")]
    neurons_remaining: Option<f64>,
    usd_per_1000_neurons: f64,
    resets_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<RateLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<KeyUsage>>,
}

/// The report for `caller` from the day's usage rows (every owner's for the administrator).
fn report(
    caller: &Caller,
    configured: Limits,
    key_names: &[&str],
    rows: &[Usage],
    rate_limited: bool,
    now: i64,
) -> UsageReport {
    let own = rows.iter().find(|row| row.owner == caller.name());
    let images_today = own.map_or(0, |row| row.images);
    let (neurons_today, usd_today) = own.map_or((0.0, 0.0), |row| (round(row.neurons), round(row.usd)));
    let quota = quota_for(caller, configured.images);
    let budget = budget_for(caller, configured.neurons);
    // Every owner with images today (the rows come sorted by name), then every configured key
    // that has none yet, with 0.
    let keys = caller.is_admin().then(|| {
        let counted = rows.iter().map(|row| KeyUsage {
            key: row.owner.clone(),
            images_today: row.images,
            neurons_today: round(row.neurons),
            usd_today: round(row.usd),
        });
        let idle = key_names
            .iter()
            .filter(|name| !rows.iter().any(|row| row.owner == **name))
            .map(|name| KeyUsage {
                key: name.to_string(),
                images_today: 0,
                neurons_today: 0.0,
                usd_today: 0.0,
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
        neurons_today,
        usd_today,
        daily_neuron_budget: budget,
        neurons_remaining: budget.map(|budget| round((budget - neurons_today).max(0.0))),
        usd_per_1000_neurons: USD_PER_THOUSAND_NEURONS,
        resets_at: quota_resets_at(now),
        rate_limit: rate_limited.then_some(RateLimit {
            requests: RATE_LIMIT_REQUESTS,
            period_seconds: RATE_LIMIT_PERIOD_SECONDS,
        }),
        keys,
    }
}

/// Sums of estimates, to a billionth (no float noise in results).
fn round(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
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
            Limits {
                images: ctx.config.daily_image_quota,
                neurons: ctx.config.daily_neuron_budget,
            },
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
const SAMPLE_LIMITS: Limits = Limits {
    images: Some(10),
    neurons: Some(1000.0),
};

#[cfg(test)]
fn sample_rows() -> Vec<Usage> {
    vec![
        Usage {
            owner: "admin".into(),
            images: 40,
            neurons: 2304.0,
            usd: 0.025344,
        },
        Usage {
            owner: "alice".into(),
            images: 7,
            neurons: 403.2,
            usd: 0.0049352,
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
                SAMPLE_LIMITS,
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
                SAMPLE_LIMITS,
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
            SAMPLE_LIMITS,
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
        assert_eq!(report["neurons_today"], 403.2);
        assert_eq!(report["usd_today"], 0.0049352);
        assert_eq!(report["daily_neuron_budget"], 1000.0);
        assert_eq!(report["neurons_remaining"], 596.8);
        assert_eq!(report["usd_per_1000_neurons"], 0.011);
        assert!(report.get("keys").is_none());
    }

    #[test]
    fn the_administrator_is_unlimited_and_sees_every_key() {
        let report = serde_json::to_value(report(
            &Caller::Admin,
            SAMPLE_LIMITS,
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
        assert!(report["daily_neuron_budget"].is_null() && report["neurons_remaining"].is_null());
        assert!(report.get("rate_limit").is_none());
        assert_eq!(
            report["keys"],
            json!([
                {"key": "admin", "images_today": 40, "neurons_today": 2304, "usd_today": 0.025344},
                {"key": "alice", "images_today": 7, "neurons_today": 403.2, "usd_today": 0.0049352},
                {"key": "bob", "images_today": 0, "neurons_today": 0, "usd_today": 0}
            ])
        );
    }
}
