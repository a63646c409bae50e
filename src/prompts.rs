//! The prompt templates (`prompts/list`, `prompts/get`): curated requests that lead the assistant
//! to the right tool, model and controls. Every template is one row of [`PROMPTS`]; the models are
//! picked by registry role (never by name), the listing and the discovery page are rendered from
//! the table, and `prompts/list` is paged like `resources/list` (an opaque cursor the server mints).

use serde_json::{Map, Value};

use crate::catalog::{echo, PROMPT_ARGUMENT_MAX_CHARS, PROMPT_PAGE_SIZE};
use crate::media::{base64_decode, base64_encode};
use crate::models::{ImageModel, Role};
use crate::protocol::jsonrpc::RpcError;
use crate::protocol::mcp::{
    GetPromptParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage, PromptText,
};

/// One argument of a template.
pub struct ArgumentSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// None: required. Some: what the template uses when the argument is not given.
    pub default: Option<&'static str>,
}

/// One template: what it is for, its arguments, and how its request is made.
pub struct PromptSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub arguments: &'static [ArgumentSpec],
    /// The model the request uses (by registry role).
    pub role: Role,
    /// The aspect ratio it asks for (every role's model takes a size).
    pub aspect_ratio: &'static str,
    /// The image prompt, with `{argument}` placeholders.
    pub image_prompt: &'static str,
    /// What to do once the image exists.
    pub then: &'static str,
}

const fn required(name: &'static str, description: &'static str) -> ArgumentSpec {
    ArgumentSpec {
        name,
        description,
        default: None,
    }
}

const fn optional(name: &'static str, description: &'static str, default: &'static str) -> ArgumentSpec {
    ArgumentSpec {
        name,
        description,
        default: Some(default),
    }
}

