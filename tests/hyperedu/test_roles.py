"""`hyperedu serve --role`: each process kind runs on its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.conftest import HYPEREDU, Server, basic, create_credential, free_port


def test_api_role_serves_the_xapi_api(tmp_path: Path):
    credential = create_credential(tmp_path)
    server = Server(tmp_path, free_port(), env={"HYPEREDU_ROLE": "api"})
    server.start()
    try:
        response = httpx.post(
            server.url + "/xapi/statements",
            headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
            json={
                "actor": {"mbox": "mailto:role@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": "http://example.com/role"},
            },
        )
        assert response.status_code == 200
    finally:
        server.stop()


def test_an_unknown_role_is_refused_with_exit_status_2(tmp_path: Path):
    done = subprocess.run(
        [*HYPEREDU, "serve", "--role", "everything", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown role" in done.stderr
