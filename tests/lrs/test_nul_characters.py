"""A NUL character (U+0000) in a text parameter is the client's error, on every path that would
hand it to PostgreSQL: 400, never 500."""

from __future__ import annotations

import httpx

from tests.conftest import Server, basic

AGENT = '{"mbox":"mailto:nul@example.com"}'


def test_a_nul_in_a_document_id_is_a_400(server: Server, credential: tuple[str, str]) -> None:
    response = httpx.get(
        server.url + "/xapi/activities/state",
        params={"activityId": "http://example.com/nul", "agent": AGENT, "stateId": "s\x00"},
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
    )
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["message"]


def test_a_nul_in_a_password_grant_is_a_400(server: Server) -> None:
    response = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "password", "username": "\x00", "password": "0"},
    )
    assert response.status_code == 400, response.text
