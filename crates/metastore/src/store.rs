//! [`MetaStore`] written once over a [`SqlDriver`]: the SQL and the row mapping live here.

use std::sync::Arc;

use async_trait::async_trait;

use crate::sealing::SealingKeys;
use crate::sql::{params, Row, SqlDriver};
use crate::{ApiKey, AuditEntry, Invitation, MetaStore, MetaStoreError, PipelineRule, Project, Role, Session, User};

/// The metadata store over one database driver.
pub struct SqlMetaStore<D> {
    pub(crate) db: D,
    /// Seals stored credentials (see [`crate::sealing`]); `None`: they are stored as given.
    pub(crate) sealing: Option<Arc<SealingKeys>>,
}

/// Settings holding credentials: sealed like alert channels' configurations.
const SEALED_SETTINGS: &[&str] = &["redaction_key:"];

fn sealed_setting(name: &str) -> bool {
    SEALED_SETTINGS.iter().any(|p| name.starts_with(p))
}

fn setting_context(name: &str) -> String {
    format!("settings.value:{name}")
}

impl<D> std::fmt::Debug for SqlMetaStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlMetaStore").field("driver", &std::any::type_name::<D>()).finish_non_exhaustive()
    }
}

impl<D: SqlDriver> SqlMetaStore<D> {
    pub fn with_driver(db: D) -> Self {
        Self { db, sealing: None }
    }

    /// Seals the credentials written from now on with `keys`, and opens what they sealed.
    #[must_use]
    pub fn with_sealing(mut self, keys: SealingKeys) -> Self {
        self.sealing = Some(Arc::new(keys));
        self
    }

    /// `plain` as it is stored at `context`: sealed when keys are configured.
    pub(crate) fn seal(&self, plain: &str, context: &str) -> Result<String, MetaStoreError> {
        self.sealing.as_ref().map_or_else(|| Ok(plain.to_owned()), |k| k.seal(plain, context))
    }

    /// What [`SqlMetaStore::seal`] stored at `context`.
    pub(crate) fn unseal(&self, stored: &str, context: &str) -> Result<String, MetaStoreError> {
        crate::sealing::open_with(self.sealing.as_deref(), stored, context)
    }

    /// [`MetaStore::reseal`]: every credential not sealed with the current key (stored in clear
    /// before keys were configured, or sealed by a key since rotated out of first place) is
    /// rewritten. Safe beside running writers: a row changed meanwhile is left to its writer.
    async fn reseal_all(&self) -> Result<u64, MetaStoreError> {
        let Some(keys) = self.sealing.clone() else { return Ok(0) };
        let mut rewritten = 0;
        let pair = |mut r: Row| Ok((r.text()?, r.text()?));
        for (id, stored) in self.all("SELECT id, config FROM alert_channels", vec![], pair).await? {
            if keys.is_current(&stored) {
                continue;
            }
            let context = crate::alerts::channel_context(&id);
            let sealed = keys.seal(&self.unseal(&stored, &context)?, &context)?;
            rewritten += self.exec("UPDATE alert_channels SET config = ?1 WHERE id = ?2 AND config = ?3", params![sealed, id, stored]).await?;
        }
        for (name, stored) in self.all("SELECT name, value FROM settings", vec![], pair).await? {
            if !sealed_setting(&name) || keys.is_current(&stored) {
                continue;
            }
            let context = setting_context(&name);
            let sealed = keys.seal(&self.unseal(&stored, &context)?, &context)?;
            rewritten += self.exec("UPDATE settings SET value = ?1 WHERE name = ?2 AND value = ?3", params![sealed, name, stored]).await?;
        }
        Ok(rewritten)
    }

    async fn revision(&self, project_id: &str) -> Result<i64, MetaStoreError> {
        let rows = self.db.query("SELECT revision FROM pipeline_revisions WHERE project_id = ?1", params![project_id]).await?;
        rows.into_iter().next().map_or(Ok(0), |mut r| r.int())
    }

    pub(crate) async fn one<T>(&self, sql: &'static str, params: Vec<crate::sql::SqlValue>, map: fn(Row) -> Result<T, MetaStoreError>) -> Result<Option<T>, MetaStoreError> {
        self.db.query(sql, params).await?.into_iter().next().map(map).transpose()
    }

