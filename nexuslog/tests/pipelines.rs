//! Processing pipelines end to end, on the embedded path and on the Kafka path: rules created
//! through the API shape real-format lines into typed fields, and a rule changed while the
//! processors run is applied to the next events without a restart (on the Kafka path with two
//! processor replicas sharing the partitions).

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::{Duration, Instant};

use nexuslog_common::testing::{unique_name, wait_until};
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "admin password for tests";

struct Client {
    url: String,
    admin: String,
    key: String,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.url)).bearer_auth(&self.admin);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    async fn ingest(&self, lines: &[String]) {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/logs/bulk", self.url))
            .bearer_auth(&self.key)
            .body(lines.join("\n"))
            .send()
            .await
            .expect("ingest");
        assert_eq!(resp.status(), 200);
        let ack: Value = resp.json().await.expect("json");
        assert_eq!(ack["accepted"].as_u64(), Some(lines.len() as u64), "{ack}");
    }

    /// Hits of `q`, once exactly `n` are searchable.
    async fn found(&self, q: &str, n: usize) -> Vec<Value> {
        wait_until(&format!("{n} events for {q:?}"), Duration::from_secs(60), || async {
            let (_, v) = self.call(reqwest::Method::GET, &format!("/v1/search?project=default&q={q}&from=2024-01-01T00:00:00Z&limit=100"), None).await;
            let hits = v["hits"].as_array().cloned().unwrap_or_default();
            (hits.len() == n).then_some(hits)
        })
        .await
    }
}

