//! Tool results: every shape each tool answers with, as `CallToolResult` of every revision and
//! against the tool's own `outputSchema` (which must declare exactly the fields results send).

use std::collections::BTreeSet;

use jsonschema::Draft;
use serde_json::{json, Map, Value};

use super::{fail, is_stateless, revisions, schema_errors, validate_with_tool_schema, wire};
use crate::config::ImageBackend;
use crate::protocol::jsonrpc::{RequestId, RpcResponse};
use crate::protocol::mcp::Tool;
use crate::protocol::version;
use crate::server::stateless as modern;
use crate::tools::{self, validate_args, ToolError, ToolOutput, ToolSpec, TOOLS};

/// Every result `tool` can answer with, named: the module's own samples, the invalid-arguments
/// error every tool can return, and, for tools that can carry an image URL, each success again
/// with the preview-backend note `tools::call` adds.
fn tool_samples(tool: &ToolSpec) -> Vec<(String, ToolOutput)> {
    let own = (tool.samples)();
    let fields = (tool.typed.fields)();
    // `true` is the wrong type for every field kind, so validation fails on the first field.
    let wrong_types: Map<String, Value> = fields.iter().map(|f| (f.name.to_string(), json!(true))).collect();
    let mut samples: Vec<(String, ToolOutput)> = own
        .into_iter()
        .map(|(name, output)| (name.to_string(), output))
        .collect();
    match validate_args(&fields, &wrong_types) {
        Err(error) => samples.push((
            "invalid arguments".to_string(),
            ToolOutput::error_message(ToolError::Args(error)),
        )),
        Ok(_) if fields.is_empty() => {}
        Ok(_) => panic!("{}: arguments of the wrong type were accepted", tool.name),
    }
    if tool.reports_images {
        let noted: Vec<(String, ToolOutput)> = samples
            .iter()
            .filter(|(_, output)| !output.is_error)
            .map(|(name, output)| {
                let mut output = output.clone();
                output.note_preview_backend(ImageBackend::Preview);
                (format!("{name} (preview backend)"), output)
            })
            .collect();
        samples.extend(noted);
    }
    samples
}

fn listed_tool(tool: &ToolSpec) -> Tool {
    tools::list(crate::protocol::version::LATEST)
        .into_iter()
        .find(|listed| listed.name == tool.name)
        .unwrap_or_else(|| panic!("{} is not in tools/list", tool.name))
}

fn tool(name: &str) -> &'static ToolSpec {
    tools::find(name).unwrap_or_else(|| panic!("no tool {name}"))
}

/// The name of the successful tools/call response definition in `revision`.
fn call_response_definition(revision: &str) -> &'static str {
    match revision {
        r if is_stateless(r) => "CallToolResultResponse",
        r if r >= "2025-11-25" => "JSONRPCResultResponse",
        _ => "JSONRPCResponse",
    }
}

/// The tools/call result as `revision` sends it: stateless results carry `resultType` and `_meta`.
fn call_result_for(revision: &str, output: ToolOutput) -> Value {
    let result = wire(&output.into_result());
    if is_stateless(revision) {
        modern::complete_result("tools/call", result)
    } else {
        result
    }
}

/// Validates one tool result, alone and inside its response, against `revision`.
fn validate_call_result(revision: &str, what: &str, result: &Value) {
    let check = |definition: &str, value: &Value| {
        let errors = schema_errors(revision, definition, value);
        if !errors.is_empty() {
            fail(&format!("{what}: {revision} {definition}"), &errors, value);
        }
    };
    check("CallToolResult", result);
    let response = wire(&RpcResponse::result(RequestId::Number(3.into()), result.clone()));
    check(call_response_definition(revision), &response);
    check("JSONRPCMessage", &response);
}

#[test]
fn every_tool_result_is_a_call_tool_result_in_every_revision() {
    for tool in TOOLS {
        for (name, output) in tool_samples(tool) {
            let what = format!("{} {name:?}", tool.name);
            let structured_success = output.object()["success"].as_bool();
            assert_eq!(
                structured_success,
                Some(!output.is_error),
                "{what}: `success` must be the opposite of isError"
            );
            for revision in revisions() {
                let result = call_result_for(revision, output.clone());
                assert_eq!(result["isError"].as_bool().unwrap_or(false), output.is_error, "{what}");
                assert_eq!(result["content"][0]["type"], "text", "{what}");
                validate_call_result(revision, &what, &result);
            }
        }
    }
}

