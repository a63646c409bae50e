//! Icons of the server and its tools: small SVG glyphs sent as `data:` URIs, one drawn for light
//! backgrounds and one for dark, so a listing depends on nothing but the code and stays cacheable.
//!
//! `Icon` (MCP 2025-11-25 on): `src`, `mimeType`, `sizes` (`"any"` for SVG) and `theme`, where
//! "light" means the icon is meant for a light background
//! (https://modelcontextprotocol.io/specification/2025-11-25/basic/index#icons).

use serde_json::{json, Value};

use crate::media::base64_encode;

/// One glyph: SVG elements drawn with `stroke="currentColor"` in a 24 × 24 box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyph {
    pub name: &'static str,
    body: &'static str,
}

/// The server: a framed picture with a spark.
pub const SERVER: Glyph = Glyph {
    name: "server",
    body: r#"<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M3 16l5-5 4 4 3-3 6 6"/><path d="M17 6.5v3M15.5 8h3"/>"#,
};
/// Making new images from a prompt.
pub const GENERATE: Glyph = Glyph {
    name: "generate",
    body: r#"<path d="M12 3l1.8 4.7L18.5 9.5l-4.7 1.8L12 16l-1.8-4.7L5.5 9.5l4.7-1.8z"/><path d="M18 15l.8 2.2L21 18l-2.2.8L18 21l-.8-2.2L15 18l2.2-.8z"/>"#,
};
/// Changing an image: a brush.
pub const EDIT: Glyph = Glyph {
    name: "edit",
    body: r#"<path d="M14.5 4.5l5 5L10 19H5v-5z"/><path d="M12.5 6.5l5 5"/>"#,
};
/// Variations: stacked frames.
pub const VARIATIONS: Glyph = Glyph {
    name: "variations",
    body: r#"<rect x="7" y="7" width="13" height="13" rx="2"/><path d="M4 16V6a2 2 0 012-2h10"/>"#,
};
/// One job: a picture with a status dot.
pub const STATUS: Glyph = Glyph {
    name: "status",
    body: r#"<rect x="3" y="5" width="14" height="14" rx="2"/><path d="M3 15l4-4 3 3 2-2 5 5"/><circle cx="19" cy="5" r="2.5"/>"#,
};
/// Lists of images or jobs: a grid.
pub const LIST: Glyph = Glyph {
    name: "list",
    body: r#"<rect x="4" y="4" width="7" height="7" rx="1"/><rect x="13" y="4" width="7" height="7" rx="1"/><rect x="4" y="13" width="7" height="7" rx="1"/><rect x="13" y="13" width="7" height="7" rx="1"/>"#,
};
/// Waiting: an hourglass.
pub const WAIT: Glyph = Glyph {
    name: "wait",
    body: r#"<path d="M7 3h10M7 21h10M8 3c0 5 8 5 8 9s-8 4-8 9M16 3c0 5-8 5-8 9s8 4 8 9"/>"#,
};
/// The models: a cube.
pub const MODELS: Glyph = Glyph {
    name: "models",
    body: r#"<path d="M12 3l8 4.5v9L12 21l-8-4.5v-9z"/><path d="M4 7.5l8 4.5 8-4.5M12 12v9"/>"#,
};
/// Usage and quotas: a gauge.
pub const USAGE: Glyph = Glyph {
    name: "usage",
    body: r#"<path d="M4 17a8 8 0 1116 0"/><path d="M12 17l4-6"/><circle cx="12" cy="17" r="1.5"/>"#,
};

/// The background an icon is drawn for, with the stroke colour that reads on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub const BOTH: [Theme; 2] = [Theme::Light, Theme::Dark];

    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn stroke(self) -> &'static str {
        match self {
            Theme::Light => "#1f2937",
            Theme::Dark => "#f3f4f6",
        }
    }
}

pub const SVG_MIME_TYPE: &str = "image/svg+xml";

impl Glyph {
    /// The whole SVG document for `theme`.
    pub fn svg(&self, theme: Theme) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="{}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{}</svg>"#,
            theme.stroke(),
            self.body
        )
    }

    /// `data:image/svg+xml;base64,…` of the SVG for `theme`.
    pub fn data_uri(&self, theme: Theme) -> String {
        format!(
            "data:{SVG_MIME_TYPE};base64,{}",
            base64_encode(self.svg(theme).as_bytes())
        )
    }

    /// The `icons` array of a Tool or Implementation: the light and the dark icon.
    pub fn icons(&self) -> Vec<Value> {
        Theme::BOTH
            .into_iter()
            .map(|theme| {
                json!({
                    "src": self.data_uri(theme),
                    "mimeType": SVG_MIME_TYPE,
                    "sizes": ["any"],
                    "theme": theme.name(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Glyph; 9] = [SERVER, GENERATE, EDIT, VARIATIONS, STATUS, LIST, WAIT, MODELS, USAGE];

    #[test]
    fn every_glyph_is_well_formed_svg_in_both_themes() {
        for glyph in ALL {
            for theme in Theme::BOTH {
                let svg = glyph.svg(theme);
                // Self-closing shapes only, and nothing that could run or load anything.
                assert_eq!(
                    glyph.body.matches('<').count(),
                    glyph.body.matches("/>").count(),
                    "{}",
                    glyph.name
                );
                assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
                for forbidden in ["script", "href", "url(", "style", "on"] {
                    assert!(!glyph.body.contains(forbidden), "{} contains {forbidden:?}", glyph.name);
                }
                assert!(svg.contains(theme.stroke()));
            }
        }
    }

    #[test]
    fn data_uris_decode_to_the_svg_and_differ_by_theme() {
        let light = SERVER.data_uri(Theme::Light);
        let dark = SERVER.data_uri(Theme::Dark);
        assert_ne!(light, dark);
        let encoded = light.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let decoded = crate::media::base64_decode(encoded).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), SERVER.svg(Theme::Light));
        let icons = GENERATE.icons();
        assert_eq!(icons.len(), 2);
        assert_eq!(icons[0]["theme"], "light");
        assert_eq!(icons[1]["theme"], "dark");
        assert_eq!(icons[0]["sizes"], json!(["any"]));
    }

    #[test]
    fn glyph_names_are_unique() {
        let mut names: Vec<&str> = ALL.iter().map(|g| g.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
