//! `POST /v1/logs/bulk`, and the steps every HTTP ingest protocol shares (`es`, `otlp`, `hec`,
//! `loki` use them too): credentials, admission, quota, the write, and keeping refused input.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nexuslog_bus::BusError;
use nexuslog_metastore::keys::Scope;
use nexuslog_metastore::{ApiKey, KeyCache};
use nexuslog_schemas::SourceKind;
use nexuslog_state::StateStore;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::body::{decompress, split_events, LineError};
use crate::error::GatewayError;
use crate::ingest::{Event, Ingest, IngestError, Refused};
use crate::quota::SharedQuota;

/// Limits of the HTTP ingest path.
#[derive(Debug, Clone)]
pub struct GatewayLimits {
    pub max_body_bytes: u64,
    pub max_event_bytes: u64,
    /// Events per second per API key (bursts up to one second's worth); `None`: no limit.
    pub events_per_sec_per_key: Option<NonZeroU32>,
    /// Requests being read and produced at once; more are answered 503 instead of queueing.
    pub max_in_flight: usize,
    /// Longest a request body may take to arrive, counted from when the key was accepted; a
    /// slower body is answered 408 and its connection closed.
    pub body_read_timeout: Duration,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 << 20,
            max_event_bytes: 1 << 20,
            events_per_sec_per_key: None,
            max_in_flight: 256,
            body_read_timeout: Duration::from_secs(60),
        }
    }
}

/// Shared state of the gateway's handlers.
pub struct Gateway {
    ingest: Ingest,
    keys: KeyCache,
    limits: GatewayLimits,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    /// The replicas' shared stage of the per-key limit (with `limiter`, when a state store is
    /// given).
    shared_quota: Option<SharedQuota>,
    /// Where the first receive time of an `Idempotency-Key` is kept for retries.
    state: Option<Arc<dyn StateStore>>,
    in_flight: Semaphore,
}

impl Gateway {
    pub fn new(ingest: Ingest, keys: KeyCache, limits: GatewayLimits) -> Arc<Self> {
        Arc::new(Self::build(ingest, keys, limits, None))
    }

    /// A gateway whose per-key limit is shared with every replica using `state`, and whose
    /// idempotent retries keep their first receive time there.
    pub fn with_state(ingest: Ingest, keys: KeyCache, limits: GatewayLimits, state: Arc<dyn StateStore>) -> Arc<Self> {
        Arc::new(Self::build(ingest, keys, limits, Some(state)))
    }

    pub(crate) fn limits(&self) -> &GatewayLimits {
        &self.limits
    }

    fn build(ingest: Ingest, keys: KeyCache, limits: GatewayLimits, state: Option<Arc<dyn StateStore>>) -> Self {
        Self {
            ingest,
            keys,
            limiter: limits.events_per_sec_per_key.map(|rate| RateLimiter::keyed(Quota::per_second(rate))),
            shared_quota: state.clone().zip(limits.events_per_sec_per_key).map(|(state, rate)| SharedQuota::new(state, rate.get())),
            state,
            in_flight: Semaphore::new(limits.max_in_flight.max(1)),
            limits,
        }
    }
}

/// How long the receive time of an idempotent request is kept: retries come within minutes,
/// a client's outage may last a day.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(48 * 3600);

/// The receive time of a request: now, or for a retry of an `Idempotency-Key` request the time
/// its first attempt was received. A retry after UTC midnight must go to the first attempt's
/// daily index, where its events (same ids) overwrite instead of being indexed a second time.
/// When the store does not answer, now (a retry across midnight may then duplicate: logged).
async fn received_at(gw: &Gateway, project: &str, key_id: &str, idempotency: Option<&str>) -> i64 {
    let now = nexuslog_common::now_micros();
    let (Some(state), Some(idem)) = (&gw.state, idempotency) else { return now };
    let slot = format!("idem:{project}:{key_id}:{idem}");
    match state.get_or_set(&slot, now.to_string().as_bytes(), Some(IDEMPOTENCY_TTL)).await {
        Ok(None) => now,
        Ok(Some(first)) => std::str::from_utf8(&first).ok().and_then(|s| s.parse().ok()).unwrap_or(now),
        Err(e) => {
            tracing::warn!(error = %e, "idempotency store unavailable; using the current receive time");
            now
        }
    }
}