/// Every template, in listing order.
pub const PROMPTS: &[PromptSpec] = &[
    PromptSpec {
        name: "product_shot",
        title: "Product shot",
        description: "A clean e-commerce photo of a product, then a transparent cut-out of it.",
        arguments: &[
            required("product", "The product, e.g. \"a matte black ceramic coffee mug\"."),
            optional("setting", "Where it stands.", "a seamless light-grey studio backdrop"),
        ],
        role: Role::HighDetail,
        aspect_ratio: "4:3",
        image_prompt: "Professional product photograph of {product} on {setting}, soft diffused studio lighting, \
                       subtle reflection, sharp focus, high detail, commercial catalogue style",
        then:
            "Check it with describe_image (question: \"Is the product fully visible, sharp and free of artefacts?\"), \
               then call remove_background on the job_id for a transparent PNG cut-out.",
    },
    PromptSpec {
        name: "logo",
        title: "Logo",
        description: "A simple, legible logo with the brand name written in it.",
        arguments: &[
            required("brand", "The brand name to write, exactly."),
            optional("style", "The look.", "flat vector, bold geometric shapes, two colours"),
        ],
        role: Role::LegibleText,
        aspect_ratio: "1:1",
        image_prompt: "A logo for \"{brand}\": the word \"{brand}\" in clean legible lettering beside a simple \
                       emblem, {style}, centred on a plain white background, no other text",
        then: "Ask describe_image \"What text is written in the image, letter by letter?\" and compare it with the \
               brand; if it differs, generate again with a new seed. remove_background gives a transparent version.",
    },
    PromptSpec {
        name: "app_icon",
        title: "App icon",
        description: "A square app icon that reads well at small sizes.",
        arguments: &[
            required("app", "What the app does, e.g. \"a weather app\"."),
            optional("colors", "The palette.", "a vivid blue-to-teal gradient"),
        ],
        role: Role::HighDetail,
        aspect_ratio: "1:1",
        image_prompt: "A modern mobile app icon for {app}: one bold, simple symbol centred on a rounded square with \
                       {colors}, soft depth, no text, crisp edges, readable at small sizes",
        then: "Ask describe_image whether the symbol is recognisable at a glance.",
    },
    PromptSpec {
        name: "portrait",
        title: "Portrait",
        description: "A photographic portrait with natural light.",
        arguments: &[
            required("subject", "Who, e.g. \"an elderly fisherman with a grey beard\"."),
            optional(
                "mood",
                "The mood and light.",
                "warm golden-hour light, calm and thoughtful",
            ),
        ],
        role: Role::HighDetail,
        aspect_ratio: "3:4",
        image_prompt: "Portrait photograph of {subject}, {mood}, shallow depth of field, 85mm lens, natural skin \
                       texture, detailed eyes",
        then: "Ask describe_image whether the face and hands look natural before using it.",
    },
    PromptSpec {
        name: "isometric_illustration",
        title: "Isometric illustration",
        description: "A tidy isometric scene, good for explainers and landing pages.",
        arguments: &[
            required(
                "scene",
                "What it shows, e.g. \"a tiny data centre with servers and cooling pipes\".",
            ),
            optional("palette", "The colours.", "soft pastel colours"),
        ],
        role: Role::HighDetail,
        aspect_ratio: "1:1",
        image_prompt: "Isometric 3D illustration of {scene}, {palette}, clean geometry, gentle shadows, plain \
                       background, miniature diorama style",
        then: "Use generate_variations on the job_id for alternatives.",
    },
    PromptSpec {
        name: "sticker",
        title: "Sticker",
        description: "A die-cut sticker design, then cut out on a transparent background.",
        arguments: &[
            required("subject", "What it shows, e.g. \"a happy avocado wearing sunglasses\"."),
            optional("text", "A short caption on the sticker (none: no text).", ""),
        ],
        role: Role::LegibleText,
        aspect_ratio: "1:1",
        image_prompt: "A cute die-cut sticker of {subject} {text}, thick white outline, bold outlines, flat vibrant \
                       colours, centred on a plain background",
        then: "Call remove_background on the job_id for a transparent PNG ready to print.",
    },
    PromptSpec {
        name: "wallpaper",
        title: "Wallpaper",
        description: "A desktop or phone wallpaper with room for icons.",
        arguments: &[
            required("scene", "What it shows, e.g. \"misty pine forest at dawn\"."),
            optional("device", "\"desktop\" (16:9) or \"phone\" (9:16).", "desktop"),
        ],
        role: Role::HighDetail,
        aspect_ratio: "16:9",
        image_prompt:
            "A {device} wallpaper of {scene}, cinematic lighting, rich detail, calm uncluttered areas for icons, no \
                       text",
        then: "Ask describe_image whether anything distracting sits in the middle of the picture.",
    },
];

/// The template called `name`.
pub fn find(name: &str) -> Option<&'static PromptSpec> {
    PROMPTS.iter().find(|prompt| prompt.name == name)
}

impl PromptSpec {
    /// The template as listed (`title` only for revisions that have it).
    pub fn to_prompt(&self, with_title: bool) -> Prompt {
        Prompt {
            name: self.name.to_string(),
            title: with_title.then(|| self.title.to_string()),
            description: self.description.to_string(),
            arguments: self
                .arguments
                .iter()
                .map(|argument| PromptArgument {
                    name: argument.name.to_string(),
                    description: match argument.default {
                        Some(default) if !default.is_empty() => {
                            format!("{} Default: {default}.", argument.description)
                        }
                        _ => argument.description.to_string(),
                    },
                    required: argument.default.is_none(),
                })
                .collect(),
        }
    }

    /// The model the request names.
    pub fn model(&self) -> ImageModel {
        ImageModel::for_role(self.role)
    }

