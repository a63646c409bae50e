//! An answer built in full before it is sent (status, headers, body), so the same code can hand it
//! to workers-rs as a `Response` or to the one-crossing entry (`src/entry.mjs`) as one byte buffer.

use std::borrow::Cow;

use worker::Response;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `Content-Type`, the first header, apart from the rest: most answers have only this one,
    /// and then the list below stays empty and allocates nothing.
    pub content_type: Option<&'static str>,
    /// The other headers. Values borrowed when they are fixed text (most are), so an answer
    /// copies none of them.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, text: String) -> Answer {
        Answer {
            content_type: Some("application/json"),
            body: text.into_bytes(),
            ..Answer::empty(status)
        }
    }

    /// An HTML page.
    pub fn html(status: u16, text: &str) -> Answer {
        Answer {
            content_type: Some("text/html; charset=utf-8"),
            body: text.as_bytes().to_vec(),
            ..Answer::empty(status)
        }
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Answer {
        Answer {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Every header, `Content-Type` first.
    fn all_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let content_type = self.content_type.map(|value| ("Content-Type", value));
        let rest = self.headers.iter().map(|(name, value)| (*name, value.as_ref()));
        content_type.into_iter().chain(rest)
    }

    pub fn header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    pub fn into_response(mut self) -> worker::Result<Response> {
        let mut response = match self.body.is_empty() {
            true => Response::empty()?,
            false => Response::from_bytes(std::mem::take(&mut self.body))?,
        }
        .with_status(self.status);
        let headers = response.headers_mut();
        for (name, value) in self.all_headers() {
            headers.set(name, value)?;
        }
        Ok(response)
    }

    /// The answer as the entry module reads it: the body, then the head unless the entry already
    /// has it (`status`, then `\nname\nvalue` per header, `extra` last), then the head's length
    /// and its number in `heads` (4 bytes each, little-endian). Most answers repeat one of a few
    /// heads byte for byte (the CORS headers are most of each), so the entry builds each head's
    /// `Headers` once and is then sent only its number (length 0). The body comes first so that
    /// it is not copied: the head is appended to it.
    ///
    /// The head is written into the table's buffer, kept from one answer to the next, so that
    /// an answer whose head the entry has allocates nothing for it (it was a new string, grown
    /// six times, per answer; bench/README.md, twenty-fifth pass).
    pub fn encode(self, extra: &[(&str, &str)], heads: &mut HeadTable) -> Vec<u8> {
        let mut head = std::mem::take(&mut heads.buffer);
        head.clear();
        head.push_str(itoa::Buffer::new().format(self.status));
        for (name, value) in self.all_headers().chain(extra.iter().copied()) {
            for part in ["\n", name, "\n", value] {
                head.push_str(part);
            }
        }
        let (number, sent) = match heads.number(&head) {
            Some(Known::Before(number)) => (number, ""),
            Some(Known::Now(number)) => (number, head.as_str()),
            None => (HeadTable::UNNUMBERED, head.as_str()),
        };
        let mut out = self.body;
        out.reserve_exact(sent.len() + 8);
        out.extend_from_slice(sent.as_bytes());
        out.extend_from_slice(&(sent.len() as u32).to_le_bytes());
        out.extend_from_slice(&number.to_le_bytes());
        heads.buffer = head;
        out
    }
}

/// The heads the entry module has been sent, numbered in order, one table per Wasm instance
/// (the entry's copy is rebuilt from what each instance sends: a head's text always comes with
/// its number the first time). Bounded: heads past [`HeadTable::CAPACITY`] (a value that
/// varies, such as a challenge naming the caller's origin) are sent in full every time.
#[derive(Debug, Default)]
pub struct HeadTable {
    heads: Vec<String>,
    /// Where [`Answer::encode`] writes each head, kept between answers.
    buffer: String,
}

/// Whether the entry module has a head: numbered by an earlier answer, or numbered now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Before(u32),
    Now(u32),
}

impl HeadTable {
    pub const CAPACITY: usize = 64;
    /// The number of a head sent in full and not kept.
    pub const UNNUMBERED: u32 = u32::MAX;

