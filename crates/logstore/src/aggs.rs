//! Aggregations: counts, time histograms (optionally split by a field's top values), top
//! values, numeric statistics, percentiles and distinct counts — one request and one answer on
//! every store.
//!
//! Both stores speak Elasticsearch-style aggregations (OpenSearch natively, Tantivy through its
//! compatible aggregation module), so each builds its request and hands the raw answer to the
//! readers here, which turn both into the same [`AggregationResult`]s: top values are merged
//! and ranked here (count, then value), and empty histogram buckets are filled in here, so no
//! engine's defaults show through.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use nexuslog_query::{FieldRef, Query, StandardField};
use serde::Serialize;
use serde_json::Value;

/// Distinct values fetched per field before ranking: top values are exact when a field has at
/// most this many distinct values in the range, and approximate beyond (as in Elasticsearch).
pub const TERMS_FETCH: usize = 1000;
/// Distinct values of a histogram's split field fetched before ranking.
pub const SPLIT_FETCH: usize = 100;
/// Most buckets one histogram may have.
pub const MAX_BUCKETS: i64 = 2000;

/// Aggregations over one project's records that match a query in [from, to).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateQuery {
    pub project_id: String,
    pub query: Query,
    pub from_micros: i64,
    pub to_micros: i64,
    /// By name, in the order asked.
    pub aggs: Vec<(String, Aggregation)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Aggregation {
    /// How many records match.
    Count,
    /// Counts per time bucket from `from` to `to`, empty buckets included; with `split_by`, one
    /// series per top value of that field (at most `size`) and one for the rest.
    DateHistogram { interval_micros: i64, split_by: Option<FieldRef>, size: usize },
    /// The `size` most frequent values with their counts, and the count of the rest.
    Terms { field: FieldRef, size: usize },
    /// Count, min, max, avg and sum of a field's numeric values.
    Stats { field: FieldRef },
    /// Estimated percentiles of a field's numeric values.
    Percentiles { field: FieldRef, percents: Vec<f64> },
    /// Estimated number of distinct values.
    Cardinality { field: FieldRef },
}

impl Aggregation {
    /// Checks that the aggregation applies to its field.
    ///
    /// # Errors
    /// A message for the user naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let (field, numeric) = match self {
            Aggregation::Count => return Ok(()),
            Aggregation::DateHistogram { interval_micros, split_by, size } => {
                if *interval_micros <= 0 {
                    return Err("the interval must be positive".into());
                }
                if *size == 0 {
                    return Err("size must be at least 1".into());
                }
                match split_by {
                    Some(f) => (f, false),
                    None => return Ok(()),
                }
            }
            Aggregation::Terms { field, size } => {
                if *size == 0 || *size > TERMS_FETCH {
                    return Err(format!("size must be between 1 and {TERMS_FETCH}"));
                }
                (field, false)
            }
            Aggregation::Stats { field } => (field, true),
            Aggregation::Percentiles { field, percents } => {
                if percents.is_empty() || percents.iter().any(|p| !(0.0..=100.0).contains(p)) {
                    return Err("percents must be between 0 and 100".into());
                }
                (field, true)
            }
            Aggregation::Cardinality { field } => (field, false),
        };
        match field {
            FieldRef::Message => Err("message is full text: aggregate on a field with values".into()),
            FieldRef::Standard(StandardField::Id) => Err("every record has its own id: aggregate on another field".into()),
            FieldRef::Extracted(_) => Ok(()),
            f if numeric => Err(format!("{} has no numbers: statistics apply to extracted numeric fields", f.name())),
            FieldRef::Timestamp => Err("timestamp: use a date_histogram".into()),
            _ => Ok(()),
        }
    }
}

