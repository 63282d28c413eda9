//! One measured run against a deployment: send (with an optional side task, e.g. chaos, running
//! alongside), follow search for freshness, then a full scan for the authoritative counts.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use crate::ledger::Ledger;
use crate::load::{self, LoadConfig, LoadCounters};
use crate::report::{latency, Summary};
use crate::verify::{self, SearchClient};

/// Pause between the follow loop's end and the final scan, so a late replay (a duplicate under a
/// new id) has time to become searchable: above OpenSearch's 1 s refresh interval.
const SETTLE: Duration = Duration::from_secs(3);
/// Attempts of the final scan (the API may be briefly unavailable).
const FINAL_SCAN_ATTEMPTS: u32 = 5;

/// How verification behaves.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub search_url: String,
    /// After the send phase (and the side task) ended.
    pub timeout: Duration,
    pub poll_every: Duration,
}

/// Runs load + `side` + verification; returns the summary and the side task's output.
/// `side` gets the settled-events counter and the load-done flag.
///
/// # Errors
/// When the HTTP clients cannot be built, or the final scan fails every attempt.
pub async fn measure<S, Fut, T>(
    load_cfg: LoadConfig,
    verify_cfg: &VerifyConfig,
    pb: &ProgressBar,
    side: S,
) -> anyhow::Result<(Summary, T)>
where
    S: FnOnce(Arc<LoadCounters>, Arc<AtomicBool>) -> Fut,
    Fut: Future<Output = T>,
{
    let origin = Instant::now();
    let run_start_ms = load::wall_ms();
    let ledger = Arc::new(Mutex::new(Ledger::new(load_cfg.events, load_cfg.batch)));
    let counters = Arc::new(LoadCounters::default());
    let load_done = Arc::new(AtomicBool::new(false));
    let side_done = Arc::new(AtomicBool::new(false));
    let client = SearchClient::new(&verify_cfg.search_url, &load_cfg.api_key, &load_cfg.run_id)?;
    let run_id = load_cfg.run_id.clone();

    let load_fut = {
        let (ledger, counters, done) = (ledger.clone(), counters.clone(), load_done.clone());
        async move {
            let r = load::run(load_cfg, ledger, counters, origin).await;
            done.store(true, Ordering::SeqCst);
            r
        }
    };
    let side_fut = {
        let done = side_done.clone();
        let fut = side(counters.clone(), load_done.clone());
        async move {
            let r = fut.await;
            done.store(true, Ordering::SeqCst);
            r
        }
    };
    let follow_fut = verify::follow(
        &client,
        &ledger,
        origin,
        verify_cfg.poll_every,
        verify_cfg.timeout,
        || load_done.load(Ordering::SeqCst) && side_done.load(Ordering::SeqCst),
        || {
            let (acked, found) = ledger
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .progress();
            pb.set_position(acked);
            pb.set_message(format!("{found} found"));
        },
    );
    let (load_stats, side_out, follow) = tokio::join!(load_fut, side_fut, follow_fut);
    let load_stats = load_stats?;
    if let Some(f) = &load_stats.last_failure {
        crate::report::note(pb, &format!("last request failure: {f}"));
    }
    if let Some(e) = &follow.last_error {
        crate::report::note(pb, &format!("last search error while following: {e}"));
    }

    tokio::time::sleep(SETTLE).await;
    // The authoritative pass: everything of the run since it started (with a minute of slack).
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client
            .scan_into(run_start_ms - 60_000, &ledger, origin)
            .await
        {
            Ok(_) => break,
            Err(e) if attempt < FINAL_SCAN_ATTEMPTS => {
                crate::report::note(pb, &format!("final scan failed ({e:#}); retrying"));
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e.context("final verification scan")),
        }
    }
    pb.finish_and_clear();
    let l = ledger
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let summary = Summary::new(
        &run_id,
        l.counts(),
        &load_stats,
        &follow,
        latency(&l.freshness_ms()),
        (l.lost_sample(20), l.duplicated_sample(20)),
    );
    Ok((summary, side_out))
}
