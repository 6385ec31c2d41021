"""A small file mapped into memory, which the server's workers on one host share (the
in-flight board, the versions clients spoke, the rate limiter's buckets)."""

from __future__ import annotations

import mmap
import os
from pathlib import Path


def map_file(path: Path, size: int) -> mmap.mmap:
    """The first `size` bytes of `path` mapped shared, read-write; the file (and its
    directory) is made if missing, and zero-filled up to `size` if shorter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)  # the mapping keeps the file
