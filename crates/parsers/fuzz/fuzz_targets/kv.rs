//! key=value on arbitrary bytes (decoded lossily) with separators chosen by the first two
//! bytes: no panic, no endless loop, and every pair has the prefix, a key and a value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_parsers::kv::{self, KvOptions};

const FIELD_SPLITS: &[&str] = &[" ", " ,", "&", "|;", "\t", ""];
const VALUE_SPLITS: &[&str] = &["=", ":=", ":", " =", ""];

fuzz_target!(|data: &[u8]| {
    let Some((&[field, value], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let opts = KvOptions {
        field_split: FIELD_SPLITS[usize::from(field) % FIELD_SPLITS.len()].to_owned(),
        value_split: VALUE_SPLITS[usize::from(value) % VALUE_SPLITS.len()].to_owned(),
        trim_chars: if field & 0x80 == 0 {
            "\"'".to_owned()
        } else {
            String::new()
        },
        prefix: if value & 0x80 == 0 {
            String::new()
        } else {
            "p.".to_owned()
        },
    };
    let text = String::from_utf8_lossy(rest);
    for (key, value) in kv::parse(&text, &opts) {
        assert!(
            key.starts_with(&opts.prefix) && key.len() > opts.prefix.len(),
            "key {key:?}"
        );
        assert!(!value.is_empty(), "empty value for {key}");
    }
});
