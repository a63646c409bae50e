//! Workers AI error classes: which model errors a retry can fix and which it cannot.
//!
//! The binding throws `InferenceUpstreamError` whose message is `"<code>: <description>"`
//! (workerd `ai-api.ts`), e.g. `"5007: No such model … or task"`. The leading number is the
//! internal code from the "Workers AI errors" table; anything without one is `Unknown` and keeps
//! the plain retry it always had.

/// What an error from the model means for the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiErrorClass {
    /// The request itself (or the account) is wrong: every retry would fail the same way.
    Permanent { code: u32 },
    /// Out of capacity or timed out: a later attempt may succeed.
    Transient { code: u32 },
    /// The account's daily free allocation is used up (3036): nothing succeeds before 00:00 UTC.
    DailyLimit,
    /// No known code (a binding problem, a stream error, an undocumented code).
    Unknown,
}

/// The daily free allocation error.
pub const DAILY_LIMIT_CODE: u32 = 3036;

/// Codes that fail the same way on every attempt: bad input (400/413), no such or invalid model
/// (400/404), unsupported request (405), and account refusals (403).
const PERMANENT_CODES: &[u32] = &[
    5007, // no such model or task
    5004, // invalid data (base64 input type)
    5006, // bad input: the model's input schema is not met
    3003, // request is missing headers or body
    3006, // request too large
    3039, // finetune is missing required files
    3042, // invalid model id
    5005, // model does not support LoRA
    5019, // deprecated SDK version
    5018, // account not allowed to access the private model
    3041, // account not allowed to access the private model
    5016, // model terms not agreed to
    3023, // account blocked
    5035, // model needs the Workers Paid plan
];

/// Codes a later attempt may not see: out of capacity (429) and timeouts (408).
const TRANSIENT_CODES: &[u32] = &[
    3040, // no more data centers to forward the request to
    3007, // request timeout
    3008, // request was aborted
];

/// Classifies a model error message by its leading `"<code>:"`.
pub fn classify(message: &str) -> AiErrorClass {
    let Some(code) = leading_code(message) else {
        return AiErrorClass::Unknown;
    };
    if code == DAILY_LIMIT_CODE {
        AiErrorClass::DailyLimit
    } else if PERMANENT_CODES.contains(&code) {
        AiErrorClass::Permanent { code }
    } else if TRANSIENT_CODES.contains(&code) {
        AiErrorClass::Transient { code }
    } else {
        AiErrorClass::Unknown
    }
}

/// The number before the first `:` when the message starts with one (leading spaces allowed).
/// A bare number, or digits followed by anything but `:`, is not a code.
fn leading_code(message: &str) -> Option<u32> {
    let text = message.trim_start();
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    if digits_end == 0 || !text[digits_end..].starts_with(':') {
        return None;
    }
    text[..digits_end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_permanent_code_is_permanent() {
        for (code, description) in [
            (5007, "No such model @cf/x/y or task"),
            (5004, "Invalid data type for base64 input: number"),
            (5006, "Bad input: Error: oneOf at '/' not met, 0 matches"),
            (3003, "Request is missing headers or body: body"),
            (3006, "Request is too large"),
            (
                3039,
                "Finetune is missing required files (model.safetensors and config.json)",
            ),
            (3042, "The model name is invalid"),
            (5005, "The model @cf/x does not support LoRa inference"),
            (5019, "Request trying to use deprecated SDK version"),
            (5018, "The account is not allowed to access this model"),
            (3041, "The account is not allowed to access this model"),
            (5016, "User has not agreed to Llama3.2 model terms"),
            (3023, "Service unavailable for account"),
            (5035, "This model requires the Workers Paid plan"),
        ] {
            assert_eq!(
                classify(&format!("{code}: {description}")),
                AiErrorClass::Permanent { code },
                "{code}"
            );
        }
    }

    #[test]
    fn capacity_and_timeout_codes_are_transient() {
        for (code, description) in [
            (3040, "No more data centers to forward the request to"),
            (3007, "Request timeout"),
            (3008, "Request was aborted"),
        ] {
            assert_eq!(
                classify(&format!("{code}: {description}")),
                AiErrorClass::Transient { code },
                "{code}"
            );
        }
    }

    #[test]
    fn the_daily_allocation_error_is_its_own_class() {
        let message = "3036: You have used up your daily free allocation of 10,000 neurons. Please upgrade to \
                       Cloudflare's Workers Paid plan if you would like to continue usage.";
        assert_eq!(classify(message), AiErrorClass::DailyLimit);
    }

    #[test]
    fn messages_without_a_code_are_unknown() {
        for message in [
            "",
            "stand-in: model unavailable",
            "Content-Type is required with ReadableStream inputs",
            "reading the image stream: network connection lost",
            "AiError: Bad input: 5006",
            "Error: 3040: No more data centers",
            "unknown error",
        ] {
            assert_eq!(classify(message), AiErrorClass::Unknown, "{message:?}");
        }
    }

    #[test]
    fn odd_formats_are_read_only_when_the_number_leads_and_a_colon_follows() {
        assert_eq!(classify("5007:No such model"), AiErrorClass::Permanent { code: 5007 });
        assert_eq!(
            classify("  3040: No more data centers"),
            AiErrorClass::Transient { code: 3040 }
        );
        assert_eq!(classify("3036:"), AiErrorClass::DailyLimit);
        // A bare number, a number followed by other text, a negative or decimal number: no code.
        assert_eq!(classify("5007"), AiErrorClass::Unknown);
        assert_eq!(classify("5007 No such model"), AiErrorClass::Unknown);
        assert_eq!(classify("-5007: x"), AiErrorClass::Unknown);
        assert_eq!(classify("5007.5: x"), AiErrorClass::Unknown);
        // Too long for a u32.
        assert_eq!(classify("99999999999999999999: x"), AiErrorClass::Unknown);
        // Codes outside the table keep the plain retry.
        assert_eq!(classify("9999: Something new"), AiErrorClass::Unknown);
        assert_eq!(classify("500: Internal Server Error"), AiErrorClass::Unknown);
        // Only the leading number counts, not a code later in the text.
        assert_eq!(
            classify("3040: upstream said 5007: no"),
            AiErrorClass::Transient { code: 3040 }
        );
    }

    #[test]
    fn no_code_is_in_two_classes() {
        for code in PERMANENT_CODES {
            assert!(!TRANSIENT_CODES.contains(code), "{code}");
            assert_ne!(*code, DAILY_LIMIT_CODE);
        }
        assert!(!TRANSIENT_CODES.contains(&DAILY_LIMIT_CODE));
    }
}
