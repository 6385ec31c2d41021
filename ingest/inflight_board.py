"""The oldest uncommitted statement of every server worker on this host, in one shared file.

`X-Experience-API-Consistent-Through` promises that no statement stored before it is still
on its way to the store. A worker knows only the statements it accepted itself, so with
several workers each publishes the `stored` of its oldest uncommitted statement in a slot of
a small memory-mapped file under the data directory, and the header is the oldest of every
slot. A slot holds a pid and that instant (epoch microseconds; `NONE` when nothing is in
flight); a word before the slots counts how many have ever been claimed, so a read covers
only those. The server empties the file before it starts its workers (`reset`); a worker
claims the first slot whose pid is gone, under an exclusive lock, so a worker that died
with statements in flight holds the header back (never forward) until the server replaces it.

Reads and writes on the hot path are aligned 8-byte words of shared memory, without a lock.
"""

from __future__ import annotations

import fcntl
import os
import struct
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from core.processes import alive
from core.shared_file import map_file

SLOTS = 64  # workers on one host; one slot each
NONE = 2**63 - 1
FILE_NAME = "inflight.board"

_WORD = struct.Struct("<q")
_SLOT = struct.Struct("<qq")  # pid, oldest (epoch microseconds) or NONE
_HEADER = _WORD.size  # the number of slots claimed so far
_SIZE = _HEADER + SLOTS * _SLOT.size
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def _slots(count: int) -> struct.Struct:
    return struct.Struct(f"<{2 * count}q")


def reset(path: Path) -> None:
    """An empty board at `path`: call it before starting the workers that will use it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_WORD.pack(0) + _slots(SLOTS).pack(*(0, NONE) * SLOTS))


def claimed(path: Path) -> int:
    """How many slots have been claimed since the board at `path` was reset. A worker claims
    its slot as its app starts, after Granian has installed its signal handlers: once this
    reaches the worker count, every worker is up and a stop signal reaches them all."""
    try:
        with path.open("rb") as file:
            return int(_WORD.unpack(file.read(_WORD.size))[0])
    except (FileNotFoundError, struct.error):
        return 0


class InflightBoard:
    """This worker's slot on the board at `path`, and the oldest of all slots."""

    def __init__(self, path: Path, pid: int | None = None) -> None:
        self._pid = os.getpid() if pid is None else pid
        self._map = map_file(path, _SIZE)
        with path.open("rb") as file:  # claims are serialised; closing the file unlocks
            fcntl.flock(file, fcntl.LOCK_EX)
            slot = self._claim()
        self._oldest_at = _HEADER + slot * _SLOT.size + _WORD.size

    def _claim(self) -> int:
        claimed = _WORD.unpack_from(self._map)[0]
        words = _slots(SLOTS).unpack_from(self._map, _HEADER)
        free = [
            slot
            for slot in range(claimed)
            if not (words[2 * slot] and words[2 * slot] != self._pid and alive(words[2 * slot]))
        ]
        for slot in free:  # gone workers' slots, their statements with them
            _SLOT.pack_into(self._map, _HEADER + slot * _SLOT.size, 0, NONE)
        if free:
            slot = free[0]
        elif claimed < SLOTS:
            slot = claimed
            _WORD.pack_into(self._map, 0, claimed + 1)
        else:
            raise RuntimeError(f"all {SLOTS} slots of the in-flight board are taken")
        _SLOT.pack_into(self._map, _HEADER + slot * _SLOT.size, self._pid, NONE)
        return slot

    def publish(self, oldest: datetime | None) -> None:
        """The `stored` of this worker's oldest uncommitted statement, or None."""
        _WORD.pack_into(self._map, self._oldest_at, NONE if oldest is None else _micros(oldest))

    def oldest(self) -> datetime | None:
        """The `stored` of the oldest statement any worker has still to commit, or None."""
        claimed = _WORD.unpack_from(self._map)[0]
        oldest = min(_slots(claimed).unpack_from(self._map, _HEADER)[1::2], default=NONE)
        return None if oldest == NONE else _EPOCH + timedelta(microseconds=oldest)

    def close(self) -> None:
        """Give the slot back."""
        _SLOT.pack_into(self._map, self._oldest_at - _WORD.size, 0, NONE)
        self._map.close()


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
