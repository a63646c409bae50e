//! HTML escaping: the one escaper every page uses for text and quoted attribute values.

/// Escapes the five characters that matter in HTML text and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_all_five_characters() {
        assert_eq!(escape(r#"&<>"'ok"#), "&amp;&lt;&gt;&quot;&#39;ok");
    }
}
