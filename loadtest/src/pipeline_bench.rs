//! `pipeline-bench`: lines per second per core of the processor's per-event work — decode the
//! raw event, normalize, run the project's pipeline, encode the log record — for JSON events
//! with no rules (the ceiling), nginx access lines through a grok rule, and logfmt lines through
//! a logfmt rule, auto mode against the fixed preset it settles on, and with `--presets` every
//! shipped preset on its example line. One thread, in process, no bus: the processor spreads batches over cores, so
//! per-core rate × cores bounds its throughput. Printed as ratios to the JSON-only rate.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use nexuslog_pipeline::{Outcome, Pipeline, RuleSpec};
use nexuslog_schemas::wire::EmbeddedCodec;
use nexuslog_schemas::{LogRecord, RawEvent, SourceKind};
use serde_json::json;

#[derive(Debug, Args)]
pub struct PipelineBenchArgs {
    /// Lines per workload.
    #[arg(long, default_value_t = 100_000)]
    lines: usize,
    /// Rounds per workload; the best is reported (the machine is shared).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Print the summary as JSON (last line of stdout).
    #[arg(long)]
    json: bool,
    /// Also every shipped preset, each on its own example line.
    #[arg(long)]
    presets: bool,
    /// Only the workloads whose name contains this text, besides the JSON-only baseline (for
    /// profiling one of them).
    #[arg(long)]
    only: Option<String>,
}

const PATHS: &[&str] = &["/", "/index.html", "/api/v1/orders?expand=items&limit=10", "/static/app.3f9c2.js", "/api/v1/users/42", "/healthz"];
const AGENTS: &[&str] = &["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", "curl/8.5.0", "kube-probe/1.29"];

const LEVELS: [&str; 3] = ["info", "warn", "error"];
const STATUSES: [u16; 4] = [200, 201, 404, 503];

fn json_line(i: usize) -> String {
    json!({
        "ts": format!("2024-03-12T10:{:02}:{:02}.{:03}Z", i / 60 % 60, i % 60, i % 1000),
        "level": LEVELS[i % 3],
        "msg": format!("GET {} answered", PATHS[i % PATHS.len()]),
        "service": "storefront",
        "host": format!("web-{}", i % 7),
        "status": STATUSES[i % 4],
        "duration_ms": i % 900,
        "bytes": 512 + i % 4096,
        "user": { "id": format!("u{}", i % 1000), "plan": "pro" },
    })
    .to_string()
}

fn nginx_line(i: usize) -> String {
    format!(
        r#"10.{}.{}.{} - - [12/Mar/2024:10:{:02}:{:02} +0000] "GET {} HTTP/1.1" {} {} "https://shop.example.com/" "{}""#,
        i % 250,
        i / 250 % 250,
        i % 200 + 1,
        i / 60 % 60,
        i % 60,
        PATHS[i % PATHS.len()],
        STATUSES[i % 4],
        512 + i % 4096,
        AGENTS[i % AGENTS.len()]
    )
}

fn logfmt_line(i: usize) -> String {
    format!(
        r#"ts=2024-03-12T10:{:02}:{:02}Z level={} msg="GET {} answered" service=storefront host=web-{} status={} duration_ms={} bytes={} user_id=u{} cached={}"#,
        i / 60 % 60,
        i % 60,
        LEVELS[i % 3],
        PATHS[i % PATHS.len()],
        i % 7,
        STATUSES[i % 4],
        i % 900,
        512 + i % 4096,
        i % 1000,
        i.is_multiple_of(2)
    )
}

fn pipeline(rules: serde_json::Value) -> anyhow::Result<Pipeline> {
    let specs: Vec<RuleSpec> = serde_json::from_value(rules)?;
    Ok(Pipeline::compile(specs.iter().map(|s| ("bench", s)), 1)?)
}

/// Raw events as they sit on the bus.
fn payloads(make: &dyn Fn(usize) -> String, n: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    (0..n)
        .map(|i| {
            let raw = RawEvent {
                ingest_id: format!("bench-{i}"),
                project_id: "bench".into(),
                source: SourceKind::Http,
                received_at: 1_710_238_532_000_000,
                remote_addr: None,
                payload: make(i).into_bytes(),
                metadata: Default::default(),
            };
            EmbeddedCodec.encode(&raw).context("encoding a raw event")
        })
        .collect()
}

/// One pass: per event what `process_record` does; returns the elapsed time and how many
/// records were parsed as the workload expects (so a rule silently matching nothing cannot pass
/// for fast).
fn pass(payloads: &[Vec<u8>], p: &Pipeline, expect: &Expect) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let mut with_field = 0;
    for bytes in payloads {
        let raw: RawEvent = EmbeddedCodec.decode(bytes)?;
        let Outcome::Record(record) = nexuslog_pipeline::process(&raw, p, None)? else { anyhow::bail!("unexpected outcome") };
        with_field += usize::from(expect.holds(&record));
        let out: Vec<u8> = EmbeddedCodec.encode::<LogRecord>(&record)?;
        std::hint::black_box(out);
    }
    Ok((start.elapsed(), with_field))
}

