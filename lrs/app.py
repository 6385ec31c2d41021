"""The xAPI HTTP application: routes, error mapping, CORS, and the per-worker resources."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp

from core import tracing
from core.bus import restart_forever
from core.config import Settings
from core.errors import HyperEduError
from core.tracing import trace_requests
from core.xapi.compare import statements_equivalent
from ingest.batcher import GroupCommitter
from ingest.inflight_board import FILE_NAME as BOARD_FILE_NAME
from ingest.inflight_board import InflightBoard
from ingest.inflight_hosts import InflightHosts, host_id
from ingest.partitions import keep_partitions_ahead
from ingest.postgres import UNAVAILABLE, database_unavailable
from lms import assessments, courses, iam, notifications, progress
from lms.courses import worker as catalogue_worker
from lms.notifications import worker as notifications_worker
from lms.progress import worker as progress_worker
from lrs import (
    about,
    activities,
    activity_profile,
    agent_profile,
    agents,
    health,
    metrics,
    operations,
    state_resource,
    statements,
)
from lrs.alternate_syntax import alternate_syntax_middleware
from lrs.consistency import consistent_through_middleware
from lrs.credentials import CredentialStore
from lrs.head import head_middleware
from lrs.ingest_fast_lane import ingest_fast_lane
from lrs.rsgi_front import RsgiFront
from lrs.spoken_versions import FILE_NAME as SPOKEN_VERSIONS_FILE_NAME
from lrs.spoken_versions import SpokenVersions
from lrs.state import LrsState
from lrs.versioning import version_middleware

log = logging.getLogger(__name__)

# What pg_stat_activity shows for the LRS's own connections (the group commit's appends and
# every read the xAPI serves): operators, and `hyperedu bench ingest`, tell them apart by it.
LRS_APPLICATION_NAME = "hyperedu lrs"

XAPI_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Experience-API-Version",
    "If-Match",
    "If-None-Match",
    "Accept-Language",
]
EXPOSED_HEADERS = [
    "ETag",
    "Last-Modified",
    "X-Experience-API-Version",
    "X-Experience-API-Consistent-Through",
    "Retry-After",
]


def _problem(extra: Any) -> str:
    if not isinstance(extra, dict):
        return str(extra)
    where = extra.get("key") or extra.get("source") or ""
    return f"{where}: {extra.get('message', '')}" if where else str(extra.get("message", extra))


def _error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, UNAVAILABLE):
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        exc = database_unavailable()
    metrics.count_rejection(request.scope["path"], exc)
    if isinstance(exc, HyperEduError):
        return Response(exc.to_body(), status_code=exc.status, headers=exc.headers())
    if isinstance(exc, ValidationException):
        # A body or parameter that breaks its type's rules: say which and why.
        extra = exc.extra if isinstance(exc.extra, list) else []
        message = "; ".join(_problem(e) for e in extra) or str(exc.detail)
        return Response({"error": "ValidationError", "message": message}, status_code=400)
    if isinstance(exc, asyncpg.CharacterNotInRepertoireError):
        # Only input carries it: a text parameter with NUL (U+0000), which PostgreSQL's text
        # can neither hold nor be compared with, wherever the value was going.
        return Response(
            {"error": "ValidationError", "message": "a text value contains NUL (U+0000)"},
            status_code=400,
        )
    if isinstance(exc, asyncpg.ProgramLimitExceededError):
        # Only input reaches it here: a value too large for an index entry (an id of ~2.7 KB).
        return Response(
            {"error": "ValidationError", "message": "a value is too long to be stored"},
            status_code=400,
        )
    if isinstance(exc, RecursionError):
        # Only input drives recursion this deep: JSON nested past the decoder's depth limit.
        return Response(
            {"error": "ValidationError", "message": "the JSON is nested too deeply"},
            status_code=400,
        )
    if isinstance(exc, HTTPException):
        return Response(
            {"error": type(exc).__name__, "message": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response({"error": "InternalError", "message": "internal error"}, status_code=500)


def create_app(settings: Settings, server_key: bytes, dsn: str) -> ASGIApp:
    """The app for one worker, as ASGI; its pool and writer tasks live as long as the app does.

    The protocol layers wrap the router from outside, since they change what is routed:
    alternate request syntax (method, headers, body from a form), then the version header,
    then HEAD answered as GET; Consistent-Through wraps them all, since it belongs on every
    Statements response, a refusal for a missing version header included. Plain statement
    writes take the fast lane past all of them (and past the router), doing what they would
    for such a request itself.
    Request spans (when tracing is configured, before this is called) cover all of them."""
    return _assemble(settings, server_key, dsn)[0]


def create_rsgi_app(settings: Settings, server_key: bytes, dsn: str) -> RsgiFront:
    """The app for one worker as `hyperedu serve` runs it: the same stack behind Granian's
    RSGI interface, plain statement writes answered at the front (see `lrs.rsgi_front`)."""
    app, observer, router = _assemble(settings, server_key, dsn)
    return RsgiFront(
        app,
        observer,
        lambda: router.state.get("lrs"),
        fast_lane=settings.rate_limit_per_s <= 0 and not tracing.enabled(),
    )


def _assemble(
    settings: Settings, server_key: bytes, dsn: str
) -> tuple[ASGIApp, metrics.RequestObserver, Litestar]:
    # The middleware answers refusals, the fast lane (through LrsState) too; with several
    # workers they share what each client last spoke (lrs/spoken_versions.py).
    versions = SpokenVersions(
        settings.data_path / SPOKEN_VERSIONS_FILE_NAME if settings.workers > 1 else None
    )
    router = _router(settings, server_key, dsn, versions)

    def consistent_through() -> datetime:
        state: LrsState | None = router.state.get("lrs")
        return state.committer.consistent_through() if state else datetime.now(UTC)

    stack = iam.iam_layer(
        consistent_through_middleware(
            alternate_syntax_middleware(version_middleware(head_middleware(router), versions)),
            consistent_through,
        ),
        router.state,
        settings,
    )
    if settings.rate_limit_per_s <= 0:
        stack = ingest_fast_lane(stack, lambda: router.state.get("lrs"))
    observer = metrics.RequestObserver(router, access_log=settings.access_log)
    # core.tracing types ASGI with plain mappings (core knows nothing of Litestar's types).
    traced = cast(ASGIApp, trace_requests(cast(tracing.ASGIApp, stack)))
    return observer.wrap(traced), observer, router


def _router(settings: Settings, server_key: bytes, dsn: str, versions: SpokenVersions) -> Litestar:

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=2,
            max_size=settings.db_pool_size,
            command_timeout=60,
            statement_cache_size=settings.db_statement_cache_size,
            server_settings={"application_name": LRS_APPLICATION_NAME},
        )
        # With several workers, each publishes its oldest uncommitted statement for the
        # others' Consistent-Through (ingest/inflight_board.py).
        board = (
            InflightBoard(settings.data_path / BOARD_FILE_NAME) if settings.workers > 1 else None
        )
        # And through the database for the other hosts' (ingest/inflight_hosts.py).
        hosts = InflightHosts(
            dsn,
            host_id(settings.data_path),
            statement_cache_size=settings.db_statement_cache_size,
        )
        await hosts.start()
        committer = GroupCommitter(
            pool,
            equivalent=statements_equivalent,
            max_statements=settings.batch_max_statements,
            window_s=settings.batch_window_ms / 1000,
            queue_max=settings.queue_max_statements,
            writers=settings.writers,
            board=board,
            hosts=hosts,
        )
        committer.start()
        partitions = asyncio.create_task(keep_partitions_ahead(pool), name="partitions")
        credentials = CredentialStore(pool, server_key)
        revocations = asyncio.create_task(
            restart_forever(
                "credential revocations",
                lambda: credentials.listen_for_revocations(settings.session_database_url or dsn),
            ),
            name="credential revocations",
        )
        app.state["lrs"] = LrsState(settings, pool, committer, credentials, versions)
        in_process_consumers = settings.role == "all"
        if in_process_consumers:
            await progress_worker.start(app.state)
            await catalogue_worker.start(app.state)
        # Every role that serves HTTP keeps the WebSocket hub; only `all` the consumers.
        await notifications_worker.start(app.state, consumers=in_process_consumers)
        try:
            yield
        finally:
            # The LMS workers record statements: they stop before the committer drains.
            await notifications_worker.stop(app.state)
            if in_process_consumers:
                await catalogue_worker.stop(app.state)
                await progress_worker.stop(app.state)
            await committer.stop()
            await hosts.stop()
            if board is not None:
                board.close()
            partitions.cancel()
            revocations.cancel()
            await pool.close()

    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    return Litestar(
        route_handlers=[
            about.about,
            statements.post_statements,
            statements.put_statement,
            statements.get_statements,
            *state_resource.route_handlers,
            *activity_profile.route_handlers,
            *agent_profile.route_handlers,
            activities.get_activity,
            agents.get_person,
            *iam.route_handlers,
            operations.admin_router,
            *progress.route_handlers,
            *notifications.route_handlers,
            *courses.route_handlers,
            *assessments.route_handlers,
            health.healthz,
            health.readyz,
            *([metrics.metrics] if settings.metrics_enabled else []),
        ],
        lifespan=[lifespan],
        exception_handlers={Exception: _error_response},
        cors_config=CORSConfig(
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
            allow_headers=XAPI_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
        ),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="HyperEdu", version="1.0.0", path="/schema"),
        logging_config=None,  # logging is configured once per process: core/logging.py
        debug=False,
    )