    pub(crate) async fn all<T>(&self, sql: &'static str, params: Vec<crate::sql::SqlValue>, map: fn(Row) -> Result<T, MetaStoreError>) -> Result<Vec<T>, MetaStoreError> {
        self.db.query(sql, params).await?.into_iter().map(map).collect()
    }

    pub(crate) async fn exec(&self, sql: &'static str, params: Vec<crate::sql::SqlValue>) -> Result<u64, MetaStoreError> {
        Ok(self.db.transaction(vec![(sql, params)]).await?.into_iter().sum())
    }
}

fn project(mut r: Row) -> Result<Project, MetaStoreError> {
    Ok(Project { id: r.text()?, slug: r.text()?, name: r.text()?, created_at: r.int()? })
}

fn user(mut r: Row) -> Result<User, MetaStoreError> {
    Ok(User {
        id: r.text()?,
        email: r.text()?,
        name: r.text()?,
        password_hash: r.text()?,
        is_admin: r.bool()?,
        created_at: r.int()?,
        disabled_at: r.opt_int()?,
    })
}

fn role(r: &mut Row) -> Result<Role, MetaStoreError> {
    r.text()?.parse().map_err(MetaStoreError::Unavailable)
}

fn user_role(mut r: Row) -> Result<(User, Role), MetaStoreError> {
    let role = role(&mut r)?;
    Ok((user(r)?, role))
}

fn project_role(mut r: Row) -> Result<(Project, Role), MetaStoreError> {
    let role = role(&mut r)?;
    Ok((project(r)?, role))
}

fn api_key(mut r: Row) -> Result<ApiKey, MetaStoreError> {
    Ok(ApiKey {
        id: r.text()?,
        project_id: r.text()?,
        name: r.text()?,
        source: r.text()?,
        prefix: r.text()?,
        key_hash: r.text()?,
        scopes: r.text()?,
        created_by: r.text()?,
        created_at: r.int()?,
        revoked_at: r.opt_int()?,
        last_used_at: r.opt_int()?,
        expires_at: r.opt_int()?,
    })
}

fn session(mut r: Row) -> Result<Session, MetaStoreError> {
    Ok(Session {
        id: r.text()?,
        user_id: r.text()?,
        refresh_hash: r.text()?,
        created_at: r.int()?,
        expires_at: r.int()?,
        revoked_at: r.opt_int()?,
        previous_refresh_hash: r.opt_text()?,
        rotated_at: r.opt_int()?,
    })
}

fn invitation(mut r: Row) -> Result<Invitation, MetaStoreError> {
    Ok(Invitation {
        id: r.text()?,
        token_hash: r.text()?,
        email: r.text()?,
        project_id: r.text()?,
        role: role(&mut r)?,
        invited_by: r.text()?,
        created_at: r.int()?,
        expires_at: r.int()?,
        accepted_at: r.opt_int()?,
        emailed: r.bool()?,
    })
}

fn audit(mut r: Row) -> Result<AuditEntry, MetaStoreError> {
    Ok(AuditEntry {
        id: r.text()?,
        at: r.int()?,
        actor: r.text()?,
        actor_name: r.text()?,
        action: r.text()?,
        project_id: r.opt_text()?,
        target: r.text()?,
        outcome: r.text()?,
        detail: r.text()?,
        ip: r.text()?,
    })
}

fn pipeline_rule(mut r: Row) -> Result<PipelineRule, MetaStoreError> {
    Ok(PipelineRule { id: r.text()?, project_id: r.text()?, position: r.int()?, definition: r.text()?, created_at: r.int()?, updated_at: r.int()? })
}

fn revision(mut r: Row) -> Result<(String, i64), MetaStoreError> {
    Ok((r.text()?, r.int()?))
}

const BUMP_REVISION: &str = "INSERT INTO pipeline_revisions (project_id, revision, updated_at) VALUES (?1, 1, ?2) \
     ON CONFLICT (project_id) DO UPDATE SET revision = pipeline_revisions.revision + 1, updated_at = excluded.updated_at";

fn first_text(mut r: Row) -> Result<String, MetaStoreError> {
    r.text()
}

