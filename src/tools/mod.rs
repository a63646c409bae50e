//! The tool table: every tool this server offers, and how a call reaches its handler.
//!
//! Add a tool:
//! 1. a module here with its arguments (`tool_args!`), a [`Handler`] and a `TOOL: ToolSpec`
//!    (its icon: a glyph of `crate::icons` in `extras.icon`; a tool that makes images sets
//!    `reports_images` and hosts then show its results in the image viewer, one that only reads
//!    them sets `extras.viewer`);
//! 2. its `mod` line and one line in [`TOOLS`];
//! 3. `UPDATE_GOLDEN=1 cargo test golden` to regenerate tests/golden/, and review the diff.
//!
//! A tool's [`ToolSpec`] is its one declaration: name, title, description, scope, hints,
//! per-revision extras, output schema, and (through [`Typed`]) its argument struct, from which
//! come the input schema, the validation and the typed value its handler receives. [`call`]
//! parses once; no handler sees the raw arguments. This folder holds the tools only; what they
//! share is in `support/` (arguments, results, paging, previews, progress, the generation
//! fields, starting and waiting), and what they do with jobs, inputs and storage is in
//! `crate::services`.

mod cancel_job;
mod delete_image;
mod describe_image;
mod edit_image;
mod generate_image;
mod generate_image_and_wait;
mod generate_variations;
mod get_job_status;
mod get_usage;
mod list_generations;
mod list_jobs;
mod list_models;
mod remove_background;
mod wait_for_completion;

use std::future::Future;

// The helpers (not tools) live in support/; the tools reach them by these names.
mod support;
/// For the property tests (`fuzz_tests`).
#[cfg(test)]
pub(crate) use support::output::pretty_of;
use support::{args, generation, job_ids, output, paging, previews, progress};

use futures::future::LocalBoxFuture;
use serde_json::{json, Map, Value};
use worker::Env;

use crate::access::Caller;
use crate::config::Config;
use crate::icons::{self, Glyph};
use crate::jobs::JobStore;
use crate::protocol::mcp::{CallToolResult, Tool, ToolAnnotations};
use crate::protocol::version;
#[cfg(test)]
pub use args::validate as validate_args;
pub use args::{Field, FieldKind, ToolArgs};
pub use output::{ToolError, ToolOutput};
#[cfg(test)]
pub use previews::{blocks as preview_blocks, has_resource_links};
pub use progress::ProgressSink;
// The wait of the generate tools, for the OpenAI-compatible API (which answers with the rows).
pub use wait_for_completion::{settle, WaitBudget, WaitState};

/// Every tool, in the order `tools/list` shows them (the original's order, then additions).
pub const TOOLS: &[&ToolSpec] = &[
    &generate_image::TOOL,
    &get_job_status::TOOL,
    &list_generations::TOOL,
    &list_jobs::TOOL,
    &wait_for_completion::TOOL,
    &generate_image_and_wait::TOOL,
    &list_models::TOOL,
    &get_usage::TOOL,
    &edit_image::TOOL,
    &generate_variations::TOOL,
    &cancel_job::TOOL,
    &remove_background::TOOL,
    &describe_image::TOOL,
    &delete_image::TOOL,
];

/// What a handler returns: a result object, or an error that becomes an `isError` result.
pub type ToolResult = Result<ToolOutput, ToolError>;

/// A tool's behaviour: its typed arguments and the handler that receives them, already parsed.
pub trait Handler {
    type Args: ToolArgs;
    fn handle(ctx: &ToolContext, args: Self::Args) -> impl Future<Output = ToolResult>;
}

/// Runs one call: raw arguments are validated and read once, here, then handed on typed.
pub type Runner = for<'a> fn(&'a ToolContext, Map<String, Value>) -> LocalBoxFuture<'a, ToolResult>;

/// What the tool table needs of a [`Handler`]: its field list and its runner.
#[derive(Clone, Copy)]
pub struct Typed {
    pub fields: fn() -> Vec<Field>,
    pub run: Runner,
    /// The parse step alone (the property tests call it; handlers need the runtime's bindings).
    #[cfg(test)]
    pub parse: fn(&Map<String, Value>) -> Result<(), args::ArgError>,
}

impl Typed {
    pub const fn of<H: Handler + 'static>() -> Typed {
        Typed {
            fields: H::Args::fields,
            run: run::<H>,
            #[cfg(test)]
            parse: |raw| args::parse::<H::Args>(raw).map(drop),
        }
    }
}

