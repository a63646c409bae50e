//! The discovery page at GET /: what this server is, its tools, endpoints and client setup.
//!
//! Everything shown comes from the caller (tool definitions, models, protocol
//! revisions, request origin), so the page cannot drift from the code. The page is
//! one self-contained HTML document: inline CSS, no scripts, no external assets.
//! Every piece of text inserted into it goes through [`html_escape`].

use serde_json::{json, Value};

/// What the page needs to know; everything comes from the tool definitions and the request.
pub struct HomePage<'a> {
    /// e.g. "https://imagemcp.example.com" or "http://localhost:8787" (no trailing slash)
    pub origin: &'a str,
    pub server_name: &'a str,
    pub server_version: &'a str,
    /// The `tools/list` entries as JSON values (name, title, description, inputSchema, annotations).
    pub tools: &'a [Value],
    /// Image models: (name, Workers AI id, typical time).
    pub models: &'a [(&'a str, &'a str, &'a str)],
    /// Supported MCP protocol revisions, newest first.
    pub protocol_versions: &'a [&'a str],
    /// true when images come from the offline preview backend rather than a model.
    pub preview_backend: bool,
}

/// Placeholder shown wherever a client needs the secret; never the real token.
const TOKEN_PLACEHOLDER: &str = "YOUR_AUTH_TOKEN";
/// Name the snippets register the server under in client configs.
const CLIENT_SERVER_KEY: &str = "image-generator";