/// `concat!` needs literals, so the column lists are spelled out in each statement; these
/// macros keep the repeated ones in one place.
macro_rules! select_user {
    ($rest:literal) => {
        concat!("SELECT u.id, u.email, u.name, u.password_hash, u.is_admin, u.created_at, u.disabled_at FROM users u ", $rest)
    };
}
macro_rules! select_project {
    ($rest:literal) => {
        concat!("SELECT p.id, p.slug, p.name, p.created_at FROM projects p ", $rest)
    };
}
macro_rules! select_key {
    ($rest:literal) => {
        concat!(
            "SELECT id, project_id, name, source, prefix, key_hash, scopes, created_by, created_at, revoked_at, last_used_at, expires_at FROM api_keys ",
            $rest
        )
    };
}
macro_rules! select_audit {
    ($rest:literal) => {
        concat!("SELECT id, at, actor, actor_name, action, project_id, target, outcome, detail, ip FROM audit_log ", $rest)
    };
}

#[async_trait]
impl<D: SqlDriver> MetaStore for SqlMetaStore<D> {
    async fn migrate(&self) -> Result<u32, MetaStoreError> {
        self.db.migrate().await
    }

    async fn health(&self) -> Result<(), MetaStoreError> {
        self.db.query("SELECT 1", vec![]).await.map(drop)
    }

    async fn create_project(&self, slug: &str, name: &str) -> Result<Project, MetaStoreError> {
        let p = Project { id: crate::new_id(), slug: slug.to_owned(), name: name.to_owned(), created_at: crate::now() };
        self.exec("INSERT INTO projects (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)", params![&p.id, &p.slug, &p.name, p.created_at])
            .await?;
        Ok(p)
    }

    async fn project_by_slug(&self, slug: &str) -> Result<Option<Project>, MetaStoreError> {
        self.one(select_project!("WHERE p.slug = ?1"), params![slug], project).await
    }

    async fn project_by_id(&self, id: &str) -> Result<Option<Project>, MetaStoreError> {
        self.one(select_project!("WHERE p.id = ?1"), params![id], project).await
    }

    async fn list_projects(&self) -> Result<Vec<Project>, MetaStoreError> {
        self.all(select_project!("ORDER BY p.slug"), vec![], project).await
    }

    async fn rename_project(&self, id: &str, name: &str) -> Result<bool, MetaStoreError> {
        Ok(self.exec("UPDATE projects SET name = ?2 WHERE id = ?1", params![id, name]).await? > 0)
    }

    async fn delete_project(&self, id: &str) -> Result<bool, MetaStoreError> {
        // Children explicitly too: SQLite enforces ON DELETE CASCADE only with foreign_keys on.
        let changed = self
            .db
            .transaction(vec![
                (
                    "INSERT INTO deleted_api_keys (prefix, deleted_at) SELECT prefix, ?2 FROM api_keys WHERE project_id = ?1 \
                     ON CONFLICT (prefix) DO NOTHING",
                    params![id, crate::now()],
                ),
                ("DELETE FROM api_keys WHERE project_id = ?1", params![id]),
                ("DELETE FROM memberships WHERE project_id = ?1", params![id]),
                ("DELETE FROM invitations WHERE project_id = ?1", params![id]),
                ("DELETE FROM pipeline_rules WHERE project_id = ?1", params![id]),
                ("DELETE FROM pipeline_revisions WHERE project_id = ?1", params![id]),
                (
                    "DELETE FROM alert_delivery_attempts WHERE delivery_id IN (SELECT d.id FROM alert_deliveries d \
                     JOIN alert_transitions t ON t.id = d.transition_id WHERE t.project_id = ?1)",
                    params![id],
                ),
                ("DELETE FROM alert_deliveries WHERE transition_id IN (SELECT id FROM alert_transitions WHERE project_id = ?1)", params![id]),
                ("DELETE FROM alert_transitions WHERE project_id = ?1", params![id]),
                ("DELETE FROM alert_silences WHERE project_id = ?1", params![id]),
                ("DELETE FROM alert_channels WHERE project_id = ?1", params![id]),
                ("DELETE FROM alert_rules WHERE project_id = ?1", params![id]),
                ("DELETE FROM project_documents WHERE project_id = ?1", params![id]),
                ("DELETE FROM project_redaction WHERE project_id = ?1", params![id]),
                ("DELETE FROM settings WHERE name = 'redaction_key:' || ?1", params![id]),
                ("DELETE FROM projects WHERE id = ?1", params![id]),
            ])
            .await?;
        Ok(changed.last().copied().unwrap_or(0) > 0)
    }