/// The gateway's routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/logs/bulk", post(bulk))
        .with_state(gateway.clone())
        .merge(crate::es::router(gateway.clone()))
        .merge(crate::otlp::router(gateway.clone()))
        .merge(crate::otlp_grpc::router(gateway.clone()))
        .merge(crate::hec::router(gateway.clone()))
        .merge(crate::loki::router(gateway))
}

/// Ingest id of the `index`-th event of a request: random (time-ordered) normally; derived from
/// the project, the API key, the client's idempotency key and the position when the client sent
/// one. The API key is part of it so that two clients of a project choosing the same
/// idempotency value (`batch-1`) cannot overwrite each other's events.
fn ingest_id(project: &str, key_id: &str, idempotency_key: Option<&str>, index: usize) -> String {
    match idempotency_key {
        Some(k) => uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{project}\u{0}{key_id}\u{0}{k}\u{0}{index}").as_bytes()).to_string(),
        None => nexuslog_common::new_ingest_id(),
    }
}

/// The API key a request presents.
pub fn presented_key(headers: &HeaderMap) -> &str {
    let get = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    nexuslog_metastore::keys::presented(get(header::AUTHORIZATION.as_str()), get("x-api-key"))
}

/// The NexusLog key a request presents, in each form the ingest protocols' clients send:
/// `Bearer <key>`, `ApiKey <key>` or Elasticsearch's base64 of `<id>:<key>`, `Basic` with the
/// key as password (Loki, OpenSearch clients), `Splunk <key>` (HEC), or `X-API-Key`.
pub(crate) fn credentials(headers: &HeaderMap) -> Cow<'_, str> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
    let value = value.trim();
    let decoded = || base64::engine::general_purpose::STANDARD.decode(value).ok().and_then(|b| String::from_utf8(b).ok());
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => decoded().and_then(|s| s.split_once(':').map(|(_, password)| password.to_owned())).map_or(Cow::Borrowed(""), Cow::Owned),
        "apikey" | "splunk" if value.starts_with(nexuslog_metastore::keys::KEY_PREFIX) => Cow::Borrowed(value),
        "apikey" => decoded().map(|s| s.split_once(':').map_or(s.clone(), |(_, k)| k.to_owned())).map_or(Cow::Borrowed(""), Cow::Owned),
        "splunk" => Cow::Borrowed(value),
        _ => Cow::Borrowed(presented_key(headers)),
    }
}

fn ingest_error(e: &IngestError) -> GatewayError {
    match e {
        IngestError::Bus(BusError::QueueFull) => GatewayError::Overloaded,
        IngestError::TooLarge { .. } => GatewayError::BadRequest(e.to_string()),
        IngestError::Bus(BusError::Rejected(reason)) => GatewayError::BadRequest(format!("the bus refused the events: {reason}")),
        _ => GatewayError::Unavailable,
    }
}

/// Reads a request body of at most `limit` bytes within `timeout`. A declared length over the
/// limit is refused before anything is read.
async fn read_body(headers: &HeaderMap, body: Body, limit: u64, timeout: Duration) -> Result<Bytes, GatewayError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(GatewayError::TooLarge(limit));
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut buf = bytes::BytesMut::with_capacity(usize::try_from(declared.unwrap_or(0)).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| GatewayError::BadRequest(format!("cannot read the request body: {e}")))?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(GatewayError::TooLarge(limit));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    tokio::time::timeout(timeout, read).await.unwrap_or_else(|_| {
        metrics::counter!("nexuslog_gateway_body_timeouts_total").increment(1);
        Err(GatewayError::BodyTimeout(timeout.as_secs()))
    })
}

/// A request admitted to the ingest path: its key, its slot among the requests in flight, and
/// its body (decompressed, within the size limits).
pub(crate) struct Admitted<'a> {
    pub key: ApiKey,
    pub body: Vec<u8>,
    pub(crate) _slot: SemaphorePermit<'a>,
}