/// Renders the whole page.
pub fn render(page: &HomePage) -> String {
    let mut out = String::with_capacity(24 * 1024);
    out.push_str(&head(page));
    out.push_str("<body>\n<main>\n");
    out.push_str(&intro(page));
    if page.preview_backend {
        out.push_str(PREVIEW_NOTICE);
    }
    out.push_str(NAV);
    out.push_str(&endpoints_section(page.origin));
    out.push_str(AUTH_SECTION);
    out.push_str(&tools_section(page.tools));
    out.push_str(&models_section(page.models, default_model(page.tools).as_deref()));
    out.push_str(&clients_section(page.origin));
    out.push_str(&protocol_section(page.protocol_versions));
    out.push_str(&footer(page));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Escapes the five characters that matter in HTML text and quoted attributes.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Page frame
// ---------------------------------------------------------------------------

/// Colours are CSS variables so one media query gives a dark theme.
const STYLE: &str = r#"<style>
:root{color-scheme:light dark;--bg:#fff;--fg:#1c2128;--muted:#59636e;--line:#d1d9e0;--soft:#f4f6f8;--accent:#0b62c4;--ro:#1a7f37;--gen:#8250df;--warn:#fff6d6;--warnline:#c99a1e}
@media (prefers-color-scheme:dark){:root{--bg:#0e1116;--fg:#e6edf3;--muted:#9199a3;--line:#30363d;--soft:#161b22;--accent:#58a6ff;--ro:#3fb950;--gen:#c297ff;--warn:#2b2208;--warnline:#a37a10}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:62rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:2rem;margin:0}
h2{margin:2.5rem 0 .75rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{margin:1.5rem 0 .5rem}
a{color:var(--accent)}
code,pre{font:.88em/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:var(--soft);padding:.1em .3em;border-radius:4px}
td code{white-space:nowrap}
@media (max-width:40rem){td code{white-space:normal;overflow-wrap:anywhere}}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;overflow-x:auto;margin:.25rem 0 1rem}
pre code{background:none;padding:0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid var(--line);padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:var(--soft)}
.lead{font-size:1.1rem;max-width:48rem}
.muted,figcaption{color:var(--muted)}
figure{margin:0}
figcaption{font-size:.85rem}
nav ul{list-style:none;padding:0;margin:1.25rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}
.notice{background:var(--warn);border:1px solid var(--warnline);border-left-width:6px;border-radius:6px;padding:.75rem 1rem;margin:1.25rem 0}
.tool{border:1px solid var(--line);border-radius:8px;padding:0 1.1rem .25rem;margin:1rem 0}
.tool h3{margin-top:1rem}
.desc{white-space:pre-line}
.badge{display:inline-block;font-size:.72rem;font-weight:600;letter-spacing:.02em;padding:.05rem .55rem;border:1px solid currentColor;border-radius:999px;vertical-align:middle;margin-left:.5rem}
.ro{color:var(--ro)}.gen{color:var(--gen)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
</style>
"#;

fn head(page: &HomePage) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{name} · MCP image generation server</title>\n{STYLE}</head>\n",
        name = html_escape(page.server_name),
    )
}

fn intro(page: &HomePage) -> String {
    format!(
        "<header>\n<h1>{name}</h1>\n<p class=\"muted\">Model Context Protocol server · version {version}</p>\n</header>\n\
         <p class=\"lead\">This server lets AI assistants create images through the Model Context Protocol. \
         It exposes {tools} to MCP clients and renders pictures with {models} on Cloudflare Workers AI. \
         Each generation runs as a background job: start it and check on it later, or call a tool that waits \
         and answers with the finished image URL.</p>\n",
        name = html_escape(page.server_name),
        version = html_escape(page.server_version),
        tools = plural(page.tools.len(), "tool", "tools"),
        models = plural(page.models.len(), "image model", "image models"),
    )
}

const PREVIEW_NOTICE: &str = "<aside class=\"notice\" role=\"note\"><strong>Preview backend active.</strong> \
This instance runs offline for local development: images are preview pictures drawn from the prompt text, \
not output from an AI model.</aside>\n";

const NAV: &str = "<nav aria-label=\"On this page\"><ul>\
<li><a href=\"#endpoints\">Endpoints</a></li>\
<li><a href=\"#auth\">Authentication</a></li>\
<li><a href=\"#tools\">Tools</a></li>\
<li><a href=\"#models\">Models</a></li>\
<li><a href=\"#clients\">Client setup</a></li>\
<li><a href=\"#protocol\">Protocol versions</a></li>\
</ul></nav>\n";

fn footer(page: &HomePage) -> String {
    format!(
        "<footer><p class=\"muted\">{name} {version} · runs on Cloudflare Workers · \
         <a href=\"/health\">health check</a></p></footer>\n",
        name = html_escape(page.server_name),
        version = html_escape(page.server_version),
    )
}

// ---------------------------------------------------------------------------
// Endpoints and authentication
// ---------------------------------------------------------------------------

fn endpoints_section(origin: &str) -> String {
    let origin = html_escape(origin);
    let rows = [
        (
            "POST",
            format!("{origin}/mcp"),
            "MCP over Streamable HTTP: JSON-RPC 2.0 requests, bearer token required.",
        ),
        (
            "GET",
            format!("{origin}/sse"),
            "Legacy HTTP+SSE transport: opens an event stream whose first event announces the URL \
             to POST JSON-RPC messages to; replies arrive on the stream. Bearer token required.",
        ),
        (
            "GET",
            format!("{origin}/health"),
            "Liveness check with the server version.",
        ),
        (
            "GET",
            format!("{origin}/images/&lt;key&gt;"),
            "Generated images, at the URLs the tools return.",
        ),
    ];
    let mut html = String::from(
        "<section id=\"endpoints\">\n<h2>Endpoints</h2>\n<div class=\"scroll\"><table>\n\
         <thead><tr><th scope=\"col\">Method</th><th scope=\"col\">URL</th><th scope=\"col\">Purpose</th></tr></thead>\n<tbody>\n",
    );
    for (method, url, purpose) in rows {
        // `url` and `purpose` are already HTML (escaped origin, literal entities).
        html.push_str(&format!(
            "<tr><td>{method}</td><td><code>{url}</code></td><td>{purpose}</td></tr>\n"
        ));
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    html
}

const AUTH_SECTION: &str = "<section id=\"auth\">\n<h2>Authentication</h2>\n\
<p>Every MCP request, on either transport, must carry the header \
<code>Authorization: Bearer &lt;AUTH_TOKEN&gt;</code>, where <code>AUTH_TOKEN</code> is the secret configured \
for this Worker (for example with <code>wrangler secret put AUTH_TOKEN</code>). Requests without it are refused. \
The snippets below use <code>YOUR_AUTH_TOKEN</code> as a placeholder.</p>\n</section>\n";

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

fn tools_section(tools: &[Value]) -> String {
    let mut html = String::from("<section id=\"tools\">\n<h2>Tools</h2>\n");
    if tools.is_empty() {
        html.push_str("<p>No tools are registered.</p>\n");
    }
    for tool in tools {
        html.push_str(&tool_card(tool));
    }
    html.push_str("</section>\n");
    html
}

fn tool_card(tool: &Value) -> String {
    let name = text(tool, "name").unwrap_or("(unnamed)");
    let mut html = format!("<article class=\"tool\">\n<h3><code>{}</code>", html_escape(name));
    if let Some(title) = text(tool, "title") {
        html.push_str(&format!(" — {}", html_escape(title)));
    }
    html.push_str(&badge(tool));
    html.push_str("</h3>\n");
    if let Some(description) = text(tool, "description") {
        html.push_str(&format!("<p class=\"desc\">{}</p>\n", html_escape(description)));
    }
    html.push_str(&arguments_table(name, tool.get("inputSchema")));
    html.push_str("</article>\n");
    html
}

/// MCP says a missing `readOnlyHint` means the tool may change state.
fn badge(tool: &Value) -> String {
    let read_only = tool
        .pointer("/annotations/readOnlyHint")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if read_only {
        " <span class=\"badge ro\">read-only</span>".to_string()
    } else {
        " <span class=\"badge gen\">generates images</span>".to_string()
    }
}

fn arguments_table(tool_name: &str, schema: Option<&Value>) -> String {
    let properties = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty());
    let Some(properties) = properties else {
        return "<p class=\"muted\">No arguments.</p>\n".to_string();
    };
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();

    let mut html = format!(
        "<div class=\"scroll\"><table>\n<caption class=\"sr\">Arguments of {}</caption>\n\
         <thead><tr><th scope=\"col\">Argument</th><th scope=\"col\">Type</th><th scope=\"col\">Required</th>\
         <th scope=\"col\">Limits and default</th><th scope=\"col\">Description</th></tr></thead>\n<tbody>\n",
        html_escape(tool_name)
    );
    for (arg, prop) in properties {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html_escape(arg),
            html_escape(&type_label(prop)),
            if required.contains(&arg.as_str()) { "yes" } else { "no" },
            constraints(prop),
            html_escape(text(prop, "description").unwrap_or("")),
        ));
    }
    html.push_str("</tbody>\n</table></div>\n");
    html
}

/// "string", "integer", "array of string", "string | null"; "any" when the schema says nothing.
fn type_label(prop: &Value) -> String {
    let base = match prop.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "),
        _ => String::new(),
    };
    if base.is_empty() {
        return "any".to_string();
    }
    match prop.pointer("/items/type").and_then(Value::as_str) {
        Some(item) if base == "array" => format!("array of {item}"),
        _ => base,
    }
}

