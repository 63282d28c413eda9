//! OTLP logs over gRPC: `opentelemetry.proto.collector.logs.v1.LogsService/Export`, the unary
//! call the OpenTelemetry SDKs' and Collector's `otlp` exporters make (port 4317 by convention).
//!
//! gRPC is HTTP/2 with a 5-byte frame around each protobuf message and the status in trailers,
//! so it is served by the same server and the same checks as OTLP/HTTP (`otlp::accept`): the
//! key from the `authorization` metadata, the body limits and deadlines, the acknowledgment
//! before the answer. The route is on the HTTP port (HTTP/2 without TLS, "prior knowledge", as
//! gRPC clients with `insecure` speak it) and, with `http.otlp_grpc_addr`, on a port of its own.
//!
//! Refusals are gRPC statuses chosen for how OTLP exporters react to them: a busy gateway is
//! `UNAVAILABLE`, which they retry with backoff; a malformed request is `INVALID_ARGUMENT`,
//! which they drop; a bad key is `UNAUTHENTICATED`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::{BufMut, Bytes, BytesMut};
use http_body::Frame;
use nexuslog_metastore::keys::KeyError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message as _;

use crate::body::decompress;
use crate::error::GatewayError;
use crate::http::Gateway;

/// The gRPC method's path.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// Message encodings this server reads (`grpc-encoding`), announced in `grpc-accept-encoding`.
const ACCEPTED_ENCODINGS: &str = "identity,gzip,zstd";

/// gRPC status codes used here (grpc/doc/statuscodes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Code {
    Ok = 0,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    Unimplemented = 12,
    Unavailable = 14,
    Unauthenticated = 16,
}

/// The gRPC logs export route.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().route(EXPORT_PATH, post(export)).with_state(gateway)
}

async fn export(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    // gRPC's rule: a request that is not gRPC at all gets an HTTP status, not a gRPC one.
    if !content_type.starts_with("application/grpc") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected content-type application/grpc").into_response();
    }
    if content_type.starts_with("application/grpc+") && content_type != "application/grpc+proto" {
        return status(Code::Unimplemented, &format!("unsupported message format {content_type:?}; use protobuf"));
    }
    let encoding = headers.get("grpc-encoding").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let limit = gw.limits().max_body_bytes;
    match crate::otlp::accept(&gw, peer, &headers, body, |bytes, max_event| unframe(bytes, encoding.as_deref(), limit, max_event)).await {
        Ok(answer) => reply(&answer),
        Err(e) => {
            let (code, message) = code_of(&e);
            status(code, &message)
        }
    }
}

/// The one protobuf message of a unary call: the 5-byte prefix (compressed flag, big-endian
/// length), then the message, decompressed with the call's `grpc-encoding` when flagged.
fn unframe(body: &[u8], encoding: Option<&str>, limit: u64, max_event: usize) -> Result<crate::otlp::Records, GatewayError> {
    let bad = |why: String| GatewayError::BadRequest(format!("not a gRPC OTLP logs request: {why}"));
    let [flag, a, b, c, d, message @ ..] = body else {
        return Err(bad(format!("{} bytes, shorter than the 5-byte message prefix", body.len())));
    };
    let declared = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
    if message.len() != declared {
        return Err(bad(format!("the prefix declares {declared} bytes, the call carries {} (a unary call has exactly one message)", message.len())));
    }
    let inflated;
    let message = match flag {
        0 => message,
        1 => {
            let Some(encoding) = encoding.filter(|e| *e != "identity") else {
                return Err(bad("a compressed message without a grpc-encoding".into()));
            };
            inflated = decompress(Some(encoding), message, limit).map_err(|e| match e {
                None => GatewayError::TooLarge(limit),
                Some(reason) => bad(reason),
            })?;
            &inflated[..]
        }
        other => return Err(bad(format!("compressed flag {other}, expected 0 or 1"))),
    };
    crate::otlp::protobuf_records(message, max_event).map_err(|e| bad(format!("protobuf: {e}")))
}

/// The gRPC status of a refused call, and its message.
fn code_of(e: &GatewayError) -> (Code, String) {
    let code = match e {
        GatewayError::Unauthorized(KeyError::Scope(_)) => Code::PermissionDenied,
        GatewayError::Unauthorized(KeyError::Store(_)) => Code::Unavailable,
        GatewayError::Unauthorized(_) => Code::Unauthenticated,
        GatewayError::TooLarge(_) => Code::ResourceExhausted,
        GatewayError::BodyTimeout(_) => Code::DeadlineExceeded,
        GatewayError::BadRequest(_) => Code::InvalidArgument,
        GatewayError::RateLimited { .. } | GatewayError::Overloaded | GatewayError::Unavailable | GatewayError::Backlogged(_) => Code::Unavailable,
    };
    let message = match e {
        GatewayError::Unauthorized(KeyError::Store(_)) => "authentication is temporarily unavailable".to_owned(),
        other => other.to_string(),
    };
    (code, message)
}

