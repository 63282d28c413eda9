//! The read and management API: search over the log store, and users, projects, members,
//! API keys and the audit log over the metadata store — all behind one access-control layer.
//!
//! Every route is declared with its access policy in [`routes`]; [`authz::enforce`] runs before
//! any handler. Queries are scoped by the project established there; the log store adds the
//! project filter below the query, never taken from the request.

mod aggregate;
mod audit;
pub mod authz;
mod error;
mod extract;
mod handlers;
pub mod openapi;
mod project_cache;
pub mod routes;
mod search;
pub mod tail;
mod time;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use nexuslog_logstore::LogStore;
use nexuslog_metastore::{KeyCache, MetaStore, SessionCache};
use nexuslog_state::StateStore;

pub use error::ApiError;
pub use search::check_search_query_string;
pub use nexuslog_query::time::parse_time;
pub use routes::{endpoints, router, Endpoint};

/// Settings of sign-in (from `auth.*` in the configuration).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Signing secret for access tokens; `None`: the one kept in the metadata store (generated once).
    pub jwt_secret: Option<String>,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    pub max_failed_logins: u32,
    pub max_failed_logins_per_ip: u32,
    pub lockout: Duration,
    pub invitation_ttl: Duration,
    /// Argon2 hashes or verifications running at once in this process (each holds ~19 MiB and
    /// a core for tens of milliseconds); at least 1.
    pub max_password_checks: usize,
    /// How long a sign-in waits for one of those before answering 503 with `Retry-After`.
    pub password_check_wait: Duration,
    /// How long the refresh token a rotation replaced still answers (with the same new token),
    /// so two tabs refreshing together keep the session; zero: never.
    pub refresh_grace: Duration,
}

/// Default of [`AuthSettings::max_password_checks`]: one per core, so hashing saturates the CPU
/// at most and its memory stays at ~19 MiB per core.
pub fn default_max_password_checks() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(900),
            session_ttl: Duration::from_secs(30 * 86_400),
            max_failed_logins: 5,
            max_failed_logins_per_ip: 50,
            lockout: Duration::from_secs(900),
            invitation_ttl: Duration::from_secs(72 * 3600),
            max_password_checks: default_max_password_checks(),
            password_check_wait: Duration::from_secs(2),
            refresh_grace: Duration::from_secs(30),
        }
    }
}

/// Name of the metadata-store setting holding the generated token secret.
const JWT_SECRET_SETTING: &str = "auth.jwt_secret";

/// Shared state of the API handlers.
pub struct Api {
    pub(crate) store: Arc<dyn LogStore>,
    pub(crate) meta: Arc<dyn MetaStore>,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) keys: KeyCache,
    pub(crate) sessions: SessionCache,
    pub(crate) projects: project_cache::ProjectCache,
    pub(crate) tokens: tokens::Tokens,
    pub(crate) auth: AuthSettings,
    /// Permits for Argon2 work: [`AuthSettings::max_password_checks`].
    pub(crate) password_checks: tokio::sync::Semaphore,
    /// Permits for compiling user-written pipeline rules on the blocking pool (one per core),
    /// so saves and dry runs cannot take every thread.
    pub(crate) rule_compiles: Arc<tokio::sync::Semaphore>,
    /// Sends channel tests; its settings also say whether private targets are allowed.
    pub(crate) sender: nexuslog_notify::Sender,
    /// The live tail's fan-out; `None` where no stream reader runs (then tails answer 503).
    pub(crate) tail: Option<Arc<tail::TailHub>>,
}

impl Api {
    /// `keys` is shared with the gateway in the same process, so a revocation here is seen there at once.
    ///
    /// # Errors
    /// When the token secret cannot be read from (or stored in) the metadata store.
    pub async fn new(
        store: Arc<dyn LogStore>,
        meta: Arc<dyn MetaStore>,
        state: Arc<dyn StateStore>,
        keys: KeyCache,
        auth: AuthSettings,
        sender: nexuslog_notify::Sender,
        tail: Option<Arc<tail::TailHub>>,
    ) -> Result<Arc<Self>, ApiError> {
        let secret = match &auth.jwt_secret {
            Some(s) => s.clone(),
            // Every replica must sign with the same secret: the first to start stores one.
            None => {
                meta.setting_or_insert(
                    JWT_SECRET_SETTING,
                    &format!("{}{}", nexuslog_metastore::keys::generate().secret, nexuslog_metastore::keys::generate().secret),
                )
                .await?
            }
        };
        let tokens = tokens::Tokens::new(secret.as_bytes(), auth.access_token_ttl);
        let sessions = SessionCache::new(meta.clone());
        let password_checks = tokio::sync::Semaphore::new(auth.max_password_checks.max(1));
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let rule_compiles = Arc::new(tokio::sync::Semaphore::new(cores));
        Ok(Arc::new(Self { store, meta, state, keys, sessions, projects: Default::default(), tokens, auth, password_checks, rule_compiles, sender, tail }))
    }
}
