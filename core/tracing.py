"""OpenTelemetry tracing, exported over OTLP/HTTP when `otlp_endpoint` is set; else nothing.

Off (the default) costs next to nothing: no provider is installed, `trace_requests` returns
the app it is given, and the per-request helpers (`call`, `start`, `finish`) cost a function
call each; `span` (a `with` block, dearer) is for work done once per batch.

One group commit serves many requests, so its `copy` span cannot be a child of each of them:
it starts a trace of its own, linked to the `batch.wait` span of every request in the batch,
and each `batch.wait` span is linked back to it (a span keeps at most 128 links by default,
so the way back from a request to its commit is the one that always holds).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar

from core.config import Settings

# OpenTelemetry is imported only where tracing is on: even unused, its modules on the heap
# measurably slow every request (the garbage collector walks them).
if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

T = TypeVar("T")

TRACES_PATH = "/v1/traces"
_W3C_HEADERS = {b"traceparent": "traceparent", b"tracestate": "tracestate"}
_NO_SPAN: contextlib.nullcontext[None] = contextlib.nullcontext()

_tracer: Tracer | None = None


def configure_tracing(settings: Settings) -> TracerProvider | None:
    """Export spans to `settings.otlp_endpoint`; without one, install nothing (None)."""
    if not settings.otlp_endpoint:
        return None
    if _tracer is not None:
        return None  # this process exports already
    # The SDK and exporter are imported only by processes that export.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otlp_service_name}))
    exporter = OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    install(provider)
    return provider


def traces_url(endpoint: str) -> str:
    """The collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT) or its full traces URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def install(provider: TracerProvider) -> None:
    """Make `provider` the process's tracer provider and the source of our spans."""
    from opentelemetry import trace

    global _tracer
    trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("hyperedu")


def uninstall() -> None:
    """Stop making spans (the global provider, set once per process, stays)."""
    global _tracer
    _tracer = None


def enabled() -> bool:
    return _tracer is not None


def span(
    name: str,
    attributes: dict[str, Any] | None = None,
    *,
    links_to: Iterable[Span | None] = (),
) -> contextlib.AbstractContextManager[Span | None]:
    """The current span for the block: a child of the current one, or None when off."""
    if _tracer is None:
        return _NO_SPAN
    from opentelemetry.trace import Link

    links = [Link(s.get_span_context()) for s in links_to if s is not None]
    return _tracer.start_as_current_span(name, attributes=attributes, links=links)


def call(name: str, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a span of its own."""
    if _tracer is None:
        return function(*args)
    with _tracer.start_as_current_span(name):
        return function(*args)


def start(name: str) -> Span | None:
    """A child of the current span, not made current (nothing runs under it); None when off."""
    return None if _tracer is None else _tracer.start_span(name)


def finish(started: Span | None, error: BaseException | None = None) -> None:
    if started is None:
        return
    if error is not None:
        from opentelemetry.trace import StatusCode

        started.record_exception(error)
        started.set_status(StatusCode.ERROR, f"{type(error).__name__}: {error}")
    started.end()


def current_ids() -> tuple[str, str] | None:
    """The (trace id, span id) of the active span in W3C hex, or None."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def trace_requests(app: ASGIApp) -> ASGIApp:
    """A server span per HTTP request, continuing the caller's W3C `traceparent`.

    Decided when the app is built: with tracing off the app is returned as it is."""
    tracer = _tracer
    if tracer is None:
        return app
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()

    async def traced(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        method = scope["method"]
        with tracer.start_as_current_span(
            f"http {method}",
            context=propagator.extract(_w3c_headers(scope["headers"])),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as server_span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    _record_status(server_span, message["status"])
                await send(message)

            try:
                await app(scope, receive, send_traced)
            finally:
                if route := scope.get("path_template"):
                    server_span.set_attribute("http.route", route)
                    server_span.update_name(f"http {method} {route}")

    return traced


def _w3c_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {
        _W3C_HEADERS[name]: value.decode("latin-1")
        for name, value in headers
        if name in _W3C_HEADERS
    }


def _record_status(server_span: Span, status: int) -> None:
    from opentelemetry.trace import StatusCode

    server_span.set_attribute("http.response.status_code", status)
    if status >= 500:
        server_span.set_status(StatusCode.ERROR)
