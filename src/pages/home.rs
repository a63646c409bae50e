//! The discovery page at GET /: what this server is, its tools, endpoints and client setup.
//!
//! Everything shown comes from the caller (the typed tool table, models, protocol
//! revisions, request origin), so the page cannot drift from the code. The page is
//! one self-contained HTML document: inline CSS (home.css), no scripts, no external assets.
//! Every piece of text inserted into it goes through [`html_escape`] (`crate::html::escape`).

use serde_json::{json, Value};

use crate::html::escape as html_escape;
use crate::models::{ImageModel, ModelSpec};
use crate::oauth::paths;
use crate::prompts::PromptSpec;
use crate::tools::{Field, FieldKind, Scope, ToolSpec};

/// What the page needs to know; everything comes from the tool definitions and the request.
pub struct HomePage<'a> {
    /// e.g. "https://imagemcp.example.com" or "http://localhost:8787" (no trailing slash)
    pub origin: &'a str,
    pub server_name: &'a str,
    pub server_version: &'a str,
    /// The tool table, as `tools/list` serves it.
    pub tools: &'a [&'a ToolSpec],
    /// Image models, default first.
    pub models: &'a [ModelSpec],
    /// The prompt templates, as `prompts/list` serves them.
    pub prompts: &'a [PromptSpec],
    /// Supported MCP protocol revisions, newest first.
    pub protocol_versions: &'a [&'a str],
    /// true when images come from the offline preview backend rather than a model.
    pub preview_backend: bool,
    /// The OpenAI-compatible images API's routes.
    pub images_api: &'a [ApiRoute],
}

