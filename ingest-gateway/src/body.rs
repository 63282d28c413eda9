//! Request bodies: decompression and splitting into events.

use std::io::Read;

/// Why one line of a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number (or element number for a JSON array).
    pub line: usize,
    pub reason: String,
    /// The offending bytes (truncated to the event limit) for the dead-letter record.
    pub original: Vec<u8>,
}

/// One accepted event: its position and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub line: usize,
    pub bytes: Vec<u8>,
}

/// Decompresses `body` according to `Content-Encoding`, refusing to inflate past `limit` bytes
/// (a zip bomb is answered 413, not with an out-of-memory kill).
///
/// # Errors
/// `Err(Some(reason))` for a corrupt or unknown encoding, `Err(None)` when the limit is exceeded.
pub fn decompress(encoding: Option<&str>, body: &[u8], limit: u64) -> Result<Vec<u8>, Option<String>> {
    let reader: Box<dyn Read + '_> = match encoding.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "identity") => {
            return if body.len() as u64 > limit { Err(None) } else { Ok(body.to_vec()) };
        }
        Some("gzip" | "x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(body)),
        Some("zstd") => Box::new(zstd::stream::read::Decoder::new(body).map_err(|e| Some(format!("zstd: {e}")))?),
        Some(other) => return Err(Some(format!("unsupported Content-Encoding {other:?}; use gzip or zstd"))),
    };
    let mut out = Vec::new();
    let read = reader.take(limit + 1).read_to_end(&mut out).map_err(|e| Some(format!("corrupt compressed body: {e}")))?;
    if read as u64 > limit {
        return Err(None);
    }
    Ok(out)
}

/// Splits a body into events: a JSON array (one event per element) or NDJSON / plain text
/// (one event per non-empty line). A line that starts like a JSON object must be valid JSON;
/// any other line is a plain-text event. Lines larger than `max_event` are refused.
///
/// # Errors
/// When the body is a JSON array that does not parse: nothing in it can be trusted.
pub fn split_events(body: &[u8], max_event: usize) -> Result<(Vec<EventLine>, Vec<LineError>), String> {
    let trimmed = body.trim_ascii_start();
    if trimmed.first() == Some(&b'[') {
        let items: Vec<&serde_json::value::RawValue> =
            serde_json::from_slice(trimmed).map_err(|e| format!("body looks like a JSON array but is not valid JSON: {e}"))?;
        let mut ok = Vec::with_capacity(items.len());
        let mut bad = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let bytes = item.get().as_bytes();
            if bytes.len() > max_event {
                bad.push(too_large(i + 1, bytes, max_event));
            } else {
                ok.push(EventLine { line: i + 1, bytes: bytes.to_vec() });
            }
        }
        return Ok((ok, bad));
    }
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if line.len() > max_event {
            bad.push(too_large(i + 1, line, max_event));
            continue;
        }
        if line.first() == Some(&b'{') {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(line) {
                // Concatenated objects (Fluent Bit's `json_stream`, `{..}{..}` or `{..} {..}`):
                // one event each, when every one of them parses.
                match concatenated_objects(line) {
                    Some(objects) => ok.extend(objects.into_iter().map(|o| EventLine { line: i + 1, bytes: o.to_vec() })),
                    None => bad.push(LineError { line: i + 1, reason: format!("invalid JSON: {e}"), original: line.to_vec() }),
                }
                continue;
            }
        } else if std::str::from_utf8(line).is_err() {
            bad.push(LineError { line: i + 1, reason: "not valid UTF-8".into(), original: line.to_vec() });
            continue;
        }
        ok.push(EventLine { line: i + 1, bytes: line.to_vec() });
    }
    Ok((ok, bad))
}

/// The objects of a line holding several JSON objects one after another (whitespace between
/// them allowed); `None` unless there are several and every one is a valid object.
fn concatenated_objects(line: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_slice(line).into_iter::<&serde_json::value::RawValue>() {
        let raw = value.ok()?.get().as_bytes();
        if raw.first() != Some(&b'{') {
            return None;
        }
        out.push(raw);
    }
    (out.len() > 1).then_some(out)
}

fn too_large(line: usize, bytes: &[u8], max: usize) -> LineError {
    LineError { line, reason: format!("event of {} bytes exceeds the limit of {max} bytes", bytes.len()), original: bytes[..max.min(bytes.len())].to_vec() }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ndjson_with_plain_text_and_bad_json() {
        let body = b"{\"msg\":\"a\"}\n\nplain text line\r\n{\"broken\": \n{\"msg\":\"b\"}";
        let (ok, bad) = split_events(body, 1000).expect("split");
        assert_eq!(ok.iter().map(|e| e.line).collect::<Vec<_>>(), vec![1, 3, 5]);
        assert_eq!(ok[1].bytes, b"plain text line");
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 4);
        assert!(bad[0].reason.starts_with("invalid JSON"), "{}", bad[0].reason);
    }

    #[test]
    fn concatenated_objects_are_one_event_each() {
        let body = b"{\"a\":1}{\"b\":\"}{\"} {\"c\":[1]}\n{\"d\":1}{oops}\n{\"e\":1} 5";
        let (ok, bad) = split_events(body, 1000).expect("split");
        let events: Vec<&[u8]> = ok.iter().map(|e| e.bytes.as_slice()).collect();
        assert_eq!(events, [b"{\"a\":1}".as_slice(), b"{\"b\":\"}{\"}", b"{\"c\":[1]}"]);
        assert!(ok.iter().all(|e| e.line == 1));
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3], "one bad object (or a non-object) refuses its line");
    }

    #[test]
    fn json_array_elements_become_events() {
        let (ok, bad) = split_events(br#" [{"a":1}, "text", {"b":[1,2]}]"#, 1000).expect("split");
        assert!(bad.is_empty());
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[2].bytes, br#"{"b":[1,2]}"#);
        assert!(split_events(b"[{\"a\":1},", 1000).is_err());
    }

    #[test]
    fn oversized_lines_are_refused_individually() {
        let body = format!("short\n{}\nshort again", "x".repeat(50));
        let (ok, bad) = split_events(body.as_bytes(), 20).expect("split");
        assert_eq!(ok.len(), 2);
        assert_eq!(bad[0].line, 2);
        assert!(bad[0].reason.contains("exceeds"));
    }

    #[test]
    fn gzip_and_zstd_bodies_and_limits() {
        let text = b"{\"m\":1}\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).expect("gzip");
        let gz = gz.finish().expect("gzip");
        assert_eq!(decompress(Some("gzip"), &gz, 10_000).expect("inflate"), text);
        let zs = zstd::encode_all(text.as_slice(), 1).expect("zstd");
        assert_eq!(decompress(Some("zstd"), &zs, 10_000).expect("inflate"), text);
        assert_eq!(decompress(Some("gzip"), &gz, 100), Err(None), "inflating past the limit is refused");
        assert!(matches!(decompress(Some("br"), b"x", 100), Err(Some(_))));
        assert!(matches!(decompress(Some("gzip"), b"not gzip", 100), Err(Some(_))));
    }

    proptest! {
        /// Any body splits without panicking, and every byte of an accepted line came from the body.
        #[test]
        fn split_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok((ok, bad)) = split_events(&body, 64) {
                for e in ok { prop_assert!(e.bytes.len() <= 64); }
                for b in bad { prop_assert!(!b.reason.is_empty()); }
            }
        }
    }
}
