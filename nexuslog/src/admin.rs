//! `nexuslog admin ...`: operator commands run against the configured metadata store, for when
//! the API cannot help (the only admin's password is lost).

use anyhow::Context;
use nexuslog_metastore::{passwords, AuditEntry};

use crate::backends;
use crate::cli::AdminAction;

pub async fn run(action: &AdminAction, config: &nexuslog_config::Config) -> anyhow::Result<()> {
    match action {
        AdminAction::ResetPassword { email } => {
            let meta = backends::metastore(config).await?;
            meta.migrate().await.context("migrating the metadata store")?;
            let email = email.trim().to_lowercase();
            let mut user = meta.user_by_email(&email).await?.with_context(|| format!("no user with e-mail {email}"))?;
            let password = passwords::generate();
            user.password_hash = passwords::hash(&password)?;
            user.disabled_at = None;
            meta.update_user(&user).await?;
            let now = nexuslog_metastore::now();
            let ended = meta.revoke_user_sessions(&user.id, None, now).await?;
            meta.append_audit(&AuditEntry {
                id: nexuslog_metastore::new_id(),
                at: now,
                actor: "cli".into(),
                actor_name: "nexuslog admin reset-password".into(),
                action: "user.password_reset".into(),
                project_id: None,
                target: user.id.clone(),
                outcome: "success".into(),
                detail: serde_json::json!({ "email": email, "sessions_ended": ended }).to_string(),
                ip: String::new(),
            })
            .await?;
            println!("new password for {email} (shown once; the account is enabled and its sessions ended): {password}");
            Ok(())
        }
    }
}
