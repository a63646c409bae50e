//! The image viewer, an MCP App (extension `io.modelcontextprotocol/ui`): one self-contained
//! HTML document, read through `resources/read` at [`VIEWER_RESOURCE_URI`], that hosts show
//! with the results of every tool whose listing names it (`_meta.ui.resourceUri`).
//!
//! Its source is the three files beside this module (page, style, script), put together here
//! into one document with nothing loaded from elsewhere. The read result's `_meta.ui.csp`
//! names the origins its images come from (this request's origin, which serves `/images/`, and
//! `PUBLIC_IMAGE_BASE_URL`'s), so a host's sandbox lets exactly those load
//! (https://github.com/modelcontextprotocol/ext-apps/blob/main/specification/2026-01-26/apps.mdx).

use serde_json::{json, Value};

use crate::http::url::http_origin;
use crate::protocol::mcp::{ReadResourceResult, ResourceContents, TextResourceContents};
pub use crate::urls::VIEWER_RESOURCE_URI;

/// The MIME type of an MCP App's HTML (`RESOURCE_MIME_TYPE` of the ext-apps SDK).
pub const APP_MIME_TYPE: &str = "text/html;profile=mcp-app";

const PAGE: &str = include_str!("viewer.html");
const STYLE: &str = include_str!("viewer.css");
const SCRIPT: &str = include_str!("viewer.js");

/// Where the page takes its parts; each occurs once in `viewer.html`.
const STYLE_SLOT: &str = "/*VIEWER_CSS*/";
const SCRIPT_SLOT: &str = "/*VIEWER_JS*/";
const CONFIG_SLOT: &str = "/*VIEWER_CONFIG*/";

/// The viewer's HTML for a server at `origin`: the gallery's image pages are its "Open" links.
pub fn document(origin: &str) -> String {
    let config = json!({ "galleryImageUrl": format!("{origin}/gallery/image/") });
    PAGE.replacen(STYLE_SLOT, STYLE, 1)
        .replacen(SCRIPT_SLOT, SCRIPT, 1)
        .replacen(CONFIG_SLOT, &script_safe_json(&config), 1)
}

/// JSON that cannot end the `<script>` element it sits in, whatever its strings hold.
fn script_safe_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `_meta.ui` of the resource (`McpUiResourceMeta`): where images load from, and a border.
pub fn resource_meta(origin: &str, public_image_base_url: Option<&str>) -> Value {
    let mut domains = vec![origin.to_string()];
    if let Some(public) = public_image_base_url.and_then(http_origin) {
        if !domains.contains(&public) {
            domains.push(public);
        }
    }
    json!({"ui": {"csp": {"resourceDomains": domains}, "prefersBorder": true}})
}

/// The `resources/read` result for the viewer, as served to a request from `origin`.
pub fn read_result(origin: &str, public_image_base_url: Option<&str>) -> ReadResourceResult {
    ReadResourceResult {
        contents: vec![ResourceContents::Text(TextResourceContents {
            uri: VIEWER_RESOURCE_URI.to_string(),
            mime_type: APP_MIME_TYPE.to_string(),
            text: document(origin),
            meta: Some(resource_meta(origin, public_image_base_url)),
        })],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_holds_its_style_script_and_config_and_loads_nothing_from_elsewhere() {
        for slot in [STYLE_SLOT, SCRIPT_SLOT, CONFIG_SLOT] {
            assert_eq!(PAGE.matches(slot).count(), 1, "{slot}");
        }
        let html = document("https://img.example.workers.dev");
        assert!(html.contains(STYLE) && html.contains(SCRIPT));
        for slot in [STYLE_SLOT, SCRIPT_SLOT, CONFIG_SLOT] {
            assert!(!html.contains(slot), "{slot} left in the page");
        }
        assert!(html.contains(r#""galleryImageUrl":"https://img.example.workers.dev/gallery/image/""#));
        // One inline script and one JSON block; nothing with a src or href to load.
        assert_eq!(html.matches("<script").count(), 2);
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "a part of the page ends a script early"
        );
        for loads in [
            " src=",
            " href=",
            "@import",
            "url(",
            "<link",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!html.contains(loads), "the viewer must load nothing itself: {loads}");
        }
    }

    #[test]
    fn the_config_cannot_break_out_of_its_script_element() {
        let html = document("https://x.example</script><script>alert(1)</script>");
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(html.contains("\\u003c/script\\u003e"));
    }

    #[test]
    fn images_may_load_from_this_origin_and_the_public_bucket() {
        let meta = resource_meta("http://127.0.0.1:8787", None);
        assert_eq!(
            meta,
            json!({"ui": {"csp": {"resourceDomains": ["http://127.0.0.1:8787"]}, "prefersBorder": true}})
        );
        let meta = resource_meta("https://mcp.example.com", Some("https://img.example.com/bucket"));
        assert_eq!(
            meta["ui"]["csp"]["resourceDomains"],
            json!(["https://mcp.example.com", "https://img.example.com"])
        );
        let same = resource_meta("https://mcp.example.com", Some("https://mcp.example.com/images"));
        assert_eq!(same["ui"]["csp"]["resourceDomains"], json!(["https://mcp.example.com"]));
    }

    #[test]
    fn the_read_result_is_the_app_html_at_the_viewer_uri() {
        let result = serde_json::to_value(read_result("http://localhost:8787", None)).unwrap();
        let contents = &result["contents"][0];
        assert_eq!(contents["uri"], VIEWER_RESOURCE_URI);
        assert_eq!(contents["mimeType"], "text/html;profile=mcp-app");
        assert!(contents["text"].as_str().unwrap().starts_with("<!doctype html>"));
        assert!(contents.get("blob").is_none());
        assert_eq!(contents["_meta"]["ui"]["prefersBorder"], true);
    }
}
