//! The behaviour every [`MetaStore`] must show, run against each implementation on an empty
//! database by its test target (`tests/postgres.rs`, `tests/sqlite.rs`).

use crate::{
    bootstrap, keys, AlertChannel, AlertDelivery, AlertRuleRow, AlertSilence, AlertTransitionRow, ApiKey, AuditEntry, DeliveryAttempt, DocumentKind, Invitation, MetaStore,
    MetaStoreError, PipelineRule, ProjectDocument, Role, Session, User,
};

/// Runs every check; panics on the first difference from the contract.
pub async fn run_all(store: &dyn MetaStore) {
    store.health().await.expect("health");
    let latest = crate::MIGRATIONS.last().map_or(0, |m| m.version);
    assert_eq!(store.migrate().await.expect("migrate"), latest);
    assert_eq!(store.migrate().await.expect("migrate again is a no-op"), latest);

    let p = store.create_project("alpha", "Alpha").await.expect("create project");
    assert_eq!(store.project_by_slug("alpha").await.expect("query"), Some(p.clone()));
    assert_eq!(store.project_by_slug("nope").await.expect("query"), None);
    let dup = store.create_project("alpha", "again").await.expect_err("slug is unique");
    assert!(matches!(dup, MetaStoreError::Conflict(_)), "{dup}");

    let new = keys::generate();
    let key = ApiKey {
        id: "k1".into(),
        project_id: p.id.clone(),
        name: "ci".into(),
        prefix: new.prefix.clone(),
        key_hash: new.hash.clone(),
        source: "fluent-bit".into(),
        scopes: "ingest".into(),
        created_by: "user:u1".into(),
        created_at: 1,
        revoked_at: None,
        last_used_at: None,
        expires_at: None,
    };
    store.create_api_key(&key).await.expect("create key");
    assert_eq!(store.api_key_by_prefix(&new.prefix).await.expect("lookup"), Some(key.clone()));
    assert!(store.has_api_key_named(&p.id, "ci").await.expect("query"));
    assert!(!store.has_api_key_named(&p.id, "other").await.expect("query"));
    let dup = store.create_api_key(&ApiKey { id: "k2".into(), ..key.clone() }).await.expect_err("prefix is unique");
    assert!(matches!(dup, MetaStoreError::Conflict(_)), "{dup}");

    // Key checks on top of the store.
    assert_eq!(keys::verify(store, &new.secret, keys::Scope::Ingest).await.expect("valid").id, "k1");
    assert!(matches!(keys::verify(store, &new.secret, keys::Scope::Read).await, Err(keys::KeyError::Scope(_))));
    let mut wrong = new.secret.clone();
    wrong.push('x');
    assert!(matches!(keys::verify(store, &wrong, keys::Scope::Ingest).await, Err(keys::KeyError::Invalid)));

    // Bootstrap: first call creates the default project and a key, later calls find them.
    let first = bootstrap::ensure(store, None, None).await.expect("bootstrap");
    let secret = first.created_key.expect("a key is created at first start");
    let admin_password = first.created_admin_password.expect("an admin password is generated at first start");
    let admin = store.user_by_email(bootstrap::ADMIN_EMAIL).await.expect("query").expect("admin exists");
    assert!(admin.is_admin);
    assert!(crate::passwords::verify(&admin_password, &admin.password_hash));
    assert!(!admin.password_hash.contains(&admin_password), "only a hash is stored");
    assert_eq!(first.project.slug, bootstrap::DEFAULT_PROJECT);
    let again = bootstrap::ensure(store, None, None).await.expect("bootstrap again");
    assert!(again.created_key.is_none(), "later starts do not create another key");
    assert!(again.created_admin_password.is_none(), "nor another admin");
    assert_eq!(again.project, first.project);
    assert_eq!(keys::verify(store, &secret, keys::Scope::Read).await.expect("bootstrap key reads").project_id, first.project.id);
    let configured = "nxl_configuredconfiguredconfigured01";
    assert!(bootstrap::ensure(store, Some(configured), None).await.expect("with key").created_key.is_some());
    assert!(bootstrap::ensure(store, Some(configured), None).await.expect("with key again").created_key.is_none());
    keys::verify(store, configured, keys::Scope::Ingest).await.expect("configured key works");

    users_and_members(store).await;
    key_lifecycle(store, &p.id, &key).await;
    sessions(store).await;
    invitations_audit_settings(store, &p.id).await;
    pipeline_rules(store, &p.id).await;
    alerting(store, &p.id).await;
    documents(store, &p.id).await;
}