    fn number(&mut self, head: &str) -> Option<Known> {
        if let Some(at) = self.heads.iter().position(|known| known == head) {
            return Some(Known::Before(at as u32));
        }
        if self.heads.len() >= Self::CAPACITY {
            return None;
        }
        self.heads.push(head.to_string());
        Some(Known::Now(self.heads.len() as u32 - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry module's decoding (src/entry.mjs), written again in Rust, with its table of heads.
    fn decode(bytes: &[u8], known: &mut Vec<String>) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let end = bytes.len();
        let length = u32::from_le_bytes(bytes[end - 8..end - 4].try_into().unwrap()) as usize;
        let number = u32::from_le_bytes(bytes[end - 4..].try_into().unwrap());
        let body_end = end - 8 - length;
        let head = match length {
            0 => known[number as usize].clone(),
            _ => {
                let head = std::str::from_utf8(&bytes[body_end..end - 8]).unwrap().to_string();
                if number != HeadTable::UNNUMBERED {
                    assert_eq!(number as usize, known.len(), "heads are numbered in order");
                    known.push(head.clone());
                }
                head
            }
        };
        let mut parts = head.split('\n');
        let status = parts.next().unwrap().parse().unwrap();
        let mut headers = Vec::new();
        while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
            headers.push((name.to_string(), value.to_string()));
        }
        (status, headers, bytes[..body_end].to_vec())
    }

    #[test]
    fn the_encoding_carries_status_headers_and_body() {
        let answer = Answer::json(200, r#"{"ok":"é"}"#.to_string()).header("Retry-After", "60");
        let encoded = answer.encode(&[("Access-Control-Allow-Origin", "*")], &mut HeadTable::default());
        let (status, headers, body) = decode(&encoded, &mut Vec::new());
        assert_eq!(status, 200);
        assert_eq!(
            headers,
            [
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Retry-After".to_string(), "60".to_string()),
                ("Access-Control-Allow-Origin".to_string(), "*".to_string()),
            ]
        );
        assert_eq!(body, r#"{"ok":"é"}"#.as_bytes());
    }

    #[test]
    fn an_empty_answer_has_no_body() {
        let (status, headers, body) = decode(
            &Answer::empty(202).encode(&[], &mut HeadTable::default()),
            &mut Vec::new(),
        );
        assert_eq!((status, headers.len(), body.len()), (202, 0, 0));
    }

    #[test]
    fn a_repeated_head_is_sent_once_then_by_number() {
        let mut table = HeadTable::default();
        let mut known = Vec::new();
        let first = Answer::json(200, "{}".to_string()).encode(&[], &mut table);
        let other = Answer::empty(202).encode(&[], &mut table);
        let again = Answer::json(200, "[1]".to_string()).encode(&[], &mut table);
        assert_eq!(
            again, b"[1]\0\0\0\0\0\0\0\0",
            "the body, then length 0 and head number 0"
        );
        assert_eq!(&other[other.len() - 4..], &[1, 0, 0, 0]);
        for (encoded, body) in [(&first, "{}"), (&other, ""), (&again, "[1]")] {
            let (_, _, got) = decode(encoded, &mut known);
            assert_eq!(got, body.as_bytes());
        }
        let (status, headers, _) = decode(&again, &mut known);
        assert_eq!((status, headers[0].1.as_str()), (200, "application/json"));
    }

    #[test]
    fn heads_past_the_capacity_are_sent_in_full_every_time() {
        let mut table = HeadTable::default();
        let mut known = Vec::new();
        for n in 0..HeadTable::CAPACITY + 3 {
            let answer = Answer::empty(429).header("Retry-After", n.to_string());
            for _ in 0..2 {
                let encoded = answer.clone().encode(&[], &mut table);
                let (status, headers, _) = decode(&encoded, &mut known);
                assert_eq!((status, headers[0].1.clone()), (429, n.to_string()));
            }
        }
        assert_eq!(known.len(), HeadTable::CAPACITY);
        let late = Answer::empty(429).header("Retry-After", "late").encode(&[], &mut table);
        assert_eq!(&late[late.len() - 4..], &HeadTable::UNNUMBERED.to_le_bytes());
    }
}
