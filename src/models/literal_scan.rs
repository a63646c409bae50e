//! No model is named outside the registry.
//!
//! The rule: no string literal in src/ may contain a model's name, Workers AI id or family label
//! (as the registry spells them), except
//! - in src/models/ (the registry, and the code that renders texts from it),
//! - in test code: items under `#[cfg(test)]` (test modules, sample functions and constants, test
//!   fields) and the test-only files of src/lib.rs (fuzz_tests.rs, layering_tests.rs,
//!   wire_contract/).
//!
//! Comments may name models. The scan is lexical: it finds string literals (plain, raw and byte),
//! skips comments and character literals, and skips the item after each `#[cfg(test)]`: up to the `}`
//! that closes its body, or its `;` or `,` (a field), whichever comes first at its depth.

use std::path::Path;

use crate::layering_tests::rust_files;

use super::MODELS;

const SKIPPED: [&str; 4] = ["models", "fuzz_tests.rs", "layering_tests.rs", "wire_contract"];

/// What the scan sees of a source file, in order.
#[derive(Debug, PartialEq)]
enum Token {
    /// A string literal's text (escapes left as written), with its line.
    Str(String, usize),
    /// `{` (true), `(` or `[`.
    Open(bool),
    /// `}` (true), `)` or `]`.
    Close(bool),
    /// `;` or `,`.
    End,
    /// `#[cfg(test)]`.
    CfgTest,
}

fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let line_of = |i: usize| chars[..i].iter().filter(|c| **c == '\n').count() + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= chars.len() {
                    break;
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (!ident_before || (i > 0 && chars[i - 1] == 'b')) && matches!(at(i + 1), '"' | '#') {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if at(i + 1 + hashes) != '"' {
                i += 1;
                continue;
            }
            let start = i + 2 + hashes;
            let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let rest: String = chars[start..].iter().collect();
            let len = rest.find(&closing).unwrap_or(rest.len());
            out.push(Token::Str(rest[..len].to_string(), line_of(i)));
            i = start + rest[..len].chars().count() + closing.chars().count();
        } else if c == '"' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push(Token::Str(
                chars[start..i.min(chars.len())].iter().collect(),
                line_of(start),
            ));
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '"', '{'), or a lifetime ('a, 'static).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if source_at(&chars, i, "#[cfg(test)]") {
            out.push(Token::CfgTest);
            i += "#[cfg(test)]".len();
        } else {
            match c {
                '{' | '(' | '[' => out.push(Token::Open(c == '{')),
                '}' | ')' | ']' => out.push(Token::Close(c == '}')),
                ';' | ',' => out.push(Token::End),
                _ => {}
            }
            i += 1;
        }
    }
    out
}

fn source_at(chars: &[char], i: usize, text: &str) -> bool {
    text.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// The string literals of `source` outside `#[cfg(test)]` items.
fn non_test_literals(source: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut tokens = tokens(source).into_iter();
    while let Some(token) = tokens.next() {
        match token {
            Token::Str(text, line) => found.push((text, line)),
            Token::CfgTest => {
                let mut depth = 0usize;
                for token in tokens.by_ref() {
                    match token {
                        Token::Open(_) => depth += 1,
                        // The end of what holds the item (a struct's last field).
                        Token::Close(_) if depth == 0 => break,
                        Token::Close(brace) => {
                            depth -= 1;
                            if brace && depth == 0 {
                                break;
                            }
                        }
                        Token::End if depth == 0 => break,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// What may not be named: every model's name and id, every family label, the operations'
/// names and the vision model's.
fn model_words() -> Vec<&'static str> {
    let mut words: Vec<&str> = MODELS.iter().flat_map(|spec| [spec.name, spec.workers_ai_id]).collect();
    words.extend(MODELS.iter().filter_map(|spec| spec.family));
    words.extend(super::OPERATIONS.iter().map(|spec| spec.name));
    words.extend([super::VISION.name, super::VISION.workers_ai_id]);
    words.sort();
    words.dedup();
    words
}

#[test]
fn no_model_is_named_outside_the_registry_and_tests() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let words = model_words();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_str().unwrap();
        if SKIPPED.contains(&first) {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for (text, line) in non_test_literals(&source) {
            for word in words.iter().filter(|word| text.contains(**word)) {
                found.push(format!("src/{}:{line}: {word:?} in {text:?}", relative.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "models are named outside src/models/ (render the text from the registry, see \
         src/models/choice.rs):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_literals_and_skips_comments_and_test_items() {
    let source = r####"
        // "flux-schnell" in a comment
        /* "phoenix" /* nested */ in a block */
        const A: &str = "one";
        const B: &str = r#"two "quoted""#;
        const C: char = '"';
        fn f<'a>(x: &'a str) -> char { '{' }
        #[cfg(test)]
        mod tests { const D: &str = "hidden"; fn g() { "hidden too"; } }
        #[cfg(test)]
        const E: &str = "hidden";
        struct S { #[cfg(test)] field: fn() -> Vec<(&'static str, u8)>, after: u8 }
        const F: &str = "three\"s";
    "####;
    let texts: Vec<String> = non_test_literals(source).into_iter().map(|(text, _)| text).collect();
    assert_eq!(texts, ["one", "two \"quoted\"", "three\\\"s"]);
    assert!(model_words().contains(&MODELS[0].name));
}