/// The schema's limits, choices and default as HTML, one per line (already escaped).
fn constraints(prop: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(options) = prop.get("enum").and_then(Value::as_array) {
        let options: Vec<String> = options
            .iter()
            .map(|o| format!("<code>{}</code>", html_escape(&scalar(o))))
            .collect();
        parts.push(format!("one of {}", options.join(", ")));
    }
    if let Some(range) = range_text(prop, "minLength", "maxLength", ("character", "characters")) {
        parts.push(range);
    }
    if let Some(range) = range_text(prop, "minimum", "maximum", ("", "")) {
        parts.push(range);
    }
    if let Some(range) = range_text(prop, "minItems", "maxItems", ("item", "items")) {
        parts.push(range);
    }
    if let Some(default) = prop.get("default") {
        parts.push(format!("default <code>{}</code>", html_escape(&scalar(default))));
    }
    if parts.is_empty() {
        return "—".to_string();
    }
    parts.join("<br>")
}

/// "3–1000 characters", "at least 1 character", "at most 20 items"; None when neither bound is set.
fn range_text(prop: &Value, min_key: &str, max_key: &str, (one, many): (&str, &str)) -> Option<String> {
    let min = prop.get(min_key).filter(|v| v.is_number()).map(scalar);
    let max = prop.get(max_key).filter(|v| v.is_number()).map(scalar);
    let unit = |n: &str| match (n, one.is_empty()) {
        (_, true) => String::new(),
        ("1", false) => format!(" {one}"),
        _ => format!(" {many}"),
    };
    let range = match (min, max) {
        (Some(min), Some(max)) => format!("{min}–{max}{}", unit(&max)),
        (Some(min), None) => format!("at least {min}{}", unit(&min)),
        (None, Some(max)) => format!("at most {max}{}", unit(&max)),
        (None, None) => return None,
    };
    Some(html_escape(&range))
}

