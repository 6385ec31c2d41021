"""The embedded default: a private PostgreSQL started through `pgserver` under the data dir."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

# pgserver asks platformdirs for a runtime dir, which warns on machines without XDG_RUNTIME_DIR.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

import pgserver  # noqa: E402


def start_embedded_postgres(data_path: Path) -> tuple[Any, str]:
    """Start (or join) the PostgreSQL kept in `data_path/pg`; return (server, dsn).

    pgserver shares one postmaster between the processes that use the same directory and
    stops it when the last one exits, so the CLI and a running server can both use it.
    """
    pgdata = data_path / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return server, server.get_uri()
