"""A NUL character (U+0000) in a text parameter, or an identifier too long to index, is the
client's error on every path that would hand it to PostgreSQL: 400, never 500 or 503."""

from __future__ import annotations

import secrets

import httpx
import pytest

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


def _post_actor(
    server: Server,
    credential: tuple[str, str],
    actor: dict[str, object],
    activity: str = "http://example.com/nul",
) -> httpx.Response:
    return httpx.post(
        server.url + "/xapi/statements",
        json={
            "actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": activity},
        },
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
    )


@pytest.mark.parametrize(
    ("actor", "rule"),
    [
        # It was a 503 ("the statement store is unavailable") for the whole group commit.
        (
            {"account": {"homePage": "http://example.com", "name": "a\x00b"}},
            "account name must not contain NUL",
        ),
        ({"mbox": "mailto:a\x00b@example.com"}, "mbox"),
        ({"mbox": "mailto:ab@exa\x01mple.com"}, "mbox"),
    ],
)
def test_a_control_character_in_an_agent_identifier_is_a_400_naming_the_rule(
    server: Server, credential: tuple[str, str], actor: dict[str, object], rule: str
) -> None:
    response = _post_actor(server, credential, actor)
    assert response.status_code == 400, response.text
    assert rule in response.json()["message"]


def test_identifiers_too_long_to_index_are_a_400(
    server: Server, credential: tuple[str, str]
) -> None:
    """Keys over ~2.7 KB cannot enter a B-tree: PostgreSQL refused the whole group commit (503)."""
    long_iri = "http://example.com/" + secrets.token_hex(1100)  # 2,219 bytes
    account = {"homePage": "http://example.com", "name": secrets.token_hex(1100)}
    mbox = {"mbox": "mailto:a@example.com"}
    for actor, activity in (({"account": account}, "http://example.com/a"), (mbox, long_iri)):
        response = _post_actor(server, credential, actor, activity)
        assert response.status_code == 400, response.text
        assert "at most 2,000 bytes" in response.json()["message"]
    assert _post_actor(server, credential, {"mbox": "mailto:a@example.com"}).status_code == 200


def test_a_document_id_too_long_to_index_is_a_400(
    server: Server, credential: tuple[str, str]
) -> None:
    response = httpx.put(
        server.url + "/xapi/activities/state",
        params={
            "activityId": "http://example.com/nul",
            "agent": AGENT,
            "stateId": secrets.token_hex(4500),
        },
        json={"at": 1},
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
    )
    assert response.status_code == 400, response.text
    assert "too long" in response.json()["message"]
