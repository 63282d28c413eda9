//! `ingest-bench`: the drop-in protocols beside the native one. The same events (the
//! `standalone-bench` corpus) are sent as `/v1/logs/bulk` NDJSON (the ceiling), as an
//! Elasticsearch `_bulk` (a `create` action per event) and as OTLP/HTTP protobuf (the message
//! as body, the other keys as attributes), each over `connections` connections; printed as
//! acknowledged events/s and as ratios of `/v1/logs/bulk`. Each protocol starts once the
//! previous one's events are all searchable, so none pays for another's indexing. Before them,
//! `/v1/logs/bulk` runs once with the built-in redaction rules turned off: the ceiling of
//! redaction's cost (the rules are on for every other run, as for every project). In
//! standalone mode two more fresh instances take the same `/v1/logs/bulk` requests, one over
//! plain HTTP and one with HTTPS on (a certificate made for the run): HTTPS as a ratio of plain.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message as _;
use rand::SeedableRng;
use serde_json::{json, Value};

use crate::instance::{self, Api, Mode, Target};
use crate::report::{self, round2};

#[derive(Debug, clap::Args)]
pub struct IngestBenchArgs {
    /// Events per protocol.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Events per request.
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Rounds the events of each protocol are sent in, the protocols in a rotating order.
    #[arg(long, default_value_t = 3)]
    rounds: u64,
    /// Connections sending at once.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// `standalone` (embedded stores) or `distributed` (gateway, processor, sink, api on the
    /// real services).
    #[arg(long, value_enum, default_value = "standalone")]
    mode: Mode,
    /// The `nexuslog` binary to measure (default: a release build of this checkout).
    #[arg(long)]
    nexuslog_bin: Option<std::path::PathBuf>,
    /// Print the result as JSON (last line of stdout).
    #[arg(long)]
    json: bool,
}

/// One protocol's requests: path, content type, bodies.
struct Protocol {
    name: &'static str,
    path: &'static str,
    content_type: &'static str,
    bodies: Vec<Vec<u8>>,
}

fn events(run: &str, n: u64, batch: u64) -> Vec<Vec<Value>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let all: Vec<Value> = (0..n).map(|seq| serde_json::from_str(&crate::standalone_bench::event(&mut rng, run, seq)).unwrap_or(Value::Null)).collect();
    all.chunks(usize::try_from(batch.max(1)).unwrap_or(1000)).map(<[Value]>::to_vec).collect()
}

fn native(batches: &[Vec<Value>]) -> Vec<Vec<u8>> {
    batches.iter().map(|b| b.iter().map(|e| format!("{e}\n")).collect::<String>().into_bytes()).collect()
}

fn es_bulk(batches: &[Vec<Value>]) -> Vec<Vec<u8>> {
    batches.iter().map(|b| b.iter().map(|e| format!("{{\"create\":{{\"_index\":\"bench\"}}}}\n{e}\n")).collect::<String>().into_bytes()).collect()
}

fn any(v: &Value) -> AnyValue {
    let value = match v {
        Value::String(s) => any_value::Value::StringValue(s.clone()),
        Value::Number(n) if n.is_i64() => any_value::Value::IntValue(n.as_i64().unwrap_or_default()),
        Value::Number(n) => any_value::Value::DoubleValue(n.as_f64().unwrap_or_default()),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        other => any_value::Value::StringValue(other.to_string()),
    };
    AnyValue { value: Some(value) }
}

fn otlp(batches: &[Vec<Value>]) -> Vec<Vec<u8>> {
    let now = u64::try_from(nexuslog_common::now_micros()).unwrap_or(0) * 1000;
    batches
        .iter()
        .map(|b| {
            let log_records = b
                .iter()
                .map(|e| {
                    let attributes = e
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| k.as_str() != "message" && k.as_str() != "timestamp")
                        .map(|(k, v)| KeyValue { key: k.clone(), value: Some(any(v)), ..Default::default() })
                        .collect();
                    LogRecord { time_unix_nano: now, body: e.get("message").map(any), attributes, ..Default::default() }
                })
                .collect();
            let request = ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs { scope_logs: vec![ScopeLogs { log_records, ..Default::default() }], ..Default::default() }],
            };
            request.encode_to_vec()
        })
        .collect()
}