fn access_line(run: &str, i: usize, status: u16) -> String {
    format!(r#"10.0.0.{i} - - [12/Mar/2024:10:15:3{i} +0000] "GET /{run}/item/{i}?q=1 HTTP/1.1" {status} {} "-" "curl/8.5.0""#, 500 + i)
}

async fn pipelines_shape_events_and_change_at_run_time(c: &Client) {
    let access = json!({ "name": "access logs", "when": { "field": { "name": "message", "matches": "^\\S+ \\S+ \\S+ \\[" } },
        "steps": [ { "parse": { "with": "grok", "patterns": ["%{NGINXACCESS}"] } }, { "rename": { "from": "response", "to": "status" } } ] });
    let (s, created) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(access.clone())).await;
    assert_eq!(s, 201, "{created}");
    let access_id = created["rule"]["id"].as_str().expect("id").to_owned();
    let logfmt = json!({ "name": "logfmt", "when": { "service": "billing" }, "steps": [ { "parse": { "with": "logfmt" } }, { "map_level": { "field": "lvl" } } ] });
    assert_eq!(c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(logfmt)).await.0, 201);
    let java = json!({ "name": "java", "when": { "service": "orders" },
        "steps": [ { "parse": { "with": "regex", "pattern": "(?m)^(?P<exception_class>[\\w.$]+Exception)" } }, { "parse": { "with": "grok", "patterns": ["%{JAVALOG}"] } } ] });
    assert_eq!(c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(java)).await.0, 201);
    let sshd = json!({ "name": "sshd", "when": { "field": { "name": "message", "matches": "sshd\\[" } },
        "steps": [ { "parse": { "with": "grok", "patterns": ["%{SYSLOGBASE} Accepted %{WORD:auth_method} for %{USER:user} from %{IP:src_ip} port %{INT:src_port:int}"] } },
                   { "rename": { "from": "logsource", "to": "host" } }, { "convert": { "field": "pid", "to": "int" } } ] });
    assert_eq!(c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(sshd)).await.0, 201);

    // The dry run shows what a line becomes, with the saved rules.
    let (s, dry) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/dry-run", Some(json!({ "lines": [access_line("dry", 1, 200)] }))).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(dry["results"][0]["record"]["fields"]["status"], json!(200), "{dry}");

    // Rules reach the processors within seconds; events sent from then on are parsed.
    let run = unique_name("run");
    let probe = wait_until("the access-log rule is in force", Duration::from_secs(30), || async {
        let probe = unique_name("probe");
        c.ingest(&[access_line(&probe, 9, 200)]).await;
        let hit = c.found(&probe, 1).await.remove(0);
        (hit["fields"]["status"] == json!(200)).then_some(())
    });
    probe.await;
    let mut lines: Vec<String> = (1..=3).map(|i| access_line(&run, i, if i == 3 { 503 } else { 200 })).collect();
    lines.push(json!({ "service": "billing", "message": format!("lvl=warn msg=\"card declined for {run}\" amount=12.5 retries=2 final=false") }).to_string());
    lines.push(
        json!({ "service": "orders", "message": format!("2024-03-12 10:15:32,118 ERROR [exec-3] com.example.Orders - {run} failed\njava.lang.IllegalStateException: no stock\n\tat com.example.Orders.place(Orders.java:41)") })
            .to_string(),
    );
    lines.push(format!("Mar  7 04:02:16 web-01 sshd[21458]: Accepted publickey for {run} from 192.0.2.44 port 52144 ssh2"));
    c.ingest(&lines).await;
    let hits = c.found(&run, 6).await;
    let by = |pred: &dyn Fn(&Value) -> bool| hits.iter().filter(|h| pred(h)).cloned().collect::<Vec<_>>();
    let access_hits = by(&|h| h["fields"]["verb"] == json!("GET"));
    assert_eq!(access_hits.len(), 3, "{hits:?}");
    for h in &access_hits {
        assert!(h["fields"]["status"].is_i64() && h["fields"]["bytes"].is_i64(), "typed numbers: {h}");
        assert!(h["fields"]["clientip"].as_str().is_some_and(|ip| ip.starts_with("10.0.0.")), "{h}");
        assert!(h["timestamp"].as_str().is_some_and(|t| t.starts_with("2024-03-12T10:15:3")), "the access time is the event time: {h}");
    }
    let billing = by(&|h| h["service"] == json!("billing"));
    assert_eq!(billing.len(), 1);
    assert_eq!((billing[0]["level"].as_str(), &billing[0]["fields"]["amount"], &billing[0]["fields"]["retries"], &billing[0]["fields"]["final"]), (Some("warn"), &json!(12.5), &json!(2), &json!(false)));
    // logfmt's `msg` is the message, as a JSON event's would be (the normalizer's aliases).
    assert_eq!(billing[0]["message"].as_str(), Some(format!("card declined for {run}").as_str()));
    let java = by(&|h| h["service"] == json!("orders"));
    assert_eq!(java.len(), 1);
    assert_eq!(java[0]["fields"]["exception_class"], json!("java.lang.IllegalStateException"));
    assert_eq!((java[0]["level"].as_str(), java[0]["fields"]["thread"].as_str()), (Some("error"), Some("exec-3")));
    let sshd = by(&|h| h["host"] == json!("web-01"));
    assert_eq!(sshd.len(), 1, "{hits:?}");
    assert_eq!((&sshd[0]["fields"]["pid"], &sshd[0]["fields"]["src_port"], &sshd[0]["fields"]["program"]), (&json!(21458), &json!(52144), &json!("sshd")));
    assert_eq!(sshd[0]["timestamp_source"].as_str(), Some("event"), "{:?}", sshd[0]);

    // Filters on typed fields work.
    let (_, v) = c.call(reqwest::Method::GET, &format!("/v1/search?project=default&q={run}+status:503&from=2024-01-01T00:00:00Z"), None).await;
    assert_eq!(v["total"].as_u64(), Some(1), "{v}");

    // A field that is a number in some events and text in another: indexed, not rejected, and
    // reported as a conflict.
    let clash = unique_name("clash");
    c.ingest(&[json!({ "message": format!("{clash} odd status"), "status": "oops" }).to_string()]).await;
    c.found(&clash, 1).await;
    let (_, v) = c.call(reqwest::Method::GET, "/v1/search?project=default&q=status:oops&from=2024-01-01T00:00:00Z", None).await;
    assert_eq!(v["total"].as_u64(), Some(1), "{v}");
    let (s, fields) = c.call(reqwest::Method::GET, "/v1/projects/default/fields", None).await;
    assert_eq!(s, 200, "{fields}");
    let status = fields["fields"].as_array().and_then(|f| f.iter().find(|f| f["name"] == json!("status"))).cloned().unwrap_or_default();
    assert_eq!((&status["types"], &status["conflict"]), (&json!(["long", "string"]), &json!(true)), "{fields}");

    // Change the rule while everything runs: tag access logs with a team from now on.
    let mut changed = access;
    changed["steps"].as_array_mut().expect("steps").push(json!({ "set": { "field": "team", "value": "storefront" } }));
    let changed_at = Instant::now();
    let (s, v) = c.call(reqwest::Method::PUT, &format!("/v1/projects/default/pipeline/rules/{access_id}"), Some(changed)).await;
    assert_eq!(s, 200, "{v}");
    wait_until("the changed rule is in force", Duration::from_secs(30), || async {
        let probe = unique_name("probe");
        c.ingest(&[access_line(&probe, 8, 200)]).await;
        let hit = c.found(&probe, 1).await.remove(0);
        (hit["fields"]["team"] == json!("storefront")).then_some(())
    })
    .await;
    eprintln!("changed rule in force (a probe event processed with it) after {:?}", changed_at.elapsed());
    let after = unique_name("after");
    let next: Vec<String> = (1..=6).map(|i| access_line(&after, i, 200)).collect();
    c.ingest(&next).await;
    for h in c.found(&after, 6).await {
        assert_eq!(h["fields"]["team"], json!("storefront"), "every next event gets the new rule: {h}");
    }
    // Events processed before the change are as they were.
    assert!(c.found(&run, 6).await.iter().all(|h| h["fields"].get("team").is_none()));
}

