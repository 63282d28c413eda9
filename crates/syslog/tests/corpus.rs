//! Real-world lines from the senders NexusLog meets, with every field asserted.

use nexuslog_syslog::{parse, parse_strict, Format, SdElement, SyslogError, SyslogMessage};

/// 2024-10-05T00:00:00Z: year-less timestamps resolve to 2024.
const RECEIVED: i64 = 1_728_086_400_000_000;

fn ts(rfc3339: &str) -> Option<i64> {
    Some(
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .expect("valid test timestamp")
            .timestamp_micros(),
    )
}

struct Expect {
    format: Format,
    pri: Option<u8>,
    timestamp: Option<i64>,
    host: Option<&'static str>,
    app: Option<&'static str>,
    pid: Option<&'static str>,
    msg_id: Option<&'static str>,
    sd: Vec<SdElement>,
    message: &'static str,
    sequence: Option<u64>,
}

fn e3164(
    pri: u8,
    timestamp: Option<i64>,
    host: Option<&'static str>,
    app: Option<&'static str>,
    pid: Option<&'static str>,
    message: &'static str,
) -> Expect {
    Expect {
        format: Format::Rfc3164,
        pri: Some(pri),
        timestamp,
        host,
        app,
        pid,
        msg_id: None,
        sd: vec![],
        message,
        sequence: None,
    }
}

