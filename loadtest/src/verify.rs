//! Verification through the search API: follow the run while it is sent (first-seen times give
//! freshness), then one full scan that is the authoritative count of found and duplicated.
//!
//! Contract used: `GET /v1/search?q=run:<id>&from=<epoch ms>&limit=&cursor=` answers
//! `{"total", "hits":[{"id", "fields":{"run","seq"}}], "next_cursor"}`, newest first; paging
//! ends when `next_cursor` is null.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use crate::ledger::Ledger;

/// Hits per search page: the API's maximum, fewest round trips.
const PAGE_LIMIT: usize = 10_000;
/// Upper bound on pages of one scan (10^8 hits): a cursor that never ends cannot hang us.
const MAX_PAGES: usize = 10_000;
/// Documents are stamped by the gateway's clock, the window by ours; same machine, but leave
/// room for the time between our stamp and the gateway's.
const WINDOW_SLACK_MS: i64 = 2_000;

/// One hit, reduced to what verification needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: String,
    pub seq: Option<u64>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub total: u64,
    pub hits: Vec<Hit>,
    pub next_cursor: Option<String>,
}

/// Parses a search answer.
///
/// # Errors
/// When the body is not the documented shape.
pub fn parse_page(body: &Value) -> anyhow::Result<Page> {
    let hits = body
        .get("hits")
        .and_then(Value::as_array)
        .context("search answer has no `hits` array")?;
    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let id = h
            .get("id")
            .and_then(Value::as_str)
            .context("hit without `id`")?
            .to_owned();
        let seq = h.pointer("/fields/seq").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        out.push(Hit { id, seq });
    }
    Ok(Page {
        total: body.get("total").and_then(Value::as_u64).unwrap_or(0),
        hits: out,
        next_cursor: body
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Fetches every page of one query through `fetch(cursor)`, handing each page to `on_page`.
/// Stops at a null cursor, an empty page, a cursor that repeats, or `MAX_PAGES`.
/// Returns the number of hits seen.
///
/// # Errors
/// The first error of `fetch`.
pub async fn scan<F, Fut>(mut fetch: F, mut on_page: impl FnMut(&Page)) -> anyhow::Result<u64>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = anyhow::Result<Page>>,
{
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.clone()).await?;
        seen += page.hits.len() as u64;
        on_page(&page);
        match page.next_cursor {
            Some(next) if !page.hits.is_empty() && cursor.as_deref() != Some(next.as_str()) => {
                cursor = Some(next)
            }
            _ => return Ok(seen),
        }
    }
    Ok(seen)
}

/// Events of the last day matching `q`, counted by the aggregation API: exact at any number,
/// where a search's `total` stops at its exact-total limit (10 000).
///
/// # Errors
/// Transport errors, or an answer without the count.
pub async fn count(http: &reqwest::Client, api: &str, key: &str, q: &str) -> anyhow::Result<u64> {
    let v: Value = http
        .post(format!("{api}/v1/aggregate"))
        .json(&serde_json::json!({ "q": q, "from": "now-1d", "aggs": { "n": { "count": {} } } }))
        .bearer_auth(key)
        .send()
        .await?
        .json()
        .await?;
    v["aggs"]["n"]["value"].as_u64().with_context(|| format!("no count in {v}"))
}

/// The search API of one NexusLog deployment, as one run's verifier uses it.
#[derive(Debug, Clone)]
pub struct SearchClient {
    http: reqwest::Client,
    url: reqwest::Url,
    api_key: String,
    run_id: String,
}

impl SearchClient {
    /// # Errors
    /// When `base` is not a URL.
    pub fn new(base: &str, api_key: &str, run_id: &str) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(base)
            .with_context(|| format!("invalid search URL {base:?}"))?
            .join("/v1/search")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            url,
            api_key: api_key.to_owned(),
            run_id: run_id.to_owned(),
        })
    }

    /// One page of this run's events stamped at or after `from_ms`.
    ///
    /// # Errors
    /// Transport errors, non-200 answers, unexpected bodies.
    pub async fn page(&self, from_ms: i64, cursor: Option<String>) -> anyhow::Result<Page> {
        let mut url = self.url.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("q", &format!("run:{}", self.run_id));
            q.append_pair("from", &from_ms.to_string());
            q.append_pair("limit", &PAGE_LIMIT.to_string());
            if let Some(c) = &cursor {
                q.append_pair("cursor", c);
            }
        }
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.api_key)
            .send()
            .await
            .context("search request")?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            bail!(
                "search answered {status}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        let body: Value = resp.json().await.context("search answer is not JSON")?;
        parse_page(&body)
    }

    /// Scans everything from `from_ms`, recording hits in the ledger at the time each page
    /// arrived. Returns the hits seen.
    ///
    /// # Errors
    /// When a page cannot be fetched.
    pub async fn scan_into(
        &self,
        from_ms: i64,
        ledger: &Mutex<Ledger>,
        origin: Instant,
    ) -> anyhow::Result<u64> {
        scan(
            |cursor| self.page(from_ms, cursor),
            |page| {
                let at = origin.elapsed();
                let mut l = ledger
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for h in &page.hits {
                    if let Some(seq) = h.seq {
                        l.observe(seq, &h.id, at);
                    }
                }
            },
        )
        .await
    }
}

