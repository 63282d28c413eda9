//! `nexuslog deadletter list|replay`: the way back for dead letters.
//!
//! Both read the whole dead-letter topic with a reader of their own (a fresh consumer group
//! that never commits, so nothing is moved for anyone else) and keep what the filters select.
//! `replay` re-submits each selected letter through the normal path, under its original id,
//! so a replay (or two) never duplicates an event that made it:
//! - a gateway or processor letter holding an event's bytes becomes a raw event again, with the
//!   letter's id as its ingest id (the document id downstream), for the processors to run the
//!   project's *current* pipeline on;
//! - a letter holding a whole encoded record (the processor could not decode it, or the sink's
//!   store refused it) goes back, bytes unchanged, to the topic it was read from.
//!
//! The embedded log is one process's file: in standalone mode stop the server first.

use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use nexuslog_bus::{Bus, OutRecord, Topics};
use nexuslog_schemas::{DeadLetter, RawEvent, SourceKind, Stage};

use crate::backends;
use crate::cli::{DeadLetterAction, DeadLetterFilter};

/// How long a read waits for more before calling the topic read to its end.
const QUIET: Duration = Duration::from_secs(2);

pub async fn run(action: &DeadLetterAction, config: &nexuslog_config::Config) -> anyhow::Result<()> {
    let bus = backends::bus(config).await?;
    let codec = backends::codec(config)?;
    let topics = Topics::with_prefix(&config.bus.topic_prefix);
    let filter = match action {
        DeadLetterAction::List { filter, .. } | DeadLetterAction::Replay { filter, .. } => Selection::new(filter)?,
    };
    let letters = read_all(bus.as_ref(), &codec, &topics, &filter).await?;
    match action {
        DeadLetterAction::List { limit, .. } => {
            for dl in letters.iter().take(*limit) {
                println!("{}", summary(dl));
            }
            eprintln!("{} dead letters match ({} shown)", letters.len(), letters.len().min(*limit));
        }
        DeadLetterAction::Replay { dry_run, .. } => {
            let (records, skipped) = replay_records(&letters, &topics, &codec).await?;
            if *dry_run {
                eprintln!("{} of {} dead letters would be re-submitted ({skipped} cannot be: no project)", records.len(), letters.len());
                return Ok(());
            }
            let bar = indicatif::ProgressBar::new(records.len() as u64);
            for chunk in records.chunks(500) {
                bus.produce(chunk.to_vec()).await.context("re-submitting to the bus")?;
                bar.inc(chunk.len() as u64);
            }
            bar.finish_and_clear();
            eprintln!("re-submitted {} dead letters ({skipped} skipped: no project to submit them to)", records.len());
        }
    }
    Ok(())
}

/// The filters, parsed.
struct Selection {
    project: Option<String>,
    stage: Option<Stage>,
    reason: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
}

impl Selection {
    fn new(f: &DeadLetterFilter) -> anyhow::Result<Self> {
        let stage = match f.stage.as_deref() {
            None => None,
            Some(s) => Some(match s.to_ascii_lowercase().as_str() {
                "gateway" => Stage::Gateway,
                "processor" => Stage::Processor,
                "sink" => Stage::Sink,
                other => bail!("--stage {other:?}: expected gateway, processor or sink"),
            }),
        };
        let since = f.since.as_deref().map(|s| parse_time(s).with_context(|| format!("--since {s:?}"))).transpose()?;
        let until = f.until.as_deref().map(|s| parse_time(s).with_context(|| format!("--until {s:?}"))).transpose()?;
        Ok(Self { project: f.project.clone(), stage, reason: f.reason.as_ref().map(|r| r.to_lowercase()), since, until })
    }

    fn matches(&self, dl: &DeadLetter) -> bool {
        self.project.as_ref().is_none_or(|p| dl.project_id.as_ref() == Some(p))
            && self.stage.is_none_or(|s| dl.stage == s)
            && self.reason.as_ref().is_none_or(|r| dl.error_kind.to_lowercase().contains(r) || dl.reason.to_lowercase().contains(r))
            && self.since.is_none_or(|t| dl.failed_at >= t)
            && self.until.is_none_or(|t| dl.failed_at < t)
    }
}

