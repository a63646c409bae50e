//! Wire-format contract tests: what the server sends, validated against the official MCP JSON
//! Schemas vendored under `tests/schema/mcp/` (one per revision), and each tool result against
//! the tool's own `outputSchema`. Test-only: the validator is a dev-dependency, so none of this
//! reaches the Wasm build.
//!
//! `validate_against(revision, "InitializeResult", &value)` checks a value against one definition
//! of a revision's schema (under `definitions` in draft-07 files, `$defs` in 2020-12 ones) and
//! panics with every error and its JSON path. `cargo test wire_contract` runs them all.

mod apps;
mod golden;
mod golden_files;
mod messages;
mod resources;
mod tasks;
mod tool_results;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

use crate::protocol::jsonrpc::{RequestId, RpcRequest};
use crate::protocol::version;
use crate::server::{self as dispatch, stateless as modern};

/// Every revision the server speaks, oldest first: the handshake ones, then the stateless one.
pub(crate) fn revisions() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = version::SUPPORTED
        .iter()
        .chain(version::STATELESS.iter())
        .copied()
        .collect();
    all.sort_unstable();
    all
}

/// Whether `revision` is the stateless one (no initialize; `resultType` and `_meta` on results).
pub(crate) fn is_stateless(revision: &str) -> bool {
    version::is_stateless(revision)
}

pub(crate) fn manifest_path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The vendored official schema of `revision`, parsed once.
pub(crate) fn schema_document(revision: &str) -> &'static Value {
    static DOCUMENTS: OnceLock<Mutex<HashMap<String, &'static Value>>> = OnceLock::new();
    let mut documents = DOCUMENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    documents.entry(revision.to_string()).or_insert_with(|| {
        let path = manifest_path(&format!("tests/schema/mcp/{revision}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "no vendored schema for revision {revision} at {}: {e}\n\
                 Copy the official schema/{revision}/schema.json there, unmodified.",
                path.display()
            )
        });
        let document: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        Box::leak(Box::new(document))
    })
}

/// The JSON pointer of a named definition: `#/definitions/X` (draft-07) or `#/$defs/X` (2020-12).
pub(crate) fn definition_pointer(revision: &str, definition: &str) -> String {
    let document = schema_document(revision);
    let container = ["$defs", "definitions"]
        .into_iter()
        .find(|key| document.get(key).is_some_and(Value::is_object))
        .unwrap_or_else(|| panic!("{revision}: the schema has neither $defs nor definitions"));
    if document[container].get(definition).is_none() {
        let mut similar: Vec<&String> = document[container]
            .as_object()
            .map(|defs| defs.keys().filter(|name| shares_a_word(name, definition)).collect())
            .unwrap_or_default();
        similar.sort();
        panic!("{revision} defines no {definition:?}; similar definitions: {similar:?}");
    }
    format!("#/{container}/{definition}")
}

