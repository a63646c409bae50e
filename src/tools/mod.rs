//! The six tools: their definitions (schema, annotations, output schema) and the call dispatcher.

pub mod args;
pub mod generate;
pub mod listing;
pub mod output;
pub mod status;
pub mod wait;

use serde_json::{Map, Value};
use worker::Env;

use crate::config::Config;
use crate::jobs::JobStore;
use crate::protocol::mcp::{CallToolResult, Tool, ToolAnnotations};
use crate::protocol::progress::ProgressSink;
use args::{input_schema, validate, Args, Field};
use output::{ToolError, ToolOutput};

/// Everything a tool may use while handling one call. Owned, so a call can outlive the
/// request handler when its response is streamed.
#[derive(Clone)]
pub struct ToolContext {
    pub env: Env,
    pub config: Config,
    /// Origin of the request (scheme://host[:port]), for absolute image URLs served by this worker.
    pub origin: String,
    /// Present when the client asked for progress and the transport can deliver it.
    pub progress: Option<ProgressSink>,
}

impl ToolContext {
    pub fn store(&self) -> Result<JobStore, ToolError> {
        let db = self.env.d1("DB").map_err(|e| ToolError::Binding(format!("DB: {e}")))?;
        Ok(JobStore::new(db))
    }

    pub fn image_url(&self, stored: Option<&str>) -> Option<String> {
        stored.map(|url| crate::pipeline::storage::absolute_image_url(url, &self.origin))
    }
}

/// The tools in the order `tools/list` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolName {
    GenerateImage,
    GetJobStatus,
    ListGenerations,
    ListJobs,
    WaitForCompletion,
    GenerateImageAndWait,
}

impl ToolName {
    pub const ALL: [ToolName; 6] = [
        ToolName::GenerateImage,
        ToolName::GetJobStatus,
        ToolName::ListGenerations,
        ToolName::ListJobs,
        ToolName::WaitForCompletion,
        ToolName::GenerateImageAndWait,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::GenerateImage => "generate_image",
            ToolName::GetJobStatus => "get_job_status",
            ToolName::ListGenerations => "list_generations",
            ToolName::ListJobs => "list_jobs",
            ToolName::WaitForCompletion => "wait_for_completion",
            ToolName::GenerateImageAndWait => "generate_image_and_wait",
        }
    }

    pub fn from_name(name: &str) -> Option<ToolName> {
        ToolName::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The single definition each tool's schema, validation, listing and docs come from.
    pub fn definition(self) -> ToolDefinition {
        match self {
            ToolName::GenerateImage => generate::definition(),
            ToolName::GetJobStatus => status::definition(),
            ToolName::ListGenerations => listing::generations_definition(),
            ToolName::ListJobs => listing::jobs_definition(),
            ToolName::WaitForCompletion => wait::definition(),
            ToolName::GenerateImageAndWait => generate::and_wait_definition(),
        }
    }
}

/// A tool as this server describes it.
pub struct ToolDefinition {
    pub name: ToolName,
    pub title: &'static str,
    pub description: String,
    pub fields: Vec<Field>,
    pub output_schema: Value,
    /// Reads only; never changes jobs or images.
    pub read_only: bool,
}

impl ToolDefinition {
    pub fn to_tool(&self) -> Tool {
        Tool {
            name: self.name.as_str().to_string(),
            title: self.title.to_string(),
            description: self.description.clone(),
            input_schema: input_schema(&self.fields),
            output_schema: self.output_schema.clone(),
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

pub fn list() -> Vec<Tool> {
    ToolName::ALL
        .into_iter()
        .map(|name| name.definition().to_tool())
        .collect()
}

/// Runs a tool. Unknown names and bad arguments are tool errors (`isError`), not protocol errors.
pub async fn call(ctx: &ToolContext, name: &str, arguments: &Map<String, Value>) -> CallToolResult {
    let Some(tool) = ToolName::from_name(name) else {
        let known: Vec<&str> = ToolName::ALL.iter().map(|t| t.as_str()).collect();
        return ToolOutput::error_message(format!("Unknown tool: {name}. Available tools: {}", known.join(", ")))
            .into_result();
    };
    let definition = tool.definition();
    let outcome = match validate(&definition.fields, arguments) {
        Ok(args) => run(ctx, tool, &args).await,
        Err(error) => Err(ToolError::Args(error)),
    };
    let mut output = match outcome {
        Ok(output) => output,
        Err(error) => {
            if !matches!(error, ToolError::Args(_)) {
                worker::console_error!("tool {} failed: {error}", tool.as_str());
            }
            ToolOutput::error_message(error)
        }
    };
    // Every result that can carry an image URL says where the picture came from.
    if matches!(
        tool,
        ToolName::GenerateImage | ToolName::GenerateImageAndWait | ToolName::WaitForCompletion
    ) {
        output.note_preview_backend(ctx.config.image_backend);
    }
    output.into_result()
}

async fn run(ctx: &ToolContext, tool: ToolName, args: &Args) -> Result<ToolOutput, ToolError> {
    match tool {
        ToolName::GenerateImage => generate::handle(ctx, args).await,
        ToolName::GetJobStatus => status::handle(ctx, args).await,
        ToolName::ListGenerations => listing::handle_generations(ctx, args).await,
        ToolName::ListJobs => listing::handle_jobs(ctx, args).await,
        ToolName::WaitForCompletion => wait::handle(ctx, args).await,
        ToolName::GenerateImageAndWait => generate::handle_and_wait(ctx, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_tools_in_the_original_order_with_schemas() {
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
                "generate_image_and_wait"
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
            assert!(
                tool.output_schema["properties"]["error"].is_object(),
                "{} lacks error",
                tool.name
            );
            assert!(!tool.description.is_empty() && !tool.title.is_empty());
        }
    }

    #[test]
    fn read_tools_are_annotated_read_only_and_generators_are_not_destructive() {
        for tool in list() {
            let generates = tool.name.starts_with("generate");
            assert_eq!(tool.annotations.read_only_hint, !generates, "{}", tool.name);
            assert!(!tool.annotations.destructive_hint, "{}", tool.name);
        }
    }

    #[test]
    fn tool_names_round_trip() {
        for tool in ToolName::ALL {
            assert_eq!(ToolName::from_name(tool.as_str()), Some(tool));
        }
        assert_eq!(ToolName::from_name("delete_everything"), None);
    }
}
