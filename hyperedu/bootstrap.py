"""The composition root: configuration in, a database and an app out.

The CLI process prepares the database (starting the embedded PostgreSQL when no URL is
configured, applying migrations), then hands the resolved settings to the server workers
through their environment; each worker builds its app with `app_from_env`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.types import ASGIApp

from core.auth import new_server_key
from core.config import ENV_PREFIX, Settings, load_settings, settings_env
from core.tracing import configure_tracing
from hyperedu.parent_death import stop_when_the_server_dies
from ingest.migrate import migrate
from lrs import stop_signals

if TYPE_CHECKING:
    from lrs.rsgi_front import RsgiFront


@dataclass(frozen=True)
class Runtime:
    settings: Settings  # with database_url and secret_key resolved
    server_key: bytes


def load_server_key(settings: Settings) -> bytes:
    """HYPEREDU_SECRET_KEY (hex), else data_dir/secret.key, made on first use (mode 0600)."""
    if settings.secret_key:
        return bytes.fromhex(settings.secret_key)
    path = settings.data_path / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_server_key().hex())
    return bytes.fromhex(path.read_text().strip())


@contextmanager
def database(settings: Settings, *, keep_running: bool = False) -> Iterator[Runtime]:
    """The configured PostgreSQL, or the embedded one for as long as the block runs; migrated.
    With `keep_running`, the embedded one is started again if it dies meanwhile."""
    server: Any = None
    watch: threading.Thread | None = None
    stop_watching = threading.Event()
    dsn = settings.database_url
    # A stop signal waits until the embedded PostgreSQL is up and in hand: raised half-way
    # through its start, it would leave one running that nobody stops.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        if not dsn:
            from ingest import embedded_postgres

            server, dsn = embedded_postgres.start_embedded_postgres(settings.data_path)
            if keep_running:
                watch = threading.Thread(
                    target=embedded_postgres.keep_running,
                    args=(server, settings.data_path, stop_watching),
                    name="embedded postgres",
                    daemon=True,
                )
                watch.start()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # one held is raised here
        asyncio.run(migrate(settings.direct_database_url or dsn))  # a session-level lock
        key = load_server_key(settings)
        resolved = Settings(
            **{
                **{f: getattr(settings, f) for f in settings.__struct_fields__},
                "database_url": dsn,
                "secret_key": key.hex(),
            }
        )
        yield Runtime(resolved, key)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        stop_watching.set()
        if watch is not None:
            watch.join()
        if server is not None:
            server.cleanup()


GC_YOUNG_THRESHOLD = 20_000  # CPython's default is 700


def export_to_workers(settings: Settings) -> None:
    """Put the resolved settings where `app_from_env` (in another process) finds them."""
    os.environ.update(settings_env(settings))


def app_from_env() -> ASGIApp | RsgiFront:
    """Granian's factory: one app per worker, from the environment the CLI prepared."""
    settings = load_settings()
    if settings.interface == "rsgi":
        stop_signals.hold()  # until the worker serves: RsgiFront releases them
    stop_when_the_server_dies()
    from lrs.app import create_app, create_rsgi_app

    if not settings.database_url or not settings.secret_key:
        raise RuntimeError(f"{ENV_PREFIX}DATABASE_URL and {ENV_PREFIX}SECRET_KEY must be set")
    configure_tracing(settings)  # before create_app, which adds the request spans if on
    build = create_rsgi_app if settings.interface == "rsgi" else create_app
    app = build(settings, bytes.fromhex(settings.secret_key), settings.database_url)
    tune_garbage_collector()
    return app


def tune_garbage_collector() -> None:
    """Move what start-up built (modules, routes, schemas) out of the collector's sight and
    collect the young generation less often: a request makes thousands of short-lived
    objects but few cycles, and each young collection otherwise walks them all."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
