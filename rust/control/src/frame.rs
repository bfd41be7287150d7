//! Line framing: one JSON object per `\n`-terminated line, bounded in size.
//!
//! Sans-IO: the reader is fed whatever bytes the socket produced and hands
//! back complete lines, so the daemon, the clients and the fuzzer share it.

use thiserror::Error;

/// Largest accepted line, terminator excluded. A concatenated WAP push is at
/// most 255 SMS of 140 bytes (~36 KiB, ~48 KiB in Base64); 256 KiB leaves room
/// for SMS PDUs with their headers without letting one client pin memory.
pub const MAX_FRAME_LEN: usize = 256 * 1024;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame longer than {max} bytes")]
    TooLarge { max: usize },
    #[error("frame is not UTF-8")]
    NotUtf8,
}

/// Accumulates bytes and yields complete lines.
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    max: usize,
    /// Bytes of `buf` already scanned for a newline, so a slow client that
    /// dribbles a long line costs linear, not quadratic, time.
    scanned: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new(MAX_FRAME_LEN)
    }
}

impl FrameReader {
    pub fn new(max: usize) -> Self {
        FrameReader {
            buf: Vec::new(),
            max,
            scanned: 0,
        }
    }

    /// Appends bytes received from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Returns the next complete line (without its terminator, `\r\n`
    /// tolerated), `Ok(None)` when more bytes are needed, or an error when the
    /// pending line is too long or not UTF-8 (the offending line is dropped).
    pub fn next_line(&mut self) -> Result<Option<String>, FrameError> {
        match self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            Some(pos) => {
                let end = self.scanned + pos;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.max {
                    return Err(FrameError::TooLarge { max: self.max });
                }
                String::from_utf8(line)
                    .map(Some)
                    .map_err(|_| FrameError::NotUtf8)
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() > self.max {
                    self.buf.clear();
                    self.scanned = 0;
                    return Err(FrameError::TooLarge { max: self.max });
                }
                Ok(None)
            }
        }
    }

    /// Bytes received but not yet part of a complete line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Serialises a message as one line.
pub fn encode_line<T: serde::Serialize>(msg: &T) -> Vec<u8> {
    // Serialising our own plain data types cannot fail (no maps with
    // non-string keys, no custom serialisers that error).
    let mut line = serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_feeds() {
        let mut r = FrameReader::new(64);
        r.feed(b"{\"a\":1}\n{\"b\"");
        assert_eq!(r.next_line().unwrap().as_deref(), Some("{\"a\":1}"));
        assert_eq!(r.next_line().unwrap(), None);
        r.feed(b":2}\r\n");
        assert_eq!(r.next_line().unwrap().as_deref(), Some("{\"b\":2}"));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn unterminated_oversized_line_is_an_error_and_is_dropped() {
        let mut r = FrameReader::new(8);
        r.feed(b"0123456789");
        assert_eq!(r.next_line(), Err(FrameError::TooLarge { max: 8 }));
        assert_eq!(r.pending(), 0);
        r.feed(b"ok\n");
        assert_eq!(r.next_line().unwrap().as_deref(), Some("ok"));
    }

    #[test]
    fn terminated_oversized_line_is_an_error() {
        let mut r = FrameReader::new(4);
        r.feed(b"12345\nok\n");
        assert_eq!(r.next_line(), Err(FrameError::TooLarge { max: 4 }));
        assert_eq!(r.next_line().unwrap().as_deref(), Some("ok"));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut r = FrameReader::new(64);
        r.feed(b"\xff\xfe\n");
        assert_eq!(r.next_line(), Err(FrameError::NotUtf8));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 0..20)) {
            let mut r = FrameReader::new(32);
            for c in &chunks {
                r.feed(c);
                while let Ok(Some(_)) = r.next_line() {}
                proptest::prop_assert!(r.pending() <= 32 + 40);
            }
        }
    }
}
