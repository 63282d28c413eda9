//! The read side: search over the log store, scoped to the caller's project.
//!
//! Every query is scoped by the project of the presented credential; the project filter is
//! added by the log store below the query, never taken from the request.

mod error;
mod search;
mod time;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use nexuslog_logstore::LogStore;
use nexuslog_metastore::{KeyCache, MetaStore};

pub use error::ApiError;
pub use time::parse_time;

/// Shared state of the API handlers.
pub struct Api {
    pub(crate) store: Arc<dyn LogStore>,
    pub(crate) keys: KeyCache,
}

impl Api {
    pub fn new(store: Arc<dyn LogStore>, meta: Arc<dyn MetaStore>) -> Arc<Self> {
        Arc::new(Self { store, keys: KeyCache::new(meta) })
    }
}

/// The API's routes.
pub fn router(api: Arc<Api>) -> Router {
    Router::new().route("/v1/search", get(search::search)).with_state(api)
}
