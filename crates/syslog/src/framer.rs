//! RFC 6587 framing for one TCP/TLS connection.
//!
//! Each frame's method is detected from its first byte, as rsyslog and syslog-ng do, so
//! senders may mix them on one connection:
//! - octet counting, `<len> <msg>`: a digit, up to 10 digits, a space, then `<` (the PRI
//!   every RFC 6587 message starts with; requiring it keeps a plain line that happens to
//!   start with a number, like `2024-10-03 ...`, from being read as a length and
//!   swallowing the lines after it);
//! - anything else is non-transparent: up to LF or NUL, a trailing CR dropped.
//!
//! Memory is bounded: after `next_frame` returns `None` at most `max_message + 11` bytes
//! (a frame plus its octet-count header) stay buffered. After an error the framer
//! resynchronises by itself, without buffering what it skips: an oversize octet-counted
//! frame is skipped by its declared length (a pure octet-counting sender may never send a
//! newline), anything else up to the next LF or NUL.

use crate::error::FrameError;

/// Most digits an octet count may have: 10 covers any frame a u32 length can describe.
const MAX_LEN_DIGITS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    /// Discarding the rest of an oversize octet-counted frame.
    SkipBytes(u64),
    /// Discarding up to and including the next LF or NUL.
    SkipToDelimiter,
}

/// Splits one connection's byte stream into syslog messages; see the module docs.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`; consumed bytes are dropped on the next `push`.
    pos: usize,
    max: usize,
    state: State,
}

enum Header {
    NeedMore,
    NotOctetCounted,
    Octet {
        len: u64,
        header_len: usize,
    },
    Bad {
        reason: &'static str,
        header_len: usize,
    },
}

