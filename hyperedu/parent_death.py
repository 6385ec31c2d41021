"""A server worker stops when the server's main process dies, even by `kill -9`.

Granian's workers are the main process's children; killed alone, the main process leaves
them serving on, orphaned, beside whatever server replaces it. So each worker asks Linux
for a SIGTERM when its parent dies (`PR_SET_PDEATHSIG`): the worker then stops as on any
stop, answering what is in flight and committing what it accepted.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

SERVER_PID_ENV = "HYPEREDU_SERVER_PID"  # set by `hyperedu serve` for its workers
_PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


def stop_when_the_server_dies() -> None:
    """Call in a worker, before it serves. Elsewhere than Linux it does nothing."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        return
    server = os.environ.get(SERVER_PID_ENV)
    if server is not None and os.getppid() != int(server):
        # It died before the request above: no signal will come.
        raise SystemExit("the server's main process is gone")
