//! Who may do what: the permission table of project roles, the access policy of each endpoint,
//! and the middleware that enforces it before any handler runs.
//!
//! Handlers never decide access themselves: every route is declared with an [`Access`] in
//! [`crate::routes`], and [`enforce`] resolves the caller, the project named in the path, and the
//! caller's role in it, refusing with 401 (who are you?), 404 (no such project *for you*, so
//! project names do not leak) or 403 (you may see it, not do this).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use nexuslog_metastore::keys::{self, KeyError, Scope};
use nexuslog_metastore::{ApiKey, Project, Role};

use crate::{Api, ApiError};

/// Something a project role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the project and its settings.
    ProjectRead,
    /// Search, aggregate and tail the project's logs.
    LogsRead,
    SavedQueriesRead,
    SavedQueriesWrite,
    DashboardsRead,
    DashboardsWrite,
    AlertRulesRead,
    AlertRulesWrite,
    PipelinesRead,
    PipelinesWrite,
    MembersRead,
    /// Invite, change roles, remove members (only an owner grants or removes `owner`).
    MembersWrite,
    ApiKeysRead,
    ApiKeysWrite,
    /// Rename the project; change its redaction rules.
    ProjectUpdate,
    ProjectDelete,
    /// The project's part of the audit log.
    AuditRead,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Permission::ProjectRead,
        Permission::LogsRead,
        Permission::SavedQueriesRead,
        Permission::SavedQueriesWrite,
        Permission::DashboardsRead,
        Permission::DashboardsWrite,
        Permission::AlertRulesRead,
        Permission::AlertRulesWrite,
        Permission::PipelinesRead,
        Permission::PipelinesWrite,
        Permission::MembersRead,
        Permission::MembersWrite,
        Permission::ApiKeysRead,
        Permission::ApiKeysWrite,
        Permission::ProjectUpdate,
        Permission::ProjectDelete,
        Permission::AuditRead,
    ];
}

/// The least role that holds a permission; roles are ordered viewer < editor < admin < owner and
/// each holds everything the ones below hold.
pub fn least_role(p: Permission) -> Role {
    use Permission::*;
    match p {
        ProjectRead | LogsRead | SavedQueriesRead | DashboardsRead | AlertRulesRead | PipelinesRead | MembersRead => Role::Viewer,
        SavedQueriesWrite | DashboardsWrite | AlertRulesWrite | PipelinesWrite => Role::Editor,
        MembersWrite | ApiKeysRead | ApiKeysWrite | ProjectUpdate | AuditRead => Role::Admin,
        ProjectDelete => Role::Owner,
    }
}

pub fn role_grants(role: Role, p: Permission) -> bool {
    role >= least_role(p)
}

/// What an API key's scope allows outside ingest: `read` reads logs, nothing else.
fn key_grants(key: &ApiKey, p: Permission) -> bool {
    matches!(p, Permission::LogsRead | Permission::ProjectRead) && keys::check_scope(key, Scope::Read).is_ok()
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login, refresh, accepting an invitation).
    Public,
    /// Any signed-in user (not an API key).
    User,
    /// Instance administrators.
    InstanceAdmin,
    /// Users with the permission in the `{project}` of the path (instance admins always), and
    /// API keys of that project whose scope grants it.
    Project(Permission),
    /// As `Project`, with the project taken from the key, or from `?project=` for users.
    KeyOrProject(Permission),
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    User { id: String, email: String, is_admin: bool, session_id: String },
    Key(ApiKey),
}

impl Principal {
    /// How the audit log names the actor.
    pub fn actor(&self) -> (String, String) {
        match self {
            Principal::User { id, email, .. } => (format!("user:{id}"), email.clone()),
            Principal::Key(k) => (format!("key:{}", k.prefix), k.name.clone()),
        }
    }
}

/// What [`enforce`] established, handed to the handler as a request extension.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` only on [`Access::Public`] routes.
    pub principal: Option<Principal>,
    /// The project the route acts on, when it has one.
    pub project: Option<Project>,
    /// The caller's role there (`None` for instance admins who are not members, and for keys).
    pub role: Option<Role>,
    pub ip: String,
}

impl Caller {
    pub fn user(&self) -> Result<(&str, &str, bool, &str), ApiError> {
        match &self.principal {
            Some(Principal::User { id, email, is_admin, session_id }) => Ok((id, email, *is_admin, session_id)),
            _ => Err(ApiError::Unauthenticated("sign in first".into())),
        }
    }

    pub fn project(&self) -> Result<&Project, ApiError> {
        self.project.as_ref().ok_or_else(|| ApiError::Internal("route without a project".into()))
    }

    pub fn is_instance_admin(&self) -> bool {
        matches!(&self.principal, Some(Principal::User { is_admin: true, .. }))
    }
}

fn bearer(req: &Request) -> &str {
    let get = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    keys::presented(get(header::AUTHORIZATION.as_str()), get("x-api-key"))
}

