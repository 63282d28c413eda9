//! Real-format lines (`tests/corpus/*.log`) from the sources NexusLog meets, every field
//! asserted with its value and type, line by line. The same files seed the fuzz targets.
#![allow(clippy::unwrap_used)]

use nexuslog_parsers::grok::{Grok, GrokLibrary, GrokSet};
use nexuslog_parsers::infer::infer;
use nexuslog_parsers::kv::{self, KvOptions};
use nexuslog_parsers::{logfmt, FieldValue, LogfmtErrorKind, ParserError};

type Fields = Vec<(String, FieldValue)>;

fn s(v: &str) -> FieldValue {
    FieldValue::String(v.to_owned())
}

fn l(v: i64) -> FieldValue {
    FieldValue::Long(v)
}

macro_rules! fields {
    ($($k:literal => $v:expr),* $(,)?) => { vec![$(($k.to_owned(), $v)),*] };
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn compile(pattern: &str) -> Grok {
    GrokLibrary::standard().compile(pattern).unwrap()
}

/// Asserts `grok` on every line of `text` against `expected`, one entry per line.
fn check_lines(grok: &Grok, text: &str, expected: Vec<Option<Fields>>) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "one expectation per line");
    for (line, expected) in lines.into_iter().zip(expected) {
        assert_eq!(
            grok.parse(line),
            expected,
            "{} on {line:?}",
            grok.pattern_source()
        );
    }
}

const NGINX: &str = include_str!("corpus/nginx_access.log");
const APACHE: &str = include_str!("corpus/apache_access.log");
const SYSLOG: &str = include_str!("corpus/syslog.log");
const LOGFMT: &str = include_str!("corpus/logfmt.log");
const KV: &str = include_str!("corpus/kv.log");
const JAVA: &str = include_str!("corpus/java.log");
const PYTHON: &str = include_str!("corpus/python.log");

