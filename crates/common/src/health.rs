//! What a role waits on, for `/readyz`: a role that cannot make progress (its schema registry
//! or log store refuses) says so here, so the process reports not ready while it retries
//! instead of failing its input.

use std::collections::BTreeSet;
use std::sync::Mutex;

static WAITING: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

fn lock() -> std::sync::MutexGuard<'static, BTreeSet<&'static str>> {
    WAITING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `dependency` (e.g. `schema_registry`) is failing a role's work, or no longer is.
pub fn waiting_on(dependency: &'static str, waiting: bool) {
    let mut w = lock();
    if waiting {
        w.insert(dependency);
    } else {
        w.remove(dependency);
    }
}

/// The dependencies some role is waiting on now.
pub fn waiting() -> Vec<&'static str> {
    lock().iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_reported_until_they_recover() {
        waiting_on("test_dependency", true);
        assert!(waiting().contains(&"test_dependency"));
        waiting_on("test_dependency", false);
        assert!(!waiting().contains(&"test_dependency"));
    }
}