fn run<H: Handler + 'static>(ctx: &ToolContext, raw: Map<String, Value>) -> LocalBoxFuture<'_, ToolResult> {
    Box::pin(async move {
        let args = args::parse::<H::Args>(&raw)?;
        drop(raw);
        H::handle(ctx, args).await
    })
}

/// Which authorization a call needs (declared in `crate::access`, which names the OAuth scopes).
pub use crate::access::Scope;

/// The behaviour hints of a tool's annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl Hints {
    /// Reads this server's own storage: repeats give the same answer, nothing changes.
    pub const READ: Hints = Hints {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    };
    /// Starts new jobs on an external model; adds images, never deletes or overwrites one.
    pub const GENERATE: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
    };
    /// Removes what exists for good; a repeat finds nothing more to remove.
    pub const DELETE: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    };
}

/// Whether a tool can run as a task: 2025-11-25's `execution.taskSupport`, and which tools the
/// 2026-07-28 tasks extension runs as tasks (`runs_as_task`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // `Forbidden` and `Required` are the schema's; no tool needs them yet
pub enum TaskSupport {
    Forbidden,
    Optional,
    Required,
}

impl TaskSupport {
    fn name(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }
}

/// Listing fields that only some revisions define; each is sent only to revisions whose `Tool`
/// has it (see [`version::tool_has`]).
#[derive(Debug, Clone, Copy)]
pub struct Extras {
    /// `execution` (2025-11-25).
    pub execution: Option<TaskSupport>,
    /// `_meta` (2025-06-18 on); `ui` is added to it for tools that show images.
    pub meta: Option<fn() -> Map<String, Value>>,
    /// The glyph of `icons` (2025-11-25 on); None: the server's own.
    pub icon: Option<Glyph>,
    /// Results of a tool that makes no images but shows them (it reads jobs) open the image
    /// viewer too; every tool that `reports_images` does without this.
    pub viewer: bool,
}

impl Extras {
    pub const NONE: Extras = Extras {
        execution: None,
        meta: None,
        icon: None,
        viewer: false,
    };
    /// A long tool (it waits for its jobs) that may run as a task.
    pub const TASK_OPTIONAL: Extras = Extras {
        execution: Some(TaskSupport::Optional),
        ..Extras::NONE
    };
}

/// One tool, declared in its own module.
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: fn() -> String,
    /// The arguments and the handler: `Typed::of::<TheTool>()`.
    pub typed: Typed,
    pub output_schema: fn() -> Value,
    /// What a caller must be allowed to do to call it.
    pub scope: Scope,
    pub hints: Hints,
    /// Results can carry image URLs, so they say when the offline preview backend drew them,
    /// and hosts show them in the image viewer (`_meta.ui`, see [`ToolSpec::shows_images`]).
    pub reports_images: bool,
    pub extras: Extras,
    /// Every shape the tool answers with, built from its own result types (the wire-contract
    /// tests validate them against the official schema and the tool's outputSchema).
    #[cfg(test)]
    pub samples: fn() -> Vec<(&'static str, ToolOutput)>,
}

impl ToolSpec {
    /// The tool as listed to a client speaking `revision`.
    pub fn to_tool(&self, revision: &str) -> Tool {
        let extras = &self.extras;
        let execution = extras
            .execution
            .filter(|_| version::tool_has(revision, "execution"))
            .map(|support| json!({"taskSupport": support.name()}));
        let meta = version::tool_has(revision, "_meta")
            .then(|| {
                let mut meta = extras.meta.map(|meta| meta()).unwrap_or_default();
                if self.shows_images() {
                    meta.insert("ui".into(), viewer_meta());
                }
                meta
            })
            .filter(|meta| !meta.is_empty())
            .map(Value::Object);
        let icons = version::tool_has(revision, "icons").then(|| extras.icon.unwrap_or(icons::SERVER).icons());
        Tool {
            name: self.name.to_string(),
            title: self.title.to_string(),
            description: (self.description)(),
            input_schema: args::input_schema(&(self.typed.fields)()),
            output_schema: (self.output_schema)(),
            annotations: ToolAnnotations {
                title: self.title.to_string(),
                read_only_hint: self.hints.read_only,
                destructive_hint: self.hints.destructive,
                idempotent_hint: self.hints.idempotent,
                open_world_hint: self.hints.open_world,
            },
            execution,
            icons,
            meta,
        }
    }

