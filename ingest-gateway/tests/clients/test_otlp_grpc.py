"""OTLP logs over gRPC (`LogsService/Export`) driven by the OpenTelemetry Python SDK's own gRPC
exporter (`opentelemetry-exporter-otlp-proto-grpc`, grpcio), on the listener of its own
(`http.otlp_grpc_addr`, gzip) and on the HTTP port (uncompressed), against a standalone
NexusLog on its embedded stores and on the Kafka/OpenSearch path. Refusals are gRPC statuses.

Run by scripts/ops-test.sh (NEXUSLOG_BIN: the binary to run)."""

import time
import uuid

import grpc
import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from conftest import field, free_port, running_node, search

EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


@pytest.fixture(params=["embedded", "kafka-opensearch"])
def grpc_node(request, tmp_path):
    """A node with the gRPC listener on: (HTTP URL, key, gRPC host:port)."""
    grpc_addr = f"127.0.0.1:{free_port()}"
    with running_node(request.param, tmp_path, {"NEXUSLOG_HTTP_OTLP_GRPC_ADDR": grpc_addr}) as (url, key):
        yield url, key, grpc_addr


def emit(endpoint, key, run, n, compression):
    provider = LoggerProvider(resource=Resource.create({"service.name": "billing", "host.name": "grpc-host", "run": run}))
    exporter = OTLPLogExporter(endpoint=endpoint, insecure=True, headers=(("authorization", f"Bearer {key}"),), compression=compression)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("app.billing")
    for i in range(n):
        logger.emit(LogRecord(timestamp=time.time_ns(), severity_number=SeverityNumber.WARN, severity_text="WARN",
                              body=f"invoice {i} late {run}", attributes={"invoice": i}))
    provider.shutdown()


def test_sdk_grpc_exporter_on_both_ports(grpc_node):
    url, key, grpc_addr = grpc_node
    run = uuid.uuid4().hex
    emit(grpc_addr, key, run, 4, grpc.Compression.Gzip)
    http_port = url.rsplit(":", 1)[1]
    emit(f"127.0.0.1:{http_port}", key, run, 3, grpc.Compression.NoCompression)
    hits = search(url, key, f"run:{run}", 7)
    assert len(hits) == 7, hits
    h = next(h for h in hits if field(h, "invoice") == 2)
    assert h["message"].startswith("invoice 2 late")
    assert h["level"] == "warn"
    assert h["service"] == "billing" and h["host"] == "grpc-host"
    assert field(h, "otel.scope.name") == "app.billing"


def test_refusals_are_grpc_statuses(grpc_node):
    url, key, grpc_addr = grpc_node
    with grpc.insecure_channel(grpc_addr) as channel:
        stub = logs_service_pb2_grpc.LogsServiceStub(channel)
        request = logs_service_pb2.ExportLogsServiceRequest()
        with pytest.raises(grpc.RpcError) as refused:
            stub.Export(request, metadata=(("authorization", "Bearer nxl_not-a-key-of-this-node"),), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as refused:
            stub.Export(request, timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Bytes that are no ExportLogsServiceRequest: the exporter would drop them, not retry.
        raw = channel.unary_unary(EXPORT, request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.RpcError) as refused:
            raw(b"\xff\xff\xff\xff", metadata=(("authorization", f"Bearer {key}"),), timeout=10)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "protobuf" in refused.value.details()
        # An empty export is a successful one.
        answer = stub.Export(request, metadata=(("authorization", f"Bearer {key}"),), timeout=10)
        assert answer.partial_success.rejected_log_records == 0
