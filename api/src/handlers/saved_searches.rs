//! Saved searches: a name, a query, a time range and the columns to show.

use nexuslog_metastore::DocumentKind;
use serde::{Deserialize, Serialize};

use super::documents::Document;
use crate::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedSearch {
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_range: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    columns: Vec<String>,
    #[serde(default)]
    shared: bool,
}

/// Times as the search API takes them (`now-15m`, RFC 3339, epoch ms).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeRange {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl TimeRange {
    /// Checks both ends; errors name `{prefix}.from` / `{prefix}.to`.
    pub(crate) fn check(&self, prefix: &str) -> Result<(), ApiError> {
        let now = nexuslog_metastore::now();
        let bad = |end: &str, message: String| ApiError::Invalid { field: format!("{prefix}.{end}"), message };
        nexuslog_query::time::parse_time(&self.from, now).map_err(|e| bad("from", e))?;
        if let Some(to) = &self.to {
            nexuslog_query::time::parse_time(to, now).map_err(|e| bad("to", e))?;
        }
        Ok(())
    }
}

impl Document for SavedSearch {
    const KIND: DocumentKind = DocumentKind::SavedSearch;
    const NOUN: &'static str = "saved search";

    fn name(&self) -> &str {
        &self.name
    }

    fn shared(&self) -> bool {
        self.shared
    }

    fn check(&self) -> Result<(), ApiError> {
        nexuslog_query::parse(&self.query).map_err(|e| ApiError::Invalid { field: "query".into(), message: format!("{} (at character {})", e.message, e.position) })?;
        if let Some(r) = &self.time_range {
            r.check("time_range")?;
        }
        if self.columns.len() > 50 || self.columns.iter().any(|c| c.trim().is_empty()) {
            return Err(ApiError::Invalid { field: "columns".into(), message: "at most 50 non-empty field names".into() });
        }
        Ok(())
    }
}
