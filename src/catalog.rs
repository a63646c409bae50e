//! The facts every layer shares: server identity, argument limits and defaults, queue settings.
//! (Models and their parameters live in `models`.)
//!
//! Schemas, validation, the discovery page and the consumer all read from here,
//! so a limit changes in one place.

/// Name reported in `serverInfo` and on the discovery page.
pub const SERVER_NAME: &str = "mcp-image-generator";
/// Version reported in `serverInfo` and by `/health` (the interface version of the original).
pub const SERVER_VERSION: &str = "3.0.0";
/// Human-readable title for clients that display one.
pub const SERVER_TITLE: &str = "MCP Image Generator";

/// An inclusive integer range with a default, as exposed in a JSON Schema.
#[derive(Debug, Clone, Copy)]
pub struct IntLimit {
    pub min: i64,
    pub max: Option<i64>,
    pub default: i64,
}

impl IntLimit {
    /// The range as shown in descriptions: "1-20", or "at least 0" when open-ended.
    pub fn range_text(&self) -> String {
        match self.max {
            Some(max) => format!("{}-{max}", self.min),
            None => format!("at least {}", self.min),
        }
    }
}

/// A client's number as an error message repeats it: "7.5", "1e-300" (serde_json's shortest form),
/// never the hundreds of digits `f64`'s `Display` writes for very small or large values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Echoed(pub f64);

impl std::fmt::Display for Echoed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::Number::from_f64(self.0) {
            Some(number) => write!(f, "{number}"),
            None => f.write_str("a non-finite number"),
        }
    }
}

/// Prompt length, counted in UTF-16 code units like the original (JavaScript string length).
pub const PROMPT_MIN_CHARS: usize = 3;
pub const PROMPT_MAX_CHARS: usize = 1000;
/// Images per generate call.
pub const COUNT: IntLimit = IntLimit {
    min: 1,
    max: Some(20),
    default: 1,
};
/// Page size for the list tools.
pub const PAGE_LIMIT: IntLimit = IntLimit {
    min: 1,
    max: Some(50),
    default: 10,
};
/// Page offset for the list tools.
pub const PAGE_OFFSET: IntLimit = IntLimit {
    min: 0,
    max: None,
    default: 0,
};
/// Longest job id accepted (ours are 36-character UUIDs); longer input is refused, not echoed.
pub const JOB_ID_MAX_CHARS: usize = 64;
/// Largest request body read on the JSON-RPC routes (POST /mcp, /sse, /sse/message), in bytes:
/// an image input of up to 10 MiB travels as a base64 data URL (4/3 of its size) inside the
/// JSON, so 16 MiB leaves room for it. A larger declared Content-Length is refused with 413
/// before reading; a body without one is read in chunks and refused once it passes the limit.
pub const REQUEST_BODY_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Most messages in one JSON-RPC batch: a larger batch is refused whole, none of it runs, so a
/// small body cannot fan out into thousands of calls (1,000 `tools/list` would answer ~9 MB).
pub const BATCH_MAX_MESSAGES: usize = 32;
/// Longest piece of client input an error message repeats (an unknown tool or method name, a
/// header value, a path); the rest is cut and its length stated, so errors stay small.
pub const ECHO_MAX_CHARS: usize = 128;

