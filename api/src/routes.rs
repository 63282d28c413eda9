//! Every endpoint of the API with who may call it: one table, from which the router is built
//! (so no route exists without a declared access policy) and which tests enumerate.

use std::sync::Arc;

use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use crate::authz::{enforce, Access, Permission as P};
use crate::handlers::dashboards::{self, Dashboard};
use crate::handlers::documents as docs;
use crate::handlers::saved_searches::SavedSearch;
use crate::handlers::{alerts, audit, auth, keys, members, pipelines, projects, users};
use crate::{aggregate, search, tail, Api};

/// One endpoint: method, path (axum syntax), access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

type Handler = MethodRouter<Arc<Api>>;

fn table() -> Vec<(Method, &'static str, Access, Handler)> {
    use Access::{InstanceAdmin, KeyOrProject, Project, Public, User};
    let (get, post, put, patch, delete) =
        (MethodFilter::GET, MethodFilter::POST, MethodFilter::PUT, MethodFilter::PATCH, MethodFilter::DELETE);
    vec![
        (Method::POST, "/v1/auth/login", Public, on(post, auth::login)),
        (Method::POST, "/v1/auth/refresh", Public, on(post, auth::refresh)),
        (Method::POST, "/v1/auth/logout", User, on(post, auth::logout)),
        (Method::GET, "/v1/auth/me", User, on(get, auth::me)),
        (Method::POST, "/v1/auth/password", User, on(post, auth::change_password)),
        (Method::GET, "/v1/auth/sessions", User, on(get, auth::sessions)),
        (Method::DELETE, "/v1/auth/sessions/{session_id}", User, on(delete, auth::end_session)),
        (Method::POST, "/v1/invitations/accept", Public, on(post, members::accept)),
        (Method::GET, "/v1/roles", User, on(get, projects::roles)),
        (Method::GET, "/v1/users", InstanceAdmin, on(get, users::list)),
        (Method::POST, "/v1/users", InstanceAdmin, on(post, users::create)),
        (Method::PATCH, "/v1/users/{user_id}", InstanceAdmin, on(patch, users::update)),
        (Method::GET, "/v1/audit", InstanceAdmin, on(get, audit::instance)),
        (Method::GET, "/v1/projects", User, on(get, projects::list)),
        (Method::POST, "/v1/projects", User, on(post, projects::create)),
        (Method::GET, "/v1/projects/{project}", Project(P::ProjectRead), on(get, projects::get)),
        (Method::PATCH, "/v1/projects/{project}", Project(P::ProjectUpdate), on(patch, projects::update)),
        (Method::DELETE, "/v1/projects/{project}", Project(P::ProjectDelete), on(delete, projects::delete)),
        (Method::GET, "/v1/projects/{project}/members", Project(P::MembersRead), on(get, members::list)),
        (Method::PUT, "/v1/projects/{project}/members/{user_id}", Project(P::MembersWrite), on(put, members::set_role)),
        (Method::DELETE, "/v1/projects/{project}/members/{user_id}", Project(P::MembersWrite), on(delete, members::remove)),
        (Method::POST, "/v1/projects/{project}/invitations", Project(P::MembersWrite), on(post, members::invite)),
        (Method::GET, "/v1/projects/{project}/api-keys", Project(P::ApiKeysRead), on(get, keys::list)),
        (Method::POST, "/v1/projects/{project}/api-keys", Project(P::ApiKeysWrite), on(post, keys::create)),
        (Method::DELETE, "/v1/projects/{project}/api-keys/{key_id}", Project(P::ApiKeysWrite), on(delete, keys::revoke)),
        (Method::GET, "/v1/projects/{project}/audit", Project(P::AuditRead), on(get, audit::project)),
        (Method::GET, "/v1/projects/{project}/pipeline", Project(P::PipelinesRead), on(get, pipelines::get)),
        (Method::POST, "/v1/projects/{project}/pipeline/rules", Project(P::PipelinesWrite), on(post, pipelines::create)),
        (Method::PUT, "/v1/projects/{project}/pipeline/rules/{rule_id}", Project(P::PipelinesWrite), on(put, pipelines::update)),
        (Method::DELETE, "/v1/projects/{project}/pipeline/rules/{rule_id}", Project(P::PipelinesWrite), on(delete, pipelines::delete)),
        (Method::POST, "/v1/projects/{project}/pipeline/dry-run", Project(P::PipelinesRead), on(post, pipelines::dry_run)),
        (Method::GET, "/v1/projects/{project}/fields", Project(P::LogsRead), on(get, pipelines::fields)),
        (Method::GET, "/v1/projects/{project}/tail", Project(P::LogsRead), on(get, tail::sse)),
        (Method::GET, "/v1/projects/{project}/tail/ws", Project(P::LogsRead), on(get, tail::ws)),
        (Method::GET, "/v1/tail", KeyOrProject(P::LogsRead), on(get, tail::sse)),
        (Method::GET, "/v1/projects/{project}/saved-searches", Project(P::SavedQueriesRead), on(get, docs::list::<SavedSearch>)),
        (Method::POST, "/v1/projects/{project}/saved-searches", Project(P::SavedQueriesWrite), on(post, docs::create::<SavedSearch>)),
        (Method::GET, "/v1/projects/{project}/saved-searches/{id}", Project(P::SavedQueriesRead), on(get, docs::get::<SavedSearch>)),
        (Method::PUT, "/v1/projects/{project}/saved-searches/{id}", Project(P::SavedQueriesWrite), on(put, docs::update::<SavedSearch>)),
        (Method::DELETE, "/v1/projects/{project}/saved-searches/{id}", Project(P::SavedQueriesWrite), on(delete, docs::delete::<SavedSearch>)),
        (Method::GET, "/v1/projects/{project}/dashboards", Project(P::DashboardsRead), on(get, docs::list::<Dashboard>)),
        (Method::POST, "/v1/projects/{project}/dashboards", Project(P::DashboardsWrite), on(post, docs::create::<Dashboard>)),
        (Method::POST, "/v1/projects/{project}/dashboards/import", Project(P::DashboardsWrite), on(post, dashboards::import)),
        (Method::GET, "/v1/projects/{project}/dashboards/{id}", Project(P::DashboardsRead), on(get, docs::get::<Dashboard>)),
        (Method::PUT, "/v1/projects/{project}/dashboards/{id}", Project(P::DashboardsWrite), on(put, docs::update::<Dashboard>)),
        (Method::DELETE, "/v1/projects/{project}/dashboards/{id}", Project(P::DashboardsWrite), on(delete, docs::delete::<Dashboard>)),
        (Method::GET, "/v1/projects/{project}/dashboards/{id}/export", Project(P::DashboardsRead), on(get, dashboards::export)),
        (Method::POST, "/v1/projects/{project}/dashboards/{id}/render", Project(P::DashboardsRead), on(post, dashboards::render)),
        (Method::GET, "/v1/projects/{project}/alert-channels", Project(P::AlertRulesRead), on(get, alerts::list_channels)),
        (Method::POST, "/v1/projects/{project}/alert-channels", Project(P::AlertRulesWrite), on(post, alerts::create_channel)),
        (Method::GET, "/v1/projects/{project}/alert-channels/{id}", Project(P::AlertRulesRead), on(get, alerts::get_channel)),
        (Method::PUT, "/v1/projects/{project}/alert-channels/{id}", Project(P::AlertRulesWrite), on(put, alerts::update_channel)),
        (Method::DELETE, "/v1/projects/{project}/alert-channels/{id}", Project(P::AlertRulesWrite), on(delete, alerts::delete_channel)),
        (Method::POST, "/v1/projects/{project}/alert-channels/{id}/test", Project(P::AlertRulesWrite), on(post, alerts::test_channel)),
        (Method::GET, "/v1/projects/{project}/alert-rules", Project(P::AlertRulesRead), on(get, alerts::list_rules)),
        (Method::POST, "/v1/projects/{project}/alert-rules", Project(P::AlertRulesWrite), on(post, alerts::create_rule)),
        (Method::GET, "/v1/projects/{project}/alert-rules/{id}", Project(P::AlertRulesRead), on(get, alerts::get_rule)),
        (Method::PUT, "/v1/projects/{project}/alert-rules/{id}", Project(P::AlertRulesWrite), on(put, alerts::update_rule)),
        (Method::DELETE, "/v1/projects/{project}/alert-rules/{id}", Project(P::AlertRulesWrite), on(delete, alerts::delete_rule)),
        (Method::GET, "/v1/projects/{project}/alerts", Project(P::AlertRulesRead), on(get, alerts::list_alerts)),
        (Method::POST, "/v1/projects/{project}/alerts/{id}/ack", Project(P::AlertRulesWrite), on(post, alerts::ack_alert)),
        (Method::GET, "/v1/projects/{project}/silences", Project(P::AlertRulesRead), on(get, alerts::list_silences)),
        (Method::POST, "/v1/projects/{project}/silences", Project(P::AlertRulesWrite), on(post, alerts::create_silence)),
        (Method::DELETE, "/v1/projects/{project}/silences/{id}", Project(P::AlertRulesWrite), on(delete, alerts::delete_silence)),
        (Method::GET, "/v1/projects/{project}/search", Project(P::LogsRead), on(get, search::search)),
        (Method::GET, "/v1/search", KeyOrProject(P::LogsRead), on(get, search::search)),
        (Method::POST, "/v1/projects/{project}/aggregate", Project(P::LogsRead), on(post, aggregate::aggregate)),
        (Method::POST, "/v1/aggregate", KeyOrProject(P::LogsRead), on(post, aggregate::aggregate)),
    ]
}

/// The endpoints, for documentation and the authorization tests.
pub fn endpoints() -> Vec<Endpoint> {
    table().into_iter().map(|(method, path, access, _)| Endpoint { method, path, access }).collect()
}

/// The API's routes, each behind [`enforce`] with its declared access.
pub fn router(api: Arc<Api>) -> Router {
    let mut router = Router::new();
    for (_, path, access, handler) in table() {
        router = router.route(path, handler.route_layer(from_fn_with_state((api.clone(), access), enforce)));
    }
    router.with_state(api)
}