/// A successful call: the framed answer, then `grpc-status: 0` in the trailers.
fn reply(answer: &ExportLogsServiceResponse) -> Response {
    let message = answer.encode_to_vec();
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
    framed.put_slice(&message);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut r = Response::new(Body::new(Unary { data: Some(framed.freeze()), trailers: Some(trailers) }));
    grpc_headers(r.headers_mut());
    r
}

/// A refused call, "trailers-only": the status in the response headers and no message.
fn status(code: Code, message: &str) -> Response {
    debug_assert_ne!(code, Code::Ok);
    let mut r = Response::new(Body::empty());
    let headers = r.headers_mut();
    grpc_headers(headers);
    headers.insert("grpc-status", HeaderValue::from(u16::from(code as u8)));
    if let Ok(v) = HeaderValue::from_str(&percent_encode(message)) {
        headers.insert("grpc-message", v);
    }
    r
}

fn grpc_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-accept-encoding", HeaderValue::from_static(ACCEPTED_ENCODINGS));
}

/// `grpc-message` is percent-encoded: bytes outside printable ASCII, and `%` itself.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response body of one data frame, then trailers: what a unary gRPC answer is.
struct Unary {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for Unary {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    use super::*;

    fn framed(flag: u8, message: &[u8]) -> Vec<u8> {
        let mut out = vec![flag];
        out.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
        out.extend_from_slice(message);
        out
    }

    fn request() -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs { log_records: vec![LogRecord { severity_text: "INFO".into(), ..Default::default() }], ..Default::default() }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn plain_and_gzip_messages_unframe_and_bad_frames_are_invalid_arguments() {
        let req = request();
        let bytes = req.encode_to_vec();
        let expected = crate::otlp::protobuf_records(&bytes, 1 << 20).expect("a valid request").0;
        assert_eq!(expected.len(), 1);
        assert_eq!(unframe(&framed(0, &bytes), None, 1 << 20, 1 << 20).expect("plain").0, expected);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).expect("gzip");
        let gz = gz.finish().expect("gzip");
        assert_eq!(unframe(&framed(1, &gz), Some("gzip"), 1 << 20, 1 << 20).expect("gzip").0, expected);
        for (body, encoding) in [
            (vec![0, 0, 0], None),                                  // shorter than the prefix
            (framed(0, &bytes)[..6].to_vec(), None),                // truncated message
            ([framed(0, &bytes), framed(0, &bytes)].concat(), None), // two messages
            (framed(1, &gz), None),                                 // compressed, no encoding
            (framed(2, &bytes), None),                              // unknown flag
            (framed(0, b"\xff\xff\xff"), None),                     // not protobuf
        ] {
            let e = unframe(&body, encoding, 1 << 20, 1 << 20).expect_err("refused");
            assert_eq!(code_of(&e).0, Code::InvalidArgument, "{e}");
        }
        let e = unframe(&framed(1, &gz), Some("gzip"), 4, 1 << 20).expect_err("inflates past the limit");
        assert_eq!(code_of(&e).0, Code::ResourceExhausted);
    }

    #[test]
    fn busy_refusals_are_retryable_and_bad_keys_unauthenticated() {
        for busy in [GatewayError::Overloaded, GatewayError::Backlogged(5), GatewayError::RateLimited { retry_after_secs: 1 }, GatewayError::Unavailable] {
            assert_eq!(code_of(&busy).0, Code::Unavailable);
        }
        assert_eq!(code_of(&GatewayError::Unauthorized(KeyError::Invalid)).0, Code::Unauthenticated);
    }

    #[test]
    fn a_refusal_is_trailers_only_with_an_encoded_message() {
        let r = status(Code::InvalidArgument, "bad 100% ünïcode");
        assert_eq!(r.status(), StatusCode::OK, "gRPC statuses travel in the headers, not the HTTP status");
        assert_eq!(r.headers()["grpc-status"], "3");
        assert_eq!(r.headers()["grpc-message"], "bad 100%25 %C3%BCn%C3%AFcode");
        assert_eq!(r.headers()["content-type"], "application/grpc");
    }
}