/// Presets through the API: listed without signing in, detected from sample lines, used as a
/// rule step with a time zone, and the events they parse searchable with typed fields.
async fn presets_are_listed_detected_and_used(c: &Client) {
    let listed: Value = reqwest::get(format!("{}/v1/presets", c.url)).await.expect("presets").json().await.expect("json");
    let names: Vec<&str> = listed["presets"].as_array().expect("presets").iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.len() >= 20 && names.contains(&"nginx_error") && names.contains(&"log4j"), "{names:?}");

    let run = unique_name("preset");
    let error_line = |i: usize| format!(r#"2023/11/14 23:13:2{i} [error] 311#311: *{i} open() "/srv/{run}/{i}" failed (2: No such file or directory), client: 203.0.113.{i}, server: shop, request: "GET /{i} HTTP/1.1", host: "shop""#);
    let (s, found) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/detect", Some(json!({ "lines": [error_line(1), error_line(2), "not a log line"] }))).await;
    assert_eq!(s, 200, "{found}");
    let best = &found["presets"][0];
    assert_eq!((best["preset"].as_str(), best["parsed"].as_u64(), best["lines"].as_u64()), (Some("nginx_error"), Some(2), Some(3)), "{found}");
    assert_eq!(best["preview"][0]["record"]["fields"]["client.ip"], json!("203.0.113.1"), "{found}");

    // Bad input: a clear 400, and nothing is stored.
    let before = c.call(reqwest::Method::GET, "/v1/projects/default/pipeline", None).await.1["revision"].clone();
    for bad in [json!({ "lines": [] }), json!({ "lines": vec!["x"; 101] }), json!({ "lines": ["x"], "rules": [] }), json!({ "sample": ["x"] })] {
        let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/detect", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
    assert_eq!(c.call(reqwest::Method::GET, "/v1/projects/default/pipeline", None).await.1["revision"], before);
    let rule = json!({ "name": "edge errors", "when": { "service": "edge" }, "timezone": "Europe/Berlin", "steps": [ { "preset": "nginx_error" } ] });
    let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(rule)).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(json!({ "name": "bad", "steps": [ { "preset": "no_such" } ] }))).await;
    assert_eq!(s, 400, "an unknown preset is refused: {v}");
    wait_until("the preset rule is in force", Duration::from_secs(30), || async {
        let probe = unique_name("probe");
        c.ingest(&[json!({ "service": "edge", "message": error_line(9).replace(&run, &probe) }).to_string()]).await;
        let hit = wait_until("the probe searchable", Duration::from_secs(60), || async {
            let (_, v) = c.call(reqwest::Method::GET, &format!("/v1/search?project=default&q={probe}&from=2023-01-01T00:00:00Z"), None).await;
            v["hits"].as_array().and_then(|h| h.first().cloned())
        })
        .await;
        (hit["fields"]["process.pid"] == json!(311)).then_some(())
    })
    .await;
    c.ingest(&(1..=3).map(|i| json!({ "service": "edge", "message": error_line(i) }).to_string()).collect::<Vec<_>>()).await;
    wait_until("the three parsed errors", Duration::from_secs(60), || async {
        let (_, v) = c.call(reqwest::Method::GET, &format!("/v1/search?project=default&q={run}&from=2023-01-01T00:00:00Z&limit=10"), None).await;
        let hits = v["hits"].as_array().cloned().unwrap_or_default();
        (hits.len() == 3).then_some(hits)
    })
    .await
    .iter()
    .for_each(|h| {
        assert_eq!(h["level"], json!("error"), "{h}");
        // 23:13 in Berlin (UTC+1 in November) is 22:13 UTC.
        assert!(h["timestamp"].as_str().is_some_and(|t| t.starts_with("2023-11-14T22:13:2")), "{h}");
        assert!(h["fields"]["client.ip"].as_str().is_some_and(|ip| ip.starts_with("203.0.113.")), "{h}");
        assert!(h["message"].as_str().is_some_and(|m| m.starts_with("open() ")), "{h}");
    });
}

