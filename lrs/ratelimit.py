"""Rate limiting: a token bucket per caller, shared by the server's workers on one host.

The caller is who the `Authorization` header claims to be (a Basic key or a bearer token's
subject) at the client's address, or the address alone when anonymous. The claim is not
verified here, which is why the address is part of the key: nobody can drain another
caller's bucket from elsewhere. Answered 429 with Retry-After when a bucket is empty.

The buckets are slots of a fixed table (`SLOTS`, 1.5 MiB), in a memory-mapped file under the
data directory (`FILE_NAME`) when there are several workers, so a caller's limit is the
configured one whichever worker its requests reach. A take reads and writes its slot under an
exclusive lock on the file. A caller's slot is found by probing up to `PROBES` slots from its
digest's; a new caller takes a free slot or one whose bucket has refilled (a full bucket
forgotten is a full bucket), else the least recently used of them.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import math
import os
import struct
import time
from pathlib import Path

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from core.shared_file import map_file
from lrs.scope_types import HTTP

FILE_NAME = "rate-limit.table"
SLOTS = 65_536
PROBES = 8

_SLOT = struct.Struct("<Qdd")  # caller's digest (0: free), tokens, when (time.monotonic)


class TokenBuckets:
    """The buckets in this process, or with `path` in the file every worker maps."""

    def __init__(self, rate_per_s: float, burst: int, path: Path | None = None) -> None:
        self._rate = rate_per_s
        self._burst = float(burst if burst > 0 else max(1, math.ceil(rate_per_s)))
        self._refill_s = self._burst / self._rate
        size = SLOTS * _SLOT.size
        self._table = bytearray(size) if path is None else map_file(path, size)
        self._lock = None if path is None else os.open(path, os.O_RDONLY)

    def take(self, key: str, now: float) -> float:
        """0 if the caller may proceed (one token taken), else seconds until a token is due."""
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) or 1
        if self._lock is None:
            return self._take(digest, now)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            return self._take(digest, now)
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    def _take(self, digest: int, now: float) -> float:
        offset = self._slot_of(digest, now)
        slot: tuple[int, float, float] = _SLOT.unpack_from(self._table, offset)
        found, tokens, when = slot
        if found != digest or when > now:  # a new caller, or a slot of an earlier boot
            tokens, when = self._burst, now
        tokens = min(self._burst, tokens + (now - when) * self._rate)
        if tokens >= 1:
            _SLOT.pack_into(self._table, offset, digest, tokens - 1, now)
            return 0.0
        _SLOT.pack_into(self._table, offset, digest, tokens, now)
        return (1 - tokens) / self._rate

    def _slot_of(self, digest: int, now: float) -> int:
        """The offset of the caller's slot; for a new caller, of the slot it takes."""
        first = digest % SLOTS
        reusable: int | None = None
        least_recent = (math.inf, 0)
        for probe in range(PROBES):
            offset = (first + probe) % SLOTS * _SLOT.size
            found, _tokens, when = _SLOT.unpack_from(self._table, offset)
            if found == digest:
                return offset
            refilled = found == 0 or now - when >= self._refill_s or when > now
            if reusable is None and refilled:
                reusable = offset
            least_recent = min(least_recent, (when, offset))
        return reusable if reusable is not None else least_recent[1]


def caller_of(scope: Scope) -> str:
    claimed = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            claimed = _claimed_identity(value)
            break
    client = scope.get("client")
    return f"{claimed}@{client[0] if client else ''}"


def _claimed_identity(header: bytes) -> str:
    scheme, _, value = header.partition(b" ")
    value = value.strip()
    try:
        if scheme.lower() == b"basic":
            return "basic:" + base64.b64decode(value, validate=True).partition(b":")[0].decode()
        if scheme.lower() == b"bearer":
            payload = value.split(b".")[1]
            claims = msgspec.json.decode(
                base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
            )
            return "bearer:" + str(claims.get("sub", ""))
    except (binascii.Error, UnicodeDecodeError, IndexError, msgspec.DecodeError, AttributeError):
        pass
    return "malformed"


def rate_limit_middleware(
    app: ASGIApp, rate_per_s: float, burst: int, path: Path | None = None
) -> ASGIApp:
    """`path`: the table the workers share (see the module's docstring); None: in process."""
    if rate_per_s <= 0:
        return app
    buckets = TokenBuckets(rate_per_s, burst, path)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != HTTP:
            await app(scope, receive, send)
            return
        wait = buckets.take(caller_of(scope), time.monotonic())
        if wait == 0.0:
            await app(scope, receive, send)
            return
        body = msgspec.json.encode(
            {"error": "TooManyRequests", "message": "rate limit exceeded; retry later"}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                ],
            }
        )
        # ASGI's more_body defaults to False; Litestar's type wants it said.
        await send({"type": "http.response.body", "body": body})  # type: ignore[arg-type]

    return middleware
