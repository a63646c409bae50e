//! Who this server is and what it offers: identity, capabilities, instructions, `initialize`.

use crate::catalog::{SERVER_NAME, SERVER_TITLE, SERVER_VERSION};
use crate::protocol::mcp::{
    Implementation, InitializeResult, PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
};
use crate::protocol::version;

/// Guidance for the model using this server, sent with `initialize` and `server/discover`.
pub const INSTRUCTIONS: &str = "Generates images from text prompts with Cloudflare Workers AI. \
For a finished image in one call use generate_image_and_wait. For background work use generate_image, \
then wait_for_completion with the returned job id(s). list_generations shows earlier images. \
Finished images are also resources: images://jobs/{job_id} (full size) and images://jobs/{job_id}/thumbnail. \
describe_image checks what an image shows without loading it; remove_background cuts out its subject. \
The prompts (product shot, logo, app icon, portrait, isometric illustration, sticker, wallpaper) pick the tool, \
model and controls for common requests.";

pub fn server_info() -> Implementation {
    Implementation {
        name: SERVER_NAME.to_string(),
        title: Some(SERVER_TITLE.to_string()),
        version: SERVER_VERSION.to_string(),
    }
}

pub fn initialize_result(requested: Option<&str>) -> InitializeResult {
    InitializeResult {
        protocol_version: version::negotiate(requested).to_string(),
        capabilities: ServerCapabilities {
            tools: ToolsCapability { list_changed: false },
            resources: ResourcesCapability {
                subscribe: false,
                list_changed: false,
            },
            prompts: PromptsCapability { list_changed: false },
        },
        server_info: server_info(),
        instructions: Some(INSTRUCTIONS.to_string()),
    }
}
