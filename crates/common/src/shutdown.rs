//! Shutdown as a value: every long-running task gets a [`Shutdown`] and `select!`s on it.
//!
//! The first SIGINT/SIGTERM cancels the token (stop accepting, drain, commit); a second one
//! exits the process at once, for an operator who does not want to wait.

use tokio_util::sync::CancellationToken;

/// A cloneable shutdown signal.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask every holder to stop.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown has been triggered.
    pub async fn wait(&self) {
        self.token.cancelled().await;
    }

    /// Triggers this shutdown on the first SIGINT or SIGTERM and exits the process with
    /// status 130 on the second.
    pub fn trigger_on_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown requested; draining (send the signal again to exit at once)");
            this.trigger();
            wait_for_signal().await;
            tracing::warn!("second signal: exiting without draining");
            std::process::exit(130);
        });
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only SIGINT stops the process");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clones_see_the_trigger() {
        let s = Shutdown::new();
        let c = s.clone();
        assert!(!c.is_triggered());
        s.trigger();
        c.wait().await;
        assert!(c.is_triggered());
    }
}
