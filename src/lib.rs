//! MCP image-generation server for Cloudflare Workers.
use worker::*;

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::ok("skeleton")
}