    /// The aspect ratio asked for, given the arguments (the wallpaper turns for phones).
    fn aspect_ratio(&self, values: &Map<String, Value>) -> &'static str {
        match (self.name, values.get("device").and_then(Value::as_str)) {
            ("wallpaper", Some("phone")) => "9:16",
            _ => self.aspect_ratio,
        }
    }

    /// The message text for `values` (checked by [`get`]).
    pub fn render(&self, values: &Map<String, Value>) -> String {
        let mut image_prompt = self.image_prompt.to_string();
        for argument in self.arguments {
            let value = values
                .get(argument.name)
                .and_then(Value::as_str)
                .or(argument.default)
                .unwrap_or_default();
            let value = match (argument.name, value.is_empty()) {
                ("text", false) => format!("with the words \"{value}\""),
                _ => value.to_string(),
            };
            image_prompt = image_prompt.replace(&format!("{{{}}}", argument.name), &value);
        }
        // An empty optional argument leaves no stray space before the next comma.
        let image_prompt = image_prompt
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(" ,", ",");
        let model = self.model();
        format!(
            "Make this image with the generate_image_and_wait tool, using model \"{}\" ({}) and aspect_ratio \"{}\", \
             with this prompt:\n\n{image_prompt}\n\nThen: {} Report the image_url and the estimated cost \
             (estimated_usd) to me.",
            model.name(),
            model.spec().description,
            self.aspect_ratio(values),
            self.then.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    }
}

/// The cursor for the page starting at `offset` (opaque to clients).
fn cursor(offset: usize) -> String {
    base64_encode(format!("prompts:{offset}").as_bytes())
}

/// The offset a cursor this server minted names; anything else is invalid params.
fn offset(cursor: &str) -> Result<usize, RpcError> {
    let invalid = || RpcError::InvalidParams(format!("prompts/list: unknown cursor {}", echo(cursor)));
    let text = base64_decode(cursor)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let offset: usize = text
        .strip_prefix("prompts:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(invalid)?;
    if offset == 0 || offset >= PROMPTS.len() {
        return Err(invalid());
    }
    Ok(offset)
}

/// `prompts/list`: one page of templates.
pub fn list(params: Option<&Value>, with_titles: bool) -> Result<ListPromptsResult, RpcError> {
    let start = match params.and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => offset(cursor)?,
        Some(_) => return Err(RpcError::InvalidParams("prompts/list: cursor must be a string".into())),
    };
    let end = (start + PROMPT_PAGE_SIZE).min(PROMPTS.len());
    Ok(ListPromptsResult {
        prompts: PROMPTS[start..end].iter().map(|p| p.to_prompt(with_titles)).collect(),
        next_cursor: (end < PROMPTS.len()).then(|| cursor(end)),
    })
}

