//! Avro's binary encoding, written and read straight from the record types.
//!
//! The generic path builds an `apache_avro::types::Value` tree for every record (a `String`
//! per field name, a `HashMap` per record and map) and walks the schema beside it: on the
//! ingest path that was a fifth of the CPU. The hot records ([`crate::RawEvent`],
//! [`crate::LogRecord`]) write and read their current schema directly with these helpers; the
//! generic path stays the reference (`tests/roundtrip.rs` checks each against the other) and
//! still reads data of older schemas.
//!
//! Encoding (Avro 1.11 specification, "Binary Encoding"): `int`/`long` are zig-zag varints,
//! `string`/`bytes` a long length then the bytes, `boolean` one byte, `double` 8 bytes little
//! endian, an enum its symbol index, a union its branch index then the value, a map or array
//! blocks of (count, items) ended by a zero count, where a negative count is followed by the
//! block's size in bytes.

use crate::avro::SchemaError;

pub(crate) fn put_long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// A `["null", "string"]` union.
pub(crate) fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => put_long(out, 0),
        Some(s) => {
            put_long(out, 1);
            put_str(out, s);
        }
    }
}

pub(crate) fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.push(u8::from(b));
}

pub(crate) fn put_double(out: &mut Vec<u8>, d: f64) {
    out.extend_from_slice(&d.to_le_bytes());
}

/// A map or array of `len` items written by `item`, as one block.
pub(crate) fn put_block<I>(out: &mut Vec<u8>, items: impl ExactSizeIterator<Item = I>, mut item: impl FnMut(&mut Vec<u8>, I)) {
    if items.len() > 0 {
        put_long(out, items.len() as i64);
        for i in items {
            item(out, i);
        }
    }
    put_long(out, 0);
}

/// Reads a datum from the front of a byte slice.
pub struct Reader<'a> {
    buf: &'a [u8],
    record: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], record: &'static str) -> Self {
        Self { buf, record }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn err(&self, field: &str, problem: impl Into<String>) -> SchemaError {
        SchemaError::Field { record: self.record, field: field.to_owned(), problem: problem.into() }
    }

    pub(crate) fn long(&mut self, field: &str) -> Result<i64, SchemaError> {
        let mut z: u64 = 0;
        for (i, byte) in self.buf.iter().enumerate().take(10) {
            z |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
            }
        }
        Err(self.err(field, "has a truncated or overlong varint"))
    }

    /// An index (enum symbol, union branch) below `n`.
    pub(crate) fn index(&mut self, field: &str, n: usize) -> Result<usize, SchemaError> {
        let i = self.long(field)?;
        usize::try_from(i).ok().filter(|i| *i < n).ok_or_else(|| self.err(field, format!("has index {i} of {n}")))
    }

    pub(crate) fn bytes(&mut self, field: &str) -> Result<&'a [u8], SchemaError> {
        let len = self.long(field)?;
        let len = usize::try_from(len).ok().filter(|l| *l <= self.buf.len()).ok_or_else(|| self.err(field, format!("has length {len} past the end")))?;
        let (b, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(b)
    }

    pub(crate) fn string(&mut self, field: &str) -> Result<String, SchemaError> {
        let b = self.bytes(field)?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| self.err(field, "is not UTF-8"))
    }

    pub(crate) fn opt_string(&mut self, field: &str) -> Result<Option<String>, SchemaError> {
        match self.index(field, 2)? {
            0 => Ok(None),
            _ => self.string(field).map(Some),
        }
    }

    pub(crate) fn bool(&mut self, field: &str) -> Result<bool, SchemaError> {
        let (&b, rest) = self.buf.split_first().ok_or_else(|| self.err(field, "is truncated"))?;
        self.buf = rest;
        match b {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.err(field, format!("has boolean byte {b}"))),
        }
    }

    pub(crate) fn double(&mut self, field: &str) -> Result<f64, SchemaError> {
        let Some((b, rest)) = self.buf.split_first_chunk::<8>() else {
            return Err(self.err(field, "is truncated"));
        };
        self.buf = rest;
        Ok(f64::from_le_bytes(*b))
    }

    /// Reads the blocks of a map or array, calling `item` once per item.
    pub(crate) fn blocks(&mut self, field: &str, mut item: impl FnMut(&mut Self) -> Result<(), SchemaError>) -> Result<(), SchemaError> {
        loop {
            let count = self.long(field)?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                // The block's size in bytes follows: a skipping reader's shortcut, unused here.
                self.long(field)?;
            }
            for _ in 0..count.unsigned_abs() {
                item(self)?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs_round_trip_at_the_varint_edges() {
        for v in [0, 1, -1, 63, -64, 64, -65, i64::from(i32::MAX), i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            put_long(&mut out, v);
            let mut r = Reader::new(&out, "t");
            assert_eq!(r.long("x").expect("decodes"), v);
            assert_eq!(r.remaining(), 0);
        }
        // Avro's own examples: 1 → 02, -1 → 01, -64 → 7f, 64 → 80 01.
        let enc = |v| {
            let mut o = Vec::new();
            put_long(&mut o, v);
            o
        };
        assert_eq!(enc(1), [0x02]);
        assert_eq!(enc(-1), [0x01]);
        assert_eq!(enc(-64), [0x7f]);
        assert_eq!(enc(64), [0x80, 0x01]);
    }

    #[test]
    fn truncated_and_oversized_input_is_an_error_not_a_panic() {
        assert!(Reader::new(&[0x80], "t").long("x").is_err());
        assert!(Reader::new(&[0xff; 11], "t").long("x").is_err());
        assert!(Reader::new(&[0x06, b'a'], "t").bytes("x").is_err());
        assert!(Reader::new(&[0x01], "t").bytes("x").is_err(), "negative length");
        assert!(Reader::new(&[1, 2, 3], "t").double("x").is_err());
        assert!(Reader::new(&[2], "t").bool("x").is_err());
        assert!(Reader::new(&[0x04], "t").index("x", 2).is_err());
    }

    #[test]
    fn negative_block_counts_carry_a_size_and_are_read() {
        // Two items in a block written as count -2 and a byte size, then the end.
        let mut out = Vec::new();
        put_long(&mut out, -2);
        put_long(&mut out, 4);
        put_str(&mut out, "a");
        put_str(&mut out, "b");
        put_long(&mut out, 0);
        let mut r = Reader::new(&out, "t");
        let mut got = Vec::new();
        r.blocks("x", |r| {
            got.push(r.string("x")?);
            Ok(())
        })
        .expect("reads");
        assert_eq!(got, ["a", "b"]);
        assert_eq!(r.remaining(), 0);
    }
}