/// RFC 3339, or an age before now: `90s`, `15m`, `24h`, `7d`.
fn parse_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().context("expected RFC 3339 or an age like 24h")?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("unit {unit:?}: expected s, m, h or d"),
    };
    Ok(nexuslog_common::now_micros() - secs * 1_000_000)
}

async fn read_all(bus: &dyn Bus, codec: &nexuslog_schemas::wire::Codec, topics: &Topics, filter: &Selection) -> anyhow::Result<Vec<DeadLetter>> {
    let group = format!("nexuslog-deadletter-cli-{}", uuid::Uuid::new_v4().simple());
    let mut reader = bus.consumer(&group, std::slice::from_ref(&topics.deadletter)).await.context("reading the dead-letter topic")?;
    let bar = indicatif::ProgressBar::new_spinner().with_message("reading dead letters");
    let mut out = Vec::new();
    loop {
        let batch = reader.poll(1000, QUIET).await.context("reading the dead-letter topic")?;
        if batch.is_empty() {
            break;
        }
        for rec in &batch {
            match codec.decode::<DeadLetter>(&rec.payload).await {
                Ok(dl) if filter.matches(&dl) => out.push(dl),
                Ok(_) => {}
                Err(e) if e.is_transient() => return Err(e).context("the schema registry is unavailable"),
                Err(e) => tracing::warn!(partition = rec.partition, offset = rec.offset, error = %e, "skipping an unreadable dead letter"),
            }
        }
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// One line of `list`: the letter without its bytes, and the start of them as text.
fn summary(dl: &DeadLetter) -> String {
    let preview: String = String::from_utf8_lossy(&dl.original).chars().take(200).collect();
    serde_json::json!({
        "id": dl.id,
        "project_id": dl.project_id,
        "stage": dl.stage.symbol().to_lowercase(),
        "error_kind": dl.error_kind,
        "reason": dl.reason,
        "failed_at": DateTime::<Utc>::from_timestamp_micros(dl.failed_at).map(|t| t.to_rfc3339()),
        "topic": dl.topic,
        "original_bytes": dl.original.len(),
        "original": preview,
    })
    .to_string()
}

/// Whether a letter's bytes are a whole encoded record (to go back unchanged) rather than an
/// event's text.
fn holds_a_record(dl: &DeadLetter) -> bool {
    dl.stage == Stage::Sink || (dl.stage == Stage::Processor && dl.error_kind == "undecodable")
}

/// The records that re-submit `letters`, and how many cannot be (an event without a project).
async fn replay_records(letters: &[DeadLetter], topics: &Topics, codec: &nexuslog_schemas::wire::Codec) -> anyhow::Result<(Vec<OutRecord>, usize)> {
    let mut out = Vec::with_capacity(letters.len());
    let mut skipped = 0;
    for dl in letters {
        if holds_a_record(dl) {
            let topic = dl.topic.clone().unwrap_or_else(|| if dl.stage == Stage::Sink { topics.logs.clone() } else { topics.raw.clone() });
            out.push(OutRecord { topic, key: Some(dl.id.clone().into_bytes()), payload: dl.original.clone(), ..Default::default() });
            continue;
        }
        let Some(project_id) = dl.project_id.clone() else {
            skipped += 1;
            continue;
        };
        let raw = RawEvent {
            ingest_id: dl.id.clone(),
            project_id,
            source: SourceKind::Http,
            // The failure time, not now: a second replay must land in the same daily partition.
            received_at: dl.failed_at,
            remote_addr: None,
            payload: dl.original.clone(),
            metadata: [("ingest.replayed".to_owned(), "deadletter".to_owned())].into_iter().collect(),
        };
        let payload = codec.encode(&topics.raw, &raw).await.context("encoding a raw event")?;
        out.push(OutRecord { topic: topics.raw.clone(), key: Some(dl.id.clone().into_bytes()), payload, ..Default::default() });
    }
    Ok((out, skipped))
}