/// One route of the OpenAI-compatible images API, as the page lists it.
pub struct ApiRoute {
    pub method: &'static str,
    /// e.g. `/v1/models/{id}`.
    pub path: String,
    pub summary: &'static str,
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
    out.push_str(GALLERY_LINK);
    out.push_str(NAV);
    out.push_str(&endpoints_section(page.origin, page.images_api));
    out.push_str(&auth_section());
    out.push_str(&tools_section(page.tools));
    out.push_str(&models_section(page.models));
    out.push_str(&prompts_section(page.prompts));
    out.push_str(&clients_section(page.origin));
    out.push_str(&openai_section(page.origin));
    out.push_str(&protocol_section(page.protocol_versions));
    out.push_str(&footer(page));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

// ---------------------------------------------------------------------------
// Page frame
// ---------------------------------------------------------------------------

/// Inlined into the page so it stays one self-contained document.
const STYLE: &str = include_str!("home.css");

fn head(page: &HomePage) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{name} · MCP image generation server</title>\n<style>\n{STYLE}</style>\n</head>\n",
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

/// People browse the generated images in the gallery (`pages::gallery`).
const GALLERY_LINK: &str = "<p><a href=\"/gallery\">Open the image gallery</a> to browse every generated image \
(sign in with the access token).</p>\n";

const NAV: &str = "<nav aria-label=\"On this page\"><ul>\
<li><a href=\"#endpoints\">Endpoints</a></li>\
<li><a href=\"#auth\">Authentication</a></li>\
<li><a href=\"#tools\">Tools</a></li>\
<li><a href=\"#models\">Models</a></li>\
<li><a href=\"#prompts\">Prompts</a></li>\
<li><a href=\"#clients\">Client setup</a></li>\
<li><a href=\"#openai\">OpenAI images API</a></li>\
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

fn endpoints_section(origin: &str, images_api: &[ApiRoute]) -> String {
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
            format!("{origin}/gallery"),
            "Image gallery for people: every job newest first, filters, a page per image. \
             Sign in with the access token.",
        ),
        (
            "GET",
            format!("{origin}/health"),
            "Liveness check with the server version.",
        ),
        (
            "GET",
            format!("{origin}{}", paths::PROTECTED_RESOURCE),
            "OAuth protected-resource metadata (RFC 9728); also <code>…/mcp</code> and <code>…/sse</code>.",
        ),
        (
            "GET",
            format!("{origin}{}", paths::AUTHORIZATION_SERVER),
            "OAuth authorization server metadata (RFC 8414).",
        ),
        (
            "POST",
            format!("{origin}{}", paths::REGISTER),
            "OAuth Dynamic Client Registration (RFC 7591).",
        ),
        (
            "GET",
            format!("{origin}{}", paths::AUTHORIZE),
            "OAuth authorization endpoint: the consent page, signed in with a key's token (PKCE S256).",
        ),
        (
            "POST",
            format!("{origin}{}", paths::TOKEN),
            "OAuth token endpoint: authorization codes and rotating refresh tokens.",
        ),
        (
            "POST",
            format!("{origin}{}", paths::REVOKE),
            "OAuth token revocation (RFC 7009).",
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
    for route in images_api {
        html.push_str(&format!(
            "<tr><td>{}</td><td><code>{origin}{}</code></td><td>{}</td></tr>\n",
            html_escape(route.method),
            html_escape(&route.path),
            html_escape(route.summary)
        ));
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    html
}

fn auth_section() -> String {
    let scopes: String = Scope::ALL
        .iter()
        .map(|scope| {
            format!(
                "<li><code>{}</code>: {}</li>",
                html_escape(scope.name()),
                html_escape(scope.description())
            )
        })
        .collect();
    format!(
        "<section id=\"auth\">\n<h2>Authentication</h2>\n\
<p>Every MCP request, on either transport, must carry the header \
<code>Authorization: Bearer &lt;AUTH_TOKEN&gt;</code>, where <code>AUTH_TOKEN</code> is the secret configured \
for this Worker (for example with <code>wrangler secret put AUTH_TOKEN</code>), or a key's token from \
<code>API_KEYS</code>. Requests without it are refused. \
The snippets below use <code>YOUR_AUTH_TOKEN</code> as a placeholder.</p>\n\
<p>Hosts that speak OAuth (claude.ai, Claude Desktop and mobile, ChatGPT) need only the URL of \
<code>/mcp</code> or <code>/sse</code>: they discover the endpoints above, register, and send you to a \
consent page where you sign in with your key's token; the app then acts as that key. Scopes:</p>\n\
<ul>{scopes}</ul>\n<p>Your connected apps are listed, with Revoke, at <a href=\"/gallery/apps\">/gallery/apps</a>.</p>\n</section>\n"
    )
}

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

fn tools_section(tools: &[&ToolSpec]) -> String {
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

fn tool_card(tool: &ToolSpec) -> String {
    // The badge names what a caller needs to be allowed: reading, or starting work.
    let badge = match tool.scope {
        Scope::Read => " <span class=\"badge ro\">read-only</span>",
        Scope::Write => " <span class=\"badge gen\">generates images</span>",
    };
    format!(
        "<article class=\"tool\">\n<h3><code>{name}</code> — {title}{badge}</h3>\n<p class=\"desc\">{description}</p>\n{arguments}</article>\n",
        name = html_escape(tool.name),
        title = html_escape(tool.title),
        description = html_escape(&(tool.description)()),
        arguments = arguments_table(tool.name, &(tool.typed.fields)()),
    )
}

fn arguments_table(tool_name: &str, fields: &[Field]) -> String {
    if fields.is_empty() {
        return "<p class=\"muted\">No arguments.</p>\n".to_string();
    }
    let mut html = format!(
        "<div class=\"scroll\"><table>\n<caption class=\"sr\">Arguments of {}</caption>\n\
         <thead><tr><th scope=\"col\">Argument</th><th scope=\"col\">Type</th><th scope=\"col\">Required</th>\
         <th scope=\"col\">Limits and default</th><th scope=\"col\">Description</th></tr></thead>\n<tbody>\n",
        html_escape(tool_name)
    );
    for field in fields {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html_escape(field.name),
            type_label(&field.kind),
            if field.required { "yes" } else { "no" },
            constraints(&field.kind),
            html_escape(&field.description),
        ));
    }
    html.push_str("</tbody>\n</table></div>\n");
    html
}

fn type_label(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Text { .. } | FieldKind::Choice { .. } => "string",
        FieldKind::Integer(_) | FieldKind::OptionalInteger { .. } => "integer",
        FieldKind::Number { .. } => "number",
        FieldKind::Flag { .. } => "boolean",
        FieldKind::TextList { .. } => "array of string",
    }
}

/// A field's limits, choices and default as HTML, one per line (already escaped).
fn constraints(kind: &FieldKind) -> String {
    let code = |text: &str| format!("<code>{}</code>", html_escape(text));
    let parts: Vec<String> = match kind {
        FieldKind::Text { min_len, max_len } => vec![count_range(*min_len, *max_len, "character", "characters")],
        FieldKind::Choice { options, default } => {
            let mut parts = vec![format!(
                "one of {}",
                options.iter().map(|o| code(o)).collect::<Vec<_>>().join(", ")
            )];
            parts.extend(default.map(|default| format!("default {}", code(default))));
            parts
        }
        FieldKind::OptionalInteger { min, max } => vec![format!("{min}–{max}")],
        FieldKind::Number { min, max } => vec![format!("{min}–{max}")],
        FieldKind::Flag { default } => vec![format!("default {}", code(&default.to_string()))],
        FieldKind::Integer(limit) => vec![
            html_escape(&limit.range_text().replace('-', "–")),
            format!("default {}", code(&limit.default.to_string())),
        ],
        FieldKind::TextList {
            min_items,
            max_items,
            max_len,
        } => vec![
            count_range(*min_items, Some(*max_items), "item", "items"),
            format!("each at most {max_len} characters"),
        ],
    };
    parts.join("<br>")
}

