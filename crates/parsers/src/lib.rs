//! Line parsers for processing pipelines: grok, dissect, logfmt, key=value, named-capture regex, and
//! type inference for the strings they produce.
//!
//! Pure functions over `&str`, no I/O and no global state: the stream processor compiles
//! patterns once when a pipeline is configured (every configuration error surfaces then,
//! as a [`ParserError`]) and shares the compiled parsers between its worker threads. No
//! parser panics or takes more than linear time on any input (property tests and
//! cargo-fuzz targets in `fuzz/` check the former; the `regex` crate guarantees the
//! latter), because every line comes from the network.
//!
//! - [`grok`]: Logstash-compatible grok with the standard pattern library; typed captures.
//! - [`dissect`]: Elasticsearch-style `%{a} [%{b}] %{c}` splitting at literal text, no regex.
//! - [`logfmt`]: `key=value key="quoted \" value"`, strict like go-logfmt.
//! - [`kv`]: tolerant `key=value` extraction from free text (firewall logs and the like).
//! - [`regex_parser`]: a plain regex; its named groups are the fields.
//! - [`infer`]: `"200"` → `Long`, `"0.25"` → `Double`, `"true"` → `Bool`, else `String`.

pub mod dissect;
mod error;
pub mod grok;
pub mod infer;
pub mod kv;
pub mod logfmt;
pub mod regex_parser;

pub use error::{LogfmtErrorKind, ParserError};
pub use nexuslog_schemas::FieldValue;