/// A real 1×1 lossy WebP (what the Images binding returns, only smaller), as base64.
const TINY_WEBP_BASE64: &str = "UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAwA0JaQAA3AA/vuUAAA=";

#[test]
fn results_showing_finished_images_are_call_tool_results_in_every_revision() {
    let mut shown = 0;
    for tool in TOOLS {
        for (name, output) in tool_samples(tool) {
            if output.images.is_empty() {
                continue;
            }
            shown += 1;
            let what = format!("{} {name:?} with image blocks", tool.name);
            // As tools::call adds them: links per revision, previews for those with thumbnails.
            let previews: Vec<(String, String)> = output
                .images
                .iter()
                .filter(|image| image.thumbnail_url.is_some())
                .map(|image| (image.job_id.clone(), TINY_WEBP_BASE64.to_string()))
                .collect();
            for revision in revisions() {
                let links = tools::has_resource_links(Some(revision));
                let mut call = output.clone().into_result();
                let text = call.content[0].clone();
                call.content
                    .extend(tools::preview_blocks(&output.images, links, &previews));
                let mut result = wire(&call);
                if is_stateless(revision) {
                    result = modern::complete_result("tools/call", result);
                }
                assert_eq!(result["content"][0], wire(&text), "{what}: content[0] unchanged");
                assert_eq!(result["structuredContent"], output.object(), "{what}");
                let kinds: Vec<&str> = result["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|block| block["type"].as_str().unwrap())
                    .collect();
                let link_count = kinds.iter().filter(|k| **k == "resource_link").count();
                assert_eq!(
                    link_count,
                    if links { output.images.len() } else { 0 },
                    "{what} {revision}"
                );
                assert_eq!(
                    kinds.iter().filter(|k| **k == "image").count(),
                    previews.len(),
                    "{what}"
                );
                validate_call_result(revision, &what, &result);
            }
        }
    }
    assert!(shown >= 4, "samples with finished images: {shown}");
}

#[test]
fn every_tool_result_conforms_to_the_output_schema_in_tools_list() {
    for tool in TOOLS {
        let schema = listed_tool(tool).output_schema;
        for (name, output) in tool_samples(tool) {
            let structured = wire(&output.into_result())["structuredContent"].clone();
            validate_with_tool_schema(&format!("{} outputSchema, {name:?}", tool.name), &schema, &structured);
        }
    }
}

#[test]
fn the_unknown_tool_error_is_a_call_tool_result_in_the_handshake_revisions() {
    // Built as tools::call builds it; the stateless revision answers -32602 instead (see messages).
    let known: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
    let output = ToolOutput::error_message(format!("Unknown tool: draw. Available tools: {}", known.join(", ")));
    for revision in revisions().into_iter().filter(|r| !is_stateless(r)) {
        let result = call_result_for(revision, output.clone());
        assert_eq!(result["isError"], true);
        validate_call_result(revision, "unknown tool", &result);
    }
}

/// Every object key path in `value`, arrays written as `[]`: `results[].image_url`.
fn sent_paths(value: &Value, prefix: &str, paths: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                sent_paths(field, &path, paths);
                paths.insert(path);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| sent_paths(item, &format!("{prefix}[]"), paths)),
        _ => {}
    }
}

/// Every property path `schema` declares, in the same notation as `sent_paths`. An object
/// declared without `properties` (free-form, like a job's model `parameters`) is recorded with a
/// trailing `.*`, so anything sent inside it counts as declared. A local `$ref` (`#/$defs/…`)
/// is followed into `root`, the whole output schema.
fn declared_paths(root: &Value, schema: &Value, prefix: &str, paths: &mut BTreeSet<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').expect("only local references");
        let target = root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} resolves in the schema"));
        return declared_paths(root, target, prefix, paths);
    }
    if schema.get("type") == Some(&json!("object")) && schema.get("properties").is_none() && !prefix.is_empty() {
        paths.insert(format!("{prefix}.*"));
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, property) in properties {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            declared_paths(root, property, &path, paths);
            paths.insert(path);
        }
    }
    if let Some(items) = schema.get("items") {
        declared_paths(root, items, &format!("{prefix}[]"), paths);
    }
}

