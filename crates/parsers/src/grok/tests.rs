//! Unit tests of the library, the compiler's errors and the matching semantics. Real log
//! lines are in `tests/corpus.rs`.
#![allow(clippy::unwrap_used)]

use super::*;

fn s(v: &str) -> FieldValue {
    FieldValue::String(v.to_owned())
}

fn fields(grok: &Grok, input: &str) -> Vec<(String, FieldValue)> {
    grok.parse(input)
        .unwrap_or_else(|| panic!("{} should match {input:?}", grok.pattern_source()))
}

fn custom(defs: &[(&str, &str)]) -> Vec<(String, String)> {
    defs.iter()
        .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
        .collect()
}

#[test]
fn every_line_of_the_pattern_file_is_a_pattern_and_compiles() {
    let lines = STANDARD_PATTERNS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    let lib = GrokLibrary::standard();
    assert_eq!(
        lib.pattern_names().len(),
        lines,
        "a line without definition, or a duplicate"
    );
    for name in lib.pattern_names() {
        let grok = lib
            .compile(&format!("%{{{name}}}"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(grok.regex_source().len() < expand::MAX_EXPANDED_LEN);
    }
}

#[test]
fn the_promised_names_exist() {
    let lib = GrokLibrary::standard();
    let promised = "USERNAME USER INT BASE10NUM NUMBER POSINT NONNEGINT WORD NOTSPACE SPACE DATA \
        GREEDYDATA QUOTEDSTRING UUID MAC IPV4 IPV6 IP HOSTNAME IPORHOST HOSTPORT PATH UNIXPATH \
        WINPATH URIPROTO URIHOST URIPATH URIPARAM URIPATHPARAM URI MONTH MONTHNUM MONTHDAY DAY \
        YEAR HOUR MINUTE SECOND TIME DATE_US DATE_EU ISO8601_TIMEZONE TIMESTAMP_ISO8601 DATE \
        DATESTAMP TZ DATESTAMP_RFC822 DATESTAMP_RFC2822 DATESTAMP_OTHER SYSLOGTIMESTAMP PROG \
        SYSLOGPROG SYSLOGHOST SYSLOGFACILITY HTTPDATE QS SYSLOGBASE COMMONAPACHELOG \
        COMBINEDAPACHELOG HTTPD_COMMONLOG HTTPD_COMBINEDLOG NGINXACCESS LOGLEVEL JAVACLASS \
        JAVASTACKTRACEPART JAVALOGMESSAGE JAVALOG PYTHONLOG PYTHONLOG_ASCTIME";
    for name in promised.split_whitespace() {
        assert!(lib.pattern(name).is_some(), "{name} missing");
    }
}

#[test]
fn grok_is_send_sync_and_shares_one_compiled_regex() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Grok>();
    assert_send_sync::<GrokSet>();
    assert_send_sync::<GrokLibrary>();
    let grok = GrokLibrary::standard().compile("%{INT:n}").unwrap();
    let copy = grok.clone();
    assert!(Arc::ptr_eq(&grok.inner, &copy.inner));
}

#[test]
fn unknown_pattern_names_the_pattern() {
    let lib = GrokLibrary::standard();
    let err = lib.compile("%{IP:ip} %{FOO:x}").unwrap_err();
    assert_eq!(
        err,
        ParserError::UnknownPattern {
            name: "FOO".to_owned()
        }
    );
    assert_eq!(err.to_string(), "unknown grok pattern FOO");
    // In a custom definition, reported when the library is built.
    let err = lib
        .with_patterns(custom(&[("MINE", "%{INT} %{NOPE}")]))
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown grok pattern NOPE");
}

#[test]
fn recursive_patterns_are_rejected_with_the_cycle() {
    let err = GrokLibrary::standard()
        .with_patterns(custom(&[
            ("A", "x%{B}"),
            ("B", "%{INT}|%{C}"),
            ("C", "%{A}"),
        ]))
        .unwrap_err();
    let ParserError::RecursivePattern { chain } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(chain.first(), chain.last());
    assert_eq!(chain.len(), 4, "{chain:?}");
    assert!(
        err.to_string().starts_with("recursive grok pattern: "),
        "{err}"
    );

    let err = GrokLibrary::standard()
        .with_patterns(custom(&[("SELF", "a%{SELF}?")]))
        .unwrap_err();
    assert_eq!(err.to_string(), "recursive grok pattern: SELF -> SELF");
}

#[test]
fn custom_names_are_checked_and_may_replace_standard_ones() {
    let err = GrokLibrary::standard()
        .with_patterns(custom(&[("bad-name", "x")]))
        .unwrap_err();
    assert_eq!(err, ParserError::InvalidPatternName("bad-name".to_owned()));

    let lib = GrokLibrary::standard()
        .with_patterns(custom(&[
            ("INT", "[0-9]{3}"),
            ("ORDER", "ord-%{INT:id:int}"),
        ]))
        .unwrap();
    let grok = lib.compile("%{ORDER} %{NUMBER:n:int}").unwrap();
    assert_eq!(
        fields(&grok, "ord-123 7"),
        [
            ("id".to_owned(), FieldValue::Long(123)),
            ("n".to_owned(), FieldValue::Long(7))
        ]
    );
    // INT is now exactly 3 digits.
    assert_eq!(grok.parse("ord-12345 7"), None);
}

#[test]
fn bad_regex_is_an_error_not_a_panic() {
    let lib = GrokLibrary::standard();
    for pattern in ["%{INT:n} (unclosed", "(?<=x)%{INT}", "a{2,1}", "[z-a]"] {
        let err = lib.compile(pattern).unwrap_err();
        assert!(
            matches!(err, ParserError::InvalidRegex(_)),
            "{pattern}: {err:?}"
        );
        assert!(err.to_string().starts_with("invalid regex: "));
    }
    let err = lib
        .with_patterns(custom(&[("BROKEN", "[a-")]))
        .and_then(|l| l.compile("%{BROKEN}"))
        .unwrap_err();
    assert!(matches!(err, ParserError::InvalidRegex(_)), "{err:?}");
}

#[test]
fn oversized_patterns_are_errors() {
    let lib = GrokLibrary::standard();
    // Too much text after expansion: stopped before the regex compiler sees it.
    let err = lib.compile(&"%{IPV6}".repeat(1000)).unwrap_err();
    assert_eq!(
        err,
        ParserError::PatternTooLarge {
            limit: expand::MAX_EXPANDED_LEN
        }
    );
    // Short text, huge automaton: the regex size limit.
    let err = lib.compile("%{IPV6}{1000}").unwrap_err();
    assert_eq!(
        err,
        ParserError::RegexTooLarge {
            limit: REGEX_SIZE_LIMIT
        }
    );
}

#[test]
fn typed_captures_follow_logstash() {
    let lib = GrokLibrary::standard();
    let grok = lib
        .compile(r"%{NUMBER:a:int} %{NUMBER:b:float} %{NOTSPACE:c:int} %{NUMBER:d}")
        .unwrap();
    assert_eq!(
        fields(&grok, "12.7 0.25 abc 3"),
        [
            ("a".to_owned(), FieldValue::Long(12)),
            ("b".to_owned(), FieldValue::Double(0.25)),
            ("c".to_owned(), FieldValue::Long(0)),
            ("d".to_owned(), s("3")),
        ]
    );
}

#[test]
fn unmatched_and_empty_captures_are_left_out() {
    let lib = GrokLibrary::standard();
    let grok = lib.compile(r"^%{WORD:a}(?: %{INT:b})?:%{DATA:c}$").unwrap();
    assert_eq!(fields(&grok, "x:"), [("a".to_owned(), s("x"))]);
    assert_eq!(
        fields(&grok, "x 5:y"),
        [
            ("a".to_owned(), s("x")),
            ("b".to_owned(), s("5")),
            ("c".to_owned(), s("y"))
        ]
    );
    assert_eq!(grok.field_names(), ["a", "b", "c"]);
}

#[test]
fn unanchored_unless_the_user_anchors() {
    let lib = GrokLibrary::standard();
    let free = lib.compile("status=%{INT:status:int}").unwrap();
    assert_eq!(
        fields(&free, "GET / status=404 took 3ms"),
        [("status".to_owned(), FieldValue::Long(404))]
    );
    let anchored = lib.compile("^status=%{INT:status:int}").unwrap();
    assert_eq!(anchored.parse("GET / status=404"), None);
    assert!(!anchored.is_match("GET / status=404"));
    assert!(anchored.is_match("status=1"));
}

#[test]
fn nested_named_captures_dotted_fields_and_raw_named_groups() {
    let lib = GrokLibrary::standard();
    let grok = lib
        .compile(r"%{SYSLOGPROG:proc} (?<http.status>\d+) %{WORD:[http][verb]}")
        .unwrap();
    assert_eq!(
        fields(&grok, "nginx[42] 200 GET"),
        [
            ("proc".to_owned(), s("nginx[42]")),
            ("program".to_owned(), s("nginx")),
            ("pid".to_owned(), FieldValue::Long(42)),
            ("http.status".to_owned(), s("200")),
            ("[http][verb]".to_owned(), s("GET")),
        ]
    );
    assert_eq!(
        grok.field_names(),
        ["proc", "program", "pid", "http.status", "[http][verb]"]
    );
}

#[test]
fn a_field_in_several_alternatives_is_allowed() {
    let lib = GrokLibrary::standard();
    let grok = lib
        .compile(r"^(?:id=%{INT:id:int}|ref=%{WORD:id})$")
        .unwrap();
    assert_eq!(
        fields(&grok, "id=7"),
        [("id".to_owned(), FieldValue::Long(7))]
    );
    assert_eq!(fields(&grok, "ref=abc"), [("id".to_owned(), s("abc"))]);
    assert_eq!(grok.field_names(), ["id"]);
}

#[test]
fn perl_classes_are_ascii_like_ruby() {
    let lib = GrokLibrary::standard();
    let word = lib.compile(r"^%{WORD:w}$").unwrap();
    assert_eq!(word.parse("héllo"), None);
    assert_eq!(fields(&word, "hello_1"), [("w".to_owned(), s("hello_1"))]);
    let digits = lib.compile(r"^(?<d>\d+)$").unwrap();
    assert_eq!(digits.parse("٣٤"), None);
    // Non-ASCII around an ASCII word boundary still matches.
    let greeting = lib.compile(r"%{WORD:w} é").unwrap();
    assert_eq!(fields(&greeting, "ça va é"), [("w".to_owned(), s("va"))]);
}

#[test]
fn common_patterns_match_what_logstash_matches() {
    let lib = GrokLibrary::standard();
    let cases: &[(&str, &str, &str)] = &[
        ("IPV4", "src 10.1.22.255:80", "10.1.22.255"),
        ("IPV4", "256.1.1.1 then 1.2.3.4", "1.2.3.4"),
        ("IPV6", "::1", "::1"),
        (
            "IPV6",
            "fe80::1ff:fe23:4567:890a%eth0 x",
            "fe80::1ff:fe23:4567:890a%eth0",
        ),
        (
            "IPV6",
            "2001:db8:85a3::8a2e:370:7334",
            "2001:db8:85a3::8a2e:370:7334",
        ),
        ("IPV6", "::ffff:192.0.2.128", "::ffff:192.0.2.128"),
        ("IPV6", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("IPORHOST", "host-1.example.com.", "host-1.example.com."),
        ("HOSTPORT", "db.internal:5432", "db.internal:5432"),
        ("MAC", "00:1A:2b:3c:4D:5e", "00:1A:2b:3c:4D:5e"),
        ("MAC", "001a.2b3c.4d5e", "001a.2b3c.4d5e"),
        (
            "UUID",
            "id=123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-12d3-a456-426614174000",
        ),
        ("NUMBER", "took -1.5s", "-1.5"),
        ("NUMBER", "x .5", ".5"),
        ("POSINT", "n=0 42", "42"),
        ("QS", r#"say "a \"b\" c" now"#, r#""a \"b\" c""#),
        ("QS", "it's 'x' and ``", "'s '"),
        (
            "UNIXPATH",
            "open /var/log/nginx/access.log:",
            "/var/log/nginx/access.log:",
        ),
        (
            "WINPATH",
            r"C:\Program Files\app.exe",
            r"C:\Program Files\app.exe",
        ),
        (
            "URIPATHPARAM",
            "/search?q=rust+regex&page=2",
            "/search?q=rust+regex&page=2",
        ),
        (
            "TIMESTAMP_ISO8601",
            "at 2024-03-12T10:15:32.118+01:00 x",
            "2024-03-12T10:15:32.118+01:00",
        ),
        (
            "TIMESTAMP_ISO8601",
            "2024-03-12 10:15:32,118",
            "2024-03-12 10:15:32,118",
        ),
        (
            "HTTPDATE",
            "[10/Oct/2000:13:55:36 -0700]",
            "10/Oct/2000:13:55:36 -0700",
        ),
        ("SYSLOGTIMESTAMP", "Mar  7 04:02:16 host", "Mar  7 04:02:16"),
        (
            "DATESTAMP_RFC2822",
            "Tue, 12 Mar 2024 10:15:32 +0000",
            "Tue, 12 Mar 2024 10:15:32 +0000",
        ),
        (
            "DATESTAMP_RFC822",
            "Tue Mar 12 2024 10:15:32 UTC",
            "Tue Mar 12 2024 10:15:32 UTC",
        ),
        (
            "DATESTAMP_OTHER",
            "Tue Mar 12 10:15:32 EST 2024",
            "Tue Mar 12 10:15:32 EST 2024",
        ),
        ("DATESTAMP", "12/03/2024 10:15:32", "12/03/2024 10:15:32"),
        ("MONTH", "im März", "März"),
        ("LOGLEVEL", "[WARNING] x", "WARNING"),
        ("JAVACLASS", "com.example.Foo$Bar: x", "com.example.Foo$Bar"),
    ];
    for (name, input, expected) in cases {
        let grok = lib.compile(&format!("%{{{name}:v}}")).unwrap();
        assert_eq!(
            grok.parse(input),
            Some(vec![("v".to_owned(), s(expected))]),
            "{name} on {input:?}"
        );
    }
    let uri = lib.compile("%{URI:v}").unwrap();
    assert_eq!(
        fields(&uri, "see https://user:pw@example.com:8443/a/b?c=d&e=f now"),
        [
            (
                "v".to_owned(),
                s("https://user:pw@example.com:8443/a/b?c=d&e=f")
            ),
            ("port".to_owned(), FieldValue::Long(8443)),
        ]
    );
    for (name, input) in [
        ("IPV4", "1.2.3"),
        ("IPV4", "ip10.0.0.1"),
        ("UUID", "123e4567-e89b-12d3-a456"),
        ("POSINT", "0"),
        ("TIMESTAMP_ISO8601", "2024/03/12"),
        ("JAVASTACKTRACEPART", "Caused by: java.io.IOException: x"),
    ] {
        let grok = lib.compile(&format!("%{{{name}:v}}")).unwrap();
        assert_eq!(grok.parse(input), None, "{name} on {input:?}");
    }
}

#[test]
fn grok_set_returns_the_first_pattern_that_matches() {
    let lib = GrokLibrary::standard();
    let patterns = [
        r"^%{INT:n:int}$".to_owned(),
        r"^%{WORD:w}$".to_owned(),
        r"^%{NOTSPACE:any}$".to_owned(),
    ];
    let set = GrokSet::compile(&lib, &patterns).unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(
        set.parse("12"),
        Some((0, vec![("n".to_owned(), FieldValue::Long(12))]))
    );
    assert_eq!(
        set.parse("abc"),
        Some((1, vec![("w".to_owned(), s("abc"))]))
    );
    assert_eq!(
        set.parse("a-b"),
        Some((2, vec![("any".to_owned(), s("a-b"))]))
    );
    assert_eq!(set.parse("a b"), None);
    assert!(GrokSet::compile(&lib, &["%{NOPE}".to_owned()]).is_err());
    let empty = GrokSet::compile(&lib, &[]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.parse("x"), None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// The anchored search tried first finds what the unanchored search alone finds: the
    /// leftmost match starts at the first byte whenever a match can start there.
    #[test]
    fn trying_the_start_first_finds_the_leftmost_match(
        pieces in proptest::collection::vec(proptest::sample::select(&[
            "10.0.0.1 ", "2001:db8::1 ", "- ", "alice ", "[12/Mar/2024:10:15:32 +0000] ",
            "\"GET /a?b=c HTTP/1.1\" ", "200 ", "512 ", "\"x\" ", "2024-03-12 10:15:32,118 ",
            "ERROR ", "x", ", client: 10.0.0.1",
        ][..]), 0..14)
    ) {
        static GROKS: std::sync::LazyLock<Vec<Grok>> = std::sync::LazyLock::new(|| {
            let lib = GrokLibrary::standard();
            [
                "%{NGINXACCESS}",
                "%{COMMONAPACHELOG}",
                "%{TIMESTAMP_ISO8601:t} %{LOGLEVEL:l} %{GREEDYDATA:m}",
                "%{IPORHOST:c} %{DATA:d}(?:, client: %{IP:ip})?$",
                "(?:%{INT:n:int} )?%{WORD:w}",
                "%{QS:q}",
            ]
            .iter()
            .map(|p| lib.compile(p).unwrap())
            .collect()
        });
        let line = pieces.concat();
        for grok in GROKS.iter() {
            let pattern = grok.pattern_source();
            let alone = grok.inner.regex.captures(&line).map(|c| grok.fields(|i| c.get(i).map(|m| m.as_str())));
            proptest::prop_assert_eq!(grok.captures(&line), alone, "{} on {:?}", pattern, line);
        }
    }
}
