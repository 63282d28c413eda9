//! The behaviour every [`LogStore`] must show, run against each implementation by its test
//! target (`tests/opensearch.rs`, `tests/tantivy.rs`). Each call needs an empty store.

use std::collections::BTreeMap;

use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};

use crate::{FieldInfo, FieldType, LogStore, SearchQuery};

const T0: i64 = 1_700_000_000_000_000;

/// A record of `project` at T0 + i seconds.
pub fn record(i: i64, project: &str, message: &str) -> LogRecord {
    LogRecord {
        id: format!("id-{project}-{i:04}"),
        project_id: project.into(),
        timestamp: T0 + i * 1_000_000,
        timestamp_source: TimestampSource::Event,
        received_at: T0 + i * 1_000_000 + 5,
        level: if i % 2 == 0 { Level::Info } else { Level::Error },
        message: message.into(),
        host: Some(format!("web-{}", i % 3)),
        service: Some("checkout".into()),
        source: SourceKind::Http,
        fields: BTreeMap::from([
            ("status".into(), FieldValue::Long(200 + i)),
            ("path".into(), FieldValue::String("/cart".into())),
            ("ratio".into(), FieldValue::Double(0.5)),
            ("cached".into(), FieldValue::Bool(i % 5 == 0)),
        ]),
        parse_status: ParseStatus::Ok,
        parse_errors: vec![],
        trace_id: None,
        span_id: None,
    }
}

/// A search of `project` around T0 for `q` in the query language (`None`: everything).
fn query(project: &str, q: Option<&str>) -> SearchQuery {
    SearchQuery {
        project_id: project.into(),
        query: nexuslog_query::parse(q.unwrap_or_default()).expect("a valid query"),
        from_micros: T0 - 1,
        to_micros: T0 + 3_600_000_000,
        limit: 100,
        ..SearchQuery::default()
    }
}

/// Runs every check; panics on the first difference from the contract.
pub async fn run_all(s: &dyn LogStore) {
    s.health().await.expect("health");
    s.prepare().await.expect("prepare");
    index_then_search_newest_first(s).await;
    reindexing_replaces(s).await;
    unseen_records_are_replaced_by_a_later_index(s).await;
    filters_and_paging(s).await;
    days_and_projects_are_separate(s).await;
    fields_keep_their_types(s).await;
    // Last: it deletes the days the checks above wrote.
    retention_drops_whole_days(s).await;
}

async fn retention_drops_whole_days(s: &dyn LogStore) {
    let day = 86_400_000_000;
    let mut recent = record(0, "omega", "recent");
    recent.timestamp = T0 + 10 * day;
    recent.id = "o-recent".into();
    let old = LogRecord { id: "o-old".into(), ..record(0, "omega", "old") };
    s.index(&[old, recent.clone()]).await.expect("bulk");
    s.refresh().await.expect("refresh");
    let dropped = s.drop_older_than(T0 + 11 * day, 5).await.expect("retention");
    assert!(dropped >= 1, "at least the old day of omega is dropped");
    s.refresh().await.expect("refresh");
    let q = SearchQuery { to_micros: T0 + 11 * day, ..query("omega", None) };
    let left = s.search(&q).await.expect("search");
    assert_eq!(left.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), vec!["o-recent"], "the recent day is kept");
}

async fn index_then_search_newest_first(s: &dyn LogStore) {
    let mut records: Vec<LogRecord> =
        (0..20).map(|i| record(i, "alpha", &format!("payment {} processed", if i % 2 == 0 { "ok" } else { "failed" }))).collect();
    records.push(record(0, "beta", "payment ok processed in another project"));
    let outcome = s.index(&records).await.expect("bulk");
    assert_eq!(outcome.indexed, 21);
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    s.refresh().await.expect("refresh");

    let all = s.search(&query("alpha", None)).await.expect("search");
    assert_eq!(all.total, 20, "the project filter excludes beta");
    let stamps: Vec<i64> = all.hits.iter().map(|r| r.timestamp).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "newest first");
    assert_eq!(all.hits[0], records[19], "documents read back as indexed");

    let failed = s.search(&query("alpha", Some("failed"))).await.expect("search");
    assert_eq!(failed.total, 10);
    assert!(failed.hits.iter().all(|r| r.message.contains("failed")));
    let both = s.search(&query("alpha", Some("payment failed"))).await.expect("search");
    assert_eq!(both.total, 10, "words combine with AND");

    let narrow = SearchQuery { from_micros: T0 + 5_000_000, to_micros: T0 + 8_000_000, ..query("alpha", None) };
    assert_eq!(s.search(&narrow).await.expect("search").total, 3, "time range is [from, to)");
}

