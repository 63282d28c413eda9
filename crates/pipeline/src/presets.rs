//! Presets: named, versioned parsing rules for the formats teams ship without writing grok —
//! web servers, syslog, container runtimes, JVM and Python logging, databases, proxies and
//! cloud services. A rule uses one as a step, `{"preset": "nginx_access"}`; it expands to the
//! preset's steps when the rule is compiled.
//!
//! Every preset maps what its format has onto the same names: the standard fields (`timestamp`,
//! `level`, `message`, `host`, `service`) and, as ECS names them, `client.ip`,
//! `http.request.method`, `url.original`, `http.response.status_code` and
//! `http.response.body.bytes` (numbers), `process.pid`, `process.thread.id`, `log.logger`. The
//! level as written stays in `level_original`.
//!
//! Each preset's example line is parsed completely by it (the unit tests check).

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{json, Value};

use crate::rules::Step;

/// One preset.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub name: &'static str,
    /// Bumped when what the preset extracts changes.
    pub version: u32,
    /// The format, as its users call it.
    pub title: &'static str,
    /// A line of the format, parsed completely by this preset.
    pub example: &'static str,
    /// What it extracts besides the standard fields.
    pub fields: &'static [&'static str],
    pub steps: Vec<Step>,
}

/// Level words of these formats that `parse_level` does not know, lower-cased.
fn level_map() -> Value {
    json!({
        "v": "trace", "verbose": "trace", "a": "fatal", "assert": "fatal",
        ".": "debug", "-": "debug", "*": "info", "#": "warn",
        "log": "info", "detail": "info", "hint": "info", "statement": "info", "context": "info",
        "location": "info", "panic": "fatal",
        "debug1": "debug", "debug2": "debug", "debug3": "debug", "debug4": "debug", "debug5": "debug",
        "system": "info", "note": "info"
    })
}

/// A grok parse of `message`, then the level from `level_original`.
fn grok(patterns: &[&str], definitions: Value) -> Vec<Value> {
    vec![
        json!({ "parse": { "with": "grok", "patterns": patterns, "definitions": definitions } }),
        json!({ "map_level": { "field": "level_original", "map": level_map() } }),
    ]
}

const HTTP_FIELDS: &[&str] = &[
    "client.ip",
    "user.name",
    "http.request.method",
    "url.original",
    "http.version",
    "http.response.status_code",
    "http.response.body.bytes",
    "http.request.referrer",
    "user_agent.original",
];

/// Apache's common and combined formats (nginx's `combined` is the same), with nginx's
/// `"$http_x_forwarded_for"` when present.
const ACCESS: &str = r#"%{IPORHOST:client.ip} %{HTTPDUSER:apache.ident} %{HTTPDUSER:user.name} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:http.request.method} %{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{QTEXT:http.request.raw})" (?:%{INT:http.response.status_code:int}|-) (?:%{INT:http.response.body.bytes:int}|-)(?: "%{QDATA:http.request.referrer}" "%{QDATA:user_agent.original}"(?: "%{QDATA:http.forwarded_for}")?)?$"#;

/// An AWS ALB access log line up to the domain name; later versions add fields after it.
const ALB: &str = r#"%{aws.alb.type} %{timestamp} %{aws.alb.name} %{client.address} %{aws.alb.target} %{aws.alb.request_processing_time:float} %{aws.alb.target_processing_time:float} %{aws.alb.response_processing_time:float} %{http.response.status_code:int} %{aws.alb.target_status_code:int} %{http.request.body.bytes:int} %{http.response.body.bytes:int} "%{aws.alb.request}" "%{user_agent.original}" %{tls.cipher} %{tls.protocol} %{aws.alb.target_group} "%{aws.alb.trace_id}" "%{url.domain}""#;

