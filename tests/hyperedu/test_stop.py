"""`hyperedu serve` stops at once when told to, even while its workers are still starting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

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
        assert process.wait(timeout=20) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
