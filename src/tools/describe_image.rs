//! describe_image: one image reference (as edit_image takes them) and an optional question →
//! a caption, or the answer, from the registry's Workers AI vision model, in the call (no job).
//! It lets the assistant check what it made without loading the full image. It counts against
//! the request rate limit and the neuron budget, not the daily image quota.

use serde::Serialize;
use serde_json::Value;

use super::args::{arg, image_arg, tool_args, FieldKind};
use super::output::{json_text, result_schema, ToolOutput};
use super::{Extras, Handler, Hints, Scope, ToolContext, ToolResult, ToolSpec, Typed};
use crate::catalog::{DESCRIPTION_MAX_CHARS, INPUT_IMAGE_MAX_BYTES, QUESTION_MAX_CHARS};
use crate::config::ImageBackend;
use crate::jobs::InputRole;
use crate::models::{js_f64, VISION};
use crate::services::inputs::load;
use crate::services::vision::{describe, Description};

pub const TOOL: ToolSpec = ToolSpec {
    name: "describe_image",
    title: "Describe an image",
    description: || {
        format!(
            "Describe an image in a few sentences, or answer a question about it, with the Workers AI vision model \
             {} ({}): check what an image shows without loading it. The image is the job_id of a completed image, \
             one of this server's image URLs, or a data:image/png|jpeg|webp;base64 URL (at most \
             {INPUT_IMAGE_MAX_BYTES} bytes); other URLs are refused, never fetched. Answers in the call (at most \
             {} tokens, {DESCRIPTION_MAX_CHARS} characters); its neurons count toward your daily spend and \
             neuron budget, not the image quota.",
            VISION.name, VISION.workers_ai_id, VISION.max_tokens
        )
    },
    typed: Typed::of::<DescribeImage>(),
    output_schema,
    scope: Scope::Write,
    hints: Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
    },
    reports_images: false,
    extras: Extras::NONE,
    #[cfg(test)]
    samples: sample_results,
};

fn output_schema() -> Value {
    result_schema(json_text(
        r#"{
        "description": {"type": "string", "description": "The caption, or the answer to the question."},
        "question": {"type": ["string", "null"]},
        "truncated": {"type": "boolean", "description": "The answer reached its bound and was cut."},
        "model": {"type": "string"},
        "workers_ai_id": {"type": "string"},
        "image": {"type": "object", "properties": {
            "source": {"type": "string", "description": "The reference as given (never inline data)."},
            "format": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"},
            "note": {"type": "string", "description": "How the image was converted for the model, if it was."}
        }},
        "usage": {"type": "object", "properties": {
            "input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"}
        }},
        "neurons": {"type": "number", "description": "Neurons of the call, from the model's token counts and published price."},
        "usd": {"type": "number"},
        "note": {"type": "string"}
    }"#,
    ))
}

tool_args! {
    /// The image, and what to ask about it.
    pub struct Args {
        image: String = image_arg(),
        question: Option<String> = arg(
            "A question about the image (e.g. \"Is the text legible?\"); without one, a short caption.",
            FieldKind::Text {
                min_len: 1,
                max_len: Some(QUESTION_MAX_CHARS),
            },
        ),
    }
}

#[derive(Serialize)]
struct ImageSeen {
    source: String,
    format: &'static str,
    width: u32,
    height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Serialize)]
struct UsageSeen {
    input_tokens: u64,
    output_tokens: u64,
}

#[derive(Serialize)]
struct Described {
    success: bool,
    description: String,
    question: Option<String>,
    truncated: bool,
    model: &'static str,
    workers_ai_id: &'static str,
    image: ImageSeen,
    usage: UsageSeen,
    #[serde(serialize_with = "js_f64")]
    neurons: f64,
    #[serde(serialize_with = "js_f64")]
    usd: f64,
}

fn described(question: Option<String>, image: ImageSeen, answer: Description) -> Described {
    Described {
        success: true,
        description: answer.text,
        question,
        truncated: answer.truncated,
        model: VISION.name,
        workers_ai_id: VISION.workers_ai_id,
        image: ImageSeen {
            note: answer.note,
            ..image
        },
        usage: UsageSeen {
            input_tokens: answer.input_tokens,
            output_tokens: answer.output_tokens,
        },
        neurons: answer.cost.neurons,
        usd: answer.cost.usd,
    }
}

/// The tool's behaviour: typed arguments in, a result out.
pub struct DescribeImage;

impl Handler for DescribeImage {
    type Args = Args;

    async fn handle(ctx: &ToolContext, args: Args) -> ToolResult {
        let store = ctx.store()?;
        let image = load(ctx, &store, "image".to_string(), &args.image, InputRole::Image).await?;
        let answer = describe(ctx, &image, args.question.as_deref()).await?;
        let seen = ImageSeen {
            source: image.source.clone(),
            format: image.format.content_type().trim_start_matches("image/"),
            width: image.width,
            height: image.height,
            note: None,
        };
        let output = ToolOutput::success(&described(args.question, seen, answer));
        Ok(noting_backend(output, ctx.config.image_backend))
    }
}

/// Under the offline preview backend no model answered: the result says so.
fn noting_backend(mut output: ToolOutput, backend: ImageBackend) -> ToolOutput {
    output.note_preview_backend(backend);
    output
}

#[cfg(test)]
fn sample_results() -> Vec<(&'static str, ToolOutput)> {
    let seen = || ImageSeen {
        source: "0b7c6a1e-1f2d-4e3c-9a8b-7c6d5e4f3a2b".into(),
        format: "png",
        width: 1024,
        height: 768,
        note: None,
    };
    let answer = Description {
        text: "A red fox sitting in snow under a pale sky.".into(),
        truncated: false,
        input_tokens: 1_612,
        output_tokens: 14,
        cost: crate::models::Cost::of_neurons(VISION.neurons(1_612, 14)),
        note: Some("scaled down from 2048x1536 to fit 1024x1024".into()),
    };
    vec![
        (
            "a caption",
            ToolOutput::success(&described(None, seen(), answer.clone())),
        ),
        (
            "an answer",
            ToolOutput::success(&described(Some("What animal is it?".into()), seen(), answer.clone())),
        ),
        (
            "under the offline preview backend",
            noting_backend(
                ToolOutput::success(&described(None, seen(), answer)),
                ImageBackend::Preview,
            ),
        ),
        (
            "a bad reference",
            ToolOutput::error_message("Invalid arguments: image: no job nope"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::args::parse;
    use serde_json::json;

    #[test]
    fn the_image_is_required_and_the_question_bounded() {
        let args: Args = parse(json!({"image": "abc", "question": "Is it a fox?"}).as_object().unwrap()).unwrap();
        assert_eq!(
            (args.image.as_str(), args.question.as_deref()),
            ("abc", Some("Is it a fox?"))
        );
        assert!(parse::<Args>(json!({"question": "x"}).as_object().unwrap()).is_err());
        let long = "q".repeat(QUESTION_MAX_CHARS + 1);
        assert!(parse::<Args>(json!({"image": "abc", "question": long}).as_object().unwrap()).is_err());
    }

    #[test]
    fn the_result_names_the_model_and_its_cost() {
        let (_, output) = &sample_results()[1];
        assert_eq!(output.object()["model"], VISION.name);
        assert_eq!(output.object()["question"], "What animal is it?");
        assert_eq!(output.object()["usage"]["input_tokens"], 1_612);
        assert!(output.object()["neurons"].as_f64().unwrap() > 0.0);
    }
}
