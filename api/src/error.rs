use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexuslog_logstore::LogStoreError;
use nexuslog_metastore::keys::KeyError;
use serde_json::json;

/// Errors of API handlers, mapped to status codes; internal details are logged, not sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(KeyError),
    #[error("{0}")]
    BadRequest(String),
    #[error("log store unavailable")]
    Store(#[from] LogStoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized(KeyError::Scope(_)) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized(KeyError::Store(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Store(LogStoreError::Rejected(_)) => StatusCode::BAD_REQUEST,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let message = match &self {
            ApiError::Store(e) => {
                tracing::warn!(error = %e, "search failed");
                match e {
                    LogStoreError::Rejected(_) => "the query was rejected by the log store".to_owned(),
                    _ => "the log store is unavailable, retry later".to_owned(),
                }
            }
            ApiError::Unauthorized(KeyError::Store(e)) => {
                tracing::warn!(error = %e, "cannot verify API key");
                "authentication is temporarily unavailable".to_owned()
            }
            other => other.to_string(),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}