/// Fields results send that the schema does not declare, and declared fields no result sends.
fn schema_disagreements(schema: &Value, samples: &[(String, ToolOutput)]) -> (Vec<String>, Vec<String>) {
    let mut declared = BTreeSet::new();
    declared_paths(schema, schema, "", &mut declared);
    let mut never_sent: BTreeSet<String> = declared.iter().filter(|d| !d.ends_with(".*")).cloned().collect();
    let mut undeclared = BTreeSet::new();
    for (name, output) in samples {
        let mut paths = BTreeSet::new();
        sent_paths(&output.object(), "", &mut paths);
        for path in paths {
            let in_free_form = declared
                .iter()
                .filter_map(|d| d.strip_suffix(".*"))
                .any(|open| path.starts_with(&format!("{open}.")));
            if !declared.contains(&path) && !in_free_form {
                undeclared.insert(format!("{path} (in {name:?})"));
            }
            never_sent.remove(&path);
        }
    }
    (undeclared.into_iter().collect(), never_sent.into_iter().collect())
}

#[test]
fn output_schemas_declare_exactly_the_fields_results_send() {
    for tool in TOOLS {
        let schema = listed_tool(tool).output_schema;
        let (undeclared, never_sent) = schema_disagreements(&schema, &tool_samples(tool));
        assert!(
            undeclared.is_empty(),
            "{}: results send fields its outputSchema does not declare: {undeclared:#?}",
            tool.name
        );
        assert!(
            never_sent.is_empty(),
            "{}: outputSchema advertises fields no result sends (or a sample is missing): {never_sent:#?}",
            tool.name
        );
    }
}

#[test]
fn tool_input_and_output_schemas_are_valid_json_schemas_in_both_drafts() {
    for tool in tools::list(crate::protocol::version::LATEST) {
        for (kind, schema) in [
            ("inputSchema", &tool.input_schema),
            ("outputSchema", &tool.output_schema),
        ] {
            for (draft, result) in [
                (Draft::Draft202012, jsonschema::draft202012::meta::validate(schema)),
                (Draft::Draft7, jsonschema::draft7::meta::validate(schema)),
            ] {
                if let Err(error) = result {
                    panic!("{} {kind} is not a valid {draft:?} schema: {error}", tool.name);
                }
            }
        }
    }
}

/// The checks above would have caught both defects this suite was written for.
#[test]
fn the_checks_catch_a_non_nullable_image_url_and_an_advertised_field_never_sent() {
    let wait = tool("wait_for_completion");
    let mut strict_wait = (wait.output_schema)();
    strict_wait["properties"]["image_url"] = json!({"type": "string"});
    let samples = (wait.samples)();
    let (_, no_url) = samples
        .iter()
        .find(|(name, _)| *name == "completed one without a stored url")
        .expect("wait has a sample without a stored url");
    assert_eq!(no_url.object()["image_url"], Value::Null);
    let errors = super::tool_schema_errors(&strict_wait, Draft::Draft202012, &no_url.object());
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("at /image_url: null is not of type \"string\"")),
        "{errors:#?}"
    );

    let mut with_filter = listed_tool(tool("list_generations")).output_schema;
    with_filter["properties"]["filter"] = json!({"type": "string"});
    let (_, never_sent) = schema_disagreements(&with_filter, &tool_samples(tool("list_generations")));
    assert_eq!(never_sent, ["filter"]);

    let mut without_count = listed_tool(tool("generate_image")).output_schema;
    without_count["properties"].as_object_mut().unwrap().remove("count");
    let (undeclared, _) = schema_disagreements(&without_count, &tool_samples(tool("generate_image")));
    assert!(
        undeclared.iter().any(|p| p.starts_with("count (in \"many jobs")),
        "{undeclared:#?}"
    );
}

#[test]
fn the_table_of_optional_tool_fields_matches_each_revisions_schema() {
    for revision in revisions() {
        let pointer = format!(
            "{}/properties",
            super::definition_pointer(revision, "Tool").trim_start_matches('#')
        );
        let properties = super::schema_document(revision)
            .pointer(&pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{revision}: no Tool properties at {pointer}"));
        for (field, _) in version::TOOL_FIELDS_BY_REVISION {
            assert_eq!(
                version::tool_has(revision, field),
                properties.contains_key(field),
                "{revision}: whether Tool has {field}"
            );
        }
    }
}

#[test]
fn a_tool_with_every_extra_is_a_tool_in_every_revision() {
    let tool = tools::tests::tool_with_extras();
    for revision in revisions() {
        super::validate_against(revision, "Tool", &wire(&tool.to_tool(revision)));
    }
}
