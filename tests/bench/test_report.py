"""A benchmark result records the server settings it ran with, and never a credential."""

from __future__ import annotations

import argparse
import os

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
