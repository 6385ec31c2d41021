"""Rate limiting: a token bucket per caller, in process (each worker counts its own).

The caller is who the `Authorization` header claims to be (a Basic key or a bearer token's
subject) at the client's address, or the address alone when anonymous. The claim is not
verified here, which is why the address is part of the key: nobody can drain another
caller's bucket from elsewhere. Answered 429 with Retry-After when a bucket is empty.
"""

from __future__ import annotations

import base64
import binascii
import math
import time

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from lrs.scope_types import HTTP

# Buckets idle long enough to have refilled are forgotten once there are this many.
MAX_BUCKETS = 100_000


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self._rate = rate_per_s
        self._burst = float(burst if burst > 0 else max(1, math.ceil(rate_per_s)))
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str, now: float) -> float:
        """0 if the caller may proceed (one token taken), else seconds until a token is due."""
        tokens, when = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - when) * self._rate)
        if tokens >= 1:
            if len(self._buckets) >= MAX_BUCKETS and key not in self._buckets:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        refill = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}


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


def rate_limit_middleware(app: ASGIApp, rate_per_s: float, burst: int) -> ASGIApp:
    if rate_per_s <= 0:
        return app
    buckets = TokenBuckets(rate_per_s, burst)

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