async fn documents(store: &dyn MetaStore, project_id: &str) {
    let other = store.create_project("docs-other", "Other").await.expect("project");
    let doc = ProjectDocument {
        id: "d1".into(),
        project_id: project_id.into(),
        kind: DocumentKind::Dashboard,
        owner: "user:u1".into(),
        name: "Checkout".into(),
        shared: true,
        definition: r#"{"widgets":[]}"#.into(),
        created_at: 1,
        updated_at: 1,
    };
    store.save_document(&doc).await.expect("save");
    let search = ProjectDocument { id: "s1".into(), kind: DocumentKind::SavedSearch, shared: false, name: "errors".into(), ..doc.clone() };
    store.save_document(&search).await.expect("save");
    assert_eq!(store.documents(project_id, DocumentKind::Dashboard).await.expect("list"), vec![doc.clone()], "kinds are apart");
    assert_eq!(store.document(project_id, DocumentKind::SavedSearch, "s1").await.expect("get"), Some(search.clone()));
    assert_eq!(store.document(project_id, DocumentKind::Dashboard, "s1").await.expect("get"), None);
    let renamed = ProjectDocument { name: "Checkout v2".into(), shared: false, updated_at: 2, ..doc.clone() };
    store.save_document(&renamed).await.expect("update");
    assert_eq!(store.document(project_id, DocumentKind::Dashboard, "d1").await.expect("get"), Some(renamed.clone()));
    let stolen = store.save_document(&ProjectDocument { project_id: other.id.clone(), ..doc.clone() }).await.expect_err("another project");
    assert!(matches!(stolen, MetaStoreError::Conflict(_)), "{stolen}");
    assert!(!store.delete_document(&other.id, DocumentKind::Dashboard, "d1").await.expect("delete elsewhere"));
    assert!(store.delete_document(project_id, DocumentKind::Dashboard, "d1").await.expect("delete"));
    assert!(store.delete_document(project_id, DocumentKind::SavedSearch, "s1").await.expect("delete"));
    assert!(store.delete_project(&other.id).await.expect("delete project"));
}