#[test]
fn nginx_combined_access_log() {
    let ts = |t: &str| s(&format!("12/Mar/2024:10:15:{t}"));
    let dash = || s("\"-\"");
    let expected = vec![
        Some(fields! {
            "clientip" => s("93.184.216.34"), "ident" => s("-"), "auth" => s("-"),
            "timestamp" => ts("32 +0000"), "verb" => s("GET"), "request" => s("/index.html"),
            "httpversion" => s("1.1"), "response" => l(200), "bytes" => l(612),
            "referrer" => dash(),
            "agent" => s("\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36\""),
        }),
        Some(fields! {
            "clientip" => s("2001:db8:85a3::8a2e:370:7334"), "ident" => s("-"),
            "auth" => s("alice"), "timestamp" => ts("33 +0100"), "verb" => s("POST"),
            "request" => s("/api/v1/orders?expand=items&limit=10"), "httpversion" => s("2.0"),
            "response" => l(201), "bytes" => l(1534),
            "referrer" => s("\"https://shop.example.com/cart?step=2\""),
            "agent" => s("\"curl/8.5.0\""),
        }),
        // `-` bytes: the field is absent, not "-" and not 0.
        Some(fields! {
            "clientip" => s("10.0.0.7"), "ident" => s("-"), "auth" => s("-"),
            "timestamp" => ts("34 +0000"), "verb" => s("HEAD"), "request" => s("/healthz"),
            "httpversion" => s("1.1"), "response" => l(304), "referrer" => dash(),
            "agent" => s("\"kube-probe/1.29\""),
        }),
        // nginx writes a `"` inside a value as \x22.
        Some(fields! {
            "clientip" => s("198.51.100.23"), "ident" => s("-"), "auth" => s("-"),
            "timestamp" => ts("35 +0000"), "verb" => s("GET"),
            "request" => s("/search?q=%22rust%22&lang=en"), "httpversion" => s("1.1"),
            "response" => l(404), "bytes" => l(153), "referrer" => dash(),
            "agent" => s(r#""Mozilla/5.0 (compatible; ExampleBot/2.1; +http://example.com/bot) \x22quoted\x22""#),
        }),
        // A TLS handshake sent to the HTTP port: no verb, the request is raw.
        Some(fields! {
            "clientip" => s("203.0.113.9"), "ident" => s("-"), "auth" => s("-"),
            "timestamp" => ts("36 +0000"),
            "rawrequest" => s(r"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03"),
            "response" => l(400), "bytes" => l(157), "referrer" => dash(), "agent" => dash(),
        }),
        // An empty request: the empty rawrequest is left out.
        Some(fields! {
            "clientip" => s("::1"), "ident" => s("-"), "auth" => s("-"),
            "timestamp" => ts("37 +0000"), "response" => l(400), "bytes" => l(0),
            "referrer" => dash(), "agent" => dash(),
        }),
    ];
    let nginx = compile("^%{NGINXACCESS}$");
    check_lines(&nginx, NGINX, expected.clone());
    // Same format, same fields under the Logstash names.
    check_lines(&compile("^%{COMBINEDAPACHELOG}$"), NGINX, expected);
    assert_eq!(
        nginx.field_names(),
        [
            "clientip",
            "ident",
            "auth",
            "timestamp",
            "verb",
            "request",
            "httpversion",
            "rawrequest",
            "response",
            "bytes",
            "referrer",
            "agent"
        ]
    );
    assert_eq!(nginx.parse("not an access log line"), None);
}

#[test]
fn apache_common_and_combined_through_one_grok_set() {
    let set = GrokSet::compile(
        &GrokLibrary::standard(),
        &[
            "^%{COMBINEDAPACHELOG}$".to_owned(),
            "^%{COMMONAPACHELOG}$".to_owned(),
        ],
    )
    .unwrap();
    let frank = || {
        fields! {
            "clientip" => s("127.0.0.1"), "ident" => s("-"), "auth" => s("frank"),
            "timestamp" => s("10/Oct/2000:13:55:36 -0700"), "verb" => s("GET"),
            "request" => s("/apache_pb.gif"), "httpversion" => s("1.0"),
            "response" => l(200), "bytes" => l(2326),
        }
    };
    let mut frank_combined = frank();
    frank_combined.push((
        "referrer".to_owned(),
        s("\"http://www.example.com/start.html\""),
    ));
    frank_combined.push((
        "agent".to_owned(),
        s("\"Mozilla/4.08 [en] (Win98; I ;Nav)\""),
    ));
    let expected = vec![
        Some((1, frank())),
        Some((
            1,
            fields! {
                "clientip" => s("192.0.2.10"), "ident" => s("-"),
                "auth" => s("jane.doe@example.org"),
                "timestamp" => s("05/Feb/2024:08:01:02 +0000"), "verb" => s("DELETE"),
                "request" => s("/api/items/9"), "httpversion" => s("1.1"), "response" => l(204),
            },
        )),
        Some((0, frank_combined)),
        // Apache escapes `"` as \" inside the quoted user agent; QS keeps it as written.
        Some((
            0,
            fields! {
                "clientip" => s("www.example.net"), "ident" => s("-"), "auth" => s("-"),
                "timestamp" => s("05/Feb/2024:08:01:03 +0000"), "verb" => s("GET"),
                "request" => s("/wp-login.php"), "httpversion" => s("1.1"),
                "response" => l(404), "bytes" => l(196), "referrer" => s("\"-\""),
                "agent" => s(r#""Mozilla/5.0 \"sqlmap\" (+https://sqlmap.org)""#),
            },
        )),
    ];
    let lines: Vec<&str> = APACHE.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (line, expected) in lines.into_iter().zip(expected) {
        assert_eq!(set.parse(line), expected, "{line:?}");
    }
}

#[test]
fn apache_24_error_log() {
    let grok = compile("^%{HTTPD_ERRORLOG}$");
    let line = "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] \
        [client 72.15.99.187:51234] AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico";
    assert_eq!(
        grok.parse(line),
        Some(fields! {
            "timestamp" => s("Wed Oct 11 14:32:52.123456 2000"), "module" => s("core"),
            "loglevel" => s("error"), "pid" => l(35708), "tid" => s("4328636416"),
            "clientip" => s("72.15.99.187"), "clientport" => l(51234),
            "errorcode" => s("AH00128"),
            "message" => s("File does not exist: /usr/local/apache2/htdocs/favicon.ico"),
        })
    );
}

#[test]
fn rfc3164_syslog_through_syslogbase() {
    let grok = compile("^%{SYSLOGBASE} %{GREEDYDATA:message}$");
    check_lines(
        &grok,
        SYSLOG,
        vec![
            Some(fields! {
                "timestamp" => s("Mar  7 04:02:16"), "logsource" => s("web-01"),
                "program" => s("sshd"), "pid" => l(21458),
                "message" => s("Accepted publickey for deploy from 192.0.2.44 port 52144 ssh2: ED25519 SHA256:Yw8p"),
            }),
            Some(fields! {
                "timestamp" => s("Oct 11 22:14:15"), "logsource" => s("mymachine"),
                "program" => s("su"),
                "message" => s("'su root' failed for lonvick on /dev/pts/8"),
            }),
            Some(fields! {
                "timestamp" => s("Mar 12 10:15:32"), "logsource" => s("10.0.0.5"),
                "program" => s("kernel"), "message" => s("[12345.678901] eth0: link up"),
            }),
            Some(fields! {
                "timestamp" => s("Mar 12 10:15:32"), "facility" => l(4), "priority" => l(3),
                "logsource" => s("fw01"), "program" => s("CRON"), "pid" => l(1234),
                "message" => s("(root) CMD (run-parts /etc/cron.hourly)"),
            }),
        ],
    );
}

#[test]
fn logfmt_heroku_go_kit_and_grafana_lines() {
    let lines: Vec<&str> = LOGFMT.lines().collect();
    assert_eq!(lines.len(), 3);

    let heroku = logfmt::parse(lines[0]).unwrap();
    assert_eq!(
        heroku,
        pairs(&[
            ("at", "info"),
            ("method", "GET"),
            ("path", "/api/users?id=42"),
            ("host", "myapp.herokuapp.com"),
            ("request_id", "8601b555-6a83-4c12-8269-97c8e32cdb22"),
            ("fwd", "204.204.204.204"),
            ("dyno", "web.1"),
            ("connect", "1ms"),
            ("service", "18ms"),
            ("status", "200"),
            ("bytes", "13"),
            ("protocol", "https"),
        ])
    );
    let typed: Vec<FieldValue> = heroku.iter().map(|(_, v)| infer(v)).collect();
    assert_eq!(typed[9], l(200), "status");
    assert_eq!(typed[10], l(13), "bytes");
    assert_eq!(typed[7], s("1ms"), "connect");
    assert_eq!(typed[6], s("web.1"), "dyno");

    // go-kit: escaped quotes inside a quoted value, a bare key at the end.
    assert_eq!(
        logfmt::parse(lines[1]).unwrap(),
        pairs(&[
            ("level", "error"),
            ("ts", "2024-03-12T10:15:32.118Z"),
            ("caller", "main.go:42"),
            ("msg", "failed to connect to \"db\": connection refused"),
            ("err", "dial tcp 10.0.0.3:5432: i/o timeout"),
            ("retry", ""),
        ])
    );

    // Grafana: an escaped newline; booleans and numbers infer, durations stay strings.
    let grafana = logfmt::parse(lines[2]).unwrap();
    assert_eq!(
        grafana,
        pairs(&[
            ("t", "2024-03-12T10:15:32+0000"),
            ("lvl", "warn"),
            ("msg", "slow query"),
            ("logger", "sqlstore"),
            ("duration", "1.25s"),
            ("query", "SELECT *\n  FROM t WHERE a = 'x'"),
            ("cached", "false"),
            ("rows", "0"),
        ])
    );
    assert_eq!(infer(&grafana[6].1), FieldValue::Bool(false));
    assert_eq!(infer(&grafana[7].1), l(0));
    assert_eq!(infer(&grafana[4].1), s("1.25s"));

    assert_eq!(
        logfmt::parse(r#"at=info msg="unterminated"#),
        Err(ParserError::Logfmt {
            position: 12,
            kind: LogfmtErrorKind::UnterminatedQuote
        })
    );
}

#[test]
fn key_value_firewall_lines() {
    let lines: Vec<&str> = KV.lines().collect();
    assert_eq!(lines.len(), 2);
    let opts = KvOptions::default();

    // iptables/UFW: the syslog header, `[UFW BLOCK]`, `OUT=` and the flags are skipped.
    assert_eq!(
        kv::parse(lines[0], &opts),
        pairs(&[
            ("IN", "eth0"),
            ("MAC", "52:54:00:12:34:56:52:54:00:65:43:21:08:00"),
            ("SRC", "203.0.113.50"),
            ("DST", "10.0.0.5"),
            ("LEN", "60"),
            ("TOS", "0x00"),
            ("PREC", "0x00"),
            ("TTL", "49"),
            ("ID", "54321"),
            ("PROTO", "TCP"),
            ("SPT", "51234"),
            ("DPT", "22"),
            ("WINDOW", "29200"),
            ("RES", "0x00"),
            ("URGP", "0"),
        ])
    );

    // FortiGate: quoted values, a quote of the other kind inside one.
    let forti = kv::parse(lines[1], &opts);
    assert_eq!(
        forti,
        pairs(&[
            ("date", "2024-03-12"),
            ("time", "10:15:32"),
            ("devname", "FGT60F"),
            ("logid", "0000000013"),
            ("type", "traffic"),
            ("subtype", "forward"),
            ("level", "notice"),
            ("srcip", "192.168.1.10"),
            ("srcport", "52344"),
            ("dstip", "8.8.8.8"),
            ("dstport", "53"),
            ("action", "accept"),
            ("service", "DNS"),
            ("msg", "allowed by policy 'dns out'"),
        ])
    );
    assert_eq!(infer(&forti[8].1), l(52344), "srcport");
    assert_eq!(infer(&forti[3].1), s("0000000013"), "logid keeps its zeros");

    let prefixed = KvOptions {
        prefix: "fw.".to_owned(),
        ..KvOptions::default()
    };
    assert_eq!(
        kv::parse(lines[0], &prefixed)[0],
        ("fw.IN".to_owned(), "eth0".to_owned())
    );
}

#[test]
fn java_log_with_a_multi_line_exception() {
    let java = compile("^%{JAVALOG}$");
    let frame = compile("^%{JAVASTACKTRACEPART}$");
    let lines: Vec<&str> = JAVA.lines().collect();
    assert_eq!(lines.len(), 11);

    let at = |class: &str, method: &str, file: &str, line: Option<i64>| {
        let mut f = fields! { "class" => s(class), "method" => s(method), "file" => s(file) };
        if let Some(n) = line {
            f.push(("line".to_owned(), l(n)));
        }
        Some(f)
    };
    // Each line: the JAVALOG fields (an event's first line) or the frame fields.
    let expected: Vec<(Option<Fields>, Option<Fields>)> = vec![
        (
            Some(fields! {
                "timestamp" => s("2024-03-12 10:15:32,118"), "level" => s("ERROR"),
                "thread" => s("http-nio-8080-exec-3"),
                "logger" => s("com.example.orders.OrderService"),
                "message" => s("Failed to place order 1234: inventory unavailable"),
            }),
            None,
        ),
        (None, None),
        (
            None,
            at(
                "com.example.orders.InventoryClient",
                "reserve",
                "InventoryClient.java",
                Some(87),
            ),
        ),
        (
            None,
            at(
                "com.example.orders.OrderService",
                "place",
                "OrderService.java",
                Some(41),
            ),
        ),
        (
            None,
            at(
                "sun.reflect.NativeMethodAccessorImpl",
                "invoke0",
                "Native Method",
                None,
            ),
        ),
        (
            None,
            at("java.lang.Thread", "run", "Thread.java", Some(829)),
        ),
        (None, None),
        (
            None,
            at("sun.nio.ch.Net", "connect0", "Native Method", None),
        ),
        (
            None,
            at("com.example.http.Client", "<init>", "Client.java", Some(12)),
        ),
        (None, None),
        (
            Some(fields! {
                "timestamp" => s("2024-03-12 10:15:33,002"), "level" => s("INFO"),
                "thread" => s("main"), "logger" => s("com.example.App"),
                "message" => s("Started App in 3.2 seconds"),
            }),
            None,
        ),
    ];
    for (line, (event, stack)) in lines.into_iter().zip(expected) {
        assert_eq!(java.parse(line), event, "JAVALOG on {line:?}");
        assert_eq!(frame.parse(line), stack, "JAVASTACKTRACEPART on {line:?}");
    }
}

#[test]
fn python_logging_default_and_asctime_formats() {
    let set = GrokSet::compile(
        &GrokLibrary::standard(),
        &[
            "^%{PYTHONLOG_ASCTIME}$".to_owned(),
            "^%{PYTHONLOG}$".to_owned(),
        ],
    )
    .unwrap();
    let expected = vec![
        (
            1,
            fields! { "level" => s("WARNING"), "logger" => s("root"), "message" => s("disk usage at 91% on /var") },
        ),
        (
            1,
            fields! {
                "level" => s("ERROR"), "logger" => s("urllib3.connectionpool"),
                "message" => s("Retrying (Retry(total=2)) after connection broken by 'NewConnectionError': /simple/"),
            },
        ),
        (
            1,
            fields! { "level" => s("CRITICAL"), "logger" => s("__main__"), "message" => s("worker 4242 died: exit code 137") },
        ),
        (
            0,
            fields! {
                "timestamp" => s("2024-03-12 10:15:32,118"), "logger" => s("app.db"),
                "level" => s("ERROR"),
                "message" => s("connection lost: server closed the connection unexpectedly"),
            },
        ),
        (
            0,
            fields! {
                "timestamp" => s("2024-03-12 10:15:33,500"), "logger" => s("uvicorn.access"),
                "level" => s("INFO"),
                "message" => s(r#"127.0.0.1:51234 - "GET /health HTTP/1.1" 200"#),
            },
        ),
    ];
    let lines: Vec<&str> = PYTHON.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (line, expected) in lines.into_iter().zip(expected) {
        assert_eq!(set.parse(line), Some(expected), "{line:?}");
    }
}
