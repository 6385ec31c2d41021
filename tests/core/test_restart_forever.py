"""core.bus.restart_forever: back-off while a component keeps failing, short again after a
run that lasted."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from core import bus


def _pauses(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        re.search(r"restarting in (\S+) s", r.getMessage()).group(1)  # type: ignore[union-attr]
        for r in caplog.records
        if "restarting in" in r.getMessage()
    ]


async def _supervise(runs: list[float], fail: bool) -> None:
    """restart_forever over runs that each last runs[i] seconds, cancelled after the last."""
    done = asyncio.Event()
    left = list(runs)

    async def run() -> None:
        await asyncio.sleep(left.pop(0))
        if not left:
            done.set()
            await asyncio.Event().wait()  # the last run lasts until the test cancels it
        if fail:
            raise ConnectionError("database down")

    task = asyncio.create_task(bus.restart_forever("component", run))
    await asyncio.wait_for(done.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.fixture
def short_pauses(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(bus, "FIRST_PAUSE_S", 0.1)
    monkeypatch.setattr(bus, "LONGEST_PAUSE_S", 0.4)
    monkeypatch.setattr(bus, "HEALTHY_S", 0.3)
    caplog.set_level(logging.INFO, logger=bus.__name__)


@pytest.mark.usefixtures("short_pauses")
def test_pauses_double_while_failing_and_reset_after_a_healthy_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # four quick failures, one run that lasts (then fails), one more quick failure
    asyncio.run(_supervise([0, 0, 0, 0, 0.35, 0, 0], fail=True))
    assert _pauses(caplog) == ["0.1", "0.2", "0.4", "0.4", "0.1", "0.2"]
    assert all(r.exc_info for r in caplog.records if "restarting" in r.getMessage())


@pytest.mark.usefixtures("short_pauses")
def test_a_run_that_returns_is_restarted_after_a_pause_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    asyncio.run(_supervise([0, 0, 0.35, 0], fail=False))
    assert _pauses(caplog) == ["0.1", "0.2", "0.1"]
    assert all("ended" in r.getMessage() for r in caplog.records if "restarting" in r.getMessage())
