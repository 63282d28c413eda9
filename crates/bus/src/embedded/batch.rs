//! Record batches: the records one write appends to one partition, stored as one compressed
//! value, as Kafka stores its record batches. One row per batch instead of one per record
//! divides the B-tree's work and overhead by the batch size, and compressing a few hundred
//! similar JSON events together takes them to a fraction of their size.
//!
//! Value: `[version: u8 = 1][count: u32][append time µs: u64][codec: u8][body]`, integers big
//! endian; the body, once decompressed, is each record's single-record encoding
//! (`store::encode`) prefixed by its length as a `u32`. Codec 0 = stored, 1 = zstd.

use std::cell::RefCell;

use super::store::{decode, encode, Stored};
use crate::OutRecord;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 8 + 1;
const STORED: u8 = 0;
const ZSTD: u8 = 1;
/// Fast compression: the writer thread's fsync, not this, should bound a write.
const ZSTD_LEVEL: i32 = 1;
/// Most uncompressed bytes in one batch: a large group commit is cut into several batches, so
/// a consumer decompresses a bounded amount to read any one record.
pub(super) const MAX_BATCH_BYTES: usize = 1 << 20;
/// Upper bound on a body once decompressed (a batch's records plus the length prefixes; one
/// record may be as large as the bus's biggest record, which the writer never splits).
const MAX_BODY_BYTES: usize = 256 << 20;

/// Encodes `records` (all of one partition, in offset order) as one batch value.
pub(super) fn pack(append_micros: u64, records: &[&OutRecord]) -> Vec<u8> {
    let mut body = Vec::new();
    for r in records {
        let one = encode(append_micros, r);
        body.extend_from_slice(&u32::try_from(one.len()).unwrap_or(u32::MAX).to_be_bytes());
        body.extend_from_slice(&one);
    }
    let (codec, body) = match compress(&body) {
        Ok(z) if z.len() < body.len() => (ZSTD, z),
        _ => (STORED, body),
    };
    let mut v = Vec::with_capacity(HEADER + body.len());
    v.push(VERSION);
    v.extend_from_slice(&u32::try_from(records.len()).unwrap_or(u32::MAX).to_be_bytes());
    v.extend_from_slice(&append_micros.to_be_bytes());
    v.push(codec);
    v.extend_from_slice(&body);
    v
}

thread_local! {
    // One context per thread, reused: creating one costs more than compressing a small batch.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let c = match c.as_mut() {
            Some(c) => c,
            None => c.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
        };
        c.compress(body)
    })
}

/// The body of a compressed batch. Its frame declares its size (`pack` writes it), so the
/// buffer is allocated once at its final size: zstd's bulk API otherwise reserves the whole
/// `MAX_BODY_BYTES` for every batch.
fn decompress(z: &[u8]) -> Option<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(z).ok()??;
    let size = usize::try_from(size).ok().filter(|n| *n <= MAX_BODY_BYTES)?;
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let d = match d.as_mut() {
            Some(d) => d,
            None => d.insert(zstd::bulk::Decompressor::new().ok()?),
        };
        d.decompress(z, size).ok()
    })
}

/// The record count and append time of a batch value, without decompressing it.
pub(super) fn header(v: &[u8]) -> Option<(u64, u64)> {
    if v.len() < HEADER || v[0] != VERSION {
        return None;
    }
    let count = u32::from_be_bytes(v[1..5].try_into().ok()?);
    let at = u64::from_be_bytes(v[5..13].try_into().ok()?);
    Some((u64::from(count), at))
}

/// The records of a batch value; `None` when it is corrupt.
pub(super) fn unpack(v: &[u8]) -> Option<Vec<Stored>> {
    let (count, _) = header(v)?;
    let body = match v[13] {
        STORED => std::borrow::Cow::Borrowed(&v[HEADER..]),
        ZSTD => std::borrow::Cow::Owned(decompress(&v[HEADER..])?),
        _ => return None,
    };
    let mut rest: &[u8] = &body;
    let mut out = Vec::with_capacity(usize::try_from(count).ok()?);
    for _ in 0..count {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        out.push(decode(rest.get(4..4 + len)?)?);
        rest = &rest[4 + len..];
    }
    rest.is_empty().then_some(out)
}

