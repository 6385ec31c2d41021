"""GDPR erasure of an agent: after it, nothing of theirs is left (statements found by agent,
raw statement bodies, side tables, documents), other agents' data is untouched, and an
audit row records the erasure without the identifier."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import HYPEREDU, Server
from tests.lms.conftest import bearer, create_user, password_grant

EXPERIENCED = {"id": "http://adlnet.gov/expapi/verbs/experienced"}
VOIDED = {"id": "http://adlnet.gov/expapi/verbs/voided"}
STATE = "/xapi/activities/state"
AGENT_PROFILE = "/xapi/agents/profile"


@pytest.fixture(scope="module")
def admin(server: Server, data_dir: Path) -> httpx.Client:
    person = create_user(data_dir, "admin")
    token = password_grant(server.url, person["email"]).json()["access_token"]
    return httpx.Client(base_url=server.url, headers=bearer(token), timeout=60)


def person(label: str) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "name": f"{label.title()} Person",
        "mbox": f"mailto:{label}-{uuid.uuid4().hex[:10]}@example.com",
    }


def activity() -> dict[str, Any]:
    return {"id": f"http://example.com/activities/{uuid.uuid4().hex}"}


def post(client: httpx.Client, *statements: dict[str, Any]) -> list[str]:
    response = client.post("/xapi/statements", json=list(statements))
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


def found_by(client: httpx.Client, agent: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(
        "/xapi/statements", params={"agent": json.dumps(agent), "related_agents": "true"}
    )
    assert response.status_code == 200, response.text
    statements: list[dict[str, Any]] = response.json()["statements"]
    return statements


def put_documents(client: httpx.Client, agent: dict[str, Any], activity_id: str) -> None:
    state = {"activityId": activity_id, "agent": json.dumps(agent), "stateId": "bookmark"}
    assert client.put(STATE, params=state, json={"page": 3}).status_code == 204
    profile = {"agent": json.dumps(agent), "profileId": "prefs"}
    headers = {"If-None-Match": "*"}
    assert (
        client.put(AGENT_PROFILE, params=profile, json={"a": 1}, headers=headers).status_code == 204
    )


def document_status(client: httpx.Client, agent: dict[str, Any], activity_id: str) -> set[int]:
    state = {"activityId": activity_id, "agent": json.dumps(agent), "stateId": "bookmark"}
    profile = {"agent": json.dumps(agent), "profileId": "prefs"}
    return {
        client.get(STATE, params=state).status_code,
        client.get(AGENT_PROFILE, params=profile).status_code,
    }


def fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def sha1_form(agent: dict[str, Any]) -> dict[str, Any]:
    return {"objectType": "Agent", "mbox_sha1sum": hashlib.sha1(agent["mbox"].encode()).hexdigest()}


def test_delete_leaves_nothing_of_the_agent_and_everything_of_others(
    client: httpx.Client, admin: httpx.Client, database_url: str
) -> None:
    ada, bob = person("ada"), person("bob")
    course = activity()
    team = {"objectType": "Group", "name": "Team", "member": [ada, bob]}
    bobs = post(client, {"actor": bob, "verb": EXPERIENCED, "object": course})
    (bobs_voided,) = post(client, {"actor": bob, "verb": EXPERIENCED, "object": activity()})
    adas = post(
        client,
        {"actor": ada, "verb": EXPERIENCED, "object": course},
        {"actor": bob, "verb": EXPERIENCED, "object": ada},
        {"actor": bob, "verb": EXPERIENCED, "object": course, "context": {"instructor": ada}},
        {"actor": team, "verb": EXPERIENCED, "object": course},
        {"actor": sha1_form(ada), "verb": EXPERIENCED, "object": course},
    )
    # Ada voids Bob's statement: what she voided must stay voided.
    post(
        client,
        {"actor": ada, "verb": VOIDED, "object": {"objectType": "StatementRef", "id": bobs_voided}},
    )
    put_documents(client, ada, course["id"])
    put_documents(client, bob, course["id"])
    assert len(found_by(client, ada)) == 5  # and one under her mbox_sha1sum

    response = admin.post("/api/v1/admin/agents/erase", json={"agent": {"mbox": ada["mbox"]}})

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["mode"], report["deleted"], report["pseudonymised"]) == ("delete", 5, 1)
    assert report["documents"] == 2
    assert found_by(client, ada) == [] and found_by(client, sha1_form(ada)) == []
    for statement_id in adas:
        assert (
            client.get("/xapi/statements", params={"statementId": statement_id}).status_code == 404
        )
    email = ada["mbox"].removeprefix("mailto:")
    sha1 = sha1_form(ada)["mbox_sha1sum"]
    for needle in (email, sha1, ada["name"]):
        assert (
            fetch(database_url, "SELECT id FROM statements WHERE body LIKE $1", f"%{needle}%") == []
        )
    assert (
        fetch(database_url, "SELECT 1 FROM statement_agents WHERE agent LIKE $1", f"%{email}%")
        == []
    )
    assert document_status(client, ada, course["id"]) == {404}
    # Bob's own data is all there, and his voided statement is still voided.
    assert document_status(client, bob, course["id"]) == {200}
    assert {s["id"] for s in found_by(client, bob)} >= set(bobs)
    voided = client.get("/xapi/statements", params={"voidedStatementId": bobs_voided})
    assert voided.status_code == 200
    (audit,) = fetch(
        database_url, "SELECT * FROM erasure_audit WHERE agent_hash = $1", report["agent_hash"]
    )
    assert audit["requested_by"].startswith("user:")
    assert (audit["mode"], audit["deleted"], audit["documents"]) == ("delete", 5, 2)
    assert email not in json.dumps({k: str(v) for k, v in dict(audit).items()})


def test_pseudonymise_keeps_the_statements_under_a_pseudonym(
    client: httpx.Client, data_dir: Path, database_url: str
) -> None:
    cleo, bob = person("cleo"), person("bob")
    course = activity()
    ids = post(
        client,
        {"actor": cleo, "verb": EXPERIENCED, "object": course},
        {"actor": cleo, "verb": EXPERIENCED, "object": activity(), "result": {"success": True}},
        {"actor": bob, "verb": EXPERIENCED, "object": course, "context": {"instructor": cleo}},
    )
    put_documents(client, cleo, course["id"])

    done = subprocess.run(
        [*HYPEREDU, "agents", "erase", "--agent", json.dumps({"mbox": cleo["mbox"]}),
         "--mode", "pseudonymise", "--data-dir", str(data_dir)],
        capture_output=True, text=True, env=dict(os.environ), timeout=300, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert (report["deleted"], report["pseudonymised"], report["documents"]) == (0, 3, 2)
    assert found_by(client, cleo) == []
    stored = {i: client.get("/xapi/statements", params={"statementId": i}).json() for i in ids}
    pseudonym = stored[ids[0]]["actor"]
    assert set(pseudonym) == {"objectType", "account"}
    assert pseudonym["account"]["name"] == report["pseudonym"]
    assert pseudonym["account"]["homePage"].endswith("/pseudonyms")
    assert stored[ids[1]]["actor"] == pseudonym
    assert stored[ids[1]]["result"] == {"success": True}
    assert stored[ids[2]]["actor"] == bob
    assert stored[ids[2]]["context"]["instructor"] == pseudonym
    assert {s["id"] for s in found_by(client, pseudonym)} == set(ids)
    email = cleo["mbox"].removeprefix("mailto:")
    for needle in (email, cleo["name"]):
        assert (
            fetch(database_url, "SELECT id FROM statements WHERE body LIKE $1", f"%{needle}%") == []
        )
    assert document_status(client, cleo, course["id"]) == {404}


def test_erasure_is_for_administrators_only(client: httpx.Client, server: Server) -> None:
    body = {"agent": {"mbox": "mailto:nobody@example.com"}}
    assert httpx.post(server.url + "/api/v1/admin/agents/erase", json=body).status_code == 401
    assert client.post("/api/v1/admin/agents/erase", json=body).status_code == 403


def test_erasure_request_is_validated(admin: httpx.Client) -> None:
    for body in (
        {"agent": {"name": "no identifier"}},
        {"agent": {"mbox": "mailto:x@example.com"}, "mode": "shred"},
        {"agent": {"mbox": "mailto:x@example.com"}, "extra": 1},
    ):
        assert admin.post("/api/v1/admin/agents/erase", json=body).status_code == 400
