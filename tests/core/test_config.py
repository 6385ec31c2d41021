"""Settings: read from HYPEREDU_* variables and flags; a bad value is a clear error."""

from __future__ import annotations

import pytest

from core.config import AUTO_WORKERS_MAX, SettingsError, load_settings
from hyperedu.cli import main


@pytest.mark.parametrize(("cpus", "workers"), [(1, 1), (2, 2), (3, 3), (16, AUTO_WORKERS_MAX)])
def test_by_default_one_worker_per_cpu_the_process_may_use_at_most_four(
    monkeypatch: pytest.MonkeyPatch, cpus: int, workers: int
) -> None:
    monkeypatch.delenv("HYPEREDU_WORKERS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert load_settings().workers == workers


def test_workers_given_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPEREDU_WORKERS", "6")
    assert load_settings().workers == 6
    assert load_settings(workers=3).workers == 3


def test_a_value_that_is_not_a_number_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPEREDU_PORT", "eighty")
    with pytest.raises(SettingsError, match="HYPEREDU_PORT='eighty' is not a number"):
        load_settings()


def test_hyperedu_refuses_a_bad_setting_with_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.delenv("HYPEREDU_WORKERS", raising=False)
    assert main(["serve", "--workers", "-1", "--data-dir", str(tmp_path)]) == 2
    assert "HYPEREDU_WORKERS (--workers) must be 0 (one per CPU) or more" in capsys.readouterr().err
