"""The container image, without Docker: the Dockerfile passes hadolint, and its entrypoint runs on
this machine with exactly the command line and environment the chart gives each role (plus the
service-link variables Kubernetes injects), against the real services, until every role is
ready and a log sent through the gateway is found through the API.

What differs from a pod, and why: files the chart mounts (the ConfigMap, /var/lib/nexuslog) live
in a temporary directory, and each process gets its own loopback port instead of 8000 (all
processes share this machine's network, where a pod has its own).
"""
import base64
import json
import os
import re
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from chartlib import CHART, ROOT, component, named, of_kind, render, run, tool, workloads

DOCKERFILE = ROOT / "Dockerfile"


def test_dockerfile_passes_hadolint():
    run([tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)])


def image_runtime():
    """ENTRYPOINT, CMD, ENV and USER of the Dockerfile's final stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stage, env = [], {}
    for line in text.splitlines():
        if line.startswith("FROM "):
            stage, env = [], {}
        stage.append(line)
    out = {"env": env}
    for line in stage:
        word, _, rest = line.partition(" ")
        if word == "ENTRYPOINT":
            out["entrypoint"] = json.loads(rest)
        elif word == "CMD":
            out["cmd"] = json.loads(rest)
        elif word == "ENV":
            for pair in shlex.split(rest):
                k, v = pair.split("=", 1)
                env[k] = v
        elif word == "USER":
            out["user"] = rest.strip()
    return out


def test_image_runs_the_binary_as_non_root_with_a_healthcheck():
    rt = image_runtime()
    assert rt["entrypoint"] == ["/usr/local/bin/nexuslog"] and rt["cmd"] == ["standalone"]
    assert rt["user"].split(":")[0] not in ("0", "root")
    assert 'CMD ["/usr/local/bin/nexuslog", "healthcheck"]' in DOCKERFILE.read_text()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_links(docs):
    """The variables the kubelet injects into every pod for each Service of its namespace."""
    out = {}
    for svc in of_kind(docs, "Service"):
        if svc["spec"].get("clusterIP") == "None":
            continue
        name = svc["metadata"]["name"].upper().replace("-", "_")
        ip = "10.96.0.%d" % (len(out) % 250 + 1)
        ports = svc["spec"]["ports"]
        out[f"{name}_SERVICE_HOST"] = ip
        out[f"{name}_SERVICE_PORT"] = str(ports[0]["port"])
        for p in ports:
            proto = p.get("protocol", "TCP")
            if "name" in p:
                out[f"{name}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
            base = f"{name}_PORT_{p['port']}_{proto}"
            out[base] = f"{proto.lower()}://{ip}:{p['port']}"
            out[f"{base}_PROTO"] = proto.lower()
            out[f"{base}_PORT"] = str(p["port"])
            out[f"{base}_ADDR"] = ip
        out[f"{name}_PORT"] = f"{ports[0].get('protocol', 'TCP').lower()}://{ip}:{ports[0]['port']}"
    return out


def secret_data(docs, secrets):
    """Every Secret's data by name: the chart's own, decoded, and the given ones."""
    own = {s["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()} for s in of_kind(docs, "Secret")}
    own.update(secrets)
    return own


def secret_files(workload, docs, secrets, root):
    """The files of the container's Secret volumes that list their items, written under `root`;
    returns {mount path: local directory}."""
    spec = workload["spec"]["template"]["spec"]
    data = secret_data(docs, secrets)
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    mapped = {}
    for v in spec["volumes"]:
        if "secret" in v and v["secret"].get("items") and v["name"] in mounts:
            local = root / v["name"]
            local.mkdir(parents=True, exist_ok=True)
            for item in v["secret"]["items"]:
                (local / item["path"]).write_text(data[v["secret"]["secretName"]][item["key"]])
            mapped[mounts[v["name"]]] = str(local)
    return mapped


def container_env(workload, docs, pod_name, secrets):
    """The container's environment as the kubelet resolves it: values with $(VAR) expansion,
    Secret keys, the pod name."""
    own = secret_data(docs, secrets)
    env = {}
    for e in workload["spec"]["template"]["spec"]["containers"][0]["env"]:
        if "value" in e:
            env[e["name"]] = re.sub(r"\$\(([A-Za-z0-9_]+)\)", lambda m: env.get(m.group(1), m.group(0)), e["value"])
        elif "secretKeyRef" in e["valueFrom"]:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = own[ref["name"]][ref["key"]]
        elif e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name":
            env[e["name"]] = pod_name
    return env


class Pod:
    """One container of a rendered workload, run as the image would run it."""

    def __init__(self, workload, docs, tmp, secrets=None, ordinal=0):
        self.name = f"{workload['metadata']['name']}-{ordinal}" if workload["kind"] == "StatefulSet" else f"{workload['metadata']['name']}-7d4b9c-x2x9z"
        self.role = component(workload)
        self.dir = tmp / self.name
        (self.dir / "data").mkdir(parents=True)
        rt = image_runtime()
        container = workload["spec"]["template"]["spec"]["containers"][0]
        self.port = free_port()
        (cm,) = of_kind(docs, "ConfigMap")
        toml = cm["data"]["nexuslog.toml"].replace('"/var/lib/nexuslog"', json.dumps(str(self.dir / "data")))
        toml = toml.replace('"0.0.0.0:8000"', f'"127.0.0.1:{self.port}"')
        self.syslog_ports = {}
        for proto in ("tcp", "udp"):
            m = re.search(rf'{proto}_addr = "0.0.0.0:(\d+)"', toml)
            if m:
                self.syslog_ports[proto] = free_port()
                toml = toml.replace(m.group(0), f'{proto}_addr = "127.0.0.1:{self.syslog_ports[proto]}"')
        for mount, local in secret_files(workload, docs, secrets or {}, self.dir).items():
            toml = toml.replace(f'"{mount}/', f'"{local}/')
        (self.dir / "nexuslog.toml").write_text(toml)
        mapped = {"/etc/nexuslog/nexuslog.toml": str(self.dir / "nexuslog.toml"), "/var/lib/nexuslog": str(self.dir / "data")}
        env = {k: mapped.get(v, v) for k, v in rt["env"].items()}
        env.update({k: mapped.get(v, v) for k, v in container_env(workload, docs, self.name, secrets or {}).items()})
        env.update(service_links(docs))
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        binary = os.environ["NEXUSLOG_BIN"]
        self.argv = [binary if a == "/usr/local/bin/nexuslog" else a for a in rt["entrypoint"]] + container.get("args", rt["cmd"])
        self.log = open(self.dir / "stderr.log", "w")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self):
        self.log.flush()
        return (self.dir / "stderr.log").read_text()[-4000:]

    def healthcheck(self):
        """The image's HEALTHCHECK command, with the container's environment."""
        return subprocess.run(self.argv[:1] + ["healthcheck"], env=self.env, capture_output=True, text=True).returncode

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def http(url, data=None, headers=None, timeout=5):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def wait_ready(pods, timeout=120):
    deadline = time.time() + timeout
    pending = list(pods)
    while pending and time.time() < deadline:
        for p in list(pending):
            assert p.proc.poll() is None, f"{p.name} exited {p.proc.returncode}:\n{p.output()}"
            status, _ = http(p.url("/readyz"))
            if status == 200:
                pending.remove(p)
        time.sleep(0.3)
    assert not pending, "not ready: " + "; ".join(f"{p.name}: {http(p.url('/readyz'))} {p.output()}" for p in pending)


def create_database(name):
    base = os.environ["NEXUSLOG_TEST_POSTGRES_URL"]
    run(["psql", base, "-qc", f"CREATE DATABASE {name}"])
    return base.rsplit("/", 1)[0] + "/" + name


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def ingest_and_find(gateway, api, key, marker):
    body = json.dumps({"message": f"chart entrypoint test {marker}", "level": "info", "service": "helm-test"}).encode()
    status, text = http(gateway.url("/v1/logs/bulk"), body, {"Authorization": f"Bearer {key}"})
    assert status == 200 and json.loads(text)["accepted"] == 1, (status, text)

    def found():
        status, text = http(api.url(f"/v1/search?q={marker}&from=now-15m"), headers={"Authorization": f"Bearer {key}"})
        return status == 200 and json.loads(text)["total"] >= 1

    wait_for(f"{marker} searchable through the API", found, timeout=90)


@pytest.fixture
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("pods")


def test_every_distributed_role_starts_from_the_chart_environment(tmp):
    """gateway, processor (two StatefulSet replicas), sink and api, each from its rendered
    workload, on Kafka, OpenSearch, PostgreSQL, Redis and the schema registry, with every
    credential from existing Secrets as in production."""
    run_id = uuid.uuid4().hex[:10]
    pg = create_database(f"helm_{run_id}")
    user_pw = re.match(r"postgres://([^:]+):([^@]+)@([^:/]+):(\d+)/", os.environ["NEXUSLOG_TEST_POSTGRES_URL"])
    redis = re.match(r"redis://([^:/]+):(\d+)", os.environ["NEXUSLOG_TEST_REDIS_URL"])
    key = "nxl_" + uuid.uuid4().hex
    secrets = {
        "pg": {"password": user_pw.group(2)},
        "boot": {"api-key": key, "admin-password": "correct-horse-battery-" + run_id},
        "auth": {"jwt-secret": "j" * 40},
    }
    docs = render(
        sets=[
            f"kafka.brokers={{{os.environ['NEXUSLOG_TEST_KAFKA_BROKERS']}}}",
            "kafka.partitions=2",
            "kafka.replicationFactor=1",
            f"kafka.topicPrefix=helm-{run_id}.",
            "processor.autoscaling.maxReplicas=2",
            "sink.autoscaling.maxReplicas=2",
            f"opensearch.url={os.environ['NEXUSLOG_TEST_OPENSEARCH_URL']}",
            f"opensearch.indexPrefix=helm-{run_id}-",
            f"postgresql.host={user_pw.group(3)}",
            f"postgresql.port={user_pw.group(4)}",
            f"postgresql.username={user_pw.group(1)}",
            f"postgresql.database=helm_{run_id}",
            "postgresql.existingSecret=pg",
            f"redis.host={redis.group(1)}",
            f"redis.port={redis.group(2)}",
            "redis.database=3",
            f"schemaRegistry.url={os.environ['NEXUSLOG_TEST_SCHEMA_REGISTRY_URL']}",
            "bootstrap.existingSecret=boot",
            "bootstrap.existingSecretApiKeyKey=api-key",
            "bootstrap.existingSecretAdminPasswordKey=admin-password",
            "auth.existingSecret=auth",
            "syslog.enabled=true",
            "syslog.defaultProject=default",
        ]
    )
    assert pg.endswith(f"/helm_{run_id}")
    by_role = {component(w): w for w in workloads(docs)}
    pods = []
    try:
        # The gateway first: with the API it bootstraps the metadata store (migrations under the
        # advisory lock); every role then starts at once, as a rollout does.
        for role in ["gateway", "processor", "sink", "api"]:
            pods.append(Pod(by_role[role], docs, tmp, secrets))
        pods.append(Pod(by_role["processor"], docs, tmp, secrets, ordinal=1))
        for p in pods:
            assert "NEXUSLOG_GATEWAY_SERVICE_HOST" in p.env and "NEXUSLOG_API_PORT_8000_TCP_ADDR" in p.env
        wait_ready(pods, timeout=180)
        for p in pods:
            assert p.healthcheck() == 0, p.name
        gateway, api = pods[0], pods[3]
        ingest_and_find(gateway, api, key, f"distributed{run_id}")
        # The processors' transactional identities are their pod names.
        assert {p.env["NEXUSLOG_BUS_KAFKA_INSTANCE_ID"] for p in pods if p.role == "processor"} == {"nexuslog-processor-0", "nexuslog-processor-1"}
        # Metrics of each role, on the port the ServiceMonitor scrapes.
        status, text = http(pods[2].url("/metrics"))
        assert status == 200 and 'nexuslog_build_info{version="' in text and 'role="sink"' in text
    finally:
        for p in pods:
            p.stop()


def test_standalone_starts_from_the_chart_environment(tmp):
    docs = render(values=[CHART / "ci/standalone-values.yaml"])
    (w,) = workloads(docs)
    pod = Pod(w, docs, tmp)
    try:
        assert "NEXUSLOG_STANDALONE_SERVICE_HOST" in pod.env, "service links injected"
        assert pod.healthcheck() == 1, "unhealthy before it listens"
        wait_ready([pod], timeout=120)
        assert pod.healthcheck() == 0
        (secret,) = of_kind(docs, "Secret")
        key = base64.b64decode(secret["data"]["bootstrap-api-key"]).decode()
        ingest_and_find(pod, pod, key, f"standalone{uuid.uuid4().hex[:8]}")
        # Syslog over UDP into the default project.
        marker = f"syslogudp{uuid.uuid4().hex[:8]}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(f"<14>1 2026-01-01T00:00:00Z host app - - - {marker}".encode(), ("127.0.0.1", pod.syslog_ports["udp"]))

        def found():
            status, text = http(pod.url(f"/v1/search?q={marker}&from=2025-12-31T00:00:00Z"), headers={"Authorization": f"Bearer {key}"})
            return status == 200 and json.loads(text)["total"] >= 1

        wait_for("the syslog message", found)
    finally:
        pod.stop()
    assert (pod.dir / "data" / "meta.sqlite").exists(), "data_dir is the mounted volume"