/// A log4j line with a Java stack trace, one JSON event per line, from `service`.
fn trace_lines(service: &str, head: &str, frames: &[&str]) -> Vec<String> {
    std::iter::once(head.to_owned()).chain(frames.iter().map(|f| (*f).to_owned())).map(|m| json!({ "service": service, "message": m }).to_string()).collect()
}

/// Makes the project join Java traces of services `{run}-*` (then parse them with the log4j
/// preset) and waits until the gateway applies it.
async fn join_java_traces(c: &Client, run: &str) {
    let rule = json!({ "name": format!("traces {run}"), "when": { "service": format!("{run}-*") }, "steps": [ { "multiline": { "kind": "java" } }, { "preset": "log4j" } ] });
    let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(rule)).await;
    assert_eq!(s, 201, "{v}");
    // In force at the gateway (joined) and at every processor (parsed): the probes' ids spread
    // them over the partitions, so over both replicas on the Kafka path.
    wait_until("the multiline rule is in force", Duration::from_secs(30), || async {
        let probe = unique_name("probe");
        let mut lines = Vec::new();
        for i in 0..6 {
            lines.extend(trace_lines(&format!("{run}-probe"), &format!("2024-03-12 10:00:00,000 ERROR [main] com.example.Probe - {probe} {i}"), &["at com.example.Probe.run(Probe.java:1)"]));
        }
        c.ingest(&lines).await;
        let hits = c.found(&probe, 6).await;
        hits.iter().all(|h| h["message"].as_str().is_some_and(|m| m.contains("Probe.java:1")) && h["fields"]["log.logger"].is_string()).then_some(())
    })
    .await;
}