async fn alerting(store: &dyn MetaStore, project_id: &str) {
    let other = store.create_project("alert-other", "Other").await.expect("project");
    let channel = AlertChannel {
        id: "c1".into(),
        project_id: project_id.into(),
        name: "ops hook".into(),
        kind: "webhook".into(),
        config: r#"{"url":"http://127.0.0.1:9/hook"}"#.into(),
        created_at: 1,
        updated_at: 1,
    };
    store.save_alert_channel(&channel).await.expect("save channel");
    assert_eq!(store.alert_channels(project_id).await.expect("list"), vec![channel.clone()]);
    let stolen = store.save_alert_channel(&AlertChannel { project_id: other.id.clone(), ..channel.clone() }).await.expect_err("other project");
    assert!(matches!(stolen, MetaStoreError::Conflict(_)), "{stolen}");
    assert_eq!(store.alert_channel(&other.id, "c1").await.expect("q"), None, "a channel is seen in its project only");

    let before = store.alert_revision().await.expect("revision");
    let rule = AlertRuleRow { id: "r1".into(), project_id: project_id.into(), definition: "{}".into(), created_at: 1, updated_at: 1 };
    store.save_alert_rule(&rule).await.expect("save rule");
    assert!(store.alert_revision().await.expect("revision") > before, "a change moves the revision");
    assert_eq!(store.all_alert_rules().await.expect("all"), vec![rule.clone()]);
    assert!(!store.delete_alert_rule(&other.id, "r1").await.expect("delete elsewhere"));
    assert_eq!(store.alert_rule(project_id, "r1").await.expect("q"), Some(rule.clone()));

    let t = AlertTransitionRow {
        id: "t1".into(),
        project_id: project_id.into(),
        rule_id: "r1".into(),
        rule_name: "errors".into(),
        group_key: "[]".into(),
        from_state: "ok".into(),
        to_state: "firing".into(),
        value: Some(12.5),
        threshold: 10.0,
        severity: "critical".into(),
        window_start: 10,
        window_end: 20,
        event_time: 15,
        recorded_at: 30,
        samples: r#"["a","b"]"#.into(),
        labels: "{}".into(),
        message: "12.5 errors".into(),
        acked_by: None,
        acked_at: None,
    };
    let d = AlertDelivery {
        id: "d1".into(),
        transition_id: "t1".into(),
        channel_id: "c1".into(),
        status: "pending".into(),
        attempts: 0,
        last_error: None,
        updated_at: 30,
    };
    assert!(store.record_transition(&t, std::slice::from_ref(&d)).await.expect("record"));
    assert!(!store.record_transition(&t, std::slice::from_ref(&d)).await.expect("replay"), "recorded once");
    assert_eq!(store.alert_deliveries("t1").await.expect("deliveries"), vec![d.clone()], "a replay adds no delivery");
    assert_eq!(store.alert_transition(project_id, "t1").await.expect("q"), Some(t.clone()));
    assert_eq!(store.alert_transitions(project_id, Some("r1"), None, 10).await.expect("list"), vec![t.clone()]);
    assert!(store.alert_transitions(project_id, None, Some(30), 10).await.expect("list").is_empty(), "before is exclusive");
    assert!(store.alert_transitions(&other.id, None, None, 10).await.expect("list").is_empty());

    let failed = DeliveryAttempt { delivery_id: "d1".into(), attempt: 1, at: 31, ok: false, detail: "HTTP 500".into() };
    store.record_delivery_attempt(&failed, "pending").await.expect("attempt");
    let ok = DeliveryAttempt { delivery_id: "d1".into(), attempt: 2, at: 32, ok: true, detail: "HTTP 200".into() };
    store.record_delivery_attempt(&ok, "delivered").await.expect("attempt");
    assert_eq!(store.delivery_attempts("d1").await.expect("attempts"), vec![failed, ok]);
    let now = &store.alert_deliveries("t1").await.expect("deliveries")[0];
    assert_eq!((now.status.as_str(), now.attempts, now.last_error.as_deref()), ("delivered", 2, None));

    assert!(store.ack_alert_transition(project_id, "t1", "user:u1", 40).await.expect("ack"));
    assert!(!store.ack_alert_transition(&other.id, "t1", "user:u1", 40).await.expect("ack elsewhere"));
    let acked = store.alert_transition(project_id, "t1").await.expect("q").expect("exists");
    assert_eq!((acked.acked_by.as_deref(), acked.acked_at), (Some("user:u1"), Some(40)));

    let silence = AlertSilence {
        id: "s1".into(),
        project_id: project_id.into(),
        matchers: r#"{"rule_id":"r1"}"#.into(),
        starts_at: 0,
        ends_at: 100,
        comment: "maintenance".into(),
        created_by: "user:u1".into(),
        created_at: 1,
    };
    store.save_alert_silence(&silence).await.expect("silence");
    assert_eq!(store.alert_silences(project_id, 50).await.expect("q"), vec![silence.clone()]);
    assert!(store.alert_silences(project_id, 100).await.expect("q").is_empty(), "ended silences are not listed");
    assert!(store.delete_alert_silence(project_id, "s1").await.expect("delete"));

    assert!(store.delete_alert_channel(project_id, "c1").await.expect("delete"));
    assert!(store.delete_alert_rule(project_id, "r1").await.expect("delete"));
    assert!(store.delete_project(&other.id).await.expect("delete project"));
}