/// A value of a field, as a top value or a series name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TermKey {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl TermKey {
    fn rank(&self) -> u8 {
        match self {
            TermKey::Number(_) => 0,
            TermKey::Text(_) => 1,
            TermKey::Bool(_) => 2,
        }
    }

    /// Values in a stable order: numbers, then text, then booleans.
    fn cmp_key(&self, other: &Self) -> Ordering {
        match (self, other) {
            (TermKey::Number(a), TermKey::Number(b)) => a.total_cmp(b),
            (TermKey::Text(a), TermKey::Text(b)) => a.cmp(b),
            (TermKey::Bool(a), TermKey::Bool(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermBucket {
    pub key: TermKey,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramBucket {
    /// Start of the bucket, microseconds since the epoch.
    pub key_micros: i64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub key: TermKey,
    /// One count per bucket of the histogram.
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AggregationResult {
    Count {
        value: u64,
    },
    DateHistogram {
        interval_micros: i64,
        buckets: Vec<HistogramBucket>,
        /// With `split_by`: the top values' series, then `other` (records with another value or none).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        series: Vec<Series>,
        #[serde(skip_serializing_if = "Option::is_none")]
        other: Option<Vec<u64>>,
    },
    Terms {
        buckets: Vec<TermBucket>,
        other: u64,
    },
    Stats {
        count: u64,
        min: Option<f64>,
        max: Option<f64>,
        avg: Option<f64>,
        sum: f64,
    },
    Percentiles {
        values: Vec<(f64, Option<f64>)>,
    },
    Cardinality {
        value: u64,
    },
}

/// Adds up counts of equal values (a number written as 2 and 2.0 is one value), ranks them by
/// count then value, and keeps the first `size`; returns them with the sum of the rest.
pub(crate) fn rank_terms(counts: Vec<(TermKey, u64)>, size: usize) -> (Vec<TermBucket>, u64) {
    let mut merged: Vec<TermBucket> = Vec::new();
    for (key, count) in counts {
        match merged.iter_mut().find(|b| b.key.cmp_key(&key) == Ordering::Equal) {
            Some(b) => b.count += count,
            None => merged.push(TermBucket { key, count }),
        }
    }
    merged.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp_key(&b.key)));
    let rest: u64 = merged.iter().skip(size).map(|b| b.count).sum();
    merged.truncate(size);
    (merged, rest)
}

/// The first bucket start at or before `from`, and the bucket count up to `to`.
pub(crate) fn bucket_span(from: i64, to: i64, interval: i64) -> (i64, usize) {
    let first = from.div_euclid(interval) * interval;
    let n = (to - first + interval - 1).div_euclid(interval).max(0);
    (first, n as usize)
}

/// Counts per bucket of [from, to), zeros included, from `(bucket start, count)` pairs.
pub(crate) fn fill_buckets(from: i64, to: i64, interval: i64, nonzero: &[(i64, u64)]) -> Vec<u64> {
    let (first, n) = bucket_span(from, to, interval);
    let mut counts = vec![0u64; n];
    for (key, count) in nonzero {
        let i = (key - first).div_euclid(interval);
        if (0..n as i64).contains(&i) {
            counts[i as usize] += count;
        }
    }
    counts
}

// ---- reading Elasticsearch-style answers (OpenSearch's and Tantivy's) ----

/// `(key, doc_count)` of a histogram answer (`{"buckets": [{"key": 1.7e15, "doc_count": 3}]}`).
pub(crate) fn read_histogram(v: &Value) -> Vec<(i64, u64)> {
    buckets(v)
        .iter()
        .filter_map(|b| Some((b.get("key")?.as_f64()? as i64, b.get("doc_count")?.as_u64()?)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

pub(crate) fn buckets(v: &Value) -> &[Value] {
    v.get("buckets").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The value of a terms bucket; `bools` when the field holds booleans (OpenSearch answers them
/// as 1/0 with `key_as_string`).
pub(crate) fn term_key(bucket: &Value, bools: bool) -> Option<TermKey> {
    if let Some(s) = bucket.get("key_as_string").and_then(Value::as_str) {
        if bools || matches!(s, "true" | "false") && bucket.get("key").is_some_and(Value::is_number) {
            return s.parse().ok().map(TermKey::Bool);
        }
    }
    match bucket.get("key")? {
        Value::String(s) => Some(TermKey::Text(s.clone())),
        Value::Number(n) if bools => Some(TermKey::Bool(n.as_f64()? != 0.0)),
        Value::Number(n) => Some(TermKey::Number(n.as_f64()?)),
        Value::Bool(b) => Some(TermKey::Bool(*b)),
        _ => None,
    }
}

/// `(value, count)` of a terms answer, and its `sum_other_doc_count`.
pub(crate) fn read_terms(v: &Value, bools: bool) -> (Vec<(TermKey, u64)>, u64) {
    let counts = buckets(v).iter().filter_map(|b| Some((term_key(b, bools)?, b.get("doc_count")?.as_u64()?))).collect();
    (counts, v.get("sum_other_doc_count").and_then(Value::as_u64).unwrap_or(0))
}

/// Numeric statistics parts, to merge several answers (one per typed field, or per store).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StatsParts {
    pub count: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub sum: f64,
}

impl StatsParts {
    pub(crate) fn read(v: &Value) -> Self {
        let count = v.get("count").and_then(Value::as_u64).unwrap_or(0);
        if count == 0 {
            return Self::default();
        }
        Self {
            count,
            min: v.get("min").and_then(Value::as_f64),
            max: v.get("max").and_then(Value::as_f64),
            sum: v.get("sum").and_then(Value::as_f64).unwrap_or(0.0),
        }
    }

    pub(crate) fn result(self) -> AggregationResult {
        AggregationResult::Stats {
            count: self.count,
            min: self.min,
            max: self.max,
            avg: (self.count > 0).then(|| self.sum / self.count as f64),
            sum: self.sum,
        }
    }
}

/// The asked percentiles from a `{"values": {"50.0": x, ...}}` or `[{"key": 50, "value": x}]` answer.
pub(crate) fn read_percentiles(v: &Value, percents: &[f64]) -> AggregationResult {
    let mut found: BTreeMap<u64, Option<f64>> = BTreeMap::new();
    match v.get("values") {
        Some(Value::Object(m)) => {
            for (k, x) in m {
                if let Ok(p) = k.parse::<f64>() {
                    found.insert(p.to_bits(), x.as_f64());
                }
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(p) = item.get("key").and_then(Value::as_f64) {
                    found.insert(p.to_bits(), item.get("value").and_then(Value::as_f64));
                }
            }
        }
        _ => {}
    }
    AggregationResult::Percentiles { values: percents.iter().map(|p| (*p, found.get(&p.to_bits()).copied().flatten())).collect() }
}

/// `(bucket start, count)` pairs of non-empty buckets.
pub(crate) type Histogram = Vec<(i64, u64)>;

/// The histogram result from total and per-value `(key, count)` pairs.
pub(crate) fn histogram_result(
    q: &AggregateQuery,
    interval: i64,
    size: usize,
    total: &[(i64, u64)],
    by_value: Option<Vec<(TermKey, Histogram)>>,
) -> AggregationResult {
    let (first, _) = bucket_span(q.from_micros, q.to_micros, interval);
    let counts = fill_buckets(q.from_micros, q.to_micros, interval, total);
    let buckets = counts.iter().enumerate().map(|(i, c)| HistogramBucket { key_micros: first + i as i64 * interval, count: *c }).collect();
    let Some(by_value) = by_value else {
        return AggregationResult::DateHistogram { interval_micros: interval, buckets, series: Vec::new(), other: None };
    };
    let totals: Vec<(TermKey, u64)> = by_value.iter().map(|(k, h)| (k.clone(), h.iter().map(|(_, c)| c).sum())).collect();
    let (top, _) = rank_terms(totals, size);
    let mut series: Vec<Series> = Vec::new();
    let mut other = counts.clone();
    for t in top {
        let mut points = vec![0u64; counts.len()];
        for (key, h) in &by_value {
            if key.cmp_key(&t.key) == Ordering::Equal {
                for (i, c) in fill_buckets(q.from_micros, q.to_micros, interval, h).into_iter().enumerate() {
                    points[i] += c;
                }
            }
        }
        for (o, p) in other.iter_mut().zip(&points) {
            *o = o.saturating_sub(*p);
        }
        series.push(Series { key: t.key, counts: points });
    }
    AggregationResult::DateHistogram { interval_micros: interval, buckets, series, other: Some(other) }
}

/// Picks a round interval giving at most 120 buckets (and so, for most ranges, at least 60).
pub fn auto_interval(from: i64, to: i64) -> i64 {
    const S: i64 = 1_000_000;
    const STEPS: &[i64] = &[
        S,
        2 * S,
        5 * S,
        10 * S,
        15 * S,
        30 * S,
        60 * S,
        120 * S,
        300 * S,
        600 * S,
        900 * S,
        1800 * S,
        3600 * S,
        7200 * S,
        10_800 * S,
        21_600 * S,
        43_200 * S,
        86_400 * S,
        172_800 * S,
        604_800 * S,
        1_209_600 * S,
        2_592_000 * S,
    ];
    let span = (to - from).max(1);
    STEPS.iter().copied().find(|step| span.div_euclid(*step) <= 120).unwrap_or(span.div_euclid(120).max(S))
}

// ---- building requests and reading answers, shared by both stores ----

/// How a store holds a field for aggregations: one name per typed sub-field, each marked when
/// it holds booleans.
pub(crate) type TypedFields = Vec<(String, bool)>;

/// How a store lays out what aggregations read.
pub(crate) struct Layout {
    /// Where a field's values are kept: one name per typed sub-field.
    pub typed: fn(&FieldRef) -> TypedFields,
    /// The one field holding a field's numbers, for statistics and percentiles.
    pub numeric: fn(&FieldRef) -> String,
    /// The time histogram request for an interval in microseconds.
    pub histogram: fn(i64) -> Value,
    /// Microseconds per unit of the histogram's bucket keys.
    pub histogram_key_micros: i64,
}

/// A histogram over `timestamp_us`: keys in microseconds.
pub(crate) fn micros_histogram(interval_micros: i64) -> Value {
    serde_json::json!({ "histogram": { "field": "timestamp_us", "interval": interval_micros as f64, "min_doc_count": 1 } })
}

/// Elasticsearch-style aggregation requests for `q`, named `a<i>...`, in a store's layout.
pub(crate) fn request(q: &AggregateQuery, layout: &Layout) -> serde_json::Map<String, Value> {
    use serde_json::json;
    let (typed, numeric) = (layout.typed, layout.numeric);
    let mut out = serde_json::Map::new();
    for (i, (_, agg)) in q.aggs.iter().enumerate() {
        match agg {
            Aggregation::Count => {}
            Aggregation::DateHistogram { interval_micros, split_by, .. } => {
                let histogram = (layout.histogram)(*interval_micros);
                out.insert(format!("a{i}_all"), histogram.clone());
                for (j, (field, _)) in split_by.iter().flat_map(typed).enumerate() {
                    out.insert(
                        format!("a{i}_by{j}"),
                        json!({ "terms": { "field": field, "size": SPLIT_FETCH }, "aggs": { "h": histogram } }),
                    );
                }
            }
            Aggregation::Terms { field, .. } => {
                for (j, (f, _)) in typed(field).into_iter().enumerate() {
                    out.insert(format!("a{i}_t{j}"), json!({ "terms": { "field": f, "size": TERMS_FETCH } }));
                }
            }
            Aggregation::Stats { field } => drop(out.insert(format!("a{i}"), json!({ "stats": { "field": numeric(field) } }))),
            Aggregation::Percentiles { field, percents } => drop(
                out.insert(format!("a{i}"), json!({ "percentiles": { "field": numeric(field), "percents": percents, "keyed": true } })),
            ),
            Aggregation::Cardinality { field } => {
                for (j, (f, _)) in typed(field).into_iter().enumerate() {
                    out.insert(format!("a{i}_c{j}"), json!({ "cardinality": { "field": f, "precision_threshold": 40_000 } }));
                }
            }
        }
    }
    out
}

/// The results of `q` from the answer to [`request`] (`aggs`: the aggregations object) and the
/// number of matching records.
pub(crate) fn results(q: &AggregateQuery, aggs: &Value, total: u64, layout: &Layout) -> Vec<(String, AggregationResult)> {
    let typed = layout.typed;
    let histogram_of = |v: &Value| -> Histogram {
        read_histogram(v).into_iter().map(|(k, c)| (k.saturating_mul(layout.histogram_key_micros), c)).collect()
    };
    let get = |k: String| aggs.get(&k).cloned().unwrap_or(Value::Null);
    let mut out = Vec::new();
    for (i, (name, agg)) in q.aggs.iter().enumerate() {
        let result = match agg {
            Aggregation::Count => AggregationResult::Count { value: total },
            Aggregation::DateHistogram { interval_micros, split_by, size } => {
                let all = histogram_of(&get(format!("a{i}_all")));
                let by_value = split_by.as_ref().map(|f| {
                    let mut per_value = Vec::new();
                    for (j, (_, bools)) in typed(f).into_iter().enumerate() {
                        for b in buckets(&get(format!("a{i}_by{j}"))) {
                            if let Some(key) = term_key(b, bools) {
                                per_value.push((key, histogram_of(b.get("h").unwrap_or(&Value::Null))));
                            }
                        }
                    }
                    per_value
                });
                histogram_result(q, *interval_micros, *size, &all, by_value)
            }
            Aggregation::Terms { field, size } => {
                let mut counts = Vec::new();
                let mut beyond = 0;
                for (j, (_, bools)) in typed(field).into_iter().enumerate() {
                    let (c, other) = read_terms(&get(format!("a{i}_t{j}")), bools);
                    counts.extend(c);
                    beyond += other;
                }
                let (buckets, rest) = rank_terms(counts, *size);
                AggregationResult::Terms { buckets, other: rest + beyond }
            }
            Aggregation::Stats { .. } => StatsParts::read(&get(format!("a{i}"))).result(),
            Aggregation::Percentiles { percents, .. } => read_percentiles(&get(format!("a{i}")), percents),
            Aggregation::Cardinality { field } => {
                let value = (0..typed(field).len())
                    .map(|j| get(format!("a{i}_c{j}")).get("value").and_then(Value::as_f64).unwrap_or(0.0) as u64)
                    .sum();
                AggregationResult::Cardinality { value }
            }
        };
        out.push((name.clone(), result));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_merges_equal_numbers_and_breaks_ties_by_value() {
        let (top, rest) = rank_terms(
            vec![
                (TermKey::Number(2.0), 3),
                (TermKey::Text("b".into()), 5),
                (TermKey::Number(2.0), 4),
                (TermKey::Text("a".into()), 5),
                (TermKey::Bool(true), 1),
            ],
            2,
        );
        assert_eq!(
            top,
            vec![TermBucket { key: TermKey::Number(2.0), count: 7 }, TermBucket { key: TermKey::Text("a".into()), count: 5 }],
            "2 and 2.0 are one value; equal counts are ordered by value"
        );
        assert_eq!(rest, 6);
    }

    #[test]
    fn buckets_cover_the_range_with_zeros() {
        assert_eq!(bucket_span(15, 45, 10), (10, 4));
        assert_eq!(fill_buckets(15, 45, 10, &[(20, 3), (40, 1), (90, 7)]), vec![0, 3, 0, 1]);
    }

    #[test]
    fn auto_intervals_give_60_to_120_buckets() {
        const S: i64 = 1_000_000;
        for (span, want) in [(900 * S, 10 * S), (3600 * S, 30 * S), (86_400 * S, 900 * S), (7 * 86_400 * S, 7200 * S)] {
            let i = auto_interval(0, span);
            assert_eq!(i, want, "span {span}");
            assert!((60..=120).contains(&(span / i)));
        }
    }
}