async fn reindexing_replaces(s: &dyn LogStore) {
    let records: Vec<LogRecord> = (0..5).map(|i| record(i, "gamma", "first version")).collect();
    s.index(&records).await.expect("bulk");
    let replay: Vec<LogRecord> = records.iter().map(|r| LogRecord { message: "second version".into(), ..r.clone() }).collect();
    s.index(&replay).await.expect("bulk replay");
    s.index(&replay[..2]).await.expect("bulk replay again");
    s.refresh().await.expect("refresh");
    let res = s.search(&query("gamma", None)).await.expect("search");
    assert_eq!(res.total, 5, "a replay never duplicates");
    assert!(res.hits.iter().all(|r| r.message == "second version"));
}

/// `index_unseen` adds; a record given again with `index` (the sink's replay) still ends as
/// one copy.
async fn unseen_records_are_replaced_by_a_later_index(s: &dyn LogStore) {
    let records: Vec<LogRecord> = (0..4).map(|i| record(i, "epsilon", "first version")).collect();
    s.index_unseen(&records).await.expect("bulk of new records");
    s.refresh().await.expect("refresh");
    assert_eq!(s.search(&query("epsilon", None)).await.expect("search").total, 4);
    let replay: Vec<LogRecord> = records.iter().map(|r| LogRecord { message: "epsilon second version".into(), ..r.clone() }).collect();
    s.index(&replay).await.expect("bulk replay");
    s.refresh().await.expect("refresh");
    let res = s.search(&query("epsilon", None)).await.expect("search");
    assert_eq!(res.total, 4, "a replay of unseen records never duplicates");
    assert!(res.hits.iter().all(|r| r.message == "epsilon second version"));
}

async fn filters_and_paging(s: &dyn LogStore) {
    let mut records: Vec<LogRecord> = (0..25).map(|i| record(i, "eps", "paged")).collect();
    // Two records in the same microsecond: paging must still return each exactly once.
    records.push(LogRecord { id: "id-eps-tie".into(), ..record(24, "eps", "paged") });
    s.index(&records).await.expect("bulk");
    s.refresh().await.expect("refresh");

    let f = |filters: &[(&str, &str)]| {
        let text: Vec<String> = filters.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        query("eps", Some(&text.join(" ")))
    };
    let expected = records.iter().filter(|r| r.level == Level::Error && r.host.as_deref() == Some("web-1")).count() as u64;
    assert_eq!(s.search(&f(&[("level", "error"), ("host", "web-1")])).await.expect("search").total, expected);
    assert_eq!(s.search(&f(&[("status", "207")])).await.expect("search").hits[0].id, records[7].id, "numeric field");
    assert_eq!(s.search(&f(&[("path", "/cart")])).await.expect("search").total, 26, "string field");
    assert_eq!(s.search(&f(&[("cached", "true")])).await.expect("search").total, 5, "boolean field");
    assert_eq!(s.search(&f(&[("fields.status", "1")])).await.expect("search").total, 0);
    assert_eq!(s.search(&f(&[("id", "id-eps-0003")])).await.expect("search").total, 1);

    let mut seen = Vec::new();
    let mut q = SearchQuery { limit: 7, ..query("eps", None) };
    for _ in 0..10 {
        let page = s.search(&q).await.expect("page");
        seen.extend(page.hits.iter().map(|h| h.id.clone()));
        match page.next {
            Some(after) => q.after = Some(after),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 26, "every record once: {seen:?}");
    assert_eq!(seen.len(), 26, "no record twice: {seen:?}");
    assert_eq!(seen[25], records[0].id, "oldest last");
}

async fn days_and_projects_are_separate(s: &dyn LogStore) {
    let day = 86_400_000_000;
    let mut r1 = record(0, "delta", "day one");
    let mut r2 = record(1, "delta", "day two");
    r2.timestamp += day;
    r1.id = "d1".into();
    r2.id = "d2".into();
    s.index(&[r1.clone(), r2.clone()]).await.expect("bulk");
    s.refresh().await.expect("refresh");
    let q = SearchQuery { to_micros: T0 + 2 * day, ..query("delta", None) };
    let res = s.search(&q).await.expect("search");
    assert_eq!(res.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), vec!["d2", "d1"], "across days, newest first");
    let other = s.search(&SearchQuery { to_micros: T0 + 2 * day, ..query("nobody", None) }).await.expect("search");
    assert_eq!(other.total, 0, "an unknown project sees nothing");
}

