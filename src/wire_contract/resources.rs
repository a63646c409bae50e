//! Resources on the wire: `resources/list` (with and without a next cursor), the templates, a
//! read result and the not-found and bad-cursor errors, built by the server's own functions and
//! validated against the official schema of every revision.

use serde_json::{json, Value};

use super::messages::{
    request_ids, request_message, stateless_headers, stateless_params, validate_error_response,
    validate_result_response,
};
use super::{is_stateless, revisions, validate_against, wire};
use crate::catalog::RESOURCE_PAGE_SIZE;
use crate::jobs::{JobRow, JobStatus};
use crate::protocol::jsonrpc::RpcResponse;
use crate::protocol::version;
use crate::server::resources::{self, ResourceError};
use crate::server::stateless as modern;
use crate::urls;

const JOB_ID: &str = "123e4567-e89b-12d3-a456-426614174000";

/// `n` finished jobs, newest first, half served by the worker and half under a public base.
fn finished_jobs(n: usize) -> Vec<JobRow> {
    (0..n)
        .map(|i| {
            let id = format!("00000000-0000-4000-8000-{:012}", n - i);
            let extension = if i % 2 == 0 { "png" } else { "jpg" };
            let key = format!("{}-a-red-fox-{id}.{extension}", 2_000 - i);
            let stored = urls::stored_image_url(&key, (i % 3 == 0).then_some("https://img.example.com"));
            JobRow {
                id,
                status: JobStatus::Completed,
                prompt: format!("a red fox in the snow, \"number\" {i} <b>"),
                model: "flux-schnell".into(),
                image_url: Some(stored),
                error: None,
                created_at: 2_000 - i as i64,
                updated_at: 2_001,
                seed: Some(7),
                width: Some(512),
                height: Some(512),
                parameters: None,
                thumbnail_url: None,
                image_size: Some(4_096),
                inputs: None,
                estimated_neurons: None,
                estimated_usd: None,
                thumbnail_base64: None,
            }
        })
        .collect()
}

/// The result as `handle` sends it at `revision` (the stateless one adds resultType and hints).
fn as_sent(revision: &str, method: &str, result: Value) -> Value {
    if is_stateless(revision) {
        modern::complete_result(method, result)
    } else {
        result
    }
}

/// The request params a client of `revision` sends (the stateless one carries `_meta`).
fn params_at(revision: &str, extra: Value) -> Value {
    if is_stateless(revision) {
        stateless_params(revision, extra)
    } else {
        extra
    }
}

fn specific(revision: &str, definition: &'static str) -> Option<&'static str> {
    is_stateless(revision).then_some(definition)
}

#[test]
fn resources_list_pages_conform_to_every_revision() {
    let page_size = RESOURCE_PAGE_SIZE as usize;
    for revision in revisions() {
        let with_titles = version::has_titles(revision);
        let first = resources::list_page(finished_jobs(page_size + 1), with_titles);
        let cursor = first.next_cursor.clone().expect("a full page has a next cursor");
        let last = resources::list_page(finished_jobs(3), with_titles);
        assert_eq!(last.next_cursor, None);
        for page in [first, last] {
            let result = as_sent(revision, "resources/list", wire(&page));
            validate_against(revision, "ListResourcesResult", &result);
            for resource in result["resources"].as_array().expect("a resources array") {
                validate_against(revision, "Resource", resource);
                assert_eq!(resource.get("title").is_some(), with_titles, "{revision}: {resource}");
            }
            for id in request_ids() {
                validate_result_response(
                    revision,
                    specific(revision, "ListResourcesResultResponse"),
                    id,
                    result.clone(),
                );
            }
        }
        let request = request_message(2, "resources/list", &params_at(revision, json!({"cursor": cursor})));
        validate_against(revision, "ListResourcesRequest", &request);
    }
}

#[test]
fn resource_templates_conform_to_every_revision() {
    for revision in revisions() {
        let result = as_sent(
            revision,
            "resources/templates/list",
            wire(&resources::templates(version::has_titles(revision))),
        );
        validate_against(revision, "ListResourceTemplatesResult", &result);
        for template in result["resourceTemplates"].as_array().expect("a templates array") {
            validate_against(revision, "ResourceTemplate", template);
        }
        for id in request_ids() {
            validate_result_response(
                revision,
                specific(revision, "ListResourceTemplatesResultResponse"),
                id,
                result.clone(),
            );
        }
        let request = request_message(3, "resources/templates/list", &params_at(revision, json!({})));
        validate_against(revision, "ListResourceTemplatesRequest", &request);
    }
}

#[test]
fn read_results_conform_to_every_revision_and_the_stateless_headers_accept_the_request() {
    let png_signature = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d];
    for revision in revisions() {
        for uri in [urls::image_resource_uri(JOB_ID), urls::thumbnail_resource_uri(JOB_ID)] {
            let read = resources::blob_result(uri.clone(), "image/png".into(), &png_signature);
            let result = as_sent(revision, "resources/read", wire(&read));
            validate_against(revision, "ReadResourceResult", &result);
            validate_against(revision, "BlobResourceContents", &result["contents"][0]);
            for id in request_ids() {
                validate_result_response(
                    revision,
                    specific(revision, "ReadResourceResultResponse"),
                    id,
                    result.clone(),
                );
            }
            let params = params_at(revision, json!({"uri": uri}));
            validate_against(
                revision,
                "ReadResourceRequest",
                &request_message(4, "resources/read", &params),
            );
            if is_stateless(revision) {
                let request = super::request(4, "resources/read", Some(params));
                let headers = stateless_headers(revision, "resources/read", Some(&uri));
                assert_eq!(modern::validate(&request, &headers), Ok(()));
            }
        }
    }
}

#[test]
fn not_found_and_bad_cursor_errors_conform_to_every_revision() {
    for revision in revisions() {
        let stateless = is_stateless(revision);
        let not_found = ResourceError::NotFound {
            uri: urls::thumbnail_resource_uri(JOB_ID),
        }
        .into_rpc(stateless);
        let bad_cursor = resources::decode_cursor("not-a-cursor")
            .expect_err("a foreign cursor is refused")
            .into_rpc(stateless);
        for id in request_ids() {
            let response = wire(&RpcResponse::error(Some(id.clone()), &not_found));
            assert_eq!(
                response["error"]["code"],
                if stateless { -32602 } else { -32002 },
                "{revision}"
            );
            assert_eq!(response["error"]["data"]["uri"], urls::thumbnail_resource_uri(JOB_ID));
            validate_error_response(revision, &response);
            let response = wire(&RpcResponse::error(Some(id), &bad_cursor));
            assert_eq!(response["error"]["code"], -32602);
            validate_error_response(revision, &response);
        }
    }
}