/// What every record of a workload must show.
enum Expect {
    /// This field was extracted.
    Field(&'static str),
    /// Parsed completely (a preset: every step succeeded).
    Parsed,
}

impl Expect {
    fn holds(&self, r: &LogRecord) -> bool {
        match self {
            Self::Field(f) => r.fields.contains_key(*f),
            Self::Parsed => r.parse_status == nexuslog_schemas::ParseStatus::Ok && r.parse_errors.is_empty(),
        }
    }
}

const FIXED: &str = "preset nginx_access (fixed)";
const AUTO: &str = "auto (nginx lines)";

/// Name, line generator, pipeline, what every record must show.
type Workload = (String, Box<dyn Fn(usize) -> String>, Pipeline, Expect);

pub fn pipeline_bench(args: &PipelineBenchArgs) -> anyhow::Result<()> {
    let mut workloads: Vec<Workload> = vec![
        ("json only (no rules)".into(), Box::new(json_line), Pipeline::default(), Expect::Field("status")),
        ("grok nginx combined".into(), Box::new(nginx_line), pipeline(json!([{ "name": "nginx", "steps": [ { "parse": { "with": "grok", "patterns": ["%{NGINXACCESS}"] } } ] }]))?, Expect::Field("response")),
        ("logfmt".into(), Box::new(logfmt_line), pipeline(json!([{ "name": "logfmt", "steps": [ { "parse": { "with": "logfmt" } } ] }]))?, Expect::Field("status")),
        // Auto mode against the preset it settles on: its cost is the sampling (20 lines ranked
        // by every preset) and the per-line bookkeeping.
        (FIXED.into(), Box::new(nginx_line), pipeline(json!([{ "name": "fixed", "steps": [ { "preset": "nginx_access" } ] }]))?, Expect::Parsed),
        (AUTO.into(), Box::new(nginx_line), pipeline(json!([{ "name": "auto", "steps": [ { "auto": {} } ] }]))?, Expect::Parsed),
    ];
    if args.presets {
        // Each preset on its own example line (the per-line work does not depend on the values).
        for p in nexuslog_pipeline::presets::presets() {
            let example = p.example;
            workloads.push((format!("preset {}", p.name), Box::new(move |_| example.to_owned()), pipeline(json!([{ "name": p.name, "steps": [ { "preset": p.name } ] }]))?, Expect::Parsed));
        }
    }
    if let Some(only) = &args.only {
        let mut i = 0;
        workloads.retain(|w| {
            i += 1;
            i == 1 || w.0.contains(only.as_str())
        });
    }
    let mut rates = Vec::new();
    for (name, make, p, expect) in &workloads {
        let data = payloads(make.as_ref(), args.lines)?;
        let mut best = Duration::MAX;
        for _ in 0..args.rounds.max(1) {
            let (took, with_field) = pass(&data, p, expect)?;
            anyhow::ensure!(with_field == data.len(), "{name}: only {with_field} of {} records were parsed as expected", data.len());
            best = best.min(took);
        }
        let rate = args.lines as f64 / best.as_secs_f64();
        let sample = args.lines.clamp(1, 1000);
        let bytes: usize = (0..sample).map(|i| make(i).len()).sum::<usize>() / sample;
        rates.push((name.to_string(), rate, bytes));
    }
    let ceiling = rates[0].1;
    let rate_of = |name: &str| rates.iter().find(|(n, _, _)| n == name).map(|r| r.1);
    let auto_over_fixed = rate_of(AUTO).zip(rate_of(FIXED)).map(|(auto, fixed)| auto / fixed);
    if args.json {
        let rows: Vec<serde_json::Value> = rates.iter().map(|(n, r, b)| json!({ "workload": n, "lines_per_sec_per_core": r.round(), "avg_line_bytes": b, "ratio_to_json": r / ceiling })).collect();
        println!("{}", json!({ "lines": args.lines, "workloads": rows, "auto_over_fixed_preset": auto_over_fixed }));
    } else {
        println!("processor work per line, one core, best of {} rounds of {} lines:", args.rounds, args.lines);
        for (name, rate, bytes) in &rates {
            println!("  {name:<28} {rate:>10.0} lines/s   ({bytes} B/line)   {:.2}× JSON-only", rate / ceiling);
        }
        if let Some(ratio) = auto_over_fixed {
            println!("auto mode: {ratio:.2}× the fixed preset it chose");
        }
    }
    Ok(())
}
