"""Tracing: a statement write is traced HTTP → validate → batch.wait, its commit as a linked copy."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.util._once import Once

import ingest.batcher
from core import tracing
from core.auth import Scope
from core.bus import STATEMENTS_TOPIC, Record
from core.config import Settings
from core.logging import JsonFormatter
from ingest.batcher import GroupCommitter
from ingest.relay import Relay
from lrs.credentials import Credential
from lrs.ingest_fast_lane import ingest_fast_lane
from lrs.state import LrsState

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"
STATEMENT = {
    "actor": {"mbox": "mailto:traced@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    "object": {"id": "http://example.com/traced"},
}


def _reset_global_provider() -> None:
    # The API lets a process set its provider once; tests set and unset it, as OTel's own do.
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _reset_global_provider()
    tracing.install(provider)
    yield exporter
    tracing.uninstall()
    provider.shutdown()
    _reset_global_provider()


class _Pool:
    async def acquire(self) -> object:
        return object()

    async def release(self, conn: object) -> None:
        return None


class _Credentials:
    async def authenticate(self, authorization: str | None) -> Credential:
        return Credential(key="traced", scopes=frozenset({Scope.ALL}))


async def _post(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/xapi/statements",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"x-experience-api-version", b"1.0.3"),
            *headers,
        ],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def _post_through_the_fast_lane(
    monkeypatch: pytest.MonkeyPatch, headers: list[tuple[bytes, bytes]]
) -> list[dict[str, Any]]:
    async def append_batch(conn: object, rows: object, attachments: object) -> None:
        return None

    monkeypatch.setattr(ingest.batcher, "append_batch", append_batch)
    pool: Any = _Pool()
    committer = GroupCommitter(pool, equivalent=lambda a, b: a == b, writers=1)
    committer.start()
    credentials: Any = _Credentials()
    state = LrsState(Settings(), pool, committer, credentials)

    async def router(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a plain POST takes the fast lane")

    app = tracing.trace_requests(ingest_fast_lane(router, lambda: state))
    try:
        return await _post(app, json.dumps([STATEMENT, STATEMENT]).encode(), headers)
    finally:
        await committer.stop()


def _by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans}


async def test_a_post_is_traced_from_http_through_validate_to_batch_wait(
    exported: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    traceparent = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01".encode()
    sent = await _post_through_the_fast_lane(monkeypatch, [(b"traceparent", traceparent)])
    assert sent[0]["status"] == 200

    spans = _by_name(exported.get_finished_spans())
    assert set(spans) == {"http POST /xapi/statements", "validate", "batch.wait", "copy"}
    server = spans["http POST /xapi/statements"]
    assert server.kind is SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None and format(server.parent.span_id, "016x") == CALLER_SPAN_ID
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.route"] == "/xapi/statements"
    for child in (spans["validate"], spans["batch.wait"]):
        assert child.parent is not None and child.parent.span_id == server.context.span_id
        assert child.context.trace_id == server.context.trace_id


async def test_the_commit_is_a_trace_of_its_own_linked_both_ways_to_the_requests(
    exported: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _post_through_the_fast_lane(monkeypatch, [])

    spans = _by_name(exported.get_finished_spans())
    copy, wait = spans["copy"], spans["batch.wait"]
    assert copy.parent is None
    assert copy.context.trace_id != wait.context.trace_id
    assert copy.attributes == {"batch.statements": 2, "batch.requests": 1}
    assert [link.context for link in copy.links] == [wait.context]
    assert [link.context for link in wait.links] == [copy.context]


async def test_relay_publish_is_a_span_with_the_batch(exported: InMemorySpanExporter) -> None:
    class Publisher:
        async def publish(self, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
            return None

    class Kafka:
        async def publisher(self) -> Publisher:
            return Publisher()

    source: Any = None
    kafka: Any = Kafka()
    records = [Record(STATEMENTS_TOPIC, b"k", b"{}", position) for position in (7, 8, 9)]
    assert await Relay(source, kafka)._publish(records, asyncio.Event())

    (published,) = exported.get_finished_spans()
    assert published.name == "relay.publish"
    assert published.attributes is not None
    assert published.attributes["messaging.batch.message_count"] == 3
    assert published.attributes["hyperedu.log.first_position"] == 7


def test_json_logs_carry_the_trace_and_span_ids_of_the_active_span(
    exported: InMemorySpanExporter,
) -> None:
    record = logging.makeLogRecord({"msg": "inside", "levelno": logging.INFO})
    with tracing.span("work") as active:
        assert active is not None
        entry = json.loads(JsonFormatter().format(record))
    context = active.get_span_context()
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in json.loads(JsonFormatter().format(record))


def test_without_an_endpoint_no_provider_is_installed_and_nothing_is_traced() -> None:
    _reset_global_provider()
    assert tracing.configure_tracing(Settings()) is None
    assert not tracing.enabled()
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    assert tracing.trace_requests(app) is app
    with tracing.span("validate") as nothing:
        assert nothing is None


def test_with_an_endpoint_spans_are_exported_over_otlp_http() -> None:
    _reset_global_provider()
    settings = Settings(otlp_endpoint="http://collector:4318", otlp_service_name="lrs-a")
    provider = tracing.configure_tracing(settings)
    try:
        assert provider is not None
        assert tracing.enabled()
        assert trace.get_tracer_provider() is provider
        assert provider.resource.attributes["service.name"] == "lrs-a"
    finally:
        tracing.uninstall()
        if provider is not None:
            provider.shutdown()
        _reset_global_provider()
    assert tracing.traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


async def test_a_routed_request_is_named_for_its_route_template(
    exported: InMemorySpanExporter,
) -> None:
    @get("/things/{thing_id:int}")
    async def thing(thing_id: FromPath[int]) -> dict[str, int]:
        return {"id": thing_id}

    app = tracing.trace_requests(Litestar([thing]))
    async with AsyncTestClient(app=app) as client:  # type: ignore[arg-type]
        assert (await client.get("/things/7")).status_code == 200

    (server,) = exported.get_finished_spans()
    assert server.name == "http GET /things/{thing_id}"
    assert server.parent is None