/// "3–1000 characters", "at least 1 character".
fn count_range(min: usize, max: Option<usize>, one: &str, many: &str) -> String {
    match max {
        Some(max) => format!("{min}–{max} {}", if max == 1 { one } else { many }),
        None => format!("at least {min} {}", if min == 1 { one } else { many }),
    }
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

fn prompts_section(prompts: &[PromptSpec]) -> String {
    let mut html = String::from(
        "<section id=\"prompts\">\n<h2>Prompts</h2>\n<p>Templates for common requests (<code>prompts/list</code>, \
         <code>prompts/get</code>): each leads the assistant to the tool, model and controls that suit it.</p>\n\
         <div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">What it makes</th>\
         <th scope=\"col\">Arguments</th><th scope=\"col\">Model</th></tr></thead>\n<tbody>\n",
    );
    for prompt in prompts {
        let arguments: Vec<String> = prompt
            .arguments
            .iter()
            .map(|argument| match argument.default {
                None => format!("<code>{}</code> (required)", html_escape(argument.name)),
                Some(_) => format!("<code>{}</code>", html_escape(argument.name)),
            })
            .collect();
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            html_escape(prompt.name),
            html_escape(prompt.description),
            arguments.join(", "),
            html_escape(prompt.model().name()),
        ));
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    html
}