async fn pipeline_rules(store: &dyn MetaStore, project_id: &str) {
    let other = store.create_project("pipelines-other", "Other").await.expect("project");
    assert!(store.pipeline_rules(project_id).await.expect("rules").is_empty());
    let rule = |id: &str, position: i64, definition: &str| PipelineRule {
        id: id.into(),
        project_id: project_id.into(),
        position,
        definition: definition.into(),
        created_at: 1,
        updated_at: 2,
    };
    assert_eq!(store.save_pipeline_rule(&rule("r2", 2, "{\"b\":1}")).await.expect("save"), 1);
    assert_eq!(store.save_pipeline_rule(&rule("r1", 1, "{\"a\":1}")).await.expect("save"), 2);
    let ids: Vec<String> = store.pipeline_rules(project_id).await.expect("rules").into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec!["r1", "r2"], "ordered by position");
    // Update in place: new position and definition, same id.
    assert_eq!(store.save_pipeline_rule(&rule("r1", 3, "{\"a\":2}")).await.expect("update"), 3);
    let rules = store.pipeline_rules(project_id).await.expect("rules");
    assert_eq!((rules[1].id.as_str(), rules[1].definition.as_str()), ("r1", "{\"a\":2}"));
    assert_eq!(rules.len(), 2);
    // A rule id of another project cannot be taken over.
    let stolen = PipelineRule { project_id: other.id.clone(), ..rule("r1", 1, "{}") };
    assert!(matches!(store.save_pipeline_rule(&stolen).await, Err(MetaStoreError::Conflict(_))));
    assert_eq!(store.pipeline_rules(project_id).await.expect("rules")[1].definition, "{\"a\":2}");
    assert!(store.pipeline_rules(&other.id).await.expect("rules").is_empty());

    assert_eq!(store.delete_pipeline_rule(&other.id, "r1").await.expect("delete"), None, "not through another project");
    assert_eq!(store.delete_pipeline_rule(project_id, "r1").await.expect("delete"), Some(4));
    let revisions = store.pipeline_revisions().await.expect("revisions");
    assert!(revisions.contains(&(project_id.to_owned(), 4)), "{revisions:?}");
    assert!(store.delete_project(&other.id).await.expect("delete project"));
    assert!(!store.pipeline_revisions().await.expect("revisions").iter().any(|(p, _)| *p == other.id));
}

fn user(email: &str) -> User {
    User {
        id: crate::new_id(),
        email: email.into(),
        name: "Some One".into(),
        password_hash: "$argon2id$placeholder".into(),
        is_admin: false,
        created_at: crate::now(),
        disabled_at: None,
    }
}

async fn users_and_members(store: &dyn MetaStore) {
    let p = store.create_project("members", "Members").await.expect("project");
    let q = store.create_project("other", "Other").await.expect("project");
    assert_eq!(store.project_by_id(&p.id).await.expect("query"), Some(p.clone()));
    assert!(store.rename_project(&p.id, "Renamed").await.expect("rename"));
    assert_eq!(store.project_by_id(&p.id).await.expect("query").map(|p| p.name), Some("Renamed".into()));
    assert!(!store.rename_project("missing", "x").await.expect("rename missing"));
    let slugs: Vec<String> = store.list_projects().await.expect("list").into_iter().map(|p| p.slug).collect();
    assert!(slugs.contains(&"members".to_owned()) && slugs.contains(&"other".to_owned()), "{slugs:?}");

    let ann = user("ann@example.com");
    let bob = user("bob@example.com");
    store.create_user(&ann).await.expect("ann");
    store.create_user(&bob).await.expect("bob");
    let dup = store.create_user(&User { id: crate::new_id(), ..ann.clone() }).await.expect_err("email is unique");
    assert!(matches!(dup, MetaStoreError::Conflict(_)), "{dup}");
    assert_eq!(store.user_by_id(&ann.id).await.expect("query"), Some(ann.clone()));
    let mut changed = ann.clone();
    changed.name = "Ann".into();
    changed.is_admin = true;
    changed.disabled_at = Some(5);
    assert!(store.update_user(&changed).await.expect("update"));
    assert_eq!(store.user_by_email(&ann.email).await.expect("query"), Some(changed));
    assert!(store.list_users().await.expect("users").iter().any(|u| u.id == bob.id));

    store.set_member(&p.id, &ann.id, Role::Owner).await.expect("member");
    store.set_member(&p.id, &bob.id, Role::Viewer).await.expect("member");
    store.set_member(&q.id, &bob.id, Role::Editor).await.expect("member");
    assert_eq!(store.member_role(&p.id, &bob.id).await.expect("role"), Some(Role::Viewer));
    store.set_member(&p.id, &bob.id, Role::Admin).await.expect("role change is an upsert");
    assert_eq!(store.member_role(&p.id, &bob.id).await.expect("role"), Some(Role::Admin));
    assert_eq!(store.member_role(&q.id, &ann.id).await.expect("role"), None, "membership is per project");
    let members: Vec<(String, Role)> = store.list_members(&p.id).await.expect("members").into_iter().map(|(u, r)| (u.email, r)).collect();
    assert_eq!(members, vec![("ann@example.com".into(), Role::Owner), ("bob@example.com".into(), Role::Admin)]);
    let of_bob: Vec<(String, Role)> = store.memberships_of(&bob.id).await.expect("of").into_iter().map(|(p, r)| (p.slug, r)).collect();
    assert_eq!(of_bob, vec![("members".into(), Role::Admin), ("other".into(), Role::Editor)]);
    assert!(store.remove_member(&p.id, &bob.id).await.expect("remove"));
    assert!(!store.remove_member(&p.id, &bob.id).await.expect("remove twice"));
    assert_eq!(store.member_role(&p.id, &bob.id).await.expect("role"), None);

    let doomed = keys::generate();
    let key = ApiKey {
        id: crate::new_id(),
        project_id: q.id.clone(),
        name: "doomed".into(),
        source: String::new(),
        prefix: doomed.prefix.clone(),
        key_hash: doomed.hash,
        scopes: "ingest".into(),
        created_by: "test".into(),
        created_at: 1,
        revoked_at: None,
        last_used_at: None,
        expires_at: None,
    };
    store.create_api_key(&key).await.expect("key");
    store.save_redaction(&q.id, "{}", 1).await.expect("redaction");
    store.setting_or_insert(&format!("redaction_key:{}", q.id), "k").await.expect("key");
    let before = crate::now();
    assert!(store.delete_project(&q.id).await.expect("delete"));
    assert_eq!(store.redaction(&q.id).await.expect("q"), None, "redaction settings go with the project");
    assert_eq!(store.setting(&format!("redaction_key:{}", q.id)).await.expect("q"), None, "and so does its hashing key");
    assert_eq!(store.api_key_by_prefix(&doomed.prefix).await.expect("q"), None);
    assert!(
        store.api_keys_revoked_since(before).await.expect("since").contains(&doomed.prefix),
        "a key deleted with its project is announced like a revoked one"
    );
    assert_eq!(store.project_by_id(&q.id).await.expect("query"), None);
    assert!(store.memberships_of(&bob.id).await.expect("of").is_empty(), "memberships go with the project");
    assert!(!store.delete_project(&q.id).await.expect("delete twice"));
}

