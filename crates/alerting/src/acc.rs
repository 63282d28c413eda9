//! A mergeable summary of the events of one window: whatever order and grouping the events
//! are added and merged in, the result is the same (up to floating-point rounding of sums),
//! which is what lets partials from many partitions and replicas add up to the exact answer.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::spec::AggKind;

/// Relative error of the percentile sketch: a reported p99 is within 1% of a value that is
/// truly at that rank (DDSketch's guarantee, logarithmic buckets).
pub const SKETCH_RELATIVE_ERROR: f64 = 0.01;
/// Distinct values remembered per window; past it `count_distinct` is a lower bound.
const MAX_DISTINCT: usize = 100_000;

fn gamma() -> f64 {
    (1.0 + SKETCH_RELATIVE_ERROR) / (1.0 - SKETCH_RELATIVE_ERROR)
}

fn bucket(magnitude: f64) -> i32 {
    // Values are finite and positive here; the index of 1e±308 is about ±35 000.
    (magnitude.ln() / gamma().ln()).ceil() as i32
}

fn bucket_value(index: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(index) / (g + 1.0)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    /// Matching events.
    pub count: u64,
    /// Events whose field held a number (the ones `avg`, `min`, ... see).
    #[serde(default)]
    pub values: u64,
    #[serde(default)]
    pub sum: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    distinct: BTreeSet<u64>,
    #[serde(default)]
    distinct_overflow: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    positive: BTreeMap<i32, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    negative: BTreeMap<i32, u64>,
    #[serde(default)]
    zeros: u64,
}

impl Accumulator {
    /// Adds one matching event with the rule's field value: its number for numeric
    /// aggregations, a hash of its text for `count_distinct`.
    pub fn add(&mut self, kind: AggKind, number: Option<f64>, distinct: Option<u64>) {
        self.count += 1;
        match kind {
            AggKind::Count => {}
            AggKind::CountDistinct => {
                if let Some(h) = distinct {
                    self.insert_distinct(h);
                }
            }
            AggKind::Avg | AggKind::Min | AggKind::Max | AggKind::Sum | AggKind::P95 | AggKind::P99 => {
                let Some(x) = number.filter(|x| x.is_finite()) else { return };
                self.values += 1;
                self.sum += x;
                self.min = Some(self.min.map_or(x, |m| m.min(x)));
                self.max = Some(self.max.map_or(x, |m| m.max(x)));
                if matches!(kind, AggKind::P95 | AggKind::P99) {
                    if x > 0.0 {
                        *self.positive.entry(bucket(x)).or_default() += 1;
                    } else if x < 0.0 {
                        *self.negative.entry(bucket(-x)).or_default() += 1;
                    } else {
                        self.zeros += 1;
                    }
                }
            }
        }
    }

    fn insert_distinct(&mut self, h: u64) {
        if self.distinct.len() < MAX_DISTINCT {
            self.distinct.insert(h);
        } else if !self.distinct.contains(&h) {
            self.distinct_overflow = true;
        }
    }

    pub fn merge(&mut self, other: &Accumulator) {
        self.count += other.count;
        self.values += other.values;
        self.sum += other.sum;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, other.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for h in &other.distinct {
            self.insert_distinct(*h);
        }
        self.distinct_overflow |= other.distinct_overflow;
        for (k, n) in &other.positive {
            *self.positive.entry(*k).or_default() += n;
        }
        for (k, n) in &other.negative {
            *self.negative.entry(*k).or_default() += n;
        }
        self.zeros += other.zeros;
    }

    /// The window's value for `kind`; `None` when no event carried the field.
    pub fn value(&self, kind: AggKind) -> Option<f64> {
        match kind {
            AggKind::Count => Some(self.count as f64),
            AggKind::CountDistinct => Some(self.distinct.len() as f64),
            AggKind::Sum => (self.values > 0).then_some(self.sum),
            AggKind::Avg => (self.values > 0).then(|| self.sum / self.values as f64),
            AggKind::Min => self.min,
            AggKind::Max => self.max,
            AggKind::P95 => self.quantile(0.95),
            AggKind::P99 => self.quantile(0.99),
        }
    }

    /// Whether `count_distinct` saw more values than it remembers (its value is a lower bound).
    pub fn distinct_is_lower_bound(&self) -> bool {
        self.distinct_overflow
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.negative.values().sum::<u64>() + self.zeros + self.positive.values().sum::<u64>();
        if n == 0 {
            return None;
        }
        // The lower nearest rank, as DDSketch defines it.
        let rank = (q * (n - 1) as f64).floor() as u64;
        let mut seen = 0;
        for (k, c) in self.negative.iter().rev() {
            seen += c;
            if seen > rank {
                return Some(-bucket_value(*k));
            }
        }
        seen += self.zeros;
        if seen > rank {
            return Some(0.0);
        }
        for (k, c) in &self.positive {
            seen += c;
            if seen > rank {
                return Some(bucket_value(*k));
            }
        }
        self.max
    }
}

/// A stable 64-bit hash (FNV-1a) of a value for `count_distinct`: partials hashed by different
/// processes and versions must agree, which std's hasher does not promise.
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn acc_of(kind: AggKind, xs: &[f64]) -> Accumulator {
        let mut a = Accumulator::default();
        for x in xs {
            a.add(kind, Some(*x), Some(stable_hash(&x.to_string())));
        }
        a
    }

    #[test]
    fn plain_aggregates() {
        let a = acc_of(AggKind::Avg, &[1.0, 2.0, 6.0]);
        assert_eq!(a.value(AggKind::Avg), Some(3.0));
        assert_eq!(a.value(AggKind::Count), Some(3.0));
        let empty = Accumulator::default();
        assert_eq!(empty.value(AggKind::Avg), None);
        assert_eq!(empty.value(AggKind::Count), Some(0.0));
        let d = acc_of(AggKind::CountDistinct, &[1.0, 1.0, 2.0]);
        assert_eq!(d.value(AggKind::CountDistinct), Some(2.0));
    }

    #[test]
    fn events_without_the_field_count_but_do_not_average() {
        let mut a = Accumulator::default();
        a.add(AggKind::Avg, Some(10.0), None);
        a.add(AggKind::Avg, None, None);
        assert_eq!((a.count, a.value(AggKind::Avg)), (2, Some(10.0)));
    }

    proptest! {
        #[test]
        fn merging_any_split_equals_adding_all(xs in proptest::collection::vec(-1000i32..1000, 0..200), cut in 0usize..200) {
            let xs: Vec<f64> = xs.into_iter().map(f64::from).collect();
            let cut = cut.min(xs.len());
            for kind in [AggKind::Count, AggKind::Sum, AggKind::Min, AggKind::Max, AggKind::P95, AggKind::CountDistinct] {
                let whole = acc_of(kind, &xs);
                let mut merged = acc_of(kind, &xs[cut..]);
                merged.merge(&acc_of(kind, &xs[..cut]));
                prop_assert_eq!(whole.value(kind), merged.value(kind));
            }
        }

        #[test]
        fn percentiles_are_within_the_relative_error(xs in proptest::collection::vec(1u32..1_000_000, 1..500)) {
            let mut sorted: Vec<f64> = xs.iter().map(|x| f64::from(*x)).collect();
            sorted.sort_by(f64::total_cmp);
            let a = acc_of(AggKind::P99, &sorted);
            let truth = sorted[(0.99 * (sorted.len() - 1) as f64).floor() as usize];
            let got = a.value(AggKind::P99).expect("values");
            prop_assert!((got - truth).abs() <= truth * SKETCH_RELATIVE_ERROR * 1.0001, "{} vs {}", got, truth);
        }
    }
}
