"""Helpers of the chart tests: the tools (failing with what to install when one is missing) and
rendering the chart."""
import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "nexuslog"
CI = CHART / "ci"
RELEASE, NAMESPACE = "nexuslog", "logging"
CRD_APIS = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule", "gateway.networking.k8s.io/v1/HTTPRoute"]


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"`{name}` is not installed: run `bash scripts/ops-deps.sh` (scripts/ops-test.sh does)")
    return path


def run(args, check=True, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def template_args(values=(), sets=(), api_versions=(), release=RELEASE):
    args = [tool("helm"), "template", release, str(CHART), "--namespace", NAMESPACE]
    for v in values:
        args += ["-f", str(v)]
    for s in sets:
        args += ["--set", s]
    for a in api_versions:
        args += ["--api-versions", a]
    return args


def render_text(values=(), sets=(), api_versions=(), release=RELEASE):
    return run(template_args(values, sets, api_versions, release)).stdout


def render(values=(), sets=(), api_versions=(), release=RELEASE):
    return [d for d in yaml.safe_load_all(render_text(values, sets, api_versions, release)) if d]


def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def named(docs, kind, suffix):
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"one {kind} named *{suffix}: {[d['metadata']['name'] for d in of_kind(docs, kind)]}"
    return found[0]


def workloads(docs):
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]


def env_of(workload):
    return {e["name"]: e for e in workload["spec"]["template"]["spec"]["containers"][0]["env"]}


def component(doc):
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


def env_or(name, default):
    return os.environ.get(name, default)