/// A JSON value as plain text: strings without quotes, everything else as JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/// The default of any tool's `model` argument, so the models table can mark it.
fn default_model(tools: &[Value]) -> Option<String> {
    tools
        .iter()
        .find_map(|t| {
            t.pointer("/inputSchema/properties/model/default")
                .and_then(Value::as_str)
        })
        .map(str::to_string)
}

fn models_section(models: &[(&str, &str, &str)], default: Option<&str>) -> String {
    let mut html = String::from(
        "<section id=\"models\">\n<h2>Models</h2>\n<p>Pick one with the <code>model</code> argument; \
         every image is generated on Cloudflare Workers AI.</p>\n<div class=\"scroll\"><table>\n\
         <thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Workers AI model</th><th scope=\"col\">Typical time</th></tr></thead>\n<tbody>\n",
    );
    for (name, id, time) in models {
        let marker = if Some(*name) == default {
            " <span class=\"muted\">(default)</span>"
        } else {
            ""
        };
        html.push_str(&format!(
            "<tr><td><code>{}</code>{marker}</td><td><code>{}</code></td><td>{}</td></tr>\n",
            html_escape(name),
            html_escape(id),
            html_escape(time),
        ));
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    html
}

// ---------------------------------------------------------------------------
// Client configuration
// ---------------------------------------------------------------------------

fn clients_section(origin: &str) -> String {
    let mcp_url = format!("{origin}/mcp");
    let sse_url = format!("{origin}/sse");
    let auth_value = format!("Bearer {TOKEN_PLACEHOLDER}");
    let auth_header = format!("Authorization: {auth_value}");

    let mut html = String::from(
        "<section id=\"clients\">\n<h2>Client setup</h2>\n\
         <p>Replace <code>YOUR_AUTH_TOKEN</code> with this server&#39;s token.</p>\n",
    );

    html.push_str("<h3>Claude Code</h3>\n");
    html.push_str(&snippet(
        "Shell",
        &format!(
            "claude mcp add --transport http {CLIENT_SERVER_KEY} \\\n  {mcp_url} \\\n  --header \"{auth_header}\""
        ),
    ));

    html.push_str(&inspector(&mcp_url, &sse_url, &auth_header));

    html.push_str("<h3>Cursor</h3>\n");
    let cursor = json!({"mcpServers": {CLIENT_SERVER_KEY: {"url": mcp_url, "headers": {"Authorization": auth_value}}}});
    html.push_str(&snippet(
        "~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
        &pretty(&cursor),
    ));

    html.push_str("<h3>Better Chatbot</h3>\n");
    let chatbot = json!({"url": mcp_url, "headers": {"Authorization": auth_value}});
    html.push_str(&snippet("MCP server configuration (JSON)", &pretty(&chatbot)));

    html.push_str("<h3>curl</h3>\n");
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    html.push_str(&snippet(
        "List the tools",
        &curl(&mcp_url, &auth_header, &list.to_string()),
    ));
    let call = json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "generate_image_and_wait", "arguments": {"prompt": "a golden sunset over the ocean"}}
    });
    // Pretty-printed so the long call stays readable without scrolling.
    html.push_str(&snippet(
        "Generate an image and wait for its URL",
        &curl(&mcp_url, &auth_header, &pretty(&call)),
    ));

    html.push_str("</section>\n");
    html
}

fn inspector(mcp_url: &str, sse_url: &str, auth_header: &str) -> String {
    let mut html = String::from("<h3>MCP Inspector</h3>\n");
    html.push_str(&snippet(
        "Start the Inspector, then open the address it prints",
        "npx @modelcontextprotocol/inspector",
    ));
    html.push_str(&format!(
        "<div class=\"scroll\"><table>\n<caption class=\"sr\">MCP Inspector connection settings</caption>\n\
         <thead><tr><th scope=\"col\">Setting</th><th scope=\"col\">Streamable HTTP</th><th scope=\"col\">SSE (legacy)</th></tr></thead>\n<tbody>\n\
         <tr><th scope=\"row\">Transport type</th><td>Streamable HTTP</td><td>SSE</td></tr>\n\
         <tr><th scope=\"row\">URL</th><td><code>{mcp}</code></td><td><code>{sse}</code></td></tr>\n\
         <tr><th scope=\"row\">Header</th><td colspan=\"2\"><code>{auth}</code></td></tr>\n\
         </tbody>\n</table></div>\n",
        mcp = html_escape(mcp_url),
        sse = html_escape(sse_url),
        auth = html_escape(auth_header),
    ));
    html
}

