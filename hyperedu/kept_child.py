"""A child process `hyperedu serve` keeps running beside the server: the outbox relay.

If it exits while the server runs (killed, crashed), it is started again after a pause that
doubles while it keeps failing fast (1 s up to 30 s). What it had not yet relayed is still
in the outbox, so a restart loses nothing; it only delays the stream.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Sequence

log = logging.getLogger("hyperedu.serve")

PAUSE_S = 1.0
PAUSE_MAX_S = 30.0
HEALTHY_S = 30.0  # a child that ran this long before exiting starts again after PAUSE_S


class KeptChild:
    def __init__(self, name: str, command: Sequence[str]) -> None:
        self.name = name
        self._command = list(command)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process = subprocess.Popen(self._command)
        self._watcher = threading.Thread(target=self._watch, name=f"kept {name}", daemon=True)
        self._watcher.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the child to end (SIGTERM) and wait for it; it is not started again."""
        with self._lock:
            self._stopping.set()
            process = self._process
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._watcher.join(timeout=timeout_s)

    def _watch(self) -> None:
        pause = PAUSE_S
        while True:
            started = time.monotonic()
            code = self._process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= HEALTHY_S:
                pause = PAUSE_S
            log.warning(
                "%s exited with status %s; starting it again in %.0f s", self.name, code, pause
            )
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._process = subprocess.Popen(self._command)
            pause = min(pause * 2, PAUSE_MAX_S)
