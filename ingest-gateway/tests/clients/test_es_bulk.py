"""The Elasticsearch-compatible `_bulk` endpoint driven by the ecosystems' own clients: the
`elasticsearch` and `opensearch-py` bulk helpers from PyPI, against a standalone NexusLog on its
embedded stores and on the Kafka/OpenSearch path (the services from `infra/services up`). Each
test finds its events through the search API with the index name and the event time mapped.

Run by scripts/ops-test.sh (NEXUSLOG_BIN: the binary to run)."""

import datetime
import urllib.request
import uuid

import pytest
from elasticsearch import Elasticsearch
from elasticsearch import helpers as es_helpers
from opensearchpy import OpenSearch
from opensearchpy import helpers as os_helpers

from conftest import field, search


def test_cluster_probe_answers_like_elasticsearch(node):
    url, key = node
    info = Elasticsearch(url, api_key=key).info()
    assert info["version"]["number"].startswith("8."), info
    assert info["tagline"] == "You Know, for Search"
    # A browser asking for `/` still gets the console, not JSON.
    req = urllib.request.Request(url + "/", headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/html")


def test_elasticsearch_bulk_helper(node):
    url, key = node
    run = uuid.uuid4().hex
    es = Elasticsearch(url, api_key=key)
    # Fluent Bit's form: ISO 8601 with milliseconds, a few days back (within retention).
    day = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=2)
    stamp = lambda i: (day + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.123Z")
    actions = [
        {"_op_type": "create", "_index": "logs-app-2026.12.03", "_source": {
            "@timestamp": stamp(i), "message": f"es event {i} {run}", "level": "warn", "run": run, "i": i}}
        for i in range(50)
    ]
    ok, errors = es_helpers.bulk(es, actions, chunk_size=20)
    assert ok == 50 and errors == []
    hits = search(url, key, f"run:{run}", 50)
    assert len(hits) == 50
    h = next(h for h in hits if field(h, "i") == 7)
    assert h["message"] == f"es event 7 {run}"
    assert h["level"] == "warn"
    assert field(h, "ingest.es_index") == "logs-app-2026.12.03"
    assert h["timestamp"].startswith(stamp(7)[:-1]), h["timestamp"]


def test_opensearch_bulk_helper_with_ids_replaces_and_reports_refusals(node):
    url, key = node
    run = uuid.uuid4().hex
    client = OpenSearch(hosts=[url], http_auth=("elastic", key))
    docs = [{"_index": "app", "_id": f"doc-{i}", "_source": {"message": f"os event {i} {run}", "run": run, "version": 1}} for i in range(10)]
    ok, errors = os_helpers.bulk(client, docs)
    assert ok == 10 and errors == []
    assert len(search(url, key, f"run:{run}", 10)) == 10
    # The same ids again, once the first ten are searchable: replaced, not added, so when the
    # second versions are all searchable there are still ten documents.
    again = [dict(d, _source=dict(d["_source"], version=2)) for d in docs]
    assert os_helpers.bulk(client, again)[0] == 10
    assert len(search(url, key, f"run:{run} AND version:2", 10)) == 10
    assert len(search(url, key, f"run:{run}", 11, timeout=0)) == 10, "a repeated _id must replace its document"
    # Unsupported actions and bad documents: per-item errors, the rest written.
    ok, errors = os_helpers.bulk(client, [
        {"_op_type": "delete", "_index": "app", "_id": "doc-1"},
        {"_index": "app", "_source": {"message": f"kept {run}", "run": run}},
    ], raise_on_error=False)
    assert ok == 1
    assert errors[0]["delete"]["status"] == 400
    assert len(search(url, key, f"run:{run} AND kept", 1)) == 1


def test_bad_credentials_are_refused(node):
    url, _ = node
    with pytest.raises(Exception) as e:
        Elasticsearch(url, api_key="nxl_not-a-key-at-all").bulk(operations=[{"create": {"_index": "x"}}, {"message": "m"}])
    assert "401" in str(e.value) or "AuthenticationException" in type(e.value).__name__