async fn key_lifecycle(store: &dyn MetaStore, project_id: &str, key: &ApiKey) {
    let listed = store.list_api_keys(project_id).await.expect("list");
    assert_eq!(listed.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), vec![key.id.as_str()]);
    assert!(store.list_api_keys("elsewhere").await.expect("list").is_empty());

    store.touch_api_keys(std::slice::from_ref(&key.id), 42).await.expect("touch");
    assert_eq!(store.api_key_by_prefix(&key.prefix).await.expect("q").and_then(|k| k.last_used_at), Some(42));

    let before = crate::now();
    assert!(!store.revoke_api_key("another-project", &key.id, before).await.expect("revoke"), "a key is revoked only through its project");
    assert!(store.api_keys_revoked_since(before - 1).await.expect("since").is_empty());
    assert!(store.revoke_api_key(project_id, &key.id, before).await.expect("revoke"));
    assert!(!store.revoke_api_key(project_id, &key.id, before + 1).await.expect("revoke twice"));
    assert_eq!(store.api_keys_revoked_since(before).await.expect("since"), vec![key.prefix.clone()]);
    assert!(store.api_keys_revoked_since(before + 1).await.expect("since").is_empty());
    assert_eq!(store.api_key_by_prefix(&key.prefix).await.expect("q").and_then(|k| k.revoked_at), Some(before));
}

