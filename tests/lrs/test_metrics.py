"""The metrics layer without a server: request tallies reach the histogram exactly as
`observe` would put them, rejections are counted by reason, /metrics follows the setting."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from core.config import Settings
from core.errors import Conflict, Overloaded, ValidationError
from lrs.app import create_app
from lrs.metrics import RequestTally, count_rejection, exposition


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_flushed_tally_adds_up_to_what_observing_each_request_would() -> None:
    route, method = "/unit/tally", "POST"
    tally = RequestTally()
    for seconds in (0.0005, 0.001, 0.004, 0.004, 0.3, 30.0):
        tally.add(route, method, 200, seconds)
    tally.add(route, method, 503, 0.002)
    assert value("hyperedu_http_requests_total", route=route, method=method, status="200") == 0
    tally.flush()
    assert value("hyperedu_http_requests_total", route=route, method=method, status="200") == 6
    assert value("hyperedu_http_requests_total", route=route, method=method, status="503") == 1
    bucket = "hyperedu_http_request_seconds_bucket"
    assert value(bucket, route=route, method=method, le="0.001") == 2  # a bound is inclusive
    assert value(bucket, route=route, method=method, le="0.0025") == 3
    assert value(bucket, route=route, method=method, le="0.005") == 5
    assert value(bucket, route=route, method=method, le="0.5") == 6
    assert value(bucket, route=route, method=method, le="+Inf") == 7
    assert value("hyperedu_http_request_seconds_count", route=route, method=method) == 7
    assert value("hyperedu_http_request_seconds_sum", route=route, method=method) == (
        pytest.approx(0.0005 + 0.001 + 0.004 + 0.004 + 0.3 + 30.0 + 0.002)
    )
    tally.flush()  # nothing new: nothing added twice
    assert value("hyperedu_http_request_seconds_count", route=route, method=method) == 7


def test_rejections_of_statements_are_counted_by_reason_and_others_are_not() -> None:
    def rejected(reason: str) -> float:
        return value("hyperedu_statements_rejected_total", reason=reason)

    before = {r: rejected(r) for r in ("validation", "conflict", "overloaded")}
    count_rejection("/xapi/statements", ValidationError("statement.actor", "$.actor"))
    count_rejection("/xapi/statements/", Conflict("differs"))
    count_rejection("/xapi/statements", Overloaded("full"))
    count_rejection("/xapi/activities/state", Conflict("not a statement"))
    count_rejection("/xapi/statements", KeyError("a 500 is no rejection"))
    assert {r: rejected(r) - before[r] for r in before} == {
        "validation": 1,
        "conflict": 1,
        "overloaded": 1,
    }


def test_exposition_is_the_prometheus_text_format() -> None:
    text = exposition().decode()
    assert "# TYPE hyperedu_statements_accepted_total counter" in text
    assert "# TYPE hyperedu_batch_statements histogram" in text
    assert "# TYPE hyperedu_queue_statements gauge" in text


@pytest.mark.parametrize(("enabled", "status"), [(True, 200), (False, 404)])
async def test_metrics_route_follows_the_setting(enabled: bool, status: int) -> None:
    # No lifespan runs here: neither /metrics nor the probes need the database.
    app = create_app(Settings(metrics_enabled=enabled), b"k" * 32, "postgresql://unused")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lrs") as client:
        response = await client.get("/metrics")
        assert response.status_code == status
        assert response.headers["x-request-id"]
        assert (await client.get("/healthz")).status_code == 200
