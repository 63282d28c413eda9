//! The authorization matrix: every endpoint × every kind of caller, expected allow or deny,
//! from one table. The table must name exactly the endpoints the router serves
//! (`nexuslog_api::endpoints()`), so an endpoint added without a row fails this test.
//!
//! Allowed means a 2xx answer to a well-formed request; denied means 401 (no valid
//! credential), 403 (not permitted) or 404 (a project the caller cannot see).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{user, Harness};
use nexuslog_metastore::{Invitation, Project, Role};
use serde_json::{json, Value};

/// The kinds of caller, relative to project `alpha`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    InstanceAdmin,
    Owner,
    Admin,
    Editor,
    Viewer,
    /// Owner of another project, no role in alpha.
    Outsider,
    /// alpha's key with the read scope.
    ReadKey,
    /// alpha's key with only the ingest scope.
    IngestKey,
    /// alpha's read+ingest key, revoked.
    RevokedKey,
    /// A read key of the other project.
    OtherKey,
}

const EVERYONE: &[Who] = &[
    Who::Anonymous,
    Who::InstanceAdmin,
    Who::Owner,
    Who::Admin,
    Who::Editor,
    Who::Viewer,
    Who::Outsider,
    Who::ReadKey,
    Who::IngestKey,
    Who::RevokedKey,
    Who::OtherKey,
];