fn sd(id: &str, params: &[(&str, &str)]) -> SdElement {
    SdElement {
        id: id.into(),
        params: params
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

fn check(source: &str, input: &[u8], want: &Expect) {
    let got: SyslogMessage = parse(input, RECEIVED);
    let ctx = format!("{source}: {:?}", String::from_utf8_lossy(input));
    assert_eq!(got.format, want.format, "format, {ctx}");
    assert_eq!(got.facility, want.pri.map(|p| p >> 3), "facility, {ctx}");
    assert_eq!(got.severity, want.pri.map(|p| p & 7), "severity, {ctx}");
    assert_eq!(got.timestamp_micros, want.timestamp, "timestamp, {ctx}");
    assert_eq!(got.hostname.as_deref(), want.host, "hostname, {ctx}");
    assert_eq!(got.app_name.as_deref(), want.app, "app_name, {ctx}");
    assert_eq!(got.proc_id.as_deref(), want.pid, "proc_id, {ctx}");
    assert_eq!(got.msg_id.as_deref(), want.msg_id, "msg_id, {ctx}");
    assert_eq!(got.structured_data, want.sd, "structured_data, {ctx}");
    assert_eq!(got.message, want.message, "message, {ctx}");
    assert_eq!(got.sequence, want.sequence, "sequence, {ctx}");
}

#[test]
fn rfc5424_corpus() {
    let cases: Vec<(&str, &[u8], Expect)> = vec![
        (
            "RFC 5424 example 1",
            b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
            Expect { format: Format::Rfc5424, pri: Some(34), timestamp: ts("2003-10-11T22:14:15.003Z"), host: Some("mymachine.example.com"), app: Some("su"), pid: None, msg_id: Some("ID47"), sd: vec![], message: "'su root' failed for lonvick on /dev/pts/8", sequence: None },
        ),
        (
            "RFC 5424 example 2 (offset, no BOM)",
            b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
            Expect { format: Format::Rfc5424, pri: Some(165), timestamp: ts("2003-08-24T05:14:15.000003-07:00"), host: Some("192.0.2.1"), app: Some("myproc"), pid: Some("8710"), msg_id: None, sd: vec![], message: "%% It's time to make the do-nuts.", sequence: None },
        ),
        (
            "RFC 5424 example 3 (SD + BOM)",
            b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFAn application event log entry...",
            Expect { format: Format::Rfc5424, pri: Some(165), timestamp: ts("2003-10-11T22:14:15.003Z"), host: Some("mymachine.example.com"), app: Some("evntslog"), pid: None, msg_id: Some("ID47"), sd: vec![sd("exampleSDID@32473", &[("iut", "3"), ("eventSource", "Application"), ("eventID", "1011")])], message: "An application event log entry...", sequence: None },
        ),
        (
            "RFC 5424 example 4 (two SD elements, no MSG)",
            b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
            Expect { format: Format::Rfc5424, pri: Some(165), timestamp: ts("2003-10-11T22:14:15.003Z"), host: Some("mymachine.example.com"), app: Some("evntslog"), pid: None, msg_id: Some("ID47"), sd: vec![sd("exampleSDID@32473", &[("iut", "3"), ("eventSource", "Application"), ("eventID", "1011")]), sd("examplePriority@32473", &[("class", "high")])], message: "", sequence: None },
        ),
        (
            "all NILVALUE",
            b"<14>1 - - - - - -",
            Expect { format: Format::Rfc5424, pri: Some(14), timestamp: None, host: None, app: None, pid: None, msg_id: None, sd: vec![], message: "", sequence: None },
        ),
        (
            "SD escapes",
            br#"<14>1 2024-10-03T12:00:00Z h app - - [x@1 q="a \"quoted\" \\ back \] bracket \n kept"] m"#,
            Expect { format: Format::Rfc5424, pri: Some(14), timestamp: ts("2024-10-03T12:00:00Z"), host: Some("h"), app: Some("app"), pid: None, msg_id: None, sd: vec![sd("x@1", &[("q", r#"a "quoted" \ back ] bracket \n kept"#)])], message: "m", sequence: None },
        ),
        (
            "logger(1) --rfc5424 -n",
            b"<13>1 2024-10-03T14:00:00.123456+02:00 myhost root - - [timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"436500\"] hello world",
            Expect { format: Format::Rfc5424, pri: Some(13), timestamp: ts("2024-10-03T12:00:00.123456Z"), host: Some("myhost"), app: Some("root"), pid: None, msg_id: None, sd: vec![sd("timeQuality", &[("tzKnown", "1"), ("isSynced", "1"), ("syncAccuracy", "436500")])], message: "hello world", sequence: None },
        ),
        (
            "rsyslog RSYSLOG_SyslogProtocol23Format",
            b"<30>1 2024-10-03T12:00:00.654321+00:00 web01 nginx 1234 - - 10.0.0.1 - - \"GET / HTTP/1.1\" 200\n",
            Expect { format: Format::Rfc5424, pri: Some(30), timestamp: ts("2024-10-03T12:00:00.654321Z"), host: Some("web01"), app: Some("nginx"), pid: Some("1234"), msg_id: None, sd: vec![], message: "10.0.0.1 - - \"GET / HTTP/1.1\" 200", sequence: None },
        ),
        (
            "syslog-ng syslog() driver with meta SD",
            b"<38>1 2024-10-03T12:00:00+02:00 db01 sshd 812 - [meta sequenceId=\"17\"] Accepted publickey for deploy",
            Expect { format: Format::Rfc5424, pri: Some(38), timestamp: ts("2024-10-03T10:00:00Z"), host: Some("db01"), app: Some("sshd"), pid: Some("812"), msg_id: None, sd: vec![sd("meta", &[("sequenceId", "17")])], message: "Accepted publickey for deploy", sequence: None },
        ),
        (
            "Juniper structured-data",
            b"<165>1 2007-09-26T23:10:55.512Z junos-router mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username=\"regress\"] User 'regress' exiting configuration mode",
            Expect { format: Format::Rfc5424, pri: Some(165), timestamp: ts("2007-09-26T23:10:55.512Z"), host: Some("junos-router"), app: Some("mgd"), pid: Some("3046"), msg_id: Some("UI_DBASE_LOGOUT_EVENT"), sd: vec![sd("junos@2636.1.1.1.2.18", &[("username", "regress")])], message: "User 'regress' exiting configuration mode", sequence: None },
        ),
        (
            "NexusLog API key in SD",
            b"<134>1 2024-10-03T12:00:00Z app01 billing - - [nexuslog@32473 key=\"nlk_abc123\" project=\"p1\"] charged",
            Expect { format: Format::Rfc5424, pri: Some(134), timestamp: ts("2024-10-03T12:00:00Z"), host: Some("app01"), app: Some("billing"), pid: None, msg_id: None, sd: vec![sd("nexuslog@32473", &[("key", "nlk_abc123"), ("project", "p1")])], message: "charged", sequence: None },
        ),
    ];
    for (source, input, want) in &cases {
        check(source, input, want);
        parse_strict(input, RECEIVED).unwrap_or_else(|e| panic!("{source}: strict rejected: {e}"));
    }
}

#[test]
fn rfc3164_corpus() {
    let oct3 = ts("2024-10-03T12:00:00Z");
    let cases: Vec<(&str, &[u8], Expect)> = vec![
        ("RFC 3164 example", b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", e3164(34, ts("2024-10-11T22:14:15Z"), Some("mymachine"), Some("su"), None, "'su root' failed for lonvick on /dev/pts/8")),
        ("RFC 3164 example, no tag", b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", e3164(13, ts("2024-02-05T17:32:18Z"), Some("10.0.0.99"), None, None, "Use the BFG!")),
        ("logger(1) --rfc3164 -n", b"<13>Oct  3 12:00:00 myhost root: hello world", e3164(13, oct3, Some("myhost"), Some("root"), None, "hello world")),
        ("rsyslog RSYSLOG_TraditionalForwardFormat", b"<86>Oct  3 12:00:00 web01 sshd[2291]: Accepted password for admin from 10.1.1.1 port 5022 ssh2", e3164(86, oct3, Some("web01"), Some("sshd"), Some("2291"), "Accepted password for admin from 10.1.1.1 port 5022 ssh2")),
        ("rsyslog RSYSLOG_ForwardFormat (RFC 3339)", b"<86>2024-10-03T14:00:00.123456+02:00 web01 sshd[2291]: session opened", e3164(86, ts("2024-10-03T12:00:00.123456Z"), Some("web01"), Some("sshd"), Some("2291"), "session opened")),
        ("syslog-ng network() ts-format(iso)", b"<29>2024-10-03T12:00:00+00:00 lb1 haproxy[7]: 10.0.0.5:4431 [03/Oct/2024:12:00:00] fe be/s1", e3164(29, oct3, Some("lb1"), Some("haproxy"), Some("7"), "10.0.0.5:4431 [03/Oct/2024:12:00:00] fe be/s1")),
        ("ISO without zone is UTC", b"<29>2024-10-03T12:00:00 lb1 app: x", e3164(29, oct3, Some("lb1"), Some("app"), None, "x")),
        ("no hostname (local sender)", b"<13>Oct 11 22:14:15 su: 'su root' failed", e3164(13, ts("2024-10-11T22:14:15Z"), None, Some("su"), None, "'su root' failed")),
        ("no hostname, tag with pid", b"<13>Oct  3 12:00:00 cron[99]: (root) CMD (run-parts)", e3164(13, oct3, None, Some("cron"), Some("99"), "(root) CMD (run-parts)")),
        ("year after day (Cisco ASA)", b"<166>Oct 3 2024 12:00:00: %ASA-6-302013: Built outbound TCP connection 1 for outside", e3164(166, oct3, None, None, None, "%ASA-6-302013: Built outbound TCP connection 1 for outside")),
        ("year after day with host", b"<166>Oct 03 2024 12:00:00 fw01 : %ASA-6-106100: access-list", e3164(166, oct3, Some("fw01"), None, None, ": %ASA-6-106100: access-list")),
        ("year first (NX-OS)", b"<189>2024 Oct  3 12:00:00 nx01 %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up", e3164(189, oct3, Some("nx01"), None, None, "%ETHPORT-5-IF_UP: Interface Ethernet1/1 is up")),
        ("Linux kernel", b"<4>Oct  3 12:00:00 host1 kernel: [    1.234567] usb 1-1: new high-speed USB device", e3164(4, oct3, Some("host1"), Some("kernel"), None, "[    1.234567] usb 1-1: new high-speed USB device")),
        ("systemd", b"<30>Oct  3 12:00:00 host1 systemd[1]: Started Session 12 of User root.", e3164(30, oct3, Some("host1"), Some("systemd"), Some("1"), "Started Session 12 of User root.")),
        ("systemd-logind dashed tag", b"<38>Oct  3 12:00:00 host1 systemd-logind[512]: New session 12 of user root.", e3164(38, oct3, Some("host1"), Some("systemd-logind"), Some("512"), "New session 12 of user root.")),
        ("Juniper BSD format", b"<28>Oct  3 12:00:00 mx480-re0 mgd[4512]: UI_COMMIT: User 'admin' requested 'commit' operation", e3164(28, oct3, Some("mx480-re0"), Some("mgd"), Some("4512"), "UI_COMMIT: User 'admin' requested 'commit' operation")),
        ("FreeBSD syslogd", b"<46>Oct  3 12:00:00 bsd1 newsyslog[8321]: logfile turned over", e3164(46, oct3, Some("bsd1"), Some("newsyslog"), Some("8321"), "logfile turned over")),
        ("macOS-style tag with dots", b"<5>Oct  3 12:00:00 mac com.apple.xpc.launchd[1]: Service exited", e3164(5, oct3, Some("mac"), Some("com.apple.xpc.launchd"), Some("1"), "Service exited")),
        ("URL in message is not a tag", b"<13>Oct  3 12:00:00 h http://example.com/ failed", e3164(13, oct3, Some("h"), None, None, "http://example.com/ failed")),
        ("numeric offset after time", b"<13>Oct  3 14:00:00 +02:00 h app: x", e3164(13, oct3, Some("h"), Some("app"), None, "x")),
        ("no timestamp, tag only", b"<13>myapp[42]: started", e3164(13, None, None, Some("myapp"), Some("42"), "started")),
        ("no timestamp, free text", b"<13>just some text", e3164(13, None, None, None, None, "just some text")),
        ("Feb 30 keeps the fields, no timestamp", b"<13>Feb 30 12:00:00 h app: x", e3164(13, None, Some("h"), Some("app"), None, "x")),
        ("latin-1 byte is replaced, not rejected", b"<13>Oct  3 12:00:00 h app: caf\xe9", e3164(13, oct3, Some("h"), Some("app"), None, "caf\u{fffd}")),
    ];
    for (source, input, want) in &cases {
        check(source, input, want);
        parse_strict(input, RECEIVED).unwrap_or_else(|e| panic!("{source}: strict rejected: {e}"));
    }
}

#[test]
fn cisco_corpus() {
    let mar1 = ts("2024-03-01T00:00:12.345Z");
    let cisco = |pri, timestamp, host, message, sequence| Expect {
        sequence,
        host,
        ..e3164(pri, timestamp, None, None, None, message)
    };
    let cases: Vec<(&str, &[u8], Expect)> = vec![
        ("IOS seq + unsynced clock + msec + UTC", b"<189>123: *Mar  1 00:00:12.345 UTC: %SYS-5-CONFIG_I: Configured from console by console", cisco(189, mar1, None, "%SYS-5-CONFIG_I: Configured from console by console", Some(123))),
        ("IOS '.' marker", b"<189>124: .Mar  1 00:00:12.345 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up", cisco(189, mar1, None, "%LINK-3-UPDOWN: Interface Gi0/1, changed state to up", Some(124))),
        ("IOS synced, no msec, no zone", b"<187>5: Mar  1 00:00:12: %LINEPROTO-5-UPDOWN: Line protocol on Interface Vlan1, changed state to down", cisco(187, ts("2024-03-01T00:00:12Z"), None, "%LINEPROTO-5-UPDOWN: Line protocol on Interface Vlan1, changed state to down", Some(5))),
        ("IOS localtime show-timezone CEST", b"<189>7: Mar  1 02:00:12.345 CEST: %SYS-5-CONFIG_I: x", cisco(189, mar1, None, "%SYS-5-CONFIG_I: x", Some(7))),
        ("IOS unknown zone keeps text, drops time", b"<189>8: *Mar  1 00:00:12.345 AEST: %SYS-5-CONFIG_I: x", cisco(189, None, None, "%SYS-5-CONFIG_I: x", Some(8))),
        ("IOS year option", b"<189>9: Mar  1 2024 00:00:12.345 UTC: %SYS-5-CONFIG_I: x", cisco(189, mar1, None, "%SYS-5-CONFIG_I: x", Some(9))),
        ("IOS origin-id hostname", b"<189>10: rtr1: *Mar  1 00:00:12.345 UTC: %SYS-5-CONFIG_I: x", cisco(189, mar1, Some("rtr1"), "%SYS-5-CONFIG_I: x", Some(10))),
        ("IOS no timestamps", b"<189>11: %SYS-5-CONFIG_I: Configured from console", cisco(189, None, None, "%SYS-5-CONFIG_I: Configured from console", Some(11))),
        ("IOS without sequence numbers", b"<189>*Mar  1 00:00:12.345 UTC: %SYS-5-CONFIG_I: x", cisco(189, mar1, None, "%SYS-5-CONFIG_I: x", None)),
        // Relayed by a BSD relay: like rsyslog, the sequence number reads as the tag.
        ("relayed (host + seq in message)", b"<189>Mar  1 00:00:12 10.0.0.1 123: *Mar  1 00:00:12.345: %SYS-5-CONFIG_I: x", Expect { app: Some("123"), ..cisco(189, ts("2024-03-01T00:00:12Z"), Some("10.0.0.1"), "*Mar  1 00:00:12.345: %SYS-5-CONFIG_I: x", None) }),
    ];
    for (source, input, want) in &cases {
        check(source, input, want);
        parse_strict(input, RECEIVED).unwrap_or_else(|e| panic!("{source}: strict rejected: {e}"));
    }
}

#[test]
fn year_rollover_uses_receive_time() {
    let jan1 = ts("2025-01-01T00:00:30Z").expect("valid");
    let m = parse(b"<13>Dec 31 23:59:50 h app: late", jan1);
    assert_eq!(m.timestamp_micros, ts("2024-12-31T23:59:50Z"));
    let dec31 = ts("2024-12-31T23:59:30Z").expect("valid");
    let m = parse(b"<13>Jan  1 00:00:10 h app: early clock", dec31);
    assert_eq!(m.timestamp_micros, ts("2025-01-01T00:00:10Z"));
}

#[test]
fn lines_without_pri() {
    // A timestamped line (e.g. from a file) keeps its header, without facility/severity.
    let m = parse(b"Oct  3 12:00:00 host1 sshd[1]: hi\n", RECEIVED);
    assert_eq!(
        (m.format, m.facility, m.severity),
        (Format::Rfc3164, None, None)
    );
    assert_eq!(
        (
            m.hostname.as_deref(),
            m.app_name.as_deref(),
            m.message.as_str()
        ),
        (Some("host1"), Some("sshd"), "hi")
    );
    assert_eq!(m.timestamp_micros, ts("2024-10-03T12:00:00Z"));
    // Anything else is text.
    let m = parse(b"\xEF\xBB\xBFplain line\r\n", RECEIVED);
    assert_eq!(
        (m.format, m.message.as_str(), m.facility),
        (Format::Unparsed, "plain line", None)
    );
    assert_eq!(
        parse_strict(b"plain line", RECEIVED),
        Err(SyslogError::MissingPri)
    );
    assert_eq!(
        parse_strict(b"Oct  3 12:00:00 host1 sshd[1]: hi", RECEIVED),
        Err(SyslogError::MissingPri)
    );
}

#[test]
fn lenient_recovers_what_strict_rejects() {
    // Broken SD: strict says where, lenient keeps header and the bytes as text.
    let bad_sd = b"<14>1 2024-10-03T12:00:00Z h app - - [x@1 q=\"unterminated] m";
    let err = parse_strict(bad_sd, RECEIVED).expect_err("unterminated SD");
    assert!(
        matches!(
            err,
            SyslogError::InvalidStructuredData {
                reason: "unterminated PARAM-VALUE",
                ..
            }
        ),
        "{err}"
    );
    let m = parse(bad_sd, RECEIVED);
    assert_eq!(
        (m.format, m.hostname.as_deref(), m.structured_data.len()),
        (Format::Rfc5424, Some("h"), 0)
    );
    assert_eq!(m.message, "[x@1 q=\"unterminated] m");

    let bad_ts = b"<14>1 2024-13-03T12:00:00Z h app - - - m";
    assert!(matches!(
        parse_strict(bad_ts, RECEIVED),
        Err(SyslogError::InvalidTimestamp(_))
    ));
    let m = parse(bad_ts, RECEIVED);
    assert_eq!((m.timestamp_micros, m.message.as_str()), (None, "m"));

    let truncated = b"<14>1 2024-10-03T12:00:00Z h app";
    assert_eq!(
        parse_strict(truncated, RECEIVED),
        Err(SyslogError::TruncatedHeader { field: "PROCID" })
    );
    let m = parse(truncated, RECEIVED);
    assert_eq!(
        (
            m.app_name.as_deref(),
            m.proc_id.as_deref(),
            m.message.as_str()
        ),
        (Some("app"), None, "")
    );
}

#[test]
fn strict_rejects_garbage_with_a_reason() {
    assert_eq!(parse_strict(b"", RECEIVED), Err(SyslogError::Empty));
    assert_eq!(parse_strict(b"\r\n\0", RECEIVED), Err(SyslogError::Empty));
    assert_eq!(parse_strict(b"<13>", RECEIVED), Err(SyslogError::NoContent));
    assert_eq!(
        parse_strict(b"<200>x", RECEIVED),
        Err(SyslogError::InvalidPri("<200>".into()))
    );
    assert_eq!(
        parse_strict(b"<ab>x", RECEIVED),
        Err(SyslogError::InvalidPri("<ab>x".into()))
    );
    let junk = b"<13>\x16\x03\x01\x02\x00\x01\x00"; // a TLS ClientHello on the plain port
    assert_eq!(
        parse_strict(junk, RECEIVED),
        Err(SyslogError::BinaryContent {
            offset: 4,
            byte: 0x16
        })
    );
    let tls = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    let err = parse_strict(tls, RECEIVED).expect_err("binary");
    assert_eq!(
        err.to_string(),
        "binary content: control byte 0x16 at offset 0"
    );
    // Lenient still returns the text.
    let m = parse(tls, RECEIVED);
    assert_eq!((m.format, m.facility), (Format::Unparsed, None));
    let m = parse(b"<200>x", RECEIVED);
    assert_eq!((m.format, m.message.as_str()), (Format::Unparsed, "<200>x"));
    // Tabs, ESC colour codes and multi-line messages are text.
    assert!(parse_strict(
        b"<13>Oct  3 12:00:00 h app: a\tb \x1b[31mred\x1b[0m\nline 2",
        RECEIVED
    )
    .is_ok());
}

#[test]
fn sd_param_lookup() {
    let m = parse(
        b"<134>1 - h app - - [timeQuality tzKnown=\"1\"][nexuslog@32473 key=\"k1\" key=\"k2\"] x",
        RECEIVED,
    );
    assert_eq!(m.sd_param("nexuslog@", "key"), Some("k1"));
    assert_eq!(m.sd_param("timeQuality", "tzKnown"), Some("1"));
    assert_eq!(m.sd_param("nexuslog@", "missing"), None);
    assert_eq!(m.sd_param("other@", "key"), None);
    assert_eq!(m.structured_data[1].param("key"), Some("k1"));
}
