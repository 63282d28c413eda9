//! A signed-in user's live tail lasts as long as the session, not as long as the access token
//! that opened it; it is told at once that it is subscribed; logging out closes it.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{harness_with, user};
use futures::StreamExt;
use nexuslog_api::AuthSettings;
use nexuslog_metastore::Role;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_tail_outlives_its_access_token_and_ends_with_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    // Tokens last 1 s (plus the verifier's 5 s leeway).
    let h = harness_with(store, AuthSettings { access_token_ttl: Duration::from_secs(1), ..AuthSettings::default() }).await;
    let p = h.meta.create_project("ops", "Ops").await.unwrap();
    let u = user(h.meta.as_ref(), "tailer@ops.example", false).await;
    h.meta.set_member(&p.id, &u.id, Role::Viewer).await.unwrap();
    let (token, _) = h.login("tailer@ops.example").await;

    let req = Request::builder().uri("/v1/projects/ops/tail?q=error").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    let resp = h.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body().into_data_stream();
    let first = tokio::time::timeout(Duration::from_secs(2), body.next()).await.expect("a first message at once").unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with(": subscribed"), "{first:?}");

    // Past the token's expiry (1 s + 5 s leeway): the stream says nothing, in particular not `closed`.
    let quiet = tokio::time::timeout(Duration::from_secs(8), body.next()).await;
    assert!(quiet.is_err(), "the tail must stay open after its access token expired: {quiet:?}");
    let (status, _) = h.call(Method::GET, "/v1/projects/ops/search?q=x", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the token itself has expired");

    // Ending the session (in the store, as logout does) closes the tail within a second or so.
    let ended = Instant::now();
    h.meta.revoke_user_sessions(&u.id, None, nexuslog_metastore::now()).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), body.next()).await.expect("closed within 5 s").unwrap().unwrap();
    let text = String::from_utf8_lossy(&closed);
    assert!(text.contains("event: closed"), "{text}");
    eprintln!("closed {:?} after the session ended", ended.elapsed());
}
