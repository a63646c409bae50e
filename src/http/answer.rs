//! An answer built in full before it is sent (status, headers, body), so the same code can hand it
//! to workers-rs as a `Response` or to the one-crossing entry (`src/entry.mjs`) as one byte buffer.

use worker::Response;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, text: String) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body: text.into_bytes(),
        }
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    pub fn into_response(self) -> worker::Result<Response> {
        let mut response = match self.body.is_empty() {
            true => Response::empty()?,
            false => Response::from_bytes(self.body)?,
        }
        .with_status(self.status);
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            headers.set(name, value)?;
        }
        Ok(response)
    }

    /// The answer as the entry module reads it: the length of the head (4 bytes, little-endian),
    /// the head (`status`, then `\nname\nvalue` per header, `extra` last), then the body.
    pub fn encode(&self, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut head = self.status.to_string();
        let headers = self.headers.iter().map(|(name, value)| (*name, value.as_str()));
        for (name, value) in headers.chain(extra.iter().copied()) {
            head.push('\n');
            head.push_str(name);
            head.push('\n');
            head.push_str(value);
        }
        let mut out = Vec::with_capacity(4 + head.len() + self.body.len());
        out.extend_from_slice(&(head.len() as u32).to_le_bytes());
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry module's decoding (src/entry.mjs), written again in Rust.
    fn decode(bytes: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let length = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        let head = std::str::from_utf8(&bytes[4..4 + length]).unwrap();
        let mut parts = head.split('\n');
        let status = parts.next().unwrap().parse().unwrap();
        let mut headers = Vec::new();
        while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
            headers.push((name.to_string(), value.to_string()));
        }
        (status, headers, bytes[4 + length..].to_vec())
    }

    #[test]
    fn the_encoding_carries_status_headers_and_body() {
        let answer = Answer::json(200, r#"{"ok":"é"}"#.to_string()).header("Retry-After", "60");
        let (status, headers, body) = decode(&answer.encode(&[("Access-Control-Allow-Origin", "*")]));
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
        let (status, headers, body) = decode(&Answer::empty(202).encode(&[]));
        assert_eq!((status, headers.len(), body.len()), (202, 0, 0));
    }
}