/// Multiline traces through the API: a dry run shows continuation lines joined; interleaved
/// traces of two services in one request stay apart; a trace split over two requests is one
/// event (its second version replaces the first); the log4j preset parses the joined event.
async fn multiline_traces_are_joined(c: &Client) {
    let run = unique_name("trace");
    let draft = json!({ "name": "d", "steps": [ { "multiline": { "kind": "java" } } ] });
    let lines = ["ERROR failed", "java.lang.IllegalStateException: no", "at a.B.c(B.java:1)", "INFO next"];
    let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/dry-run", Some(json!({ "lines": lines, "rules": [draft] }))).await;
    assert_eq!(s, 200, "{v}");
    let outcomes: Vec<&str> = v["results"].as_array().expect("results").iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["record", "joined", "joined", "record"], "{v}");
    assert_eq!(v["results"][0]["record"]["message"], json!(lines[..3].join("\n")), "{v}");
    let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(json!({ "name": "late", "steps": [ { "set": { "field": "x", "value": 1 } }, { "multiline": {} } ] }))).await;
    assert_eq!(s, 400, "multiline is only a first step: {v}");

    join_java_traces(c, &run).await;
    let (a, b) = (format!("{run}-billing"), format!("{run}-shipping"));
    let a_head = format!("2024-03-12 10:00:00,123 ERROR [main] com.example.Billing - {run} charge failed");
    let b_head = format!("2024-03-12 10:00:00,456 ERROR [main] com.example.Shipping - {run} label failed");
    // One request, the two traces interleaved; the second request continues billing's.
    let a_lines = trace_lines(&a, &a_head, &["java.lang.IllegalStateException: card declined", "at com.example.Billing.charge(Billing.java:42)"]);
    let b_lines = trace_lines(&b, &b_head, &["at com.example.Shipping.label(Shipping.java:7)"]);
    c.ingest(&[a_lines[0].clone(), b_lines[0].clone(), a_lines[1].clone(), b_lines[1].clone(), a_lines[2].clone()]).await;
    let mut later = trace_lines(&a, "x", &["Caused by: java.net.SocketTimeoutException: Read timed out", "... 12 more"]);
    later.remove(0);
    later.push(json!({ "service": a, "message": format!("2024-03-12 10:00:01,000 INFO [main] com.example.Billing - {run} next") }).to_string());
    c.ingest(&later).await;

    let hits = wait_until("billing's trace with its later lines", Duration::from_secs(60), || async {
        let hits = c.found(&run, 3).await;
        hits.iter().any(|h| h["message"].as_str().is_some_and(|m| m.ends_with("... 12 more"))).then_some(hits)
    })
    .await;
    let by_service = |s: &str, level: &str| hits.iter().find(|h| h["service"] == json!(s) && h["level"] == json!(level)).cloned().unwrap_or_else(|| panic!("{s} {level} in {hits:#?}"));
    let billing = by_service(&a, "error");
    assert_eq!(
        billing["message"],
        json!(format!("{run} charge failed\njava.lang.IllegalStateException: card declined\nat com.example.Billing.charge(Billing.java:42)\nCaused by: java.net.SocketTimeoutException: Read timed out\n... 12 more")),
        "{billing}"
    );
    assert_eq!((billing["fields"]["ingest.multiline"].as_str(), billing["fields"]["ingest.revision"].as_str()), (Some("5"), Some("2")), "{billing}");
    assert_eq!(billing["fields"]["log.logger"], json!("com.example.Billing"), "the log4j preset parsed the joined event: {billing}");
    assert!(billing["timestamp"].as_str().is_some_and(|t| t.starts_with("2024-03-12T10:00:00.123")), "{billing}");
    let shipping = by_service(&b, "error");
    assert_eq!(shipping["message"], json!(format!("{run} label failed\nat com.example.Shipping.label(Shipping.java:7)")), "{shipping}");
    assert_eq!(by_service(&a, "info")["message"], json!(format!("{run} next")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_pipelines_parse_real_lines_and_change_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = support::with_admin_password(support::keeping_history(support::standalone_env(dir.path())), ADMIN_PASSWORD);
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let client = Client { url: node.url.clone(), admin, key };
    pipelines_shape_events_and_change_at_run_time(&client).await;
    presets_are_listed_detected_and_used(&client).await;
    multiline_traces_are_joined(&client).await;
    auto_mode_picks_a_preset_per_source(&client).await;
}

/// Auto mode: a source's PostgreSQL lines, sent with no parsing rule of their own, are parsed by
/// the preset auto mode chose for the source; the choice is stored once and audited once, however
/// many processors made it.
async fn auto_mode_picks_a_preset_per_source(c: &Client) {
    let run = unique_name("auto");
    let service = format!("{run}-db");
    let rule = json!({ "name": format!("auto {run}"), "when": { "service": service }, "steps": [ { "auto": {} } ] });
    let (s, v) = c.call(reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(rule)).await;
    assert_eq!(s, 201, "{v}");
    // Without a zone after the time: the access-log rule above selects lines `a b c [`.
    let pg = |word: &str, i: usize| format!(r#"2024-03-12 10:13:2{}.123 [{}] user=app,db=shop,app=psql,client=10.0.0.{i} ERROR:  relation "{word}_{i}" does not exist"#, i % 10, 4000 + i);
    let line = |i: usize| json!({ "service": service, "message": pg(&run, i) }).to_string();
    let chosen = wait_until("the auto rule is in force", Duration::from_secs(30), || async {
        // On every processor: the probes spread over the partitions.
        let probe = unique_name("probe");
        c.ingest(&(0..6).map(|i| json!({ "service": service, "message": pg(&probe, i) }).to_string()).collect::<Vec<_>>()).await;
        let hits = c.found(&probe, 6).await;
        let presets: std::collections::BTreeSet<Option<&str>> = hits.iter().map(|h| h["fields"]["auto.preset"].as_str()).collect();
        match presets.into_iter().collect::<Vec<_>>()[..] {
            [Some(p)] => Some(p.to_owned()),
            _ => None,
        }
    })
    .await;
    assert_eq!(chosen, "postgresql");
    // Enough lines for each of two processor replicas to see a whole sample.
    c.ingest(&(0..60).map(line).collect::<Vec<_>>()).await;
    for h in c.found(&run, 60).await {
        assert_eq!(h["fields"]["auto.preset"], json!(chosen), "{h}");
        assert!(h["fields"]["process.pid"].as_i64().is_some_and(|pid| (4000..4060).contains(&pid)), "{h}");
        assert_eq!(h["level"], json!("error"), "{h}");
    }
    let audited = wait_until("the choice audited", Duration::from_secs(30), || async {
        let (_, v) = c.call(reqwest::Method::GET, "/v1/projects/default/audit?limit=200", None).await;
        let entries: Vec<Value> = v["entries"].as_array().cloned().unwrap_or_default().into_iter().filter(|e| e["action"] == json!("pipeline.auto_preset") && e["target"] == json!(service)).collect();
        (!entries.is_empty()).then_some(entries)
    })
    .await;
    assert_eq!(audited.len(), 1, "one choice, audited once: {audited:#?}");
    assert_eq!(audited[0]["detail"]["preset"], json!(chosen), "{audited:#?}");
}

/// kill -9 between two requests of one trace: every acknowledged line stays searchable. The
/// restarted gateway has no open event to continue, so the second part is an event of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_multiline_trace_cut_by_kill_9_keeps_every_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD);
    let key = support::test_key();
    let run = unique_name("cut");
    let service = format!("{run}-orders");
    {
        let node = support::start(&[], env.clone(), &key).await;
        let client = Client { admin: support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await, url: node.url.clone(), key: key.clone() };
        join_java_traces(&client, &run).await;
        client.ingest(&trace_lines(&service, &format!("2024-03-12 11:00:00,000 ERROR [main] com.example.Orders - {run} place failed"), &["java.lang.IllegalStateException: no stock", "at com.example.Orders.place(Orders.java:9)"])).await;
        // Dropping the node kills it with SIGKILL, right after the acknowledgement.
    }
    let node = support::start(&[], env, &key).await;
    let client = Client { admin: support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await, url: node.url.clone(), key };
    let mut rest = trace_lines(&service, &format!("Caused by: java.io.IOException: {run} disk gone"), &["... 3 more"]);
    rest.push(json!({ "service": service, "message": format!("2024-03-12 11:00:01,000 INFO [main] com.example.Orders - {run} retried") }).to_string());
    client.ingest(&rest).await;
    let hits = client.found(&run, 3).await;
    let mut messages: Vec<&str> = hits.iter().filter_map(|h| h["message"].as_str()).collect();
    messages.sort_unstable();
    let mut expected = vec![
        format!("{run} place failed\njava.lang.IllegalStateException: no stock\nat com.example.Orders.place(Orders.java:9)"),
        format!("Caused by: java.io.IOException: {run} disk gone\n... 3 more"),
        format!("{run} retried"),
    ];
    expected.sort_unstable();
    assert_eq!(messages, expected, "{hits:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_pipelines_parse_real_lines_and_change_on_every_replica_without_restart() {
    let prefix = unique_name("pipe");
    let env = support::with_own_metastore(support::keeping_history(support::distributed_env(&prefix)), ADMIN_PASSWORD).await;
    let key = support::test_key();
    let node = support::start(&["standalone"], env.clone(), &key).await;
    // A second processor replica: the raw topic's partitions are shared between the two.
    let mut replica = env;
    replica.push(("NEXUSLOG_BUS_KAFKA_INSTANCE_ID".into(), "replica-2".into()));
    let _replica = support::start(&["processor"], replica, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let client = Client { url: node.url.clone(), admin, key };
    pipelines_shape_events_and_change_at_run_time(&client).await;
    presets_are_listed_detected_and_used(&client).await;
    multiline_traces_are_joined(&client).await;
    auto_mode_picks_a_preset_per_source(&client).await;
}
