//! The chaos schedule: `kill -9` of each victim role (several rounds for long runs) and Kafka
//! restarts (one by default), at random points of the send phase, each followed by a restart.
//!
//! Actions are placed by progress (fraction of events settled) rather than by time, so they
//! land inside the send phase whatever the achieved rate; a gateway that is down holds the
//! progress, so the next action waits for the recovery. Actions still pending when the send
//! phase ends run right after it (the processor and sink still have work then).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::sync::Mutex;

use crate::launch::Cluster;

/// One thing the chaos task does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Kill(&'static str),
    RestartKafka,
}

/// An action and the progress fraction at which it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: f64,
    pub action: Action,
}

/// Events per extra round of kills: a 200k run gets 5 rounds.
const EVENTS_PER_ROUND: u64 = 50_000;

/// `rounds` rounds of every victim in random order plus `kafka_restarts` Kafka restarts, spread
/// over the 5%–90% of progress, sorted by firing point.
pub fn plan(victims: &[&'static str], events: u64, kafka_restarts: u32, rng: &mut StdRng) -> Vec<Step> {
    let rounds = 1 + events / EVENTS_PER_ROUND;
    let mut actions = Vec::new();
    for _ in 0..rounds {
        let mut round: Vec<Action> = victims.iter().map(|v| Action::Kill(v)).collect();
        round.shuffle(rng);
        actions.extend(round);
    }
    for _ in 0..kafka_restarts {
        // Not first: the pipeline should be busy with some data when the broker goes away.
        let pos = rng.random_range(1..=actions.len().max(1));
        actions.insert(pos.min(actions.len()), Action::RestartKafka);
    }
    let n = actions.len() as f64;
    actions
        .into_iter()
        .enumerate()
        .map(|(i, action)| {
            // One slot per action; a random point inside each keeps the order and spacing.
            let slot = 0.85 / n;
            let at = 0.05 + slot * (i as f64 + rng.random_range(0.1..0.9));
            Step { at, action }
        })
        .collect()
}

/// What chaos did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChaosLog {
    pub kills: BTreeMap<String, u32>,
    pub kafka_restarts: u32,
    pub errors: Vec<String>,
}

/// Runs the plan against `cluster`. `settled` / `total` is the progress; `load_done` turns
/// true when the send phase ended. `note` receives a line per action (for the progress bar).
pub async fn execute(
    cluster: Arc<Mutex<Cluster>>,
    steps: Vec<Step>,
    settled: impl Fn() -> u64,
    total: u64,
    load_done: impl Fn() -> bool,
    mut rng: StdRng,
    note: impl Fn(String),
) -> ChaosLog {
    let mut log = ChaosLog::default();
    for step in steps {
        // Bounded wait: progress moves or the load ends; both are bounded by the load's deadlines.
        while !load_done() && (settled() as f64) < step.at * total as f64 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut c = cluster.lock().await;
        let result = match &step.action {
            Action::Kill(role) => {
                note(format!(
                    "chaos: kill -9 {role} at {:.0}%",
                    100.0 * settled() as f64 / total.max(1) as f64
                ));
                let r = c.kill9(role).await;
                let down = Duration::from_millis(rng.random_range(300..2500));
                tokio::time::sleep(down).await;
                match r {
                    Ok(()) => c
                        .start(role)
                        .await
                        .map(|()| note(format!("chaos: {role} back after {down:?} down"))),
                    Err(e) => Err(e),
                }
            }
            Action::RestartKafka => {
                note("chaos: restarting Kafka (data kept)".into());
                let r = c.restart_kafka().await;
                if r.is_ok() {
                    note("chaos: Kafka back".into());
                }
                r
            }
        };
        if let Err(e) = result {
            note(format!("chaos: {e:#}"));
            log.errors.push(format!("{e:#}"));
        }
    }
    let c = cluster.lock().await;
    log.kills = c.kills();
    log.kafka_restarts = c.kafka_restarts;
    log
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn every_victim_at_least_once_and_kafka_once_in_order() {
        let mut rng = StdRng::seed_from_u64(7);
        let victims = ["gateway", "processor", "sink"];
        let p = plan(&victims, 20_000, 1, &mut rng);
        assert_eq!(p.len(), 4);
        for v in victims {
            assert!(p.iter().any(|s| s.action == Action::Kill(v)), "{v} missing");
        }
        assert_eq!(
            p.iter()
                .filter(|s| s.action == Action::RestartKafka)
                .count(),
            1
        );
        assert_ne!(p[0].action, Action::RestartKafka);
        assert!(p.windows(2).all(|w| w[0].at < w[1].at));
        assert!(p.iter().all(|s| (0.05..=0.9).contains(&s.at)));

        let long = plan(&victims, 200_000, 1, &mut rng);
        assert_eq!(
            long.iter()
                .filter(|s| s.action == Action::Kill("sink"))
                .count(),
            5
        );
        assert_eq!(long.len(), 16);

        let restarts = plan(&victims, 20_000, 4, &mut rng);
        assert_eq!(restarts.iter().filter(|s| s.action == Action::RestartKafka).count(), 4);
        assert_ne!(restarts[0].action, Action::RestartKafka);
        assert_eq!(restarts.len(), 7);
    }
}