fn quoted() -> Value {
    // Inside a quoted field, escaped quotes (`\"`) do not end it.
    json!({ "QDATA": r#"(?:[^"\\]|\\.)*"# })
}

/// A preset as written below: name, version, title, example, fields, steps as JSON.
type Entry = (&'static str, u32, &'static str, &'static str, &'static [&'static str], Vec<Value>);

fn build() -> Vec<Entry> {
    vec![
        (
            "nginx_access",
            1,
            "nginx access log (combined, with X-Forwarded-For when logged)",
            r#"203.0.113.9 - alice [14/Nov/2023:22:13:20 +0000] "GET /api/orders?id=7 HTTP/1.1" 200 512 "https://shop.example/" "Mozilla/5.0 (X11; Linux x86_64)" "198.51.100.2""#,
            HTTP_FIELDS,
            grok(&[ACCESS], quoted()),
        ),
        (
            "nginx_error",
            1,
            "nginx error log",
            r#"2023/11/14 22:13:20 [error] 1234#1234: *56 open() "/usr/share/nginx/html/missing" failed (2: No such file or directory), client: 203.0.113.9, server: shop.example, request: "GET /missing HTTP/1.1", host: "shop.example""#,
            &["process.pid", "process.thread.id", "nginx.connection_id", "client.ip", "nginx.server", "nginx.request", "nginx.upstream", "nginx.host"],
            grok(
                &[r#"%{NGINXDATE:timestamp} \[%{LOGLEVEL:level_original}\] %{POSINT:process.pid:int}#%{NONNEGINT:process.thread.id:int}: (?:\*%{NONNEGINT:nginx.connection_id:int} )?%{CTEXT:message}(?:, client: %{IPORHOST:client.ip})?(?:, server: %{NOTSPACE:nginx.server})?(?:, request: "%{QTEXT:nginx.request}")?(?:, upstream: "%{QTEXT:nginx.upstream}")?(?:, host: "%{QTEXT:nginx.host}")?(?:, referrer: "%{QTEXT:http.request.referrer}")?$"#],
                json!({ "NGINXDATE": "%{YEAR}/%{MONTHNUM}/%{MONTHDAY} %{TIME}" }),
            ),
        ),
        ("apache_access", 1, "Apache httpd access log (common or combined)", r#"198.51.100.4 - - [14/Nov/2023:22:13:20 +0100] "POST /login HTTP/1.1" 302 - "-" "curl/8.4.0""#, HTTP_FIELDS, grok(&[ACCESS], quoted())),
        (
            "apache_error",
            1,
            "Apache httpd error log (2.2 and 2.4)",
            "[Tue Nov 14 22:13:20.123456 2023] [core:error] [pid 4321:tid 140123] [client 203.0.113.9:51234] AH00126: Invalid URI in request GET /%% HTTP/1.1",
            &["apache.module", "process.pid", "process.thread.id", "client.ip", "client.port", "error.code"],
            grok(
                &[
                    r"\[%{HTTPDERROR_DATE:timestamp}\] \[%{WORD:apache.module}:%{LOGLEVEL:level_original}\] \[pid %{POSINT:process.pid:int}(?::tid %{NUMBER:process.thread.id:int})?\](?: \[client %{IPORHOST:client.ip}(?::%{POSINT:client.port:int})?\])?(?: %{APACHECODE:error.code}:)? %{GREEDYDATA:message}",
                    r"\[%{HTTPDERROR_DATE:timestamp}\] \[%{LOGLEVEL:level_original}\](?: \[client %{IPORHOST:client.ip}\])? %{GREEDYDATA:message}",
                ],
                json!({ "HTTPDERROR_DATE": "%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR}", "APACHECODE": "AH[0-9]{5}" }),
            ),
        ),
        (
            "syslog",
            1,
            "syslog lines (RFC 3164 or RFC 5424) received as text",
            "<34>Nov 14 22:13:20 web-1 sshd[4242]: Failed password for root from 203.0.113.9 port 51234 ssh2",
            &["syslog.priority", "syslog.version", "process.pid", "syslog.msgid", "syslog.structured_data"],
            vec![
                json!({ "parse": { "with": "grok", "patterns": [
                    r"<%{NONNEGINT:syslog.priority:int}>%{NONNEGINT:syslog.version:int} (?:-|%{TIMESTAMP_ISO8601:timestamp}) (?:-|%{IPORHOST:host}) (?:-|%{NOTSPACE:service}) (?:-|%{NOTSPACE:process.pid}) (?:-|%{NOTSPACE:syslog.msgid}) (?:-|%{SD:syslog.structured_data})(?: %{GREEDYDATA:message})?$",
                    r"(?:<%{NONNEGINT:syslog.priority:int}>)?%{SYSLOGTIMESTAMP:timestamp} %{IPORHOST:host} %{PROG:service}(?:\[%{POSINT:process.pid:int}\])?: ?%{GREEDYDATA:message}",
                ], "definitions": { "SD": r#"(?:\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])+"#, "PROG": r"[\x21-\x39\x3b-\x5a\x5c\x5e-\x7e]+" } } }),
                json!({ "map_level": { "field": "syslog.priority", "map": syslog_priorities() } }),
            ],
        ),
        (
            "journald",
            1,
            "journald JSON export (`journalctl -o json`)",
            r#"{"__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"web-1","SYSLOG_IDENTIFIER":"sshd","_PID":"4242","PRIORITY":"4","_SYSTEMD_UNIT":"ssh.service","MESSAGE":"Connection closed by 203.0.113.9"}"#,
            &["process.pid", "systemd.unit", "journald.priority"],
            vec![
                json!({ "parse": { "with": "json", "ignore_failure": true } }),
                json!({ "rename": { "from": "MESSAGE", "to": "message" } }),
                json!({ "rename": { "from": "_HOSTNAME", "to": "host" } }),
                json!({ "rename": { "from": "SYSLOG_IDENTIFIER", "to": "service" } }),
                json!({ "rename": { "from": "_SYSTEMD_UNIT", "to": "systemd.unit" } }),
                json!({ "rename": { "from": "_PID", "to": "process.pid" } }),
                json!({ "convert": { "field": "process.pid", "to": "int" } }),
                json!({ "convert": { "field": "__REALTIME_TIMESTAMP", "to": "timestamp" } }),
                json!({ "remove": { "fields": ["__REALTIME_TIMESTAMP"] } }),
                json!({ "rename": { "from": "PRIORITY", "to": "journald.priority" } }),
                json!({ "map_level": { "field": "journald.priority" } }),
            ],
        ),
        (
            "kubernetes_cri",
            1,
            "Kubernetes container log line (CRI: containerd, CRI-O)",
            "2023-11-14T22:13:20.123456789Z stderr F panic: runtime error: index out of range [3] with length 2",
            &["stream", "cri.tag"],
            vec![json!({ "parse": { "with": "grok", "patterns": [r"%{TIMESTAMP_ISO8601:timestamp} %{WORD:stream} %{WORD:cri.tag} %{GREEDYDATA:message}"] } })],
        ),
        (
            "docker_json",
            1,
            "Docker json-file container log line",
            r#"{"log":"GET /healthz 200\n","stream":"stdout","time":"2023-11-14T22:13:20.123456789Z"}"#,
            &["stream"],
            vec![json!({ "parse": { "with": "json", "ignore_failure": true } })],
        ),
        (
            "log4j",
            2,
            "log4j, log4j2 and logback layouts, with those of Kafka, ZooKeeper, Hadoop, HDFS, Spark and Spring Boot",
            "2023-11-14 22:13:20,123 ERROR [http-nio-8080-exec-1] com.example.shop.OrderService - Payment declined for order 7",
            &["thread", "log.logger", "process.pid", "log.line", "zookeeper.myid"],
            grok(
                &[
                    // Kafka: [%d] %p %m (%c)
                    r"\[%{JAVATS:timestamp}\] %{LOGLEVEL:level_original} %{GREEDYDATA:message} \(%{JAVACLASS:log.logger}\)$",
                    // ZooKeeper: %d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m (3.4: no myid)
                    r"%{JAVATS:timestamp} (?:\[myid:%{DATA:zookeeper.myid}\] )?- %{LOGLEVEL:level_original} +\[%{DATA:thread}:%{JAVACLASS:log.logger}@%{INT:log.line:int}\] - %{GREEDYDATA:message}",
                    // Spring Boot: 2023-11-14T22:13:20.123Z  INFO 1234 --- [app] [main] c.e.App : msg
                    r"%{JAVATS:timestamp} +%{LOGLEVEL:level_original} %{INT:process.pid:int} --- (?:\[%{DATA:service}\] )?\[ *%{DATA:thread}\] %{NOTSPACE:log.logger} +: %{GREEDYDATA:message}",
                    // %d %-5p [%t] %c - %m (log4j's common layout, logback's with a date)
                    r"%{JAVATS:timestamp} +%{LOGLEVEL:level_original} +\[%{DATA:thread}\] +%{NOTSPACE:log.logger} +- %{GREEDYDATA:message}",
                    // %d [%t] %-5p %c - %m
                    r"%{JAVATS:timestamp} +\[%{DATA:thread}\] +%{LOGLEVEL:level_original} +%{NOTSPACE:log.logger} +- %{GREEDYDATA:message}",
                    // Hadoop MapReduce and YARN containers: %d{ISO8601} %p [%t] %c: %m
                    r"%{JAVATS:timestamp} +%{LOGLEVEL:level_original} +\[%{DATA:thread}\] +%{NOTSPACE:log.logger}: %{GREEDYDATA:message}",
                    // Hadoop %d{ISO8601} %p %c: %m and Spark %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m
                    r"%{JAVATS:timestamp} +%{LOGLEVEL:level_original} +%{NOTSPACE:log.logger}: %{GREEDYDATA:message}",
                    // HDFS (yyMMdd HHmmss pid level component: message)
                    r"%{HDFSTS:timestamp} %{INT:process.pid:int} %{LOGLEVEL:level_original} %{NOTSPACE:log.logger}: %{GREEDYDATA:message}",
                    // log4j2's and logback's defaults carry only the time of day: the event keeps its receipt date.
                    r"%{TIME:time_of_day} \[%{DATA:thread}\] %{LOGLEVEL:level_original} +%{NOTSPACE:log.logger} - %{GREEDYDATA:message}",
                ],
                json!({ "JAVATS": r"%{TIMESTAMP_ISO8601}|\d\d/\d\d/\d\d %{TIME}", "HDFSTS": r"\d{6} \d{6}" }),
            ),
        ),
        (
            "python",
            1,
            "Python logging (default and asctime formats), uvicorn and gunicorn",
            "2023-11-14 22:13:20,123 - app.db - WARNING - connection pool exhausted, waiting",
            &["log.logger", "process.pid", "client.ip", "client.port", "http.request.method", "url.original", "http.response.status_code"],
            grok(
                &[
                    r"\[%{TIMESTAMP_ISO8601:timestamp}(?: %{ISO8601_TIMEZONE:tz})?\] \[%{INT:process.pid:int}\] \[%{LOGLEVEL:level_original}\] %{GREEDYDATA:message}",
                    r#"%{LOGLEVEL:level_original}: +%{IPORHOST:client.ip}:%{INT:client.port:int} - "%{WORD:http.request.method} %{NOTSPACE:url.original} HTTP/%{NUMBER:http.version}" %{INT:http.response.status_code:int}(?: %{GREEDYDATA:http.response.status_text})?"#,
                    r"%{TIMESTAMP_ISO8601:timestamp} - %{PYTHONLOGGER:log.logger} - %{LOGLEVEL:level_original} - %{GREEDYDATA:message}",
                    r"%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level_original} %{PYTHONLOGGER:log.logger}: %{GREEDYDATA:message}",
                    r"%{LOGLEVEL:level_original}:%{PYTHONLOGGER:log.logger}:%{GREEDYDATA:message}",
                    r"%{LOGLEVEL:level_original}: +%{GREEDYDATA:message}",
                ],
                json!({}),
            ),
        ),
        (
            "logfmt",
            1,
            "logfmt (Go services, Heroku, Grafana tools)",
            r#"ts=2023-11-14T22:13:20.123Z level=warn caller=main.go:42 msg="slow query" duration=1.5s rows=120"#,
            &["(every key)"],
            vec![json!({ "parse": { "with": "logfmt" } })],
        ),
        (
            "json",
            1,
            "JSON lines inside another transport (zap, logrus, pino, structlog)",
            r#"{"level":"error","ts":1700000000.123,"caller":"orders/handler.go:88","msg":"payment failed","order_id":7}"#,
            &["(every key)"],
            vec![json!({ "parse": { "with": "json", "ignore_failure": true } })],
        ),
        (
            "postgresql",
            1,
            "PostgreSQL server log (stderr; default and common log_line_prefix)",
            r#"2023-11-14 22:13:20.123 UTC [4242] user=app,db=shop,app=psql,client=10.0.0.7 ERROR:  relation "orderz" does not exist at character 15"#,
            &["process.pid", "user.name", "postgresql.database", "postgresql.application", "client.ip", "postgresql.line"],
            grok(
                &[r"%{PGTS:timestamp}(?: UTC| %{WORD:postgresql.timezone})? \[%{INT:process.pid:int}\](?::? \[%{INT:postgresql.line:int}-%{INT}\])?(?: user=%{PGVAL:user.name},db=%{PGVAL:postgresql.database}(?:,app=%{PGVAL:postgresql.application})?(?:,client=%{PGVAL:client.ip})?)? %{PGLEVEL:level_original}: +%{GREEDYDATA:message}"],
                json!({ "PGTS": r"\d{4}-\d\d-\d\d %{TIME}", "PGVAL": "[^,]*?", "PGLEVEL": "DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|LOCATION" }),
            ),
        ),
        (
            "mysql_error",
            1,
            "MySQL and MariaDB error log (5.7 and 8.x)",
            "2023-11-14T22:13:20.123456Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.35) starting as process 1",
            &["mysql.thread_id", "mysql.error_code", "mysql.subsystem"],
            grok(
                &[r"%{TIMESTAMP_ISO8601:timestamp} %{INT:mysql.thread_id:int} \[%{WORD:level_original}\](?: \[%{NOTSPACE:mysql.error_code}\] \[%{WORD:mysql.subsystem}\])? %{GREEDYDATA:message}"],
                json!({}),
            ),
        ),
        (
            "redis",
            1,
            "Redis server log",
            "1:M 14 Nov 2023 22:13:20.123 # WARNING Memory overcommit must be enabled!",
            &["process.pid", "redis.role"],
            grok(
                &[r"%{INT:process.pid:int}:%{WORD:redis.role} %{REDISTS:timestamp} %{REDISLEVEL:level_original} %{GREEDYDATA:message}"],
                json!({ "REDISTS": "%{MONTHDAY} %{MONTH} %{YEAR} %{TIME}", "REDISLEVEL": r"[.\-*#]" }),
            ),
        ),
        (
            "haproxy_http",
            1,
            "HAProxy HTTP log (option httplog)",
            r#"Nov 14 22:13:20 lb-1 haproxy[3110]: 203.0.113.9:51234 [14/Nov/2023:22:13:20.123] http-in~ shop/web-2 0/0/1/12/13 200 2750 - - ---- 3/3/0/0/0 0/0 "GET /cart HTTP/1.1""#,
            &["client.ip", "client.port", "haproxy.frontend", "haproxy.backend", "haproxy.server", "haproxy.total_ms", "http.response.status_code", "http.response.body.bytes", "haproxy.termination_state", "http.request.method", "url.original"],
            vec![json!({ "parse": { "with": "grok", "patterns": [
                r#"(?:%{SYSLOGTIMESTAMP} %{IPORHOST:host} %{NOTSPACE:service}: )?%{IPORHOST:client.ip}:%{INT:client.port:int} \[%{HAPROXYDATE:timestamp}\] %{NOTSPACE:haproxy.frontend} (?<haproxy.backend>[^/ ]+)/%{NOTSPACE:haproxy.server} %{INT:haproxy.request_ms:int}/%{INT:haproxy.queue_ms:int}/%{INT:haproxy.connect_ms:int}/%{INT:haproxy.response_ms:int}/\+?%{INT:haproxy.total_ms:int} %{INT:http.response.status_code:int} \+?%{INT:http.response.body.bytes:int} %{NOTSPACE} %{NOTSPACE} %{NOTSPACE:haproxy.termination_state} %{INT}/%{INT}/%{INT}/%{INT}/\+?%{INT} %{INT}/%{INT}(?: \{%{DATA:haproxy.captured_headers}\})* "(?:%{WORD:http.request.method} %{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{QTEXT:http.request.raw})""#,
            ], "definitions": { "HAPROXYDATE": r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d(?:\.\d+)?" } } })],
        ),
        (
            "envoy_access",
            1,
            "Envoy and Istio access log (default format)",
            r#"[2023-11-14T22:13:20.123Z] "GET /api/orders HTTP/1.1" 503 UF 0 91 25 - "203.0.113.9" "curl/8.4.0" "4f1c2a9e-7d6b-4e7a-9a61-3c1f0e2d8b11" "orders.shop.svc" "10.0.3.7:8080""#,
            &["http.request.method", "url.original", "http.response.status_code", "envoy.response_flags", "http.request.body.bytes", "http.response.body.bytes", "event.duration_ms", "http.forwarded_for", "user_agent.original", "http.request.id", "url.domain", "envoy.upstream_host"],
            vec![json!({ "parse": { "with": "grok", "patterns": [
                r#"\[%{TIMESTAMP_ISO8601:timestamp}\] "(?:%{WORD:http.request.method} %{NOTSPACE:url.original} %{NOTSPACE:network.protocol}|-)" %{INT:http.response.status_code:int} %{NOTSPACE:envoy.response_flags} %{INT:http.request.body.bytes:int} %{INT:http.response.body.bytes:int} %{INT:event.duration_ms:int} (?:%{INT:envoy.upstream_service_time_ms:int}|-) "%{QTEXT:http.forwarded_for}" "%{QTEXT:user_agent.original}" "%{QTEXT:http.request.id}" "%{QTEXT:url.domain}" "%{QTEXT:envoy.upstream_host}"(?: %{GREEDYDATA:envoy.extra})?"#,
            ] } })],
        ),
        (
            "aws_alb",
            2,
            "AWS Application Load Balancer access log",
            r#"https 2023-11-14T22:13:20.123456Z app/shop-lb/50dc6c495c0c9188 203.0.113.9:51234 10.0.3.7:80 0.000 0.012 0.000 200 200 154 2750 "GET https://shop.example:443/cart HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "shop.example" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2023-11-14T22:13:20.110000Z "forward" "-" "-" "10.0.3.7:80" "200" "-" "-""#,
            &["aws.alb.type", "aws.alb.name", "client.address", "client.ip", "client.port", "aws.alb.target", "http.response.status_code", "aws.alb.target_status_code", "http.request.body.bytes", "http.response.body.bytes", "http.request.method", "url.original", "user_agent.original", "tls.cipher", "tls.protocol", "aws.alb.trace_id", "url.domain"],
            // 25 fields over ~500 bytes: dissect reads them at the speed of a substring search,
            // where grok's backtracking cost several times more. The two fields with inner
            // structure are split by their own step, on their own short text.
            vec![
                json!({ "parse": { "with": "dissect", "patterns": [
                    format!("{ALB} %{{aws.alb.extra}}"),
                    ALB.to_owned(),
                ] } }),
                // ECS's `client.address` keeps the address as written, in case it splits in neither way.
                json!({ "parse": { "with": "dissect", "field": "client.address", "patterns": ["[%{client.ip}]:%{client.port:int}", "%{client.ip}:%{client.port:int}"], "ignore_failure": true } }),
                json!({ "parse": { "with": "grok", "field": "aws.alb.request", "patterns": ["^(?:%{WORD:http.request.method} %{NOTSPACE:url.original} %{NOTSPACE:network.protocol}|-.*)$"] } }),
                json!({ "remove": { "fields": ["aws.alb.request"] } }),
            ],
        ),
        (
            "aws_vpc_flow",
            1,
            "AWS VPC flow log (default format, version 2)",
            "2 123456789012 eni-0a1b2c3d4e5f67890 203.0.113.9 10.0.3.7 51234 443 6 10 8400 1700000000 1700000060 ACCEPT OK",
            &["cloud.account.id", "aws.vpc.interface_id", "source.ip", "destination.ip", "source.port", "destination.port", "network.iana_number", "source.packets", "source.bytes", "aws.vpc.end", "event.action", "aws.vpc.log_status"],
            vec![
                json!({ "parse": { "with": "grok", "patterns": [
                    r"%{INT:aws.vpc.version:int} %{NOTSPACE:cloud.account.id} %{NOTSPACE:aws.vpc.interface_id} %{NOTSPACE:source.ip} %{NOTSPACE:destination.ip} (?:%{INT:source.port:int}|-) (?:%{INT:destination.port:int}|-) (?:%{INT:network.iana_number:int}|-) (?:%{INT:source.packets:int}|-) (?:%{INT:source.bytes:int}|-) %{INT:timestamp} %{INT:aws.vpc.end:int} %{NOTSPACE:event.action} %{WORD:aws.vpc.log_status}$",
                ] } }),
                json!({ "map_level": { "field": "event.action", "map": { "accept": "info", "reject": "warn", "-": "info" } } }),
            ],
        ),
        (
            "aws_cloudtrail",
            1,
            "AWS CloudTrail record (JSON, one record per event)",
            r#"{"eventVersion":"1.08","eventTime":"2023-11-14T22:13:20Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.13.0","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012"},"errorCode":"AccessDenied","errorMessage":"Access Denied","requestID":"F2B7E8D5C1A3","eventID":"2f3c1d1e-1234-4f5a-9bcd-0123456789ab"}"#,
            &["event.action", "event.provider", "cloud.region", "source.ip", "user_agent.original", "user.id", "cloud.account.id", "error.code", "error.message", "http.request.id", "event.id"],
            vec![
                json!({ "parse": { "with": "json", "ignore_failure": true } }),
                json!({ "rename": { "from": "eventName", "to": "event.action" } }),
                json!({ "rename": { "from": "eventSource", "to": "event.provider" } }),
                json!({ "rename": { "from": "awsRegion", "to": "cloud.region" } }),
                json!({ "rename": { "from": "sourceIPAddress", "to": "source.ip" } }),
                json!({ "rename": { "from": "userAgent", "to": "user_agent.original" } }),
                json!({ "rename": { "from": "userIdentity.arn", "to": "user.id" } }),
                json!({ "rename": { "from": "userIdentity.accountId", "to": "cloud.account.id" } }),
                json!({ "rename": { "from": "errorCode", "to": "error.code" } }),
                json!({ "rename": { "from": "errorMessage", "to": "error.message" } }),
                json!({ "rename": { "from": "requestID", "to": "http.request.id" } }),
                json!({ "rename": { "from": "eventID", "to": "event.id" } }),
                json!({ "set": { "field": "service", "value": "cloudtrail", "if_absent": true } }),
            ],
        ),
        (
            "android_logcat",
            1,
            "Android logcat (threadtime)",
            "11-14 22:13:20.123  1234  5678 E ActivityManager: ANR in com.example.shop (com.example.shop/.MainActivity)",
            &["process.pid", "process.thread.id", "log.logger"],
            grok(
                &[r"%{LOGCATTS:timestamp} +%{INT:process.pid:int} +%{INT:process.thread.id:int} %{WORD:level_original} %{DATA:log.logger} *: %{GREEDYDATA:message}"],
                json!({ "LOGCATTS": r"\d\d-\d\d %{TIME}" }),
            ),
        ),
        (
            "openstack",
            2,
            "OpenStack services (oslo.log)",
            "2023-11-14 22:13:20.123 4242 INFO nova.compute.manager [req-3f5c0a6e-0b1d-4a41-9d6e-2b7c5f0e9a11 admin demo - - -] [instance: 8d5c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f] Took 5.12 seconds to spawn the instance",
            &["process.pid", "log.logger", "http.request.id", "openstack.context", "openstack.instance"],
            grok(
                &[r"%{TIMESTAMP_ISO8601:timestamp} %{INT:process.pid:int} %{LOGLEVEL:level_original} %{NOTSPACE:log.logger} (?:\[(?:%{REQID:http.request.id} ?)?%{DATA:openstack.context}\] )?%{OSMESSAGE:message}"],
                // `[instance: …] ` is oslo's context, but read as part of the message by people
                // and by log corpora: it stays there, and its id is a field too.
                json!({ "REQID": r"req-[0-9a-fA-F-]+", "OSMESSAGE": r"(?:\[instance: %{UUID:openstack.instance}\] )?.*" }),
            ),
        ),
        (
            "windows_cbs",
            2,
            "Windows CBS and servicing text logs (CBS.log)",
            "2023-11-14 22:13:20, Info                  CBS    Loaded Servicing Stack v10.0.19041.3570 with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack\\cbscore.dll",
            &["log.logger"],
            grok(&[r"%{TIMESTAMP_ISO8601:timestamp}, %{WORD:level_original} +%{WORD:log.logger} +%{GREEDYDATA:message}"], json!({})),
        ),
    ]
}

/// Syslog PRI values (facility × 8 + severity) → level names.
fn syslog_priorities() -> Value {
    let names = ["fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug"];
    Value::Object((0..192).map(|p| (p.to_string(), Value::from(names[p % 8]))).collect())
}

/// Presets that read many formats' lines (syslog wraps other formats; logfmt and JSON are
/// containers): detection prefers any specific preset that reads a line as well.
const GENERIC: &[&str] = &["syslog", "logfmt", "json"];

/// Every preset NexusLog ships, in the order detection prefers them: specific formats first.
pub fn presets() -> &'static [Preset] {
    static PRESETS: OnceLock<Vec<Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| {
        let mut entries = build();
        entries.sort_by_key(|e| GENERIC.contains(&e.0));
        entries
            .into_iter()
            .map(|(name, version, title, example, fields, steps)| Preset {
                name,
                version,
                title,
                example,
                fields,
                // The presets are this file's constants; the unit tests compile every one.
                steps: steps.into_iter().filter_map(|s| serde_json::from_value(s).ok()).map(spanning_lines).collect(),
            })
            .collect()
    })
}

/// A preset's grok patterns read a joined multiline event (a log line and its stack trace) as
/// one text: `.` spans lines (`(?s)`, Logstash's `(?m)`), so `%{GREEDYDATA:message}` keeps the
/// trace in the message.
///
/// They also get lighter stand-ins for patterns that made the regex engine's capture search
/// (a backtracker) the largest cost per line; the lines around each field keep a preset's match
/// strict (the detection tests check no preset takes another's lines):
/// - `IPORHOST` and `IP`: the stock ones expand to the whole IPv6 grammar, tried on every
///   address;
/// - `QTEXT` (text between quotes, which may itself hold quotes) and `CTEXT` (text before a
///   suffix that starts with a comma) read what `DATA` reads under `(?s)`, but extend past a
///   quote or a comma only when the rest fails, where `DATA` retries the rest after every
///   character.
fn spanning_lines(step: Step) -> Step {
    match step {
        Step::Parse(mut p) if p.with == crate::rules::ParserKind::Grok => {
            p.patterns = p.patterns.into_iter().map(|x| format!("(?s){x}")).collect();
            for (name, definition) in LIGHT {
                p.definitions.entry((*name).into()).or_insert_with(|| (*definition).into());
            }
            Step::Parse(p)
        }
        other => other,
    }
}

const LIGHT: &[(&str, &str)] = &[
    // An IPv6 address (it has a colon, maybe in brackets), else an IPv4 address or host name.
    ("IPORHOST", r"\[?[0-9A-Fa-f]*:[0-9A-Fa-f:.%]*\]?|[0-9A-Za-z][0-9A-Za-z.-]*"),
    // The same IPv6 shape, else a strict IPv4 address.
    ("IP", r"\[?[0-9A-Fa-f]*:[0-9A-Fa-f:.%]*\]?|%{IPV4}"),
    // Only ASCII whitespace ends it: `\S` compiles to a far larger automaton (every Unicode
    // space), which the backtracker pays for on every byte.
    ("NOTSPACE", r"[^ \t\r\n\x0b\x0c]+"),
    ("QTEXT", r#"[^"]*(?:"[^"]*)*?"#),
    ("CTEXT", r"[^,]*(?:,[^,]*)*?"),
];

/// For presets whose steps succeed on almost any line (JSON shapes, logfmt): a pattern a line
/// must contain for detection to count it as theirs.
pub fn detect_hint(name: &str) -> Option<&'static str> {
    Some(match name {
        "journald" => r#""__REALTIME_TIMESTAMP"\s*:"#,
        "docker_json" => r#"^\s*\{\s*"log"\s*:.*"stream"\s*:"#,
        "aws_cloudtrail" => r#""eventSource"\s*:.*"eventName"\s*:|"eventName"\s*:.*"eventSource"\s*:"#,
        "json" => r"^\s*\{",
        "logfmt" => r#"^\s*[A-Za-z_][\w.]*=(?:"[^"]*"|\S*)(?:\s+[A-Za-z_][\w.]*=(?:"[^"]*"|\S*))+\s*$"#,
        _ => return None,
    })
}

/// The preset of that name.
pub fn preset(name: &str) -> Option<&'static Preset> {
    presets().iter().find(|p| p.name == name)
}

/// How well one preset reads a set of sample lines.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub preset: &'static str,
    pub version: u32,
    pub title: &'static str,
    /// Lines the preset parsed completely (every step succeeded, nothing left partial).
    pub parsed: usize,
    pub lines: usize,
    /// `parsed / lines`.
    pub share: f64,
    /// Fields extracted per parsed line: among presets that parse as many lines, the one that
    /// explains more of each comes first.
    pub fields_per_line: f64,
    /// Indexes of the first few lines it parsed, for a preview.
    pub examples: Vec<usize>,
}

/// Lines read as HTTP text or JSON events, as they would arrive.
fn sample(line: &str, received_at: i64) -> nexuslog_schemas::RawEvent {
    nexuslog_schemas::RawEvent {
        ingest_id: "detect".into(),
        project_id: "detect".into(),
        source: nexuslog_schemas::SourceKind::Http,
        received_at,
        remote_addr: None,
        payload: line.as_bytes().to_vec(),
        metadata: Default::default(),
    }
}

/// One compiled single-rule pipeline per preset, and its detection hint, made once.
fn compiled() -> &'static [(&'static Preset, crate::Pipeline, Option<regex::Regex>)] {
    static COMPILED: OnceLock<Vec<(&'static Preset, crate::Pipeline, Option<regex::Regex>)>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        presets()
            .iter()
            .filter_map(|p| {
                let spec: crate::RuleSpec = serde_json::from_value(json!({ "name": p.name, "steps": [ { "preset": p.name } ] })).ok()?;
                let pipeline = crate::Pipeline::compile([(p.name, &spec)], 0).ok()?;
                let hint = detect_hint(p.name).and_then(|h| regex::Regex::new(h).ok());
                Some((p, pipeline, hint))
            })
            .collect()
    })
}

/// The compiled one-rule pipeline that runs preset `name` (compiled once per process).
pub fn pipeline(name: &str) -> Option<&'static crate::Pipeline> {
    compiled().iter().find(|(p, _, _)| p.name == name).map(|(_, pipeline, _)| pipeline)
}

/// Whether `pipeline` (one preset) parses `line` completely, and then how many fields the
/// record has.
fn parses(pipeline: &crate::Pipeline, hint: Option<&regex::Regex>, line: &str, received_at: i64) -> Option<usize> {
    if hint.is_some_and(|h| !h.is_match(line)) {
        return None;
    }
    let mut trace = Vec::new();
    match crate::process(&sample(line, received_at), pipeline, Some(&mut trace)) {
        Ok(crate::Outcome::Record(r)) if r.parse_status == nexuslog_schemas::ParseStatus::Ok && trace.iter().all(|t| t.matched && t.steps.iter().all(|s| s.ok)) => {
            Some(r.fields.len())
        }
        _ => None,
    }
}

/// The presets that parse any of `lines`, best first: by the share of lines parsed completely,
/// then in [`presets`] order (specific formats before generic ones).
pub fn detect(lines: &[String], received_at: i64) -> Vec<Detection> {
    let mut found: Vec<Detection> = compiled()
        .iter()
        .filter_map(|(p, pipeline, hint)| {
            let mut ok = Vec::new();
            let mut fields = 0;
            for (i, line) in lines.iter().enumerate() {
                if let Some(n) = parses(pipeline, hint.as_ref(), line, received_at) {
                    ok.push(i);
                    fields += n;
                }
            }
            (!ok.is_empty()).then(|| Detection {
                fields_per_line: fields as f64 / ok.len() as f64,
                preset: p.name,
                version: p.version,
                title: p.title,
                parsed: ok.len(),
                lines: lines.len(),
                share: ok.len() as f64 / lines.len() as f64,
                examples: ok.into_iter().take(3).collect(),
            })
        })
        .collect();
    // Among equal shares a specific preset beats a generic one, then the one that explains
    // more of each line (more fields); a stable sort keeps the catalogue's order after that.
    let generic = |d: &Detection| GENERIC.contains(&d.preset);
    found.sort_by(|a, b| b.share.total_cmp(&a.share).then(generic(a).cmp(&generic(b))).then(b.fields_per_line.total_cmp(&a.fields_per_line)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `presets()` skips a step that does not deserialize; none may.
    #[test]
    fn every_step_of_every_preset_is_valid() {
        for (name, _, _, _, _, steps) in build() {
            for step in steps {
                assert!(serde_json::from_value::<Step>(step.clone()).is_ok(), "{name}: {step}");
            }
        }
        let names: std::collections::HashSet<_> = presets().iter().map(|p| p.name).collect();
        assert_eq!(names.len(), presets().len(), "names are unique");
    }
}