fn client_ip(req: &Request) -> String {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// Resolves the credential of a request: an API key (`nxl_…`) or a session access token.
pub(crate) async fn authenticate(api: &Api, presented: &str) -> Result<Principal, ApiError> {
    if presented.is_empty() {
        return Err(ApiError::Unauthenticated("missing credentials: send `Authorization: Bearer <token or API key>`".into()));
    }
    if presented.starts_with(keys::KEY_PREFIX) {
        return match api.keys.key(presented).await {
            Ok(k) => Ok(Principal::Key(k)),
            Err(KeyError::Store(e)) => Err(e.into()),
            Err(e) => Err(ApiError::Unauthenticated(e.to_string())),
        };
    }
    let claims = api.tokens.verify(presented).ok_or_else(|| ApiError::Unauthenticated("invalid or expired access token".into()))?;
    match api.sessions.live_user(&claims.sid).await? {
        Some(user) if user == claims.sub => Ok(Principal::User { id: claims.sub, email: claims.email, is_admin: claims.adm, session_id: claims.sid }),
        _ => Err(ApiError::Unauthenticated("the session has ended; sign in again".into())),
    }
}

/// The middleware in front of every route: authenticates, then authorizes `access`.
pub async fn enforce(State((api, access)): State<(Arc<Api>, Access)>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let ip = client_ip(&req);
    if access == Access::Public {
        req.extensions_mut().insert(Caller { principal: None, project: None, role: None, ip });
        return Ok(next.run(req).await);
    }
    let principal = authenticate(&api, bearer(&req)).await?;
    let slug = match access {
        Access::Project(_) => {
            let (mut parts, body) = req.into_parts();
            let params = axum::RequestPartsExt::extract::<Path<HashMap<String, String>>>(&mut parts)
                .await
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            req = Request::from_parts(parts, body);
            params.0.get("project").cloned()
        }
        Access::KeyOrProject(_) => query_param(req.uri().query(), "project"),
        _ => None,
    };
    let caller = authorize(&api, principal, access, slug.as_deref(), ip).await?;
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
}

async fn authorize(api: &Api, principal: Principal, access: Access, slug: Option<&str>, ip: String) -> Result<Caller, ApiError> {
    let no_project = || ApiError::NotFound("no such project".into());
    let caller = |project, role, principal| Caller { principal: Some(principal), project, role, ip: ip.clone() };
    match (access, &principal) {
        (Access::Public, _) => Ok(caller(None, None, principal)),
        (Access::User, Principal::User { .. }) => Ok(caller(None, None, principal)),
        (Access::InstanceAdmin, Principal::User { is_admin: true, .. }) => Ok(caller(None, None, principal)),
        (Access::User | Access::InstanceAdmin, Principal::Key(_)) => Err(ApiError::Forbidden("API keys cannot call this endpoint; sign in as a user".into())),
        (Access::InstanceAdmin, Principal::User { .. }) => Err(ApiError::Forbidden("instance administrators only".into())),
        (Access::Project(perm) | Access::KeyOrProject(perm), Principal::Key(key)) => {
            let project = match slug {
                Some(s) => api.projects.by_slug(api.meta.as_ref(), s).await?.filter(|p| p.id == key.project_id).ok_or_else(no_project)?,
                None => api.projects.by_id(api.meta.as_ref(), &key.project_id).await?.ok_or_else(no_project)?,
            };
            if !key_grants(key, perm) {
                return Err(ApiError::Forbidden(format!("this API key's scopes ({}) do not allow this", key.scopes)));
            }
            Ok(caller(Some(project), None, principal))
        }
        (Access::Project(perm) | Access::KeyOrProject(perm), Principal::User { id, is_admin, .. }) => {
            let slug = slug.ok_or_else(|| ApiError::BadRequest("name the project: `?project=<slug>`".into()))?;
            let project = api.projects.by_slug(api.meta.as_ref(), slug).await?.ok_or_else(no_project)?;
            let role = api.meta.member_role(&project.id, id).await?;
            match role {
                _ if *is_admin => Ok(caller(Some(project), role, principal)),
                None => Err(no_project()),
                Some(r) if role_grants(r, perm) => Ok(caller(Some(project), role, principal)),
                Some(r) => Err(ApiError::Forbidden(format!("the {r} role does not allow this ({} or above needed)", least_role(perm)))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_cumulative() {
        for p in Permission::ALL {
            let holders: Vec<Role> = Role::ALL.into_iter().filter(|r| role_grants(*r, p)).collect();
            assert!(holders.contains(&Role::Owner), "owner holds {p:?}");
            // Once a role holds it, every higher role does.
            let first = Role::ALL.iter().position(|r| role_grants(*r, p)).expect("someone holds it");
            assert_eq!(holders.len(), Role::ALL.len() - first, "{p:?}");
        }
        assert!(!role_grants(Role::Viewer, Permission::PipelinesWrite));
        assert!(role_grants(Role::Editor, Permission::PipelinesWrite));
        assert!(!role_grants(Role::Editor, Permission::ApiKeysWrite));
        assert!(!role_grants(Role::Admin, Permission::ProjectDelete));
    }

    #[test]
    fn project_from_query() {
        assert_eq!(query_param(Some("q=x&project=web&limit=1"), "project"), Some("web".into()));
        assert_eq!(query_param(Some("q=project"), "project"), None);
        assert_eq!(query_param(None, "project"), None);
    }
}
