//! Every preset on lines of its format, written from each format's documentation and defaults,
//! tricky ones included (IPv6 clients, quotes inside quoted fields, `-` fields, non-ASCII, long
//! lines): the standard fields and the format's own, typed.
#![allow(clippy::unwrap_used)]

use nexuslog_pipeline::presets::{preset, presets};
use nexuslog_pipeline::{process, Outcome, Pipeline, RuleSpec, RuleTrace};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, RawEvent, SourceKind, TimestampSource};
use serde_json::json;

/// 2023-11-14T22:13:20Z, the time in most example lines.
const T: i64 = 1_700_000_000_000_000;
/// Received a minute after: year-less times take this year.
const RECEIVED: i64 = T + 60_000_000;

fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
}

fn pipeline(name: &str) -> Pipeline {
    let spec: RuleSpec = serde_json::from_value(json!({ "name": name, "steps": [ { "preset": name } ] })).unwrap();
    Pipeline::compile([("r", &spec)], 1).unwrap()
}

/// The line through normalization and the preset; panics unless every step succeeded.
fn parsed(name: &str, line: &str) -> LogRecord {
    let raw = RawEvent {
        ingest_id: "id".into(),
        project_id: "p".into(),
        source: SourceKind::Http,
        received_at: RECEIVED,
        remote_addr: None,
        payload: line.as_bytes().to_vec(),
        metadata: Default::default(),
    };
    let mut trace: Vec<RuleTrace> = Vec::new();
    let record = match process(&raw, &pipeline(name), Some(&mut trace)).unwrap() {
        Outcome::Record(r) => r,
        other => panic!("{name}: expected a record for {line:?}, got {other:?}"),
    };
    assert!(trace.iter().all(|t| t.steps.iter().all(|s| s.ok)), "{name}: {line}\n{trace:?}");
    assert_eq!(record.parse_status, ParseStatus::Ok, "{name}: {line}\n{:?}", record.parse_errors);
    record
}

fn s(v: &str) -> FieldValue {
    FieldValue::String(v.into())
}

fn n(v: i64) -> FieldValue {
    FieldValue::Long(v)
}

#[test]
fn every_preset_parses_its_own_example_and_names_a_known_version() {
    assert!(presets().len() >= 20);
    for p in presets() {
        assert!(p.version >= 1 && !p.title.is_empty() && !p.steps.is_empty(), "{}", p.name);
        let r = parsed(p.name, p.example);
        assert!(!r.message.is_empty(), "{}: a message", p.name);
    }
    assert!(preset("no_such_preset").is_none());
}

