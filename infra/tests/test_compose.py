"""docker-compose.yml: valid against the Compose Specification (compose-go, the reference
loader), complete, and every NexusLog role's environment is a configuration NexusLog accepts."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ROLES = ["gateway", "processor", "sink", "api"]


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"`{name}` is not installed: run `bash scripts/ops-deps.sh`")
    return path


def run(args, env=None, cwd=None):
    p = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    assert p.returncode == 0, f"{args} exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def services(*overlays):
    files = ",".join(str(f) for f in (COMPOSE, *overlays))
    return json.loads(run([tool("opscheck"), "compose", files, str(ROOT / ".env.example")]))


def test_compose_file_follows_the_compose_specification_and_holds_the_stack():
    assert set(services()) == {"kafka", "opensearch", "postgres", "redis", "schema-registry", *ROLES, "prometheus", "grafana"}


def test_compose_refuses_to_start_without_the_passwords(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    p = subprocess.run([tool("opscheck"), "compose", str(COMPOSE), str(empty)], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode != 0 and "POSTGRES_PASSWORD" in p.stderr, p.stderr


def test_every_role_environment_is_a_valid_nexuslog_configuration():
    doc = yaml.safe_load(COMPOSE.read_text())
    for role in ROLES:
        env = services()[role]
        assert env["NEXUSLOG_BUS_KIND"] == "kafka" and env["NEXUSLOG_LOGSTORE_KIND"] == "opensearch"
        out = run([os.environ["NEXUSLOG_BIN"], "config", "check"], env={"PATH": os.environ.get("PATH", ""), **env})
        assert "configuration is valid" in out, role
        assert doc["services"][role]["command"] == [role]
    assert services()["processor"]["NEXUSLOG_BUS_KAFKA_INSTANCE_ID"] == "processor-1"


def test_prometheus_and_grafana_are_provisioned():
    obs = ROOT / "infra/observability"
    out = run([tool("promtool"), "check", "config", str(obs / "prometheus/prometheus.yml")])
    assert "SUCCESS" in out
    doc = yaml.safe_load(COMPOSE.read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in doc["services"]["grafana"]["volumes"] if v.startswith("./")}
    provider = yaml.safe_load((obs / "grafana/provisioning/dashboards/nexuslog.yml").read_text())["providers"][0]
    dashboard = [target for target, source in mounts.items() if source.endswith("nexuslog.json")][0]
    assert Path(dashboard).parent.as_posix() == provider["options"]["path"]
    assert (ROOT / mounts[dashboard]).is_file() and (ROOT / mounts["/etc/grafana/provisioning"]).is_dir()
    datasource = yaml.safe_load((obs / "grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    targets = yaml.safe_load((obs / "prometheus/prometheus.yml").read_text())["scrape_configs"][0]["static_configs"]
    assert {t["targets"][0] for t in targets} == {f"{r}:8000" for r in ROLES}


def test_the_https_overlay_turns_https_on_for_every_role():
    overlay = ROOT / "docker-compose.https.yml"
    merged = services(overlay)
    for role in ROLES:
        env = merged[role]
        assert env["NEXUSLOG_HTTP_TLS_CERT"] == "/etc/nexuslog/tls/tls.crt" and env["NEXUSLOG_HTTP_TLS_KEY"] == "/etc/nexuslog/tls/tls.key"
        # The rest of the role's settings survive the merge.
        assert env["NEXUSLOG_BUS_KIND"] == "kafka", role
        out = run([os.environ["NEXUSLOG_BIN"], "config", "check"], env={"PATH": os.environ.get("PATH", ""), **env})
        assert "configuration is valid" in out, role
    doc = yaml.safe_load(overlay.read_text())
    assert doc["services"]["prometheus"]["volumes"] == ["./infra/observability/prometheus/prometheus-https.yml:/etc/prometheus/prometheus.yml:ro"]
    scrape = ROOT / "infra/observability/prometheus/prometheus-https.yml"
    assert "SUCCESS" in run([tool("promtool"), "check", "config", str(scrape)])
    job = yaml.safe_load(scrape.read_text())["scrape_configs"][0]
    assert job["scheme"] == "https"
    plain = yaml.safe_load((ROOT / "infra/observability/prometheus/prometheus.yml").read_text())["scrape_configs"][0]
    assert job["static_configs"] == plain["static_configs"], "the two scrape files list the same roles"
