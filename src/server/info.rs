//! Who this server is and what it offers: identity, capabilities, instructions, `initialize`.

use crate::catalog::{SERVER_NAME, SERVER_TITLE, SERVER_VERSION};
use crate::icons;
use crate::protocol::mcp::{
    Implementation, InitializeResult, PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
};
use crate::protocol::version;

/// Guidance for the model using this server, sent with `initialize` and `server/discover`.
pub const INSTRUCTIONS: &str = "Generates images from text prompts with Cloudflare Workers AI. \
For a finished image in one call use generate_image_and_wait. For background work use generate_image, \
then wait_for_completion with the returned job id(s); cancel_job stops jobs that have not finished. \
list_generations shows earlier images. \
Finished images are also resources: images://jobs/{job_id} (full size) and images://jobs/{job_id}/thumbnail. \
describe_image checks what an image shows without loading it; remove_background cuts out its subject. \
The prompts (product shot, logo, app icon, portrait, isometric illustration, sticker, wallpaper) pick the tool, \
model and controls for common requests.";

/// This server as `revision` describes an implementation: with its icons from 2025-11-25 on
/// (`Implementation` gained `icons` with `Tool`).
pub fn server_info(revision: &str) -> Implementation {
    Implementation {
        name: SERVER_NAME.to_string(),
        title: Some(SERVER_TITLE.to_string()),
        version: SERVER_VERSION.to_string(),
        icons: version::tool_has(revision, "icons").then(|| icons::SERVER.icons()),
    }
}

pub fn initialize_result(requested: Option<&str>) -> InitializeResult {
    let revision = version::negotiate(requested);
    InitializeResult {
        protocol_version: revision.to_string(),
        capabilities: ServerCapabilities {
            tools: ToolsCapability { list_changed: false },
            resources: ResourcesCapability {
                subscribe: false,
                list_changed: false,
            },
            tasks: version::has_core_tasks(revision).then(super::tasks::core_capability),
            prompts: PromptsCapability { list_changed: false },
        },
        server_info: server_info(revision),
        instructions: Some(INSTRUCTIONS.to_string()),
    }
}
