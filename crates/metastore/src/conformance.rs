//! The behaviour every [`MetaStore`] must show, run against each implementation on an empty
//! database by its test target (`tests/postgres.rs`, `tests/sqlite.rs`).

use crate::{bootstrap, keys, ApiKey, MetaStore, MetaStoreError};

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
        scopes: "ingest".into(),
        created_at: 1,
        revoked_at: None,
    };
    store.create_api_key(&key).await.expect("create key");
    assert_eq!(store.api_key_by_prefix(&new.prefix).await.expect("lookup"), Some(key.clone()));
    assert!(store.has_api_key_named(&p.id, "ci").await.expect("query"));
    assert!(!store.has_api_key_named(&p.id, "other").await.expect("query"));
    let dup = store.create_api_key(&ApiKey { id: "k2".into(), ..key }).await.expect_err("prefix is unique");
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
}
