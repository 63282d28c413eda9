//! Errors of the HTTP ingest path, mapped to status codes a client can act on.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexuslog_metastore::keys::KeyError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    Unauthorized(KeyError),
    #[error("request body larger than {0} bytes")]
    TooLarge(u64),
    #[error("the request body did not arrive within {0} s")]
    BodyTimeout(u64),
    #[error("{0}")]
    BadRequest(String),
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    #[error("ingest is overloaded, retry later")]
    Overloaded,
    #[error("the bus is unavailable, retry later")]
    Unavailable,
    #[error("indexing is {0} records behind; retry later")]
    Backlogged(u64),
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let (status, retry_after) = match &self {
            GatewayError::Unauthorized(KeyError::Scope(_)) => (StatusCode::FORBIDDEN, None),
            GatewayError::Unauthorized(KeyError::Store(_)) => (StatusCode::SERVICE_UNAVAILABLE, Some(5)),
            GatewayError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, None),
            GatewayError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, None),
            GatewayError::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, None),
            GatewayError::BadRequest(_) => (StatusCode::BAD_REQUEST, None),
            GatewayError::RateLimited { retry_after_secs } => (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after_secs)),
            GatewayError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, Some(1)),
            GatewayError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Some(5)),
            GatewayError::Backlogged(_) => (StatusCode::SERVICE_UNAVAILABLE, Some(1)),
        };
        // Internal details (store errors) are logged by the handler, never sent.
        let message = match &self {
            GatewayError::Unauthorized(KeyError::Store(_)) => "authentication is temporarily unavailable".to_owned(),
            other => other.to_string(),
        };
        let mut resp = (status, Json(json!({ "error": message }))).into_response();
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
