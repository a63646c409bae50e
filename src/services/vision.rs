//! describe_image's work: an image (already read and checked by `inputs`) and an optional
//! question go to the registry's vision model ([`VISION`]) in its real input form, answered in the
//! call. The estimated neurons are reserved against the caller's budget before the model is asked
//! and corrected to the model's own token count afterwards; the daily image quota is untouched.

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::js_sys::JSON;
use worker::wasm_bindgen::{JsCast, JsValue};

use super::inputs::Loaded;
use super::{quota, Context, ServiceError};
use crate::catalog::DESCRIPTION_MAX_CHARS;
use crate::config::ImageBackend;
use crate::images_binding::fit;
use crate::jobs::Spend;
use crate::media::{base64_encode, ImageFormat};
use crate::models::{neurons_to_usd, Cost, VISION};

/// What the vision model said, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Description {
    pub text: String,
    /// The answer was cut to DESCRIPTION_MAX_CHARS, or the model stopped at its token bound.
    pub truncated: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: Cost,
    /// How the image was sent (a note when it was scaled down or converted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The model's answer as its page documents it: `{response, usage: {prompt_tokens, completion_tokens}}`.
#[derive(Debug, Deserialize)]
struct Answer {
    response: Option<String>,
    #[serde(default)]
    usage: Usage,
}

#[derive(Debug, Default, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: f64,
    #[serde(default)]
    completion_tokens: f64,
}

/// The instruction sent with the image: a caption, or the caller's question.
pub fn instruction(question: Option<&str>) -> String {
    match question {
        Some(question) => {
            format!("Answer this question about the image briefly and factually (a few sentences at most): {question}")
        }
        None => "Describe this image in two to four sentences for someone who cannot see it: the subject, the \
                 setting, the composition and colours, the style, and any text in it."
            .to_string(),
    }
}

/// The model's input in the form its page gives: one user message holding the text and the
/// image as a data URL, and the answer's token bound.
pub fn model_input(text: &str, format: ImageFormat, bytes: &[u8]) -> serde_json::Value {
    let url = format!("data:{};base64,{}", format.content_type(), base64_encode(bytes));
    json!({
        "messages": [{
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }],
        "max_tokens": VISION.max_tokens,
    })
}

/// An answer cut to DESCRIPTION_MAX_CHARS characters (on a character boundary).
pub fn bounded(text: &str) -> (String, bool) {
    let text = text.trim();
    match text.char_indices().nth(DESCRIPTION_MAX_CHARS) {
        Some((at, _)) => (format!("{}…", &text[..at]), true),
        None => (text.to_string(), false),
    }
}

/// Describes `image` (or answers `question` about it) with the vision model.
pub async fn describe(ctx: &impl Context, image: &Loaded, question: Option<&str>) -> Result<Description, ServiceError> {
    let text = instruction(question);
    if ctx.config().image_backend == ImageBackend::Preview {
        return Ok(offline(image));
    }
    let (format, bytes, note) = fitted(ctx, image).await?;
    let store = ctx.job_store()?;
    let neurons = VISION.neurons_at_most(text.chars().count());
    let spend = Spend {
        images: 0,
        neurons,
        usd: neurons_to_usd(neurons),
    };
    let reservation = quota::reserve_now(ctx, &store, spend, crate::time::now_ms()).await?;
    let answer = match ask(ctx, &model_input(&text, format, &bytes)).await {
        Ok(answer) => answer,
        Err(error) => {
            reservation.release(&store).await;
            return Err(error);
        }
    };
    let (input_tokens, output_tokens) = (
        answer.usage.prompt_tokens.max(0.0) as u64,
        answer.usage.completion_tokens.max(0.0) as u64,
    );
    let cost = Cost::of_neurons(VISION.neurons(input_tokens, output_tokens));
    reservation.settle(&store, cost.neurons, cost.usd).await;
    let Some(response) = answer.response else {
        return Err(ServiceError::Vision("the answer has no \"response\" text".to_string()));
    };
    let (text, cut) = bounded(&response);
    Ok(Description {
        text,
        truncated: cut || output_tokens >= u64::from(VISION.max_tokens),
        input_tokens,
        output_tokens,
        cost,
        note,
    })
}

/// Under IMAGE_BACKEND=preview no model is called: the answer says so and gives what the server
/// itself read from the image.
fn offline(image: &Loaded) -> Description {
    Description {
        text: format!(
            "Offline preview backend (IMAGE_BACKEND=preview): no vision model was asked. The server read a {}x{} {} image.",
            image.width,
            image.height,
            image.format.content_type()
        ),
        truncated: false,
        input_tokens: 0,
        output_tokens: 0,
        cost: Cost::default(),
        note: None,
    }
}

