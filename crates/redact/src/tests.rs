use super::*;
use proptest::prelude::*;

fn on(spec: &RedactionSpec) -> Redactor {
    Redactor::new(spec, b"project key").expect("spec")
}

fn builtins() -> Redactor {
    on(&RedactionSpec::default())
}

fn text(r: &Redactor, input: &str) -> (String, Vec<String>) {
    let out = r.apply(input.as_bytes());
    (String::from_utf8(out.bytes.into_owned()).expect("utf-8"), out.fired.into_iter().map(str::to_owned).collect())
}

// Test values, assembled so that this file holds no secret-looking literal.
const CARD: &str = "4111 1111 1111 1111";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXZhbHVlLXh5eg";

fn aws_key_id() -> String {
    format!("AKIA{}", "IOSFODNN7EXAMPLE")
}

fn aws_secret() -> String {
    format!("wJalrXUtnFEMI/K7MDENG/{}", "bPxRfiCYEXAMPLEKEY")
}

#[test]
fn each_builtin_redacts_its_secret_and_says_so() {
    let r = builtins();
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\nMIIEow{}\n-----END RSA PRIVATE KEY-----", "IBAAKCAQEA");
    let cases = [
        (format!("paid with {CARD} today"), CARD.to_owned(), "credit_card"),
        (r#"{"card":"4111-1111-1111-1111"}"#.to_owned(), "4111-1111-1111-1111".to_owned(), "credit_card"),
        (format!("session {JWT} ok"), JWT.to_owned(), "jwt"),
        (format!("key {} used", aws_key_id()), aws_key_id(), "aws_access_key_id"),
        (format!("aws_secret_access_key={}", aws_secret()), aws_secret(), "aws_secret_access_key"),
        ("Authorization: Bearer abcDEF123456.xyz".to_owned(), "abcDEF123456.xyz".to_owned(), "bearer_token"),
        (r#"{"authorization":"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}"#.to_owned(), "YWxhZGRpbjpvcGVuc2VzYW1l".to_owned(), "bearer_token"),
        (format!("key: {pem} end"), "MIIEowIBAAKCAQEA".to_owned(), "private_key"),
        (r#"{"user":"ann","password":"hunter2-secret"}"#.to_owned(), "hunter2-secret".to_owned(), "secret_field"),
        (r#"{"Client_Secret": "s3cr3t-value"}"#.to_owned(), "s3cr3t-value".to_owned(), "secret_field"),
        ("login user=ann password=hunter2 ok".to_owned(), "hunter2".to_owned(), "secret_key_value"),
        ("GET /cb?token=tok-9a8b7c6d&x=1".to_owned(), "tok-9a8b7c6d".to_owned(), "secret_key_value"),
    ];
    for (input, secret, rule) in cases {
        let (out, fired) = text(&r, &input);
        assert!(!out.contains(&secret), "{rule}: {secret:?} still in {out:?}");
        assert!(fired.iter().any(|f| f == rule), "{rule} did not fire on {input:?}: {fired:?}");
    }
}

#[test]
fn masks_keep_the_last_four_and_keys_stay_readable() {
    let r = builtins();
    assert_eq!(text(&r, &format!("card {CARD}")).0, "card ***************1111");
    assert_eq!(text(&r, "password=hunter2 next").0, "password=[REDACTED] next");
    assert_eq!(text(&r, r#"{"a":1,"token":"t-123456"}"#).0, r#"{"a":1,"token":"[REDACTED]"}"#);
}

#[test]
fn ordinary_text_is_left_alone() {
    let r = builtins();
    for input in [
        "GET /index.html 200 1234 ms=15",
        "order 1234567890123 shipped", // 13 digits failing Luhn
        "2026-12-06 13:45:12,123 INFO started in 4111 ms",
        "tokens parsed: 12; secretary hired",
        "basic configuration loaded; bearer information follows",
        r#"{"message":"user logged in","level":"info","latency_ms":1500}"#,
        "0000000000000000",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736",
    ] {
        let out = r.apply(input.as_bytes());
        assert!(matches!(out.bytes, Cow::Borrowed(_)), "{input:?} changed to {:?}", String::from_utf8_lossy(&out.bytes));
        assert!(out.fired.is_empty());
    }
}

#[test]
fn hashes_correlate_within_a_project_and_differ_across_keys() {
    let spec = RedactionSpec { builtins: [("jwt".to_owned(), BuiltinSetting::Action(Action::Hash))].into(), rules: vec![] };
    let a = Redactor::new(&spec, b"key A").expect("spec");
    let b = Redactor::new(&spec, b"key B").expect("spec");
    let (one, _) = text(&a, &format!("t={JWT}"));
    let (two, _) = text(&a, &format!("again {JWT}"));
    let (other, _) = text(&b, &format!("t={JWT}"));
    let token = one.trim_start_matches("t=").to_owned();
    assert!(token.starts_with("hmac_") && token.len() == 21, "{token}");
    assert!(two.ends_with(&token), "equal values give equal tokens");
    assert_ne!(other, one, "another project's key gives another token");
}

#[test]
fn builtins_can_be_turned_off_or_given_another_action() {
    let spec = RedactionSpec {
        builtins: [("credit_card".to_owned(), BuiltinSetting::Enabled(false)), ("jwt".to_owned(), BuiltinSetting::Action(Action::Remove))].into(),
        rules: vec![],
    };
    let r = on(&spec);
    assert_eq!(text(&r, &format!("{CARD} {JWT}")).0, format!("{CARD} [REDACTED]"));
    let all_off = RedactionSpec { builtins: BUILTINS.iter().map(|b| (b.name.to_owned(), BuiltinSetting::Enabled(false))).collect(), rules: vec![] };
    assert!(on(&all_off).is_empty());
}

#[test]
fn custom_pattern_and_field_rules() {
    let spec = RedactionSpec {
        builtins: BTreeMap::new(),
        rules: vec![
            CustomRule { name: "employee".into(), pattern: Some(r"EMP-(\d{6})".into()), field: None, action: Action::Hash },
            CustomRule { name: "ssn".into(), pattern: None, field: Some("ssn".into()), action: Action::Remove },
            CustomRule { name: "phone".into(), pattern: None, field: Some("phone".into()), action: Action::Mask },
        ],
    };
    let r = on(&spec);
    let (out, fired) = text(&r, r#"{"message":"badge EMP-123456 used","ssn":"078-05-1120","phone":5551234567}"#);
    let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
    assert!(v.get("ssn").is_none(), "{out}");
    assert_eq!(v["phone"], "******4567");
    let message = v["message"].as_str().expect("message");
    assert!(message.starts_with("badge EMP-hmac_") && !message.contains("123456"), "{message}");
    assert_eq!(fired, ["ssn", "phone", "employee"]);
    // Not JSON: field rules do nothing, patterns still apply.
    assert_eq!(text(&r, "ssn=1 EMP-000001").1, ["employee"]);
}

#[test]
fn specs_that_cannot_work_are_refused_naming_the_rule() {
    let rule = |name: &str, pattern: Option<&str>, field: Option<&str>| CustomRule {
        name: name.into(),
        pattern: pattern.map(str::to_owned),
        field: field.map(str::to_owned),
        action: Action::Mask,
    };
    let cases = [
        (RedactionSpec { builtins: [("cards".to_owned(), BuiltinSetting::Enabled(false))].into(), rules: vec![] }, "cards", "no such built-in"),
        (RedactionSpec { rules: vec![rule("bad", Some("(unclosed"), None)], ..Default::default() }, "bad", "pattern"),
        (RedactionSpec { rules: vec![rule("empty", Some("x*"), None)], ..Default::default() }, "empty", "empty text"),
        (RedactionSpec { rules: vec![rule("both", Some("x"), Some("y"))], ..Default::default() }, "both", "either"),
        (RedactionSpec { rules: vec![rule("none", None, None)], ..Default::default() }, "none", "either"),
        (RedactionSpec { rules: vec![rule("jwt", Some("x"), None)], ..Default::default() }, "jwt", "unique name"),
        (RedactionSpec { rules: vec![rule("a b", Some("x"), None)], ..Default::default() }, "a b", "unique name"),
        (RedactionSpec { rules: vec![rule("d", Some("x"), None), rule("d", Some("y"), None)], ..Default::default() }, "d", "unique name"),
        (RedactionSpec { rules: vec![rule("huge", Some(r"\w{1000}\w{1000}\w{1000}"), None)], ..Default::default() }, "huge", "pattern"),
    ];
    for (spec, rule, reason) in cases {
        let e = spec.validate().expect_err(rule);
        assert_eq!(e.rule, rule);
        assert!(e.reason.contains(reason), "{rule}: {e}");
    }
}

#[test]
fn specs_round_trip_as_the_api_takes_them() {
    let json = r#"{"builtins":{"credit_card":false,"jwt":"remove"},"rules":[{"name":"emp","pattern":"EMP-\\d+","action":"hash"},{"name":"ssn","field":"ssn","action":"remove"}]}"#;
    let spec: RedactionSpec = serde_json::from_str(json).expect("parse");
    assert_eq!(spec.builtins["credit_card"], BuiltinSetting::Enabled(false));
    assert_eq!(spec.builtins["jwt"], BuiltinSetting::Action(Action::Remove));
    assert_eq!(serde_json::to_string(&spec).expect("serialize"), json);
    assert!(serde_json::from_str::<RedactionSpec>(r#"{"rulez":[]}"#).is_err());
}

#[test]
fn numbers_that_only_pass_luhn_are_not_cards() {
    // Epoch timestamps passing the Luhn check: milliseconds (13 digits) and nanoseconds (19).
    let ms = (1_765_046_400_000u64..).find(|n| builtin::luhn(n.to_string().as_bytes())).expect("one passes");
    let ns = (1_765_046_400_000_000_000u64..).find(|n| builtin::luhn(n.to_string().as_bytes())).expect("one passes");
    let r = builtins();
    for line in [format!(r#"{{"timestamp":{ms},"message":"x"}}"#), format!("at {ns} done"), "order 9000000000000006".to_owned()] {
        assert_eq!(text(&r, &line), (line.clone(), vec![]), "{line}");
    }
    for card in ["4111111111111111", "5500000000000004", "378282246310005", "6011111111111117", "3530111333300000", "2223000048400011"] {
        assert!(builtin::card_number(card.as_bytes()), "{card}");
    }
}

#[test]
fn luhn_accepts_valid_numbers_only() {
    assert!(builtin::luhn(b"4111111111111111"));
    assert!(builtin::luhn(b"5500-0000-0000-0004"));
    assert!(builtin::luhn(b"378282246310005"));
    assert!(!builtin::luhn(b"4111111111111112"));
    assert!(!builtin::luhn(b"411111111111"), "12 digits");
    assert!(!builtin::luhn(b"0000000000000000"), "one repeated digit");
}

/// The patterns' `(?i)` folds the Kelvin sign onto `k` and the long s onto `s`: the screen
/// lets such text through to them.
#[test]
fn case_folding_beyond_ascii_still_reaches_the_patterns() {
    let r = builtins();
    for (input, rule) in [("to\u{212A}en=abcdef123", "secret_key_value"), ("pa\u{17F}\u{17F}word: hunter2", "secret_key_value")] {
        let (out, fired) = text(&r, input);
        assert!(fired.iter().any(|f| f == rule), "{input:?}: {fired:?} {out:?}");
    }
}

proptest! {
    /// No input makes the redactor fail, and its output never holds a Luhn-valid card number
    /// or a JWT the built-ins look for.
    #[test]
    fn redaction_is_total_and_leaves_no_card(prefix in "[a-zA-Z.,:;=\"{} ]{0,40}", suffix in "[a-zA-Z.,:;=\"{} ]{0,40}", sep in "[ -]?") {
        let r = builtins();
        let card = CARD.replace(' ', &sep);
        let input = format!("{prefix} {card} {suffix}");
        let out = r.apply(input.as_bytes());
        let out = String::from_utf8_lossy(&out.bytes);
        prop_assert!(!out.contains(&card), "{}", out);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = builtins().apply(&bytes);
    }

    /// The screen never passes over a rule that matches: text made of the pieces the patterns
    /// look for, in any case, with digits and separators between, is matched by a rule's
    /// pattern only if the screen named the rule.
    #[test]
    fn the_screen_names_every_rule_that_matches(
        pieces in proptest::collection::vec(prop::sample::select(vec![
            "password", "PassWd", "pwd", "client_secret", "TOKEN", "api_key", "apikey", "private_key", "Bearer ",
            "authorization: basic ", "aws_secret_access_key=", "AKIA", "ASIA", "eyJ", "-----BEGIN RSA PRIVATE KEY-----",
            "-----END RSA PRIVATE KEY-----", "\"", "\":\"", "=", " ", "-", "4111", "1111", "0", "12345", "abcdefghIJKLMNOP",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ".",
        ]), 0..24),
    ) {
        let r = on(&RedactionSpec { rules: vec![CustomRule { name: "order".into(), pattern: Some("(?i)order-[0-9]+".into()), field: None, action: Action::Mask }], ..Default::default() });
        let input = pieces.concat();
        let may = r.candidates(input.as_bytes());
        for (i, rule) in r.text.iter().enumerate() {
            if rule.regex.is_match(input.as_bytes()) {
                prop_assert!(may & (1 << i) != 0, "{} matches {:?} but was screened out", rule.name, input);
            }
        }
    }

    /// Reading one byte in `n` finds the same runs as reading every byte.
    #[test]
    fn digit_runs_are_found_as_by_a_full_scan(text in "[0-9 a-]{0,80}", n in 1usize..16) {
        let full = |t: &[u8]| {
            let mut run = 0;
            for (i, &b) in t.iter().enumerate() {
                if b.is_ascii_digit() {
                    run += 1;
                    if run >= n {
                        return true;
                    }
                } else if !(run > 0 && (b == b' ' || b == b'-') && t.get(i + 1).is_some_and(u8::is_ascii_digit)) {
                    run = 0;
                }
            }
            false
        };
        prop_assert_eq!(builtin::digit_run(text.as_bytes(), n), full(text.as_bytes()), "{:?}", text);
    }
}
