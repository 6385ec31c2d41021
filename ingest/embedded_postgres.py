"""The embedded default: a private PostgreSQL started through `pgserver` under the data dir."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from core.processes import alive

# pgserver asks platformdirs for a runtime dir, which warns on machines without XDG_RUNTIME_DIR.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

from pgserver.postgres_server import get_server  # noqa: E402


def start_embedded_postgres(data_path: Path) -> tuple[Any, str]:
    """Start (or join) the PostgreSQL kept in `data_path/pg`; return (server, dsn).

    pgserver shares one postmaster between the processes that use the same directory and
    stops it when the last one exits, so the CLI and a running server can both use it.
    """
    pgdata = data_path / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_processes(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    return server, server.get_uri()


def _forget_dead_processes(pgdata: Path) -> None:
    """Recover from a kill -9: drop a dead postmaster's lock file and dead users' pids.

    Where nothing reaps orphans (containers without an init), a killed postmaster lingers as
    a zombie whose pid still "exists", and PostgreSQL would refuse to start over its lock file.
    PostgreSQL replays its WAL on the next start, so nothing committed is lost.
    """
    for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock")]:
        if not lock.exists():
            continue
        first_line = lock.read_text().split("\n", 1)[0].strip()
        if first_line.isdigit() and not alive(int(first_line)):
            lock.unlink()
    users = pgdata / ".handle_pids.json"
    if users.exists():
        pids = json.loads(users.read_text() or "[]")
        users.write_text(json.dumps([p for p in pids if alive(p)]))
