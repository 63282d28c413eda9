//! Line parsers for processing pipelines (grok, logfmt, key=value, named-capture regex).
