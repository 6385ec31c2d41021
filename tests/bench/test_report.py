"""A benchmark result records the server settings it ran with, and never a credential."""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import pytest

from bench.report import envelope


def test_a_result_records_the_server_settings_but_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in os.environ if n.startswith("HYPEREDU_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HYPEREDU_INTERFACE", "asgi")
    monkeypatch.setenv("HYPEREDU_BATCH_WINDOW_MS", "3")
    monkeypatch.setenv("HYPEREDU_SECRET_KEY", "00ff")
    monkeypatch.setenv("HYPEREDU_DATABASE_URL", "postgresql://u:password@db/x")
    monkeypatch.setenv("HYPEREDU_OIDC_JWKS", "/etc/jwks.json")
    result = envelope(argparse.Namespace(batch=1, key="k", secret="s"))
    assert result["server_environment"] == {
        "HYPEREDU_BATCH_WINDOW_MS": "3",
        "HYPEREDU_INTERFACE": "asgi",
    }
    assert result["settings"] == {"batch": 1}


def test_a_result_names_the_commit_it_measured() -> None:
    if not (Path(__file__).parents[2] / ".git").exists():
        pytest.skip("not a git checkout")
    version = envelope(argparse.Namespace())["code"]
    assert version is not None and version.split("+")[0].isalnum()
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version.split("+")[0] == head
