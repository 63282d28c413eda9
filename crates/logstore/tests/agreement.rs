//! The three-way agreement test: one generated corpus is indexed into a real OpenSearch and into
//! Tantivy, and for random queries of the language the hits from OpenSearch, from Tantivy and
//! from `nexuslog_query::matches` over the corpus must be the same set. Aggregations over the
//! same corpus must agree between the stores.

mod corpus;

use std::collections::BTreeSet;

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore, SearchQuery, TantivyLogStore};
use nexuslog_query::{matches, parse, Query};
use nexuslog_schemas::LogRecord;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::corpus::{query_strategy, Corpus, PROJECT};

struct Stores {
    opensearch: OpenSearchLogStore,
    tantivy: TantivyLogStore,
    _dir: tempfile::TempDir,
}

async fn stores(corpus: &Corpus) -> Stores {
    let opensearch = OpenSearchLogStore::new(&OpenSearchConfig {
        url: service_env("OPENSEARCH_URL"),
        username: None,
        password: None,
        index_prefix: format!("{}-", unique_name("nxagree")),
        ca_pem: None,
        identity_pem: None,
        verify: true,
    })
    .expect("client");
    opensearch.prepare().await.expect("template");
    let dir = tempfile::tempdir().expect("tempdir");
    let tantivy = TantivyLogStore::open(dir.path()).expect("open");
    for chunk in corpus.records.chunks(1000) {
        let o = opensearch.index(chunk).await.expect("bulk");
        assert!(o.failures.is_empty(), "{:?}", o.failures.first());
        let t = tantivy.index(chunk).await.expect("index");
        assert!(t.failures.is_empty());
    }
    opensearch.refresh().await.expect("refresh");
    Stores { opensearch, tantivy, _dir: dir }
}

async fn hit_ids(store: &dyn LogStore, corpus: &Corpus, q: &Query) -> (BTreeSet<String>, u64) {
    let query = SearchQuery {
        project_id: PROJECT.into(),
        query: q.clone(),
        from_micros: corpus.from,
        to_micros: corpus.to,
        limit: 10_000,
        ..SearchQuery::default()
    };
    let r = store.search(&query).await.expect("search");
    (r.hits.into_iter().map(|h| h.id).collect(), r.total)
}

fn expected(corpus: &Corpus, q: &Query) -> BTreeSet<String> {
    corpus.records.iter().filter(|r: &&LogRecord| matches(q, r)).map(|r| r.id.clone()).collect()
}

#[test]
fn opensearch_tantivy_and_memory_agree_on_every_query() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let corpus = Corpus::generate(3000, 7);
    let s = rt.block_on(stores(&corpus));

    // Hand-picked queries first: each names a rule of the language; then random ones.
    let nonempty = std::cell::Cell::new(0);
    let check = |text: &str| -> Result<(), TestCaseError> {
        let q = parse(text).map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e}")))?;
        let want = expected(&corpus, &q);
        let (os, os_total) = rt.block_on(hit_ids(&s.opensearch, &corpus, &q));
        let (tv, tv_total) = rt.block_on(hit_ids(&s.tantivy, &corpus, &q));
        prop_assert_eq!(&os, &want, "OpenSearch vs memory for {:?} (canonical {})", text, q);
        prop_assert_eq!(&tv, &want, "Tantivy vs memory for {:?} (canonical {})", text, q);
        prop_assert_eq!(os_total, want.len() as u64, "OpenSearch total for {:?}", text);
        prop_assert_eq!(tv_total, want.len() as u64, "Tantivy total for {:?}", text);
        if !want.is_empty() && want.len() < corpus.records.len() {
            nonempty.set(nonempty.get() + 1);
        }
        Ok(())
    };
    for text in corpus::EXAMPLES {
        if let Err(e) = check(text) {
            panic!("{e}");
        }
    }
    let mut runner = TestRunner::new(Config { cases: 300, failure_persistence: None, ..Config::default() });
    runner.run(&query_strategy(), |text| check(&text)).unwrap_or_else(|e| panic!("{e}"));
    // A generator that only produced empty or full hit sets would prove little.
    let nonempty = nonempty.get();
    assert!(nonempty > 200, "only {nonempty} queries selected a proper, non-empty subset");
}