    async fn create_user(&self, u: &User) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO users (id, email, name, password_hash, is_admin, created_at, disabled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![&u.id, &u.email, &u.name, &u.password_hash, u.is_admin, u.created_at, u.disabled_at],
        )
        .await
        .map(drop)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, MetaStoreError> {
        self.one(select_user!("WHERE u.email = ?1"), params![email], user).await
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>, MetaStoreError> {
        self.one(select_user!("WHERE u.id = ?1"), params![id], user).await
    }

    async fn list_users(&self) -> Result<Vec<User>, MetaStoreError> {
        self.all(select_user!("ORDER BY u.email"), vec![], user).await
    }

    async fn update_user(&self, u: &User) -> Result<bool, MetaStoreError> {
        let n = self
            .exec(
                "UPDATE users SET name = ?2, password_hash = ?3, is_admin = ?4, disabled_at = ?5 WHERE id = ?1",
                params![&u.id, &u.name, &u.password_hash, u.is_admin, u.disabled_at],
            )
            .await?;
        Ok(n > 0)
    }

    async fn set_member(&self, project_id: &str, user_id: &str, role: Role) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO memberships (project_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
            params![project_id, user_id, role.as_str(), crate::now()],
        )
        .await
        .map(drop)
    }

    async fn remove_member(&self, project_id: &str, user_id: &str) -> Result<bool, MetaStoreError> {
        Ok(self.exec("DELETE FROM memberships WHERE project_id = ?1 AND user_id = ?2", params![project_id, user_id]).await? > 0)
    }

    async fn member_role(&self, project_id: &str, user_id: &str) -> Result<Option<Role>, MetaStoreError> {
        let mut rows = self.db.query("SELECT role FROM memberships WHERE project_id = ?1 AND user_id = ?2", params![project_id, user_id]).await?;
        rows.pop().map(|mut r| role(&mut r)).transpose()
    }

    async fn list_members(&self, project_id: &str) -> Result<Vec<(User, Role)>, MetaStoreError> {
        self.all(
            "SELECT m.role, u.id, u.email, u.name, u.password_hash, u.is_admin, u.created_at, u.disabled_at \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 ORDER BY u.email",
            params![project_id],
            user_role,
        )
        .await
    }

    async fn memberships_of(&self, user_id: &str) -> Result<Vec<(Project, Role)>, MetaStoreError> {
        self.all(
            "SELECT m.role, p.id, p.slug, p.name, p.created_at FROM memberships m JOIN projects p ON p.id = m.project_id \
             WHERE m.user_id = ?1 ORDER BY p.slug",
            params![user_id],
            project_role,
        )
        .await
    }

    async fn create_api_key(&self, k: &ApiKey) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO api_keys (id, project_id, name, source, prefix, key_hash, scopes, created_by, created_at, revoked_at, last_used_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![&k.id, &k.project_id, &k.name, &k.source, &k.prefix, &k.key_hash, &k.scopes, &k.created_by, k.created_at, k.revoked_at, k.last_used_at, k.expires_at],
        )
        .await
        .map(drop)
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, MetaStoreError> {
        self.one(select_key!("WHERE prefix = ?1"), params![prefix], api_key).await
    }

    async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKey>, MetaStoreError> {
        self.all(select_key!("WHERE project_id = ?1 ORDER BY created_at, id"), params![project_id], api_key).await
    }

    async fn has_api_key_named(&self, project_id: &str, name: &str) -> Result<bool, MetaStoreError> {
        Ok(!self.db.query("SELECT 1 FROM api_keys WHERE project_id = ?1 AND name = ?2 LIMIT 1", params![project_id, name]).await?.is_empty())
    }