/// What following a run produced.
#[derive(Debug, Clone, Default)]
pub struct FollowStats {
    pub polls: u64,
    pub poll_errors: u64,
    pub last_error: Option<String>,
    pub timed_out: bool,
}

/// Polls search every `every` until the ledger is complete after `done()` turned true, or
/// `timeout` passed since then. Errors are counted and retried: the API may be restarting.
pub async fn follow(
    client: &SearchClient,
    ledger: &Arc<Mutex<Ledger>>,
    origin: Instant,
    every: Duration,
    timeout: Duration,
    done: impl Fn() -> bool,
    mut tick: impl FnMut(),
) -> FollowStats {
    let mut stats = FollowStats::default();
    let mut done_at: Option<Instant> = None;
    loop {
        let finished = done();
        if finished && done_at.is_none() {
            done_at = Some(Instant::now());
        }
        let lock = || {
            ledger
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let (complete, window) = {
            let l = lock();
            (l.complete(), l.window_start_ms())
        };
        if finished && complete {
            break;
        }
        if done_at.is_some_and(|t| t.elapsed() > timeout) {
            stats.timed_out = true;
            break;
        }
        let started = Instant::now();
        if let Some(from) = window {
            stats.polls += 1;
            if let Err(e) = client
                .scan_into(from - WINDOW_SLACK_MS, ledger, origin)
                .await
            {
                stats.poll_errors += 1;
                stats.last_error = Some(format!("{e:#}"));
            }
        }
        tick();
        tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(range: std::ops::Range<u64>) -> Vec<Hit> {
        range
            .map(|s| Hit {
                id: format!("id{s}"),
                seq: Some(s),
            })
            .collect()
    }

    #[tokio::test]
    async fn scan_follows_cursors_until_null() {
        let mut calls = Vec::new();
        let mut seqs = Vec::new();
        let n = scan(
            |cursor: Option<String>| {
                calls.push(cursor.clone());
                let page = match cursor.as_deref() {
                    None => Page {
                        total: 5,
                        hits: hits(0..2),
                        next_cursor: Some("c1".into()),
                    },
                    Some("c1") => Page {
                        total: 5,
                        hits: hits(2..4),
                        next_cursor: Some("c2".into()),
                    },
                    _ => Page {
                        total: 5,
                        hits: hits(4..5),
                        next_cursor: None,
                    },
                };
                async move { Ok(page) }
            },
            |p| seqs.extend(p.hits.iter().filter_map(|h| h.seq)),
        )
        .await
        .expect("scan");
        assert_eq!(n, 5);
        assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
        assert_eq!(calls, vec![None, Some("c1".into()), Some("c2".into())]);
    }

    #[tokio::test]
    async fn scan_stops_on_repeated_cursor_and_empty_page() {
        let mut calls = 0;
        let n = scan(
            |_c| {
                calls += 1;
                async {
                    Ok(Page {
                        total: 1,
                        hits: hits(0..1),
                        next_cursor: Some("same".into()),
                    })
                }
            },
            |_| {},
        )
        .await
        .expect("scan");
        assert_eq!((n, calls), (2, 2), "second page repeats the cursor: stop");
        let n = scan(
            |_c| async {
                Ok(Page {
                    total: 0,
                    hits: vec![],
                    next_cursor: Some("x".into()),
                })
            },
            |_| {},
        )
        .await
        .expect("scan");
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn scan_propagates_errors() {
        let r = scan(
            |_c| async { Err::<Page, _>(anyhow::anyhow!("boom")) },
            |_| {},
        )
        .await;
        assert!(r.is_err());
    }

    #[test]
    fn parses_documented_shape() {
        let body = serde_json::json!({
            "total": 2,
            "hits": [
                {"id": "a", "fields": {"run": "r", "seq": 7}},
                {"id": "b", "fields": {"run": "r"}}
            ],
            "next_cursor": null
        });
        let p = parse_page(&body).expect("parse");
        assert_eq!(p.total, 2);
        assert_eq!(
            p.hits,
            vec![
                Hit {
                    id: "a".into(),
                    seq: Some(7)
                },
                Hit {
                    id: "b".into(),
                    seq: None
                }
            ]
        );
        assert_eq!(p.next_cursor, None);
        assert!(parse_page(&serde_json::json!({"error": "x"})).is_err());
    }
}