    /// Whether hosts should show this tool's results in the image viewer (`_meta.ui`): every
    /// tool that makes images (its results name them, or the jobs that will), and the readers
    /// that declare `viewer`.
    pub fn shows_images(&self) -> bool {
        self.reports_images || self.extras.viewer
    }
}

/// `_meta.ui` of a tool whose results the viewer shows (MCP Apps `McpUiToolMeta`). Hosts without
/// the extension ignore it, so every client of a revision with `_meta` gets it.
fn viewer_meta() -> Value {
    json!({"resourceUri": crate::urls::VIEWER_RESOURCE_URI})
}

/// The wait's polling pace (fast at first), for whatever else waits on jobs.
pub fn wait_poll_interval(elapsed_ms: u64) -> u64 {
    wait_for_completion::poll_interval(elapsed_ms)
}

/// Whether the tool may run as a task (its `extras.execution`, in either protocol form).
pub fn runs_as_task(name: &str) -> bool {
    find(name).is_some_and(|tool| {
        matches!(
            tool.extras.execution,
            Some(TaskSupport::Optional | TaskSupport::Required)
        )
    })
}

/// How long a task of this call should be polled at: from the model's typical time.
pub fn task_poll_interval_ms(arguments: &Map<String, Value>) -> u64 {
    let model = arguments
        .get("model")
        .and_then(Value::as_str)
        .and_then(crate::models::ImageModel::from_name)
        .unwrap_or(crate::models::ImageModel::DEFAULT);
    crate::models::poll_interval_ms(model.spec().typical_time)
}

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().copied().find(|tool| tool.name == name)
}

/// Every tool as listed to a client speaking `revision`.
pub fn list(revision: &str) -> Vec<Tool> {
    TOOLS.iter().map(|tool| tool.to_tool(revision)).collect()
}

/// Everything a tool may use while handling one call. Owned, so a call can outlive the
/// request handler when its response is streamed.
#[derive(Clone)]
pub struct ToolContext {
    pub env: Env,
    pub config: std::rc::Rc<Config>,
    /// Whose call this is: a key sees and waits on only its own jobs.
    pub caller: Caller,
    /// Origin of the request (scheme://host[:port]), for absolute image URLs served by this worker.
    pub origin: String,
    /// Present when the client asked for progress and the transport can deliver it.
    pub progress: Option<ProgressSink>,
    /// The protocol revision the request uses, when known (header or stateless era); decides
    /// which content blocks results may carry.
    pub protocol_version: Option<String>,
    /// Set when the call runs as a task: the tool starts its jobs and hands them here instead of
    /// waiting for them (see [`wait_for_completion::wait_for_jobs`]); the task's result is later
    /// settled from those jobs.
    pub task_jobs: Option<TaskJobs>,
}

/// The jobs a call run as a task started, and whether its result shows thumbnails inline.
pub type TaskJobs = std::rc::Rc<std::cell::RefCell<Option<(Vec<String>, bool)>>>;

impl ToolContext {
    pub fn store(&self) -> Result<JobStore, ToolError> {
        Ok(JobStore::new(crate::bindings::db(&self.env)?))
    }

    pub fn image_url(&self, stored: Option<&str>) -> Option<String> {
        stored.map(|url| crate::urls::absolute_image_url(url, &self.origin))
    }
}

