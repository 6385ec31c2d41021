"""Mutated requests to every xAPI resource: a valid, feature-rich statement with one to three
of its values replaced by something wrong (a wrong type, an empty or huge value, an unknown
property, a lone surrogate, NaN, a SubStatement where none may be), sent as a statement, a
batch, a PUT, query parameters and document parameters, under 1.0.3 and 2.0.0.

Whatever arrives, the LRS answers it: never a 5xx, and every 400 is a JSON error that says
what was wrong. The mutations are drawn from a seeded generator, so a failure replays."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

REQUESTS_PER_VERSION = 400

WRONG: list[Any] = [
    None, "", " ", 0, -1, 1.5, 1e308, 10**30, True, [], {}, [None], [{}], "x" * 5000, "\u0000",
    "\ud800", "mailto:", "http://", "not an IRI", "2026-13-45T99:99:99Z", "P", "PT", "-P1D",
    "00000000-0000-0000-0000-000000000000", "ZZZZZZZZ-0000-0000-0000-000000000000",
    {"objectType": "Agent"}, {"en-US": None}, {"": ""}, {"en-US": 5}, [[[[[[[[[[]]]]]]]]]],
    "Agent", "Group", "SubStatement", "StatementRef", {"objectType": "SubStatement"}, "1.0.9",
    "3.0.0", float("nan"), float("inf"),
]  # fmt: skip
PROPERTIES = ["extra", "objectType", "id", "mbox", "account", "member", "definition", "version"]
QUERY_PARAMETERS = [
    "agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
    "until", "limit", "format", "attachments", "ascending", "statementId", "voidedStatementId",
]  # fmt: skip
DOCUMENT_PARAMETERS = {
    "activities/state": ["activityId", "agent", "stateId", "registration", "since"],
    "activities/profile": ["activityId", "profileId", "since"],
    "agents/profile": ["agent", "profileId", "since"],
    "agents": ["agent"],
    "activities": ["activityId"],
}


def statement() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": "A", "mbox": "mailto:a@mutations.example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": "http://mutations.example.org/activities/1",
            "definition": {
                "name": {"en-US": "Q"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "correctResponsesPattern": ["a"],
                "choices": [{"id": "a", "description": {"en-US": "A"}}],
                "extensions": {"http://mutations.example.org/ext": {"x": [1, 2]}},
            },
        },
        "result": {
            "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
            "success": True,
            "duration": "PT1M2.5S",
        },
        "context": {
            "registration": str(uuid.uuid4()),
            "instructor": {"account": {"homePage": "http://mutations.example.org", "name": "i"}},
            "team": {"objectType": "Group", "member": [{"mbox": "mailto:m@mutations.example.org"}]},
            "contextActivities": {"parent": [{"id": "http://mutations.example.org/courses/1"}]},
            "language": "en-US",
            "statement": {"objectType": "StatementRef", "id": str(uuid.uuid4())},
        },
        "timestamp": "2026-01-01T00:00:00.000Z",
        "attachments": [
            {
                "usageType": "http://mutations.example.org/usage",
                "display": {"en-US": "x"},
                "contentType": "text/plain",
                "length": 3,
                "sha2": "a" * 64,
                "fileUrl": "http://mutations.example.org/file",
            }
        ],
    }


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def mutated(rng: random.Random) -> dict[str, Any]:
    doc = statement()
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(list(_paths(doc))[1:])
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        roll = rng.random()
        if roll < 0.55:
            parent[key] = copy.deepcopy(rng.choice(WRONG))
        elif roll < 0.7 and isinstance(parent, dict):
            del parent[key]
        elif roll < 0.85 and isinstance(parent, dict):
            parent[rng.choice(PROPERTIES)] = copy.deepcopy(rng.choice(WRONG))
        else:
            substatement = statement()
            del (
                substatement["id"],
                substatement["attachments"],
                substatement["context"]["statement"],
            )
            parent[key] = {"objectType": "SubStatement", **substatement}
    return doc


def _json(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")  # NaN and lone surrogates too


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _request(client: httpx.Client, rng: random.Random) -> httpx.Response:
    json_body = {"Content-Type": "application/json"}
    doc = mutated(rng)
    roll = rng.random()
    if roll < 0.35:
        body = doc if rng.random() < 0.7 else [doc, mutated(rng)]
        return client.post("/xapi/statements", content=_json(body), headers=json_body)
    if roll < 0.5:
        statement_id = _text(rng.choice([doc.get("id"), str(uuid.uuid4()), "not-a-uuid"]))
        return client.put(
            "/xapi/statements",
            params={"statementId": statement_id},
            content=_json(doc),
            headers=json_body,
        )
    if roll < 0.75:
        values = [*WRONG, json.dumps(doc.get("actor")), "true", "10", "exact", str(uuid.uuid4())]
        params = {n: _text(rng.choice(values)) for n in rng.sample(QUERY_PARAMETERS, 3)}
        return client.get("/xapi/statements", params=params)
    resource = rng.choice(list(DOCUMENT_PARAMETERS))
    values = [
        *WRONG,
        "http://mutations.example.org/activities/1",
        json.dumps(statement()["actor"]),
        "s1",
    ]
    params = {n: _text(rng.choice(values)) for n in DOCUMENT_PARAMETERS[resource]}
    method = rng.choice(["GET", "PUT", "POST", "DELETE"])
    headers = {"Content-Type": rng.choice(["application/json", "text/plain"])}
    if rng.random() < 0.2:
        headers["If-Match"] = rng.choice(['"abc"', "*", "garbage"])
    content = _json(rng.choice([*WRONG, {"a": 1}])) if method in ("PUT", "POST") else None
    return client.request(
        method, f"/xapi/{resource}", params=params, content=content, headers=headers
    )


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_no_mutated_request_gets_a_server_error_and_every_400_names_what_failed(
    version: str, client: httpx.Client, client_v2: httpx.Client
) -> None:
    rng = random.Random(f"mutations {version}")
    http = client if version == "1.0.3" else client_v2
    statuses: dict[int, int] = {}
    for _ in range(REQUESTS_PER_VERSION):
        response = _request(http, rng)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        request = response.request
        where = f"{request.method} {request.url}: {request.content[:300]!r}"
        assert response.status_code < 500, f"{where} -> {response.status_code} {response.text}"
        if response.status_code == 400:
            error = response.json()
            assert error["error"] and error["message"], where
    # The mutations reach past the first check: some requests are still valid and accepted.
    assert statuses.get(400, 0) > REQUESTS_PER_VERSION // 2
    assert sum(n for status, n in statuses.items() if status < 300) > 0
