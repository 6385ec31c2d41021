"""Whether a process is still there, for the places that clean up after a dead one (a
killed postmaster's lock file, a dead worker's metrics or in-flight board slot)."""

from __future__ import annotations

import psutil


def alive(pid: int) -> bool:
    """True while `pid` runs. A zombie (exited, not yet reaped by its parent) counts as gone:
    its pid still "exists" to the kernel, where nothing reaps orphans most of all."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
