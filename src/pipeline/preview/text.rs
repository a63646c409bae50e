//! Text shaping for the preview's label panel: normalising, word-wrapping and shortening strings.
//!
//! Works on bytes the 5x7 font can draw (upper-case ASCII), with cost bounded by the room
//! on the picture rather than by the input's length.

/// Upper-cases, maps non-ASCII to '?', collapses whitespace; stops after `limit` visible
/// characters (returning `true`) so a megabyte prompt costs no more than a short one.
/// An input with no visible text becomes `empty` so the panel never looks broken.
pub fn normalize(s: &str, limit: usize, empty: &[u8]) -> (Vec<u8>, bool) {
    let mut out: Vec<u8> = Vec::new();
    for ch in s.chars() {
        let c = match ch {
            c if c.is_whitespace() || c.is_control() => b' ',
            c if c.is_ascii() => c.to_ascii_uppercase() as u8,
            _ => b'?',
        };
        if c == b' ' && out.last().is_none_or(|&l| l == b' ') {
            continue;
        }
        if c != b' ' && out.len() >= limit {
            return (out, true);
        }
        out.push(c);
    }
    if out.is_empty() {
        out = empty.to_vec();
    }
    (out, false)
}

/// Word-wraps into at most `max_lines` lines of `cols` chars (both at least 1), hard-splitting
/// over-long words; if anything is left over (or `cut` is already set) the last line ends in
/// "..." and the returned flag is set.
pub fn wrap(text: &[u8], cols: usize, max_lines: usize, mut cut: bool) -> (Vec<Vec<u8>>, bool) {
    let (cols, max_lines) = (cols.max(1), max_lines.max(1));
    let (mut lines, mut cur) = (Vec::new(), Vec::new());
    'words: for mut word in text.split(|&c| c == b' ').filter(|w| !w.is_empty()) {
        loop {
            let sep = usize::from(!cur.is_empty());
            if cur.len() + sep + word.len() <= cols {
                cur.extend_from_slice(&b" "[..sep]);
                cur.extend_from_slice(word);
                break;
            }
            if cur.is_empty() {
                let (head, rest) = word.split_at(cols);
                cur.extend_from_slice(head);
                word = rest;
            }
            if lines.len() + 1 >= max_lines {
                cut = true;
                break 'words;
            }
            lines.push(std::mem::take(&mut cur));
        }
    }
    lines.push(cur);
    if let Some(last) = lines.last_mut().filter(|_| cut) {
        ellipsize(last, cols);
    }
    (lines, cut)
}

/// Ends `line` in "..." while keeping it within `cols` chars (the dots alone when `cols` < 4).
fn ellipsize(line: &mut Vec<u8>, cols: usize) {
    line.truncate(cols.saturating_sub(3));
    while line.last() == Some(&b' ') {
        line.pop();
    }
    line.extend_from_slice(&b"..."[..cols.min(3)]);
}

/// Keeps the end of `text` within `cols` chars behind a leading "...": for identifiers whose
/// distinctive part is their tail ("@cf/vendor/name").
pub fn keep_tail(text: &[u8], cols: usize) -> Vec<u8> {
    if text.len() <= cols {
        return text.to_vec();
    }
    let dots = cols.min(3);
    [&b"..."[..dots], &text[text.len() - (cols - dots)..]].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&[u8]]) -> Vec<Vec<u8>> {
        v.iter().map(|l| l.to_vec()).collect()
    }

    #[test]
    fn normalize_uppercases_replaces_non_ascii_and_collapses_whitespace() {
        let (t, cut) = normalize("  héllo  wörld \n\t🦊 ok", 100, b"-");
        assert_eq!((t.as_slice(), cut), (&b"H?LLO W?RLD ? OK"[..], false));
        assert_eq!(normalize(" \n ", 5, b"(EMPTY)"), (b"(EMPTY)".to_vec(), false));
        assert_eq!(normalize("abcdefg", 5, b"-"), (b"ABCDE".to_vec(), true));
    }

    #[test]
    fn wrap_breaks_at_words_splits_long_words_and_marks_cuts() {
        let ok = |v: &[&[u8]]| (lines(v), false);
        assert_eq!(wrap(b"AAA BBB CCC", 7, 3, false), ok(&[b"AAA BBB", b"CCC"]));
        assert_eq!(wrap(b"ABCDEFGHIJ", 4, 3, false), ok(&[b"ABCD", b"EFGH", b"IJ"]));
        let cut = (lines(&[b"AAA BBB", b"CCC..."]), true);
        assert_eq!(wrap(b"AAA BBB CCC DDD EEE", 7, 2, false), cut);
        assert_eq!(wrap(b"AAA", 7, 2, true), (lines(&[b"AAA..."]), true));
        // Degenerate room never panics or loops: one line, at most `cols` wide.
        assert_eq!(wrap(b"ABCDEF", 2, 1, false), (lines(&[b".."]), true));
        assert_eq!(wrap(b"ABCDEF", 0, 0, false), (lines(&[b"."]), true));
    }

    #[test]
    fn keep_tail_keeps_the_distinctive_end() {
        assert_eq!(keep_tail(b"@CF/VENDOR/NAME", 20), b"@CF/VENDOR/NAME");
        assert_eq!(keep_tail(b"@CF/VENDOR/NAME", 8), b".../NAME");
        assert_eq!(keep_tail(b"@CF/VENDOR/NAME", 8).len(), 8);
        assert_eq!(keep_tail(b"ABCDEF", 2), b"..");
    }
}
