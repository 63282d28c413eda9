//! What happened to every event of a run: sent, acknowledged, found (and under which document
//! ids). The load generator writes acknowledgments, the verifier writes observations; the
//! report reads both. Pure bookkeeping, no I/O, so the accounting is unit-tested.
//!
//! Definitions the report relies on:
//! - acked: the event was in a request answered 200 and not listed in `rejected`;
//! - found: an acked event seen by search at least once;
//! - lost: acked but never found;
//! - duplicated: an event seen under two different document ids (replays under the same id are
//!   overwrites, not duplicates);
//! - extra: found although never acknowledged (allowed by at-least-once: the gateway may have
//!   produced a request whose answer never reached us).

use std::time::Duration;

use hdrhistogram::Histogram;

/// Where a request (batch of events) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BatchState {
    NotStarted,
    /// First attempt started at this wall-clock time (epoch ms).
    InFlight {
        first_attempt_ms: i64,
    },
    Acked {
        first_attempt_ms: i64,
    },
    /// Given up (deadline, or refused for good): none of its events count as acked.
    Failed,
}

/// Per-run bookkeeping, indexed by `seq` (0..events) and batch number (seq / batch size).
#[derive(Debug)]
pub struct Ledger {
    batch_size: u64,
    events: u64,
    acked_at: Vec<Option<Duration>>,
    seen_at: Vec<Option<Duration>>,
    first_id: Vec<Option<Box<str>>>,
    duplicated: Vec<bool>,
    batches: Vec<BatchState>,
    /// Acked events of each batch not yet found: a batch at 0 needs no more polling.
    missing_in_batch: Vec<u64>,
    sent: u64,
    acked: u64,
    found_acked: u64,
    foreign_hits: u64,
}

/// The counts of a run, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub sent: u64,
    pub acked: u64,
    pub found: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub extra: u64,
    /// Hits whose `seq` is outside the run (should be 0: the run id is unique).
    pub foreign: u64,
}

impl Ledger {
    pub fn new(events: u64, batch_size: u64) -> Self {
        let batch_size = batch_size.max(1);
        let n = usize::try_from(events).unwrap_or(usize::MAX);
        let batches = usize::try_from(events.div_ceil(batch_size)).unwrap_or(usize::MAX);
        Self {
            batch_size,
            events,
            acked_at: vec![None; n],
            seen_at: vec![None; n],
            first_id: vec![None; n],
            duplicated: vec![false; n],
            batches: vec![BatchState::NotStarted; batches],
            missing_in_batch: vec![0; batches],
            sent: 0,
            acked: 0,
            found_acked: 0,
            foreign_hits: 0,
        }
    }

    pub fn batch_count(&self) -> u64 {
        self.batches.len() as u64
    }

    /// The seqs of batch `b`.
    pub fn batch_range(&self, b: u64) -> std::ops::Range<u64> {
        let start = b * self.batch_size;
        start..(start + self.batch_size).min(self.events)
    }

    pub fn batch_started(&mut self, b: u64, wall_ms: i64) {
        let Some(state) = self.batches.get_mut(b as usize) else {
            return;
        };
        if *state == BatchState::NotStarted {
            *state = BatchState::InFlight {
                first_attempt_ms: wall_ms,
            };
            self.sent += self.batch_range(b).count() as u64;
        }
    }

    /// Batch `b` was answered 200; `rejected` are 0-based positions in it the gateway refused.
    pub fn batch_acked(&mut self, b: u64, rejected: &[u64], at: Duration) {
        let range = self.batch_range(b);
        let Some(state) = self.batches.get_mut(b as usize) else {
            return;
        };
        let BatchState::InFlight { first_attempt_ms } = *state else {
            return;
        };
        *state = BatchState::Acked { first_attempt_ms };
        let mut missing = 0;
        for (pos, seq) in range.enumerate() {
            if rejected.contains(&(pos as u64)) {
                continue;
            }
            let i = seq as usize;
            self.acked_at[i] = Some(at);
            self.acked += 1;
            if self.seen_at[i].is_some() {
                self.found_acked += 1;
            } else {
                missing += 1;
            }
        }
        self.missing_in_batch[b as usize] = missing;
    }

    pub fn batch_failed(&mut self, b: u64) {
        if let Some(state) = self.batches.get_mut(b as usize) {
            *state = BatchState::Failed;
        }
    }

    /// Search returned event `seq` under document `id` at `at`.
    pub fn observe(&mut self, seq: u64, id: &str, at: Duration) {
        if seq >= self.events {
            self.foreign_hits += 1;
            return;
        }
        let i = seq as usize;
        match &self.first_id[i] {
            Some(first) => {
                if **first != *id {
                    self.duplicated[i] = true;
                }
            }
            None => {
                self.first_id[i] = Some(id.into());
                self.seen_at[i] = Some(at);
                if self.acked_at[i].is_some() {
                    self.found_acked += 1;
                    let b = (seq / self.batch_size) as usize;
                    self.missing_in_batch[b] = self.missing_in_batch[b].saturating_sub(1);
                }
            }
        }
    }

