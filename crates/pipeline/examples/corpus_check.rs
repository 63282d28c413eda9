//! Presets against labelled real logs, as Loghub (github.com/logpai/loghub) publishes them: for
//! each `<dir>/<name>.log` with its `<name>.log_structured.csv` (or `<name>.csv`) giving each
//! line's `Level`, `Component` and `Content`, detect the preset from the first 100 lines as the
//! API does, run it on every line, and print how many lines got an event time from the line, the
//! level, the logger/component (`log.logger`, the service or `process.name`) and the message,
//! with the first mismatches of each. `cargo run --release -p nexuslog-pipeline --example
//! corpus_check -- <dir>`
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use nexuslog_pipeline::presets::{detect, pipeline};
use nexuslog_pipeline::{parse_level, process, Outcome};
use nexuslog_schemas::{FieldValue, RawEvent, SourceKind, TimestampSource};

fn text(v: Option<&FieldValue>) -> Option<String> {
    match v? {
        FieldValue::String(s) => Some(s.clone()),
        FieldValue::Long(n) => Some(n.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/tmp/loghub".into());
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".log").map(str::to_owned)).collect();
    names.sort();
    let received_at = 1_800_000_000_000_000;
    for name in names {
        let lines: Vec<String> = std::fs::read_to_string(format!("{dir}/{name}.log")).unwrap().lines().map(str::to_owned).collect();
        let labels = [format!("{dir}/{name}.log_structured.csv"), format!("{dir}/{name}.csv")].into_iter().find(|p| std::path::Path::new(p).exists());
        let Some(labels) = labels else {
            println!("{name}: no labels");
            continue;
        };
        let expected: Vec<std::collections::HashMap<String, String>> = csv::Reader::from_path(labels).unwrap().deserialize().map(Result::unwrap).collect();
        let n = lines.len().min(expected.len());
        let ranked = detect(&lines[..lines.len().min(100)], received_at);
        let Some(best) = ranked.first().filter(|d| d.share > 0.0) else {
            println!("{name}: no preset");
            continue;
        };
        let p = pipeline(best.preset).unwrap();
        let (mut ok, mut time, mut level, mut level_n, mut comp, mut comp_n, mut msg) = (0, 0, 0, 0, 0, 0, 0);
        let mut shown = std::collections::BTreeMap::<&str, usize>::new();
        let mut show = |what: &'static str, line: &str, got: String, want: String| {
            let c = shown.entry(what).or_default();
            if *c < 3 {
                println!("    {what}: got {got:?} want {want:?}\n      in {line:?}");
            }
            *c += 1;
        };
        for (line, want) in lines.iter().zip(&expected).take(n) {
            let raw = RawEvent { ingest_id: "x".into(), project_id: "p".into(), source: SourceKind::Http, received_at, remote_addr: None, payload: line.as_bytes().to_vec(), metadata: Default::default() };
            let Ok(Outcome::Record(r)) = process(&raw, p, None) else { continue };
            if r.parse_status == nexuslog_schemas::ParseStatus::Ok {
                ok += 1;
            } else {
                show("partial", line, format!("{:?}", r.parse_errors), String::new());
            }
            if r.timestamp_source == TimestampSource::Event {
                time += 1;
                if time == 1 {
                    let at = chrono::DateTime::from_timestamp_micros(r.timestamp).unwrap();
                    let want: Vec<&str> = ["Month", "Day", "Date", "Time"].iter().filter_map(|k| want.get(*k).map(String::as_str)).collect();
                    println!("    first time: {at} for {want:?}");
                }
            } else {
                show("time", line, format!("{:?}", r.timestamp_source), String::new());
            }
            if let Some(l) = want.get("Level").map(String::as_str).and_then(parse_level) {
                level_n += 1;
                if r.level == l {
                    level += 1;
                } else {
                    show("level", line, format!("{:?}", r.level), format!("{l:?}"));
                }
            }
            if let Some(c) = want.get("Component") {
                comp_n += 1;
                let got = [text(r.fields.get("log.logger")), r.service.clone(), text(r.fields.get("process.name"))];
                if got.iter().any(|g| g.as_ref() == Some(c)) {
                    comp += 1;
                } else {
                    show("component", line, format!("{got:?}"), c.to_owned());
                }
            }
            let content = want.get("Content").map_or("", String::as_str);
            if r.message.trim() == content.trim() {
                msg += 1;
            } else {
                show("message", line, r.message.clone(), content.to_owned());
            }
        }
        let pct = |a: usize, b: usize| if b == 0 { "n/a".to_owned() } else { format!("{:.0}%", 100.0 * a as f64 / b as f64) };
        println!(
            "{name}: preset {} (share {:.2}); {n} lines: ok {}, time {}, level {}, component {}, message {}",
            best.preset, best.share, pct(ok, n), pct(time, n), pct(level, level_n), pct(comp, comp_n), pct(msg, n)
        );
    }
}
