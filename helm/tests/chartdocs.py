#!/usr/bin/env python3
"""values.yaml → values.schema.json and the README's parameter table.

Both are generated from the chart's values.yaml (types from the defaults, descriptions from the
`# --` comments), so the schema rejects every key the chart does not know and the README lists
every value. `python3 helm/tests/chartdocs.py --write` regenerates them; the chart tests fail
when either is stale.
"""
import json
import re
import sys
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parent.parent / "nexuslog"
README = CHART / "README.md"
SCHEMA = CHART / "values.schema.json"
BEGIN, END = "<!-- parameters:begin -->", "<!-- parameters:end -->"

# Maps whose keys are the user's (labels, Kubernetes objects passed through as they are).
FREE_FORM = {
    "commonLabels", "commonAnnotations", "config", "podSecurityContext", "containerSecurityContext",
    "serviceAccount.annotations", "podDefaults.podAnnotations", "podDefaults.podLabels",
    "podDefaults.nodeSelector", "podDefaults.affinity", "ingress.annotations", "httpRoute.annotations",
    "metrics.serviceMonitor.labels", "metrics.serviceMonitor.tlsConfig", "metrics.prometheusRule.labels", "metrics.prometheusRule.additionalAlertLabels",
    "syslog.service.annotations", "standalone.persistence.annotations", "probes.startup", "probes.liveness",
    "probes.readiness",
}
FREE_FORM_SUFFIXES = (".resources", ".service.annotations", ".updateStrategy", ".autoscaling.lag.selector")
ENUMS = {
    "mode": ["distributed", "standalone"],
    "log.format": ["json", "text"],
    "image.pullPolicy": ["Always", "IfNotPresent", "Never"],
    "alerting.smtp.tls": ["starttls", "tls", "none"],
    "syslog.service.type": ["ClusterIP", "NodePort", "LoadBalancer"],
    "syslog.service.externalTrafficPolicy": ["", "Cluster", "Local"],
    "processor.podManagementPolicy": ["OrderedReady", "Parallel"],
}
SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"]
# Keys of podDefaults that every role block may also set.
ROLES = ["gateway", "processor", "sink", "api", "standalone"]
INT_OR_STRING = {"pdb.minAvailable", "pdb.maxUnavailable"}


def descriptions(text):
    """`# --` comments (with their continuation lines) by dotted key path."""
    out, stack, pending = {}, [], None
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("# --"):
            pending = stripped[4:].strip()
            continue
        if stripped.startswith("#"):
            if pending is not None and not stripped.startswith("# -"):
                pending += " " + stripped[1:].strip()
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_]+):", line)
        if not m or stripped.startswith("- "):
            pending = None
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2)))
        if pending is not None:
            out[".".join(k for _, k in stack)] = pending
        pending = None
    return out


def schema_for(path, value, docs):
    s = {}
    if path in docs:
        s["description"] = docs[path]
    key_tail = ".".join(path.split(".")[-2:])
    if path in ENUMS:
        s["enum"] = ENUMS[path]
    elif path.endswith(".service.type"):
        s["enum"] = SERVICE_TYPES
    if key_tail in INT_OR_STRING:
        s["type"] = ["integer", "string"]
        return s
    if path in FREE_FORM or path.endswith(FREE_FORM_SUFFIXES):
        s["type"] = "object"
        return s
    if isinstance(value, bool):
        s["type"] = "boolean"
    elif isinstance(value, int):
        s["type"] = "integer"
    elif isinstance(value, float):
        s["type"] = "number"
    elif isinstance(value, str):
        s["type"] = "string"
    elif isinstance(value, list):
        s["type"] = "array"
        if value and all(isinstance(v, str) for v in value):
            s["items"] = {"type": "string"}
    elif isinstance(value, dict):
        s["type"] = "object"
        s["additionalProperties"] = False
        s["properties"] = {k: schema_for(f"{path}.{k}" if path else k, v, docs) for k, v in value.items()}
    return s


def build_schema(values, docs):
    root = schema_for("", values, docs)
    root["$schema"] = "https://json-schema.org/draft-07/schema#"
    root["title"] = "NexusLog Helm chart values"
    # Each role may override any pod default.
    pod = root["properties"]["podDefaults"]["properties"]
    for role in ROLES:
        props = root["properties"][role]["properties"]
        for k, v in pod.items():
            props.setdefault(k, dict(v, description=f"Overrides `podDefaults.{k}` for this role."))
    root["properties"]["image"]["properties"]["digest"]["pattern"] = "^(sha256:[a-f0-9]{64})?$"
    root["properties"]["bootstrap"]["properties"]["apiKey"]["pattern"] = "^(nxl_[A-Za-z0-9]{32})?$"
    root["properties"]["kafka"]["properties"]["brokers"]["minItems"] = 1
    root["properties"]["kafka"]["properties"]["brokers"]["items"]["pattern"] = "^[^:]+:[0-9]+$"
    return dict(sorted(root.items(), key=lambda kv: kv[0] != "$schema"))


def leaves(values, prefix=""):
    for k, v in values.items():
        path = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v and path not in FREE_FORM and not path.endswith(FREE_FORM_SUFFIXES):
            yield from leaves(v, path)
        else:
            yield path, v


def table(values, docs):
    rows = ["| value | default | description |", "|---|---|---|"]
    for path, v in leaves(values):
        default = json.dumps(v, separators=(", ", ": ")) if not isinstance(v, str) else json.dumps(v)
        desc = docs.get(path) or docs.get(path.rsplit(".", 1)[0], "")
        cell = desc.replace("|", "\\|")
        rows.append(f"| `{path}` | `{default}` | {cell} |")
    return "\n".join(rows)


def generated():
    text = (CHART / "values.yaml").read_text()
    values, docs = yaml.safe_load(text), descriptions(text)
    return values, docs, json.dumps(build_schema(values, docs), indent=2) + "\n", table(values, docs)


def readme_with(table_text):
    readme = README.read_text()
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table_text}\n{END}{tail}"


if __name__ == "__main__":
    values, docs, schema, table_text = generated()
    missing = [p for p, _ in leaves(values) if p not in docs and p.rsplit(".", 1)[0] not in docs]
    if missing:
        sys.exit(f"values without a `# --` description: {missing}")
    if "--write" in sys.argv:
        SCHEMA.write_text(schema)
        README.write_text(readme_with(table_text))
        print(f"wrote {SCHEMA} and the table in {README}")
    else:
        stale = [str(p) for p, want in ((SCHEMA, schema), (README, readme_with(table_text))) if p.read_text() != want]
        if stale:
            sys.exit(f"stale: {stale}; run python3 helm/tests/chartdocs.py --write")
        print("values.schema.json and README are current")