    /// Every acked event was found, and no request is still in flight or unsent.
    pub fn complete(&self) -> bool {
        self.found_acked == self.acked
            && self
                .batches
                .iter()
                .all(|s| matches!(s, BatchState::Acked { .. } | BatchState::Failed))
    }

    /// Earliest first-attempt time (epoch ms) of a request whose events may still show up:
    /// in flight, or acked with events not yet found. `None` when nothing is outstanding.
    /// Documents are stamped with the gateway's receive time, never before the first attempt,
    /// so a search from here on cannot miss an outstanding event.
    pub fn window_start_ms(&self) -> Option<i64> {
        let mut min: Option<i64> = None;
        for (b, s) in self.batches.iter().enumerate() {
            let t = match *s {
                BatchState::InFlight { first_attempt_ms } => first_attempt_ms,
                BatchState::Acked { first_attempt_ms } if self.missing_in_batch[b] > 0 => {
                    first_attempt_ms
                }
                _ => continue,
            };
            min = Some(min.map_or(t, |m| m.min(t)));
        }
        min
    }

    /// (acked, acked and found): cheap, for the progress bar.
    pub fn progress(&self) -> (u64, u64) {
        (self.acked, self.found_acked)
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            sent: self.sent,
            acked: self.acked,
            foreign: self.foreign_hits,
            ..Counts::default()
        };
        for i in 0..self.acked_at.len() {
            let seen = self.seen_at[i].is_some();
            match (self.acked_at[i].is_some(), seen) {
                (true, true) => c.found += 1,
                (true, false) => c.lost += 1,
                (false, true) => c.extra += 1,
                (false, false) => {}
            }
            if self.duplicated[i] {
                c.duplicated += 1;
            }
        }
        c
    }

    /// Lost seqs (at most `max`), for the report: where to start digging.
    pub fn lost_sample(&self, max: usize) -> Vec<u64> {
        (0..self.acked_at.len())
            .filter(|&i| self.acked_at[i].is_some() && self.seen_at[i].is_none())
            .take(max)
            .map(|i| i as u64)
            .collect()
    }

    pub fn duplicated_sample(&self, max: usize) -> Vec<u64> {
        (0..self.duplicated.len())
            .filter(|&i| self.duplicated[i])
            .take(max)
            .map(|i| i as u64)
            .collect()
    }

    /// Acknowledgment → first seen, in ms, for every found acked event. An event seen before its
    /// acknowledgment arrived (the answer was delayed, or a retry was needed) counts as 0.
    pub fn freshness_ms(&self) -> Histogram<u64> {
        // 3 significant digits up to an hour: plenty for a latency report.
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3)
            .expect("static histogram bounds are valid");
        for i in 0..self.acked_at.len() {
            if let (Some(a), Some(s)) = (self.acked_at[i], self.seen_at[i]) {
                let ms = s.saturating_sub(a).as_millis() as u64;
                h.saturating_record(ms.max(1));
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn lost_found_duplicated_and_extra() {
        let mut l = Ledger::new(10, 4); // batches: 0..4, 4..8, 8..10
        assert_eq!(l.batch_count(), 3);
        l.batch_started(0, 1000);
        l.batch_started(1, 1100);
        l.batch_started(2, 1200);
        assert_eq!(l.window_start_ms(), Some(1000));
        l.batch_acked(0, &[], S);
        l.batch_acked(1, &[2], S); // seq 6 rejected
        l.batch_failed(2);
        for seq in [0, 1, 2, 4, 5, 6, 8] {
            l.observe(seq, &format!("id{seq}"), 2 * S);
        }
        l.observe(0, "id0", 3 * S); // replay under the same id: not a duplicate
        l.observe(1, "other", 3 * S); // same event under a second id: duplicate
        l.observe(99, "x", 3 * S);
        let c = l.counts();
        assert_eq!(
            c,
            Counts {
                sent: 10,
                acked: 7,
                found: 5,
                lost: 2,
                duplicated: 1,
                extra: 2,
                foreign: 1
            }
        );
        assert_eq!(l.lost_sample(10), vec![3, 7]);
        assert_eq!(l.duplicated_sample(10), vec![1]);
        assert!(!l.complete());
        assert_eq!(
            l.window_start_ms(),
            Some(1000),
            "batch 0 still misses seq 3"
        );
        l.observe(3, "id3", 4 * S);
        assert_eq!(l.window_start_ms(), Some(1100));
        l.observe(7, "id7", 4 * S);
        assert_eq!(l.window_start_ms(), None);
        assert!(l.complete());
    }

    #[test]
    fn seen_before_ack_counts_once_and_freshness_clips_to_zero() {
        let mut l = Ledger::new(2, 2);
        l.batch_started(0, 0);
        l.observe(0, "a", S);
        l.batch_acked(0, &[], 2 * S);
        l.observe(1, "b", 3 * S);
        let c = l.counts();
        assert_eq!((c.acked, c.found, c.lost), (2, 2, 0));
        assert!(l.complete());
        let h = l.freshness_ms();
        assert_eq!(h.len(), 2);
        assert_eq!(h.max(), 1000);
        assert!(h.min() <= 1);
    }
}
