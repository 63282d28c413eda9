//! Real-format lines through normalization and a pipeline: the fields and types users get.
#![allow(clippy::unwrap_used)]

use nexuslog_pipeline::{process, Outcome, Pipeline, RuleSpec};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, RawEvent, SourceKind, TimestampSource};
use serde_json::json;

fn raw(payload: &str, source: SourceKind) -> RawEvent {
    RawEvent {
        ingest_id: "id".into(),
        project_id: "p".into(),
        source,
        received_at: 1_800_000_000_000_000,
        remote_addr: None,
        payload: payload.as_bytes().to_vec(),
        metadata: Default::default(),
    }
}

fn pipeline(rules: serde_json::Value) -> Pipeline {
    let specs: Vec<RuleSpec> = serde_json::from_value(rules).unwrap();
    let ids: Vec<String> = (0..specs.len()).map(|i| format!("r{i}")).collect();
    Pipeline::compile(ids.iter().map(String::as_str).zip(specs.iter()), 1).unwrap()
}

fn record(p: &Pipeline, line: &str, source: SourceKind) -> LogRecord {
    match process(&raw(line, source), p, None).unwrap() {
        Outcome::Record(r) => r,
        other => panic!("expected a record for {line:?}, got {other:?}"),
    }
}

fn s(v: &str) -> FieldValue {
    FieldValue::String(v.into())
}

/// The rules a team would write for a web tier: nginx/apache access logs, logfmt services,
/// firewall key=value lines, Java and Python application logs.
fn web_rules() -> Pipeline {
    pipeline(json!([
        { "name": "access logs", "when": { "field": { "name": "message", "matches": "^\\S+ \\S+ \\S+ \\[" } },
          "steps": [ { "parse": { "with": "grok", "patterns": ["%{COMBINEDAPACHELOG}", "%{COMMONAPACHELOG}"] } },
                     { "rename": { "from": "clientip", "to": "client.ip" } },
                     { "rename": { "from": "response", "to": "http.status" } },
                     { "remove": { "fields": ["ident"] } } ] },
        { "name": "logfmt services", "when": { "service": "api*" },
          "steps": [ { "parse": { "with": "logfmt" } }, { "map_level": { "field": "at" } } ] },
        { "name": "firewall", "when": { "host": "fw*" },
          "steps": [ { "parse": { "with": "kv", "prefix": "fw." } }, { "convert": { "field": "fw.DPT", "to": "string" } } ] },
        { "name": "java", "when": { "service": "orders" },
          "steps": [ { "parse": { "with": "regex", "pattern": "(?m)^(?P<exception_class>[\\w.$]+(?:Exception|Error))(?::\\s*(?P<exception_message>.*))?$" } },
                     { "parse": { "with": "grok", "patterns": ["%{JAVALOG}"] } } ] },
        { "name": "python", "when": { "service": "worker" },
          "steps": [ { "parse": { "with": "grok", "patterns": ["%{PYTHONLOG}"] } } ] },
    ]))
}

#[test]
fn nginx_combined_lines_get_typed_fields() {
    let p = web_rules();
    let r = record(
        &p,
        r#"93.184.216.34 - - [12/Mar/2024:10:15:32 +0000] "GET /index.html?q=1 HTTP/1.1" 200 612 "-" "Mozilla/5.0 (X11; Linux x86_64)""#,
        SourceKind::Http,
    );
    assert_eq!(r.fields["client.ip"], s("93.184.216.34"));
    assert_eq!(r.fields["http.status"], FieldValue::Long(200));
    assert_eq!(r.fields["bytes"], FieldValue::Long(612));
    assert_eq!(r.fields["verb"], s("GET"));
    assert_eq!(r.fields["request"], s("/index.html?q=1"));
    assert_eq!(r.fields["agent"], s("\"Mozilla/5.0 (X11; Linux x86_64)\""));
    assert!(!r.fields.contains_key("ident") && !r.fields.contains_key("clientip"));
    // The access-log time became the event time.
    assert_eq!((r.timestamp, r.timestamp_source), (1_710_238_532_000_000, TimestampSource::Event));
    assert_eq!(r.parse_status, ParseStatus::Ok, "{:?}", r.parse_errors);

    // IPv6 client, `-` for bytes: bytes absent rather than a string in a numeric field.
    let r = record(
        &p,
        r#"2001:db8::1 - alice [12/Mar/2024:10:15:34 +0100] "HEAD /healthz HTTP/1.1" 304 - "-" "kube-probe/1.29""#,
        SourceKind::Http,
    );
    assert_eq!(r.fields["client.ip"], s("2001:db8::1"));
    assert_eq!(r.fields["http.status"], FieldValue::Long(304));
    assert_eq!(r.fields["auth"], s("alice"));
    assert!(!r.fields.contains_key("bytes"));
}

