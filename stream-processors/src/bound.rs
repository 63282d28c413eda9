//! Keeps processed records under the bus's record limit.
//!
//! A raw event fits the bus (the gateway checks), but its processed record can be about twice
//! as large: a JSON object without a `message` keeps its whole text as the message *and* every
//! value as a field. A record the bus refuses would abort the batch's transaction and the
//! processor would replay it forever, stalling every project on that partition — so a record
//! over the limit loses text, visibly, instead: the longest texts are cut with a marker, then
//! the largest fields go, each step noted in `parse_errors`.

use nexuslog_schemas::{FieldValue, LogRecord};

/// Encode-and-shrink rounds before a record is given up on (dead-lettered).
pub const FIT_ATTEMPTS: usize = 4;

/// Bytes kept in hand for Avro length prefixes.
const SLACK: usize = 256;
/// Longest note a shrink adds to `parse_errors`.
const NOTE_BUDGET: usize = 400;
/// Texts a note names; the rest are counted.
const NAMED_CUTS: usize = 3;

/// What a text cut short ends with.
fn marker(removed: usize) -> String {
    format!(" …[truncated by NexusLog: {removed} bytes removed]")
}

/// Cuts `text` to at most `keep` bytes (on a character boundary), adds the marker; returns the
/// bytes removed.
fn cut(text: &mut String, keep: usize) -> usize {
    let mut at = keep.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let removed = text.len() - at;
    text.truncate(at);
    text.push_str(&marker(removed));
    removed
}

/// Where the longest text of a record is.
enum Longest {
    Message,
    Field(String),
}

/// The longest text not cut yet.
fn longest_text(r: &LogRecord, message_cut: bool, cut_fields: &[String]) -> Option<(Longest, usize)> {
    let fields = r.fields.iter().filter_map(|(k, v)| match v {
        FieldValue::String(s) if !cut_fields.contains(k) => Some((Longest::Field(k.clone()), s.len())),
        _ => None,
    });
    let message = (!message_cut).then_some((Longest::Message, r.message.len()));
    message.into_iter().chain(fields).max_by_key(|(_, len)| *len)
}

/// Removes at least `excess` bytes of text from `r` (an estimate of its encoding: Avro writes
/// strings as their bytes), noting each change in `parse_errors`. Returns false when nothing
/// is left to remove.
pub fn shrink(r: &mut LogRecord, excess: usize) -> bool {
    // One note per call, naming at most a few texts, so notes cannot outgrow what they save.
    let mut need = excess + SLACK + NOTE_BUDGET;
    let (mut message_cut, mut cut_fields) = (r.message.ends_with("bytes removed]"), Vec::new());
    let mut cuts: Vec<String> = Vec::new();
    // Texts first, each at most once: the record keeps every field and the start of every
    // long text. The longest text not worth cutting means no shorter one is either.
    while need > NOTE_BUDGET {
        let Some((which, len)) = longest_text(r, message_cut, &cut_fields) else { break };
        let cost = marker(len).len();
        if len <= cost * 4 {
            break;
        }
        let keep = len.saturating_sub(need + cost).max(cost * 2);
        let (name, removed) = match which {
            Longest::Message => {
                message_cut = true;
                ("message".to_owned(), cut(&mut r.message, keep))
            }
            Longest::Field(k) => {
                let Some(FieldValue::String(s)) = r.fields.get_mut(&k) else { break };
                let removed = cut(s, keep);
                cut_fields.push(k.clone());
                (format!("field {k}"), removed)
            }
        };
        cuts.push(format!("{name} (from {len} bytes)"));
        need = need.saturating_sub(removed.saturating_sub(cost));
    }
    // Then whole fields, largest first: many small fields can outweigh any one text.
    let mut dropped = 0usize;
    if need > NOTE_BUDGET {
        let mut sizes: Vec<(String, usize)> = r.fields.iter().map(|(k, v)| (k.clone(), k.len() + 1 + value_len(v))).collect();
        sizes.sort_by_key(|s| std::cmp::Reverse(s.1));
        for (k, size) in sizes {
            if need <= NOTE_BUDGET {
                break;
            }
            r.fields.remove(&k);
            need = need.saturating_sub(size);
            dropped += 1;
        }
    }
    if cuts.is_empty() && dropped == 0 {
        return false;
    }
    let mut note = String::from("the record exceeded bus.max_record_bytes:");
    if !cuts.is_empty() {
        let more = cuts.len().saturating_sub(NAMED_CUTS);
        cuts.truncate(NAMED_CUTS);
        note.push_str(&format!(" truncated {}", cuts.join(", ")));
        if more > 0 {
            note.push_str(&format!(" and {more} more texts"));
        }
    }
    if dropped > 0 {
        note.push_str(&format!(" {dropped} fields removed"));
    }
    if note.len() > NOTE_BUDGET {
        let mut at = NOTE_BUDGET - 3;
        while !note.is_char_boundary(at) {
            at -= 1;
        }
        note.truncate(at);
        note.push('…');
    }
    r.parse_errors.push(note);
    true
}

