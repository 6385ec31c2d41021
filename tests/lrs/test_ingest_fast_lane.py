"""Plain statement writes take the fast lane; it answers exactly as the router would."""

from __future__ import annotations

import uuid

STATEMENT = {
    "actor": {"mbox": "mailto:fast@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    "object": {"id": "http://example.com/fast-lane"},
}
BAD = {**STATEMENT, "actor": {"mbox": "fast@example.com"}}


def test_a_rejected_statement_gets_the_same_body_on_the_fast_lane_and_through_the_router(client):
    fast = client.post("/xapi/statements", json=BAD)
    routed = client.post("/xapi/statements", json=BAD, headers={"Origin": "http://tool.example"})
    assert fast.status_code == routed.status_code == 400
    assert fast.json() == routed.json()
    assert fast.json()["path"] == "$.actor.mbox"
    assert "access-control-allow-origin" in routed.headers


def test_fast_lane_writes_carry_the_protocol_headers(client):
    response = client.post("/xapi/statements", json=STATEMENT)
    assert response.status_code == 200
    assert response.headers["x-experience-api-version"] == "1.0.3"
    assert "x-experience-api-consistent-through" in response.headers
    stored = client.get("/xapi/statements", params={"statementId": response.json()[0]})
    assert stored.status_code == 200


def test_put_on_the_fast_lane_stores_under_the_given_id(client):
    statement_id = str(uuid.uuid4())
    response = client.put("/xapi/statements", params={"statementId": statement_id}, json=STATEMENT)
    assert response.status_code == 204
    assert (
        client.get("/xapi/statements", params={"statementId": statement_id}).json()["id"]
        == statement_id
    )
    refused = client.put(
        "/xapi/statements", params={"statementId": statement_id, "extra": "1"}, json=STATEMENT
    )
    assert refused.status_code == 400
    assert "extra" in refused.json()["message"]


def test_a_401_carries_a_basic_challenge_on_the_fast_lane_and_through_the_router(client):
    """RFC 9110 11.6.1: a 401 response MUST send a WWW-Authenticate challenge."""
    unknown = {"Authorization": "Basic bm9wZTpub3Bl"}
    for response in (
        client.post("/xapi/statements", json=STATEMENT, headers=unknown),
        client.get("/xapi/statements", params={"limit": "1"}, headers=unknown),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic realm=")
