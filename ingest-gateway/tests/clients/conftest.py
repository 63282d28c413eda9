"""Shared by the drop-in ingest tests: a standalone NexusLog (embedded stores, or the
Kafka/OpenSearch path on the services from `infra/services up`) and the search API."""

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distributed_env(prefix):
    e = os.environ
    return {
        "NEXUSLOG_BUS_KIND": "kafka",
        "NEXUSLOG_BUS_KAFKA_BROKERS": e["NEXUSLOG_TEST_KAFKA_BROKERS"],
        "NEXUSLOG_BUS_KAFKA_PARTITIONS": "3",
        "NEXUSLOG_BUS_TOPIC_PREFIX": f"{prefix}.",
        "NEXUSLOG_LOGSTORE_KIND": "opensearch",
        "NEXUSLOG_LOGSTORE_OPENSEARCH_URL": e["NEXUSLOG_TEST_OPENSEARCH_URL"],
        "NEXUSLOG_LOGSTORE_INDEX_PREFIX": f"{prefix}-",
        "NEXUSLOG_METASTORE_KIND": "postgres",
        "NEXUSLOG_METASTORE_POSTGRES_URL": e["NEXUSLOG_TEST_POSTGRES_URL"],
        "NEXUSLOG_STATE_KIND": "redis",
        "NEXUSLOG_STATE_REDIS_URL": e["NEXUSLOG_TEST_REDIS_URL"],
        "NEXUSLOG_SCHEMA_REGISTRY_URL": e["NEXUSLOG_TEST_SCHEMA_REGISTRY_URL"],
    }


@contextlib.contextmanager
def running_node(mode, tmp_path, extra_env=None, ssl_context=None):
    """A standalone NexusLog with a bootstrap key, `mode` "embedded" or "kafka-opensearch":
    (base URL, key). With `ssl_context` (the node's environment enabling HTTPS), the URL is
    https:// and readiness is polled through that context."""
    port, key = free_port(), "nxl_" + uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUSLOG_")}
    env.update({
        "NEXUSLOG_DATA_DIR": str(tmp_path / "data"),
        "NEXUSLOG_HTTP_ADDR": f"127.0.0.1:{port}",
        "NEXUSLOG_BOOTSTRAP_API_KEY": key,
    })
    if mode == "kafka-opensearch":
        env.update(distributed_env("esbulk" + uuid.uuid4().hex[:8]))
    env.update(extra_env or {})
    log = open(tmp_path / "nexuslog.log", "wb")
    proc = subprocess.Popen([os.environ["NEXUSLOG_BIN"], "standalone"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    deadline = time.time() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2, context=ssl_context) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, f"nexuslog exited; log: {tmp_path / 'nexuslog.log'}"
            assert time.time() < deadline, f"nexuslog not ready; log: {tmp_path / 'nexuslog.log'}"
            time.sleep(0.2)
        yield url, key
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(params=["embedded", "kafka-opensearch"])
def node(request, tmp_path):
    """A standalone NexusLog with a bootstrap key: (base URL, key)."""
    with running_node(request.param, tmp_path) as n:
        yield n


def search(url, key, q, want, timeout=60, ssl_context=None):
    """The hits of `q` over the last 30 days, once there are `want` of them."""
    deadline = time.time() + timeout
    while True:
        params = urllib.parse.urlencode({"q": q, "from": "now-30d", "limit": "200"})
        req = urllib.request.Request(f"{url}/v1/search?{params}", headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(req, timeout=10, context=ssl_context) as r:
                hits = json.load(r)["hits"]
        except urllib.error.HTTPError as e:
            # 503: the store is not ready yet (an index being created); polled like an empty answer.
            if e.code != 503 or time.time() > deadline:
                raise
            hits = []
        if len(hits) >= want or time.time() > deadline:
            return hits
        time.sleep(0.3)


def field(hit, name):
    return hit.get("fields", {}).get(name)