#[test]
fn nginx_and_apache_access() {
    let r = parsed("nginx_access", preset("nginx_access").unwrap().example);
    assert_eq!((r.timestamp, r.timestamp_source), (T, TimestampSource::Event));
    assert_eq!(r.fields["client.ip"], s("203.0.113.9"));
    assert_eq!(r.fields["user.name"], s("alice"));
    assert_eq!(r.fields["http.request.method"], s("GET"));
    assert_eq!(r.fields["url.original"], s("/api/orders?id=7"));
    assert_eq!(r.fields["http.response.status_code"], n(200));
    assert_eq!(r.fields["http.response.body.bytes"], n(512));
    assert_eq!(r.fields["user_agent.original"], s("Mozilla/5.0 (X11; Linux x86_64)"));
    assert_eq!(r.fields["http.forwarded_for"], s("198.51.100.2"));

    // IPv6 client, `-` for the size, a user agent with escaped quotes and non-ASCII, a long path.
    let path = format!("/search?q={}", "x".repeat(4000));
    let line = format!(r#"2001:db8::7 - - [14/Nov/2023:23:13:20 +0100] "GET {path} HTTP/2.0" 304 - "-" "Bot \"quoted\" Über/1.0""#);
    let r = parsed("nginx_access", &line);
    assert_eq!(r.timestamp, T);
    assert_eq!(r.fields["client.ip"], s("2001:db8::7"));
    assert_eq!(r.fields["url.original"], s(&path));
    assert_eq!(r.fields["http.response.status_code"], n(304));
    assert!(!r.fields.contains_key("http.response.body.bytes"));
    assert_eq!(r.fields["user_agent.original"], s(r#"Bot \"quoted\" Über/1.0"#));

    // Apache's common format: no referrer or agent.
    let r = parsed("apache_access", r#"198.51.100.4 - frank [14/Nov/2023:22:13:20 +0000] "GET /apache_pb.gif HTTP/1.0" 200 2326"#);
    assert_eq!((r.timestamp, r.fields["user.name"].clone(), r.fields["http.response.body.bytes"].clone()), (T, s("frank"), n(2326)));
    // A request line that is not one (a TLS handshake on the HTTP port).
    let r = parsed("apache_access", r#"198.51.100.4 - - [14/Nov/2023:22:13:20 +0000] "\x16\x03\x01" 400 226 "-" "-""#);
    assert_eq!(r.fields["http.response.status_code"], n(400));
    assert!(r.fields.contains_key("http.request.raw"));
}

#[test]
fn nginx_error() {
    let r = parsed("nginx_error", preset("nginx_error").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T, Level::Error));
    assert_eq!(r.fields["process.pid"], n(1234));
    assert_eq!(r.fields["nginx.connection_id"], n(56));
    assert_eq!(r.fields["client.ip"], s("203.0.113.9"));
    assert_eq!(r.fields["nginx.request"], s("GET /missing HTTP/1.1"));
    assert!(r.message.starts_with("open() \"/usr/share/nginx/html/missing\" failed"), "{}", r.message);
    let r = parsed("nginx_error", "2023/11/14 22:13:20 [notice] 1#1: start worker processes");
    assert_eq!((r.level, r.message.as_str()), (Level::Info, "start worker processes"));
    assert_eq!(r.fields["level_original"], s("notice"));
}

#[test]
fn apache_error_22_and_24() {
    let r = parsed("apache_error", "[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden by rule: /var/www/html/");
    assert_eq!((r.timestamp, r.level), (utc("2005-12-04T04:47:44Z"), Level::Error));
    assert_eq!(r.fields["client.ip"], s("1.2.3.4"));
    assert_eq!(r.message, "Directory index forbidden by rule: /var/www/html/");
    let r = parsed("apache_error", preset("apache_error").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T + 123_456, Level::Error));
    assert_eq!(r.fields["apache.module"], s("core"));
    assert_eq!(r.fields["process.pid"], n(4321));
    assert_eq!(r.fields["client.port"], n(51234));
    assert_eq!(r.fields["error.code"], s("AH00126"));
    let r = parsed("apache_error", "[Tue Nov 14 22:13:20.000001 2023] [mpm_event:notice] [pid 1:tid 2] AH00489: Apache/2.4.58 (Unix) configured -- resuming normal operations");
    assert_eq!((r.level, r.fields["error.code"].clone()), (Level::Info, s("AH00489")));
}

#[test]
fn syslog_text_lines() {
    let r = parsed("syslog", preset("syslog").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T, Level::Fatal), "PRI 34 = auth.crit");
    assert_eq!((r.host.as_deref(), r.service.as_deref()), (Some("web-1"), Some("sshd")));
    assert_eq!(r.fields["process.pid"], n(4242));
    let r = parsed("syslog", r#"<165>1 2023-11-14T22:13:20.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry"#);
    assert_eq!((r.timestamp, r.level), (T + 3_000, Level::Info), "PRI 165 = local4.notice");
    assert_eq!((r.host.as_deref(), r.service.as_deref()), (Some("mymachine.example.com"), Some("evntslog")));
    assert_eq!(r.fields["syslog.msgid"], s("ID47"));
    assert_eq!(r.message, "An application event log entry");
    // No PRI, a single-digit day, a program without a pid.
    let r = parsed("syslog", "Nov  4 09:00:00 db-2 kernel: Out of memory: Killed process 999 (postgres)");
    assert_eq!(r.timestamp, utc("2023-11-04T09:00:00Z"));
    assert_eq!(r.service.as_deref(), Some("kernel"));
}

#[test]
fn journald_export() {
    let r = parsed("journald", preset("journald").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T + 123_456, Level::Warn));
    assert_eq!((r.host.as_deref(), r.service.as_deref()), (Some("web-1"), Some("sshd")));
    assert_eq!(r.message, "Connection closed by 203.0.113.9");
    assert_eq!(r.fields["process.pid"], n(4242));
    assert_eq!(r.fields["systemd.unit"], s("ssh.service"));
}

#[test]
fn container_lines() {
    let r = parsed("kubernetes_cri", preset("kubernetes_cri").unwrap().example);
    assert_eq!(r.timestamp, T + 123_456, "nanoseconds are cut to microseconds");
    assert_eq!(r.fields["stream"], s("stderr"));
    assert_eq!(r.message, "panic: runtime error: index out of range [3] with length 2");
    let r = parsed("docker_json", preset("docker_json").unwrap().example);
    assert_eq!(r.timestamp, T + 123_456);
    assert_eq!(r.fields["stream"], s("stdout"));
    assert!(r.message.starts_with("GET /healthz 200"), "{:?}", r.message);
}

#[test]
fn jvm_layouts() {
    let java = |line: &str| parsed("log4j", line);
    let r = java(preset("log4j").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T + 123_000, Level::Error));
    assert_eq!((r.fields["thread"].clone(), r.fields["log.logger"].clone()), (s("http-nio-8080-exec-1"), s("com.example.shop.OrderService")));
    assert_eq!(r.message, "Payment declined for order 7");
    // Kafka
    let r = java("[2023-11-14 22:13:20,123] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)");
    assert_eq!((r.timestamp, r.level, r.fields["log.logger"].clone()), (T + 123_000, Level::Info, s("kafka.server.KafkaServer")));
    assert_eq!(r.message, "[KafkaServer id=1] started");
    // ZooKeeper
    let r = java("2023-11-14 22:13:20,123 [myid:1] - WARN  [QuorumPeer[myid=1](plain=0.0.0.0:2181)(secure=disabled):Follower@129] - Exception when following the leader");
    assert_eq!((r.level, r.fields["log.line"].clone()), (Level::Warn, n(129)));
    assert_eq!(r.fields["log.logger"], s("Follower"));
    // Hadoop
    let r = java("2023-11-14 22:13:20,123 INFO org.apache.hadoop.hdfs.server.namenode.NameNode: STARTUP_MSG: Starting NameNode");
    assert_eq!((r.timestamp, r.fields["log.logger"].clone()), (T + 123_000, s("org.apache.hadoop.hdfs.server.namenode.NameNode")));
    // ZooKeeper 3.4 has no myid; its thread names hold colons.
    let r = java("2023-11-14 22:13:20,123 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200");
    assert_eq!((r.fields["thread"].clone(), r.fields["log.logger"].clone(), r.fields["log.line"].clone()), (s("QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181"), s("FastLeaderElection"), n(774)));
    assert_eq!((r.level, r.message.as_str()), (Level::Info, "Notification time out: 3200"));
    // MapReduce and YARN containers log the thread too.
    let r = java("2023-11-14 22:13:20,123 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1_0020_000001");
    assert_eq!((r.fields["thread"].clone(), r.fields["log.logger"].clone()), (s("main"), s("org.apache.hadoop.mapreduce.v2.app.MRAppMaster")));
    assert_eq!(r.message, "Created MRAppMaster for application appattempt_1_0020_000001");
    // Spark
    let r = java("23/11/14 22:13:20 INFO SparkContext: Running Spark version 3.5.0");
    assert_eq!((r.timestamp, r.fields["log.logger"].clone(), r.message.as_str()), (T, s("SparkContext"), "Running Spark version 3.5.0"));
    // HDFS
    let r = java("231114 221320 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating");
    assert_eq!((r.timestamp, r.fields["process.pid"].clone(), r.fields["log.logger"].clone()), (T, n(148), s("dfs.DataNode$PacketResponder")));
    // Spring Boot 3
    let r = java("2023-11-14T22:13:20.123Z  INFO 4242 --- [shop] [           main] c.e.shop.ShopApplication                 : Started ShopApplication in 2.1 seconds");
    assert_eq!((r.timestamp, r.level, r.service.as_deref()), (T + 123_000, Level::Info, Some("shop")));
    assert_eq!((r.fields["thread"].clone(), r.fields["log.logger"].clone()), (s("main"), s("c.e.shop.ShopApplication")));
    // log4j2's default: only the time of day.
    let r = java("22:13:20.123 [main] ERROR com.example.App - Something failed");
    assert_eq!((r.level, r.timestamp_source), (Level::Error, TimestampSource::Received));
}

#[test]
fn python_uvicorn_gunicorn() {
    let r = parsed("python", preset("python").unwrap().example);
    assert_eq!((r.timestamp, r.level, r.fields["log.logger"].clone()), (T + 123_000, Level::Warn, s("app.db")));
    let r = parsed("python", "CRITICAL:root:disk full");
    assert_eq!((r.level, r.message.as_str()), (Level::Fatal, "disk full"));
    let r = parsed("python", r#"INFO:     127.0.0.1:52000 - "GET /items/7 HTTP/1.1" 404 Not Found"#);
    assert_eq!((r.fields["http.response.status_code"].clone(), r.fields["url.original"].clone()), (n(404), s("/items/7")));
    let r = parsed("python", "[2023-11-14 22:13:20 +0000] [4242] [INFO] Booting worker with pid: 4242");
    assert_eq!((r.timestamp, r.fields["process.pid"].clone()), (T, n(4242)));
}

#[test]
fn logfmt_and_json_lines() {
    let r = parsed("logfmt", preset("logfmt").unwrap().example);
    assert_eq!((r.timestamp, r.level, r.message.as_str()), (T + 123_000, Level::Warn, "slow query"));
    assert_eq!(r.fields["rows"], n(120));
    // zap inside a syslog-like transport (the line as text), and logrus as JSON.
    let r = parsed("json", preset("json").unwrap().example);
    assert_eq!((r.level, r.message.as_str()), (Level::Error, "payment failed"));
    assert_eq!(r.fields["order_id"], n(7));
    let r = parsed("json", r#"{"level":"warning","msg":"Würfel übrig","time":"2023-11-14T22:13:20Z"}"#);
    assert_eq!((r.timestamp, r.level, r.message.as_str()), (T, Level::Warn, "Würfel übrig"));
}

#[test]
fn databases() {
    let r = parsed("postgresql", preset("postgresql").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T + 123_000, Level::Error));
    assert_eq!((r.fields["user.name"].clone(), r.fields["postgresql.database"].clone(), r.fields["client.ip"].clone()), (s("app"), s("shop"), s("10.0.0.7")));
    assert_eq!(r.message, r#"relation "orderz" does not exist at character 15"#);
    let r = parsed("postgresql", "2023-11-14 22:13:20.123 UTC [1] LOG:  database system is ready to accept connections");
    assert_eq!((r.level, r.fields["process.pid"].clone()), (Level::Info, n(1)));
    let r = parsed("postgresql", "2023-11-14 22:13:20 UTC [4242]: [3-1] user=,db=,app=,client= LOG:  checkpoint starting: time");
    assert_eq!(r.fields["postgresql.line"], n(3));

    let r = parsed("mysql_error", preset("mysql_error").unwrap().example);
    assert_eq!((r.timestamp, r.level), (T + 123_456, Level::Info));
    assert_eq!(r.fields["mysql.error_code"], s("MY-010116"));
    let r = parsed("mysql_error", "2023-11-14T22:13:20.123456Z 8 [Warning] Aborted connection 8 to db: 'shop' user: 'app'");
    assert_eq!(r.level, Level::Warn);

    let r = parsed("redis", preset("redis").unwrap().example);
    assert_eq!((r.timestamp, r.level, r.fields["redis.role"].clone()), (T + 123_000, Level::Warn, s("M")));
    let r = parsed("redis", "1:M 14 Nov 2023 22:13:20.123 * Ready to accept connections tcp");
    assert_eq!(r.level, Level::Info);
}

#[test]
fn proxies_and_load_balancers() {
    let r = parsed("haproxy_http", preset("haproxy_http").unwrap().example);
    assert_eq!((r.timestamp, r.fields["http.response.status_code"].clone()), (T + 123_000, n(200)));
    assert_eq!((r.fields["haproxy.backend"].clone(), r.fields["haproxy.server"].clone(), r.fields["haproxy.total_ms"].clone()), (s("shop"), s("web-2"), n(13)));
    assert_eq!(r.fields["url.original"], s("/cart"));
    // Received over syslog, the header is gone; a timer of -1 (aborted).
    let r = parsed("haproxy_http", r#"203.0.113.9:51234 [14/Nov/2023:22:13:20.123] http-in shop/<NOSRV> -1/-1/-1/-1/+5 503 212 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#);
    assert_eq!(r.fields["http.response.status_code"], n(503));

    let r = parsed("envoy_access", preset("envoy_access").unwrap().example);
    assert_eq!((r.timestamp, r.fields["http.response.status_code"].clone(), r.fields["envoy.response_flags"].clone()), (T + 123_000, n(503), s("UF")));
    assert_eq!(r.fields["http.request.id"], s("4f1c2a9e-7d6b-4e7a-9a61-3c1f0e2d8b11"));

    let r = parsed("aws_alb", preset("aws_alb").unwrap().example);
    assert_eq!((r.timestamp, r.fields["client.ip"].clone(), r.fields["http.response.status_code"].clone()), (T + 123_456, s("203.0.113.9"), n(200)));
    assert_eq!(r.fields["url.original"], s("https://shop.example:443/cart"));
    assert_eq!((r.fields["aws.alb.request_processing_time"].clone(), r.fields["tls.protocol"].clone()), (FieldValue::Double(0.0), s("TLSv1.2")));
    assert!(matches!(&r.fields["aws.alb.extra"], FieldValue::String(x) if x.starts_with("\"arn:aws:acm:")), "{:?}", r.fields);
    assert_eq!((r.fields["client.address"].clone(), r.fields["client.port"].clone()), (s("203.0.113.9:51234"), n(51234)));
    assert!(!r.fields.contains_key("aws.alb.request"));

    // The older layout that ends at the domain name; an IPv6 client; a request the load
    // balancer could not read, which reached no target (`-` and -1 for what it lacks).
    let r = parsed(
        "aws_alb",
        r#"http 2023-11-14T22:13:20.123456Z app/shop-lb/50dc6c495c0c9188 [2001:db8::7]:51234 - -1 -1 -1 400 - 0 272 "- http://shop.example:80- -" "-" - - - "-" "-""#,
    );
    assert_eq!((r.fields["client.ip"].clone(), r.fields["client.port"].clone()), (s("2001:db8::7"), n(51234)));
    assert_eq!((r.fields["http.response.status_code"].clone(), r.fields["aws.alb.target_processing_time"].clone()), (n(400), FieldValue::Double(-1.0)));
    assert!(!r.fields.contains_key("aws.alb.target_status_code") && !r.fields.contains_key("http.request.method"), "{:?}", r.fields);
    // An address that splits neither as `[v6]:port` nor as `v4:port` is kept as written.
    let line = preset("aws_alb").unwrap().example.replace("203.0.113.9:51234", "2001:db8::7");
    let r = parsed("aws_alb", &line);
    assert_eq!(r.fields["client.address"], s("2001:db8::7"));
    assert!(!r.fields.contains_key("client.ip"), "{:?}", r.fields);
}

#[test]
fn aws_records() {
    let r = parsed("aws_vpc_flow", preset("aws_vpc_flow").unwrap().example);
    assert_eq!((r.timestamp, r.fields["destination.port"].clone(), r.fields["event.action"].clone()), (T, n(443), s("ACCEPT")));
    let r = parsed("aws_vpc_flow", "2 123456789012 eni-0a1b2c3d4e5f67890 - - - - - - - 1700000000 1700000060 - NODATA");
    assert_eq!(r.fields["aws.vpc.log_status"], s("NODATA"));
    let r = parsed("aws_vpc_flow", "2 123456789012 eni-0a1b2c3d4e5f67890 198.51.100.7 10.0.3.7 4444 22 6 1 40 1700000000 1700000060 REJECT OK");
    assert_eq!(r.level, Level::Warn);

    let r = parsed("aws_cloudtrail", preset("aws_cloudtrail").unwrap().example);
    assert_eq!(r.timestamp, T);
    assert_eq!((r.fields["event.action"].clone(), r.fields["event.provider"].clone()), (s("DeleteBucket"), s("s3.amazonaws.com")));
    assert_eq!((r.fields["user.id"].clone(), r.fields["error.code"].clone()), (s("arn:aws:iam::123456789012:user/alice"), s("AccessDenied")));
}

#[test]
fn android_openstack_windows() {
    let r = parsed("android_logcat", preset("android_logcat").unwrap().example);
    assert_eq!((r.timestamp, r.level, r.fields["log.logger"].clone()), (T + 123_000, Level::Error, s("ActivityManager")));
    let r = parsed("android_logcat", "11-14 22:13:20.123  1234  1234 V Zygote  : verbose detail");
    assert_eq!((r.level, r.fields["log.logger"].clone()), (Level::Trace, s("Zygote")));

    let r = parsed("openstack", preset("openstack").unwrap().example);
    assert_eq!((r.timestamp, r.level, r.fields["log.logger"].clone()), (T + 123_000, Level::Info, s("nova.compute.manager")));
    assert_eq!(r.fields["http.request.id"], s("req-3f5c0a6e-0b1d-4a41-9d6e-2b7c5f0e9a11"));
    assert_eq!(r.fields["openstack.instance"], s("8d5c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"));
    assert_eq!(r.message, "[instance: 8d5c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f] Took 5.12 seconds to spawn the instance");
    // Collected logs often carry the file they came from first; the preset finds the line after
    // it (so its patterns are not anchored at the start).
    let r = parsed("openstack", "nova-compute.log.1.2023-11-15_09:00:01 2023-11-14 22:13:20.123 4242 INFO nova.compute.manager [req-3f5c0a6e-0b1d-4a41-9d6e-2b7c5f0e9a11 - - - - -] [instance: 8d5c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f] VM Started (Lifecycle Event)");
    assert_eq!((r.timestamp, r.level, r.message.as_str()), (T + 123_000, Level::Info, "[instance: 8d5c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f] VM Started (Lifecycle Event)"));
    assert_eq!(r.fields["openstack.instance"], s("8d5c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"));

    let r = parsed("windows_cbs", preset("windows_cbs").unwrap().example);
    assert_eq!((r.timestamp, r.level, r.fields["log.logger"].clone()), (T, Level::Info, s("CBS")));
}

/// Lines of each format (the examples and the other lines above) are detected as their preset;
/// nginx's and Apache's access formats are the same format.
#[test]
fn detection_names_the_format_and_nothing_for_prose() {
    use nexuslog_pipeline::presets::detect;
    let same = |a: &str, b: &str| a == b || (a.ends_with("_access") && b.ends_with("_access") && a != "envoy_access" && b != "envoy_access");
    for p in presets() {
        let found = detect(&[p.example.to_owned()], RECEIVED);
        let best = found.first().map(|d| d.preset).unwrap_or("none");
        assert!(same(best, p.name), "{}'s example detected as {best}: {found:?}", p.name);
    }
    let mixed: Vec<String> = [
        "2023-11-14 22:13:20,123 INFO org.apache.hadoop.hdfs.server.namenode.NameNode: STARTUP_MSG: Starting NameNode",
        "[2023-11-14 22:13:20,123] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)",
        "23/11/14 22:13:20 INFO SparkContext: Running Spark version 3.5.0",
        "not a log line at all",
    ]
    .map(String::from)
    .to_vec();
    let found = detect(&mixed, RECEIVED);
    assert_eq!((found[0].preset, found[0].parsed, found[0].lines), ("log4j", 3, 4), "{found:?}");
    assert_eq!(found[0].examples, vec![0, 1, 2]);

    let prose: Vec<String> = ["hello world", "The quick brown fox jumps over the lazy dog.", "id,name,price", "1,apple,0.5", "", "   ", "€€€ ünïcödé"].map(String::from).to_vec();
    assert!(detect(&prose, RECEIVED).is_empty(), "{:?}", detect(&prose, RECEIVED));
}

/// `line` with its IPv4 addresses and its standalone numbers of 3 to 8 digits (pids, sizes,
/// ports, ids — not dates, times, zones or epochs, whose digits touch `:`, `/`, `-`, `.`, `,` or
/// `+`, or run
/// longer) replaced by others of the same shape, from `seed`.
fn vary(line: &str, seed: u64) -> String {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    let mut next = move |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let ipv4 = regex::Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").unwrap();
    let line = ipv4.replace_all(line, |_: &regex::Captures| format!("{}.{}.{}.{}", 1 + next(223), next(256), next(256), 1 + next(254))).into_owned();
    let bytes = line.as_bytes();
    let number = regex::Regex::new(r"\d+").unwrap();
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    for m in number.find_iter(&line) {
        let before = m.start().checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(m.end()).copied();
        let loose = |c: Option<u8>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || b":/-.,+".contains(&c)));
        let year = m.len() == 4 && (m.as_str().starts_with("19") || m.as_str().starts_with("20"));
        out.push_str(&line[last..m.start()]);
        if (3..=8).contains(&m.len()) && loose(before) && loose(after) && !year {
            out.push_str(&(1 + next(9)).to_string());
            (1..m.len()).for_each(|_| out.push_str(&next(10).to_string()));
        } else {
            out.push_str(m.as_str());
        }
        last = m.end();
    }
    out.push_str(&line[last..]);
    out
}

/// For each preset, 100 lines of its format (its example with other addresses, pids, sizes and
/// ids) are all detected as that preset, first.
#[test]
fn a_hundred_lines_of_each_format_are_detected_as_it() {
    use nexuslog_pipeline::presets::detect;
    for p in presets() {
        // Lines ending in free text also get a different ending, JSON objects one more key.
        let free_text = !p.example.ends_with(['}', '"', 'K']) && !["aws_vpc_flow", "logfmt"].contains(&p.name);
        let lines: Vec<String> = (0..100)
            .map(|i| {
                let line = vary(p.example, i);
                match line.strip_suffix('}') {
                    Some(object) => format!("{object},\"sample\":{i}}}"),
                    None if free_text => format!("{line} (#{i})"),
                    None => line,
                }
            })
            .collect();
        assert!(lines.iter().collect::<std::collections::HashSet<_>>().len() > 50, "{}: the lines vary", p.name);
        let found = detect(&lines, RECEIVED);
        let best = found.first().unwrap_or_else(|| panic!("{}: nothing detected in {:?}", p.name, &lines[..3]));
        let same = best.preset == p.name || (best.preset.ends_with("_access") && p.name.ends_with("_access") && !best.preset.starts_with("envoy") && !p.name.starts_with("envoy"));
        assert!(same && best.parsed == 100, "{}: detected {} for {} of 100; first lines {:?}", p.name, best.preset, best.parsed, &lines[..2]);
    }
}
