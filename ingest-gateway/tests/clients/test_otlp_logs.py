"""OTLP/HTTP logs (`POST /v1/logs`) driven by the OpenTelemetry Python SDK's own exporter
(`opentelemetry-exporter-otlp-proto-http`, protobuf, gzip), against a standalone NexusLog on its
embedded stores and on the Kafka/OpenSearch path. The events are found through the search API
with the resource, severity, body, attributes and trace context mapped.

Run by scripts/ops-test.sh (NEXUSLOG_BIN: the binary to run)."""

import datetime
import time
import uuid

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import TraceFlags

from conftest import field, search


def test_sdk_exporter_logs_are_searchable_with_their_context(node):
    url, key = node
    run = uuid.uuid4().hex
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout", "host.name": "web-7", "run": run}))
    exporter = OTLPLogExporter(endpoint=f"{url}/v1/logs", headers={"Authorization": f"Bearer {key}"}, compression=Compression.Gzip)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("app.orders")
    trace_id, span_id = 0x5B8EFFF798038103D269B633813FC60C, 0xEEE19B7EC3C1B174
    base = (time.time_ns() // 10**9 - 3600) * 10**9  # a whole second an hour ago
    for i in range(5):
        logger.emit(LogRecord(
            timestamp=base + i * 1_000_000,  # i milliseconds later
            severity_number=SeverityNumber.ERROR, severity_text="ERROR",
            body=f"payment {i} failed {run}", attributes={"order.id": i, "run": run},
            trace_id=trace_id, span_id=span_id, trace_flags=TraceFlags(1),
        ))
    provider.shutdown()
    hits = search(url, key, f"run:{run}", 5)
    assert len(hits) == 5, hits
    h = next(h for h in hits if field(h, "order.id") == 3)
    assert h["message"] == f"payment 3 failed {run}"
    assert h["level"] == "error"
    assert h["service"] == "checkout" and h["host"] == "web-7"
    assert h["trace_id"] == "5b8efff798038103d269b633813fc60c" and h["span_id"] == "eee19b7ec3c1b174"
    assert field(h, "otel.scope.name") == "app.orders"
    expected = datetime.datetime.fromtimestamp(base // 10**9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.003")
    assert h["timestamp"].startswith(expected), h["timestamp"]