/// The checks every ingest protocol shares, cheapest first. The key is checked from the headers
/// before a byte of the body is read, so an unknown caller cannot make the gateway buffer (or
/// wait for) a body: its request is answered 401 and the connection closed with the body unread.
pub(crate) async fn admit<'a>(gw: &'a Gateway, presented: &str, headers: &HeaderMap, body: Body) -> Result<Admitted<'a>, GatewayError> {
    let key = gw.keys.verify(presented, Scope::Ingest).await.map_err(|e| {
        if let nexuslog_metastore::keys::KeyError::Store(err) = &e {
            tracing::warn!(error = %err, "cannot verify API key");
        }
        GatewayError::Unauthorized(e)
    })?;
    // Before the body is read: a refused request costs the gateway nothing.
    if let Some(behind) = gw.ingest.backlog().over() {
        metrics::counter!("nexuslog_gateway_backlog_holds_total", "source" => "http").increment(1);
        return Err(GatewayError::Backlogged(behind));
    }
    let Ok(slot) = gw.in_flight.try_acquire() else {
        metrics::counter!("nexuslog_gateway_shed_total").increment(1);
        return Err(GatewayError::Overloaded);
    };
    let body = read_body(headers, body, gw.limits.max_body_bytes, gw.limits.body_read_timeout).await?;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let body = decompress(encoding, &body, gw.limits.max_body_bytes).map_err(|e| match e {
        None => GatewayError::TooLarge(gw.limits.max_body_bytes),
        Some(reason) => GatewayError::BadRequest(reason),
    })?;
    Ok(Admitted { key, body, _slot: slot })
}

/// Takes `n` events from the key's rate (this replica's, then the replicas' shared one).
pub(crate) async fn take_quota(gw: &Gateway, key: &ApiKey, n: usize) -> Result<(), GatewayError> {
    if let (Some(limiter), Some(n)) = (&gw.limiter, NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX))) {
        match limiter.check_key_n(&key.id, n) {
            Ok(Ok(())) => {}
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
                return Err(GatewayError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
            }
            Err(_insufficient) => {
                return Err(GatewayError::BadRequest(format!("{n} events exceed the per-second quota of this key; split the request")));
            }
        }
    }
    if let Some(shared) = &gw.shared_quota {
        if let Err(wait) = shared.take(&key.id, n as u64).await {
            return Err(GatewayError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
        }
    }
    Ok(())
}

/// The receiver's fields of every event a key sends: which key (and data source) sent it, for
/// filtering by source; set here, never by the event.
pub(crate) fn provenance(key: &ApiKey) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::from([("ingest.api_key".to_owned(), key.name.clone())]);
    if !key.source.is_empty() {
        metadata.insert("ingest.data_source".to_owned(), key.source.clone());
    }
    metadata
}

/// Writes the events and answers once the bus acknowledged every one.
pub(crate) async fn write(gw: &Gateway, source: SourceKind, label: &'static str, peer: SocketAddr, batch: Vec<Event>, received_at: i64) -> Result<usize, GatewayError> {
    let remote = peer.to_string();
    let accepted = gw.ingest.send_received_at(source, Some(&remote), batch, received_at).await.map_err(|e| {
        tracing::warn!(error = %e, "produce failed; answering 503");
        metrics::counter!("nexuslog_gateway_produce_errors_total").increment(1);
        ingest_error(&e)
    })?;
    metrics::counter!("nexuslog_gateway_events_accepted_total", "source" => label).increment(accepted as u64);
    Ok(accepted)
}

/// Events of `key`'s project, each with a fresh ingest id and the receiver's fields.
pub(crate) fn fresh_events(key: &ApiKey, payloads: impl IntoIterator<Item = Vec<u8>>) -> Vec<Event> {
    let metadata = provenance(key);
    payloads.into_iter().map(|payload| Event { ingest_id: nexuslog_common::new_ingest_id(), project_id: key.project_id.clone(), payload, metadata: metadata.clone() }).collect()
}

/// Counts and dead-letters what a request refused, once its accepted events are written: the
/// answer must then report them written even if keeping the refused part fails (logged).
pub(crate) async fn keep_refused(gw: &Gateway, key: &ApiKey, label: &'static str, refused: &[LineError]) -> bool {
    if refused.is_empty() {
        return true;
    }
    metrics::counter!("nexuslog_gateway_events_rejected_total", "source" => label).increment(refused.len() as u64);
    match dead_letter(gw, &key.project_id, refused).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = ?e, source = label, refused = refused.len(), "events written, but the refused input could not be dead-lettered");
            metrics::counter!("nexuslog_gateway_dead_letter_errors_total").increment(1);
            false
        }
    }
}

