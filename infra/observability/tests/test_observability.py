"""Self-observability: the alert rules (promtool), the dashboard's queries against the metric
catalogue, and a real Prometheus scraping a running NexusLog whose every dashboard query then
returns data."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OBS = ROOT / "infra" / "observability"
RULES = OBS / "prometheus" / "nexuslog-alerts.yml"
DASHBOARD = OBS / "grafana" / "nexuslog.json"
TELEMETRY = ROOT / "nexuslog" / "src" / "telemetry.rs"


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"`{name}` is not installed: run `bash scripts/ops-deps.sh` (Debian's prometheus package)")
    return path


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    assert p.returncode == 0, f"{args} exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def catalogue():
    """Metric name → kind, from nexuslog/src/telemetry.rs (held to the code by its own test)."""
    found = re.findall(r'\("((?:nexuslog|process)_[a-z0-9_]+)", Kind::(\w+)', TELEMETRY.read_text())
    assert len(found) > 30
    return dict(found)


def metric_names(expr):
    """Metric names an expression reads: identifiers left once strings, label matchers, ranges
    and grouping clauses are removed, and that are not functions or operators."""
    expr = re.sub(r'"[^"]*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        if m.group(2) or m.group(1) in ("and", "or", "unless", "bool", "offset", "inf", "nan"):
            continue
        names.add(m.group(1))
    return names


def panel_queries():
    dash = json.loads(DASHBOARD.read_text())
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def promql(expr):
    """The dashboard's Grafana variables as a Prometheus query needs them."""
    return expr.replace("$__rate_interval", "1m").replace('job=~"$job"', 'job=~".+"')


def test_rules_pass_promtool_check():
    out = run([tool("promtool"), "check", "rules", str(RULES)])
    assert "SUCCESS" in out


def test_every_alert_has_a_promtool_unit_test():
    run([tool("promtool"), "test", "rules", "nexuslog-alerts.test.yml"], cwd=RULES.parent)
    import yaml

    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load((RULES.parent / "nexuslog-alerts.test.yml").read_text())["tests"]
    tested = {t["alertname"] for test in tests for t in test.get("alert_rule_test", []) if t["exp_alerts"]}
    assert alerts == tested, f"alerts without a firing test: {alerts - tested}"


