//! The tool table: every tool this server offers, and how a call reaches its handler.
//!
//! A tool is one module declaring a [`ToolSpec`] (name, title, description, annotations, typed
//! arguments, output schema, handler) plus one line in [`TOOLS`]. Nothing else lists tools.
//! This folder holds the tools only; what they share is in `support/` (arguments, results,
//! paging, previews, progress, the generation fields, starting and waiting), and what they do
//! with jobs, inputs and storage is in `crate::services`.

mod edit_image;
mod generate_image;
mod generate_image_and_wait;
mod generate_variations;
mod get_job_status;
mod get_usage;
mod list_generations;
mod list_jobs;
mod list_models;
mod wait_for_completion;

// The helpers (not tools) live in support/; the tools reach them by these names.
mod support;
use support::{args, generation, output, paging, previews, progress};

use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};
use worker::Env;

use crate::access::Caller;
use crate::config::Config;
use crate::jobs::JobStore;
use crate::protocol::mcp::{CallToolResult, Tool, ToolAnnotations};
#[cfg(test)]
pub use args::validate as validate_args;
pub use args::{Field, FieldKind};
pub use output::{ToolError, ToolOutput};
#[cfg(test)]
pub use previews::{blocks as preview_blocks, has_resource_links};
pub use progress::ProgressSink;

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
];

/// What a handler returns: a result object, or an error that becomes an `isError` result.
pub type ToolResult = Result<ToolOutput, ToolError>;

/// Runs one call: raw arguments in, typed inside (each handler starts with `args::parse`).
pub type Handler = for<'a> fn(&'a ToolContext, Map<String, Value>) -> LocalBoxFuture<'a, ToolResult>;

/// One tool, declared in its own module.
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: fn() -> String,
    /// The arguments: `<Args as ToolArgs>::fields`, which also gives the input schema.
    pub fields: fn() -> Vec<Field>,
    /// The handler's first step alone: validation plus reading into the typed arguments (the
    /// property tests call it; handlers need the runtime's bindings).
    #[cfg(test)]
    pub parse_args: fn(&Map<String, Value>) -> Result<(), String>,
    pub output_schema: fn() -> Value,
    /// Reads only; never changes jobs or images.
    pub read_only: bool,
    /// Results can carry image URLs, so they say when the offline preview backend drew them.
    pub reports_images: bool,
    pub handler: Handler,
    /// Every shape the tool answers with, built from its own result types (the wire-contract
    /// tests validate them against the official schema and the tool's outputSchema).
    #[cfg(test)]
    pub samples: fn() -> Vec<(&'static str, ToolOutput)>,
}

impl ToolSpec {
    pub fn to_tool(&self) -> Tool {
        Tool {
            name: self.name.to_string(),
            title: self.title.to_string(),
            description: (self.description)(),
            input_schema: args::input_schema(&(self.fields)()),
            output_schema: (self.output_schema)(),
            annotations: ToolAnnotations {
                title: self.title.to_string(),
                read_only_hint: self.read_only,
                // Generation adds images; nothing ever deletes or overwrites one.
                destructive_hint: false,
                // Reads repeat; every generate call starts new jobs.
                idempotent_hint: self.read_only,
                // Generation calls an external model; reads only touch our own storage.
                open_world_hint: !self.read_only,
            },
        }
    }
}

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().copied().find(|tool| tool.name == name)
}

pub fn list() -> Vec<Tool> {
    TOOLS.iter().map(|tool| tool.to_tool()).collect()
}

/// Everything a tool may use while handling one call. Owned, so a call can outlive the
/// request handler when its response is streamed.
#[derive(Clone)]
pub struct ToolContext {
    pub env: Env,
    pub config: Config,
    /// Whose call this is: a key sees and waits on only its own jobs.
    pub caller: Caller,
    /// Origin of the request (scheme://host[:port]), for absolute image URLs served by this worker.
    pub origin: String,
    /// Present when the client asked for progress and the transport can deliver it.
    pub progress: Option<ProgressSink>,
    /// The protocol revision the request uses, when known (header or stateless era); decides
    /// which content blocks results may carry.
    pub protocol_version: Option<String>,
}

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
    let mut output = match (tool.handler)(ctx, arguments).await {
        Ok(output) => output,
        Err(error) => {
            if !matches!(error, ToolError::Args(_)) {
                worker::console_error!("tool {} failed: {error}", tool.name);
            }
            ToolOutput::error_message(error)
        }
    };
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
mod tests {
    use super::*;

    #[test]
    fn the_original_six_tools_come_first_then_additions() {
        let tools = list();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "generate_image",
                "get_job_status",
                "list_generations",
                "list_jobs",
                "wait_for_completion",
                "generate_image_and_wait",
                "list_models",
                "get_usage",
                "edit_image",
                "generate_variations",
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
        let short = unknown_tool("draw").object["error"].as_str().unwrap().to_string();
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
        let error = output.object["error"].as_str().unwrap();
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
    fn read_tools_are_annotated_read_only_and_generators_are_not_destructive() {
        for tool in list() {
            let generates = tool.name.starts_with("generate") || tool.name == "edit_image";
            assert_eq!(tool.annotations.read_only_hint, !generates, "{}", tool.name);
            assert!(!tool.annotations.destructive_hint, "{}", tool.name);
        }
    }
}
