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
use crate::handlers::{agents, alerts, audit, auth, keys, members, pipelines, projects, redaction, users};
use crate::aggregate::{AggregateParams, AggregateRequest};
use crate::handlers::alerts::{ChannelBody, HistoryParams, SilenceBody};
use crate::handlers::audit::AuditParams;
use crate::handlers::auth::{LoginBody, PasswordBody, RefreshBody};
use crate::handlers::dashboards::{Import, RenderBody, RenderParams};
use crate::handlers::keys::NewKey;
use crate::handlers::members::{AcceptBody, InviteBody, RoleBody};
use crate::handlers::pipelines::{Detect, DryRun, FieldsParams, Placement};
use crate::handlers::projects::{NewProject, ProjectChange};
use crate::handlers::users::{NewUser, UserChange};
use crate::search::SearchParams;
use crate::tail::TailParams;
use crate::{aggregate, search, tail, Api};
use nexuslog_alerting::RuleSpec as AlertRuleSpec;
use nexuslog_pipeline::RuleSpec as PipelineRuleSpec;

/// One endpoint: method, path (axum syntax), access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

type Handler = MethodRouter<Arc<Api>>;

/// Writes the JSON Schema of a request's query parameters or body.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// What the OpenAPI document says of an endpoint beyond its path and access: a summary, and
/// the types its handler reads the query string and the body into (their schemas are derived
/// from those types, so the document follows the code).
#[derive(Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub query: Option<SchemaFn>,
    pub body: Option<SchemaFn>,
}

fn doc(summary: &'static str) -> Doc {
    Doc { summary, query: None, body: None }
}

fn schema<T: schemars::JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

impl Doc {
    fn query<T: schemars::JsonSchema>(self) -> Self {
        Self { query: Some(schema::<T>), ..self }
    }

    fn body<T: schemars::JsonSchema>(self) -> Self {
        Self { body: Some(schema::<T>), ..self }
    }
}

