//! Property-based tests (proptest): arbitrary client input to JSON-RPC parsing, tool argument
//! validation, model planning, SQL building, image references and the body reader never panics,
//! whatever is accepted keeps every limit, and errors stay small.
//!
//! Each property's case count is below (142,500 in all with `cargo test`). A longer run
//! multiplies every count: `FUZZ_SCALE=10 cargo test fuzz_tests` (README, Tests; 0.1 for a quick one).

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Map, Value};

use crate::catalog::{BATCH_MAX_MESSAGES, ECHO_MAX_CHARS};
use crate::d1::{SqlValue, Statement};
use crate::http::body::{declared_length, LimitedBody};
use crate::jobs::{sql, ImageFilter, ImagePosition, JobStatus, NewJob, Page, StatusFilter};
use crate::models::{Controls, ModelSpec, Range, ASPECT_RATIOS, MODELS};
use crate::protocol::jsonrpc::{classify, parse_body, IncomingBody, IncomingMessage, RequestId, RpcError, RpcResponse};
use crate::services::inputs::{decode_data, parse_reference, Reference};
use crate::tools::{validate_args, Field, FieldKind, TOOLS};

/// `cases` times FUZZ_SCALE (default 1): the long run raises every property at once.
fn config(cases: u32) -> ProptestConfig {
    let scale = std::env::var("FUZZ_SCALE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(1.0);
    ProptestConfig {
        cases: (f64::from(cases) * scale).max(1.0) as u32,
        ..ProptestConfig::default()
    }
}

/// Strings a client may send: ASCII, accents, astral characters (two UTF-16 units), quotes,
/// SQL and JSON punctuation, control characters.
fn text(max: usize) -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        1 => Just('é'),
        1 => Just('😀'),
        1 => Just('\''),
        1 => Just('"'),
        1 => Just(';'),
        1 => Just('?'),
        1 => Just('-'),
        1 => Just(' '),
        1 => any::<char>(),
    ];
    proptest::collection::vec(ch, 0..=max).prop_map(|chars| chars.into_iter().collect())
}

/// Like `text`, cheaper for long strings: a short random piece repeated to a random length
/// (in characters) of at most `max`.
/// Longest text generated for one argument.
const GENERATED_TEXT_MAX: usize = 4096;

fn long_text(max: usize) -> impl Strategy<Value = String> {
    (0..=max, text(6)).prop_map(|(len, piece)| {
        let piece = if piece.is_empty() { "a".to_string() } else { piece };
        piece.chars().cycle().take(len).collect()
    })
}

/// Any JSON value, a few levels deep, with keys JSON-RPC and the tools look at.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // NaN and infinities become null, as serde_json writes them.
        any::<f64>().prop_map(Value::from),
        (-100i64..100).prop_map(Value::from),
        text(12).prop_map(Value::from),
        Just(json!("2.0")),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "jsonrpc", "id", "method", "params", "result", "error", "prompt", "model", "count",
            "job_id", "job_ids", "limit", "offset", "status", "width", "height", "seed",
        ])
        .prop_map(str::to_string),
        1 => text(8),
    ]
}

/// An object shaped like a JSON-RPC message: each member absent, well-formed or arbitrary.
fn message_like() -> impl Strategy<Value = Value> {
    let id = prop_oneof![
        any::<i64>().prop_map(Value::from),
        text(10).prop_map(Value::from),
        json_value()
    ];
    let method = prop_oneof![text(20).prop_map(Value::from), json_value()];
    let params = prop_oneof![Just(json!({})), Just(json!([])), json_value()];
    let version = prop_oneof![4 => Just(json!("2.0")), 1 => json_value()];
    (
        proptest::option::of(version),
        proptest::option::of(id),
        proptest::option::of(method),
        proptest::option::of(params),
        proptest::option::of(json_value()),
    )
        .prop_map(|(version, id, method, params, result)| {
            let mut object = Map::new();
            for (name, value) in [
                ("jsonrpc", version),
                ("id", id),
                ("method", method),
                ("params", params),
                ("result", result),
            ] {
                if let Some(value) = value {
                    object.insert(name.to_string(), value);
                }
            }
            Value::Object(object)
        })
}

/// Member names of a JSON-RPC message, others, and names written with escapes.
fn member_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => Just("jsonrpc"),
        3 => Just("id"),
        3 => Just("method"),
        3 => Just("params"),
        1 => Just("result"),
        1 => Just("error"),
        1 => Just("other"),
        1 => Just("\\u006dethod"),
        1 => Just("\\u0069d"),
    ]
}

