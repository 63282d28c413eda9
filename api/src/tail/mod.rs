//! Live tail: records pushed as they leave the processors, filtered by the query language, as
//! Server-Sent Events (`GET …/tail`) or over a WebSocket (`GET …/tail/ws`).
//!
//! Each open tail re-checks its credential twice a second and closes (`event: closed`) once the
//! key is revoked or the session ended. A session's tail lives as long as the session, not as
//! long as the 15-minute access token that opened it (a console left tailing is not cut off
//! every quarter hour). Records a slow client could not take are announced as `event: skipped`
//! with their count; a comment is sent at once (so the client knows it is subscribed before the
//! first record) and a heartbeat every 15 s.

mod hub;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::Stream;
use serde::Deserialize;
use serde_json::json;

pub use hub::{Refused, Subscription, TailHub, TailLimits};

use crate::authz::{Caller, Principal};
use crate::extract::QueryParams;
use crate::{Api, ApiError};

const HEARTBEAT: Duration = Duration::from_secs(15);
const RECHECK: Duration = Duration::from_millis(500);

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TailParams {
    #[serde(default)]
    q: String,
    /// For `/v1/tail`: which project (keys use their own).
    #[allow(dead_code)]
    project: Option<String>,
}

fn open(api: &Arc<Api>, caller: &Caller, q: &str) -> Result<Subscription, ApiError> {
    let hub = api.tail.as_ref().ok_or_else(|| ApiError::Unavailable("the live tail is not running on this API instance".into()))?;
    let query = nexuslog_query::parse(q)?;
    let project = caller.project()?;
    let (actor, _) = caller.principal.as_ref().map(crate::authz::Principal::actor).unwrap_or_default();
    hub.subscribe(&project.id, query, &actor).map_err(|r| match r {
        Refused::PerCaller(n) => ApiError::TooMany(format!("at most {n} live tails per user or key (tail.max_per_caller)")),
        Refused::PerInstance(n) => ApiError::TooMany(format!("this API instance serves at most {n} live tails (tail.max_per_instance)")),
    })
}

fn presented(headers: &HeaderMap) -> String {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    nexuslog_metastore::keys::presented(get("authorization"), get("x-api-key")).to_owned()
}

/// What an open tail sends next.
enum Next {
    Record(Arc<serde_json::Value>),
    Skipped(u64),
    Closed(&'static str),
}

struct Tail {
    api: Arc<Api>,
    presented: String,
    /// (session id, user id) for a signed-in user: what the re-check looks up.
    session: Option<(String, String)>,
    sub: Subscription,
    pending: Option<Arc<serde_json::Value>>,
    check: tokio::time::Interval,
    closed: bool,
}

impl Tail {
    fn new(api: Arc<Api>, caller: &Caller, presented: String, sub: Subscription) -> Self {
        let mut check = tokio::time::interval(RECHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let session = match &caller.principal {
            Some(Principal::User { id, session_id, .. }) => Some((session_id.clone(), id.clone())),
            _ => None,
        };
        Self { api, presented, session, sub, pending: None, check, closed: false }
    }

    /// False once the key is revoked or expired, or the session ended. A store that cannot
    /// answer keeps the tail open (it is re-checked half a second later).
    async fn still_allowed(&self) -> bool {
        let verdict = match &self.session {
            Some((sid, user)) => self.api.sessions.live_user(sid).await.map(|live| live.as_ref() == Some(user)).map_err(|e| e.to_string()),
            None => match self.api.keys.key(&self.presented).await {
                Ok(_) => Ok(true),
                Err(nexuslog_metastore::keys::KeyError::Store(e)) => Err(e.to_string()),
                Err(_) => Ok(false),
            },
        };
        verdict.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot re-check a live tail's credential; it stays open");
            true
        })
    }

    async fn next(&mut self) -> Option<Next> {
        if self.closed {
            return None;
        }
        if let Some(v) = self.pending.take() {
            return Some(Next::Record(v));
        }
        loop {
            tokio::select! {
                item = self.sub.rx.recv() => {
                    let v = item?;
                    let skipped = self.sub.take_skipped();
                    if skipped > 0 {
                        self.pending = Some(v);
                        return Some(Next::Skipped(skipped));
                    }
                    return Some(Next::Record(v));
                }
                _ = self.check.tick() => {
                    if !self.still_allowed().await {
                        self.closed = true;
                        return Some(Next::Closed("the credential was revoked or the session ended"));
                    }
                    let skipped = self.sub.take_skipped();
                    if skipped > 0 {
                        return Some(Next::Skipped(skipped));
                    }
                }
            }
        }
    }
}

fn sse_event(n: &Next) -> Event {
    match n {
        Next::Record(v) => Event::default().data(v.to_string()),
        Next::Skipped(count) => Event::default().event("skipped").data(json!({ "count": count }).to_string()),
        Next::Closed(reason) => Event::default().event("closed").data(json!({ "reason": reason }).to_string()),
    }
}

/// `GET /v1/projects/{project}/tail?q=…` (and `/v1/tail`): Server-Sent Events.
pub async fn sse(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    QueryParams(p): QueryParams<TailParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let sub = open(&api, &caller, &p.q)?;
    let tail = Tail::new(api, &caller, presented(&headers), sub);
    let records = futures::stream::unfold(tail, |mut t| async move {
        let n = t.next().await?;
        Some((Ok(sse_event(&n)), t))
    });
    let subscribed = futures::stream::once(std::future::ready(Ok(Event::default().comment("subscribed"))));
    let stream = futures::StreamExt::chain(subscribed, records);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}

/// `GET /v1/projects/{project}/tail/ws?q=…`: the same over a WebSocket; each text message is
/// one record, or `{"skipped": N}`, or `{"closed": reason}`; pings every 15 s.
pub async fn ws(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    QueryParams(p): QueryParams<TailParams>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let sub = open(&api, &caller, &p.q)?;
    let tail = Tail::new(api, &caller, presented(&headers), sub);
    Ok(upgrade.on_upgrade(move |socket| serve_ws(socket, tail)).into_response())
}

async fn serve_ws(mut socket: WebSocket, mut tail: Tail) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        let text = tokio::select! {
            n = tail.next() => match n {
                Some(Next::Record(v)) => v.to_string(),
                Some(Next::Skipped(count)) => json!({ "skipped": count }).to_string(),
                Some(Next::Closed(reason)) => {
                    let _ = socket.send(Message::Text(json!({ "closed": reason }).to_string().into())).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                None => return,
            },
            _ = heartbeat.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
                continue;
            }
            incoming = socket.recv() => match incoming {
                // The client left (or broke the connection): the subscription ends with us.
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
}
