"""Splunk HEC and Loki push driven by their Python logging handlers from PyPI (`splunk-handler`
posts to `/services/collector/event`; `python-logging-loki` pushes Loki's JSON to
`/loki/api/v1/push` with basic auth), against a standalone NexusLog on its embedded stores and
on the Kafka/OpenSearch path; the events are found through the search API.

Run by scripts/ops-test.sh (NEXUSLOG_BIN: the binary to run)."""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid

import logging_loki
from splunk_handler import SplunkHandler

from conftest import field, search


def logger_with(handler, name):
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return log


def test_splunk_handler_events_are_searchable(node):
    url, key = node
    run = uuid.uuid4().hex
    host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
    handler = SplunkHandler(host=host, port=port, token=key, index="main", protocol="http", verify=False,
                            flush_interval=0, sourcetype="app-log", source="checkout", hostname="web-3")
    log = logger_with(handler, f"hec-{run}")
    for i in range(5):
        log.warning("hec event %d %s", i, run)
    handler.close()
    hits = search(url, key, f"{run} AND hec", 5)
    assert len(hits) == 5, hits
    h = hits[0]
    assert h["host"] == "web-3"
    assert h["source"] == "hec", h
    assert field(h, "splunk.sourcetype") == "app-log" and field(h, "splunk.index") == "main"


def test_hec_answers_in_its_own_words(node):
    url, key = node
    def post(path, body, token):
        req = urllib.request.Request(url + path, data=body, method="POST", headers={"Authorization": f"Splunk {token}"} if token else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)
    assert post("/services/collector/event", b'{"event":"x"}', None) == (401, {"text": "Token is required", "code": 2})
    assert post("/services/collector/event", b'{"event":"x"}', "nxl_wrong-wrong-wrong")[1]["code"] == 4
    status, answer = post("/services/collector/event", b'{"event":"ok"}{"time":1}', key)
    assert status == 400 and answer["code"] == 12 and answer["invalid-event-number"] == 1, answer
    run = uuid.uuid4().hex
    assert post("/services/collector/raw?sourcetype=raw-test", f"raw line one {run}\nraw line two {run}\n".encode(), key) == (200, {"text": "Success", "code": 0})
    hits = search(url, key, f"{run} AND raw", 2)
    assert len(hits) == 2 and field(hits[0], "splunk.sourcetype") == "raw-test"
    with urllib.request.urlopen(url + "/services/collector/health", timeout=5) as r:
        assert json.load(r)["code"] == 17


def test_loki_handler_pushes_are_searchable_with_their_labels(node):
    url, key = node
    run = uuid.uuid4().hex
    handler = logging_loki.LokiHandler(url=f"{url}/loki/api/v1/push", tags={"app": "shop", "run": run},
                                       auth=("tenant", key), version="1")
    log = logger_with(handler, f"loki-{run}")
    for i in range(4):
        log.error("loki line %d %s", i, run, extra={"tags": {"order": str(i)}})
    hits = search(url, key, f"run:{run}", 4)
    assert len(hits) == 4, hits
    h = next(h for h in hits if field(h, "order") == "2")
    assert h["message"] == f"loki line 2 {run}"
    assert h["service"] == "shop", "the `app` label is one of the service aliases"
    assert h["source"] == "loki", h
    assert field(h, "severity") == "error" or h["level"] == "error"