async fn bulk(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, GatewayError> {
    let Admitted { key, body, _slot } = admit(&gw, &credentials(&headers), &headers, body).await?;
    let max_event = usize::try_from(gw.limits.max_event_bytes).unwrap_or(usize::MAX);
    let (events, rejected) = split_events(&body, max_event).map_err(GatewayError::BadRequest)?;
    if events.is_empty() && !rejected.is_empty() {
        dead_letter(&gw, &key.project_id, &rejected).await?;
        return Err(GatewayError::BadRequest(format!("no valid event in the request; first problem: line {}: {}", rejected[0].line, rejected[0].reason)));
    }
    take_quota(&gw, &key, events.len()).await?;

    let idempotency = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).filter(|s| !s.is_empty());
    let metadata = provenance(&key);
    let batch: Vec<Event> = events
        .into_iter()
        .enumerate()
        .map(|(index, e)| Event {
            ingest_id: ingest_id(&key.project_id, &key.id, idempotency, index),
            project_id: key.project_id.clone(),
            payload: e.bytes,
            metadata: metadata.clone(),
        })
        .collect();
    let received_at = received_at(&gw, &key.project_id, &key.id, idempotency).await;
    let accepted = write(&gw, SourceKind::Http, "http", peer, batch, received_at).await?;
    let rejected_json: Vec<Value> = rejected.iter().map(|r| json!({ "line": r.line, "reason": r.reason })).collect();
    let mut answer = json!({ "accepted": accepted, "rejected": rejected_json });
    // Said in the answer: a retrying client would otherwise write the accepted events twice.
    if !keep_refused(&gw, &key, "http", &rejected).await {
        answer["dead_lettered"] = Value::Bool(false);
    }
    Ok(Json(answer))
}

/// Writes refused lines to the dead-letter topic (acknowledged before the client is answered).
pub(crate) async fn dead_letter(gw: &Gateway, project: &str, rejected: &[LineError]) -> Result<(), GatewayError> {
    let refused = rejected
        .iter()
        .map(|r| Refused {
            project_id: Some(project.to_owned()),
            reason: format!("line {}: {}", r.line, r.reason),
            error_kind: if r.reason.starts_with("invalid JSON") { "invalid_json" } else { "invalid_event" },
            original: r.original.clone(),
        })
        .collect();
    gw.ingest.dead_letter(refused).await.map_err(|e| ingest_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_derives_stable_ids() {
        assert_eq!(ingest_id("p", "k", Some("req-1"), 3), ingest_id("p", "k", Some("req-1"), 3));
        assert_ne!(ingest_id("p", "k", Some("req-1"), 3), ingest_id("p", "k", Some("req-1"), 4));
        assert_ne!(ingest_id("p", "k", Some("req-1"), 3), ingest_id("q", "k", Some("req-1"), 3));
        assert_ne!(ingest_id("p", "k", None, 0), ingest_id("p", "k", None, 0));
    }

    #[test]
    fn two_keys_of_a_project_reusing_an_idempotency_value_get_distinct_ids() {
        assert_ne!(ingest_id("p", "key-a", Some("batch-1"), 0), ingest_id("p", "key-b", Some("batch-1"), 0));
    }

    #[test]
    fn credentials_in_each_form_give_the_key() {
        let with = |auth: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, axum::http::HeaderValue::from_str(auth).expect("header"));
            credentials(&h).into_owned()
        };
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(with("ApiKey nxl_abcdefgh123"), "nxl_abcdefgh123");
        assert_eq!(with(&format!("ApiKey {}", b64("id1:nxl_abcdefgh123"))), "nxl_abcdefgh123");
        assert_eq!(with(&format!("Basic {}", b64("elastic:nxl_abcdefgh123"))), "nxl_abcdefgh123");
        assert_eq!(with("Bearer nxl_abcdefgh123"), "nxl_abcdefgh123");
        assert_eq!(with("Splunk nxl_abcdefgh123"), "nxl_abcdefgh123");
        assert_eq!(with("Basic !!!"), "");
    }
}
