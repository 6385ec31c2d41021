"""A real Prometheus-compatible scraper reads /metrics: Debian's VictoriaMetrics scrapes the
session's server every second, and the statements posted meanwhile show up in its queries,
exactly as many as were accepted."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Server, free_port

INSTALL = "apt-get install -y victoria-metrics"
ACCEPTED = "hyperedu_statements_accepted_total"


@pytest.fixture
def victoria_metrics(server: Server, tmp_path: Path) -> Iterator[str]:
    """A VictoriaMetrics single node on a free loopback port, scraping `server` every 1 s."""
    binary = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
    if not Path(binary).exists():
        pytest.fail(f"the victoria-metrics binary is missing; install it with `{INSTALL}`")
    port = free_port()
    config = tmp_path / "scrape.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: hyperedu\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{server.port}']\n"
    )
    log = (tmp_path / "victoria-metrics.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={tmp_path / 'data'}",
            f"-promscrape.config={config}",
            "-search.latencyOffset=0s",  # show samples as soon as they are scraped
            "-search.disableCache",
            "-retentionPeriod=1d",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, tmp_path / "victoria-metrics.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"victoria-metrics exited:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("victoria-metrics did not come up within 30 s")


def accepted_on_server(server: Server) -> float:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == ACCEPTED:
                return sample.value
    raise AssertionError(f"{ACCEPTED} is not exposed")


def accepted_in_victoria_metrics(url: str) -> float | None:
    response = httpx.get(url + "/api/v1/query", params={"query": f"sum({ACCEPTED})"}, timeout=5)
    response.raise_for_status()
    result = response.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def statement(n: int) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:scraped-{n}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "http://example.com/metrics-scrape"},
    }


def test_statements_posted_are_counted_by_a_real_scraper(
    victoria_metrics: str, server: Server, client: httpx.Client
) -> None:
    before = accepted_on_server(server)
    requests, per_request = 5, 4
    for r in range(requests):
        batch = [statement(r * per_request + i) for i in range(per_request)]
        assert client.post("/xapi/statements", json=batch).status_code == 200
    assert client.post("/xapi/statements", json=statement(99)).status_code == 200
    posted = requests * per_request + 1

    deadline = time.monotonic() + 60
    seen: float | None = None
    while time.monotonic() < deadline:
        seen = accepted_in_victoria_metrics(victoria_metrics)
        if seen is not None and seen >= before + posted:
            break
        time.sleep(0.5)
    assert seen == before + posted, f"VictoriaMetrics saw {seen}, expected {before} + {posted}"