/// Sends every body; (first send → last ack). Busy answers are waited out, as clients do.
async fn send(http: &reqwest::Client, target: &Target, p: &Protocol, connections: usize, pb: &indicatif::ProgressBar, per_body: u64) -> anyhow::Result<Duration> {
    let next = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicU64::new(0));
    let bodies = Arc::new(p.bodies.clone());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (http, next, busy, bodies, pb) = (http.clone(), next.clone(), busy.clone(), bodies.clone(), pb.clone());
        let (url, key, content_type) = (format!("{}{}", target.ingest, p.path), target.api_key.clone(), p.content_type);
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(body) = bodies.get(i) else { return Ok::<(), anyhow::Error>(()) };
                loop {
                    let resp = http.post(&url).bearer_auth(&key).header("content-type", content_type).body(body.clone()).send().await?;
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    if status.as_u16() == 429 || status.as_u16() == 503 {
                        busy.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    ensure!(status.is_success(), "{url} answered {status}: {text}");
                    ensure!(!text.contains("\"errors\":true"), "{url} refused items: {text}");
                    pb.inc(per_body);
                    break;
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let busy = busy.load(Ordering::Relaxed);
    if busy > 0 {
        report::note(pb, &format!("{}: {busy} busy answers waited out", p.name));
    }
    Ok(started.elapsed())
}

async fn wait_searchable(target: &Target, run: &str, events: u64) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let n = crate::verify::count(&http, &target.api, &target.api_key, &format!("run:{run}")).await?;
        if n >= events {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{run}: {n} of {events} events searchable after 600 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn ingest_bench(a: IngestBenchArgs) -> anyhow::Result<bool> {
    let run_id = crate::new_run_id();
    let dir = std::env::temp_dir().join(format!("nexuslog-ingest-bench-{run_id}"));
    std::fs::create_dir_all(&dir)?;
    let https = a.mode == Mode::Standalone;
    let pb = report::progress(a.events * if https { 6 } else { 4 }, a.json);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let bin = instance::binary(a.nexuslog_bin.as_deref(), &dir).await?;
    let target = Target::start(a.mode, &bin, &dir, &run_id, &[]).await.context("starting nexuslog")?;
    let protocols = [
        ("bulk", "/v1/logs/bulk", "application/x-ndjson", native as fn(&[Vec<Value>]) -> Vec<Vec<u8>>),
        ("es_bulk", "/_bulk", "application/x-ndjson", es_bulk),
        ("otlp_http", "/v1/logs", "application/x-protobuf", otlp),
    ];
    let mut rates = serde_json::Map::new();
    let unredacted = bulk_without_redaction(&a, &http, &target, &run_id, &pb).await?;
    // In rounds, each protocol first in one of them: the index grows as the run goes, and a
    // protocol always sent first (or last) would be measured on a smaller (or larger) one.
    let rounds = a.rounds.max(1);
    let per_round = (a.events / rounds).max(1);
    let mut took = [Duration::ZERO; 3];
    // Server CPU from the first send until every event is searchable: what each protocol's
    // events cost the server end to end, apart from the client that shares the machine.
    let mut cpu = [0.0f64; 3];
    let server_cpu = || target.pids().iter().map(|p| crate::standalone_bench::cpu_seconds(*p).unwrap_or(0.0)).sum::<f64>();
    for round in 0..rounds {
        for i in 0..protocols.len() {
            let slot = (i + round as usize) % protocols.len();
            let (name, path, content_type, encode) = protocols[slot];
            let run = format!("{run_id}-{name}-{round}");
            let p = Protocol { name, path, content_type, bodies: encode(&events(&run, per_round, a.batch)) };
            report::note(&pb, &format!("round {}: {}: {} requests of {} events", round + 1, p.name, p.bodies.len(), a.batch));
            let before = server_cpu();
            took[slot] += send(&http, &target, &p, a.connections, &pb, a.batch).await?;
            wait_searchable(&target, &run, per_round).await?;
            cpu[slot] += server_cpu() - before;
        }
    }
    let sent = (per_round * rounds) as f64;
    let ceiling = sent / took[0].as_secs_f64();
    for (((name, ..), t), cpu) in protocols.iter().zip(took).zip(cpu) {
        let rate = sent / t.as_secs_f64();
        let cpu_per_million = round2(cpu / sent * 1e6);
        rates.insert((*name).into(), json!({ "acked_events_per_sec": round2(rate), "vs_bulk": round2(rate / ceiling), "server_cpu_secs_per_million_events": cpu_per_million }));
    }
    drop(target);
    rates.insert("bulk_redaction_off".into(), json!({ "acked_events_per_sec": round2(unredacted), "vs_bulk": round2(unredacted / ceiling) }));
    let mut https_ratio = None;
    if https {
        // Both on a fresh instance each, so neither pays for the other's index.
        let plain = fresh_bulk(&a, &bin, &dir, &run_id, &pb, false).await?;
        let rate = fresh_bulk(&a, &bin, &dir, &run_id, &pb, true).await?;
        rates.insert("bulk_fresh".into(), json!({ "acked_events_per_sec": round2(plain), "vs_bulk": round2(plain / ceiling) }));
        rates.insert("bulk_https".into(), json!({ "acked_events_per_sec": round2(rate), "vs_bulk": round2(rate / ceiling) }));
        https_ratio = Some(round2(rate / plain));
    }
    pb.finish_and_clear();
    let redaction_ratio = round2(ceiling / unredacted);
    let summary = json!({ "run_id": run_id, "redaction_on_vs_off": redaction_ratio, "https_vs_http": https_ratio, "mode": a.mode.name(), "events": a.events, "rounds": a.rounds, "batch": a.batch, "connections": a.connections, "protocols": rates });
    if !a.json {
        for (name, r) in &rates {
            let cpu = r.get("server_cpu_secs_per_million_events").map(|c| format!("; server {c} CPU-s per million events until searchable")).unwrap_or_default();
            println!("{name:>18}: {:>9} events/s acknowledged = {} of /v1/logs/bulk{cpu}", r["acked_events_per_sec"], r["vs_bulk"]);
        }
        println!("built-in redaction on: {redaction_ratio} of off");
        if let Some(r) = https_ratio {
            println!("HTTPS: {r} of plain HTTP (each on a fresh instance)");
        }
    }
    println!("{summary}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(true)
}

/// The redaction settings turning every built-in rule on or off.
fn builtins(on: bool) -> Value {
    json!({ "builtins": nexuslog_redact::BUILTINS.iter().map(|b| (b.name.to_owned(), Value::Bool(on))).collect::<serde_json::Map<_, _>>() })
}

/// `/v1/logs/bulk` with the built-in redaction rules off (turned on again afterwards);
/// acknowledged events/s.
async fn bulk_without_redaction(a: &IngestBenchArgs, http: &reqwest::Client, target: &Target, run_id: &str, pb: &indicatif::ProgressBar) -> anyhow::Result<f64> {
    let api = Api::connect(target).await?;
    // Gateways re-read a project's rules within this (`redaction::RELOAD_AFTER` and a margin).
    let reload = Duration::from_secs(3);
    api.admin_put("/v1/projects/default/redaction", &builtins(false)).await?;
    tokio::time::sleep(reload).await;
    let run = format!("{run_id}-bulk_redaction_off");
    let p = Protocol { name: "bulk_redaction_off", path: "/v1/logs/bulk", content_type: "application/x-ndjson", bodies: native(&events(&run, a.events, a.batch)) };
    report::note(pb, &format!("{}: {} requests of {} events, built-in redaction off", p.name, p.bodies.len(), a.batch));
    let took = send(http, target, &p, a.connections, pb, a.batch).await?;
    wait_searchable(target, &run, a.events).await?;
    api.admin_put("/v1/projects/default/redaction", &builtins(true)).await?;
    tokio::time::sleep(reload).await;
    Ok(a.events as f64 / took.as_secs_f64())
}

/// `/v1/logs/bulk` on a fresh standalone instance, over HTTPS (a CA and a server certificate
/// for 127.0.0.1 made for the run, the client trusting that CA) or plain HTTP; acknowledged
/// events/s.
async fn fresh_bulk(a: &IngestBenchArgs, bin: &std::path::Path, dir: &std::path::Path, run_id: &str, pb: &indicatif::ProgressBar, tls: bool) -> anyhow::Result<f64> {
    let name = if tls { "bulk_https" } else { "bulk_fresh" };
    let run_dir = dir.join(name);
    std::fs::create_dir_all(&run_dir)?;
    let mut env = Vec::new();
    let mut http = reqwest::Client::builder().timeout(Duration::from_secs(120));
    if tls {
        let ca_key = rcgen::KeyPair::generate()?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key)?;
        let key = rcgen::KeyPair::generate()?;
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])?.signed_by(&key, &rcgen::Issuer::from_params(&ca_params, &ca_key))?;
        std::fs::write(run_dir.join("cert.pem"), leaf.pem())?;
        std::fs::write(run_dir.join("key.pem"), key.serialize_pem())?;
        env.push(("NEXUSLOG_HTTP_TLS_CERT".to_owned(), run_dir.join("cert.pem").display().to_string()));
        env.push(("NEXUSLOG_HTTP_TLS_KEY".to_owned(), run_dir.join("key.pem").display().to_string()));
        http = http.add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes())?);
    }
    let target = Target::start(a.mode, bin, &run_dir, run_id, &env).await.with_context(|| format!("starting nexuslog for {name}"))?;
    let run = format!("{run_id}-{name}");
    let p = Protocol { name, path: "/v1/logs/bulk", content_type: "application/x-ndjson", bodies: native(&events(&run, a.events, a.batch)) };
    report::note(pb, &format!("{name}: {} requests of {} events on a fresh instance", p.bodies.len(), a.batch));
    let took = send(&http.build()?, &target, &p, a.connections, pb, a.batch).await?;
    Ok(a.events as f64 / took.as_secs_f64())
}
