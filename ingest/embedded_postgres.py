"""The embedded default: a private PostgreSQL started through `pgserver` under the data dir."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from core.processes import alive

# pgserver asks platformdirs for a runtime dir, which warns on machines without XDG_RUNTIME_DIR.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

from pgserver.postgres_server import get_server  # noqa: E402

log = logging.getLogger(__name__)


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
        owner = _lock_owner(lock)
        if owner is not None and not alive(owner):
            lock.unlink()
    users = pgdata / ".handle_pids.json"
    if users.exists():
        pids = json.loads(users.read_text() or "[]")
        users.write_text(json.dumps([p for p in pids if alive(p)]))


def keep_running(server: Any, data_path: Path, stop: threading.Event, every_s: float = 1.0) -> None:
    """Start the embedded PostgreSQL `server` again whenever its postmaster has died (killed,
    crashed), until `stop` is set. It replays its WAL first, so nothing committed is lost, and
    the server's pools connect again by themselves; meanwhile requests are answered 503."""
    pgdata = data_path / "pg"
    while not stop.wait(every_s):
        if _postmaster_alive(pgdata):
            continue
        log.warning("the embedded PostgreSQL has stopped; starting it again")
        try:
            _forget_dead_processes(pgdata)
            server.ensure_postgres_running()
        except Exception:  # its backends may still be going away: try again
            log.exception("the embedded PostgreSQL did not start; trying again")


def _postmaster_alive(pgdata: Path) -> bool:
    owner = _lock_owner(pgdata / "postmaster.pid")
    return owner is not None and alive(owner)


def _lock_owner(lock: Path) -> int | None:
    """The pid on the first line of a PostgreSQL lock file; None without the file."""
    try:
        first_line = lock.read_text().split("\n", 1)[0].strip()
    except FileNotFoundError:
        return None
    return int(first_line) if first_line.isdigit() else None