/// A POST to the MCP endpoint; Streamable HTTP clients must accept both JSON and SSE replies.
/// `body` is JSON text without single quotes (it sits inside a single-quoted shell word).
fn curl(url: &str, auth_header: &str, body: &str) -> String {
    format!(
        "curl -sS -X POST {url} \\\n  -H \"Content-Type: application/json\" \\\n  \
         -H \"Accept: application/json, text/event-stream\" \\\n  -H \"{auth_header}\" \\\n  -d '{body}'",
        // Keep a multi-line body indented under `-d`.
        body = body.replace('\n', "\n  "),
    )
}

/// Pretty JSON; serializing a `Value` cannot realistically fail, but fall back rather than panic.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A captioned code block; the caption and code are plain text and get escaped here.
fn snippet(caption: &str, code: &str) -> String {
    format!(
        "<figure><figcaption>{}</figcaption><pre><code>{}</code></pre></figure>\n",
        html_escape(caption),
        html_escape(code)
    )
}

// ---------------------------------------------------------------------------
// Protocol versions
// ---------------------------------------------------------------------------

fn protocol_section(versions: &[&str]) -> String {
    let listed: Vec<String> = versions
        .iter()
        .map(|v| format!("<li><code>{}</code></li>", html_escape(v)))
        .collect();
    format!(
        "<section id=\"protocol\">\n<h2>Protocol versions</h2>\n\
         <p>MCP revisions this server speaks, newest first:</p>\n<ul>{}</ul>\n</section>\n",
        listed.join("")
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://imagemcp.example.com";
    const MODELS: [(&str, &str, &str); 3] = [
        (
            "flux-schnell",
            "@cf/black-forest-labs/flux-1-schnell",
            "fastest, ~7-10 s",
        ),
        (
            "sdxl-lightning",
            "@cf/bytedance/stable-diffusion-xl-lightning",
            "~15-20 s",
        ),
        (
            "sdxl-base",
            "@cf/stabilityai/stable-diffusion-xl-base-1.0",
            "highest detail, ~30-45 s",
        ),
    ];
    const VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

    fn tool(
        name: &str,
        title: &str,
        description: &str,
        read_only: bool,
        properties: Value,
        required: &[&str],
    ) -> Value {
        json!({
            "name": name, "title": title, "description": description,
            "inputSchema": {"type": "object", "properties": properties, "required": required},
            "annotations": {"readOnlyHint": read_only, "openWorldHint": false}
        })
    }

    fn generate_properties() -> Value {
        json!({
            "prompt": {"type": "string", "minLength": 3, "maxLength": 1000, "description": "What the image should show."},
            "model": {"type": "string", "enum": ["flux-schnell", "sdxl-lightning", "sdxl-base"], "default": "flux-schnell",
                      "description": "Image model to use."},
            "count": {"type": "integer", "minimum": 1, "maximum": 20, "default": 1, "description": "How many images to create."}
        })
    }

    fn paging() -> (Value, Value) {
        (
            json!({"type": "integer", "minimum": 1, "maximum": 50, "default": 10, "description": "Maximum entries to return."}),
            json!({"type": "integer", "minimum": 0, "default": 0, "description": "Entries to skip, for paging."}),
        )
    }

    fn sample_tools() -> Vec<Value> {
        let (limit, offset) = paging();
        vec![
            tool("generate_image", "Generate image",
                 "Start an image generation job and return its job_id at once. Check progress with get_job_status or wait_for_completion.",
                 false, generate_properties(), &["prompt"]),
            tool("get_job_status", "Get job status",
                 "Report a job's status (pending, processing, completed or failed) and its image URL once done.",
                 true, json!({"job_id": {"type": "string", "minLength": 1, "description": "Id returned by a generate tool."}}), &["job_id"]),
            tool("list_generations", "List generations", "Browse finished images, newest first.",
                 true, json!({"limit": limit, "offset": offset}), &[]),
            tool("list_jobs", "List jobs", "List jobs in any state, optionally filtered by status, newest first.",
                 true, json!({
                     "status": {"type": "string", "enum": ["all", "pending", "processing", "completed", "failed"], "default": "all",
                                "description": "Only jobs in this state."},
                     "limit": limit, "offset": offset
                 }), &[]),
            tool("wait_for_completion", "Wait for completion",
                 "Wait until one or more jobs finish, polling internally, and return their results.\nGive job_id or job_ids.",
                 true, json!({
                     "job_id": {"type": "string", "minLength": 1, "description": "One job to wait for."},
                     "job_ids": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 20,
                                 "description": "Several jobs to wait for."}
                 }), &[]),
            tool("generate_image_and_wait", "Generate image and wait",
                 "Generate an image and return its URL in one call; the easiest way to get a picture.",
                 false, generate_properties(), &["prompt"]),
        ]
    }

    fn render_sample(origin: &str, tools: &[Value], preview_backend: bool) -> String {
        render(&HomePage {
            origin,
            server_name: "mcp-image-generator",
            server_version: "3.0.0",
            tools,
            models: &MODELS,
            protocol_versions: &VERSIONS,
            preview_backend,
        })
    }

    #[test]
    fn renders_a_full_html_document() {
        let html = render_sample(ORIGIN, &sample_tools(), false);
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<title>mcp-image-generator · MCP image generation server</title>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(!html.contains("<script"), "the page needs no scripts");
    }

    #[test]
    fn every_tool_name_and_argument_name_appears() {
        let tools = sample_tools();
        let html = render_sample(ORIGIN, &tools, false);
        for tool in &tools {
            let name = tool["name"].as_str().unwrap();
            assert!(html.contains(&format!("<code>{name}</code>")), "tool {name} missing");
            let properties = tool["inputSchema"]["properties"].as_object().unwrap();
            for arg in properties.keys() {
                assert!(
                    html.contains(&format!("<td><code>{arg}</code></td>")),
                    "argument {arg} of {name} missing"
                );
            }
        }
    }

    #[test]
    fn argument_limits_defaults_enums_and_required_are_rendered() {
        let html = render_sample(ORIGIN, &sample_tools(), false);
        assert!(html.contains("3–1000 characters"));
        assert!(html.contains("1–20<br>default <code>1</code>"));
        assert!(html.contains("1–50<br>default <code>10</code>"));
        assert!(html.contains("at least 0<br>default <code>0</code>"));
        assert!(html.contains("1–20 items"));
        assert!(html.contains("at least 1 character<"), "singular unit for a bound of 1");
        assert!(html.contains("array of string"));
        assert!(html.contains(
            "one of <code>flux-schnell</code>, <code>sdxl-lightning</code>, <code>sdxl-base</code><br>default <code>flux-schnell</code>"
        ));
        assert!(html.contains("<code>failed</code><br>default <code>all</code>"));
        assert!(html.contains("<td><code>prompt</code></td><td>string</td><td>yes</td>"));
        assert!(html.contains("<td><code>model</code></td><td>string</td><td>no</td>"));
    }

    #[test]
    fn badge_follows_read_only_hint() {
        let html = render_sample(ORIGIN, &sample_tools(), false);
        assert_eq!(html.matches("badge ro\">read-only").count(), 4);
        assert_eq!(html.matches("badge gen\">generates images").count(), 2);
        // No annotations at all: MCP's default is "not read-only".
        let bare = [json!({"name": "bare"})];
        assert!(render_sample(ORIGIN, &bare, false).contains("badge gen"));
    }

    #[test]
    fn origin_is_substituted_into_endpoints_and_client_configs() {
        let html = render_sample(ORIGIN, &sample_tools(), false);
        assert!(html.contains(&format!(
            "claude mcp add --transport http image-generator \\\n  {ORIGIN}/mcp \\\n  --header &quot;Authorization: Bearer YOUR_AUTH_TOKEN&quot;"
        )));
        assert!(
            html.contains(&format!("&quot;url&quot;: &quot;{ORIGIN}/mcp&quot;")),
            "Cursor / Better Chatbot url"
        );
        assert!(html.contains("&quot;mcpServers&quot;"));
        assert!(
            html.contains(&format!("<code>{ORIGIN}/sse</code>")),
            "Inspector SSE variant"
        );
        assert!(html.contains(&format!("curl -sS -X POST {ORIGIN}/mcp")));
        assert!(html.contains("generate_image_and_wait") && html.contains("a golden sunset over the ocean"));
        assert!(html.contains(&format!("{ORIGIN}/health")));
        assert!(html.contains(&format!("{ORIGIN}/images/&lt;key&gt;")));
        assert!(html.contains("Authorization: Bearer &lt;AUTH_TOKEN&gt;"));
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let evil_tool = json!({
            "name": "x<b>y",
            "title": "T'itle",
            "description": "<script>alert(1)</script>",
            "inputSchema": {"properties": {"a\"rg": {"type": "string", "description": "<img src=x onerror=alert(2)>",
                                                     "enum": ["</code><script>"], "default": "&"}}}
        });
        let origin = "https://evil.test/\"><script>alert(3)</script>";
        let html = render(&HomePage {
            origin,
            server_name: "<i>name</i>",
            server_version: "1\"",
            tools: &[evil_tool],
            models: &[("m<", "id>", "t&")],
            protocol_versions: &["<v>"],
            preview_backend: false,
        });
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<i>") && !html.contains("<b>") && !html.contains("<v>"));
        assert!(!html.contains("evil.test/\""), "quote in origin must be escaped");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("https://evil.test/&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;/mcp"));
        assert!(
            html.contains("a&quot;rg") && html.contains("T&#39;itle") && html.contains("default <code>&amp;</code>")
        );
    }

    #[test]
    fn html_escape_handles_all_five_characters() {
        assert_eq!(html_escape(r#"&<>"'ok"#), "&amp;&lt;&gt;&quot;&#39;ok");
    }

    #[test]
    fn preview_notice_appears_only_for_the_preview_backend() {
        let tools = sample_tools();
        assert!(render_sample(ORIGIN, &tools, true).contains("Preview backend active"));
        assert!(!render_sample(ORIGIN, &tools, false).contains("Preview backend active"));
        assert!(!render_sample(ORIGIN, &tools, false).contains("class=\"notice\""));
    }

    #[test]
    fn models_and_protocol_versions_are_listed_with_default_marked() {
        let html = render_sample(ORIGIN, &sample_tools(), false);
        for (name, id, time) in MODELS {
            assert!(html.contains(name) && html.contains(id) && html.contains(time));
        }
        assert!(html.contains("<code>flux-schnell</code> <span class=\"muted\">(default)</span>"));
        assert_eq!(html.matches("(default)").count(), 1);
        assert!(html.contains("<li><code>2025-11-25</code></li><li><code>2025-06-18</code></li>"));
        assert!(html.contains("<code>2024-11-05</code>"));
    }

    #[test]
    fn malformed_tool_definitions_do_not_panic() {
        let odd = [
            Value::Null,
            json!("just a string"),
            json!({"name": 5, "inputSchema": "nope", "annotations": []}),
            json!({"name": "t", "inputSchema": {"properties": {"p": 7, "q": {"type": ["string", "null"], "minimum": "x"}},
                                                 "required": "p"}}),
            json!({"name": "empty", "inputSchema": {"type": "object", "properties": {}}}),
        ];
        let html = render_sample("", &odd, true);
        assert!(html.contains("(unnamed)"));
        assert!(html.contains("string | null"));
        assert!(html.contains("No arguments."));
        assert!(render_sample(ORIGIN, &[], false).contains("No tools are registered."));
    }

    #[test]
    fn sample_page_stays_small() {
        let html = render_sample(ORIGIN, &sample_tools(), true);
        assert!(html.len() < 25 * 1024, "page is {} bytes", html.len());
        // Set HOME_PAGE_SAMPLE=/path/page.html to write the sample out for a visual check.
        if let Ok(path) = std::env::var("HOME_PAGE_SAMPLE") {
            let _ = std::fs::write(path, &html);
        }
    }
}