fn models_section(models: &[ModelSpec]) -> String {
    let mut html = String::from(
        "<section id=\"models\">\n<h2>Models</h2>\n<p>Pick one with the <code>model</code> argument; \
         every image is generated on Cloudflare Workers AI.</p>\n<div class=\"scroll\"><table>\n\
         <thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Workers AI model</th><th scope=\"col\">Parameters</th>\
         <th scope=\"col\">Typical time</th><th scope=\"col\">Price</th></tr></thead>\n<tbody>\n",
    );
    for model in models {
        let marker = if model.model() == ImageModel::DEFAULT {
            " <span class=\"muted\">(default)</span>"
        } else {
            ""
        };
        html.push_str(&format!(
            "<tr><td><code>{}</code>{marker}</td><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html_escape(model.name),
            html_escape(model.page),
            html_escape(model.workers_ai_id),
            html_escape(&model.params_text()),
            html_escape(model.typical_time),
            html_escape(&model.price_text()),
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

/// How to point an OpenAI client at this server: base URL `<origin>/v1`, the token as the key.
fn openai_section(origin: &str) -> String {
    let base_url = format!("{origin}/v1");
    let aliases: Vec<String> = crate::models::OPENAI_ALIASES
        .iter()
        .map(|(alias, model)| {
            format!(
                "<code>{}</code> → <code>{}</code>",
                html_escape(alias),
                html_escape(model.name())
            )
        })
        .collect();
    let mut html = format!(
        "<section id=\"openai\">\n<h2>OpenAI images API</h2>\n\
         <p>Clients that speak OpenAI&#39;s images API (the <code>openai</code> SDKs, LangChain, LibreChat, n8n, …) \
         work with this server: set the base URL to <code>{base}</code> and the API key to this server&#39;s token \
         (or a named key). Jobs, quotas, the rate limit and the gallery are the same as over MCP. \
         <code>model</code> takes this server&#39;s models or an OpenAI name: {aliases} (the default is \
         <code>{default}</code>); <code>size</code> is <code>WIDTHxHEIGHT</code> within the model&#39;s rules or \
         <code>auto</code>; <code>quality</code>, <code>style</code> and <code>user</code> are accepted and ignored. \
         A request waits for its images like <code>generate_image_and_wait</code>; if they are not ready in time the \
         answer is a 504 naming the job ids, and the jobs go on.</p>\n",
        base = html_escape(&base_url),
        aliases = aliases.join(", "),
        default = html_escape(crate::catalog::OPENAI_DEFAULT_MODEL),
    );
    html.push_str(&snippet(
        "Python (pip install openai)",
        &format!(
            "from openai import OpenAI\n\nclient = OpenAI(base_url=\"{base_url}\", api_key=\"{TOKEN_PLACEHOLDER}\")\n\
             image = client.images.generate(prompt=\"a golden sunset over the ocean\", model=\"dall-e-3\", size=\"1024x1024\")\n\
             print(image.data[0].url)"
        ),
    ));
    html.push_str(&snippet(
        "Node.js (npm install openai)",
        &format!(
            "import OpenAI from \"openai\";\n\nconst client = new OpenAI({{ baseURL: \"{base_url}\", apiKey: \"{TOKEN_PLACEHOLDER}\" }});\n\
             const image = await client.images.generate({{ prompt: \"a golden sunset over the ocean\" }});\n\
             console.log(image.data[0].url);"
        ),
    ));
    html.push_str(&snippet(
        "curl",
        &format!(
            "curl -sS {base_url}/images/generations \\\n  -H \"Content-Type: application/json\" \\\n  \
             -H \"Authorization: Bearer {TOKEN_PLACEHOLDER}\" \\\n  -d '{{\"prompt\": \"a golden sunset over the ocean\", \"n\": 1}}'"
        ),
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
    use crate::models::MODELS;
    use crate::protocol::version;
    use crate::tools::{Typed, TOOLS};

    const ORIGIN: &str = "https://imagemcp.example.com";

    fn render_real(origin: &str, preview_backend: bool) -> String {
        let versions: Vec<&str> = version::all().collect();
        render(&HomePage {
            origin,
            server_name: "mcp-image-generator",
            server_version: "3.0.0",
            tools: TOOLS,
            models: &MODELS,
            prompts: crate::prompts::PROMPTS,
            protocol_versions: &versions,
            preview_backend,
            images_api: &[ApiRoute {
                method: "POST",
                path: "/v1/images/generations".to_string(),
                summary: "images from a prompt",
            }],
        })
    }

    #[test]
    fn the_openai_api_is_listed_with_its_base_url_key_and_model_names() {
        let html = render_real(ORIGIN, false);
        assert!(html.contains(&format!(
            "<tr><td>POST</td><td><code>{ORIGIN}/v1/images/generations</code></td><td>images from a prompt</td></tr>"
        )));
        assert!(html.contains("<section id=\"openai\">"));
        assert!(html.contains(&format!("set the base URL to <code>{ORIGIN}/v1</code>")));
        assert!(html.contains(&format!(
            "OpenAI(base_url=&quot;{ORIGIN}/v1&quot;, api_key=&quot;YOUR_AUTH_TOKEN&quot;)"
        )));
        assert!(html.contains(&format!("baseURL: &quot;{ORIGIN}/v1&quot;")));
        assert!(
            html.contains("<code>dall-e-3</code> → <code>flux-2-dev</code>"),
            "the OpenAI names and their models"
        );
        assert!(html.contains("the default is <code>dall-e-2</code>"));
    }

    #[test]
    fn renders_a_full_html_document() {
        let html = render_real(ORIGIN, false);
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<title>mcp-image-generator · MCP image generation server</title>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(
            html.contains("<style>\n/* The discovery page."),
            "the stylesheet is inlined"
        );
        assert!(html.trim_end().ends_with("</html>"));
        assert!(!html.contains("<script"), "the page needs no scripts");
    }

    #[test]
    fn lists_the_authorization_endpoints_and_every_scope() {
        let html = render_real(ORIGIN, false);
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-authorization-server",
            "/oauth/register",
            "/oauth/authorize",
            "/oauth/token",
            "/oauth/revoke",
        ] {
            assert!(html.contains(&format!("<code>{ORIGIN}{path}</code>")), "{path}");
        }
        for scope in Scope::ALL {
            assert!(html.contains(&format!("<code>{}</code>", scope.name())), "{scope:?}");
        }
    }

    #[test]
    fn links_to_the_gallery() {
        let html = render_real(ORIGIN, false);
        assert!(html.contains("<a href=\"/gallery\">Open the image gallery</a>"));
        assert!(html.contains(&format!("<code>{ORIGIN}/gallery</code>")));
    }

    #[test]
    fn every_tool_and_every_argument_of_the_tool_table_appears() {
        let html = render_real(ORIGIN, false);
        for tool in TOOLS {
            assert!(
                html.contains(&format!("<code>{}</code> — {}", tool.name, tool.title)),
                "tool {}",
                tool.name
            );
            for field in (tool.typed.fields)() {
                assert!(
                    html.contains(&format!("<td><code>{}</code></td>", field.name)),
                    "argument {} of {} missing",
                    field.name,
                    tool.name
                );
            }
        }
    }

    #[test]
    fn argument_limits_defaults_enums_and_required_are_rendered() {
        let html = render_real(ORIGIN, false);
        assert!(html.contains("3–1000 characters"));
        assert!(html.contains("1–20<br>default <code>1</code>"));
        assert!(html.contains("1–50<br>default <code>10</code>"));
        assert!(html.contains("at least 0<br>default <code>0</code>"));
        assert!(html.contains("1–20 items<br>each at most 64 characters"));
        assert!(html.contains("array of string"));
        assert!(html.contains("one of <code>flux-schnell</code>, <code>flux-2-dev</code>"));
        let last_text_model = MODELS
            .iter()
            .rev()
            .find(|spec| spec.model().draws_from_text())
            .unwrap()
            .name;
        let default = ImageModel::DEFAULT.name();
        assert!(html.contains(&format!(
            "<code>{last_text_model}</code><br>default <code>{default}</code>"
        )));
        let last_status = crate::jobs::StatusFilter::NAMES.last().unwrap();
        assert!(html.contains(&format!("<code>{last_status}</code><br>default <code>all</code>")));
        assert!(html.contains("<td><code>prompt</code></td><td>string</td><td>yes</td>"));
        assert!(html.contains("<td><code>model</code></td><td>string</td><td>no</td>"));
    }

    #[test]
    fn badge_follows_the_read_only_flag() {
        let html = render_real(ORIGIN, false);
        let read_only = TOOLS.iter().filter(|t| t.scope == Scope::Read).count();
        assert_eq!(html.matches("badge ro\">read-only").count(), read_only);
        assert_eq!(
            html.matches("badge gen\">generates images").count(),
            TOOLS.len() - read_only
        );
    }

    #[test]
    fn origin_is_substituted_into_endpoints_and_client_configs() {
        let html = render_real(ORIGIN, false);
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
        fn evil_description() -> String {
            "<script>alert(1)</script>".to_string()
        }
        fn evil_fields() -> Vec<Field> {
            vec![Field::new(
                "a\"rg",
                "<img src=x onerror=alert(2)>",
                FieldKind::Choice {
                    options: vec!["</code><script>"],
                    default: Some("&"),
                },
            )]
        }
        let evil_tool = ToolSpec {
            name: "x<b>y",
            title: "T'itle",
            description: evil_description,
            typed: Typed {
                fields: evil_fields,
                ..TOOLS[0].typed
            },
            ..*TOOLS[0]
        };
        let origin = "https://evil.test/\"><script>alert(3)</script>";
        let html = render(&HomePage {
            origin,
            server_name: "<i>name</i>",
            server_version: "1\"",
            tools: &[&evil_tool],
            prompts: &[],
            models: &MODELS,
            protocol_versions: &["<v>"],
            preview_backend: false,
            images_api: &[],
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
    fn preview_notice_appears_only_for_the_preview_backend() {
        assert!(render_real(ORIGIN, true).contains("Preview backend active"));
        assert!(!render_real(ORIGIN, false).contains("Preview backend active"));
        assert!(!render_real(ORIGIN, false).contains("class=\"notice\""));
    }

    #[test]
    fn models_and_all_five_protocol_revisions_are_listed_with_default_marked() {
        let html = render_real(ORIGIN, false);
        for model in &MODELS {
            assert!(
                html.contains(model.name) && html.contains(model.workers_ai_id),
                "{}",
                model.name
            );
            assert!(
                html.contains(&html_escape(&model.params_text())),
                "{} parameters",
                model.name
            );
        }
        assert!(html.contains("<code>flux-schnell</code> <span class=\"muted\">(default)</span>"));
        assert_eq!(html.matches("(default)").count(), 1);
        for revision in version::all() {
            assert!(
                html.contains(&format!("<li><code>{revision}</code></li>")),
                "{revision} missing"
            );
        }
        assert!(html.contains("<li><code>2026-07-28</code></li><li><code>2025-11-25</code></li>"));
    }

    #[test]
    fn an_empty_tool_table_says_so() {
        let html = render(&HomePage {
            origin: ORIGIN,
            server_name: "s",
            server_version: "1",
            tools: &[],
            prompts: &[],
            models: &[],
            protocol_versions: &[],
            preview_backend: false,
            images_api: &[],
        });
        assert!(html.contains("No tools are registered."));
    }

    #[test]
    fn page_stays_small() {
        let html = render_real(ORIGIN, true);
        // 12 tools, 11 models and 7 prompts, each described once.
        assert!(html.len() < 44 * 1024, "page is {} bytes", html.len());
        // Set HOME_PAGE_SAMPLE=/path/page.html to write the page out for a visual check.
        if let Ok(path) = std::env::var("HOME_PAGE_SAMPLE") {
            let _ = std::fs::write(path, &html);
        }
    }
}
