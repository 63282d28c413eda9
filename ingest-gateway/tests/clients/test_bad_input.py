"""Bad requests to the drop-in ingest routes get a clear 4xx in the protocol's words, and
nothing of them becomes searchable: malformed bodies, missing or wrong credentials. Run against
a standalone NexusLog on its embedded stores and on the Kafka/OpenSearch path.

Run by scripts/ops-test.sh (NEXUSLOG_BIN: the binary to run)."""

import gzip
import json
import urllib.error
import urllib.request
import uuid

from conftest import search


def post(url, path, body, headers):
    req = urllib.request.Request(url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_malformed_bodies_and_bad_keys_are_refused_and_nothing_is_stored(node):
    url, key = node
    run = uuid.uuid4().hex
    marker = f"refused{run}"
    auth = {"Authorization": f"Bearer {key}"}
    ndjson = {"Content-Type": "application/x-ndjson"}
    doc = json.dumps({"message": f"{marker} from a refused request"})
    malformed = [
        # (path, body, headers, what the answer must say)
        ("/v1/logs", b"\xff\xff\xff\xff" + marker.encode(), {"Content-Type": "application/x-protobuf"}, b"not an OTLP logs request"),
        ("/v1/logs", json.dumps({"resourceLogs": 5, "m": marker}).encode(), {"Content-Type": "application/json"}, b"not an OTLP logs request"),
        ("/v1/logs", b"not gzip " + marker.encode(), {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"gzip"),
        ("/loki/api/v1/push", b'{"streams": [' + marker.encode(), {"Content-Type": "application/json"}, b"not a Loki push request"),
        ("/loki/api/v1/push", b"\x00\x01not snappy" + marker.encode(), {"Content-Type": "application/x-protobuf"}, b"snappy"),
        ("/_bulk", ('{"index": \n' + doc + "\n").encode(), ndjson, b"malformed action"),
        ("/logs-app/_bulk", ("[1,2]\n" + doc + "\n").encode(), ndjson, b"malformed action"),
        ("/services/collector/event", b'{"event": "' + marker.encode(), {}, b'"code"'),
    ]
    for path, body, headers, says in malformed:
        status, answer = post(url, path, body, {**auth, **headers})
        assert status == 400, (path, status, answer)
        assert says in answer, (path, answer)

    # Each route refuses a request without a key, and one with a key it does not know; a
    # well-formed body, so only the credentials are wrong.
    good = {
        "/v1/logs": (json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": marker}}]}]}]}).encode(),
                     {"Content-Type": "application/json"}),
        "/loki/api/v1/push": (json.dumps({"streams": [{"stream": {"app": "x"}, "values": [["1700000000000000000", marker]]}]}).encode(),
                              {"Content-Type": "application/json"}),
        "/_bulk": (('{"create": {"_index": "logs-x"}}\n' + doc + "\n").encode(), ndjson),
        "/services/collector/event": (json.dumps({"event": marker}).encode(), {}),
        "/v1/logs/bulk": ((doc + "\n").encode(), ndjson),
    }
    for path, (body, headers) in good.items():
        status, _ = post(url, path, body, headers)
        assert status == 401, (path, status)
        for wrong in ({"Authorization": "Bearer nxl_not-a-key-of-this-node"}, {"Authorization": "Basic dTpub3Qta2V5"}):
            status, _ = post(url, path, body, {**headers, **wrong})
            assert status in (401, 403), (path, wrong, status)

    # A gzip body that inflates to garbage is refused like a plain one.
    status, _ = post(url, "/v1/logs", gzip.compress(b"\x08\xff\xff" + marker.encode()),
                     {**auth, "Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})
    assert status == 400

    # A well-formed request sent last becomes searchable; by then, had any refused request been
    # stored, its marker would be too.
    after = f"accepted{run}"
    status, _ = post(url, "/v1/logs/bulk", (json.dumps({"message": after}) + "\n").encode(), {**auth, **ndjson})
    assert status == 200
    assert len(search(url, key, after, 1)) == 1
    assert search(url, key, marker, 1, timeout=0) == []