/// What the services see of a tool call.
impl crate::services::Context for ToolContext {
    fn env(&self) -> &Env {
        &self.env
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn caller(&self) -> &Caller {
        &self.caller
    }

    fn origin(&self) -> &str {
        &self.origin
    }
}

/// The tool error for a name we do not have: the name (cut to ECHO_MAX_CHARS) and the known ones.
fn unknown_tool(name: &str) -> ToolOutput {
    let known: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
    ToolOutput::error_message(format!(
        "Unknown tool: {}. Available tools: {}",
        crate::catalog::echo(name),
        known.join(", ")
    ))
}

/// Runs a tool. Unknown names and bad arguments are tool errors (`isError`), not protocol errors.
pub async fn call(ctx: &ToolContext, name: &str, arguments: Map<String, Value>) -> CallToolResult {
    let Some(tool) = find(name) else {
        return unknown_tool(name).into_result();
    };
    let output = match (tool.typed.run)(ctx, arguments).await {
        Ok(output) => output,
        Err(error) => {
            if !matches!(error, ToolError::Args(_)) {
                worker::console_error!("tool {} failed: {error}", tool.name);
            }
            ToolOutput::error_message(error)
        }
    };
    finish(ctx, tool, output).await
}

/// A task's result once its jobs have all finished: what the plain call would have answered
/// (the wait's result, with its previews and resource links); None while a job is unfinished.
pub async fn settle_task(
    ctx: &ToolContext,
    name: &str,
    job_ids: Vec<String>,
    preview: bool,
) -> Result<Option<CallToolResult>, ToolError> {
    let Some(tool) = find(name) else {
        return Ok(Some(unknown_tool(name).into_result()));
    };
    match wait_for_completion::settle_once(ctx, job_ids, preview).await? {
        Some(output) => Ok(Some(finish(ctx, tool, output).await)),
        None => Ok(None),
    }
}

/// The wire result of a tool's output: notes, then the image blocks after the JSON text.
async fn finish(ctx: &ToolContext, tool: &ToolSpec, mut output: ToolOutput) -> CallToolResult {
    if tool.reports_images {
        output.note_preview_backend(ctx.config.image_backend);
    }
    let images = std::mem::take(&mut output.images);
    let inline = output.inline_previews;
    let mut result = output.into_result();
    if !images.is_empty() {
        result
            .content
            .extend(previews::content_blocks(ctx, &images, inline).await);
    }
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_original_six_tools_come_first_then_additions() {
        let tools = list(version::LATEST);
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        // The original's tools, in its order, before any addition (additions follow the table;
        // the golden files pin the whole list).
        assert_eq!(
            names[..6],
            [
                "generate_image",
                "get_job_status",
                "list_generations",
                "list_jobs",
                "wait_for_completion",
                "generate_image_and_wait",
            ]
        );
        for tool in &tools {
            assert_eq!(tool.input_schema["type"], "object", "{} input schema", tool.name);
            assert_eq!(tool.output_schema["type"], "object", "{} output schema", tool.name);
            // Failure results are validated against the same schema by clients.
            assert_eq!(
                tool.output_schema["required"],
                serde_json::json!(["success"]),
                "{}",
                tool.name
            );
            // Every tool that takes arguments can fail on them, and says why in `error` (tools
            // without arguments declare it when they read storage; the wire-contract tests check
            // each schema declares exactly the fields its results send).
            let takes_arguments = tool.input_schema["properties"]
                .as_object()
                .is_some_and(|p| !p.is_empty());
            if takes_arguments {
                assert!(
                    tool.output_schema["properties"]["error"].is_object(),
                    "{}: error field",
                    tool.name
                );
            }
            assert!(!tool.description.is_empty() && !tool.title.is_empty());
        }
    }

    #[test]
    fn an_unknown_tool_is_named_cut_short_with_the_known_ones() {
        let short = unknown_tool("draw").object()["error"].as_str().unwrap().to_string();
        assert!(
            short.starts_with("Unknown tool: draw. Available tools: generate_image, "),
            "{short}"
        );
        let huge = format!(
            "{}{}",
            "t".repeat(crate::catalog::ECHO_MAX_CHARS),
            "Z".repeat(1_000_000)
        );
        let output = unknown_tool(&huge);
        let object = output.object();
        let error = object["error"].as_str().unwrap();
        assert!(output.is_error);
        assert!(!error.contains('Z') && error.len() < 512, "{error}");
        assert!(error.contains("list_models"), "{error}");
    }

    #[test]
    fn tool_names_are_unique() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
        assert!(find("delete_everything").is_none());
        assert!(find("list_jobs").is_some());
    }