/// One partition's records of one write, packed: what the writer thread inserts as one row.
#[derive(Debug)]
pub(crate) struct Packed {
    pub topic: String,
    pub partition: u32,
    pub count: u64,
    pub value: Vec<u8>,
}

/// Packs placed records into batches per partition (request order kept within a partition).
/// Done by the caller, not the writer thread: compression runs on as many cores as there are
/// producers, and the single writer only inserts rows and syncs.
pub(crate) fn pack_placed(append_micros: u64, records: &[(u32, OutRecord)]) -> Vec<Packed> {
    let mut by_partition: Vec<((&str, u32), Vec<&OutRecord>)> = Vec::new();
    for (partition, r) in records {
        let key = (r.topic.as_str(), *partition);
        match by_partition.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(r),
            None => by_partition.push((key, vec![r])),
        }
    }
    let mut out = Vec::new();
    for ((topic, partition), list) in &by_partition {
        for chunk in split(list) {
            out.push(Packed { topic: (*topic).to_owned(), partition: *partition, count: chunk.len() as u64, value: pack(append_micros, chunk) });
        }
    }
    out
}

/// Cuts one partition's records (in order) into batches of at most [`MAX_BATCH_BYTES`] (a
/// larger record is a batch of its own).
pub(super) fn split<'a>(records: &'a [&'a OutRecord]) -> impl Iterator<Item = &'a [&'a OutRecord]> + 'a {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= records.len() {
            return None;
        }
        let mut end = start;
        let mut bytes = 0;
        while end < records.len() {
            let size = records[end].payload.len() + records[end].key.as_ref().map_or(0, Vec::len) + 16;
            if end > start && bytes + size > MAX_BATCH_BYTES {
                break;
            }
            bytes += size;
            end += 1;
        }
        let out = &records[start..end];
        start = end;
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize, size: usize) -> OutRecord {
        OutRecord {
            topic: "t".into(),
            key: i.is_multiple_of(2).then(|| format!("k{i}").into_bytes()),
            payload: format!("{{\"message\":\"event {i}\",\"pad\":\"{}\"}}", "x".repeat(size)).into_bytes(),
            headers: if i.is_multiple_of(3) { vec![("traceparent".into(), b"00-a-b-01".to_vec())] } else { vec![] },
        }
    }

    #[test]
    fn a_batch_roundtrips_and_compresses_similar_records() {
        let records: Vec<OutRecord> = (0..500).map(|i| record(i, 200)).collect();
        let refs: Vec<&OutRecord> = records.iter().collect();
        let v = pack(77, &refs);
        assert_eq!(header(&v), Some((500, 77)));
        let raw: usize = records.iter().map(|r| r.payload.len()).sum();
        assert!(v.len() * 5 < raw, "{} bytes for {raw} bytes of similar JSON", v.len());
        let back = unpack(&v).expect("unpack");
        assert_eq!(back.len(), 500);
        for (r, s) in records.iter().zip(&back) {
            assert_eq!((&s.key, &s.headers, &s.payload, s.append_micros), (&r.key, &r.headers, &r.payload, 77));
        }
    }

    #[test]
    fn incompressible_batches_are_stored_and_corruption_is_detected() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                // xorshift64: no repetition zstd could use.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let r = OutRecord { topic: "t".into(), payload: noise, ..Default::default() };
        let v = pack(1, &[&r]);
        assert_eq!(v[13], STORED);
        assert_eq!(unpack(&v).expect("unpack")[0].payload, r.payload);
        assert!(unpack(&v[..v.len() - 1]).is_none(), "a cut batch is corrupt");
        assert!(unpack(b"\x02rest").is_none(), "an unknown version is refused");
    }

    #[test]
    fn large_groups_are_cut_and_a_large_record_stands_alone() {
        let records: Vec<OutRecord> = (0..10).map(|i| record(i, if i == 4 { 3 << 20 } else { 300 << 10 })).collect();
        let refs: Vec<&OutRecord> = records.iter().collect();
        let sizes: Vec<usize> = split(&refs).map(<[_]>::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|n| *n <= 3), "{sizes:?}");
        assert!(split(&refs).any(|b| b.len() == 1 && b[0].payload.len() > 3 << 20));
    }
}
