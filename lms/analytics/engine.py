"""Where the analytics tables live: embedded chdb (under data_dir/clickhouse) or a
ClickHouse server (HYPEREDU_CLICKHOUSE_URL), behind one small synchronous interface.

chdb runs ClickHouse inside this process and locks its data directory: one process at a
time may open it (a second one fails), while one process may hold several sessions on it.
So in embedded mode no long-running process keeps it open; the `hyperedu` commands that
need it (`analytics sync`, `sql`, `report`) take it in turn, waiting on `clickhouse.lock`.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any, Protocol

from core.config import Settings

EMBEDDED_DATABASE = "hyperedu"


class EngineBusy(RuntimeError):
    """Another process has the embedded ClickHouse data directory open."""


class Engine(Protocol):
    def command(self, sql: str) -> None:
        """Run a statement that returns nothing of interest (DDL)."""
        ...

    def query(self, sql: str, fmt: str, *, readonly: bool = False) -> bytes:
        """The result of `sql` in ClickHouse output format `fmt`; with readonly, under the
        server's `readonly=1` (no writes, no DDL, no settings changes, no table functions)."""
        ...

    def insert(self, table: str, json_rows: bytes) -> None:
        """Insert rows given as JSONEachRow (one JSON object per line), in one INSERT."""
        ...

    def close(self) -> None: ...


class ChdbEngine:
    # chdb has no annotations: its sessions are Any, declared here so that mypy keeps them so.
    _session: Any
    _readonly: Any

    def __init__(self, path: Path, *, wait_s: float = 30.0) -> None:
        import chdb.session

        path.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_directory(path.parent / (path.name + ".lock"), wait_s)
        try:
            self._session = chdb.session.Session(str(path))  # type: ignore[no-untyped-call]
        except RuntimeError as exc:
            os.close(self._lock)
            raise EngineBusy(f"cannot open {path}: {exc}") from None
        self._session.query(f"CREATE DATABASE IF NOT EXISTS {EMBEDDED_DATABASE}")
        self._session.query(f"USE {EMBEDDED_DATABASE}")
        self._readonly = None
        self._path = path

    def command(self, sql: str) -> None:
        self._session.query(sql)

    def query(self, sql: str, fmt: str, *, readonly: bool = False) -> bytes:
        session = self._readonly_session() if readonly else self._session
        return bytes(session.query(sql, fmt).bytes())

    def insert(self, table: str, json_rows: bytes) -> None:
        self._session.query(f"INSERT INTO {table} FORMAT JSONEachRow\n" + json_rows.decode())

    def close(self) -> None:
        if self._readonly is not None:
            self._readonly.close()
        self._session.close()
        os.close(self._lock)

    def _readonly_session(self) -> Any:
        # A second session on the same directory: settings are per session, and readonly=1
        # cannot be lifted by the queries run in it.
        if self._readonly is None:
            import chdb.session

            self._readonly = chdb.session.Session(str(self._path))  # type: ignore[no-untyped-call]
            self._readonly.query(f"USE {EMBEDDED_DATABASE}")
            self._readonly.query("SET readonly = 1")
        return self._readonly


class ServerEngine:
    def __init__(self, url: str) -> None:
        import clickhouse_connect

        self._client = clickhouse_connect.get_client(dsn=url)

    def command(self, sql: str) -> None:
        self._client.command(sql)

    def query(self, sql: str, fmt: str, *, readonly: bool = False) -> bytes:
        settings = {"readonly": 1} if readonly else None
        return bytes(self._client.raw_query(sql, settings=settings, fmt=fmt))

    def insert(self, table: str, json_rows: bytes) -> None:
        self._client.raw_insert(table, insert_block=json_rows, fmt="JSONEachRow")

    def close(self) -> None:
        self._client.close()


def open_engine(settings: Settings) -> Engine:
    if settings.clickhouse_url:
        return ServerEngine(settings.clickhouse_url)
    return ChdbEngine(settings.data_path / "clickhouse")


def _lock_directory(lock_path: Path, wait_s: float) -> int:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise EngineBusy(
                    f"{lock_path.with_suffix('')} is in use by another hyperedu process"
                    " (embedded ClickHouse allows one at a time)"
                ) from None
            time.sleep(0.1)