async fn sessions(store: &dyn MetaStore) {
    let u = user("sessions@example.com");
    store.create_user(&u).await.expect("user");
    let now = crate::now();
    let s = Session {
        id: crate::new_id(),
        user_id: u.id.clone(),
        refresh_hash: "h1".into(),
        created_at: now,
        expires_at: now + 60_000_000,
        revoked_at: None,
        previous_refresh_hash: None,
        rotated_at: None,
    };
    let other = Session { id: crate::new_id(), refresh_hash: "o1".into(), ..s.clone() };
    store.create_session(&s).await.expect("session");
    store.create_session(&other).await.expect("session");
    assert_eq!(store.session_by_id(&s.id).await.expect("q"), Some(s.clone()));
    let live: Vec<String> = store.live_sessions(&u.id, now).await.expect("live").into_iter().map(|s| s.id).collect();
    assert_eq!(live.len(), 2);
    assert!(store.live_sessions(&u.id, now + 60_000_001).await.expect("live").is_empty(), "expired ones are not live");
    assert!(store.rotate_session(&s.id, "h1", "h2", now + 120_000_000, now + 5).await.expect("rotate"));
    assert!(!store.rotate_session(&s.id, "h1", "h3", now + 120_000_000, now + 6).await.expect("reuse"), "an old refresh token does not rotate");
    let rotated = store.session_by_id(&s.id).await.expect("q").expect("session");
    assert_eq!(
        (rotated.refresh_hash.as_str(), rotated.previous_refresh_hash.as_deref(), rotated.rotated_at, rotated.expires_at),
        ("h2", Some("h1"), Some(now + 5), now + 120_000_000),
        "the replaced hash and the rotation time are kept for the grace window"
    );
    // Two rotations racing with the same token: exactly one wins.
    let racers: Vec<_> = (0..8).map(|i| store.rotate_session(&s.id, "h2", if i == 0 { "h2a" } else { "h2b" }, now + 120_000_000, now + 7)).collect();
    let won = futures::future::join_all(racers).await.into_iter().filter(|r| *r.as_ref().expect("rotate")).count();
    assert_eq!(won, 1, "one rotation per token");
    let raced = store.session_by_id(&s.id).await.expect("q").expect("session");
    assert_eq!(raced.previous_refresh_hash.as_deref(), Some("h2"));
    assert!(store.rotate_session(&s.id, &raced.refresh_hash, "h2", now + 120_000_000, now + 8).await.expect("rotate back"));

    let at = crate::now();
    assert_eq!(store.revoke_user_sessions(&u.id, Some(&s.id), at).await.expect("revoke others"), 1);
    assert_eq!(store.sessions_revoked_since(at).await.expect("since"), vec![other.id.clone()]);
    assert!(store.revoke_session(&s.id, at + 1).await.expect("logout"));
    assert!(!store.revoke_session(&s.id, at + 2).await.expect("twice"));
    assert!(!store.rotate_session(&s.id, "h2", "h4", now + 120_000_000, now + 9).await.expect("revoked"), "a revoked session cannot refresh");
    assert!(store.live_sessions(&u.id, now).await.expect("live").is_empty(), "revoked ones are not live");
    let mut since = store.sessions_revoked_since(at).await.expect("since");
    since.sort();
    let mut both = vec![s.id.clone(), other.id.clone()];
    both.sort();
    assert_eq!(since, both);
}