#[test]
fn apache_common_falls_back_to_the_second_pattern() {
    let r =
        record(&web_rules(), r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#, SourceKind::Http);
    assert_eq!(r.fields["http.status"], FieldValue::Long(200));
    assert_eq!(r.fields["bytes"], FieldValue::Long(2326));
    assert_eq!(r.timestamp, 971_211_336_000_000);
    assert!(!r.fields.contains_key("agent"));
}

#[test]
fn logfmt_values_are_typed_and_the_level_mapped() {
    let p = web_rules();
    let line = r#"{"service":"api-gw","message":"at=error method=GET path=\"/api/users?id=42\" status=503 connect=1ms ratio=0.25 cached=false request_id=8601b555"}"#;
    let r = record(&p, line, SourceKind::Http);
    assert_eq!(r.level, Level::Error);
    assert_eq!(r.fields["status"], FieldValue::Long(503));
    assert_eq!(r.fields["ratio"], FieldValue::Double(0.25));
    assert_eq!(r.fields["cached"], FieldValue::Bool(false));
    assert_eq!(r.fields["connect"], s("1ms"));
    assert_eq!(r.fields["path"], s("/api/users?id=42"));
}

#[test]
fn firewall_key_value_lines_under_a_prefix() {
    let line =
        json!({ "host": "fw01", "message": "[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.50 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=51234 DPT=22" })
            .to_string();
    let r = record(&web_rules(), &line, SourceKind::Http);
    assert_eq!(r.fields["fw.SRC"], s("203.0.113.50"));
    assert_eq!(r.fields["fw.LEN"], FieldValue::Long(60));
    assert_eq!(r.fields["fw.DPT"], s("22"), "converted to string by the rule");
}

#[test]
fn java_log_with_an_exception_keeps_the_stack_trace() {
    let text = "2024-03-12 10:15:32,118 ERROR [http-nio-8080-exec-3] com.example.orders.OrderService - Failed to place order 1234\n\
                java.lang.IllegalStateException: inventory unavailable for sku=ABC-1\n\
                \tat com.example.orders.InventoryClient.reserve(InventoryClient.java:87)\n\
                \tat com.example.orders.OrderService.place(OrderService.java:41)";
    let r = record(&web_rules(), &json!({ "service": "orders", "message": text }).to_string(), SourceKind::Http);
    assert_eq!(r.level, Level::Error);
    assert_eq!(r.message, "Failed to place order 1234");
    assert_eq!(r.fields["thread"], s("http-nio-8080-exec-3"));
    assert_eq!(r.fields["logger"], s("com.example.orders.OrderService"));
    assert_eq!(r.fields["exception_class"], s("java.lang.IllegalStateException"));
    assert_eq!(r.fields["exception_message"], s("inventory unavailable for sku=ABC-1"));
    assert_eq!(r.fields["event.original"], s(text), "the whole event, stack trace included, is kept");
    assert_eq!(r.timestamp_source, TimestampSource::Event);
}

#[test]
fn python_logging_lines() {
    let r = record(
        &web_rules(),
        &json!({ "service": "worker", "message": "CRITICAL:__main__:worker 4242 died: exit code 137" }).to_string(),
        SourceKind::Http,
    );
    assert_eq!(r.level, Level::Fatal);
    assert_eq!(r.fields["logger"], s("__main__"));
    assert_eq!(r.message, "worker 4242 died: exit code 137");
}

#[test]
fn syslog_records_can_be_refined_by_source() {
    let p = pipeline(json!([
        { "name": "sshd", "when": { "source": "syslog", "service": "sshd" },
          "steps": [ { "parse": { "with": "grok", "patterns": ["Accepted %{WORD:auth_method} for %{USER:user} from %{IP:src_ip} port %{INT:src_port:int}"] } } ] }
    ]));
    let r = record(
        &p,
        "<38>Mar  7 04:02:16 web-01 sshd[21458]: Accepted publickey for deploy from 192.0.2.44 port 52144 ssh2",
        SourceKind::Syslog,
    );
    assert_eq!(r.host.as_deref(), Some("web-01"));
    assert_eq!(r.fields["user"], s("deploy"));
    assert_eq!(r.fields["src_port"], FieldValue::Long(52144));
    assert_eq!(r.fields["auth_method"], s("publickey"));
    // The same line over HTTP does not match the rule's source condition.
    let r = record(&p, "Accepted publickey for deploy from 192.0.2.44 port 52144 ssh2", SourceKind::Http);
    assert!(!r.fields.contains_key("user"));
}

#[test]
fn json_events_are_untouched_without_rules_and_keep_types() {
    let r = record(&Pipeline::default(), r#"{"msg":"ok","duration_ms":12,"ratio":0.5,"ok":true,"user":{"id":"u1"}}"#, SourceKind::Http);
    assert_eq!(r.fields["duration_ms"], FieldValue::Long(12));
    assert_eq!(r.fields["ratio"], FieldValue::Double(0.5));
    assert_eq!(r.fields["ok"], FieldValue::Bool(true));
    assert_eq!(r.fields["user.id"], s("u1"));
}

#[test]
fn failed_steps_keep_the_record_or_dead_letter_it_as_the_rule_says() {
    let keep = pipeline(json!([
        { "name": "strict", "steps": [ { "parse": { "with": "grok", "patterns": ["%{NGINXACCESS}"] } }, { "set": { "field": "parsed", "value": true } } ] },
        { "name": "tag", "steps": [ { "set": { "field": "team", "value": "web" } } ] }
    ]));
    let mut trace = Vec::new();
    let Outcome::Record(r) = process(&raw("not an access line", SourceKind::Http), &keep, Some(&mut trace)).unwrap() else { panic!() };
    assert_eq!(r.message, "not an access line", "the original message is kept");
    assert_eq!(r.parse_status, ParseStatus::Partial);
    assert!(r.parse_errors[0].contains("strict") && r.parse_errors[0].contains("no grok pattern matched"), "{:?}", r.parse_errors);
    assert!(!r.fields.contains_key("parsed"), "the rest of the failing rule is skipped");
    assert_eq!(r.fields["team"], s("web"), "later rules still run");
    assert_eq!(trace.len(), 2);
    assert!(!trace[0].steps[0].ok && trace[1].steps[0].ok);

    let strict = pipeline(json!([{ "name": "strict", "on_error": "dead_letter", "steps": [ { "parse": { "with": "logfmt" } } ] }]));
    match process(&raw("a=\"unterminated", SourceKind::Http), &strict, None).unwrap() {
        Outcome::DeadLetter { rule, reason, .. } => {
            assert_eq!(rule, "strict");
            assert!(reason.contains("logfmt"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn drop_set_convert_and_disabled_rules() {
    let p = pipeline(json!([
        { "name": "health checks", "when": { "field": { "name": "message", "matches": "GET /healthz" } }, "steps": [ { "drop": {} } ] },
        { "name": "off", "enabled": false, "steps": [ { "set": { "field": "never", "value": 1 } } ] },
        { "name": "typing", "steps": [
            { "set": { "field": "env", "value": "prod" } },
            { "set": { "field": "env", "value": "dev", "if_absent": true } },
            { "parse": { "with": "kv", "infer_types": false } },
            { "convert": { "field": "took", "to": "float" } },
            { "convert": { "field": "ok", "to": "bool" } },
            { "convert": { "field": "at", "to": "timestamp", "format": "%d/%m/%Y %H:%M" } } ] }
    ]));
    assert!(matches!(process(&raw("GET /healthz 200", SourceKind::Http), &p, None).unwrap(), Outcome::Dropped { .. }));
    let r = record(&p, "took=1.5 ok=yes at=\"14/11/2023 22:13\"", SourceKind::Http);
    assert_eq!(r.fields["env"], s("prod"));
    assert_eq!(r.fields["took"], FieldValue::Double(1.5));
    assert_eq!(r.fields["ok"], FieldValue::Bool(true));
    assert_eq!(r.timestamp, 1_699_999_980_000_000);
    assert!(!r.fields.contains_key("never"));
}

#[test]
fn mistakes_are_found_at_compile_time_and_named() {
    let bad = |rules: serde_json::Value| {
        let specs: Vec<RuleSpec> = serde_json::from_value(rules).unwrap();
        Pipeline::compile(specs.iter().map(|s| ("x", s)), 1).unwrap_err()
    };
    let e = bad(
        json!([{ "name": "a", "steps": [ { "set": { "field": "x", "value": 1 } }, { "parse": { "with": "grok", "patterns": ["%{NOPE}"] } } ] }]),
    );
    assert_eq!((e.rule.as_str(), e.step), ("a", Some(1)));
    assert!(e.message.contains("NOPE"), "{e}");
    assert!(bad(json!([{ "name": "b", "steps": [ { "parse": { "with": "regex", "pattern": "(" } } ] }])).message.contains("regex"));
    assert!(bad(json!([{ "name": "c", "steps": [ { "map_level": { "field": "x", "map": { "W": "loud" } } } ] }])).message.contains("loud"));
    assert!(bad(json!([{ "name": "d", "steps": [] }])).message.contains("at least one step"));
    assert!(
        serde_json::from_value::<RuleSpec>(json!({ "name": "e", "steps": [ { "explode": {} } ] })).is_err(),
        "unknown steps are refused"
    );
    assert!(serde_json::from_value::<RuleSpec>(json!({ "name": "f", "steps": [], "typo": 1 })).is_err(), "unknown keys are refused");
}

#[test]
fn rules_cannot_write_the_fields_receivers_set() {
    let bad = |rules: serde_json::Value| {
        let specs: Vec<RuleSpec> = serde_json::from_value(rules).unwrap();
        Pipeline::compile(specs.iter().map(|s| ("x", s)), 1).unwrap_err().message
    };
    for step in [
        json!({ "set": { "field": "ingest.api_key", "value": "admin" } }),
        json!({ "rename": { "from": "user", "to": "ingest.data_source" } }),
        json!({ "remove": { "fields": ["syslog.listener"] } }),
        json!({ "convert": { "field": "ingest.api_key", "to": "int" } }),
        json!({ "parse": { "with": "logfmt", "prefix": "ingest." } }),
    ] {
        assert!(bad(json!([{ "name": "spoof", "steps": [step] }])).contains("receiver"), "{step}");
    }

    // At run time a parse step cannot forge them from content either: a json parse of a field
    // holding `{"ingest.api_key": ...}` and a kv parse of `ingest.data_source=...`.
    let p = pipeline(json!([
        { "name": "inner json", "steps": [ { "parse": { "with": "json", "field": "payload" } }, { "parse": { "with": "kv" } } ] }
    ]));
    let mut event = raw(
        r#"{"message":"ingest.data_source=forged syslog.listener=forged","payload":"{\"ingest.api_key\":\"forged\"}"}"#,
        SourceKind::Http,
    );
    event.metadata = [("ingest.api_key".to_owned(), "real-key".to_owned())].into_iter().collect();
    let Outcome::Record(r) = process(&event, &p, None).unwrap() else { panic!("a record") };
    assert_eq!(r.fields["ingest.api_key"], s("real-key"));
    assert!(!r.fields.contains_key("ingest.data_source") && !r.fields.contains_key("syslog.listener"), "{:?}", r.fields);
}

#[test]
fn syslog_lines_sent_as_text_parse_with_syslogbase() {
    let p = pipeline(json!([
        { "name": "sshd", "when": { "field": { "name": "message", "matches": "sshd\\[" } },
          "steps": [ { "parse": { "with": "grok", "patterns": ["%{SYSLOGBASE} Accepted %{WORD:auth_method} for %{USER:user} from %{IP:src_ip} port %{INT:src_port:int}"] } },
                     { "rename": { "from": "logsource", "to": "host" } },
                     { "rename": { "from": "program", "to": "service" } },
                     { "convert": { "field": "pid", "to": "int" } } ] }
    ]));
    let r =
        record(&p, "Mar  7 04:02:16 web-01 sshd[21458]: Accepted publickey for deploy from 192.0.2.44 port 52144 ssh2", SourceKind::Http);
    assert_eq!((r.host.as_deref(), r.service.as_deref()), (Some("web-01"), Some("sshd")));
    assert_eq!(r.fields["pid"], FieldValue::Long(21458));
    assert_eq!(r.fields["src_ip"], s("192.0.2.44"));
    assert_eq!(r.fields["src_port"], FieldValue::Long(52144));
    // A syslog time has no year: it is read in the year of receipt.
    assert_eq!(r.timestamp_source, TimestampSource::Event, "{:?} {:?}", r.parse_errors, r.fields.get("timestamp"));
    assert_eq!(r.parse_status, ParseStatus::Ok, "{:?}", r.parse_errors);
}

#[test]
fn rules_are_stored_as_written_without_noise() {
    let written = json!({ "name": "n", "when": { "service": "web*" },
        "steps": [ { "parse": { "with": "grok", "patterns": ["%{NGINXACCESS}"] } }, { "convert": { "field": "bytes", "to": "int" } } ] });
    let spec: RuleSpec = serde_json::from_value(written).unwrap();
    let stored = serde_json::to_value(&spec).unwrap();
    assert!(!stored.to_string().contains("null"), "{stored}");
    assert_eq!(serde_json::from_value::<RuleSpec>(stored).unwrap(), spec, "what is stored reads back the same");
}

/// Fields a rule parses out of a line take the aliases a JSON event's keys take: a logfmt line's
/// `ts`, `level` and `msg` become the event time, the level and the message.
#[test]
fn parsed_aliases_set_the_standard_fields() {
    let p = pipeline(json!([{ "name": "logfmt", "steps": [ { "parse": { "with": "logfmt" } } ] }]));
    let r = record(&p, r#"ts=2026-12-03T10:00:00Z lvl=error msg="request done" app=checkout text="second message alias" latency=12"#, SourceKind::Http);
    assert_eq!(r.message, "request done");
    assert_eq!(r.level, Level::Error);
    assert_eq!(r.timestamp_source, TimestampSource::Event);
    assert_eq!(r.timestamp, 1_796_292_000_000_000);
    assert_eq!(r.service.as_deref(), Some("checkout"));
    assert_eq!(r.fields.get("text"), Some(&s("second message alias")), "a later alias of a field already set stays a field");
    assert!(!r.fields.contains_key("msg"));
    // With a prefix, nothing is aliased.
    let p = pipeline(json!([{ "name": "kv", "steps": [ { "parse": { "with": "logfmt", "prefix": "kv." } } ] }]));
    let r = record(&p, "msg=hello", SourceKind::Http);
    assert_eq!(r.fields.get("kv.msg"), Some(&s("hello")));
    assert_eq!(r.message, "msg=hello");
}

fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
}

/// Apache 2.2's error log through the stock `%{HTTPD_ERRORLOG}`: the pattern's own date format
/// (asctime) becomes the event time, read in the rule's zone.
#[test]
fn a_stock_patterns_date_becomes_the_event_time_in_the_rules_zone() {
    let rules = |zone: &str| {
        pipeline(json!([{ "name": "apache errors", "timezone": zone, "steps": [ { "parse": { "with": "grok", "patterns": ["%{HTTPD_ERRORLOG}"] } } ] }]))
    };
    let line = "[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden by rule: /var/www/html/";
    let r = record(&rules("UTC"), line, SourceKind::Http);
    assert_eq!(r.parse_status, ParseStatus::Ok, "{:?}", r.parse_errors);
    assert_eq!((r.timestamp, r.timestamp_source), (utc("2005-12-04T04:47:44Z"), TimestampSource::Event));
    assert_eq!(r.level, Level::Error);
    assert!(r.message.starts_with("Directory index forbidden"), "{}", r.message);
    let berlin = record(&rules("Europe/Berlin"), line, SourceKind::Http);
    assert_eq!(berlin.timestamp, utc("2005-12-04T03:47:44Z"), "CET is UTC+1 in December");
}

/// A `timestamp` capture that no known format reads is kept as a field, and a later `convert`
/// of `timestamp` with the right format repairs the event time and clears the note.
#[test]
fn a_failed_timestamp_capture_can_be_converted_under_its_own_name() {
    let p = pipeline(json!([{ "name": "odd dates", "timezone": "+02:00", "steps": [
        { "parse": { "with": "grok", "patterns": ["%{DATA:timestamp} - %{GREEDYDATA:message}"] } },
        { "convert": { "field": "timestamp", "to": "timestamp", "format": "%d.%m.%Y %Hh%Mm%S" } } ] }]));
    let r = record(&p, "04.12.2005 06h47m44 - hello", SourceKind::Http);
    assert_eq!((r.timestamp, r.timestamp_source), (utc("2005-12-04T04:47:44Z"), TimestampSource::Event));
    assert!(!r.fields.contains_key("timestamp"), "the kept capture is gone: {:?}", r.fields);
    assert_eq!((r.parse_status, r.parse_errors.len()), (ParseStatus::Ok, 0), "{:?}", r.parse_errors);
    assert_eq!(r.message, "hello");
}

/// Syslog-style times carry no year: the year is the latest that puts them at most a day after
/// their receipt (here received 2027-01-15).
#[test]
fn a_yearless_time_takes_its_year_from_the_receipt() {
    let p = pipeline(json!([{ "name": "bsd", "steps": [ { "parse": { "with": "grok", "patterns": ["%{SYSLOGTIMESTAMP:timestamp} %{GREEDYDATA:message}"] } } ] }]));
    assert_eq!(record(&p, "Jan 15 08:00:00 boot", SourceKind::Http).timestamp, utc("2027-01-15T08:00:00Z"));
    assert_eq!(record(&p, "Dec 31 23:00:00 old", SourceKind::Http).timestamp, utc("2026-12-31T23:00:00Z"));
}

#[test]
fn an_unknown_timezone_is_refused_when_the_rule_is_saved() {
    let specs: Vec<RuleSpec> = serde_json::from_value(json!([{ "name": "x", "timezone": "Mars/Olympus", "steps": [ { "drop": {} } ] }])).unwrap();
    let err = Pipeline::compile(specs.iter().map(|s| ("x", s)), 1).unwrap_err();
    assert!(err.message.contains("timezone") && err.message.contains("Mars/Olympus"), "{}", err.message);
}
