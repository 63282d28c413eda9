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