/// Who is allowed, per endpoint. `"users"`: any signed-in user; `"all"`: anyone; otherwise names.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/v1/openapi.json", "all"),
    ("GET", "/v1/presets", "all"),
    ("GET", "/v1/agents/fluent-bit/install.sh", "all"),
    ("POST", "/v1/auth/login", "all"),
    ("POST", "/v1/auth/refresh", "all"),
    ("POST", "/v1/auth/logout", "users"),
    ("GET", "/v1/auth/me", "users"),
    ("POST", "/v1/auth/password", "users"),
    ("GET", "/v1/auth/sessions", "users"),
    ("DELETE", "/v1/auth/sessions/{session_id}", "users"),
    ("POST", "/v1/invitations/accept", "all"),
    ("GET", "/v1/roles", "users"),
    ("GET", "/v1/users", "instance_admin"),
    ("POST", "/v1/users", "instance_admin"),
    ("PATCH", "/v1/users/{user_id}", "instance_admin"),
    ("GET", "/v1/audit", "instance_admin"),
    ("GET", "/v1/projects", "users"),
    ("POST", "/v1/projects", "users"),
    ("GET", "/v1/projects/{project}", "instance_admin owner admin editor viewer read_key"),
    ("PATCH", "/v1/projects/{project}", "instance_admin owner admin"),
    ("DELETE", "/v1/projects/{project}", "instance_admin owner"),
    ("GET", "/v1/projects/{project}/members", "instance_admin owner admin editor viewer"),
    ("PUT", "/v1/projects/{project}/members/{user_id}", "instance_admin owner admin"),
    ("DELETE", "/v1/projects/{project}/members/{user_id}", "instance_admin owner admin"),
    ("POST", "/v1/projects/{project}/invitations", "instance_admin owner admin"),
    ("GET", "/v1/projects/{project}/api-keys", "instance_admin owner admin"),
    ("POST", "/v1/projects/{project}/api-keys", "instance_admin owner admin"),
    ("DELETE", "/v1/projects/{project}/api-keys/{key_id}", "instance_admin owner admin"),
    ("GET", "/v1/projects/{project}/audit", "instance_admin owner admin"),
    ("GET", "/v1/projects/{project}/pipeline", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/pipeline/rules", "instance_admin owner admin editor"),
    ("PUT", "/v1/projects/{project}/pipeline/rules/{rule_id}", "instance_admin owner admin editor"),
    ("DELETE", "/v1/projects/{project}/pipeline/rules/{rule_id}", "instance_admin owner admin editor"),
    ("POST", "/v1/projects/{project}/pipeline/dry-run", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/pipeline/detect", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/agents/fluent-bit", "instance_admin owner admin"),
    ("GET", "/v1/projects/{project}/redaction", "instance_admin owner admin editor viewer"),
    ("PUT", "/v1/projects/{project}/redaction", "instance_admin owner admin"),
    ("POST", "/v1/projects/{project}/redaction/dry-run", "instance_admin owner admin editor viewer"),
    ("GET", "/v1/projects/{project}/fields", "instance_admin owner admin editor viewer read_key"),
    ("GET", "/v1/projects/{project}/search", "instance_admin owner admin editor viewer read_key"),
    ("GET", "/v1/search", "instance_admin owner admin editor viewer read_key"),
    ("POST", "/v1/projects/{project}/aggregate", "instance_admin owner admin editor viewer read_key"),
    ("POST", "/v1/aggregate", "instance_admin owner admin editor viewer read_key"),
    ("GET", "/v1/projects/{project}/saved-searches", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/saved-searches", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/saved-searches/{id}", "instance_admin owner admin editor viewer"),
    ("PUT", "/v1/projects/{project}/saved-searches/{id}", "instance_admin owner admin editor"),
    ("DELETE", "/v1/projects/{project}/saved-searches/{id}", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/dashboards", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/dashboards", "instance_admin owner admin editor"),
    ("POST", "/v1/projects/{project}/dashboards/import", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/dashboards/{id}", "instance_admin owner admin editor viewer"),
    ("PUT", "/v1/projects/{project}/dashboards/{id}", "instance_admin owner admin editor"),
    ("DELETE", "/v1/projects/{project}/dashboards/{id}", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/dashboards/{id}/export", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/dashboards/{id}/render", "instance_admin owner admin editor viewer"),
    ("GET", "/v1/projects/{project}/tail", "instance_admin owner admin editor viewer read_key"),
    ("GET", "/v1/projects/{project}/tail/ws", "instance_admin owner admin editor viewer read_key"),
    ("GET", "/v1/tail", "instance_admin owner admin editor viewer read_key"),
    ("GET", "/v1/projects/{project}/alert-channels", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/alert-channels", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/alert-channels/{id}", "instance_admin owner admin editor viewer"),
    ("PUT", "/v1/projects/{project}/alert-channels/{id}", "instance_admin owner admin editor"),
    ("DELETE", "/v1/projects/{project}/alert-channels/{id}", "instance_admin owner admin editor"),
    ("POST", "/v1/projects/{project}/alert-channels/{id}/test", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/alert-rules", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/alert-rules", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/alert-rules/{id}", "instance_admin owner admin editor viewer"),
    ("PUT", "/v1/projects/{project}/alert-rules/{id}", "instance_admin owner admin editor"),
    ("DELETE", "/v1/projects/{project}/alert-rules/{id}", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/alerts", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/alerts/{id}/ack", "instance_admin owner admin editor"),
    ("GET", "/v1/projects/{project}/silences", "instance_admin owner admin editor viewer"),
    ("POST", "/v1/projects/{project}/silences", "instance_admin owner admin editor"),
    ("DELETE", "/v1/projects/{project}/silences/{id}", "instance_admin owner admin editor"),
];

fn name(w: Who) -> &'static str {
    match w {
        Who::Anonymous => "anonymous",
        Who::InstanceAdmin => "instance_admin",
        Who::Owner => "owner",
        Who::Admin => "admin",
        Who::Editor => "editor",
        Who::Viewer => "viewer",
        Who::Outsider => "outsider",
        Who::ReadKey => "read_key",
        Who::IngestKey => "ingest_key",
        Who::RevokedKey => "revoked_key",
        Who::OtherKey => "other_key",
    }
}

fn is_user(w: Who) -> bool {
    matches!(w, Who::InstanceAdmin | Who::Owner | Who::Admin | Who::Editor | Who::Viewer | Who::Outsider)
}

fn allowed(spec: &str, w: Who) -> bool {
    match spec {
        "all" => true,
        "users" => is_user(w),
        names => names.split_whitespace().any(|n| n == name(w)),
    }
}

struct World {
    h: Harness,
    alpha: Project,
    /// (who, e-mail, credential)
    callers: Vec<(Who, String, Option<String>)>,
    /// A user who is a viewer of alpha and the target of user/member changes.
    target_user: String,
    counter: std::sync::atomic::AtomicU32,
}

impl World {
    fn credential(&self, w: Who) -> Option<String> {
        self.callers.iter().find(|(c, ..)| *c == w).and_then(|(_, _, t)| t.clone())
    }

    fn email(&self, w: Who) -> String {
        self.callers.iter().find(|(c, ..)| *c == w).map(|(_, e, _)| e.clone()).unwrap_or_default()
    }

    fn fresh(&self, what: &str) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{what}-{n}")
    }

    /// A project with alpha's role holders, for calls that destroy their project.
    async fn alpha_twin(&self) -> Project {
        let p = self.h.meta.create_project(&self.fresh("twin"), "twin").await.unwrap();
        for (p_id, (u, r)) in self.h.meta.list_members(&self.alpha.id).await.unwrap().into_iter().map(|m| (p.id.clone(), m)) {
            self.h.meta.set_member(&p_id, &u.id, r).await.unwrap();
        }
        p
    }

    /// The request for an endpoint as `who` would send it: (uri, body, credential).
    async fn request(&self, method: &str, path: &str, who: Who) -> (String, Option<Value>, Option<String>) {
        let mut cred = self.credential(who);
        let mut project = self.alpha.slug.clone();
        let mut body = None;
        let mut user_id = self.target_user.clone();
        let mut key_id = String::new();
        let mut rule_id = String::new();
        let mut id = String::new();
        let mut session_id = "not-yours".to_owned();
        let channel = json!({ "name": "hook", "type": "webhook", "config": { "url": "https://93.184.216.34/hook" } });
        let search = json!({ "name": "errors", "query": "level:error", "shared": true });
        let board = json!({ "name": "board", "widgets": [{ "type": "single_value", "title": "n", "aggregation": { "count": {} }, "position": { "x": 0, "y": 0, "w": 4, "h": 2 } }] });
        let alert_rule = json!({ "name": "errors", "query": "level:error", "window": "1m", "condition": { "op": ">", "threshold": 10 } });
        let rule = json!({ "name": "tag", "steps": [ { "set": { "field": "team", "value": "web" } } ] });
        match (method, path) {
            ("POST", "/v1/auth/login") => body = Some(json!({ "email": "login@example.com", "password": common::PASSWORD })),
            ("POST", "/v1/auth/refresh") => {
                let (_, refresh) = self.h.login("login@example.com").await;
                body = Some(json!({ "refresh_token": refresh }));
            }
            // Logging out ends the session: use a session of its own, not the caller's main one.
            ("POST", "/v1/auth/logout") if is_user(who) => cred = Some(self.h.login(&self.email(who)).await.0),
            // Ends a session of the caller's own, opened for the purpose.
            ("DELETE", "/v1/auth/sessions/{session_id}") if is_user(who) => {
                let (_, refresh) = self.h.login(&self.email(who)).await;
                session_id = refresh.split('.').next().unwrap().to_owned();
            }
            ("POST", "/v1/auth/password") => body = Some(json!({ "current_password": common::PASSWORD, "new_password": common::PASSWORD })),
            ("POST", "/v1/invitations/accept") => {
                let token = nexuslog_metastore::keys::generate().secret;
                let now = nexuslog_metastore::now();
                // A signed-in caller accepts an invitation for their own address (to a project
                // of its own, so no role in alpha changes); others an e-mailed one.
                let email = if is_user(who) { self.email(who) } else { format!("{}@example.com", self.fresh("invitee")) };
                let project = self.h.meta.create_project(&self.fresh("invited"), "invited").await.unwrap();
                let inv = Invitation {
                    id: nexuslog_metastore::new_id(),
                    token_hash: nexuslog_metastore::keys::hash(&token),
                    email,
                    project_id: project.id,
                    role: Role::Viewer,
                    invited_by: "test".into(),
                    created_at: now,
                    expires_at: now + 3_600_000_000,
                    accepted_at: None,
                    emailed: true,
                };
                self.h.meta.create_invitation(&inv).await.unwrap();
                body = Some(json!({ "token": token, "password": common::PASSWORD, "name": "Invitee" }));
            }
            ("POST", "/v1/users") => {
                body = Some(json!({ "email": format!("{}@example.com", self.fresh("new")), "password": common::PASSWORD }))
            }
            ("PATCH", "/v1/users/{user_id}") => body = Some(json!({ "name": "Target" })),
            ("POST", "/v1/projects") => body = Some(json!({ "slug": self.fresh("made"), "name": "Made" })),
            ("PATCH", "/v1/projects/{project}") => body = Some(json!({ "name": "Alpha" })),
            ("DELETE", "/v1/projects/{project}") => project = self.alpha_twin().await.slug,
            ("PUT", "/v1/projects/{project}/members/{user_id}") => body = Some(json!({ "role": "viewer" })),
            ("DELETE", "/v1/projects/{project}/members/{user_id}") => {
                let u = user(self.h.meta.as_ref(), &format!("{}@example.com", self.fresh("leaver")), false).await;
                self.h.meta.set_member(&self.alpha.id, &u.id, Role::Viewer).await.unwrap();
                user_id = u.id;
            }
            ("POST", "/v1/projects/{project}/invitations") => {
                body = Some(json!({ "email": format!("{}@example.com", self.fresh("inv")), "role": "editor" }))
            }
            ("POST", "/v1/projects/{project}/api-keys") => body = Some(json!({ "name": "ci", "scopes": ["ingest"] })),
            ("DELETE", "/v1/projects/{project}/api-keys/{key_id}") => key_id = self.h.key(&self.alpha.id, "ingest", false).await.0,
            ("POST", "/v1/projects/{project}/pipeline/rules") => body = Some(rule),
            ("PUT" | "DELETE", "/v1/projects/{project}/pipeline/rules/{rule_id}") => {
                rule_id = self.fresh("rule");
                let now = nexuslog_metastore::now();
                let row = nexuslog_metastore::PipelineRule {
                    id: rule_id.clone(),
                    project_id: self.alpha.id.clone(),
                    position: 1,
                    definition: rule.to_string(),
                    created_at: now,
                    updated_at: now,
                };
                self.h.meta.save_pipeline_rule(&row).await.unwrap();
                body = (method == "PUT").then_some(rule);
            }
            ("POST", "/v1/projects/{project}/pipeline/dry-run") => body = Some(json!({ "lines": ["a=1"], "rules": [rule] })),
            ("POST", "/v1/projects/{project}/pipeline/detect") => body = Some(json!({ "lines": ["a=1 b=2"] })),
            ("POST", "/v1/projects/{project}/agents/fluent-bit") => body = Some(json!({ "platform": "linux", "paths": ["/var/log/app/*.log"] })),
            ("PUT", "/v1/projects/{project}/redaction") => body = Some(json!({ "builtins": { "jwt": false } })),
            ("POST", "/v1/projects/{project}/redaction/dry-run") => body = Some(json!({ "lines": ["password=x"] })),
            ("POST", "/v1/projects/{project}/aggregate" | "/v1/aggregate") => body = Some(json!({ "aggs": { "n": { "count": {} } } })),
            ("POST", "/v1/projects/{project}/saved-searches") => body = Some(search),
            ("POST", "/v1/projects/{project}/dashboards") => body = Some(board),
            ("POST", "/v1/projects/{project}/dashboards/import") => body = Some(json!({ "nexuslog_dashboard": 1, "dashboard": board })),
            (_, "/v1/projects/{project}/saved-searches/{id}" | "/v1/projects/{project}/dashboards/{id}" | "/v1/projects/{project}/dashboards/{id}/export" | "/v1/projects/{project}/dashboards/{id}/render") => {
                // Owned by the caller when a user: owners change their own documents.
                let owner = match self.h.meta.user_by_email(&self.email(who)).await.unwrap() {
                    Some(u) => format!("user:{}", u.id),
                    None => "user:someone".into(),
                };
                let (kind, definition) = if path.contains("saved-searches") { (nexuslog_metastore::DocumentKind::SavedSearch, search.clone()) } else { (nexuslog_metastore::DocumentKind::Dashboard, board.clone()) };
                id = self.fresh("doc");
                let now = nexuslog_metastore::now();
                let doc = nexuslog_metastore::ProjectDocument {
                    id: id.clone(),
                    project_id: self.alpha.id.clone(),
                    kind,
                    owner,
                    name: "doc".into(),
                    shared: true,
                    definition: definition.to_string(),
                    created_at: now,
                    updated_at: now,
                };
                self.h.meta.save_document(&doc).await.unwrap();
                body = (method == "PUT").then_some(definition);
            }
            ("POST", "/v1/projects/{project}/alert-channels") => body = Some(channel),
            (_, "/v1/projects/{project}/alert-channels/{id}" | "/v1/projects/{project}/alert-channels/{id}/test") => {
                id = self.fresh("channel");
                let now = nexuslog_metastore::now();
                let c = nexuslog_metastore::AlertChannel {
                    id: id.clone(),
                    project_id: self.alpha.id.clone(),
                    name: "hook".into(),
                    kind: "webhook".into(),
                    config: channel["config"].to_string(),
                    created_at: now,
                    updated_at: now,
                };
                self.h.meta.save_alert_channel(&c).await.unwrap();
                body = (method == "PUT").then_some(channel);
            }
            ("POST", "/v1/projects/{project}/alert-rules") => body = Some(alert_rule),
            (_, "/v1/projects/{project}/alert-rules/{id}") => {
                id = self.fresh("alert-rule");
                let now = nexuslog_metastore::now();
                let row = nexuslog_metastore::AlertRuleRow {
                    id: id.clone(),
                    project_id: self.alpha.id.clone(),
                    definition: alert_rule.to_string(),
                    created_at: now,
                    updated_at: now,
                };
                self.h.meta.save_alert_rule(&row).await.unwrap();
                body = (method == "PUT").then_some(alert_rule);
            }
            ("POST", "/v1/projects/{project}/alerts/{id}/ack") => {
                id = self.fresh("transition");
                let t = nexuslog_metastore::AlertTransitionRow {
                    id: id.clone(),
                    project_id: self.alpha.id.clone(),
                    rule_id: "r".into(),
                    rule_name: "errors".into(),
                    group_key: "{}".into(),
                    from_state: "ok".into(),
                    to_state: "firing".into(),
                    value: Some(11.0),
                    threshold: 10.0,
                    severity: "warning".into(),
                    window_start: 0,
                    window_end: 60_000_000,
                    event_time: 1,
                    recorded_at: nexuslog_metastore::now(),
                    samples: "[]".into(),
                    labels: "{}".into(),
                    message: "m".into(),
                    acked_by: None,
                    acked_at: None,
                };
                self.h.meta.record_transition(&t, &[]).await.unwrap();
            }
            ("POST", "/v1/projects/{project}/silences") => body = Some(json!({ "matchers": { "rule_id": "r" }, "ends_at": "now+1h" })),
            ("DELETE", "/v1/projects/{project}/silences/{id}") => {
                id = self.fresh("silence");
                let now = nexuslog_metastore::now();
                let silence = nexuslog_metastore::AlertSilence {
                    id: id.clone(),
                    project_id: self.alpha.id.clone(),
                    matchers: r#"{"rule_id":"r"}"#.into(),
                    starts_at: now,
                    ends_at: now + 3_600_000_000,
                    comment: String::new(),
                    created_by: "test".into(),
                    created_at: now,
                };
                self.h.meta.save_alert_silence(&silence).await.unwrap();
            }
            _ => {}
        }
        let mut uri = path
            .replace("{project}", &project)
            .replace("{user_id}", &user_id)
            .replace("{key_id}", &key_id)
            .replace("{rule_id}", &rule_id)
            .replace("{id}", &id)
            .replace("{session_id}", &session_id);
        if path == "/v1/search" || path == "/v1/aggregate" || path == "/v1/tail" {
            uri.push_str(&format!("?project={}", self.alpha.slug));
        }
        (uri, body, cred)
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let h = common::harness(store).await;
    // The index lives as long as the test process; the directory is removed at exit.
    std::mem::forget(dir);
    let meta = h.meta.clone();
    let alpha = meta.create_project("alpha", "Alpha").await.unwrap();
    let beta = meta.create_project("beta", "Beta").await.unwrap();
    user(meta.as_ref(), "login@example.com", false).await;
    let target = user(meta.as_ref(), "target@example.com", false).await;
    meta.set_member(&alpha.id, &target.id, Role::Viewer).await.unwrap();

    let mut callers = vec![(Who::Anonymous, String::new(), None)];
    for (who, email, role) in [
        (Who::InstanceAdmin, "root@example.com", None),
        (Who::Owner, "owner@example.com", Some(Role::Owner)),
        (Who::Admin, "admin@example.com", Some(Role::Admin)),
        (Who::Editor, "editor@example.com", Some(Role::Editor)),
        (Who::Viewer, "viewer@example.com", Some(Role::Viewer)),
        (Who::Outsider, "outsider@example.com", None),
    ] {
        let u = user(meta.as_ref(), email, who == Who::InstanceAdmin).await;
        if let Some(r) = role {
            meta.set_member(&alpha.id, &u.id, r).await.unwrap();
        }
        if who == Who::Outsider {
            meta.set_member(&beta.id, &u.id, Role::Owner).await.unwrap();
        }
        let token = h.login(email).await.0;
        callers.push((who, email.to_owned(), Some(token)));
    }
    let world = World { h, alpha: alpha.clone(), callers, target_user: target.id, counter: Default::default() };
    let mut callers = world.callers.clone();
    callers.push((Who::ReadKey, String::new(), Some(world.h.key(&alpha.id, "read", false).await.1)));
    callers.push((Who::IngestKey, String::new(), Some(world.h.key(&alpha.id, "ingest", false).await.1)));
    callers.push((Who::RevokedKey, String::new(), Some(world.h.key(&alpha.id, "ingest,read", true).await.1)));
    callers.push((Who::OtherKey, String::new(), Some(world.h.key(&beta.id, "read", false).await.1)));
    World { callers, ..world }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_allows_exactly_the_callers_in_the_matrix() {
    let served: BTreeSet<(String, String)> = nexuslog_api::endpoints().iter().map(|e| (e.method.to_string(), e.path.to_owned())).collect();
    let table: BTreeSet<(String, String)> = MATRIX.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    let missing: Vec<_> = served.difference(&table).collect();
    assert!(missing.is_empty(), "endpoints without a row in the authorization matrix: {missing:?}");
    let stale: Vec<_> = table.difference(&served).collect();
    assert!(stale.is_empty(), "matrix rows for endpoints that do not exist: {stale:?}");

    let w = world().await;
    let mut failures = Vec::new();
    for (method, path, spec) in MATRIX {
        for who in EVERYONE {
            let (uri, body, cred) = w.request(method, path, *who).await;
            let (status, answer) = w.h.call(Method::from_bytes(method.as_bytes()).unwrap(), &uri, cred.as_deref(), body).await;
            let expect_allow = allowed(spec, *who);
            let ok = if expect_allow && path.ends_with("/ws") {
                // Past authorization, the WebSocket upgrade itself needs a real connection.
                !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
            } else if expect_allow {
                status.is_success()
            } else if matches!(who, Who::Anonymous | Who::RevokedKey) && !matches!(*spec, "all") {
                status == StatusCode::UNAUTHORIZED
            } else {
                matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
            };
            if !ok {
                failures.push(format!(
                    "{method} {uri} as {}: expected {}, got {status} {:.200}",
                    name(*who),
                    if expect_allow { "allow" } else { "deny" },
                    answer.to_string()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} calls differ from the matrix:\n{}",
        failures.len(),
        MATRIX.len() * EVERYONE.len(),
        failures.join("\n")
    );
}