use nexuslog_logstore::{AggregateQuery, Aggregation, AggregationResult, TermKey};
use nexuslog_query::FieldRef;
use nexuslog_schemas::FieldValue;

/// A record's value of `field` as a top-value key, as the stores index it.
fn key_of(r: &LogRecord, field: &FieldRef) -> Option<TermKey> {
    match field {
        FieldRef::Level => Some(TermKey::Text(r.level.symbol().into())),
        FieldRef::Standard(s) => nexuslog_query::standard_value(r, *s).map(|v| TermKey::Text(v.into())),
        FieldRef::Extracted(n) => match r.fields.get(n)? {
            FieldValue::String(s) if nexuslog_query::is_indexed_text(s) => Some(TermKey::Text(s.clone())),
            FieldValue::Bool(b) => Some(TermKey::Bool(*b)),
            v => nexuslog_query::numeric_value(v).map(TermKey::Number),
        },
        _ => None,
    }
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn aggregations_agree_between_stores_and_with_the_records() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let corpus = Corpus::generate(3000, 11);
    let s = rt.block_on(stores(&corpus));
    let field = FieldRef::resolve;
    let aggs = vec![
        ("n".to_owned(), Aggregation::Count),
        ("hist".into(), Aggregation::DateHistogram { interval_micros: 300_000_000, split_by: Some(field("level")), size: 3 }),
        (
            "auto".into(),
            Aggregation::DateHistogram {
                interval_micros: nexuslog_logstore::auto_interval(corpus.from, corpus.to),
                split_by: None,
                size: 10,
            },
        ),
        ("by_status".into(), Aggregation::DateHistogram { interval_micros: 600_000_000, split_by: Some(field("status")), size: 4 }),
        ("hosts".into(), Aggregation::Terms { field: field("host"), size: 2 }),
        ("levels".into(), Aggregation::Terms { field: field("level"), size: 10 }),
        ("status".into(), Aggregation::Terms { field: field("status"), size: 10 }),
        ("users".into(), Aggregation::Terms { field: field("user"), size: 3 }),
        ("flags".into(), Aggregation::Terms { field: field("flag"), size: 5 }),
        ("latency".into(), Aggregation::Stats { field: field("latency") }),
        ("ratio".into(), Aggregation::Stats { field: field("ratio") }),
        ("p".into(), Aggregation::Percentiles { field: field("latency"), percents: vec![50.0, 95.0, 99.0] }),
        ("distinct_users".into(), Aggregation::Cardinality { field: field("user") }),
        ("distinct_status".into(), Aggregation::Cardinality { field: field("status") }),
    ];
    for text in ["", "error", "level:>=warn", "status:* -host:web-1", "登录 OR timeout"] {
        let q = parse(text).expect("query");
        let request = AggregateQuery {
            project_id: PROJECT.into(),
            query: q.clone(),
            from_micros: corpus.from,
            to_micros: corpus.to,
            aggs: aggs.clone(),
        };
        let os = rt.block_on(s.opensearch.aggregate(&request)).expect("opensearch aggregate");
        let tv = rt.block_on(s.tantivy.aggregate(&request)).expect("tantivy aggregate");
        let matching: Vec<&LogRecord> = corpus.records.iter().filter(|r| matches(&q, r)).collect();
        for (((name, a), (_, b)), (_, agg)) in os.iter().zip(&tv).zip(&aggs) {
            let ctx = format!("{name} for {text:?}");
            match (a, b) {
                (
                    AggregationResult::Stats { count: c1, min: n1, max: x1, sum: s1, .. },
                    AggregationResult::Stats { count: c2, min: n2, max: x2, sum: s2, .. },
                ) => {
                    assert_eq!((c1, n1, x1), (c2, n2, x2), "{ctx}");
                    assert!(close(*s1, *s2, 1e-9), "{ctx}: sums {s1} vs {s2}");
                    let Aggregation::Stats { field } = agg else { unreachable!() };
                    let values: Vec<f64> = matching
                        .iter()
                        .filter_map(|r| match key_of(r, field) {
                            Some(TermKey::Number(x)) => Some(x),
                            _ => None,
                        })
                        .collect();
                    assert_eq!(*c1, values.len() as u64, "{ctx}: count");
                    assert!(close(*s1, values.iter().sum(), 1e-9), "{ctx}: sum");
                }
                (AggregationResult::Percentiles { values: v1 }, AggregationResult::Percentiles { values: v2 }) => {
                    let Aggregation::Percentiles { field, .. } = agg else { unreachable!() };
                    let mut values: Vec<f64> = matching
                        .iter()
                        .filter_map(|r| match key_of(r, field) {
                            Some(TermKey::Number(x)) => Some(x),
                            _ => None,
                        })
                        .collect();
                    values.sort_by(f64::total_cmp);
                    for ((p, x1), (_, x2)) in v1.iter().zip(v2) {
                        let (Some(x1), Some(x2)) = (x1, x2) else {
                            assert!(values.is_empty() && x1.is_none() && x2.is_none(), "{ctx}: p{p} missing");
                            continue;
                        };
                        // OpenSearch estimates with t-digest, Tantivy with DDSketch (1 % relative
                        // error): both must land within the values around the exact rank.
                        let rank = |q: f64| values[((q / 100.0 * (values.len() - 1) as f64).round() as usize).min(values.len() - 1)];
                        let (lo, hi) = (rank((p - 2.0).max(0.0)), rank((p + 2.0).min(100.0)));
                        for x in [x1, x2] {
                            assert!(*x >= lo * 0.98 - 1.0 && *x <= hi * 1.02 + 1.0, "{ctx}: p{p} = {x}, exact rank values {lo}..{hi}");
                        }
                    }
                }
                (AggregationResult::Cardinality { value: v1 }, AggregationResult::Cardinality { value: v2 }) => {
                    let Aggregation::Cardinality { field } = agg else { unreachable!() };
                    let mut distinct: Vec<TermKey> = Vec::new();
                    for k in matching.iter().filter_map(|r| key_of(r, field)) {
                        if !distinct.contains(&k) {
                            distinct.push(k);
                        }
                    }
                    // Both are HyperLogLog estimates; at this size they are exact or nearly.
                    for v in [v1, v2] {
                        assert!(close(*v as f64, distinct.len() as f64, 0.05), "{ctx}: {v} vs {} distinct", distinct.len());
                    }
                }
                _ => assert_eq!(a, b, "{ctx}: OpenSearch vs Tantivy"),
            }
            match (a, agg) {
                (AggregationResult::Count { value }, _) => {
                    assert_eq!(*value, matching.len() as u64, "{ctx}")
                }
                (AggregationResult::DateHistogram { buckets, series, other, .. }, _) => {
                    assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), matching.len() as u64, "{ctx}: every record in a bucket");
                    if let Some(other) = other {
                        let split: u64 = series.iter().flat_map(|s| &s.counts).sum::<u64>() + other.iter().sum::<u64>();
                        assert_eq!(split, matching.len() as u64, "{ctx}: series and other add up");
                    }
                }
                (AggregationResult::Terms { buckets, other }, Aggregation::Terms { field, .. }) => {
                    let with_value = matching.iter().filter(|r| key_of(r, field).is_some()).count() as u64;
                    assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>() + other, with_value, "{ctx}: top values and other add up");
                    for b in buckets {
                        let n = matching.iter().filter(|r| key_of(r, field).as_ref() == Some(&b.key)).count() as u64;
                        assert_eq!(b.count, n, "{ctx}: count of {:?}", b.key);
                    }
                }
                _ => {}
            }
        }
    }
}