fn table() -> Vec<(Method, &'static str, Access, Doc, Handler)> {
    use Access::{InstanceAdmin, KeyOrProject, Project, Public, User};
    let (get, post, put, patch, delete) =
        (MethodFilter::GET, MethodFilter::POST, MethodFilter::PUT, MethodFilter::PATCH, MethodFilter::DELETE);
    vec![
        (Method::GET, "/v1/openapi.json", Public, doc("This document: the OpenAPI 3.1 description of the API"), on(get, crate::openapi::serve)),
        (Method::POST, "/v1/auth/login", Public, doc("Sign in with e-mail and password: an access token and a refresh token").body::<LoginBody>(), on(post, auth::login)),
        (Method::POST, "/v1/auth/refresh", Public, doc("Trade a refresh token for new tokens (a reused one ends the session)").body::<RefreshBody>(), on(post, auth::refresh)),
        (Method::POST, "/v1/auth/logout", User, doc("End the current session"), on(post, auth::logout)),
        (Method::GET, "/v1/auth/me", User, doc("The signed-in user and their projects"), on(get, auth::me)),
        (Method::POST, "/v1/auth/password", User, doc("Change your password (ends your other sessions)").body::<PasswordBody>(), on(post, auth::change_password)),
        (Method::GET, "/v1/auth/sessions", User, doc("Your live sessions, the current one marked"), on(get, auth::sessions)),
        (Method::DELETE, "/v1/auth/sessions/{session_id}", User, doc("End one of your sessions"), on(delete, auth::end_session)),
        (Method::POST, "/v1/invitations/accept", Public, doc("Accept an invitation (creates the account or adds the role)").body::<AcceptBody>(), on(post, members::accept)),
        (Method::GET, "/v1/agents/fluent-bit/install.sh", Public, doc("A script installing Fluent Bit to ship a server's files to NexusLog (`curl -fsSL … | sudo NEXUSLOG_API_KEY=… bash`); it holds no secret").query::<agents::ScriptParams>(), on(get, agents::script)),
        (Method::GET, "/v1/presets", Public, doc("The parsing presets NexusLog ships (a rule step `{\"preset\": name}` runs one)"), on(get, pipelines::presets)),
        (Method::GET, "/v1/roles", User, doc("The roles and what each may do"), on(get, projects::roles)),
        (Method::GET, "/v1/users", InstanceAdmin, doc("All users (instance admins)"), on(get, users::list)),
        (Method::POST, "/v1/users", InstanceAdmin, doc("Create a user (instance admins)").body::<NewUser>(), on(post, users::create)),
        (Method::PATCH, "/v1/users/{user_id}", InstanceAdmin, doc("Change a user: name, disabled, instance admin").body::<UserChange>(), on(patch, users::update)),
        (Method::GET, "/v1/audit", InstanceAdmin, doc("The whole audit log (instance admins)").query::<AuditParams>(), on(get, audit::instance)),
        (Method::GET, "/v1/projects", User, doc("The projects you can see"), on(get, projects::list)),
        (Method::POST, "/v1/projects", User, doc("Create a project (you become its owner)").body::<NewProject>(), on(post, projects::create)),
        (Method::GET, "/v1/projects/{project}", Project(P::ProjectRead), doc("One project"), on(get, projects::get)),
        (Method::PATCH, "/v1/projects/{project}", Project(P::ProjectUpdate), doc("Rename a project").body::<ProjectChange>(), on(patch, projects::update)),
        (Method::DELETE, "/v1/projects/{project}", Project(P::ProjectDelete), doc("Delete a project with its keys, members and settings"), on(delete, projects::delete)),
        (Method::GET, "/v1/projects/{project}/members", Project(P::MembersRead), doc("The project's members and roles"), on(get, members::list)),
        (Method::PUT, "/v1/projects/{project}/members/{user_id}", Project(P::MembersWrite), doc("Set a member's role").body::<RoleBody>(), on(put, members::set_role)),
        (Method::DELETE, "/v1/projects/{project}/members/{user_id}", Project(P::MembersWrite), doc("Remove a member"), on(delete, members::remove)),
        (Method::POST, "/v1/projects/{project}/invitations", Project(P::MembersWrite), doc("Invite someone by e-mail (a one-time token)").body::<InviteBody>(), on(post, members::invite)),
        (Method::GET, "/v1/projects/{project}/api-keys", Project(P::ApiKeysRead), doc("The project's API keys (never their secrets)"), on(get, keys::list)),
        (Method::POST, "/v1/projects/{project}/api-keys", Project(P::ApiKeysWrite), doc("Create an API key; the secret is shown once").body::<NewKey>(), on(post, keys::create)),
        (Method::DELETE, "/v1/projects/{project}/api-keys/{key_id}", Project(P::ApiKeysWrite), doc("Revoke an API key"), on(delete, keys::revoke)),
        (Method::GET, "/v1/projects/{project}/audit", Project(P::AuditRead), doc("The project's part of the audit log").query::<AuditParams>(), on(get, audit::project)),
        (Method::GET, "/v1/projects/{project}/pipeline", Project(P::PipelinesRead), doc("The project's processing pipeline rules"), on(get, pipelines::get)),
        (Method::POST, "/v1/projects/{project}/pipeline/rules", Project(P::PipelinesWrite), doc("Add a pipeline rule").query::<Placement>().body::<PipelineRuleSpec>(), on(post, pipelines::create)),
        (Method::PUT, "/v1/projects/{project}/pipeline/rules/{rule_id}", Project(P::PipelinesWrite), doc("Replace a pipeline rule").query::<Placement>().body::<PipelineRuleSpec>(), on(put, pipelines::update)),
        (Method::DELETE, "/v1/projects/{project}/pipeline/rules/{rule_id}", Project(P::PipelinesWrite), doc("Delete a pipeline rule"), on(delete, pipelines::delete)),
        (Method::POST, "/v1/projects/{project}/agents/fluent-bit", Project(P::ApiKeysRead), doc("Fluent Bit for a platform (Linux script, Kubernetes DaemonSet, Ansible play, AWS SSM command): disk buffering, read positions, retries, HTTPS; the key stays out of the files").body::<agents::AgentSpec>(), on(post, agents::generate)),
        (Method::POST, "/v1/projects/{project}/pipeline/detect", Project(P::PipelinesRead), doc("Which presets parse sample lines, best first, with a preview").body::<Detect>(), on(post, pipelines::detect)),
        (Method::POST, "/v1/projects/{project}/pipeline/dry-run", Project(P::PipelinesRead), doc("Run sample events through the pipeline (or given rules) without storing them").body::<DryRun>(), on(post, pipelines::dry_run)),
        (Method::GET, "/v1/projects/{project}/redaction", Project(P::PipelinesRead), doc("The project's redaction rules: built-in ones with their state, and its own"), on(get, redaction::get)),
        (Method::PUT, "/v1/projects/{project}/redaction", Project(P::ProjectUpdate), doc("Replace the project's redaction rules (applied by every gateway within seconds)").body::<nexuslog_redact::RedactionSpec>(), on(put, redaction::put)),
        (Method::POST, "/v1/projects/{project}/redaction/dry-run", Project(P::PipelinesRead), doc("Show what the project's (or given) redaction rules do to sample lines").body::<redaction::RedactionDryRun>(), on(post, redaction::dry_run)),
        (Method::GET, "/v1/projects/{project}/fields", Project(P::LogsRead), doc("Fields seen in the range, their types and top values").query::<FieldsParams>(), on(get, pipelines::fields)),
        (Method::GET, "/v1/projects/{project}/tail", Project(P::LogsRead), doc("Live tail as Server-Sent Events: matching records as they are processed").query::<TailParams>(), on(get, tail::sse)),
        (Method::GET, "/v1/projects/{project}/tail/ws", Project(P::LogsRead), doc("Live tail over WebSocket").query::<TailParams>(), on(get, tail::ws)),
        (Method::GET, "/v1/tail", KeyOrProject(P::LogsRead), doc("Live tail (SSE) of the API key's project").query::<TailParams>(), on(get, tail::sse)),
        (Method::GET, "/v1/projects/{project}/saved-searches", Project(P::SavedQueriesRead), doc("Saved searches: yours and the shared ones"), on(get, docs::list::<SavedSearch>)),
        (Method::POST, "/v1/projects/{project}/saved-searches", Project(P::SavedQueriesWrite), doc("Save a search").body::<SavedSearch>(), on(post, docs::create::<SavedSearch>)),
        (Method::GET, "/v1/projects/{project}/saved-searches/{id}", Project(P::SavedQueriesRead), doc("One saved search"), on(get, docs::get::<SavedSearch>)),
        (Method::PUT, "/v1/projects/{project}/saved-searches/{id}", Project(P::SavedQueriesWrite), doc("Replace a saved search (owner or admin)").body::<SavedSearch>(), on(put, docs::update::<SavedSearch>)),
        (Method::DELETE, "/v1/projects/{project}/saved-searches/{id}", Project(P::SavedQueriesWrite), doc("Delete a saved search (owner or admin)"), on(delete, docs::delete::<SavedSearch>)),
        (Method::GET, "/v1/projects/{project}/dashboards", Project(P::DashboardsRead), doc("Dashboards: yours and the shared ones"), on(get, docs::list::<Dashboard>)),
        (Method::POST, "/v1/projects/{project}/dashboards", Project(P::DashboardsWrite), doc("Create a dashboard (every widget validated)").body::<Dashboard>(), on(post, docs::create::<Dashboard>)),
        (Method::POST, "/v1/projects/{project}/dashboards/import", Project(P::DashboardsWrite), doc("Import an exported dashboard").body::<Import>(), on(post, dashboards::import)),
        (Method::GET, "/v1/projects/{project}/dashboards/{id}", Project(P::DashboardsRead), doc("One dashboard"), on(get, docs::get::<Dashboard>)),
        (Method::PUT, "/v1/projects/{project}/dashboards/{id}", Project(P::DashboardsWrite), doc("Replace a dashboard (owner or admin)").body::<Dashboard>(), on(put, docs::update::<Dashboard>)),
        (Method::DELETE, "/v1/projects/{project}/dashboards/{id}", Project(P::DashboardsWrite), doc("Delete a dashboard (owner or admin)"), on(delete, docs::delete::<Dashboard>)),
        (Method::GET, "/v1/projects/{project}/dashboards/{id}/export", Project(P::DashboardsRead), doc("Export a dashboard as JSON"), on(get, dashboards::export)),
        (Method::POST, "/v1/projects/{project}/dashboards/{id}/render", Project(P::DashboardsRead), doc("Run every widget's aggregation over a time range, in one call").query::<RenderParams>().body::<RenderBody>(), on(post, dashboards::render)),
        (Method::GET, "/v1/projects/{project}/alert-channels", Project(P::AlertRulesRead), doc("Notification channels (secrets masked)"), on(get, alerts::list_channels)),
        (Method::POST, "/v1/projects/{project}/alert-channels", Project(P::AlertRulesWrite), doc("Create a channel: webhook, email, slack, dingtalk, feishu, wecom").body::<ChannelBody>(), on(post, alerts::create_channel)),
        (Method::GET, "/v1/projects/{project}/alert-channels/{id}", Project(P::AlertRulesRead), doc("One channel"), on(get, alerts::get_channel)),
        (Method::PUT, "/v1/projects/{project}/alert-channels/{id}", Project(P::AlertRulesWrite), doc("Replace a channel").body::<ChannelBody>(), on(put, alerts::update_channel)),
        (Method::DELETE, "/v1/projects/{project}/alert-channels/{id}", Project(P::AlertRulesWrite), doc("Delete a channel"), on(delete, alerts::delete_channel)),
        (Method::POST, "/v1/projects/{project}/alert-channels/{id}/test", Project(P::AlertRulesWrite), doc("Send a test notification through a channel"), on(post, alerts::test_channel)),
        (Method::GET, "/v1/projects/{project}/alert-rules", Project(P::AlertRulesRead), doc("Alert rules with their live state"), on(get, alerts::list_rules)),
        (Method::POST, "/v1/projects/{project}/alert-rules", Project(P::AlertRulesWrite), doc("Create an alert rule (evaluated on the stream within a second)").body::<AlertRuleSpec>(), on(post, alerts::create_rule)),
        (Method::GET, "/v1/projects/{project}/alert-rules/{id}", Project(P::AlertRulesRead), doc("One alert rule with its state per group"), on(get, alerts::get_rule)),
        (Method::PUT, "/v1/projects/{project}/alert-rules/{id}", Project(P::AlertRulesWrite), doc("Replace an alert rule").body::<AlertRuleSpec>(), on(put, alerts::update_rule)),
        (Method::DELETE, "/v1/projects/{project}/alert-rules/{id}", Project(P::AlertRulesWrite), doc("Delete an alert rule"), on(delete, alerts::delete_rule)),
        (Method::GET, "/v1/projects/{project}/alerts", Project(P::AlertRulesRead), doc("Alert history: transitions with their deliveries").query::<HistoryParams>(), on(get, alerts::list_alerts)),
        (Method::POST, "/v1/projects/{project}/alerts/{id}/ack", Project(P::AlertRulesWrite), doc("Acknowledge an alert"), on(post, alerts::ack_alert)),
        (Method::GET, "/v1/projects/{project}/silences", Project(P::AlertRulesRead), doc("Silences in force"), on(get, alerts::list_silences)),
        (Method::POST, "/v1/projects/{project}/silences", Project(P::AlertRulesWrite), doc("Silence notifications matching rules or labels until a time").body::<SilenceBody>(), on(post, alerts::create_silence)),
        (Method::DELETE, "/v1/projects/{project}/silences/{id}", Project(P::AlertRulesWrite), doc("End a silence"), on(delete, alerts::delete_silence)),
        (Method::GET, "/v1/projects/{project}/search", Project(P::LogsRead), doc("Search with the query language").query::<SearchParams>(), on(get, search::search)),
        (Method::GET, "/v1/search", KeyOrProject(P::LogsRead), doc("Search the API key's project").query::<SearchParams>(), on(get, search::search)),
        (Method::POST, "/v1/projects/{project}/aggregate", Project(P::LogsRead), doc("Counts, histograms, top values, statistics, percentiles, cardinality").query::<AggregateParams>().body::<AggregateRequest>(), on(post, aggregate::aggregate)),
        (Method::POST, "/v1/aggregate", KeyOrProject(P::LogsRead), doc("Aggregations over the API key's project").query::<AggregateParams>().body::<AggregateRequest>(), on(post, aggregate::aggregate)),
    ]
}

/// The endpoints, for documentation and the authorization tests.
pub fn endpoints() -> Vec<Endpoint> {
    table().into_iter().map(|(method, path, access, _, _)| Endpoint { method, path, access }).collect()
}

/// The endpoints with what the OpenAPI document says of them.
pub fn documented() -> Vec<(Endpoint, Doc)> {
    table().into_iter().map(|(method, path, access, doc, _)| (Endpoint { method, path, access }, doc)).collect()
}

/// The API's routes, each behind [`enforce`] with its declared access.
pub fn router(api: Arc<Api>) -> Router {
    let mut router = Router::new();
    for (_, path, access, _, handler) in table() {
        router = router.route(path, handler.route_layer(from_fn_with_state((api.clone(), access), enforce)));
    }
    router.with_state(api)
}