/// `prompts/get`: the template's messages for the arguments given. An unknown template, a missing
/// required argument, an unknown argument or a value that is not a short string is invalid params.
pub fn get(params: Option<&Value>) -> Result<GetPromptResult, RpcError> {
    let params: GetPromptParams = params
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| RpcError::InvalidParams(format!("prompts/get: {e}")))?
        .ok_or_else(|| RpcError::InvalidParams("prompts/get needs params with a prompt name".into()))?;
    let spec = find(&params.name).ok_or_else(|| {
        let known: Vec<&str> = PROMPTS.iter().map(|p| p.name).collect();
        RpcError::InvalidParams(format!(
            "Unknown prompt: {}. Available prompts: {}",
            echo(&params.name),
            known.join(", ")
        ))
    })?;
    let values = params.arguments.unwrap_or_default();
    for (name, value) in &values {
        if !spec.arguments.iter().any(|argument| argument.name == name) {
            return Err(RpcError::InvalidParams(format!(
                "prompt {} has no argument {}; it takes {}",
                spec.name,
                echo(name),
                spec.arguments.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
            )));
        }
        match value.as_str() {
            Some(text) if text.chars().count() <= PROMPT_ARGUMENT_MAX_CHARS => {}
            _ => {
                return Err(RpcError::InvalidParams(format!(
                    "prompt {} argument {name} must be a string of at most {PROMPT_ARGUMENT_MAX_CHARS} characters",
                    spec.name
                )))
            }
        }
    }
    for argument in spec.arguments.iter().filter(|a| a.default.is_none()) {
        let given = values.get(argument.name).and_then(Value::as_str).map(str::trim);
        if given.is_none_or(str::is_empty) {
            return Err(RpcError::InvalidParams(format!(
                "prompt {} needs the argument {} ({})",
                spec.name, argument.name, argument.description
            )));
        }
    }
    Ok(GetPromptResult {
        description: spec.description.to_string(),
        messages: vec![PromptMessage {
            role: "user",
            content: PromptText {
                kind: "text",
                text: spec.render(&values),
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn six_to_eight_templates_with_unique_names_and_a_required_argument_each() {
        assert!((6..=8).contains(&PROMPTS.len()));
        let mut names: Vec<&str> = PROMPTS.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROMPTS.len());
        for prompt in PROMPTS {
            assert!(prompt.arguments.iter().any(|a| a.default.is_none()), "{}", prompt.name);
            // Every placeholder is an argument, and the model takes the aspect ratio.
            for argument in prompt.arguments {
                assert!(
                    prompt.image_prompt.contains(&format!("{{{}}}", argument.name)),
                    "{}",
                    prompt.name
                );
            }
            assert!(prompt.model().spec().size.is_some(), "{}", prompt.name);
            assert!(crate::models::ASPECT_RATIOS
                .iter()
                .any(|r| r.name == prompt.aspect_ratio));
        }
    }

    #[test]
    fn pages_follow_minted_cursors_and_refuse_others() {
        let first = list(None, true).unwrap();
        assert_eq!(first.prompts.len(), PROMPT_PAGE_SIZE.min(PROMPTS.len()));
        let next = first.next_cursor.clone().unwrap();
        let second = list(Some(&json!({"cursor": next})), false).unwrap();
        assert_eq!(first.prompts.len() + second.prompts.len(), PROMPTS.len());
        assert!(second.next_cursor.is_none());
        assert!(second.prompts[0].title.is_none() && first.prompts[0].title.is_some());
        for bad in [
            json!({"cursor": "nope"}),
            json!({"cursor": cursor(0)}),
            json!({"cursor": cursor(99)}),
            json!({"cursor": 3}),
        ] {
            assert_eq!(list(Some(&bad), true).unwrap_err().code(), -32602, "{bad}");
        }
    }

    #[test]
    fn get_renders_the_tool_model_and_controls_and_checks_arguments() {
        let result = get(Some(&json!({"name": "logo", "arguments": {"brand": "Acme"}}))).unwrap();
        let text = &result.messages[0].content.text;
        let model = ImageModel::for_role(Role::LegibleText).name();
        assert!(
            text.contains("generate_image_and_wait") && text.contains(&format!("model \"{model}\"")),
            "{text}"
        );
        assert!(
            text.contains("aspect_ratio \"1:1\"") && text.contains("\"Acme\""),
            "{text}"
        );
        assert!(text.contains("flat vector"), "the default style is used: {text}");
        let phone = get(Some(
            &json!({"name": "wallpaper", "arguments": {"scene": "dunes", "device": "phone"}}),
        ))
        .unwrap();
        assert!(phone.messages[0].content.text.contains("\"9:16\""));
        let sticker = get(Some(&json!({"name": "sticker", "arguments": {"subject": "a fox"}}))).unwrap();
        assert!(
            sticker.messages[0].content.text.contains("of a fox, thick"),
            "no stray space"
        );
        let cases = [
            json!({"name": "nope"}),
            json!({"name": "logo"}),
            json!({"name": "logo", "arguments": {"brand": "  "}}),
            json!({"name": "logo", "arguments": {"brand": "A", "colour": "red"}}),
            json!({"name": "logo", "arguments": {"brand": 5}}),
            json!({"name": "logo", "arguments": {"brand": "x".repeat(PROMPT_ARGUMENT_MAX_CHARS + 1)}}),
            json!({"arguments": {}}),
        ];
        for bad in cases {
            assert_eq!(get(Some(&bad)).unwrap_err().code(), -32602, "{bad}");
        }
        assert_eq!(get(None).unwrap_err().code(), -32602);
    }
}
