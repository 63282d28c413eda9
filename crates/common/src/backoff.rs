//! Exponential backoff for retry loops that must stay responsive to shutdown.

use std::time::Duration;

use crate::shutdown::Shutdown;

/// Doubles from `min` to `max` on each pause; `reset` after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self { min, max, current: min }
    }

    pub fn reset(&mut self) {
        self.current = self.min;
    }

    /// Sleeps the current delay (or until shutdown), then doubles it.
    pub async fn pause(&mut self, shutdown: &Shutdown) {
        tokio::select! {
            () = tokio::time::sleep(self.current) => {}
            () = shutdown.wait() => {}
        }
        self.current = (self.current * 2).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn doubles_up_to_max_and_resets() {
        let s = Shutdown::new();
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(3));
        b.pause(&s).await;
        assert_eq!(b.current, Duration::from_millis(2));
        b.pause(&s).await;
        b.pause(&s).await;
        assert_eq!(b.current, Duration::from_millis(3));
        b.reset();
        assert_eq!(b.current, Duration::from_millis(1));
    }

    #[tokio::test]
    async fn shutdown_cuts_the_pause_short() {
        let s = Shutdown::new();
        s.trigger();
        let mut b = Backoff::new(Duration::from_secs(3600), Duration::from_secs(3600));
        tokio::time::timeout(Duration::from_secs(5), b.pause(&s)).await.expect("returns at once after shutdown");
    }
}
