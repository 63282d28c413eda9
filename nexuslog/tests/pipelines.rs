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
}
