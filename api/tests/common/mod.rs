//! An API in process, on SQLite, in-memory state and a given log store, called through
//! `Router::oneshot` (the real router, middleware and handlers; no network).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use nexuslog_api::{Api, AuthSettings};
use nexuslog_logstore::LogStore;
use nexuslog_metastore::{KeyCache, MetaStore, SqliteMetaStore, User};
use serde_json::Value;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct Harness {
    pub router: Router,
    pub meta: Arc<dyn MetaStore>,
    pub store: Arc<dyn LogStore>,
    _dir: tempfile::TempDir,
}

pub async fn harness(store: Arc<dyn LogStore>) -> Harness {
    harness_with(store, AuthSettings::default()).await
}

pub async fn harness_with(store: Arc<dyn LogStore>, auth: AuthSettings) -> Harness {
    harness_full(store, auth, Default::default()).await
}

/// With a given notification sender (a mail server for invitations).
pub async fn harness_full(store: Arc<dyn LogStore>, auth: AuthSettings, sender: nexuslog_notify::Sender) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta: Arc<dyn MetaStore> = Arc::new(SqliteMetaStore::open(&dir.path().join("meta.sqlite")).expect("sqlite"));
    meta.migrate().await.expect("migrate");
    let state = Arc::new(nexuslog_state::MemoryState::new());
    let api = Api::new(store.clone(), meta.clone(), state, KeyCache::new(meta.clone()), auth, sender, Some(nexuslog_api::tail::TailHub::new(Default::default()))).await.expect("api");
    Harness { router: nexuslog_api::router(api), meta, store, _dir: dir }
}

/// `n` API replicas over one metadata store (SQLite) and one shared state store, as a
/// distributed deployment runs them over PostgreSQL and Redis.
pub async fn replicas(store: Arc<dyn LogStore>, state: Arc<dyn nexuslog_state::StateStore>, n: usize) -> (Vec<Harness>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta: Arc<dyn MetaStore> = Arc::new(SqliteMetaStore::open(&dir.path().join("meta.sqlite")).expect("sqlite"));
    meta.migrate().await.expect("migrate");
    let mut out = Vec::new();
    for _ in 0..n {
        let api = Api::new(store.clone(), meta.clone(), state.clone(), KeyCache::new(meta.clone()), AuthSettings::default(), Default::default(), None).await.expect("api");
        out.push(Harness { router: nexuslog_api::router(api), meta: meta.clone(), store: store.clone(), _dir: tempfile::tempdir().expect("tempdir") });
    }
    (out, dir)
}

/// One Argon2 hash of [`PASSWORD`] for every test user: hashing is deliberately slow.
pub fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| nexuslog_metastore::passwords::hash(PASSWORD).expect("hash")).clone()
}

pub async fn user(meta: &dyn MetaStore, email: &str, is_admin: bool) -> User {
    let u = User {
        id: nexuslog_metastore::new_id(),
        email: email.into(),
        name: email.into(),
        password_hash: password_hash(),
        is_admin,
        created_at: nexuslog_metastore::now(),
        disabled_at: None,
    };
    meta.create_user(&u).await.expect("create user");
    u
}

impl Harness {
    pub async fn call(&self, method: Method, uri: &str, bearer: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        self.call_from(None, method, uri, bearer, body).await.0
    }

    /// [`Self::call`] from a given client address (what the server's `ConnectInfo` would carry);
    /// also returns the `Retry-After` header.
    pub async fn call_from(&self, ip: Option<&str>, method: Method, uri: &str, bearer: Option<&str>, body: Option<Value>) -> ((StatusCode, Value), Option<String>) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ip) = ip {
            let addr: std::net::SocketAddr = format!("{ip}:40000").parse().expect("an IPv4 address");
            req = req.extension(axum::extract::ConnectInfo(addr));
        }
        if let Some(t) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let retry_after = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // A live tail streams until the client leaves: its status is the answer here.
        if resp.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream")) {
            return ((status, Value::Null), retry_after);
        }
        let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20).await.expect("body");
        ((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)), retry_after)
    }

    /// Logs in through the API; returns (access token, refresh token).
    pub async fn login(&self, email: &str) -> (String, String) {
        let (status, body) = self.call(Method::POST, "/v1/auth/login", None, Some(serde_json::json!({ "email": email, "password": PASSWORD }))).await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
    }

    /// A key row for a project (not stored yet) and its secret.
    pub fn key_row(project_id: &str, scopes: &str) -> (nexuslog_metastore::ApiKey, String) {
        let new = nexuslog_metastore::keys::generate();
        let row = nexuslog_metastore::ApiKey {
            id: nexuslog_metastore::new_id(),
            project_id: project_id.into(),
            name: format!("{scopes} key"),
            source: String::new(),
            prefix: new.prefix,
            key_hash: new.hash,
            scopes: scopes.into(),
            created_by: "test".into(),
            created_at: nexuslog_metastore::now(),
            revoked_at: None,
            last_used_at: None,
            expires_at: None,
        };
        (row, new.secret)
    }

    /// Creates a key in a project directly in the store; returns (id, secret).
    pub async fn key(&self, project_id: &str, scopes: &str, revoked: bool) -> (String, String) {
        let (mut row, secret) = Self::key_row(project_id, scopes);
        row.revoked_at = revoked.then(nexuslog_metastore::now);
        self.meta.create_api_key(&row).await.expect("key");
        (row.id, secret)
    }
}