impl Framer {
    /// A framer that rejects messages longer than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            max: max_message.max(1),
            state: State::Ready,
        }
    }

    /// Appends received bytes. Bytes that belong to a frame being skipped are dropped here,
    /// so a flood after an oversize frame costs no memory.
    pub fn push(&mut self, data: &[u8]) {
        let skipped = self.discard(data);
        let data = &data[skipped..];
        if data.is_empty() {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, `Some(Err)` for a frame that was rejected (the framer has
    /// already resynchronised; keep calling), or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        loop {
            self.discard_buffered();
            if self.state != State::Ready {
                return None;
            }
            // Trailers of the previous frame (LF after an octet-counted frame, CRLF, NUL).
            let lead = self.buf[self.pos..]
                .iter()
                .take_while(|&&c| is_trailer(c))
                .count();
            self.pos += lead;
            let avail = &self.buf[self.pos..];
            let first = *avail.first()?;

            if first.is_ascii_digit() {
                match octet_header(avail) {
                    Header::NeedMore => return None,
                    Header::NotOctetCounted => {}
                    Header::Bad { reason, header_len } => {
                        self.pos += header_len;
                        return self.fail(
                            State::SkipToDelimiter,
                            FrameError::BadLength(reason.to_owned()),
                        );
                    }
                    Header::Octet { len, header_len } => {
                        if len > self.max as u64 {
                            self.pos += header_len;
                            let declared = usize::try_from(len).unwrap_or(usize::MAX);
                            let err = FrameError::TooLarge {
                                declared_or_seen: declared,
                                max: self.max,
                            };
                            return self.fail(State::SkipBytes(len), err);
                        }
                        // len <= max, so it fits usize.
                        let len = len as usize;
                        if avail.len() < header_len + len {
                            return None;
                        }
                        let frame = avail[header_len..header_len + len].to_vec();
                        self.pos += header_len + len;
                        return Some(Ok(frame));
                    }
                }
            }

            // Non-transparent framing. A frame of exactly `max` bytes may be followed by
            // CR LF, so look at max + 2 bytes for the delimiter.
            let window = &avail[..avail.len().min(self.max + 2)];
            match window.iter().position(|&c| c == b'\n' || c == b'\0') {
                Some(i) => {
                    let mut frame = &avail[..i];
                    while let Some(stripped) = frame.strip_suffix(b"\r") {
                        frame = stripped;
                    }
                    let frame = frame.to_vec();
                    self.pos += i + 1;
                    if frame.len() > self.max {
                        return Some(Err(FrameError::TooLarge {
                            declared_or_seen: frame.len(),
                            max: self.max,
                        }));
                    }
                    if frame.is_empty() {
                        continue;
                    }
                    return Some(Ok(frame));
                }
                None if avail.len() >= self.max + 2 => {
                    let seen = avail.len();
                    let err = FrameError::TooLarge {
                        declared_or_seen: seen,
                        max: self.max,
                    };
                    return self.fail(State::SkipToDelimiter, err);
                }
                None => return None,
            }
        }
    }

    /// At EOF: whatever is left as one last message (trailers dropped, an incomplete
    /// octet-counted frame without its header), so a connection's final message without a
    /// newline is not lost. Call after `next_frame` returned `None`. Resets the framer.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let skipping = self.state != State::Ready;
        let mut tail = &self.buf[self.pos..];
        while let Some((&c, rest)) = tail.split_first() {
            if !is_trailer(c) {
                break;
            }
            tail = rest;
        }
        if let Header::Octet { header_len, .. } = octet_header(tail) {
            tail = &tail[header_len..];
        }
        let end = tail
            .iter()
            .rposition(|&c| !is_trailer(c))
            .map_or(0, |i| i + 1);
        let result = (!skipping && end > 0).then(|| tail[..end].to_vec());
        self.buf.clear();
        self.pos = 0;
        self.state = State::Ready;
        result
    }

    /// Bytes held for an incomplete frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Enters a skip state and applies it to what is buffered, keeping the invariant that
    /// while skipping nothing is buffered (so `push` may discard from new data first).
    fn fail(&mut self, state: State, err: FrameError) -> Option<Result<Vec<u8>, FrameError>> {
        self.state = state;
        self.discard_buffered();
        if self.state != State::Ready {
            self.pos = self.buf.len();
        }
        Some(Err(err))
    }

    /// Applies the skip state to `data`; returns how many bytes were discarded.
    fn discard(&mut self, data: &[u8]) -> usize {
        match self.state {
            State::Ready => 0,
            State::SkipBytes(n) => {
                let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                let left = n - k as u64;
                self.state = if left == 0 {
                    State::Ready
                } else {
                    State::SkipBytes(left)
                };
                k
            }
            State::SkipToDelimiter => match data.iter().position(|&c| c == b'\n' || c == b'\0') {
                Some(i) => {
                    self.state = State::Ready;
                    i + 1
                }
                None => data.len(),
            },
        }
    }

    /// Applies the skip state to the buffered bytes.
    fn discard_buffered(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        let n = self.discard(&buf[self.pos..]);
        self.buf = buf;
        self.pos += n;
    }
}

fn is_trailer(c: u8) -> bool {
    matches!(c, b'\n' | b'\r' | b'\0')
}

/// Reads `<digits> <` at the start of `avail` (which starts with a digit).
fn octet_header(avail: &[u8]) -> Header {
    let digits = avail
        .iter()
        .take(MAX_LEN_DIGITS + 1)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 || digits > MAX_LEN_DIGITS {
        return Header::NotOctetCounted;
    }
    match (avail.get(digits), avail.get(digits + 1)) {
        (None, _) | (Some(b' '), None) => return Header::NeedMore,
        (Some(b' '), Some(b'<')) => {}
        _ => return Header::NotOctetCounted,
    }
    let header_len = digits + 1;
    if avail[0] == b'0' {
        let reason = if digits == 1 {
            "zero-length frame"
        } else {
            "length with a leading zero"
        };
        return Header::Bad { reason, header_len };
    }
    let len = avail[..digits]
        .iter()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    Header::Octet { len, header_len }
}
