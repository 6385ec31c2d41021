"""What the request-observing layer (`lrs.metrics.observe_requests`) costs per request.

Calls a do-nothing ASGI app with and without the layer, in prometheus-client's multiprocess
mode as the server runs it, and prints the difference per request:

    python -m bench.request_metrics [--requests 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from typing import Any

# As `hyperedu serve` does: before prometheus_client is first imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="hyperedu-bench-"))

from litestar import Litestar, get

from lrs.metrics import observe_requests

SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/xapi/statements",
    "query_string": b"",
    "headers": [(b"content-type", b"application/json"), (b"x-experience-api-version", b"1.0.3")],
}


@get("/xapi/statements")
async def _statements() -> None:
    return None


async def _bare(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"[]"})


async def _receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    return None


async def _per_request_us(app: Any, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(SCOPE), _receive, _send)
    return (time.perf_counter() - started) / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    observed = observe_requests(_bare, Litestar([_statements]), access_log=False)
    bare, wrapped = [], []
    for _ in range(rounds):
        bare.append(await _per_request_us(_bare, requests))
        wrapped.append(await _per_request_us(observed, requests))
    b, w = statistics.median(bare), statistics.median(wrapped)
    print(f"bare ASGI app:        {b:.2f} µs/request")
    print(f"with observe_requests: {w:.2f} µs/request")
    print(f"overhead:             {w - b:.2f} µs/request (median of {rounds} rounds)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