def test_dashboard_and_rules_name_existing_metrics():
    import yaml

    known = catalogue()
    exprs = list(panel_queries())
    exprs += [(r.get("alert") or r["record"], r["expr"]) for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    records = {r["record"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "record" in r}
    for title, expr in exprs:
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr}"
        for name in names:
            if name in ("up", "vector") or name in records:
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if base != name:
                assert known.get(base) == "Histogram", f"{title}: {name} is not a histogram's series"
            else:
                assert name in known, f"{title}: {name} is not a metric NexusLog exports"
    # Every part the issue asks the dashboard for is there.
    titles = " ".join(t for t, _ in exprs).lower()
    for part in ["ingest rate", "rejects", "lag", "processing latency", "indexing latency", "freshness", "dead letters", "alert evaluation", "error ratio", "cpu", "memory"]:
        assert part in titles, part


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def wait_for(what, check, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def nexuslog(tmp_path):
    """A standalone NexusLog with some traffic: accepted and rejected lines, searches, a refused
    key, an alert rule that fires."""
    port = free_port()
    key = "nxl_" + uuid.uuid4().hex
    password = "observability-" + uuid.uuid4().hex[:8]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NEXUSLOG_DATA_DIR": str(tmp_path / "data"),
        "NEXUSLOG_HTTP_ADDR": f"127.0.0.1:{port}",
        "NEXUSLOG_BOOTSTRAP_API_KEY": key,
        "NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD": password,
        "NEXUSLOG_LOG_LEVEL": "warn",
    }
    log = open(tmp_path / "nexuslog.log", "w")
    proc = subprocess.Popen([os.environ["NEXUSLOG_BIN"], "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("NexusLog ready", lambda: http(base + "/readyz")[0] == 200 or proc.poll() is not None)
        assert proc.poll() is None, (tmp_path / "nexuslog.log").read_text()
        status, body = http(base + "/v1/auth/login", json.dumps({"email": "admin@localhost", "password": password}).encode(), {"Content-Type": "application/json"})
        assert status == 200, body
        token = json.loads(body)["access_token"]
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        rule = {"name": "errors", "query": "level:error", "window": "1m", "aggregation": {"count": {}}, "condition": {"op": ">", "threshold": 1}, "severity": "warning"}
        status, body = http(base + "/v1/projects/default/alert-rules", json.dumps(rule).encode(), auth)
        assert status in (200, 201), body
        yield {"base": base, "key": key, "proc": proc, "log": tmp_path / "nexuslog.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def traffic(n, key):
    bearer = {"Authorization": f"Bearer {key}"}
    lines = "\n".join(json.dumps({"message": f"request {i} failed", "level": "error" if i % 2 else "info"}) for i in range(20))
    for _ in range(3):
        assert http(n["base"] + "/v1/logs/bulk", (lines + "\n{broken json").encode(), bearer)[0] == 200
        http(n["base"] + "/v1/search?q=failed&from=now-15m", headers=bearer)
    http(n["base"] + "/v1/logs/bulk", b"{}", {"Authorization": "Bearer nxl_wrong"})


def test_prometheus_scrapes_nexuslog_and_every_dashboard_query_returns_data(nexuslog, tmp_path):
    prom_port = free_port()
    target = nexuslog["base"].removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [{json.dumps(str(RULES))}]\n"
        f"scrape_configs:\n  - job_name: nexuslog\n    static_configs:\n      - targets: [{json.dumps(target)}]\n"
    )
    prom_log = open(tmp_path / "prometheus.log", "w")
    prom = subprocess.Popen(
        [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=prom_log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{prom_port}/api/v1"

    def query(expr):
        status, body = http(f"{api}/query?" + urllib.parse.urlencode({"query": expr}))
        assert status == 200, f"{expr}: {body}"
        return json.loads(body)["data"]["result"]

    try:
        wait_for("Prometheus up", lambda: http(f"{api}/status/buildinfo")[0] == 200)
        wait_for("the scrape target up", lambda: any(r["value"][1] == "1" for r in query('up{job="nexuslog"}')))
        # Rates need two samples on each side of the traffic.
        traffic(nexuslog, nexuslog["key"])
        time.sleep(3)
        traffic(nexuslog, nexuslog["key"])
        wait_for("records indexed and scraped", lambda: query("nexuslog_sink_indexed_total"))
        wait_for("the alert evaluator's metrics scraped", lambda: query("nexuslog_alert_evaluation_duration_seconds_count"), timeout=60)
        time.sleep(3)
        # Counters that appear only at their first event, which this healthy run never has.
        quiet = {
            "nexuslog_processor_dead_letters_total",
            "nexuslog_pipeline_step_failures_total",
            "nexuslog_alert_notifications_sent_total",
            "nexuslog_alert_notifications_failed_total",
            "nexuslog_alert_notifications_retried_total",
            "nexuslog_syslog_parse_failures_total",
            "nexuslog_syslog_refused_total",
        }
        empty = []
        for title, expr in panel_queries():
            if metric_names(expr) <= quiet:
                continue
            if not query(promql(expr)):
                empty.append(f"{title}: {expr}")
        assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
        # Lag per partition of every group, and the recording rule on it.
        groups = {r["metric"]["group"] for r in query("nexuslog_consumer_lag_records")}
        assert groups == {"nexuslog-processors", "nexuslog-indexers", "nexuslog-alert-evaluator", "nexuslog-notifier"}
        wait_for("the recording rule evaluated", lambda: query("nexuslog:consumer_lag_records:sum"))
        status = {r["metric"]["status"] for r in query('nexuslog_http_requests_total{route="/v1/logs/bulk"}')}
        assert {"200", "401"} <= status
        # No alert about NexusLog itself fires on a healthy instance.
        firing = [a["labels"]["alertname"] for a in json.loads(http(f"{api}/alerts")[1])["data"]["alerts"] if a["state"] == "firing"]
        assert not firing, firing
    finally:
        prom.terminate()
        prom.wait(timeout=30)
        prom_log.close()


def test_readme_lists_every_metric():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `((?:nexuslog|process)_[a-z0-9_]+)` \| (\w+) \|", readme, re.M))
    assert listed == {(name, kind.lower()) for name, kind in catalogue().items()}, "README's metric table (Operating) differs from nexuslog/src/telemetry.rs"
