//! Writing the audit log: one row per security-relevant action, success or failure.
//!
//! A failed write does not undo the action (it already happened) and does not fail the
//! request: it is logged as an error and counted, so monitoring sees a gap in the trail.

use serde_json::Value;

use crate::authz::Caller;
use crate::Api;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Api {
    /// A successful action by the caller.
    pub(crate) async fn audit(&self, caller: &Caller, action: &str, project_id: Option<&str>, target: &str, detail: Value) {
        self.audit_outcome(caller, action, project_id, target, Outcome::Success, detail).await;
    }

    pub(crate) async fn audit_outcome(&self, caller: &Caller, action: &str, project_id: Option<&str>, target: &str, outcome: Outcome, detail: Value) {
        let (actor, name) = caller.principal.as_ref().map_or_else(|| ("anonymous".to_owned(), String::new()), |p| p.actor());
        self.audit_as(caller, &actor, &name, action, project_id, target, outcome, detail).await;
    }

    /// An action before anyone is signed in (a login attempt names the account it tried).
    pub(crate) async fn audit_anonymous(&self, caller: &Caller, attempted: &str, action: &str, outcome: Outcome, detail: Value) {
        self.audit_as(caller, "anonymous", attempted, action, None, attempted, outcome, detail).await;
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn audit_as(
        &self,
        caller: &Caller,
        actor: &str,
        actor_name: &str,
        action: &str,
        project_id: Option<&str>,
        target: &str,
        outcome: Outcome,
        detail: Value,
    ) {
        let entry = nexuslog_metastore::AuditEntry {
            id: nexuslog_metastore::new_id(),
            at: nexuslog_metastore::now(),
            actor: actor.to_owned(),
            actor_name: actor_name.to_owned(),
            action: action.to_owned(),
            project_id: project_id.map(str::to_owned),
            target: target.to_owned(),
            outcome: match outcome {
                Outcome::Success => "success",
                Outcome::Failure => "failure",
            }
            .to_owned(),
            detail: detail.to_string(),
            ip: caller.ip.clone(),
        };
        if let Err(e) = self.meta.append_audit(&entry).await {
            metrics::counter!("nexuslog_audit_write_failures_total").increment(1);
            tracing::error!(error = %e, action, actor, "cannot write the audit log");
        }
    }
}
