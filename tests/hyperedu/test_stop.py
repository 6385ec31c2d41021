"""`hyperedu serve` stops at once when told to, even while its workers are still starting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import HYPEREDU, free_port


# A stop signal can reach a worker before Granian has installed the worker's own handlers
# (the handlers it inherits from the main process only set a flag) or while the app starts
# (Granian's handler then tells a server that is not running yet). Either way the worker used
# to serve on until Granian killed it HYPEREDU_STOP_TIMEOUT_S later; lrs/stop_signals.py holds
# the signal until the worker serves. The timeout is set far beyond the test's patience.
@pytest.mark.parametrize("after_spawn_s", [0.0, 0.0, 0.3, 0.6])
def test_a_server_told_to_stop_while_its_workers_start_stops_at_once(
    tmp_path: Path, after_spawn_s: float
) -> None:
    log_path = tmp_path / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*HYPEREDU, "serve", "--port", str(free_port()), "--data-dir", str(tmp_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HYPEREDU_WORKERS": "2", "HYPEREDU_STOP_TIMEOUT_S": "120"},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Spawning worker-2" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.01)
        time.sleep(after_spawn_s)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            status = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not stop in 20 s:\n{log_path.read_text()}")
        assert status == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_server_told_to_stop_while_its_database_starts_stops_that_database_too(
    tmp_path: Path,
) -> None:
    # The moment PostgreSQL writes its lock file it is starting, inside pgserver's start; a
    # SIGTERM then used to end `serve` at once (its default action) and leave it running.
    process = subprocess.Popen(
        [*HYPEREDU, "serve", "--port", str(free_port()), "--data-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "pg" / "postmaster.pid").exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)  # to `serve` alone, as an init system does
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
        assert _postgres_on(tmp_path / "pg") == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in _postgres_on(tmp_path / "pg"):
            os.kill(pid, signal.SIGKILL)


def _postgres_on(pgdata: Path) -> list[int]:
    return [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "postgres" in " ".join(p.info["cmdline"] or ())
        and str(pgdata) in " ".join(p.info["cmdline"] or ())
    ]