/// `text` as an error message may repeat it: at most ECHO_MAX_CHARS characters, and when it
/// was cut, how long it was.
pub fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_MAX_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()),
    }
}
/// Width and height of offline preview pictures (IMAGE_BACKEND=preview), each side in pixels:
/// every size a model accepts (up to lucid-origin's 2500) can be previewed.
pub const PREVIEW_SIDE: IntLimit = IntLimit {
    min: 64,
    max: Some(2560),
    default: 512,
};
/// Thumbnails: the longest side in pixels (never enlarged), the WebP quality asked of the Images
/// binding (a 256 px WebP at this quality stays well under the 24 KB aimed for; the e2e test
/// measures it).
pub const THUMBNAIL_MAX_SIDE: u32 = 256;
pub const THUMBNAIL_WEBP_QUALITY: u32 = 75;
/// Inline previews in a tool result: thumbnails of at most this many images, and at most this
/// many bytes of base64 in all, so a result stays far below clients' token and size caps.
pub const INLINE_PREVIEW_MAX_IMAGES: usize = 4;
pub const INLINE_PREVIEW_MAX_BASE64_BYTES: usize = 100_000;
/// Image inputs (edit_image, generate_variations): the largest image a data URL may carry,
/// decoded (a 10 MiB image is 13.3 MiB of base64, within REQUEST_BODY_MAX_BYTES).
pub const INPUT_IMAGE_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The largest image input by its header's size: Cloudflare Images' own limits (12,000 pixels a
/// side, 100 megapixels; https://developers.cloudflare.com/images/get-started/limits/). Larger
/// inputs are refused before any conversion.
pub const INPUT_IMAGE_MAX_SIDE: u32 = 12_000;
pub const INPUT_IMAGE_MAX_PIXELS: u64 = 100_000_000;
/// Images one edit_image call may give.
pub const EDIT_IMAGES_MAX: usize = 4;
/// Strength sent to an image-to-image model when the call gives none: the models' own default (1)
/// ignores the input, so an edit keeps some of it, and a variation most of it.
pub const EDIT_STRENGTH_DEFAULT: f64 = 0.6;
pub const VARIATION_STRENGTH_DEFAULT: f64 = 0.35;
/// Variations per generate_variations call.
pub const VARIATIONS: IntLimit = IntLimit {
    min: 1,
    max: Some(8),
    default: 4,
};
/// The OpenAI-compatible images API (`/v1/images/…`): images per generation or edit request
/// (`n`, OpenAI's own range and default). Variations keep generate_variations' range
/// (VARIATIONS) with OpenAI's default of 1.
pub const OPENAI_IMAGES_N: IntLimit = IntLimit {
    min: 1,
    max: Some(10),
    default: 1,
};
/// The prompt of a `/v1/images/variations` request, which has none in OpenAI's API: image-to-image
/// redraws the upload at VARIATION_STRENGTH_DEFAULT, so the prompt only nudges (a `prompt` form
/// field replaces it).
pub const OPENAI_VARIATION_PROMPT: &str = "a variation of this image, with the same subject, composition and style";
/// The OpenAI model name `/v1/images/generations` assumes when a request names none (OpenAI's
/// own default).
pub const OPENAI_DEFAULT_MODEL: &str = "dall-e-2";
/// Key prefix of input images this server stores (uploads and converted copies): flat keys like
/// every image key, so `/images/` serves them and they never look like a job's image.
pub const INPUT_KEY_PREFIX: &str = "input-";
/// Ids accepted by one wait_for_completion call.
pub const WAIT_JOB_IDS_MIN: usize = 1;
pub const WAIT_JOB_IDS_MAX: usize = 20;
/// Ids accepted by one delete_image call: each job names up to five R2 keys of its own and up to
/// EDIT_IMAGES_MAX + 1 stored inputs, all deleted in one R2 call (at most 1,000 keys).
pub const DELETE_JOB_IDS_MAX: usize = 50;

/// Seconds reported to clients as the expected time of an asynchronous job.
pub const ESTIMATED_TIME_SECONDS: u32 = 30;
/// The original's overall wait limit: a base plus an allowance per job.
pub const WAIT_BASE_SECONDS: u64 = 60;
pub const WAIT_PER_JOB_SECONDS: u64 = 3;
/// Default bound on how long a wait tool holds a request (client SDKs time out at ~60 s).
pub const DEFAULT_WAIT_RESPONSE_LIMIT_SECONDS: u64 = 50;

/// Queue consumer retry budget; must match `max_retries` in wrangler.toml (a test checks).
pub const QUEUE_MAX_RETRIES: u32 = 3;
/// Delay before retrying a job after a transient Workers AI error (out of capacity, timeout):
/// the first retry waits this long, each later one twice as long as the one before.
/// Capacity shortages pass in seconds, and with 3 retries (2 + 4 + 8 s) every retry still runs
/// within one wait tool call (a test checks the sum against the wait limit).
pub const TRANSIENT_RETRY_BASE_DELAY_SECONDS: u32 = 2;
/// Longest delay between two attempts after a transient error, whatever the attempt number.
pub const TRANSIENT_RETRY_MAX_DELAY_SECONDS: u32 = 60;
/// Longest one Workers AI call may take before the attempt gives up and is retried (seconds;
/// the `AI_TIMEOUT_SECONDS` var may set 1-900). Image models answer in 1-30 s; a hung call would
/// otherwise hold a consumer slot until the platform's 15-minute limit kills the invocation.
pub const AI_TIMEOUT_SECONDS: IntLimit = IntLimit {
    min: 1,
    max: Some(900),
    default: 120,
};
/// Time one consumer attempt may spend besides the model call: reading the job, the R2 put and
/// the D1 batch, with room for a slow store (seconds).
pub const ATTEMPT_STORE_ALLOWANCE_SECONDS: u64 = 60;

/// The sweeper's schedule; must equal `crons` in wrangler.toml's `[triggers]` (a test checks).
#[cfg(test)]
pub const SWEEP_CRON: &str = "*/5 * * * *";
/// Pending jobs re-queued per sweep (one `sendBatch` takes at most 100 messages).
pub const SWEEP_REQUEUE_BATCH: i64 = 100;
/// Stuck or never-delivered jobs failed per sweep, per rule (each comes back as its row).
pub const SWEEP_FAIL_BATCH: i64 = 100;
/// Expired SSE sessions, and undelivered mailbox messages, deleted per sweep.
pub const SWEEP_SSE_BATCH: i64 = 1000;
/// Jobs deleted per sweep by retention: their ids are bound in one `IN (…)` list and D1 binds at
/// most 100 parameters a statement; each job has up to two R2 objects (image and thumbnail) and
/// up to EDIT_IMAGES_MAX + 1 stored inputs, all deleted in one R2 call (at most 1,000 keys).
pub const RETENTION_BATCH: usize = 50;
/// A job not finished this long after it was created is failed instead of re-queued again: its
/// messages keep getting lost, and a client stopped waiting long ago (milliseconds).
pub const JOB_MAX_AGE_MS: i64 = 24 * 60 * 60 * 1000;
/// `RETENTION_DAYS`: finished jobs older than this many days are deleted with their images and
/// the stored inputs no other job uses (unset or empty: kept forever).
pub const RETENTION_DAYS: IntLimit = IntLimit {
    min: 1,
    max: Some(36_500),
    default: 0,
};
/// Most consumer invocations of the job queue at once (the queue enforces `max_concurrency` from
/// wrangler.toml; tests check it equals this). Each invocation makes one text-to-image call and
/// the fastest models answer in about a second, so 10 at once stay below the account's Workers
/// AI rate limit for text-to-image (720 requests a minute: 10 × 60 = 600), retries included.
#[cfg(test)]
pub const QUEUE_MAX_CONCURRENCY: u32 = 10;
/// Workers AI rate limit for text-to-image models, requests per minute per account.
#[cfg(test)]
pub const WORKERS_AI_TEXT_TO_IMAGE_REQUESTS_PER_MINUTE: u32 = 720;
/// Shortest time one image takes on the fastest model (sdxl-lightning, flux-1-schnell), seconds.
#[cfg(test)]
pub const FASTEST_IMAGE_SECONDS: u32 = 1;
/// Queue names as configured in wrangler.toml (the job queue's name is only checked against it:
/// the consumer tells the queues apart by the dead-letter queue's name).
#[cfg(test)]
pub const JOB_QUEUE_NAME: &str = "image-generation-queue";
pub const DEAD_LETTER_QUEUE_NAME: &str = "image-generation-dlq";

/// Images per `resources/list` page (the cursor names where the next page starts).
pub const RESOURCE_PAGE_SIZE: i64 = 50;
/// 2026-07-28 cache hints: a resource list changes with every finished image, so it is stale at
/// once; an image's bytes never change once stored (its key is per job), so reads stay fresh.
pub const RESOURCE_LIST_TTL_MS: u64 = 0;
pub const RESOURCE_READ_TTL_MS: u64 = 60 * 60 * 1000;

/// Gallery tiles per page.
pub const GALLERY_PAGE_SIZE: i64 = 24;
/// Highest gallery page number accepted in `?page=` (keeps OFFSET bounded).
pub const GALLERY_MAX_PAGE: i64 = 10_000;
/// D1 refuses a LIKE pattern longer than this many bytes ("LIKE or GLOB pattern too complex";
/// https://developers.cloudflare.com/d1/platform/limits/ lists it, and local D1 enforces it).
pub const D1_LIKE_PATTERN_MAX_BYTES: usize = 50;
/// Longest gallery search, in bytes of UTF-8 text: what fits D1's LIKE pattern once wrapped in
/// `%…%`. `%`, `_` and `\` take two bytes each once escaped, so a search is checked on its
/// pattern (`jobs::sql::contains_pattern`); this is the input box's `maxlength` hint.
pub const GALLERY_SEARCH_MAX_BYTES: usize = D1_LIKE_PATTERN_MAX_BYTES - 2;
/// How long a gallery sign-in lasts.
pub const GALLERY_SESSION_SECONDS: i64 = 12 * 60 * 60;
/// Largest sign-in/sign-out form body read; the form only has a token and a return path.
pub const GALLERY_FORM_MAX_BYTES: usize = 4 * 1024;

/// Largest DAILY_IMAGE_QUOTA accepted (0 or unset means unlimited); a bigger number is a typo.
pub const DAILY_IMAGE_QUOTA_MAX: u32 = 1_000_000;
/// Largest DAILY_NEURON_BUDGET accepted (0 or unset means none): 1,000,000,000 neurons is
/// $11,000 a day per key, far past any real budget.
pub const DAILY_NEURON_BUDGET_MAX: f64 = 1_000_000_000.0;
/// Longest `question` describe_image takes.
pub const QUESTION_MAX_CHARS: usize = 1000;
/// Longest answer describe_image returns (the model's `max_tokens` bounds it first).
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// Prompts per `prompts/list` page.
pub const PROMPT_PAGE_SIZE: usize = 5;
/// Longest value a prompt argument takes.
pub const PROMPT_ARGUMENT_MAX_CHARS: usize = 500;
/// Seconds a client told 429 should wait: the period of the RATE_LIMITER binding in
/// wrangler.toml (10 or 60 are the only periods the Rate Limiting binding allows; a test checks
/// the two agree).
pub const RATE_LIMIT_PERIOD_SECONDS: u32 = 60;
/// Requests one key may make per period: the `limit` of the RATE_LIMITER binding (a test checks).
pub const RATE_LIMIT_REQUESTS: u32 = 120;
/// Client registrations (`POST /oauth/register`, unauthenticated by design) one client address
/// may make per [`RATE_LIMIT_PERIOD_SECONDS`]: the `limit` of the REGISTRATION_LIMITER binding
/// (a test checks). A connector registers once per sign-in; this bounds a flood of rows.
pub const REGISTRATIONS_PER_PERIOD: u32 = 10;

/// A task's time to live when the call asks for none: an hour, in milliseconds.
pub const TASK_TTL_DEFAULT_MS: i64 = 3_600_000;
/// The shortest and longest time to live a task may ask for (`params.task.ttl` is kept within
/// these): a minute to a day. The jobs themselves stay as long as RETENTION_DAYS keeps them.
pub const TASK_TTL_MIN_MS: i64 = 60_000;
pub const TASK_TTL_MAX_MS: i64 = 86_400_000;
/// Tasks per `tasks/list` page.
pub const TASK_LIST_PAGE_SIZE: i64 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_describe_their_range() {
        let closed = IntLimit {
            min: 1,
            max: Some(20),
            default: 1,
        };
        assert_eq!(closed.range_text(), "1-20");
        let open = IntLimit {
            min: 0,
            max: None,
            default: 0,
        };
        assert_eq!(open.range_text(), "at least 0");
        let negative = IntLimit {
            min: -5,
            max: Some(-1),
            default: -1,
        };
        assert_eq!(negative.range_text(), "-5--1");
    }

    #[test]
    fn echoes_keep_short_input_and_cut_long_input_stating_its_length() {
        assert_eq!(echo("tools/lits"), "tools/lits");
        let exact = "é".repeat(ECHO_MAX_CHARS);
        assert_eq!(echo(&exact), exact, "at the limit nothing is cut");
        let long = format!("{}{}", "x".repeat(ECHO_MAX_CHARS), "SECRET".repeat(200_000));
        let echoed = echo(&long);
        assert!(echoed.starts_with(&"x".repeat(ECHO_MAX_CHARS)));
        assert!(!echoed.contains("SECRET"), "{echoed}");
        assert!(echoed.ends_with(&format!("… ({} characters)", ECHO_MAX_CHARS + 1_200_000)));
        assert!(echoed.len() < 200);
        // Multi-byte characters are cut on a character boundary.
        assert_eq!(
            echo(&"ü".repeat(ECHO_MAX_CHARS + 1))
                .chars()
                .filter(|c| *c == 'ü')
                .count(),
            ECHO_MAX_CHARS
        );
    }

    /// The largest image input, sent as a client sends it: one tools/call of edit_image with the
    /// longest prompt (in the widest UTF-8) and a data URL of INPUT_IMAGE_MAX_BYTES.
    #[test]
    fn the_largest_image_input_fits_the_request_body_limit() {
        use base64::Engine;
        let image = vec![0xFFu8; INPUT_IMAGE_MAX_BYTES];
        let data_url = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&image)
        );
        // Astral characters: 4 UTF-8 bytes for 2 UTF-16 units each.
        let prompt = "\u{1F98A}".repeat(PROMPT_MAX_CHARS / 2);
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "edit_image", "arguments": {"prompt": prompt, "images": [data_url]}},
        })
        .to_string();
        assert!(body.len() <= REQUEST_BODY_MAX_BYTES, "{} bytes", body.len());
    }

    #[test]
    fn wrangler_toml_matches_queue_constants() {
        let toml = include_str!("../wrangler.toml");
        assert!(
            toml.contains(&format!("max_retries = {QUEUE_MAX_RETRIES}")),
            "wrangler.toml max_retries differs from QUEUE_MAX_RETRIES"
        );
        assert!(
            toml.contains(&format!("max_concurrency = {QUEUE_MAX_CONCURRENCY}")),
            "wrangler.toml max_concurrency differs from QUEUE_MAX_CONCURRENCY"
        );
        assert_eq!(
            toml.matches("max_concurrency =").count(),
            1,
            "only the job queue's consumer is bounded"
        );
        let job_consumer = toml
            .split("[[queues.consumers]]")
            .skip(1)
            .find(|section| section.contains(&format!("queue = \"{JOB_QUEUE_NAME}\"")))
            .expect("a consumer for the job queue");
        assert!(
            job_consumer.contains("max_concurrency ="),
            "max_concurrency is not on the job queue's consumer"
        );
        assert!(toml.contains(&format!("queue = \"{JOB_QUEUE_NAME}\"")));
        assert!(
            toml.contains(&format!("crons = [\"{SWEEP_CRON}\"]")),
            "wrangler.toml [triggers] crons differs from SWEEP_CRON"
        );
        assert!(toml.contains(&format!("dead_letter_queue = \"{DEAD_LETTER_QUEUE_NAME}\"")));
    }

    /// Read from wrangler.toml itself (what the queue enforces), not from the constant.
    #[test]
    fn the_consumer_stays_below_the_workers_ai_rate_limit() {
        let toml = include_str!("../wrangler.toml");
        let max_concurrency: u32 = toml
            .lines()
            .find_map(|line| line.trim().strip_prefix("max_concurrency = "))
            .expect("max_concurrency in wrangler.toml")
            .trim()
            .parse()
            .expect("a number");
        let requests_per_minute = max_concurrency * 60 / FASTEST_IMAGE_SECONDS;
        assert!(
            requests_per_minute <= WORKERS_AI_TEXT_TO_IMAGE_REQUESTS_PER_MINUTE,
            "{requests_per_minute}"
        );
    }
}