/// One field, three records, two types, one day: every record is indexed and reads back as it
/// was, filters find each value by what it looks like, and `fields` reports the conflict.
async fn fields_keep_their_types(s: &dyn LogStore) {
    let project = "typed";
    let mut long = record(1, project, "status as a number");
    long.fields.insert("status".into(), FieldValue::Long(200));
    long.fields.insert("http.method".into(), FieldValue::String("GET".into()));
    long.fields.insert("gone".into(), FieldValue::Null);
    let mut text = record(2, project, "status as text");
    text.fields.insert("status".into(), FieldValue::String("abc".into()));
    let mut digits = record(3, project, "status as digits");
    digits.fields.insert("status".into(), FieldValue::String("200".into()));
    // A project whose name extends this one's: its fields must not show up here.
    let mut other = record(4, "typed-other", "another project");
    other.fields.insert("elsewhere".into(), FieldValue::Long(1));
    let outcome = s.index(&[long.clone(), text.clone(), digits.clone(), other]).await.expect("bulk");
    assert!(outcome.failures.is_empty(), "no type conflict refuses a record: {:?}", outcome.failures);
    assert_eq!(outcome.indexed, 4);
    s.refresh().await.expect("refresh");

    let all = s.search(&query(project, None)).await.expect("search");
    assert_eq!(all.hits, vec![digits.clone(), text.clone(), long.clone()], "each record reads back with its own types");

    let ids = |filters: &[(&str, &str)]| {
        let text: Vec<String> = filters.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let q = query(project, Some(&text.join(" ")));
        async move {
            let mut ids: Vec<String> = s.search(&q).await.expect("search").hits.into_iter().map(|h| h.id).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(ids(&[("status", "200")]).await, vec![long.id.clone(), digits.id.clone()], "the long 200 and the string \"200\"");
    assert_eq!(ids(&[("status", "abc")]).await, vec![text.id.clone()], "a non-numeric value on a field that is also numeric");
    assert_eq!(ids(&[("fields.status", "abc")]).await, vec![text.id.clone()]);
    assert_eq!(ids(&[("status", "200.0")]).await, vec![long.id.clone()], "numbers compare as numbers, strings as written");
    assert_eq!(ids(&[("http.method", "GET")]).await, vec![long.id.clone()], "a name with a dot");
    assert_eq!(ids(&[("ratio", "0.5"), ("cached", "false")]).await.len(), 3);

    let field = |name: &str, types: &[FieldType]| FieldInfo { name: name.into(), types: types.to_vec() };
    let fields = s.fields(project).await.expect("fields");
    assert_eq!(
        fields,
        vec![
            field("cached", &[FieldType::Bool]),
            field("http.method", &[FieldType::String]),
            field("path", &[FieldType::String]),
            field("ratio", &[FieldType::Double]),
            field("status", &[FieldType::Long, FieldType::String]),
        ],
        "by name, every type once; a null gives no type; no other project's fields"
    );
    assert_eq!(fields.iter().filter(|f| f.is_conflict()).map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["status"]);
    let other = s.fields("typed-other").await.expect("fields");
    assert!(other.contains(&field("elsewhere", &[FieldType::Long])), "{other:?}");
    assert_eq!(s.fields("nobody").await.expect("fields"), vec![], "an unknown project has no fields");
}
