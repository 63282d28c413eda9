//! The error messages users see for malformed queries, and where they point: exact text and
//! 0-based character position, so that any change to a message shows up here.
#![allow(clippy::unwrap_used)]

use nexuslog_query::{parse, ParseError, MAX_DEPTH, MAX_QUERY_BYTES};

#[test]
fn messages_and_positions() {
    let cases: &[(&str, &str, usize)] = &[
        // quotes, parentheses, escapes
        ("\"open", "unclosed `\"`", 0),
        ("a:\"x\\\"", "unclosed `\"`", 2),
        ("(a b", "unclosed `(`", 0),
        ("a (b OR (c)", "unclosed `(`", 2),
        ("a b)", "unmatched `)`", 3),
        ("()", "empty parentheses", 1),
        ("a OR )", "expected a term before `)`", 5),
        ("a \\", "a `\\` must be followed by the character it escapes", 2),
        // operators with nothing on one side
        ("a OR", "expected a term, found the end of the query", 4),
        ("a AND", "expected a term, found the end of the query", 5),
        ("OR a", "expected a term before `OR`", 0),
        ("a AND AND b", "expected a term before `AND`", 6),
        ("a AND OR b", "expected a term before `OR`", 6),
        ("a NOT", "expected a term, found the end of the query", 5),
        ("NOT", "expected a term, found the end of the query", 3),
        ("x - y", "expected a term after `-`", 2),
        // field values
        ("user: x", "expected a value after `user:`", 5),
        ("user:", "expected a value after `user:`", 5),
        ("host:(a OR b)", "grouping after a field name is not supported: write `(a:x OR a:y)`", 5),
        // ranges and comparisons
        ("code:[1 TO", "expected an upper bound", 10),
        ("code:[1 5]", "expected `TO` between the bounds of a range", 8),
        ("code:[1 TO 5", "unclosed range: end it with `]` (inclusive) or `}` (exclusive)", 5),
        ("code:[]", "expected a lower bound", 6),
        ("code:[1 TO x]", "invalid number \"x\" in a range", 11),
        ("latency:>abc", "invalid number \"abc\" in a range", 9),
        ("latency:>", "expected a value after `>`", 9),
        ("latency:>>5", "unknown comparison `>>`: use >, >=, < or <=", 8),
        ("host:>5", "host is text: ranges apply to numbers, `timestamp` and `level`", 6),
        ("source:[a TO b]", "source is text: ranges apply to numbers, `timestamp` and `level`", 8),
        ("message:>5", "message takes words, not ranges", 9),
        // levels and times
        ("level:>=loud", "unknown level \"loud\": use trace, debug, info, warn, error or fatal", 8),
        ("level:[unknown TO *]", "unknown level \"unknown\": use trace, debug, info, warn, error or fatal", 7),
        ("level:loud", "unknown level \"loud\": use trace, debug, info, warn, error, fatal or unknown", 6),
        ("level:\"loud\"", "unknown level \"loud\": use trace, debug, info, warn, error, fatal or unknown", 6),
        ("timestamp:yesterday", "invalid time \"yesterday\": use RFC 3339 (2024-05-01T12:00:00Z) or epoch milliseconds", 10),
        ("timestamp:>=now-1h", "invalid time \"now-1h\": use RFC 3339 (2024-05-01T12:00:00Z) or epoch milliseconds", 12),
        ("timestamp:2024*", "a time takes no wildcard: use a range", 10),
        // wildcards
        ("a*b", "a wildcard `*` is only allowed at the end of a value", 1),
        ("path:/a*b*", "a wildcard `*` is only allowed at the end of a value", 7),
        ("mess*age", "a wildcard `*` is only allowed at the end of a value", 4),
        ("x ab.c*", "a wildcard on message words needs letters and digits before the `*` (like `time*`)", 2),
        ("message:登录*", "a wildcard on message words needs letters and digits before the `*` (like `time*`)", 8),
    ];
    let mut wrong = Vec::new();
    for &(query, message, position) in cases {
        let want = Err(ParseError { message: message.to_owned(), position });
        let got = parse(query);
        if got != want {
            wrong.push(format!("{query:?}:\n   got {got:?}\n  want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn display_names_the_position() {
    let e = parse("a OR").unwrap_err();
    assert_eq!(e.to_string(), "expected a term, found the end of the query (at character 4)");
}

#[test]
fn too_long() {
    let message = format!("the query is longer than {MAX_QUERY_BYTES} bytes");
    assert_eq!(MAX_QUERY_BYTES, 4096);
    let at_limit = "a ".repeat(2048);
    assert!(parse(&at_limit).is_ok());
    let long = "a ".repeat(2049);
    assert_eq!(parse(&long), Err(ParseError { message: message.clone(), position: 4096 }));
    // The position counts characters: the first one that starts past the limit.
    let wide = "é".repeat(2049);
    assert_eq!(parse(&wide), Err(ParseError { message, position: 2048 }));
}

#[test]
fn too_deep() {
    let message = format!("the query is nested deeper than {MAX_DEPTH} levels");
    assert_eq!(MAX_DEPTH, 32);
    let ok = format!("{}a{}", "(".repeat(32), ")".repeat(32));
    assert!(parse(&ok).is_ok());
    let parens = format!("{}a{}", "(".repeat(33), ")".repeat(33));
    assert_eq!(parse(&parens), Err(ParseError { message: message.clone(), position: 32 }));
    let nots = format!("{}a", "NOT ".repeat(33));
    assert_eq!(parse(&nots), Err(ParseError { message: message.clone(), position: 128 }));
    let minuses = format!("x {}a", "-".repeat(33));
    assert_eq!(parse(&minuses), Err(ParseError { message: message.clone(), position: 34 }));
    let mixed = format!("{}a{}", "NOT (".repeat(17), ")".repeat(17));
    assert_eq!(parse(&mixed), Err(ParseError { message, position: 80 }));
}