/// True when the two names share a capitalised word longer than three letters (`JSONRPCError` vs
/// `JSONRPCErrorResponse`), for the "did you mean" list.
fn shares_a_word(candidate: &str, wanted: &str) -> bool {
    let words = |name: &str| -> Vec<String> {
        let mut words = Vec::new();
        let mut current = String::new();
        for c in name.chars() {
            if c.is_uppercase() && current.chars().last().is_some_and(char::is_lowercase) {
                words.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
        words.push(current);
        words.into_iter().filter(|w| w.len() > 3).collect()
    };
    let wanted = words(wanted);
    words(candidate).iter().any(|w| wanted.contains(w))
}

/// The draft a vendored schema declares in `$schema`; only the two the official files use.
pub(crate) fn declared_draft(revision: &str) -> Draft {
    match schema_document(revision)["$schema"].as_str() {
        Some("http://json-schema.org/draft-07/schema#") => Draft::Draft7,
        Some("https://json-schema.org/draft/2020-12/schema") => Draft::Draft202012,
        other => panic!("{revision}: unexpected $schema {other:?}; teach declared_draft about it"),
    }
}

/// A validator for one definition of a revision, compiled once.
///
/// The definition is reached through a root `$ref` on a copy of the whole document, so every
/// `#/definitions/...` or `#/$defs/...` reference inside it resolves within the vendored file;
/// nothing is ever fetched. Formats are validated (e.g. `uri`) whatever the draft's default.
fn definition_validator(revision: &str, definition: &str) -> Arc<Validator> {
    static VALIDATORS: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let pointer = definition_pointer(revision, definition);
    let key = format!("{revision}{pointer}");
    let mut validators = VALIDATORS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    validators
        .entry(key)
        .or_insert_with(|| {
            let mut root = schema_document(revision).clone();
            root["$ref"] = json!(pointer);
            let validator = jsonschema::options()
                .with_draft(declared_draft(revision))
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{revision} {pointer} does not compile: {e}"));
            Arc::new(validator)
        })
        .clone()
}

/// Every error `validator` finds in `instance`, one line each: JSON path, message, schema path.
pub(crate) fn error_lines(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| {
            let path = error.instance_path().as_str();
            let mut message = error.to_string();
            if message.len() > 400 {
                let cut = (0..=400).rev().find(|i| message.is_char_boundary(*i)).unwrap_or(0);
                message.truncate(cut);
                message.push_str(" …");
            }
            format!(
                "at {}: {message}  (schema {})",
                if path.is_empty() { "(root)" } else { path },
                error.schema_path().as_str()
            )
        })
        .collect()
}

/// What a revision's definition says is wrong with `instance` (empty when it conforms).
pub(crate) fn schema_errors(revision: &str, definition: &str, instance: &Value) -> Vec<String> {
    error_lines(&definition_validator(revision, definition), instance)
}

pub(crate) fn fail(what: &str, errors: &[String], instance: &Value) -> ! {
    panic!(
        "{what} rejects the value ({} error(s)):\n  - {}\nvalue:\n{}",
        errors.len(),
        errors.join("\n  - "),
        serde_json::to_string_pretty(instance).unwrap_or_default()
    )
}

/// Panics, listing every error with its JSON path, unless `instance` conforms to `definition`
/// of `revision`'s official schema.
#[track_caller]
pub(crate) fn validate_against(revision: &str, definition: &str, instance: &Value) {
    let errors = schema_errors(revision, definition, instance);
    if !errors.is_empty() {
        fail(
            &format!("{revision} {}", definition_pointer(revision, definition)),
            &errors,
            instance,
        );
    }
}

/// The drafts a tool's `outputSchema` must hold under: it declares no `$schema`, which 2025-11-25
/// and later define as 2020-12; clients of 2025-06-18 commonly apply draft-07.
const TOOL_SCHEMA_DRAFTS: [Draft; 2] = [Draft::Draft202012, Draft::Draft7];

/// What `schema` (a tool's own schema, e.g. its `outputSchema`) finds wrong with `instance`
/// under `draft`.
pub(crate) fn tool_schema_errors(schema: &Value, draft: Draft, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema does not compile under {draft:?}: {e}\n{schema:#}"));
    error_lines(&validator, instance)
}

/// Panics unless `instance` conforms to `schema` under every draft a client may apply.
#[track_caller]
pub(crate) fn validate_with_tool_schema(what: &str, schema: &Value, instance: &Value) {
    for draft in TOOL_SCHEMA_DRAFTS {
        let errors = tool_schema_errors(schema, draft, instance);
        if !errors.is_empty() {
            fail(&format!("{what} ({draft:?})"), &errors, instance);
        }
    }
}

/// A request as the server receives it.
pub(crate) fn request(id: i64, method: &str, params: Option<Value>) -> RpcRequest {
    RpcRequest {
        id: RequestId::Number(id.into()),
        method: method.to_string(),
        params,
    }
}

/// The `tools/list` result the server sends at `revision`. The handshake revisions answer through
/// `dispatch::answer_static`; the stateless one lists the same tools and completes the result with
/// `modern::complete_result`, as `dispatch::handle_stateless` does.
pub(crate) fn tools_list_result(revision: &str) -> Value {
    let listed = dispatch::answer_static(&request(1, "tools/list", None), revision)
        .expect("tools/list is answered statically")
        .expect("tools/list succeeds");
    if is_stateless(revision) {
        modern::complete_result("tools/list", listed)
    } else {
        listed
    }
}

/// Serializes and re-reads a wire value, so tests see exactly the JSON a client receives.
pub(crate) fn wire<T: serde::Serialize>(value: &T) -> Value {
    let text = serde_json::to_string(value).expect("wire values serialize");
    serde_json::from_str(&text).expect("serialized JSON parses")
}

/// The harness itself: it finds the files, picks the right drafts, and really rejects bad values.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_revision_the_server_speaks_has_a_vendored_schema_in_its_declared_draft() {
        let revisions = revisions();
        assert_eq!(
            revisions,
            ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]
        );
        for revision in revisions {
            let expected = if revision < "2025-11-25" {
                Draft::Draft7
            } else {
                Draft::Draft202012
            };
            assert_eq!(declared_draft(revision), expected, "{revision}");
            assert_eq!(
                definition_validator(revision, "Implementation").draft(),
                expected,
                "{revision}"
            );
        }
    }

    #[test]
    fn vendored_schemas_are_valid_against_their_meta_schemas() {
        for revision in revisions() {
            if let Err(error) = jsonschema::meta::validate(schema_document(revision)) {
                panic!("{revision}: the vendored schema is not a valid JSON Schema: {error}");
            }
        }
    }

    #[test]
    fn a_message_missing_a_required_field_is_rejected_with_its_path() {
        for revision in revisions() {
            let definition = if is_stateless(revision) {
                "ListToolsResult"
            } else {
                "InitializeResult"
            };
            // A tool without its required `inputSchema`, nested in an otherwise plausible result.
            let mut broken = json!({
                "protocolVersion": revision,
                "capabilities": {},
                "serverInfo": {"name": "x", "version": "1"},
                "tools": [{"name": "t"}],
                "resultType": "complete", "ttlMs": 0, "cacheScope": "public"
            });
            if definition == "InitializeResult" {
                broken.as_object_mut().unwrap().remove("serverInfo");
            }
            let errors = schema_errors(revision, definition, &broken);
            assert_eq!(errors.len(), 1, "{revision}: {errors:#?}");
            let expected = if definition == "InitializeResult" {
                "at (root): \"serverInfo\" is a required property"
            } else {
                "at /tools/0: \"inputSchema\" is a required property"
            };
            assert!(errors[0].starts_with(expected), "{revision}: {}", errors[0]);
        }
    }

    #[test]
    fn wrong_types_and_constants_are_rejected_and_the_panic_message_lists_them() {
        let bad_response = json!({"jsonrpc": "1.0", "id": true, "result": {}});
        let definition = |revision: &str| {
            if revision < "2025-11-25" {
                "JSONRPCResponse"
            } else {
                "JSONRPCResultResponse"
            }
        };
        for revision in revisions() {
            let errors = schema_errors(revision, definition(revision), &bad_response);
            assert!(
                errors.iter().any(|e| e.starts_with("at /jsonrpc:")),
                "{revision}: {errors:#?}"
            );
            assert!(
                errors.iter().any(|e| e.starts_with("at /id:")),
                "{revision}: {errors:#?}"
            );
        }
        let panic = std::panic::catch_unwind(|| validate_against("2025-06-18", "JSONRPCResponse", &bad_response))
            .expect_err("an invalid response must fail validation");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains("#/definitions/JSONRPCResponse rejects the value (2 error(s))"),
            "{message}"
        );
        assert!(
            message.contains("at /jsonrpc:") && message.contains("at /id:"),
            "{message}"
        );
    }

    #[test]
    fn formats_are_checked() {
        let implementation = json!({"name": "x", "version": "1", "websiteUrl": "not a uri"});
        assert!(!schema_errors("2025-11-25", "Implementation", &implementation).is_empty());
    }

    #[test]
    fn an_unknown_definition_names_the_similar_ones() {
        let panic = std::panic::catch_unwind(|| schema_errors("2025-06-18", "JSONRPCErrorResponse", &json!({})))
            .expect_err("2025-06-18 has no JSONRPCErrorResponse");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("\"JSONRPCError\""), "{message}");
    }

    #[test]
    fn tool_schemas_reject_values_of_the_wrong_type_under_both_drafts() {
        let schema =
            json!({"type": "object", "properties": {"image_url": {"type": "string"}}, "required": ["success"]});
        for draft in TOOL_SCHEMA_DRAFTS {
            let errors = tool_schema_errors(&schema, draft, &json!({"image_url": null}));
            assert_eq!(errors.len(), 2, "{draft:?}: {errors:#?}");
            assert!(errors
                .iter()
                .any(|e| e.starts_with("at /image_url: null is not of type \"string\"")));
        }
    }
}