    async fn revoke_api_key(&self, project_id: &str, id: &str, at: i64) -> Result<bool, MetaStoreError> {
        let n = self
            .exec("UPDATE api_keys SET revoked_at = ?3 WHERE project_id = ?1 AND id = ?2 AND revoked_at IS NULL", params![project_id, id, at])
            .await?;
        Ok(n > 0)
    }

    async fn api_keys_revoked_since(&self, since: i64) -> Result<Vec<String>, MetaStoreError> {
        self.all(
            "SELECT prefix FROM api_keys WHERE revoked_at >= ?1 UNION SELECT prefix FROM deleted_api_keys WHERE deleted_at >= ?1",
            params![since],
            first_text,
        )
        .await
    }

    async fn touch_api_keys(&self, ids: &[String], at: i64) -> Result<(), MetaStoreError> {
        let statements = ids.iter().map(|id| ("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1", params![id, at])).collect();
        self.db.transaction(statements).await.map(drop)
    }

    async fn create_session(&self, s: &Session) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO sessions (id, user_id, refresh_hash, created_at, expires_at, revoked_at, previous_refresh_hash, rotated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![&s.id, &s.user_id, &s.refresh_hash, s.created_at, s.expires_at, s.revoked_at, s.previous_refresh_hash.as_deref(), s.rotated_at],
        )
        .await
        .map(drop)
    }

    async fn session_by_id(&self, id: &str) -> Result<Option<Session>, MetaStoreError> {
        self.one(
            "SELECT id, user_id, refresh_hash, created_at, expires_at, revoked_at, previous_refresh_hash, rotated_at FROM sessions WHERE id = ?1",
            params![id],
            session,
        )
        .await
    }

    async fn live_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, MetaStoreError> {
        self.all(
            "SELECT id, user_id, refresh_hash, created_at, expires_at, revoked_at, previous_refresh_hash, rotated_at FROM sessions \
             WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 ORDER BY created_at DESC, id DESC",
            params![user_id, now],
            session,
        )
        .await
    }

    async fn rotate_session(&self, id: &str, old_hash: &str, new_hash: &str, expires_at: i64, at: i64) -> Result<bool, MetaStoreError> {
        // One conditional UPDATE: of two refreshes racing with the same token, exactly one rotates.
        let n = self
            .exec(
                "UPDATE sessions SET previous_refresh_hash = refresh_hash, rotated_at = ?5, refresh_hash = ?3, expires_at = ?4 \
                 WHERE id = ?1 AND refresh_hash = ?2 AND revoked_at IS NULL AND expires_at > ?5",
                params![id, old_hash, new_hash, expires_at, at],
            )
            .await?;
        Ok(n > 0)
    }

    async fn revoke_session(&self, id: &str, at: i64) -> Result<bool, MetaStoreError> {
        Ok(self.exec("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, at]).await? > 0)
    }

    async fn revoke_user_sessions(&self, user_id: &str, keep: Option<&str>, at: i64) -> Result<u64, MetaStoreError> {
        self.exec(
            "UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND id <> ?2 AND revoked_at IS NULL",
            params![user_id, keep.unwrap_or(""), at],
        )
        .await
    }

    async fn sessions_revoked_since(&self, since: i64) -> Result<Vec<String>, MetaStoreError> {
        self.all("SELECT id FROM sessions WHERE revoked_at >= ?1", params![since], first_text).await
    }

    async fn create_invitation(&self, i: &Invitation) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO invitations (id, token_hash, email, project_id, role, invited_by, created_at, expires_at, accepted_at, emailed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![&i.id, &i.token_hash, &i.email, &i.project_id, i.role.as_str(), &i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.emailed],
        )
        .await
        .map(drop)
    }

    async fn invitation_by_token_hash(&self, token_hash: &str) -> Result<Option<Invitation>, MetaStoreError> {
        self.one(
            "SELECT id, token_hash, email, project_id, role, invited_by, created_at, expires_at, accepted_at, emailed FROM invitations WHERE token_hash = ?1",
            params![token_hash],
            invitation,
        )
        .await
    }

    async fn accept_invitation(&self, id: &str, at: i64) -> Result<bool, MetaStoreError> {
        Ok(self.exec("UPDATE invitations SET accepted_at = ?2 WHERE id = ?1 AND accepted_at IS NULL", params![id, at]).await? > 0)
    }

    async fn append_audit(&self, e: &AuditEntry) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO audit_log (id, at, actor, actor_name, action, project_id, target, outcome, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![&e.id, e.at, &e.actor, &e.actor_name, &e.action, e.project_id.as_deref(), &e.target, &e.outcome, &e.detail, &e.ip],
        )
        .await
        .map(drop)
    }

    async fn list_audit(&self, project_id: Option<&str>, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, MetaStoreError> {
        let before = before.unwrap_or(i64::MAX);
        let limit = i64::from(limit);
        match project_id {
            Some(p) => self.all(select_audit!("WHERE project_id = ?1 AND at < ?2 ORDER BY at DESC, id DESC LIMIT ?3"), params![p, before, limit], audit).await,
            None => self.all(select_audit!("WHERE at < ?1 ORDER BY at DESC, id DESC LIMIT ?2"), params![before, limit], audit).await,
        }
    }

    async fn pipeline_rules(&self, project_id: &str) -> Result<Vec<PipelineRule>, MetaStoreError> {
        self.all(
            "SELECT id, project_id, position, definition, created_at, updated_at FROM pipeline_rules WHERE project_id = ?1 ORDER BY position, id",
            params![project_id],
            pipeline_rule,
        )
        .await
    }

    async fn save_pipeline_rule(&self, r: &PipelineRule) -> Result<i64, MetaStoreError> {
        let upsert = "INSERT INTO pipeline_rules (id, project_id, position, definition, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET position = excluded.position, definition = excluded.definition, updated_at = excluded.updated_at \
             WHERE pipeline_rules.project_id = excluded.project_id";
        let changed = self
            .db
            .transaction(vec![
                (upsert, params![&r.id, &r.project_id, r.position, &r.definition, r.created_at, r.updated_at]),
                (BUMP_REVISION, params![&r.project_id, r.updated_at]),
            ])
            .await?;
        if changed.first() == Some(&0) {
            return Err(MetaStoreError::Conflict(format!("rule {} belongs to another project", r.id)));
        }
        self.revision(&r.project_id).await
    }

    async fn delete_pipeline_rule(&self, project_id: &str, id: &str) -> Result<Option<i64>, MetaStoreError> {
        let changed = self
            .db
            .transaction(vec![
                ("DELETE FROM pipeline_rules WHERE project_id = ?1 AND id = ?2", params![project_id, id]),
                (BUMP_REVISION, params![project_id, crate::now()]),
            ])
            .await?;
        if changed.first() == Some(&0) {
            // Nothing deleted; the bump is harmless (processors reload an unchanged pipeline).
            return Ok(None);
        }
        self.revision(project_id).await.map(Some)
    }

    async fn pipeline_revisions(&self) -> Result<Vec<(String, i64)>, MetaStoreError> {
        self.all("SELECT project_id, revision FROM pipeline_revisions ORDER BY project_id", vec![], revision).await
    }

    async fn redaction(&self, project_id: &str) -> Result<Option<(String, i64)>, MetaStoreError> {
        self.one("SELECT definition, updated_at FROM project_redaction WHERE project_id = ?1", params![project_id], |mut r| Ok((r.text()?, r.int()?))).await
    }

    async fn save_redaction(&self, project_id: &str, definition: &str, updated_at: i64) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO project_redaction (project_id, definition, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (project_id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
            params![project_id, definition, updated_at],
        )
        .await
        .map(drop)
    }

    async fn reseal(&self) -> Result<u64, MetaStoreError> {
        self.reseal_all().await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, MetaStoreError> {
        let stored = self.one("SELECT value FROM settings WHERE name = ?1", params![name], first_text).await?;
        match stored {
            Some(v) if sealed_setting(name) => self.unseal(&v, &setting_context(name)).map(Some),
            other => Ok(other),
        }
    }

    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, MetaStoreError> {
        let value = if sealed_setting(name) { self.seal(value, &setting_context(name))? } else { value.to_owned() };
        self.exec("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING", params![name, value]).await?;
        self.setting(name).await?.ok_or_else(|| MetaStoreError::Unavailable(format!("setting {name} vanished")))
    }
}