/// The image as the model gets it: PNG or JPEG at most VISION.max_side a side, scaled down or
/// converted through the Images binding when it is not.
async fn fitted(ctx: &impl Context, image: &Loaded) -> Result<(ImageFormat, Vec<u8>, Option<String>), ServiceError> {
    let too_big = image.width.max(image.height) > VISION.max_side;
    let webp = image.format == ImageFormat::Webp;
    if !too_big && !webp {
        return Ok((image.format, image.bytes.clone(), None));
    }
    match fit(ctx.env(), &image.bytes, VISION.max_side, ImageFormat::Png).await {
        Ok(bytes) => {
            let note = match too_big {
                true => format!(
                    "scaled down from {}x{} to fit {}x{} for {}",
                    image.width, image.height, VISION.max_side, VISION.max_side, VISION.name
                ),
                false => format!("converted from WebP to PNG for {}", VISION.name),
            };
            Ok((ImageFormat::Png, bytes, Some(note)))
        }
        // A large PNG or JPEG still goes as it is (it only costs more tokens).
        Err(_) if !webp => Ok((image.format, image.bytes.clone(), None)),
        Err(error) => Err(ServiceError::Invalid(format!(
            "{}: {} takes PNG or JPEG images; converting this WebP image failed: {error}",
            image.argument, VISION.name
        ))),
    }
}

/// One call to the vision model, abandoned after AI_TIMEOUT_SECONDS.
async fn ask(ctx: &impl Context, input: &serde_json::Value) -> Result<Answer, ServiceError> {
    let ai = crate::bindings::ai(ctx.env())?;
    let failed = |message: String| ServiceError::Vision(message);
    // A plain JS object (a serde Map would reach the binding as an empty JS Map).
    let input = JSON::parse(&input.to_string()).map_err(|e| failed(describe_js(&e)))?;
    let binding: &worker::worker_sys::Ai = ai.as_ref().unchecked_ref();
    let call = worker::wasm_bindgen_futures::JsFuture::from(binding.run(VISION.workers_ai_id, input));
    let seconds = ctx.config().ai_timeout_seconds;
    let timer = crate::time::sleep_ms(seconds.saturating_mul(1000));
    futures::pin_mut!(call, timer);
    let output = match futures::future::select(call, timer).await {
        futures::future::Either::Left((result, _)) => result.map_err(|e| failed(describe_js(&e)))?,
        futures::future::Either::Right(_) => {
            return Err(failed(format!(
                "no answer within {seconds} s (AI_TIMEOUT_SECONDS); the call was abandoned"
            )))
        }
    };
    let text = JSON::stringify(&output)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| failed("the answer is not JSON".to_string()))?;
    serde_json::from_str(&text).map_err(|e| failed(format!("the answer is not {{response, usage}}: {e}")))
}

fn describe_js(value: &JsValue) -> String {
    let message = match value.dyn_ref::<worker::js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => value.as_string().unwrap_or_else(|| "unknown error".to_string()),
    };
    crate::catalog::echo(&message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_is_one_user_message_with_the_text_and_the_image_as_a_data_url() {
        let input = model_input("What is it?", ImageFormat::Png, &[1, 2, 3]);
        let content = &input["messages"][0]["content"];
        assert_eq!(input["messages"][0]["role"], "user");
        assert_eq!(content[0], json!({"type": "text", "text": "What is it?"}));
        assert_eq!(content[1]["type"], "image_url");
        assert_eq!(content[1]["image_url"]["url"], "data:image/png;base64,AQID");
        assert_eq!(input["max_tokens"], VISION.max_tokens);
    }

    #[test]
    fn the_instruction_carries_the_question_or_asks_for_a_caption() {
        assert!(instruction(Some("Is there a cat?")).ends_with("Is there a cat?"));
        assert!(instruction(None).starts_with("Describe this image"));
    }

    #[test]
    fn answers_are_bounded_on_character_boundaries() {
        assert_eq!(bounded("  a fox  "), ("a fox".to_string(), false));
        let long = "é".repeat(DESCRIPTION_MAX_CHARS + 10);
        let (text, cut) = bounded(&long);
        assert!(cut);
        assert_eq!(text.chars().count(), DESCRIPTION_MAX_CHARS + 1);
    }

    #[test]
    fn neurons_follow_the_published_token_prices() {
        // $0.270 / $0.850 per M input / output tokens = 24545 / 77273 neurons (pricing page).
        assert_eq!(VISION.neurons(1_000_000, 0), 24545.0);
        assert_eq!(VISION.neurons(0, 1_000_000), 77273.0);
        let cost = Cost::of_neurons(VISION.neurons(2_000, 300));
        assert!((cost.neurons - (2_000.0 * 24545.0 + 300.0 * 77273.0) / 1e6).abs() < 1e-6);
        assert!((neurons_to_usd(24545.0) - 0.27).abs() < 0.0001);
        assert!(VISION.neurons_at_most(100) > VISION.neurons(2_000, 0));
    }
}
