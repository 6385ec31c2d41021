"""JSON nested past the decoder's depth limit, wherever a client can send JSON, is a 400 that
says so, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

DEEP = "[" * 5000 + "]" * 5000
AGENT = json.dumps({"mbox": "mailto:nesting@example.com"})
ACTIVITY = "http://example.com/nesting"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/xapi/statements", {"agent": DEEP}),
        ("/xapi/agents", {"agent": DEEP}),
        ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": DEEP, "stateId": "s"}),
        ("/xapi/agents/profile", {"agent": DEEP, "profileId": "p"}),
    ],
)
def test_a_deeply_nested_agent_parameter_is_rejected_with_400(
    client: httpx.Client, path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert "agent" in response.json()["message"]


def test_a_deeply_nested_json_document_posted_for_merging_is_rejected_with_400(
    client: httpx.Client,
) -> None:
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "deep"}
    response = client.post(
        "/xapi/activities/state",
        params=params,
        content='{"a": ' + DEEP + "}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["message"]
    assert client.get("/xapi/activities/state", params=params).status_code == 404


def test_a_deeply_nested_statement_is_rejected_with_400(client: httpx.Client) -> None:
    statement = {
        "actor": {"mbox": "mailto:nesting@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": ACTIVITY},
    }
    body = json.dumps(statement)[:-1] + ', "result": {"extensions": {"http://x.com/e": ' + DEEP
    response = client.post(
        "/xapi/statements",
        content=body + "}}}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
