use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexuslog_logstore::LogStoreError;
use nexuslog_metastore::MetaStoreError;
use nexuslog_state::StateError;
use serde_json::json;

/// Errors of API handlers, mapped to status codes; internal details are logged, not sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// A query that does not parse: 400 with the character offset of the bad token.
    #[error("invalid query: {}", .0.message)]
    Query(#[from] nexuslog_query::ParseError),
    /// A submitted resource with a wrong field: 400 naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// Over a limit that is not about failed attempts (open live tails, ...): 429.
    #[error("{0}")]
    TooMany(String),
    /// A feature this instance does not run right now: 503.
    #[error("{0}")]
    Unavailable(String),
    /// Over a per-caller rate (dry runs, ...): 429 with `Retry-After`.
    #[error("{what}; retry in {retry_after_secs} s")]
    Throttled { what: String, retry_after_secs: u64 },
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// Every password-check slot is busy (sign-in flood): 503 with `Retry-After`.
    #[error("too many sign-ins at once; retry in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    #[error("log store unavailable")]
    Store(#[from] LogStoreError),
    #[error("metadata store unavailable")]
    Meta(MetaStoreError),
    #[error("state store unavailable")]
    State(#[from] StateError),
    #[error("internal error")]
    Internal(String),
}

impl From<nexuslog_alerting::SpecError> for ApiError {
    fn from(e: nexuslog_alerting::SpecError) -> Self {
        ApiError::Invalid { field: e.field, message: e.message }
    }
}

impl From<MetaStoreError> for ApiError {
    fn from(e: MetaStoreError) -> Self {
        match e {
            MetaStoreError::Conflict(m) => ApiError::Conflict(format!("already exists: {m}")),
            other => ApiError::Meta(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::Query(_) | ApiError::Invalid { .. } | ApiError::Store(LogStoreError::Rejected(_)) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyAttempts { .. } | ApiError::Throttled { .. } | ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Meta(_) | ApiError::State(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            ApiError::Store(e) => {
                tracing::warn!(error = %e, "log store call failed");
                match e {
                    LogStoreError::Rejected(_) => "the query was rejected by the log store".to_owned(),
                    _ => "the log store is unavailable, retry later".to_owned(),
                }
            }
            ApiError::Meta(e) => {
                tracing::warn!(error = %e, "metadata store call failed");
                "the metadata store is unavailable, retry later".to_owned()
            }
            ApiError::State(e) => {
                tracing::warn!(error = %e, "state store call failed");
                "the state store is unavailable, retry later".to_owned()
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                self.to_string()
            }
            other => other.to_string(),
        };
        let body = match &self {
            ApiError::Query(e) => json!({ "error": message, "position": e.position }),
            ApiError::Invalid { field, .. } => json!({ "error": message, "field": field }),
            _ => json!({ "error": message }),
        };
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts { retry_after_secs } | ApiError::Overloaded { retry_after_secs } | ApiError::Throttled { retry_after_secs, .. } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