/// The least a field's value takes in Avro (union branch, then the value): an estimate on the
/// low side, so dropping by it removes enough in one round.
fn value_len(v: &FieldValue) -> usize {
    match v {
        FieldValue::String(s) => s.len() + 2,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use nexuslog_schemas::wire::EmbeddedCodec;
    use proptest::prelude::*;

    use super::*;

    fn record(message: String, fields: BTreeMap<String, FieldValue>) -> LogRecord {
        LogRecord {
            id: "id-1".into(),
            project_id: "p".into(),
            timestamp: 0,
            timestamp_source: nexuslog_schemas::TimestampSource::Received,
            received_at: 0,
            level: nexuslog_schemas::Level::Info,
            message,
            host: None,
            service: None,
            source: nexuslog_schemas::SourceKind::Http,
            fields,
            parse_status: nexuslog_schemas::ParseStatus::Ok,
            parse_errors: Vec::new(),
            trace_id: None,
            span_id: None,
        }
    }

    fn size(r: &LogRecord) -> usize {
        EmbeddedCodec.encode(r).expect("encodes").len()
    }

    /// Shrinks the way the processor does: re-encode, shrink by the excess, until it fits.
    fn fit(r: &mut LogRecord, max: usize) -> bool {
        for _ in 0..FIT_ATTEMPTS {
            let len = size(r);
            if len <= max {
                return true;
            }
            if !shrink(r, len - max) {
                return false;
            }
        }
        size(r) <= max
    }

    #[test]
    fn a_long_message_keeps_its_start_and_says_it_was_cut() {
        let text = "é".repeat(300_000); // two bytes a character: cuts must respect boundaries
        let mut r = record(text.clone(), BTreeMap::new());
        assert!(fit(&mut r, 100_000));
        assert!(r.message.starts_with(&text[..1000]));
        assert!(r.message.ends_with("bytes removed]"), "{}", &r.message[r.message.len() - 80..]);
        assert_eq!(r.parse_errors.len(), 1, "{:?}", r.parse_errors);
        assert!(r.parse_errors[0].contains("truncated message (from 600000 bytes)"), "{:?}", r.parse_errors);
    }

    #[test]
    fn a_json_object_without_message_fits_after_its_message_and_field_are_cut() {
        // The shape that stalled partitions: the whole object as message, its value as field.
        let value = "x".repeat(900_000);
        let mut r = record(format!("{{\"a\":\"{value}\"}}"), BTreeMap::from([("a".to_owned(), FieldValue::String(value))]));
        assert!(size(&r) > 1_000_000);
        assert!(fit(&mut r, 1_000_000));
        assert_eq!(
            r.fields.get("a").map(|v| matches!(v, FieldValue::String(s) if s.len() == 900_000)),
            Some(true),
            "the field stays whole"
        );
    }

    #[test]
    fn many_small_fields_are_dropped_largest_first() {
        let fields: BTreeMap<String, FieldValue> = (0..20_000).map(|i| (format!("field_{i:05}"), FieldValue::Long(i))).collect();
        let mut r = record("short".into(), fields);
        assert!(fit(&mut r, 100_000));
        assert!(r.fields.len() < 20_000 && !r.fields.is_empty());
        assert!(r.parse_errors.iter().any(|e| e.contains("fields removed")), "{:?}", r.parse_errors);
    }

    #[test]
    fn a_record_under_the_limit_is_left_alone() {
        let mut r = record("hello".into(), BTreeMap::from([("k".to_owned(), FieldValue::String("v".into()))]));
        let before = r.clone();
        assert!(fit(&mut r, 10_000));
        assert_eq!(r, before);
    }

    proptest! {
        #[test]
        fn any_record_fits_a_limit_that_holds_its_skeleton(
            message in ".{0,3000}",
            fields in proptest::collection::btree_map("[a-z]{1,8}", ".{0,2000}", 0..40),
            max in 2_000usize..20_000,
        ) {
            let fields = fields.into_iter().map(|(k, v)| (k, FieldValue::String(v))).collect();
            let mut r = record(message, fields);
            prop_assert!(fit(&mut r, max));
        }
    }
}