/// A member's value as text: what a message holds, and values a serialiser would write otherwise.
fn member_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("\"2.0\"".to_string()),
        2 => text(8).prop_map(|text| Value::from(text).to_string()),
        1 => prop_oneof![Just("null"), Just("-0"), Just("1.0"), Just("1e400"), Just("-1e-400"), Just("18446744073709551616"), Just("2.0"), Just("{}"), Just("[]"), Just("{\"a\":1,\"a\":2}")]
            .prop_map(str::to_string),
        2 => json_value().prop_map(|value| value.to_string()),
        // Values a value reads in its own way, or refuses, where a reader skipping over them
        // might not: nesting about as deep as the parser allows, serde_json's private keys,
        // escapes, and text that is not JSON.
        1 => prop_oneof![
            (95..=130usize).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
            (95..=130usize).prop_map(|depth| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))),
            (95..=130usize).prop_map(|depth| format!("{{\"a\":{}1e400{}}}", "[".repeat(depth), "]".repeat(depth))),
            Just(r#"{"$serde_json::private::RawValue":"{}"}"#.to_string()),
            Just(r#"{"$serde_json::private::RawValue":1}"#.to_string()),
            Just(r#"{"a":1,"$serde_json::private::RawValue":"[]"}"#.to_string()),
            Just(r#"{"$serde_json::private::Number":"1"}"#.to_string()),
            Just(r#"{"a":"\ud800"}"#.to_string()),
            Just(r#"{"a":"\ud800\udc00","b":"\u0000\n\/"}"#.to_string()),
            Just(r#"["\x"]"#.to_string()),
            Just("[\"\u{1}\"]".to_string()),
            Just(r#"{"a":[1,2,],"b":0}"#.to_string()),
            Just(r#"[01]"#.to_string()),
            Just(r#"[1.]"#.to_string()),
        ],
    ]
}

fn request_id_value(id: &RequestId) -> Value {
    serde_json::to_value(id).unwrap()
}

/// Asserts what `classify` made of `input` follows from its members, and any error is a small
/// -32600 response that serialises as JSON-RPC 2.0.
fn check_classified(input: &Value, outcome: &Result<IncomingMessage, crate::protocol::jsonrpc::RpcErrorResponse>) {
    let object = input.as_object();
    let member = |name: &str| object.and_then(|o| o.get(name));
    let id_readable = matches!(member("id"), None | Some(Value::String(_)) | Some(Value::Number(_)));
    let params_ok = matches!(member("params"), None | Some(Value::Object(_)) | Some(Value::Array(_)));
    let well_formed = object.is_some()
        && member("jsonrpc") == Some(&json!("2.0"))
        && id_readable
        && params_ok
        && matches!(member("method"), Some(Value::String(_)));
    match outcome {
        Ok(IncomingMessage::Request(request)) => {
            assert_eq!(member("jsonrpc"), Some(&json!("2.0")));
            assert_eq!(member("method"), Some(&Value::from(request.method.clone())));
            assert_eq!(member("id"), Some(&request_id_value(&request.id)));
            assert_eq!(member("params"), request.params.as_ref());
        }
        Ok(IncomingMessage::Notification { method, params }) => {
            assert!(member("id").is_none(), "a message with an id is not a notification");
            assert_eq!(member("method"), Some(&Value::from(method.clone())));
            assert_eq!(member("params"), params.as_ref());
        }
        Ok(IncomingMessage::Response) => {
            assert!(member("method").is_none());
            assert!(matches!(member("id"), Some(Value::String(_)) | Some(Value::Number(_))));
            assert!(member("result").is_some() || member("error").is_some());
        }
        Err(error) => {
            assert!(!well_formed, "a well-formed message was refused: {input}");
            assert_eq!(error.error.code, -32600);
            if let Some(id) = &error.id {
                assert_eq!(
                    member("id"),
                    Some(&request_id_value(id)),
                    "the error keeps the request's id"
                );
            }
            let wire: Value = serde_json::from_str(&RpcResponse::Error(error.clone()).to_json()).unwrap();
            assert_eq!(wire["jsonrpc"], "2.0");
            assert!(error.error.message.len() < 100, "{}", error.error.message);
        }
    }
    if well_formed {
        assert!(
            matches!(
                outcome,
                Ok(IncomingMessage::Request(_)) | Ok(IncomingMessage::Notification { .. })
            ),
            "{input}"
        );
    }
}

fn rpc_error() -> impl Strategy<Value = RpcError> {
    let s = || text(40);
    prop_oneof![
        s().prop_map(RpcError::Parse),
        s().prop_map(RpcError::InvalidRequest),
        s().prop_map(RpcError::MethodNotFound),
        s().prop_map(RpcError::InvalidParams),
        s().prop_map(RpcError::Internal),
        s().prop_map(RpcError::Refused),
        s().prop_map(RpcError::HeaderMismatch),
        s().prop_map(|requested| RpcError::UnsupportedVersion {
            requested,
            supported: vec!["2025-06-18", "2026-07-28"],
        }),
    ]
}

fn request_id() -> impl Strategy<Value = RequestId> {
    prop_oneof![
        any::<i64>().prop_map(|n| RequestId::Number(n.into())),
        any::<u64>().prop_map(|n| RequestId::Number(n.into())),
        text(30).prop_map(RequestId::String),
    ]
}

proptest! {
    #![proptest_config(config(25_000))]

    /// Any bytes at all (read as the transport reads them): no panic; a parse error exactly when
    /// the text is not JSON, and its message never repeats the input.
    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let body = String::from_utf8_lossy(&bytes);
        let is_json = serde_json::from_str::<Value>(&body).is_ok();
        match parse_body(&body) {
            Err(RpcError::Parse(message)) => {
                prop_assert!(!is_json);
                prop_assert!(message.len() < 120, "{}", message);
            }
            Err(error) => prop_assert_eq!(error.code(), -32600),
            Ok(_) => prop_assert!(is_json),
        }
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    /// A tool result's text block, indented from its compact text: exactly serde_json's pretty
    /// text of the same value.
    #[test]
    fn pretty_text_from_the_compact_one_is_serdes(value in json_value()) {
        prop_assert_eq!(crate::tools::pretty_of(&value.to_string()), serde_json::to_string_pretty(&value).unwrap());
    }

    /// Message-shaped objects and arbitrary JSON: every outcome follows from the members.
    #[test]
    fn classification_follows_the_members(input in prop_oneof![3 => message_like(), 1 => json_value()]) {
        let outcome = classify(input.clone());
        check_classified(&input, &outcome);
        // The same value through the body parser agrees.
        match parse_body(&input.to_string()) {
            Ok(IncomingBody::Single(single)) => prop_assert_eq!(single, outcome),
            Ok(IncomingBody::Batch(_)) | Err(_) => prop_assert!(input.is_array()),
        }
    }

    /// Bodies written member by member, as a client might write them and a serialiser never
    /// would (a member twice, spaces anywhere, numbers such as `-0`, `1.0` and `1e400`): the body
    /// parser's way for plain messages gives what reading the body as a value and classifying
    /// it gives, whichever way it takes.
    #[test]
    fn written_messages_parse_as_their_value_classifies(
        members in proptest::collection::vec((member_name(), member_text()), 0..7),
        space in prop_oneof![Just(""), Just(" "), Just("\n\t "), Just("\r\n")],
        array in proptest::bool::weighted(0.05),
    ) {
        let inner = members
            .iter()
            .map(|(name, value)| format!("{space}\"{name}\"{space}:{space}{value}{space}"))
            .collect::<Vec<_>>()
            .join(",");
        // Now and then the same object in a batch, which must not be read as a message.
        let body = if array { format!("{space}[{{{inner}}}]") } else { format!("{space}{{{inner}}}{space}") };
        let reference = serde_json::from_str::<Value>(&body).map(|value| match value {
            Value::Array(_) => None,
            value => Some(classify(value)),
        });
        match (parse_body(&body), reference) {
            (Ok(IncomingBody::Single(single)), Ok(Some(classified))) => prop_assert_eq!(single, classified),
            (Err(RpcError::Parse(_)), Err(_)) => {}
            (Ok(IncomingBody::Batch(_)) | Err(_), Ok(None)) => {}
            (outcome, reference) => prop_assert!(false, "{body}: {outcome:?} against {reference:?}"),
        }
    }

    /// A truncated message is a parse error or a message, never a panic.
    #[test]
    fn truncated_messages_never_panic(input in message_like(), cut in any::<proptest::sample::Index>()) {
        let body = input.to_string();
        let end = cut.index(body.len() + 1);
        let prefix = String::from_utf8_lossy(&body.as_bytes()[..end]);
        let _ = parse_body(&prefix);
    }
}

proptest! {
    #![proptest_config(config(8_000))]

    /// A valid request keeps its id, method and params through parsing; its result response
    /// carries the same id back.
    #[test]
    fn valid_requests_round_trip(id in request_id(), method in text(40), params in proptest::option::of(json_value())) {
        let params = params.map(|p| if p.is_object() || p.is_array() { p } else { json!({"value": p}) });
        let mut message = json!({"jsonrpc": "2.0", "id": id.clone(), "method": method.clone()});
        if let Some(params) = &params {
            message["params"] = params.clone();
        }
        let Ok(IncomingBody::Single(Ok(IncomingMessage::Request(request)))) = parse_body(&message.to_string()) else {
            panic!("not a request: {message}");
        };
        prop_assert_eq!(&request.id, &id);
        prop_assert_eq!(&request.method, &method);
        prop_assert_eq!(&request.params, &params);
        let answer: Value = serde_json::from_str(&RpcResponse::result(request.id, json!({})).to_json()).unwrap();
        prop_assert_eq!(&answer["jsonrpc"], "2.0");
        prop_assert_eq!(&answer["id"], &request_id_value(&id));
    }

    /// Every error response serialises to JSON-RPC 2.0 with its code, message and id.
    #[test]
    fn error_responses_serialise(error in rpc_error(), id in proptest::option::of(request_id())) {
        let wire: Value = serde_json::from_str(&RpcResponse::error(id.clone(), &error).to_json()).unwrap();
        prop_assert_eq!(&wire["jsonrpc"], "2.0");
        prop_assert_eq!(&wire["error"]["code"], &json!(error.code()));
        prop_assert_eq!(&wire["error"]["message"], &json!(error.to_string()));
        prop_assert_eq!(&wire["id"], &id.as_ref().map_or(Value::Null, request_id_value));
        prop_assert!(wire.get("result").is_none());
    }
}

proptest! {
    #![proptest_config(config(1_000))]

    /// Batches up to the limit are split message by message; larger ones are refused whole.
    #[test]
    fn batches_over_the_limit_are_refused_whole(
        messages in proptest::collection::vec(message_like(), 1..=(BATCH_MAX_MESSAGES * 3)),
    ) {
        let n = messages.len();
        let outcome = parse_body(&Value::Array(messages.clone()).to_string());
        if n > BATCH_MAX_MESSAGES {
            let error = outcome.unwrap_err();
            prop_assert_eq!(error.code(), -32600);
            let suffix = format!("(got {n})");
            prop_assert!(error.to_string().ends_with(&suffix));
        } else {
            let Ok(IncomingBody::Batch(items)) = outcome else { panic!("not a batch") };
            prop_assert_eq!(items.len(), n);
            for (message, item) in messages.iter().zip(&items) {
                check_classified(message, item);
            }
        }
    }
}

/// UTF-16 length, as the argument limits count.
fn js_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A value for `field` near its bounds, valid or just outside, or anything at all.
fn near(field: &Field) -> BoxedStrategy<Value> {
    let whole = |min: i64, max: i64| {
        prop_oneof![
            (min.saturating_sub(2)..=max.saturating_add(2)).prop_map(Value::from),
            (min.saturating_sub(2)..=max.saturating_add(2)).prop_map(|n| Value::from(n as f64)),
            Just(json!(2.5)),
            any::<i64>().prop_map(Value::from),
        ]
        .boxed()
    };
    let kind_value = match field.kind.clone() {
        FieldKind::Text { min_len, max_len } => {
            // Image references may be 16 MiB (the request body's own bound): their length
            // boundary is not generated, only text up to GENERATED_TEXT_MAX.
            let top = (max_len.unwrap_or(min_len + 80) + 2).min(GENERATED_TEXT_MAX);
            prop_oneof![text(top.min(min_len + 6)), long_text(top)]
                .prop_map(Value::from)
                .boxed()
        }
        FieldKind::Choice { options, .. } => prop_oneof![
            proptest::sample::select(options).prop_map(Value::from),
            text(12).prop_map(Value::from),
        ]
        .boxed(),
        FieldKind::Integer(limit) => whole(limit.min, limit.max.unwrap_or(1_000)),
        FieldKind::OptionalInteger { min, max } => whole(min, max),
        FieldKind::Number { min, max } => prop_oneof![
            (min - 1.0..=max + 1.0).prop_map(Value::from),
            ((min as i64 - 1)..=(max as i64 + 1)).prop_map(Value::from),
        ]
        .boxed(),
        FieldKind::Flag { .. } => {
            prop_oneof![any::<bool>().prop_map(Value::from), Just(json!("true")), Just(json!(1))].boxed()
        }
        FieldKind::TextList { max_items, max_len, .. } => proptest::collection::vec(
            text((max_len + 2).min(GENERATED_TEXT_MAX)).prop_map(Value::from),
            0..=max_items + 2,
        )
        .prop_map(Value::Array)
        .boxed(),
    };
    prop_oneof![6 => kind_value, 1 => Just(Value::Null), 1 => json_value()].boxed()
}

/// A tool (by index) and raw arguments for it: each field absent, near its bounds or arbitrary,
/// plus stray keys.
fn tool_call() -> impl Strategy<Value = (usize, Map<String, Value>)> {
    (0..TOOLS.len()).prop_flat_map(|index| {
        let fields = (TOOLS[index].typed.fields)();
        let per_field: Vec<_> = fields
            .iter()
            .map(|field| {
                let name = field.name;
                proptest::option::weighted(0.8, near(field)).prop_map(move |v| (name, v))
            })
            .collect();
        let stray = proptest::collection::vec((key(), json_value()), 0..3);
        (Just(index), per_field, stray).prop_map(|(index, values, stray)| {
            let mut raw: Map<String, Value> = stray.into_iter().collect();
            for (name, value) in values {
                match value {
                    Some(value) => raw.insert(name.to_string(), value),
                    None => raw.remove(name),
                };
            }
            (index, raw)
        })
    })
}

/// Whether `value` (as validation returned it) lies within `field`'s bounds.
fn within_bounds(field: &Field, value: &Value) -> bool {
    match &field.kind {
        FieldKind::Text { min_len, max_len } => value
            .as_str()
            .is_some_and(|t| js_len(t) >= *min_len && max_len.is_none_or(|max| js_len(t) <= max)),
        FieldKind::Choice { options, .. } => value.as_str().is_some_and(|t| options.contains(&t)),
        FieldKind::Integer(limit) => value
            .as_i64()
            .is_some_and(|n| n >= limit.min && limit.max.is_none_or(|max| n <= max)),
        FieldKind::OptionalInteger { min, max } => value.as_i64().is_some_and(|n| (*min..=*max).contains(&n)),
        FieldKind::Number { min, max } => value.as_f64().is_some_and(|x| x >= *min && x <= *max),
        FieldKind::Flag { .. } => value.is_boolean(),
        FieldKind::TextList {
            min_items,
            max_items,
            max_len,
        } => value.as_array().is_some_and(|items| {
            (*min_items..=*max_items).contains(&items.len())
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|t| !t.is_empty() && js_len(t) <= *max_len))
        }),
    }
}

/// Every string in `value`, nested ones included.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(12_000))]

    /// Whatever validates keeps every field's bounds, required fields and defaults; the typed
    /// parse of the tool agrees with validation; errors never repeat long input.
    #[test]
    fn tool_arguments_validate_within_bounds((index, raw) in tool_call()) {
        let tool = TOOLS[index];
        let fields = (tool.typed.fields)();
        let validated = validate_args(&fields, &raw);
        let typed = (tool.typed.parse)(&raw).map_err(|e| e.to_string());
        match &validated {
            Ok(args) => {
                prop_assert!(typed.is_ok(), "{}: validated but not parsed: {:?}", tool.name, typed);
                for key in args.keys() {
                    prop_assert!(fields.iter().any(|f| f.name == key), "{}: unknown key {key} kept", tool.name);
                }
                for field in &fields {
                    match args.get(field.name) {
                        Some(value) => prop_assert!(within_bounds(field, value), "{}.{} = {value}", tool.name, field.name),
                        None => {
                            prop_assert!(!field.required, "{}.{} missing", tool.name, field.name);
                            prop_assert!(
                                !matches!(field.kind, FieldKind::Integer(_) | FieldKind::Choice { default: Some(_), .. }),
                                "{}.{}: default not filled", tool.name, field.name
                            );
                            prop_assert!(raw.get(field.name).is_none_or(Value::is_null));
                        }
                    }
                }
            }
            Err(error) => {
                prop_assert_eq!(typed, Err(error.to_string()));
                let message = error.to_string();
                prop_assert!(message.len() < 400, "{}: {}", tool.name, message);
                let mut inputs = Vec::new();
                strings(&Value::Object(raw.clone()), &mut inputs);
                for input in inputs.iter().filter(|s| s.chars().count() > ECHO_MAX_CHARS) {
                    prop_assert!(!message.contains(input.as_str()), "{}: long input echoed", tool.name);
                }
            }
        }
    }
}

fn controls() -> impl Strategy<Value = Controls> {
    let side = || prop_oneof![3 => 200i64..2600, 1 => any::<i64>()];
    (
        proptest::option::weighted(0.3, proptest::sample::select(ASPECT_RATIOS.to_vec())),
        proptest::option::weighted(0.3, side()),
        proptest::option::weighted(0.3, side()),
        proptest::option::weighted(0.3, prop_oneof![(-2i64..5_000_000_000), any::<i64>()]),
        proptest::option::weighted(0.3, prop_oneof![text(10), Just(" \t".to_string()), long_text(1_010)]),
        proptest::option::weighted(0.3, prop_oneof![(-2i64..60), any::<i64>()]),
        proptest::option::weighted(0.3, prop_oneof![(-2.0f64..35.0), any::<f64>()]),
        proptest::option::weighted(0.2, prop_oneof![(-0.5f64..1.5), any::<f64>()]),
    )
        .prop_map(
            |(aspect_ratio, width, height, seed, negative_prompt, steps, guidance, strength)| Controls {
                aspect_ratio,
                width,
                height,
                seed,
                negative_prompt,
                steps,
                guidance,
                strength,
            },
        )
}

/// Asserts an accepted plan only sends the model's parameters, within their ranges and size rules.
fn check_plan(spec: &ModelSpec, controls: &Controls, random_seed: u32, plan: &crate::models::Plan) {
    let wire_names: Vec<&str> = spec.params.iter().map(|p| p.wire_name).collect();
    let sent: Vec<&str> = plan.parameters.keys().map(String::as_str).collect();
    let mut in_order = wire_names.iter().filter(|name| sent.contains(name)).copied();
    assert!(
        sent.iter().all(|name| in_order.next() == Some(name)),
        "{}: {sent:?}",
        spec.name
    );
    for param in spec.params {
        let Some(value) = plan.parameters.get(param.wire_name) else {
            continue;
        };
        let ok = match param.range {
            Range::Integer { min, max } => value.as_i64().is_some_and(|n| (min..=max).contains(&n)),
            Range::Number { min, max } => value.as_f64().is_some_and(|x| x >= min && x <= max),
            Range::Text { max_chars } => value
                .as_str()
                .is_some_and(|t| !t.trim().is_empty() && js_len(t) <= max_chars),
        };
        assert!(ok, "{}: {} = {value}", spec.name, param.wire_name);
    }
    if let (Some(rule), Some(w), Some(h)) = (&spec.size, plan.width, plan.height) {
        for side in [w, h] {
            assert!(
                side >= i64::from(rule.min) && side <= i64::from(rule.max),
                "{}: {side}",
                spec.name
            );
            assert_eq!(side % i64::from(rule.multiple_of), 0, "{}: {side}", spec.name);
        }
    }
    let takes_seed = spec.params.iter().any(|p| p.wire_name == "seed");
    let expected_seed = takes_seed.then(|| controls.seed.unwrap_or(i64::from(random_seed)));
    assert_eq!(plan.seed, expected_seed, "{}", spec.name);
    if controls.aspect_ratio.is_some() || controls.width.is_some() {
        assert!(
            plan.width.is_some() && plan.height.is_some(),
            "{}: a size was dropped",
            spec.name
        );
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    /// Any controls against any model: no panic; an accepted plan keeps the model's ranges,
    /// multiples and wire names; a refusal names the model and stays small.
    #[test]
    fn model_plans_keep_the_models_rules(model in 0..MODELS.len(), controls in controls(), random_seed in any::<u32>()) {
        let spec = &MODELS[model];
        match spec.plan(&controls, random_seed) {
            Ok(plan) => check_plan(spec, &controls, random_seed, &plan),
            Err(message) => {
                prop_assert!(message.contains(&format!("Model {}", spec.name)), "{message}");
                prop_assert!(message.len() < 600, "{}", message.len());
                if let Some(negative) = controls.negative_prompt.as_ref().filter(|t| t.chars().count() > ECHO_MAX_CHARS) {
                    prop_assert!(!message.contains(negative.as_str()));
                }
            }
        }
    }

    /// Controls inside a model's ranges are accepted.
    #[test]
    fn controls_within_the_models_ranges_are_accepted(model in 0..MODELS.len(), picks in proptest::collection::vec(any::<proptest::sample::Index>(), 8)) {
        let spec = &MODELS[model];
        let mut controls = Controls::default();
        for (i, param) in spec.params.iter().enumerate() {
            let pick = &picks[i % picks.len()];
            match (param.range, param.wire_name) {
                (_, "width" | "height") => {}
                (Range::Integer { min, max }, "seed") => controls.seed = Some(min + pick.index((max - min) as usize + 1) as i64),
                (Range::Integer { min, max }, _) => controls.steps = Some(min + pick.index((max - min) as usize + 1) as i64),
                (Range::Number { min, max }, _) => controls.guidance = Some(min + (max - min) * pick.index(1001) as f64 / 1000.0),
                (Range::Text { max_chars }, _) => controls.negative_prompt = Some("n".repeat(1 + pick.index(max_chars))),
            }
        }
        if let Some(rule) = &spec.size {
            let steps = (rule.max - rule.min.div_ceil(rule.multiple_of) * rule.multiple_of) / rule.multiple_of;
            let side = |pick: &proptest::sample::Index| {
                i64::from(rule.min.div_ceil(rule.multiple_of) * rule.multiple_of + pick.index(steps as usize + 1) as u32 * rule.multiple_of)
            };
            if picks[7].index(2) == 0 {
                controls.width = Some(side(&picks[5]));
                controls.height = Some(side(&picks[6]));
            } else {
                controls.aspect_ratio = Some(ASPECT_RATIOS[picks[5].index(ASPECT_RATIOS.len())]);
            }
        }
        let plan = spec.plan(&controls, 7);
        prop_assert!(plan.is_ok(), "{}: {:?} refused: {:?}", spec.name, controls, plan);
        check_plan(spec, &controls, 7, &plan.unwrap());
    }
}

fn status_filter() -> impl Strategy<Value = StatusFilter> {
    prop_oneof![
        Just(StatusFilter::All),
        proptest::sample::select(JobStatus::ALL.to_vec()).prop_map(StatusFilter::Only),
    ]
}

/// Every statement the store builds from the given user values.
fn statements(
    texts: &[String; 5],
    ids: &[String],
    numbers: (i64, i64, i64),
    filter: StatusFilter,
    size: Option<(u32, u32)>,
) -> Vec<Statement> {
    let [id, prompt, error, url, model] = texts;
    let (now, limit, offset) = numbers;
    let page = Page { limit, offset };
    let stored = crate::jobs::StoredImage {
        url: url.clone(),
        size,
        bytes: offset,
        thumbnail_url: Some(error.clone()),
        thumbnail_base64: None,
    };
    let job = NewJob {
        id: id.clone(),
        seed: Some(now),
        width: None,
        height: Some(limit),
        parameters: prompt.clone(),
        // Inputs are text from references (URLs a client gave), bound like any user text.
        inputs: Some(error.clone()),
        estimated_neurons: Some(limit as f64),
        estimated_usd: None,
    };
    vec![
        // The owner (a key's name) is bound like any user text.
        sql::insert_job(&job, prompt, model, error, now),
        sql::insert_jobs(&[job.clone(), job.clone()], prompt, model, error, now),
        sql::select_job(id, Some(error)),
        sql::select_jobs(ids, Some(error)),
        sql::count_jobs(filter, Some(error)),
        sql::list_jobs(filter, page, Some(error)),
        sql::count_generations(Some(error)),
        sql::list_generations(page, Some(error)),
        sql::reserve_usage(
            error,
            url,
            crate::jobs::Spend {
                images: limit,
                neurons: now as f64,
                usd: 0.5,
            },
            crate::jobs::Limits {
                images: Some(7),
                neurons: Some(1.5),
            },
        ),
        sql::release_usage(
            error,
            url,
            crate::jobs::Spend {
                images: limit,
                neurons: 1.0,
                usd: 0.0,
            },
        ),
        sql::adjust_spend(error, url, -2.5, 0.25),
        sql::select_usage(url, Some(error)),
        sql::claim_for_processing(id, now),
        sql::record_retryable_failure(id, error, now),
        sql::mark_failed(id, error, now),
        sql::mark_dead_lettered(id, error, now),
        sql::mark_completed(id, &stored, now),
        sql::insert_generation(error, id, &stored, prompt, model, now),
        sql::list_stored_images(ImageFilter::default(), None, limit),
        sql::list_stored_images(
            ImageFilter { owner: Some(error) },
            Some(&ImagePosition {
                created_at: now,
                id: id.clone(),
            }),
            limit,
        ),
        // Cancelling: the owner is user text too.
        crate::jobs::cancel_sql::release_cancelled_images(ids, Some(error)),
        crate::jobs::cancel_sql::cancel(ids, Some(error), now),
        // Tasks: ids, owners, tool names and stored results are bound like any user text.
        crate::jobs::tasks::insert_task(&crate::jobs::tasks::NewTask {
            id,
            owner: error,
            form: crate::jobs::tasks::TaskForm::Core,
            tool: model,
            job_ids: ids,
            preview: true,
            result: Some(prompt),
            poll_interval_ms: limit,
            ttl_ms: offset,
            now,
        }),
        crate::jobs::tasks::select_task(id, Some(error), now),
        crate::jobs::tasks::list_tasks(
            Some(error),
            Some(&crate::jobs::tasks::TaskPosition {
                created_at: now,
                id: url.clone(),
            }),
            limit,
            now,
        ),
        crate::jobs::tasks::mark_task_cancelled(id, now),
        crate::jobs::tasks::delete_expired_tasks(now, limit),
    ]
}

proptest! {
    #![proptest_config(config(6_000))]

    /// For any ids, prompts, errors, filters and pages: one bound value per placeholder, the SQL
    /// text depends only on the number of ids and the filter (user text travels only as a
    /// parameter), and every user string is bound verbatim.
    #[test]
    fn sql_binds_user_text_and_never_splices_it(
        texts in proptest::array::uniform5(text(30)),
        ids in proptest::collection::vec(text(20), 0..25),
        numbers in (any::<i64>(), any::<i64>(), any::<i64>()),
        filter in status_filter(),
        size in proptest::option::of((any::<u32>(), any::<u32>())),
    ) {
        let built = statements(&texts, &ids, numbers, filter, size);
        let dummy = statements(&std::array::from_fn(|_| "x".to_string()), &vec!["x".to_string(); ids.len()], (1, 1, 1), filter, None);
        for (statement, plain) in built.iter().zip(&dummy) {
            prop_assert_eq!(statement.sql.matches('?').count(), statement.params.len(), "{}", &statement.sql);
            prop_assert_eq!(&statement.sql, &plain.sql);
        }
        let bound: Vec<&SqlValue> = built.iter().flat_map(|s| &s.params).collect();
        for text in texts.iter().chain(&ids) {
            prop_assert!(bound.contains(&&SqlValue::Text(text.clone())), "{text:?} not bound");
        }
    }
}

/// The migrations, read once.
fn migrations() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn run(db: &rusqlite::Connection, statement: &Statement) -> usize {
    let values = statement.params.iter().map(|param| match param {
        SqlValue::Text(text) => rusqlite::types::Value::Text(text.clone()),
        SqlValue::Integer(n) => rusqlite::types::Value::Integer(*n),
        SqlValue::Real(n) => rusqlite::types::Value::Real(*n),
        SqlValue::Null => rusqlite::types::Value::Null,
    });
    db.execute(&statement.sql, rusqlite::params_from_iter(values)).unwrap()
}

proptest! {
    #![proptest_config(config(500))]

    /// Against SQLite with the real migrations: hostile ids, prompts and errors are stored and
    /// read back byte for byte, and touch nothing else.
    #[test]
    fn hostile_text_round_trips_through_sqlite(
        id in text(40).prop_map(|t| format!("{t}' OR '1'='1")),
        prompt in text(60).prop_map(|t| format!("{t}'); DROP TABLE generations; --")),
        error in text(60),
        model in proptest::sample::select(MODELS.iter().map(|m| m.name).collect::<Vec<_>>()),
    ) {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(migrations()).unwrap();
        let job = NewJob { id: id.clone(), seed: None, width: None, height: None, parameters: "{}".to_string(), inputs: None, estimated_neurons: None, estimated_usd: None };
        prop_assert_eq!(run(&db, &sql::insert_job(&job, &prompt, model, "admin", 1)), 1);
        prop_assert_eq!(run(&db, &sql::insert_job(&NewJob { id: "other".into(), ..job }, "p", model, "admin", 1)), 1);
        prop_assert_eq!(run(&db, &sql::mark_failed(&id, &error, 2)), 1);
        let select = sql::select_jobs(&[id.clone(), "missing".to_string()], None);
        let values: Vec<rusqlite::types::Value> = select.params.iter().map(|p| match p {
            SqlValue::Text(t) => rusqlite::types::Value::Text(t.clone()),
            _ => unreachable!(),
        }).collect();
        let mut query = db.prepare(&select.sql).unwrap();
        let rows: Vec<(String, String, Option<String>)> = query
            .query_map(rusqlite::params_from_iter(values), |r| Ok((r.get(0)?, r.get(2)?, r.get(5)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        prop_assert_eq!(rows, vec![(id, prompt, Some(error))]);
        let other: String = db.query_row("SELECT status FROM generation_jobs WHERE id = 'other'", [], |r| r.get(0)).unwrap();
        prop_assert_eq!(other, "pending");
        let gallery: i64 = db.query_row("SELECT COUNT(*) FROM generations", [], |r| r.get(0)).unwrap();
        prop_assert_eq!(gallery, 0);
    }
}

/// A job's own values, from every range its columns can hold.
fn new_job() -> impl Strategy<Value = NewJob> {
    // Estimates from a fraction of a millionth of a dollar to a billion neurons. SQLite reads a
    // JSON number back exactly over that range (no mismatch in 1.4 million tries from 1e-9 to
    // 1e9), not at extreme exponents: 1.4308908688788204e-265 came back one bit off.
    let float = prop_oneof![
        Just(0.0),
        (0.0f64..1e-6),
        (0.0f64..1e-3),
        (0.0f64..1.0),
        (0.0f64..1e6),
        (0.0f64..1e9),
    ];
    (
        text(40),
        proptest::option::of(any::<i64>()),
        proptest::option::of(prop_oneof![any::<i64>(), 0i64..4096]),
        proptest::option::of(0i64..4096),
        text(60),
        proptest::option::of(text(60)),
        proptest::option::of(float.clone()),
        proptest::option::of(float),
    )
        .prop_map(
            |(id, seed, width, height, parameters, inputs, estimated_neurons, estimated_usd)| NewJob {
                id,
                seed,
                width,
                height,
                parameters,
                inputs,
                estimated_neurons,
                estimated_usd,
            },
        )
}

proptest! {
    #![proptest_config(config(500))]

    /// `insert_jobs` passes each job's values through a JSON text read by SQLite's `json_each`:
    /// against SQLite with the real migrations, every text, integer and REAL comes back exactly
    /// as the job had it (bit for bit), in the jobs' order, with the shared values bound as they are.
    #[test]
    fn insert_jobs_stores_each_value_exactly(
        jobs in proptest::collection::vec(new_job(), 1..21),
        prompt in text(60),
        owner in text(20),
        now in any::<i64>(),
    ) {
        let jobs: Vec<NewJob> = jobs
            .into_iter()
            .enumerate()
            .map(|(i, job)| NewJob { id: format!("{i:02}{}", job.id), ..job })
            .collect();
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(migrations()).unwrap();
        prop_assert_eq!(run(&db, &sql::insert_jobs(&jobs, &prompt, "flux-schnell", &owner, now)), jobs.len());
        let mut query = db
            .prepare(
                "SELECT id, status, prompt, model, created_at, updated_at, seed, width, height, parameters, owner, inputs, \
                 estimated_neurons, estimated_usd, typeof(seed), typeof(estimated_neurons) FROM generation_jobs ORDER BY rowid",
            )
            .unwrap();
        type Row = (String, String, String, String, i64, i64, Option<i64>, Option<i64>, Option<i64>, String, String, Option<String>, Option<f64>, Option<f64>, String, String);
        let rows: Vec<Row> = query
            .query_map([], |r| {
                Ok((
                    r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?,
                    r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        prop_assert_eq!(rows.len(), jobs.len());
        for (row, job) in rows.iter().zip(&jobs) {
            prop_assert_eq!(&row.0, &job.id);
            prop_assert_eq!((row.1.as_str(), row.2.as_str(), row.3.as_str(), row.4, row.5), ("pending", prompt.as_str(), "flux-schnell", now, now));
            prop_assert_eq!((row.6, row.7, row.8), (job.seed, job.width, job.height));
            prop_assert_eq!(&row.9, &job.parameters);
            prop_assert_eq!(&row.10, &owner);
            prop_assert_eq!(&row.11, &job.inputs);
            prop_assert_eq!(row.12.map(f64::to_bits), job.estimated_neurons.map(f64::to_bits), "neurons {:?}", job.estimated_neurons);
            prop_assert_eq!(row.13.map(f64::to_bits), job.estimated_usd.map(f64::to_bits), "usd {:?}", job.estimated_usd);
            prop_assert_eq!(row.14.as_str(), if job.seed.is_some() { "integer" } else { "null" });
            prop_assert_eq!(row.15.as_str(), if job.estimated_neurons.is_some() { "real" } else { "null" });
        }
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    /// A declared Content-Length is accepted only as a number within the limit.
    #[test]
    fn declared_lengths_are_numbers_within_the_limit(
        header in proptest::option::of(prop_oneof![text(12), any::<u64>().prop_map(|n| n.to_string()), (0u64..300).prop_map(|n| format!(" {n} "))]),
        max in 0usize..256,
    ) {
        let parsed = header.as_deref().and_then(|h| h.trim().parse::<u64>().ok());
        match declared_length(header.as_deref(), max) {
            Ok(Some(length)) => prop_assert_eq!(Some(length as u64), parsed.filter(|n| *n <= max as u64)),
            Ok(None) => prop_assert_eq!(parsed, None),
            Err(_) => prop_assert!(parsed.is_some_and(|n| n > max as u64)),
        }
    }

    /// Chunks are kept while the total stays within the limit; the first chunk past it is
    /// refused, and the text is exactly the kept bytes (a leading byte order mark dropped,
    /// sequences that are not UTF-8 replaced).
    #[test]
    fn the_body_reader_holds_at_most_the_limit(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..12),
        max in 0usize..200,
        expected in proptest::option::of(any::<usize>()),
    ) {
        let mut body = LimitedBody::new(max, expected);
        let mut kept = Vec::new();
        let mut refused = false;
        for chunk in &chunks {
            let fits = kept.len() + chunk.len() <= max;
            prop_assert_eq!(body.push(chunk).is_ok(), fits);
            if !fits {
                refused = true;
                break;
            }
            kept.extend_from_slice(chunk);
        }
        prop_assert!(refused || kept.len() == chunks.iter().map(Vec::len).sum::<usize>());
        let without_bom = kept.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&kept);
        prop_assert_eq!(body.into_text(), String::from_utf8_lossy(without_bom));
    }
}

const ORIGIN: &str = "https://img.example.workers.dev";
const PUBLIC_BASE: &str = "https://cdn.example.com/img";

/// Image references: arbitrary text, and text after each prefix a reference can start with
/// (this server's image route, its public base, data URLs, other hosts and schemes, UUID shapes).
fn reference_text() -> impl Strategy<Value = String> {
    let prefix = proptest::sample::select(vec![
        "",
        "/images/",
        "https://img.example.workers.dev/images/",
        "https://img.example.workers.dev",
        "https://img.example.workers.dev.evil.com/images/",
        "http://img.example.workers.dev/images/",
        "https://cdn.example.com/img/",
        "https://cdn.example.com/img",
        "https://example.com/",
        "data:image/png;base64,",
        "data:image/webp;base64,",
        "data:image/gif;base64,",
        "data:",
        "file:///",
        "0b7c6a1e-1f2d-4e3c-9a8b-",
    ]);
    let uuid = any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string());
    let key = (
        any::<u64>(),
        proptest::sample::select(vec!["png", "jpg", "webp", "gif", ""]),
    )
        .prop_map(|(n, ext)| format!("{n}-a-fox-0b7c6a1e.{ext}"));
    let tail = prop_oneof![text(40), long_text(300), uuid, key];
    (prefix, tail).prop_map(|(prefix, tail)| format!("{prefix}{tail}"))
}

proptest! {
    #![proptest_config(config(10_000))]

    /// A reference is a job id (exactly a lowercase UUID), a key of our own alphabet under this
    /// server's image route or public base, or a PNG/JPEG/WebP data URL; anything else is
    /// refused with a short message that never repeats long input whole.
    #[test]
    fn image_references_name_only_this_servers_images(text in reference_text()) {
        match parse_reference(&text, ORIGIN, Some(PUBLIC_BASE)) {
            Ok(Reference::Job(id)) => {
                prop_assert_eq!(id, text.as_str());
                let canonical = uuid::Uuid::parse_str(id).map(|u| u.to_string()).ok();
                prop_assert_eq!(canonical.as_deref(), Some(id));
            }
            Ok(Reference::Stored(key)) => {
                prop_assert!(text.ends_with(&format!("/{key}")), "{text}");
                let under_ours = [format!("{ORIGIN}/images/"), "/images/".to_string(), format!("{PUBLIC_BASE}/")]
                    .iter()
                    .any(|prefix| text.strip_prefix(prefix.as_str()) == Some(key));
                prop_assert!(under_ours, "{text}");
                prop_assert!(crate::urls::key_in_stored_url(&text).is_some(), "{key} is a key of our alphabet");
            }
            Ok(Reference::Data(payload)) => {
                let head = &text[..text.len() - payload.len()];
                prop_assert!(
                    ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,"].contains(&head),
                    "{head}"
                );
            }
            Err(message) => {
                prop_assert!(message.chars().count() < 500, "{}", message.len());
                if text.chars().count() > ECHO_MAX_CHARS {
                    prop_assert!(!message.contains(text.as_str()));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(2_000))]

    /// Any payload decodes to at most the limit or is refused; valid base64 of some bytes decodes
    /// back to exactly them.
    #[test]
    fn data_url_payloads_decode_exactly_or_are_refused(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        junk in text(30),
        mode in 0u8..3,
    ) {
        let encoded = crate::media::base64_encode(&bytes);
        let payload = match mode {
            0 => encoded.clone(),
            1 => encoded.trim_end_matches('=').to_string(),
            _ => format!("{encoded}{junk}"),
        };
        match decode_data(&payload) {
            Ok(decoded) => {
                prop_assert!(decoded.len() <= crate::catalog::INPUT_IMAGE_MAX_BYTES);
                if mode < 2 || junk.is_empty() {
                    prop_assert_eq!(decoded, bytes);
                }
            }
            Err(message) => {
                prop_assert!(mode == 2 && !junk.is_empty(), "valid base64 refused: {message}");
                prop_assert!(message.len() < 200);
            }
        }
    }
}

/// Why validation and a tool's emitted `inputSchema` may disagree on an argument object: rules
/// the schema cannot express. Everything else must be judged the same by both (see
/// `the_input_schema_accepts_exactly_what_validation_accepts`); each class is pinned by a test
/// below. Rules across fields (wait_for_completion's one of job_id/job_ids) and per model (which
/// controls a model takes, its sizes, an edit's inputs) are checked after validation, by the
/// handlers and planning, so neither side here sees them; their own tests pin them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inexpressible {
    /// `null` for an optional field counts as absent (lenient clients send it); the schema's
    /// `type` refuses it.
    NullForOptional,
    /// Lengths count UTF-16 units, as the original's JavaScript did; JSON Schema counts
    /// characters, so a string with astral characters can fall on either side of a bound.
    LengthInUtf16Units,
    /// Integers are read exactly or not at all: a number of magnitude 9·10^15 or more that is not
    /// an exact 64-bit integer (past i64, or written as a float) is refused, also where the
    /// schema has no maximum (`offset`).
    IntegerPastExactRange,
}

/// The classes of [`Inexpressible`] that `raw` falls in for `fields`.
fn inexpressible(fields: &[Field], raw: &Map<String, Value>) -> Vec<Inexpressible> {
    let mut classes = Vec::new();
    for field in fields {
        let Some(value) = raw.get(field.name) else { continue };
        if value.is_null() && !field.required {
            classes.push(Inexpressible::NullForOptional);
        }
        let integer_field = matches!(field.kind, FieldKind::Integer(_) | FieldKind::OptionalInteger { .. });
        if integer_field && value.as_f64().is_some_and(|n| n.abs() >= 9e15) {
            classes.push(Inexpressible::IntegerPastExactRange);
        }
        let mut texts = Vec::new();
        strings(value, &mut texts);
        if texts.iter().any(|t| js_len(t) != t.chars().count()) {
            classes.push(Inexpressible::LengthInUtf16Units);
        }
    }
    classes
}

/// Whether a tool's emitted inputSchema accepts `raw`, under both drafts a client may apply.
fn input_schema_accepts(index: usize, raw: &Map<String, Value>) -> (bool, bool) {
    thread_local! {
        static VALIDATORS: std::cell::RefCell<std::collections::HashMap<usize, [jsonschema::Validator; 2]>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    VALIDATORS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let validators = cache.entry(index).or_insert_with(|| {
            let schema = TOOLS[index].to_tool(crate::protocol::version::LATEST).input_schema;
            let build = |draft| {
                jsonschema::options()
                    .with_draft(draft)
                    .build(&schema)
                    .expect("inputSchema compiles")
            };
            [build(jsonschema::Draft::Draft202012), build(jsonschema::Draft::Draft7)]
        });
        let instance = Value::Object(raw.clone());
        (validators[0].is_valid(&instance), validators[1].is_valid(&instance))
    })
}

proptest! {
    #![proptest_config(config(10_000))]

    /// The JSON Schema oracle: what validation accepts, the inputSchema clients see accepts, and
    /// what it refuses, the schema refuses, except for the listed inexpressible classes.
    #[test]
    fn the_input_schema_accepts_exactly_what_validation_accepts((index, raw) in tool_call()) {
        let tool = TOOLS[index];
        let fields = (tool.typed.fields)();
        let ours = validate_args(&fields, &raw).is_ok();
        let (draft_2020, draft_7) = input_schema_accepts(index, &raw);
        prop_assert_eq!(draft_2020, draft_7, "{}: the two drafts disagree on {:?}", tool.name, raw);
        if ours != draft_2020 {
            let classes = inexpressible(&fields, &raw);
            prop_assert!(
                !classes.is_empty(),
                "{}: validation {} but the inputSchema {} {:?}",
                tool.name,
                if ours { "accepts" } else { "refuses" },
                if draft_2020 { "accepts" } else { "refuses" },
                raw
            );
        }
    }
}

fn tool_index(name: &str) -> usize {
    TOOLS.iter().position(|t| t.name == name).expect("tool exists")
}

#[test]
fn null_for_an_optional_field_is_absent_to_validation_and_refused_by_the_schema() {
    let index = tool_index("generate_image");
    let raw = json!({"prompt": "a red fox", "model": null, "seed": null});
    let raw = raw.as_object().unwrap();
    assert!(validate_args(&(TOOLS[index].typed.fields)(), raw).is_ok());
    assert_eq!(input_schema_accepts(index, raw), (false, false));
    assert_eq!(
        inexpressible(&(TOOLS[index].typed.fields)(), raw),
        [Inexpressible::NullForOptional, Inexpressible::NullForOptional]
    );
    // Without the nulls both accept.
    let plain = json!({"prompt": "a red fox"});
    assert_eq!(input_schema_accepts(index, plain.as_object().unwrap()), (true, true));
}

#[test]
fn lengths_count_utf16_units_where_the_schema_counts_characters() {
    let index = tool_index("generate_image");
    let fields = (TOOLS[index].typed.fields)();
    let max = crate::catalog::PROMPT_MAX_CHARS;
    // max/2 + 1 emoji: within the bound in characters, over it in UTF-16 units.
    let prompt = "😀".repeat(max / 2 + 1);
    let raw = json!({ "prompt": prompt });
    let raw = raw.as_object().unwrap();
    assert!(validate_args(&fields, raw).is_err());
    assert_eq!(input_schema_accepts(index, raw), (true, true));
    assert_eq!(inexpressible(&fields, raw), [Inexpressible::LengthInUtf16Units]);
}

#[test]
fn integers_past_the_exact_range_are_refused_where_the_schema_has_no_maximum() {
    let index = tool_index("list_jobs");
    let fields = (TOOLS[index].typed.fields)();
    let raw = json!({ "offset": 9_223_372_036_854_775_808u64 });
    let raw = raw.as_object().unwrap();
    assert!(validate_args(&fields, raw).is_err());
    assert_eq!(input_schema_accepts(index, raw), (true, true));
    assert_eq!(inexpressible(&fields, raw), [Inexpressible::IntegerPastExactRange]);
}

#[test]
fn whole_floats_are_integers_to_both_sides() {
    let index = tool_index("generate_image");
    let raw = json!({"prompt": "a red fox", "count": 2.0});
    let raw = raw.as_object().unwrap();
    assert!(validate_args(&(TOOLS[index].typed.fields)(), raw).is_ok());
    assert_eq!(input_schema_accepts(index, raw), (true, true));
}
