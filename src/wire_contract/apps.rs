//! The MCP Apps surface on the wire: each tool's `_meta.ui`, the viewer's `resources/read`
//! result, and the icons of the tools and the server, validated against the official MCP schema
//! of every revision and the Apps extension's own schema (`tests/schema/ext-apps/schema.json`,
//! vendored unmodified from npm `@modelcontextprotocol/ext-apps`).

use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

use super::messages::{request_ids, request_message, stateless_headers, stateless_params, validate_result_response};
use super::{
    error_lines, fail, is_stateless, manifest_path, request, revisions, schema_document, tools_list_result,
    validate_against, wire,
};
use crate::icons;
use crate::protocol::version;
use crate::server::stateless::{self as modern, META_SERVER_INFO};
use crate::server::{answer_static, viewer};
use crate::urls::VIEWER_RESOURCE_URI;

const APPS_SCHEMA: &str = "tests/schema/ext-apps/schema.json";

fn apps_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = manifest_path(APPS_SCHEMA);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    })
}

/// A validator for one `$defs` entry of the Apps schema (2020-12, formats checked).
fn apps_validator(definition: &str) -> Validator {
    let document = apps_document();
    assert_eq!(document["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(
        document["$defs"].get(definition).is_some(),
        "the Apps schema defines no {definition}"
    );
    let mut root = document.clone();
    root["$ref"] = json!(format!("#/$defs/{definition}"));
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("Apps {definition} does not compile: {e}"))
}

#[track_caller]
fn validate_apps(definition: &str, instance: &Value) {
    let errors = error_lines(&apps_validator(definition), instance);
    if !errors.is_empty() {
        fail(&format!("ext-apps {definition}"), &errors, instance);
    }
}

#[test]
fn the_apps_schema_really_rejects_a_tool_meta_with_csp_and_a_resource_csp_of_the_wrong_type() {
    let bad_tool = json!({"resourceUri": VIEWER_RESOURCE_URI, "csp": {"resourceDomains": []}});
    assert!(!error_lines(&apps_validator("McpUiToolMeta"), &bad_tool).is_empty());
    let bad_resource = json!({"csp": {"resourceDomains": "https://x.example"}});
    assert!(!error_lines(&apps_validator("McpUiResourceMeta"), &bad_resource).is_empty());
}

#[test]
fn tools_that_show_images_name_the_viewer_in_a_valid_ui_meta_from_2025_06_18_on() {
    for revision in revisions() {
        let result = tools_list_result(revision);
        let tools = result["tools"].as_array().expect("a tools array");
        let with_ui: Vec<&Value> = tools.iter().filter(|t| t.pointer("/_meta/ui").is_some()).collect();
        if !version::tool_has(revision, "_meta") {
            assert!(with_ui.is_empty(), "{revision} has no Tool._meta");
            continue;
        }
        let expected = crate::tools::TOOLS.iter().filter(|t| t.shows_images()).count();
        assert_eq!(with_ui.len(), expected, "{revision}");
        for tool in with_ui {
            validate_against(revision, "Tool", tool);
            validate_apps("McpUiToolMeta", &tool["_meta"]["ui"]);
            assert_eq!(
                tool["_meta"]["ui"]["resourceUri"], VIEWER_RESOURCE_URI,
                "{}",
                tool["name"]
            );
        }
    }
}

#[test]
fn every_tool_has_a_light_and_a_dark_svg_data_icon_where_tool_has_icons() {
    for revision in revisions() {
        let result = tools_list_result(revision);
        for tool in result["tools"].as_array().expect("a tools array") {
            let Some(icons) = tool.get("icons") else {
                assert!(
                    !version::tool_has(revision, "icons"),
                    "{revision}: {} has no icons",
                    tool["name"]
                );
                continue;
            };
            assert!(version::tool_has(revision, "icons"), "{revision} has no Tool.icons");
            let themes: Vec<&str> = icons
                .as_array()
                .expect("icons is an array")
                .iter()
                .map(|icon| {
                    validate_against(revision, "Icon", icon);
                    let src = icon["src"].as_str().expect("src");
                    assert!(src.starts_with("data:image/svg+xml;base64,"), "{src:.40}");
                    icon["theme"].as_str().expect("theme")
                })
                .collect();
            assert_eq!(themes, ["light", "dark"], "{revision}: {}", tool["name"]);
        }
    }
}

#[test]
fn the_server_carries_its_icons_where_implementation_has_them() {
    for revision in revisions() {
        let pointer = format!(
            "{}/properties",
            super::definition_pointer(revision, "Implementation").trim_start_matches('#')
        );
        let defines_icons = schema_document(revision)
            .pointer(&pointer)
            .and_then(Value::as_object)
            .is_some_and(|properties| properties.contains_key("icons"));
        let server_info = if is_stateless(revision) {
            // 2026-07-28 has no initialize: every result names the server in `_meta`.
            let result = modern::complete_result("tools/list", json!({"tools": []}));
            result["_meta"][META_SERVER_INFO].clone()
        } else {
            let params =
                json!({"protocolVersion": revision, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
            let result = answer_static(&request(1, "initialize", Some(params)), revision)
                .expect("initialize is answered")
                .expect("initialize succeeds");
            validate_against(revision, "InitializeResult", &result);
            result["serverInfo"].clone()
        };
        validate_against(revision, "Implementation", &server_info);
        assert_eq!(server_info.get("icons").is_some(), defines_icons, "{revision}");
        if defines_icons {
            assert_eq!(server_info["icons"], json!(icons::SERVER.icons()), "{revision}");
        }
    }
}

#[test]
fn the_viewer_read_result_conforms_to_every_revision_and_the_apps_schema() {
    for (origin, public_base) in [
        ("http://127.0.0.1:8787", None),
        ("https://mcp.example.com", Some("https://images.example.com")),
    ] {
        let read = wire(&viewer::read_result(origin, public_base));
        let contents = &read["contents"][0];
        validate_apps("McpUiResourceMeta", &contents["_meta"]["ui"]);
        let domains = &contents["_meta"]["ui"]["csp"]["resourceDomains"];
        let expected: Vec<&str> = std::iter::once(origin).chain(public_base).collect();
        assert_eq!(domains, &json!(expected));
        for revision in revisions() {
            let result = if is_stateless(revision) {
                modern::complete_result("resources/read", read.clone())
            } else {
                read.clone()
            };
            validate_against(revision, "ReadResourceResult", &result);
            validate_against(revision, "TextResourceContents", &result["contents"][0]);
            let specific = is_stateless(revision).then_some("ReadResourceResultResponse");
            for id in request_ids() {
                validate_result_response(revision, specific, id, result.clone());
            }
            let params = json!({"uri": VIEWER_RESOURCE_URI});
            let params = if is_stateless(revision) {
                stateless_params(revision, params)
            } else {
                params
            };
            validate_against(
                revision,
                "ReadResourceRequest",
                &request_message(5, "resources/read", &params),
            );
            if is_stateless(revision) {
                let read_request = request(5, "resources/read", Some(params));
                let headers = stateless_headers(revision, "resources/read", Some(VIEWER_RESOURCE_URI));
                assert_eq!(modern::validate(&read_request, &headers), Ok(()));
            }
        }
    }
}
