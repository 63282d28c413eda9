//! The command line: help, configuration errors that name the key, unreachable services.

use std::process::Command;

fn nexuslog(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexuslog"));
    cmd.args(args).env_remove("NEXUSLOG_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("nexuslog runs")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_explains_every_role() {
    let out = nexuslog(&["--help"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for role in ["standalone", "gateway", "processor", "sink", "api", "config"] {
        assert!(text.contains(role), "--help mentions {role}");
    }
}

#[test]
fn unknown_and_invalid_keys_are_refused_with_their_name() {
    let out = nexuslog(&["config", "check"], &[("NEXUSLOG_BUS_KAFKA_BROKERZ", "x")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("NEXUSLOG_BUS_KAFKA_BROKERZ"), "{}", stderr(&out));

    let out = nexuslog(&["config", "check"], &[("NEXUSLOG_HTTP_ADDR", "port eight thousand")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`http.addr`"), "{}", stderr(&out));

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[logstore]\nkind = \"elasticsearch\"\n").expect("write");
    let out = nexuslog(&["--config", file.to_str().expect("utf-8 path"), "config", "check"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`logstore.kind`") && err.contains("tantivy, opensearch"), "{err}");

    assert!(nexuslog(&["config", "check"], &[]).status.success(), "the defaults are valid");
}

#[test]
fn an_unreachable_service_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = nexuslog(
        &["gateway"],
        &[
            ("NEXUSLOG_DATA_DIR", dir.path().to_str().expect("utf-8 path")),
            ("NEXUSLOG_BUS_KIND", "kafka"),
            ("NEXUSLOG_BUS_KAFKA_BROKERS", "127.0.0.1:1"),
            ("NEXUSLOG_HTTP_ADDR", "127.0.0.1:0"),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("`bus.kafka.brokers`"), "{}", stderr(&out));
}

#[test]
fn config_keys_lists_every_environment_variable_and_hides_secrets() {
    let out = nexuslog(&["config", "keys"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NEXUSLOG_HTTP_ADDR") && text.contains("NEXUSLOG_BUS_KAFKA_BROKERS"));
    let shown = nexuslog(&["config", "show"], &[("NEXUSLOG_BOOTSTRAP_API_KEY", "nxl_secretsecretsecretsecretsecretxy")]);
    assert!(!String::from_utf8_lossy(&shown.stdout).contains("secretsecret"));
}