    #[test]
    fn the_original_generators_are_annotated_as_such_and_its_readers_as_read_only() {
        for tool in list(version::LATEST) {
            match tool.name.as_str() {
                "generate_image" | "generate_image_and_wait" => {
                    assert!(
                        !tool.annotations.read_only_hint && tool.annotations.open_world_hint,
                        "{}",
                        tool.name
                    );
                    assert!(
                        !tool.annotations.idempotent_hint && !tool.annotations.destructive_hint,
                        "{}",
                        tool.name
                    );
                }
                "get_job_status" | "list_generations" | "list_jobs" | "wait_for_completion" => {
                    assert!(
                        tool.annotations.read_only_hint && tool.annotations.idempotent_hint,
                        "{}",
                        tool.name
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_scope_a_tool_needs_follows_whether_it_only_reads() {
        for tool in TOOLS {
            let expected = if tool.hints.read_only {
                Scope::Read
            } else {
                Scope::Write
            };
            assert_eq!(tool.scope, expected, "{}", tool.name);
        }
    }

    #[test]
    fn a_valid_value_for_every_field_parses_into_each_tools_arguments() {
        for tool in TOOLS {
            let sample = args::samples::full_sample(&(tool.typed.fields)());
            (tool.typed.parse)(&sample).unwrap_or_else(|e| panic!("{}: {e} for {sample:?}", tool.name));
        }
    }

    /// A tool with every per-revision extra, for the listing tests: its own `_meta` entry, an
    /// icon, `execution`, and no images of its own.
    pub(crate) fn tool_with_extras() -> ToolSpec {
        ToolSpec {
            reports_images: false,
            extras: Extras {
                execution: Some(TaskSupport::Optional),
                meta: Some(|| json!({"example.com/tag": "x"}).as_object().cloned().unwrap_or_default()),
                icon: Some(icons::EDIT),
                viewer: false,
            },
            ..*TOOLS[0]
        }
    }

    #[test]
    fn extras_are_listed_only_to_revisions_that_define_them() {
        let tool = tool_with_extras();
        let listed = |revision: &str| serde_json::to_value(tool.to_tool(revision)).unwrap();
        for revision in ["2024-11-05", "2025-03-26"] {
            let plain = listed(revision);
            for field in ["execution", "icons", "_meta"] {
                assert!(plain.get(field).is_none(), "{revision} has no {field}");
            }
        }
        let june = listed("2025-06-18");
        assert_eq!(
            june["_meta"],
            json!({"example.com/tag": "x"}),
            "no ui: it shows no images"
        );
        assert!(june.get("icons").is_none() && june.get("execution").is_none());
        let november = listed("2025-11-25");
        assert_eq!(november["execution"], json!({"taskSupport": "optional"}));
        assert_eq!(november["icons"], json!(icons::EDIT.icons()));
        let stateless = listed("2026-07-28");
        assert!(stateless.get("execution").is_none(), "2026-07-28 has no execution");
        assert_eq!(stateless["icons"], json!(icons::EDIT.icons()));
        // A tool without extras shows no images and carries the server's icon, no `_meta`.
        let plain_tool = ToolSpec {
            reports_images: false,
            extras: Extras::NONE,
            ..*TOOLS[0]
        };
        for revision in version::all() {
            let plain = serde_json::to_value(plain_tool.to_tool(revision)).unwrap();
            assert!(
                plain.get("execution").is_none() && plain.get("_meta").is_none(),
                "{revision}"
            );
            let icons = version::tool_has(revision, "icons").then(|| json!(icons::SERVER.icons()));
            assert_eq!(plain.get("icons").cloned(), icons, "{revision}");
        }
    }

    #[test]
    fn tools_that_make_or_read_images_name_the_viewer_and_keep_their_own_meta() {
        let with_ui: Vec<&str> = TOOLS.iter().filter(|t| t.shows_images()).map(|t| t.name).collect();
        // Issue 21's list and generate_image (its jobs become images in the viewer); a later tool
        // that makes images joins through `reports_images`.
        for name in [
            "generate_image",
            "get_job_status",
            "list_generations",
            "wait_for_completion",
            "generate_image_and_wait",
            "edit_image",
            "generate_variations",
        ] {
            assert!(with_ui.contains(&name), "{name} must open the viewer: {with_ui:?}");
        }
        for name in ["list_jobs", "list_models", "get_usage"] {
            assert!(!with_ui.contains(&name), "{name} shows no images");
        }
        for tool in TOOLS {
            for revision in version::all() {
                let listed = serde_json::to_value(tool.to_tool(revision)).unwrap();
                let ui = listed.pointer("/_meta/ui/resourceUri");
                let expected = tool.shows_images() && version::tool_has(revision, "_meta");
                assert_eq!(ui.is_some(), expected, "{} at {revision}", tool.name);
                if let Some(uri) = ui {
                    assert_eq!(uri, crate::urls::VIEWER_RESOURCE_URI);
                }
            }
        }
        // A tool's own `_meta` entries stay beside `ui`.
        let both = ToolSpec {
            extras: Extras {
                viewer: true,
                ..tool_with_extras().extras
            },
            ..tool_with_extras()
        };
        let listed = serde_json::to_value(both.to_tool(version::LATEST)).unwrap();
        assert_eq!(listed["_meta"]["example.com/tag"], "x");
        assert_eq!(listed["_meta"]["ui"]["resourceUri"], crate::urls::VIEWER_RESOURCE_URI);
    }
}
