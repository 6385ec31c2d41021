"""`hyperedu serve` stops when told to, even while its workers are still starting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import HYPEREDU, free_port


def test_a_server_told_to_stop_while_its_worker_starts_still_exits(tmp_path: Path):
    # A worker forked just before the stop misses it (Granian's signal handlers are not yet
    # its own) and would serve on, with the server waiting for it forever: it is killed
    # after HYPEREDU_STOP_TIMEOUT_S instead. It has accepted nothing yet, so nothing is lost.
    log_path = tmp_path / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*HYPEREDU, "serve", "--port", str(free_port()), "--data-dir", str(tmp_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HYPEREDU_WORKERS": "1", "HYPEREDU_STOP_TIMEOUT_S": "2"},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Spawning worker-1" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
