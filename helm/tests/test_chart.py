"""The Helm chart: lint, render, Kubernetes schemas, and the properties a chart user relies on."""
import base64
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml

from chartlib import CHART, CI, CRD_APIS, ROOT, component, env_of, named, of_kind, render, render_text, run, template_args, tool, workloads

VALUE_SETS = {
    "default": [],
    "production": [CI / "production-values.yaml"],
    "standalone": [CI / "standalone-values.yaml"],
}
ROLES = ["gateway", "processor", "sink", "api"]


@pytest.mark.parametrize("name", VALUE_SETS)
def test_helm_lint_strict(name):
    run([tool("helm"), "lint", "--strict", str(CHART), *sum((["-f", str(v)] for v in VALUE_SETS[name]), [])])


@pytest.mark.parametrize("kube", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_manifests_validate_against_kubernetes_schemas(name, kube):
    """Every object against the schemas of the oldest Kubernetes the chart supports and of the
    newest, strictly (no unknown fields); the operators' objects (ServiceMonitor,
    PrometheusRule, HTTPRoute) against their Go types."""
    text = run(template_args(VALUE_SETS[name], api_versions=CRD_APIS) + ["--kube-version", kube]).stdout
    docs = [d for d in yaml.safe_load_all(text) if d]
    core = [d for d in docs if "coreos.com" not in d["apiVersion"] and "gateway.networking" not in d["apiVersion"]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "core.yaml"
        path.write_text(yaml.safe_dump_all(core))
        p = run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", kube, "--no-warn", str(path)], check=False)
        assert p.returncode == 0 and "INFO" in p.stdout + p.stderr and "ERROR" not in p.stdout + p.stderr, p.stdout + p.stderr
        all_path = Path(tmp) / "all.yaml"
        all_path.write_text(text)
        checked = yaml.safe_load(run([tool("opscheck"), "crds", str(all_path)]).stdout)
    crds = sorted({d["kind"] for d in docs} & {"ServiceMonitor", "PrometheusRule", "HTTPRoute"})
    assert sorted(checked or {}) == crds


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_container_is_probed_and_restricted(name):
    docs = render(VALUE_SETS[name])
    assert workloads(docs)
    for w in workloads(docs):
        pod = w["spec"]["template"]["spec"]
        assert pod["enableServiceLinks"] is False, w["metadata"]["name"]
        assert pod["automountServiceAccountToken"] is False
        psc = pod["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0 and psc["seccompProfile"]["type"] == "RuntimeDefault"
        (c,) = pod["containers"]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http", "scheme": "HTTP"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http", "scheme": "HTTP"}
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"] and sc["runAsNonRoot"] is True
        assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/var/lib/nexuslog", "/etc/nexuslog/nexuslog.toml"} <= mounts
        assert c["args"] == [component(w)]
        # The pod name is the Kafka instance id (transactional ids, per-instance groups).
        assert env_of(w)["NEXUSLOG_BUS_KAFKA_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        # Spread over zones and hosts unless the user says otherwise.
        keys = {t["topologyKey"] for t in pod["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_distributed_roles_pdbs_hpas_and_statefulset():
    docs = render(VALUE_SETS["default"])
    kinds = {component(w): w["kind"] for w in workloads(docs)}
    assert kinds == {"gateway": "Deployment", "processor": "StatefulSet", "sink": "Deployment", "api": "Deployment"}
    sts = named(docs, "StatefulSet", "-processor")
    assert sts["spec"]["serviceName"] == named(docs, "Service", "-processor-headless")["metadata"]["name"]
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert "volumeClaimTemplates" not in sts["spec"]
    gw = named(docs, "Deployment", "-gateway")
    assert gw["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert gw["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"] == 5
    assert "replicas" not in gw["spec"], "the HPA owns the replica count"
    pdbs = {component(p): p["spec"] for p in of_kind(docs, "PodDisruptionBudget")}
    assert pdbs["gateway"]["minAvailable"] == 1 and pdbs["api"]["minAvailable"] == 1
    assert pdbs["processor"]["maxUnavailable"] == 1 and pdbs["sink"]["maxUnavailable"] == 1
    for role, spec in pdbs.items():
        assert spec["selector"]["matchLabels"]["app.kubernetes.io/component"] == role
    hpas = {component(h): h["spec"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == set(ROLES)
    assert hpas["processor"]["scaleTargetRef"]["kind"] == "StatefulSet"
    for spec in hpas.values():
        assert [m["type"] for m in spec["metrics"]] == ["Resource"]
        assert spec["metrics"][0]["resource"]["name"] == "cpu"
    services = {s["metadata"]["name"] for s in of_kind(docs, "Service")}
    assert {"nexuslog-gateway", "nexuslog-api", "nexuslog-metrics", "nexuslog-processor-headless"} <= services
    assert not of_kind(docs, "Ingress") and not of_kind(docs, "PersistentVolumeClaim")


def test_lag_autoscaling_uses_an_external_metric():
    docs = render(VALUE_SETS["production"])
    hpas = {component(h): h["spec"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    for role, group in [("processor", "nexuslog-processors"), ("sink", "nexuslog-indexers")]:
        ext = [m for m in hpas[role]["metrics"] if m["type"] == "External"]
        assert len(ext) == 1, hpas[role]
        assert ext[0]["external"]["metric"]["name"] == "nexuslog_consumer_lag_records"
        assert ext[0]["external"]["metric"]["selector"]["matchLabels"]["group"] == group
        assert ext[0]["external"]["target"]["type"] == "AverageValue"
    assert not [m for m in hpas["gateway"]["metrics"] if m["type"] == "External"]


def test_secret_references_follow_existing_secrets():
    docs = render(VALUE_SETS["production"])
    want = {
        "NEXUSLOG_LOGSTORE_OPENSEARCH_PASSWORD": ("nexuslog-opensearch", "password"),
        "NEXUSLOG_BUS_KAFKA_SASL_PASSWORD": ("nexuslog-kafka", "password"),
        "NEXUSLOG_METASTORE_POSTGRES_URL": ("nexuslog-postgres", "url"),
        "NL_REDIS_PASSWORD": ("nexuslog-redis", "password"),
        "NEXUSLOG_BOOTSTRAP_API_KEY": ("nexuslog-bootstrap", "api-key"),
        "NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD": ("nexuslog-bootstrap", "admin-password"),
        "NEXUSLOG_AUTH_JWT_SECRET": ("nexuslog-auth", "jwt-secret"),
        "NEXUSLOG_ALERTING_SMTP_PASSWORD": ("nexuslog-smtp", "smtp-password"),
    }
    for w in workloads(docs):
        env = env_of(w)
        for name, (secret, key) in want.items():
            ref = env[name]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == (secret, key), (component(w), name)
        assert env["NEXUSLOG_STATE_REDIS_URL"]["value"] == "redis://:$(NL_REDIS_PASSWORD)@redis-master.data.svc:6379/0"
        names = list(env)
        assert names.index("NL_REDIS_PASSWORD") < names.index("NEXUSLOG_STATE_REDIS_URL"), "defined before it is expanded"
        # No credential as a plain value.
        for e in env.values():
            assert "password" not in str(e.get("value", "")).lower().replace("nl_redis_password", "")
    # Nothing the user keeps in their own Secrets is copied into the chart's.
    (own,) = of_kind(docs, "Secret")
    assert set(own.get("data") or {}) == set()
    # TLS for syslog comes from the given Secret.
    gw = named(docs, "Deployment", "-gateway")
    vols = {v["name"]: v for v in gw["spec"]["template"]["spec"]["volumes"]}
    assert vols["syslog-tls"]["secret"]["secretName"] == "nexuslog-syslog-tls"
    assert vols["syslog-ca"]["secret"]["secretName"] == "nexuslog-syslog-ca"


def test_chart_secret_holds_generated_bootstrap_credentials_and_urls():
    docs = render([CI / "default-values.yaml"])
    (secret,) = of_kind(docs, "Secret")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(data) == {"bootstrap-api-key", "bootstrap-admin-password", "secrets-key", "postgres-url", "redis-url"}
    assert data["bootstrap-api-key"].startswith("nxl_") and len(data["bootstrap-api-key"]) == 36
    assert len(data["bootstrap-admin-password"]) >= 16
    # The password is URL-encoded into the URL.
    assert data["postgres-url"] == "postgres://nexuslog:p%40ss%2Fw%3Ard%3F@postgresql:5432/nexuslog"
    assert data["redis-url"] == "redis://redis-master:6379/0"
    for w in workloads(docs):
        ref = env_of(w)["NEXUSLOG_METASTORE_POSTGRES_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": secret["metadata"]["name"], "key": "postgres-url"}
        ann = w["spec"]["template"]["metadata"]["annotations"]
        assert ann["checksum/config"] and ann["checksum/secret"], "pods roll when configuration changes"


def test_config_map_is_the_toml_nexuslog_reads():

    docs = render(VALUE_SETS["production"])
    (cm,) = of_kind(docs, "ConfigMap")
    config = tomllib.loads(cm["data"]["nexuslog.toml"])
    assert config["bus"]["kind"] == "kafka" and config["bus"]["kafka"]["partitions"] == 12
    kafka = config["bus"]["kafka"]
    assert (kafka["security_protocol"], kafka["sasl_mechanism"], kafka["sasl_username"]) == ("sasl_plaintext", "PLAIN", "nexuslog")
    assert config["logstore"]["opensearch"]["url"] == "https://opensearch.data.svc:9200"
    assert config["metastore"]["kind"] == "postgres" and config["state"]["kind"] == "redis"
    assert config["http"] == {"addr": "0.0.0.0:8000", "rate_limit_events_per_sec": 20000}, "user config merged in"
    assert config["syslog"]["tls_addr"] == "0.0.0.0:6514" and config["syslog"]["tls_client_ca"]
    assert config["alerting"]["public_url"] == "https://logs.example.org"
    assert "password" not in cm["data"]["nexuslog.toml"]


def test_standalone_is_one_pod_with_a_volume():
    docs = render(VALUE_SETS["standalone"])
    (w,) = workloads(docs)
    assert w["kind"] == "Deployment" and w["spec"]["replicas"] == 1 and w["spec"]["strategy"]["type"] == "Recreate"
    assert w["spec"]["template"]["spec"]["containers"][0]["args"] == ["standalone"]
    (pvc,) = of_kind(docs, "PersistentVolumeClaim")
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    vols = {v["name"]: v for v in w["spec"]["template"]["spec"]["volumes"]}
    assert vols["data"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert not of_kind(docs, "HorizontalPodAutoscaler") and not of_kind(docs, "PodDisruptionBudget")
    syslog = named(docs, "Service", "-syslog")
    assert {(p["port"], p["protocol"], p["targetPort"]) for p in syslog["spec"]["ports"]} == {(601, "TCP", "syslog-tcp"), (514, "UDP", "syslog-udp")}
    ports = {p["name"]: p["containerPort"] for p in w["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert ports == {"http": 8000, "syslog-tcp": 1601, "syslog-udp": 1514}, "non-root: no port below 1024"
    (ing,) = of_kind(docs, "Ingress")
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ing["spec"]["rules"][0]["http"]["paths"]}
    assert set(paths.values()) == {w["metadata"]["name"]}


def test_ingress_and_httproute_send_ingest_to_the_gateway():
    docs = render(VALUE_SETS["production"], api_versions=CRD_APIS)
    (ing,) = of_kind(docs, "Ingress")
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ing["spec"]["rules"][0]["http"]["paths"]}
    ingest = {"/v1/logs/bulk", "/v1/logs", "/_bulk", "/_license", "/_xpack", "/loki/api/v1/push", "/services/collector"}
    assert paths == {**{p: "nexuslog-gateway" for p in ingest}, "/": "nexuslog-api"}
    hec = next(p for p in ing["spec"]["rules"][0]["http"]["paths"] if p["path"] == "/services/collector")
    assert hec["pathType"] == "Prefix", "HEC's /event, /raw and /health"
    (route,) = of_kind(docs, "HTTPRoute")
    rules = {m["path"]["value"]: r["backendRefs"][0]["name"] for r in route["spec"]["rules"] for m in r["matches"]}
    assert rules == {**{p: "nexuslog-gateway" for p in ingest}, "/": "nexuslog-api"}


@pytest.mark.parametrize("values", ["production", "standalone"])
def test_otlp_grpc_port_when_enabled(values):
    def grpc_parts(docs):
        ingest = next(w for w in workloads(docs) if w["spec"]["template"]["spec"]["containers"][0]["args"][0] in ("gateway", "standalone"))
        ports = {p["name"]: p["containerPort"] for p in ingest["spec"]["template"]["spec"]["containers"][0]["ports"]}
        services = [svc for svc in of_kind(docs, "Service") for p in svc["spec"]["ports"] if p["name"] == "otlp-grpc"]
        (cm,) = of_kind(docs, "ConfigMap")
        return ports.get("otlp-grpc"), [svc["metadata"]["name"] for svc in services], "otlp_grpc_addr" in cm["data"]["nexuslog.toml"]

    assert grpc_parts(render(VALUE_SETS[values])) == (None, [], False)
    port, services, configured = grpc_parts(render(VALUE_SETS[values], sets=["otlpGrpc.enabled=true"]))
    assert port == 4317 and configured
    assert services == (["nexuslog-gateway"] if values == "production" else ["nexuslog-standalone"]), services


@pytest.mark.parametrize("values", ["production", "standalone"])
def test_https_mounts_the_secret_and_switches_probes_and_scrapes(values):
    def parts(sets):
        docs = render(VALUE_SETS[values], sets=sets, api_versions=CRD_APIS)
        (cm,) = of_kind(docs, "ConfigMap")
        http = tomllib.loads(cm["data"]["nexuslog.toml"])["http"]
        pods = [w["spec"]["template"]["spec"] for w in workloads(docs)]
        sm = of_kind(docs, "ServiceMonitor")
        return http, pods, sm

    http, pods, _ = parts([])
    assert "tls_cert" not in http
    assert all(c["readinessProbe"]["httpGet"].get("scheme", "HTTP") == "HTTP" for p in pods for c in p["containers"])

    http, pods, sm = parts(["https.enabled=true", "https.existingSecret=nexuslog-tls", "metrics.serviceMonitor.enabled=true"])
    assert (http["tls_cert"], http["tls_key"]) == ("/etc/nexuslog/https/tls.crt", "/etc/nexuslog/https/tls.key")
    assert "tls_client_ca" not in http
    for pod in pods:
        (c,) = pod["containers"]
        assert {"startupProbe", "livenessProbe", "readinessProbe"} <= c.keys()
        assert all(c[p]["httpGet"]["scheme"] == "HTTPS" for p in ("startupProbe", "livenessProbe", "readinessProbe"))
        # Mounted as a directory (no subPath), so a renewed Secret reaches the running pod.
        (mount,) = [m for m in c["volumeMounts"] if m["name"] == "https"]
        assert mount["mountPath"] == "/etc/nexuslog/https" and "subPath" not in mount
        assert {"name": "https", "secret": {"secretName": "nexuslog-tls"}} in pod["volumes"]
    (endpoint,) = sm[0]["spec"]["endpoints"]
    assert endpoint["scheme"] == "https" and endpoint["tlsConfig"] == {"insecureSkipVerify": True}

    http, pods, _ = parts(["https.enabled=true", "https.existingSecret=nexuslog-tls", "https.clientCaSecret=clients-ca"])
    assert http["tls_client_ca"] == "/etc/nexuslog/https-ca/ca.crt"
    for pod in pods:
        (c,) = pod["containers"]
        # kubelet has no client certificate to offer: TCP checks only.
        assert all(c[p].get("tcpSocket") == {"port": "http"} and "httpGet" not in c[p] for p in ("livenessProbe", "readinessProbe"))
        assert {"name": "https-ca", "secret": {"secretName": "clients-ca"}} in pod["volumes"]


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_pod_mounts_the_key_sealing_stored_credentials(values):
    def parts(sets):
        docs = render(VALUE_SETS[values], sets=sets)
        (cm,) = of_kind(docs, "ConfigMap")
        config = tomllib.loads(cm["data"]["nexuslog.toml"])
        secrets = {s["metadata"]["name"]: s for s in of_kind(docs, "Secret")}
        return config, [w["spec"]["template"]["spec"] for w in workloads(docs)], secrets

    config, pods, secrets = parts(["secretsKey.existingSecret="])
    assert config["secrets"]["key_file"] == "/etc/nexuslog/secrets/secrets.key"
    for pod in pods:
        (volume,) = [v for v in pod["volumes"] if v["name"] == "secrets-key"]
        assert volume["secret"]["items"] == [{"key": "secrets-key", "path": "secrets.key"}]
        # Generated into the chart's own Secret: 64 hex characters, an AES-256 key.
        key = base64.b64decode(secrets[volume["secret"]["secretName"]]["data"]["secrets-key"]).decode().strip()
        assert len(key) == 64 and int(key, 16) >= 0
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "secrets-key"]
        assert mount == {"name": "secrets-key", "mountPath": "/etc/nexuslog/secrets", "readOnly": True}

    _, pods, secrets = parts(["secretsKey.existingSecret=sealing", "secretsKey.existingSecretKey=key"])
    for pod in pods:
        (volume,) = [v for v in pod["volumes"] if v["name"] == "secrets-key"]
        assert volume["secret"] == {"secretName": "sealing", "items": [{"key": "key", "path": "secrets.key"}]}
    assert not any("secrets-key" in (s.get("data") or {}) for s in secrets.values()), "not generated when given"


@pytest.mark.parametrize(
    "enabled,crds,expected",
    [(False, False, 0), (False, True, 0), (True, False, 0), (True, True, 1)],
)
def test_servicemonitor_and_prometheusrule_only_when_enabled_and_served(enabled, crds, expected):
    flag = "true" if enabled else "false"
    docs = render(sets=[f"metrics.serviceMonitor.enabled={flag}", f"metrics.prometheusRule.enabled={flag}"], api_versions=CRD_APIS if crds else [])
    assert len(of_kind(docs, "ServiceMonitor")) == expected
    assert len(of_kind(docs, "PrometheusRule")) == expected
    if expected:
        (sm,) = of_kind(docs, "ServiceMonitor")
        assert sm["spec"]["endpoints"][0]["port"] == "http" and sm["spec"]["endpoints"][0]["path"] == "/metrics"
        metrics_svc = named(docs, "Service", "-metrics")
        assert sm["spec"]["selector"]["matchLabels"].items() <= metrics_svc["metadata"]["labels"].items()
        (rule,) = of_kind(docs, "PrometheusRule")
        shipped = yaml.safe_load((ROOT / "infra/observability/prometheus/nexuslog-alerts.yml").read_text())
        assert rule["spec"]["groups"] == shipped["groups"]


def test_prometheus_rule_labels_every_alert():
    docs = render(VALUE_SETS["production"], api_versions=CRD_APIS)
    (rule,) = of_kind(docs, "PrometheusRule")
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and all(r["labels"]["team"] == "observability" and r["labels"]["severity"] for r in alerts)


def test_chart_alert_rules_are_the_shipped_ones():
    chart = (CHART / "files/nexuslog-alerts.yml").read_bytes()
    assert chart == (ROOT / "infra/observability/prometheus/nexuslog-alerts.yml").read_bytes(), "copy infra/observability/prometheus/nexuslog-alerts.yml to helm/nexuslog/files/"


@pytest.mark.parametrize(
    "sets,message",
    [
        (["unknownKey=1"], "additional properties 'unknownKey' not allowed"),
        (["gateway.replicaCount=many"], "replicaCount"),
        (["gateway.autoscaling.enabld=true"], "enabld"),
        (["mode=cluster"], "mode"),
        (["processor.autoscaling.maxReplicas=7"], "exceeds kafka.partitions"),
        (["bootstrap.apiKey=short"], "apiKey"),
        (["kafka.brokers={kafka}"], "brokers"),
        (["syslog.enabled=true", "syslog.tls.enabled=true"], "syslog.tls.existingSecret"),
        (["https.enabled=true"], "https.existingSecret"),
        (["https.clientCaSecret=ca"], "https.clientCaSecret needs https.enabled"),
    ],
)
def test_wrong_values_fail(sets, message):
    p = run(template_args(sets=sets), check=False)
    assert p.returncode != 0, f"{sets} rendered"
    assert message in p.stderr, p.stderr


def test_values_schema_and_readme_are_generated_from_values():
    p = run([sys.executable, str(ROOT / "helm/tests/chartdocs.py")], check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_notes_say_how_to_reach_the_console_and_get_a_key():
    for name, values in VALUE_SETS.items():
        p = run([tool("helm"), "install", "nexuslog", str(CHART), "--dry-run=client", "-n", "logging", *sum((["-f", str(v)] for v in values), [])])
        notes = p.stdout.split("NOTES:", 1)[1]
        assert "bootstrap-api-key" in notes or "api-key" in notes, name
        assert "/v1/logs/bulk" in notes and "admin@localhost" in notes, name


def test_network_policy_lets_the_ingress_and_prometheus_in():
    docs = render(VALUE_SETS["production"])
    (policy,) = of_kind(docs, "NetworkPolicy")
    http = policy["spec"]["ingress"][0]
    assert http["ports"] == [{"port": 8000, "protocol": "TCP"}]
    namespaces = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in http["from"]}
    assert namespaces == {"ingress-nginx", "monitoring"}
    syslog = policy["spec"]["ingress"][1]
    assert "from" not in syslog and {p["port"] for p in syslog["ports"]} == {1601, 1514, 6514}


def test_backend_tls_settings_reach_the_configuration_and_mount_their_secrets():
    sets = [
        "kafka.tls.enabled=true", "kafka.tls.caSecret=kafka-ca", "kafka.tls.clientCertSecret=kafka-client",
        "kafka.sasl.enabled=true", "kafka.sasl.mechanism=SCRAM-SHA-512", "kafka.sasl.username=nexuslog",
        "opensearch.url=https://opensearch:9200", "opensearch.tls.caSecret=os-ca", "opensearch.tls.caKey=root.pem",
        "postgresql.sslmode=verify-full", "postgresql.tls.caSecret=pg-ca",
        "redis.tls=true", "redis.caSecret=redis-ca",
        "schemaRegistry.url=https://registry:8081", "schemaRegistry.caSecret=registry-ca",
    ]
    docs = render(sets=sets)
    (cm,) = of_kind(docs, "ConfigMap")
    config = tomllib.loads(cm["data"]["nexuslog.toml"])
    kafka = config["bus"]["kafka"]
    assert (kafka["security_protocol"], kafka["sasl_mechanism"]) == ("sasl_ssl", "SCRAM-SHA-512")
    assert kafka["tls_ca"] == "/etc/nexuslog/backend-tls/kafka-ca/ca.crt"
    assert (kafka["tls_cert"], kafka["tls_key"]) == ("/etc/nexuslog/backend-tls/kafka-client/tls.crt", "/etc/nexuslog/backend-tls/kafka-client/tls.key")
    assert config["logstore"]["opensearch"]["tls_ca"] == "/etc/nexuslog/backend-tls/opensearch-ca/root.pem"
    assert config["logstore"]["opensearch"]["tls_verify"] is True
    assert config["metastore"]["postgres"]["sslmode"] == "verify-full"
    assert config["metastore"]["postgres"]["tls_ca"] == "/etc/nexuslog/backend-tls/postgresql-ca/ca.crt"
    assert config["state"]["redis"]["tls_ca"] == "/etc/nexuslog/backend-tls/redis-ca/ca.crt"
    assert config["schema_registry"]["tls_ca"] == "/etc/nexuslog/backend-tls/registry-ca/ca.crt"
    secrets = {"kafka-ca", "kafka-client", "os-ca", "pg-ca", "redis-ca", "registry-ca"}
    for w in workloads(docs):
        pod = w["spec"]["template"]["spec"]
        mounted = {v["secret"]["secretName"]: v["name"] for v in pod["volumes"] if "secret" in v}
        assert secrets <= mounted.keys(), mounted
        mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        assert mounts[mounted["os-ca"]] == "/etc/nexuslog/backend-tls/opensearch-ca"

    # Plain by default; each TLS file setting that cannot work is refused at render time.
    (cm,) = of_kind(render(), "ConfigMap")
    config = tomllib.loads(cm["data"]["nexuslog.toml"])
    assert config["bus"]["kafka"]["security_protocol"] == "plaintext" and "tls_ca" not in config["bus"]["kafka"]
    for bad, message in [
        (["kafka.tls.caSecret=kafka-ca"], "kafka.tls.enabled"),
        (["postgresql.sslmode=verify-ca"], "postgresql.tls.caSecret"),
        (["redis.caSecret=redis-ca"], "redis.tls"),
    ]:
        with pytest.raises(Exception) as refused:
            render(sets=bad)
        assert message in str(refused.value)