async fn invitations_audit_settings(store: &dyn MetaStore, project_id: &str) {
    let now = crate::now();
    let inv = Invitation {
        id: crate::new_id(),
        token_hash: "tokenhash".into(),
        email: "new@example.com".into(),
        project_id: project_id.into(),
        role: Role::Editor,
        invited_by: "user:u1".into(),
        created_at: now,
        expires_at: now + 1,
        accepted_at: None,
        emailed: true,
    };
    store.create_invitation(&inv).await.expect("invite");
    assert_eq!(store.invitation_by_token_hash("tokenhash").await.expect("q"), Some(inv.clone()));
    assert!(store.accept_invitation(&inv.id, now).await.expect("accept"));
    assert!(!store.accept_invitation(&inv.id, now).await.expect("accept twice"), "an invitation is used once");

    let entry = |n: i64, project: Option<&str>| AuditEntry {
        id: format!("a{n}"),
        at: n,
        actor: "user:u1".into(),
        actor_name: "ann@example.com".into(),
        action: "api_key.create".into(),
        project_id: project.map(str::to_owned),
        target: "key:k1".into(),
        outcome: "success".into(),
        detail: "{}".into(),
        ip: "127.0.0.1".into(),
    };
    for n in 1..=4 {
        store.append_audit(&entry(n, (n % 2 == 0).then_some(project_id))).await.expect("audit");
    }
    let all: Vec<i64> = store.list_audit(None, None, 10).await.expect("audit").iter().map(|e| e.at).collect();
    assert_eq!(all, vec![4, 3, 2, 1], "newest first");
    assert_eq!(store.list_audit(None, Some(3), 1).await.expect("audit"), vec![entry(2, Some(project_id))]);
    let own: Vec<i64> = store.list_audit(Some(project_id), None, 10).await.expect("audit").iter().map(|e| e.at).collect();
    assert_eq!(own, vec![4, 2]);

    assert_eq!(store.redaction(project_id).await.expect("q"), None, "no settings: the built-in rules");
    store.save_redaction(project_id, r#"{"rules":[]}"#, 5).await.expect("save");
    store.save_redaction(project_id, r#"{"builtins":{"jwt":false}}"#, 6).await.expect("replace");
    assert_eq!(store.redaction(project_id).await.expect("q"), Some((r#"{"builtins":{"jwt":false}}"#.to_owned(), 6)));

    assert_eq!(store.setting("jwt").await.expect("q"), None);
    assert_eq!(store.setting_or_insert("jwt", "first").await.expect("insert"), "first");
    assert_eq!(store.setting_or_insert("jwt", "second").await.expect("kept"), "first", "the first value stays");
}

/// Credentials at rest. `open(keys)` opens the same, empty database with a key file's text
/// (`None`: no keys); `raw()` returns every `alert_channels.config` and `settings.value` as the
/// database holds them, read past the store.
pub async fn sealed_credentials<S: MetaStore>(open: impl Fn(Option<&str>) -> S, raw: impl AsyncFn() -> Vec<String>) {
    let (old, new) = (crate::sealing::new_key_line(), crate::sealing::new_key_line());
    let secrets = ["TOKEN-ONE", "SIGNING-SECRET", "REDACTION-KEY-VALUE", "TOKEN-TWO"];
    let clear = async |values: &[&str]| {
        let stored = raw().await.join("\n");
        values.iter().filter(|v| stored.contains(*v)).map(|v| (*v).to_owned()).collect::<Vec<_>>()
    };
    let channel = |id: &str, project_id: &str, token: &str| AlertChannel {
        id: id.into(),
        project_id: project_id.into(),
        name: id.into(),
        kind: "slack".into(),
        config: format!(r#"{{"url":"https://hooks.slack.com/services/T0/B0/{token}","secret":"SIGNING-SECRET"}}"#),
        created_at: 1,
        updated_at: 1,
    };

    // Written before keys were configured: in clear, which the raw read sees.
    let plain = open(None);
    plain.migrate().await.expect("migrate");
    let p = plain.create_project("sealed", "Sealed").await.expect("project");
    let first = channel("sealed-1", &p.id, "TOKEN-ONE");
    plain.save_alert_channel(&first).await.expect("save");
    let key_setting = format!("redaction_key:{}", p.id);
    plain.setting_or_insert(&key_setting, "REDACTION-KEY-VALUE").await.expect("setting");
    assert_eq!(clear(&secrets).await, vec!["TOKEN-ONE", "SIGNING-SECRET", "REDACTION-KEY-VALUE"], "the raw read sees stored values");

    // Keys configured: the start's reseal seals what was in clear; new writes are sealed.
    let sealed = open(Some(&old));
    assert_eq!(sealed.reseal().await.expect("reseal"), 2);
    assert_eq!(sealed.reseal().await.expect("reseal again"), 0);
    let second = channel("sealed-2", &p.id, "TOKEN-TWO");
    sealed.save_alert_channel(&second).await.expect("save sealed");
    assert_eq!(clear(&secrets).await, Vec::<String>::new(), "no credential in clear");
    assert_eq!(sealed.alert_channels(&p.id).await.expect("list"), vec![first.clone(), second.clone()]);
    assert_eq!(sealed.setting(&key_setting).await.expect("setting").as_deref(), Some("REDACTION-KEY-VALUE"));
    assert_eq!(sealed.setting_or_insert(&key_setting, "other").await.expect("kept"), "REDACTION-KEY-VALUE");

    // Rotation: the new key first, the old below it. Old values open; the reseal moves them
    // all to the new key, after which the old key can go.
    let rotated = open(Some(&format!("# rotated\n{new}\n{old}\n")));
    assert_eq!(rotated.alert_channel(&p.id, "sealed-2").await.expect("read").as_ref(), Some(&second));
    assert_eq!(rotated.reseal().await.expect("reseal"), 3);
    let only_new = open(Some(&new));
    assert_eq!(only_new.alert_channels(&p.id).await.expect("list"), vec![first.clone(), second]);
    assert_eq!(only_new.setting(&key_setting).await.expect("setting").as_deref(), Some("REDACTION-KEY-VALUE"));
    assert_eq!(clear(&secrets).await, Vec::<String>::new());

    // Without the keys, a sealed value is an error that names the setting, never ciphertext.
    let err = open(None).alert_channel(&p.id, "sealed-1").await.expect_err("no keys");
    assert!(err.to_string().contains("secrets.key_file"), "{err}");
    let err = open(Some(&old)).alert_channel(&p.id, "sealed-1").await.expect_err("the old key alone");
    assert!(err.to_string().contains("no key with id"), "{err}");
}
