//! Accepting invitations: no password oracle, the same answer for every address, throttled
//! like sign-in, and a new account's password chosen only by the invitee.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{harness, user, Harness, PASSWORD};
use nexuslog_metastore::Role;
use serde_json::{json, Value};

async fn h() -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    (harness(store).await, dir)
}

/// A project `shop` with an owner; returns the owner's access token.
async fn shop(h: &Harness) -> String {
    let owner = user(h.meta.as_ref(), "owner@example.com", false).await;
    let project = h.meta.create_project("shop", "Shop").await.unwrap();
    h.meta.set_member(&project.id, &owner.id, Role::Owner).await.unwrap();
    h.login("owner@example.com").await.0
}

async fn invite(h: &Harness, owner: &str, email: &str) -> Value {
    let (s, inv) = h.call(Method::POST, "/v1/projects/shop/invitations", Some(owner), Some(json!({ "email": email, "role": "viewer" }))).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    inv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_checks_no_password_and_answers_alike_whether_the_address_has_an_account() {
    let (h, _d) = h().await;
    let owner = shop(&h).await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let for_ann = invite(&h, &owner, "ann@example.com").await;
    let for_new = invite(&h, &owner, "new@example.com").await;
    assert!(for_ann["token"].is_string() && for_ann["delivered"] == json!("inviter"), "no mail server: the inviter passes the token on");

    // Whoever holds the token (here: the inviter), anonymously: one answer for every address
    // and every password, right or wrong. Nothing is verified, nothing is created.
    let mut answers = Vec::new();
    for (inv, password) in [(&for_ann, PASSWORD), (&for_ann, "a wrong guess 1"), (&for_new, "chosen by the inviter")] {
        let ((s, body), _) = h.call_from(Some("192.0.2.1"), Method::POST, "/v1/invitations/accept", None, Some(json!({ "token": inv["token"], "password": password }))).await;
        answers.push((s, body));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED, "{answers:?}");
    assert!(h.meta.user_by_email("new@example.com").await.unwrap().is_none(), "the inviter cannot create the invitee's account");

    // The invitee, signed in, accepts; someone else signed in cannot.
    let (ann, _) = h.login("ann@example.com").await;
    user(h.meta.as_ref(), "bob@example.com", false).await;
    let (bob, _) = h.login("bob@example.com").await;
    assert_eq!(h.call(Method::POST, "/v1/invitations/accept", Some(&bob), Some(json!({ "token": for_ann["token"] }))).await.0, StatusCode::FORBIDDEN);
    let (s, body) = h.call(Method::POST, "/v1/invitations/accept", Some(&ann), Some(json!({ "token": for_ann["token"] }))).await;
    assert_eq!((s, body["role"].as_str()), (StatusCode::OK, Some("viewer")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_is_throttled_like_sign_in() {
    let (h, _d) = h().await;
    let owner = shop(&h).await;
    for i in 0..5 {
        let ((s, _), _) = h.call_from(Some("203.0.113.5"), Method::POST, "/v1/invitations/accept", None, Some(json!({ "token": format!("nxl_guess{i}") }))).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let inv = invite(&h, &owner, "ann@example.com").await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let (ann, _) = h.login("ann@example.com").await;
    // Even a genuine token is refused from that client now, unlooked-at...
    let ((s, _), retry_after) = h.call_from(Some("203.0.113.5"), Method::POST, "/v1/invitations/accept", None, Some(json!({ "token": inv["token"] }))).await;
    assert_eq!((s, retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("900")));
    // ...and works from another.
    let ((s, body), _) = h.call_from(Some("192.0.2.44"), Method::POST, "/v1/invitations/accept", Some(&ann), Some(json!({ "token": inv["token"] }))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// aiosmtpd (installed by `scripts/python-deps.sh`) on a free port, keeping mail in a Maildir.
struct Smtp {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn start() -> Self {
        let cache = std::env::var_os("NEXUSLOG_CACHE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nexuslog"));
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port");
        let maildir = tempfile::tempdir().expect("tempdir");
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .env("PYTHONPATH", cache.join("python"))
            .spawn()
            .expect("aiosmtpd starts (run scripts/python-deps.sh)");
        Smtp { child, port, maildir }
    }

    /// The invitation token of the newest mail to `to` (the mail is plain text; soft line breaks undone).
    fn token_for(&self, to: &str) -> Option<String> {
        let dir = self.maildir.path().join("mail/new");
        let mails: Vec<String> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect();
        let mail = mails.into_iter().map(|m| m.replace("=\r\n", "").replace("=\n", "").replace("=22", "\"")).find(|m| m.contains(&format!("To: {to}")))?;
        let at = mail.find("\"token\": \"")? + 10;
        Some(mail[at..].split('"').next()?.to_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emailed_invitation_lets_only_the_invitee_choose_the_password() {
    let smtp = Smtp::start();
    let settings = nexuslog_notify::SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.port,
        security: nexuslog_notify::SmtpSecurity::None,
        user: String::new(),
        password: String::new(),
        from: "NexusLog <nexuslog@localhost>".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let h = common::harness_full(store, Default::default(), nexuslog_notify::Sender::new(Some(settings), false)).await;
    let owner = shop(&h).await;
    // aiosmtpd may take a moment to listen: the invitation is retried until the mail goes out.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let inv = loop {
        let (s, inv) = h.call(Method::POST, "/v1/projects/shop/invitations", Some(&owner), Some(json!({ "email": "new@example.com", "role": "editor" }))).await;
        if s == StatusCode::CREATED || std::time::Instant::now() > deadline {
            assert_eq!(s, StatusCode::CREATED, "{inv}");
            break inv;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(inv["delivered"], json!("email"));
    assert!(inv.get("token").is_none(), "the inviter never sees an e-mailed token: {inv}");
    let token = smtp.token_for("new@example.com").expect("the invitee got the token by mail");

    // The invitee, anonymously with the mailed token, creates the account with their password.
    let (s, body) = h.call(Method::POST, "/v1/invitations/accept", None, Some(json!({ "token": token, "password": "the invitee's own 1", "name": "New" }))).await;
    assert_eq!((s, body["role"].as_str()), (StatusCode::OK, Some("editor")), "{body}");
    let (s, _) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "new@example.com", "password": "the invitee's own 1" }))).await;
    assert_eq!(s, StatusCode::OK);

    // An address with an account: the mailed token joins it, and its password is not touched.
    user(h.meta.as_ref(), "ann@example.com", false).await;
    h.call(Method::POST, "/v1/projects/shop/invitations", Some(&owner), Some(json!({ "email": "ann@example.com", "role": "viewer" }))).await;
    let token = smtp.token_for("ann@example.com").expect("mailed");
    let (s, body) = h.call(Method::POST, "/v1/invitations/accept", None, Some(json!({ "token": token, "password": "not ann's password" }))).await;
    assert_eq!((s, body["role"].as_str()), (StatusCode::OK, Some("viewer")), "{body}");
    let (s, _) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "ann@example.com", "password": PASSWORD }))).await;
    assert_eq!(s, StatusCode::OK, "ann's password is unchanged");
}
