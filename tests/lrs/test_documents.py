"""The Document Resources over HTTP: State, Activity Profile, Agent Profile (xAPI 1.0.3
Communication 2.2-2.3, 2.6-2.7, 3.1; 2.0 4.1.4, 4.1.6) and how HyperEdu settles what the spec
leaves open. The broad spec walk is in xapi-conformance/; these are the project's own rules."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from core.config import Settings

MAX_DOCUMENT_BYTES = Settings().max_document_bytes  # the default the test server runs with

STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"


def state_params(agent: dict[str, Any], activity_id: str, **more: str) -> dict[str, str]:
    return {"activityId": activity_id, "agent": json.dumps(agent), "stateId": "bookmark", **more}


def profile_params(resource: str, agent: dict[str, Any], activity_id: str) -> dict[str, str]:
    if resource == ACTIVITY_PROFILE:
        return {"activityId": activity_id, "profileId": "rubric"}
    return {"agent": json.dumps(agent), "profileId": "prefs"}


def without(params: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k != name}


def put_json(
    client: httpx.Client, path: str, params: dict[str, str], body: Any, **headers: str
) -> httpx.Response:
    return client.put(
        path,
        params=params,
        content=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


def post_json(
    client: httpx.Client, path: str, params: dict[str, str], body: Any, **headers: str
) -> httpx.Response:
    return client.post(
        path,
        params=params,
        content=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


# --- storing and returning ------------------------------------------------------------------


def test_content_and_content_type_come_back_byte_for_byte(client, agent, activity_id):
    params = state_params(agent, activity_id)
    content = "suspend_data: ✓\r\n".encode()
    stored = client.put(STATE, params=params, content=content, headers={"Content-Type": "text/x"})
    assert stored.status_code == 204, stored.text
    got = client.get(STATE, params=params)
    assert got.content == content
    assert got.headers["Content-Type"] == "text/x"


def test_text_content_type_is_returned_without_an_added_charset(client, agent, activity_id):
    params = state_params(agent, activity_id)
    client.put(STATE, params=params, content=b"plain", headers={"Content-Type": "text/plain"})
    assert client.get(STATE, params=params).headers["Content-Type"] == "text/plain"


def test_document_without_content_type_is_stored_as_octet_stream(client, agent, activity_id):
    params = state_params(agent, activity_id)
    request = client.build_request("PUT", STATE, params=params, content=b"\x00\x01")
    assert "Content-Type" not in request.headers
    assert client.send(request).status_code == 204
    assert client.get(STATE, params=params).headers["Content-Type"] == "application/octet-stream"


def test_etag_is_the_quoted_sha1_of_the_content_on_get_and_on_the_write(client, agent, activity_id):
    params = state_params(agent, activity_id)
    body = b'{"page": 7}'
    written = client.put(
        STATE, params=params, content=body, headers={"Content-Type": "application/json"}
    )
    expected = f'"{hashlib.sha1(body).hexdigest()}"'
    assert written.headers["ETag"] == expected
    got = client.get(STATE, params=params)
    assert got.headers["ETag"] == expected
    assert got.headers["Last-Modified"] == written.headers["Last-Modified"]


def test_head_answers_with_the_headers_of_get(client, agent, activity_id):
    params = state_params(agent, activity_id)
    put_json(client, STATE, params, {"a": 1})
    head = client.head(STATE, params=params)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["ETag"] == client.get(STATE, params=params).headers["ETag"]


def test_post_of_json_that_is_not_an_object_creates_the_document(client, agent, activity_id):
    """Only a merge needs JSON objects; a POST to nothing stores as a PUT would (2.2.s7)."""
    params = state_params(agent, activity_id)
    assert post_json(client, STATE, params, 1).status_code == 204
    assert client.get(STATE, params=params).json() == 1


def test_merge_result_is_application_json(client, agent, activity_id):
    params = state_params(agent, activity_id)
    client.put(
        STATE,
        params=params,
        content=b'{"a": 1}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert post_json(client, STATE, params, {"b": "ü"}).status_code == 204
    got = client.get(STATE, params=params)
    assert got.json() == {"a": 1, "b": "ü"}
    assert got.headers["Content-Type"] == "application/json"


def test_document_over_the_size_bound_is_rejected_with_413(client, agent, activity_id):
    params = state_params(agent, activity_id)
    too_big = b"x" * (MAX_DOCUMENT_BYTES + 1)
    response = client.put(
        STATE, params=params, content=too_big, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 413
    assert client.get(STATE, params=params).status_code == 404


def test_merge_that_would_grow_past_the_size_bound_is_rejected_with_413(client, agent, activity_id):
    params = state_params(agent, activity_id)
    half = "x" * (MAX_DOCUMENT_BYTES // 2)
    assert post_json(client, STATE, params, {"a": half}).status_code == 204
    assert post_json(client, STATE, params, {"b": half}).status_code == 413
    assert client.get(STATE, params=params).json() == {"a": half}


async def test_row_holds_the_key_parts_the_document_does_not_use_as_empty_strings(
    client, database_url, agent, activity_id
):
    params = profile_params(ACTIVITY_PROFILE, agent, activity_id)
    put_json(client, ACTIVITY_PROFILE, params, {"a": 1}, **{"If-None-Match": "*"})
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT kind, agent, registration, etag, content FROM documents WHERE activity = $1",
            activity_id,
        )
    finally:
        await conn.close()
    assert (row["kind"], row["agent"], row["registration"]) == ("activity_profile", "", "")
    assert row["etag"] == hashlib.sha1(row["content"]).hexdigest()


# --- addressing -----------------------------------------------------------------------------


def test_agent_is_addressed_by_its_identifier_in_any_spelling(client, agent, activity_id):
    params = state_params(agent, activity_id)
    put_json(client, STATE, params, {"a": 1})
    same = {**params, "agent": json.dumps({"mbox": agent["mbox"], "name": "Another Name"})}
    assert client.get(STATE, params=same).json() == {"a": 1}


def test_identified_group_may_hold_state(client, activity_id, unique):
    group = {"objectType": "Group", "account": {"homePage": "http://lms.example", "name": unique}}
    params = state_params(group, activity_id)
    assert put_json(client, STATE, params, {"team": True}).status_code == 204
    assert client.get(STATE, params=params).json() == {"team": True}


def test_single_document_without_registration_is_the_one_stored_without(client, agent, activity_id):
    registered = state_params(agent, activity_id, registration=str(uuid.uuid4()))
    put_json(client, STATE, registered, {"registered": True})
    assert client.get(STATE, params=without(registered, "registration")).status_code == 404


def test_listing_without_registration_spans_registrations_each_id_once(client, agent, activity_id):
    """ "State ids of all state data for this context (Activity + Agent [+ registration if
    specified])": without a registration, the context is the Activity and Agent."""
    params = state_params(agent, activity_id)
    put_json(client, STATE, params, {"n": 0})
    for _ in range(2):
        put_json(client, STATE, {**params, "registration": str(uuid.uuid4())}, {"n": 1})
    put_json(client, STATE, {**params, "stateId": "other"}, {"n": 2})
    listed = client.get(STATE, params=without(params, "stateId"))
    assert listed.json() == ["bookmark", "other"]
    assert "Last-Modified" in listed.headers


def test_delete_of_all_state_without_registration_spans_registrations(client, agent, activity_id):
    params = state_params(agent, activity_id)
    registered = {**params, "registration": str(uuid.uuid4())}
    put_json(client, STATE, params, {"n": 0})
    put_json(client, STATE, registered, {"n": 1})
    assert client.delete(STATE, params=without(params, "stateId")).status_code == 204
    assert client.get(STATE, params=params).status_code == 404
    assert client.get(STATE, params=registered).status_code == 404


def test_registration_is_compared_as_a_uuid_not_as_text(client, agent, activity_id):
    registration = uuid.uuid4()
    put_json(client, STATE, state_params(agent, activity_id, registration=str(registration)), 1)
    upper = state_params(agent, activity_id, registration=str(registration).upper())
    assert client.get(STATE, params=upper).json() == 1


def test_state_and_profiles_of_the_same_ids_are_separate_documents(client, agent, activity_id):
    state = {"activityId": activity_id, "agent": json.dumps(agent), "stateId": "same"}
    activity_profile = {"activityId": activity_id, "profileId": "same"}
    agent_profile = {"agent": json.dumps(agent), "profileId": "same"}
    put_json(client, STATE, state, "state")
    put_json(client, ACTIVITY_PROFILE, activity_profile, "activity", **{"If-None-Match": "*"})
    put_json(client, AGENT_PROFILE, agent_profile, "agent", **{"If-None-Match": "*"})
    assert client.get(STATE, params=state).json() == "state"
    assert client.get(ACTIVITY_PROFILE, params=activity_profile).json() == "activity"
    assert client.get(AGENT_PROFILE, params=agent_profile).json() == "agent"


# --- parameters -----------------------------------------------------------------------------


def test_missing_parameters_are_all_named_in_the_400(client):
    response = client.put(STATE, content=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    message = response.json()["message"]
    assert "activityId" in message
    assert "agent" in message
    assert "stateId" in message


@pytest.mark.parametrize(
    "bad_agent",
    [
        {"mbox": "ada@example.com"},
        {"mbox_sha1sum": "not-hex"},
        {"account": {"homePage": "not an iri", "name": "x"}},
        {"objectType": "Person", "mbox": ["mailto:ada@example.com"]},
    ],
    ids=["mbox-without-mailto", "sha1-not-hex", "homepage-not-iri", "person"],
)
def test_agent_with_a_malformed_identifier_is_rejected_with_400(client, activity_id, bad_agent):
    params = {"activityId": activity_id, "agent": json.dumps(bad_agent), "stateId": "x"}
    assert client.get(STATE, params=params).status_code == 400


def test_since_with_a_document_id_is_rejected_with_400(client, agent, activity_id):
    params = state_params(agent, activity_id, since="2020-01-01T00:00:00Z")
    assert client.get(STATE, params=params).status_code == 400


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_since_on_a_write_is_rejected_with_400(client, agent, activity_id, method):
    params = state_params(agent, activity_id, since="2020-01-01T00:00:00Z")
    assert client.request(method, STATE, params=params, content=b"{}").status_code == 400


def test_empty_document_id_is_rejected_with_400(client, agent, activity_id):
    assert (
        put_json(client, STATE, state_params(agent, activity_id, stateId=""), 1).status_code == 400
    )


@pytest.mark.parametrize("resource", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_profile_delete_without_profile_id_is_rejected_and_deletes_nothing(
    client, agent, activity_id, resource
):
    params = profile_params(resource, agent, activity_id)
    put_json(client, resource, params, {"a": 1}, **{"If-None-Match": "*"})
    assert client.delete(resource, params=without(params, "profileId")).status_code == 400
    assert client.get(resource, params=params).status_code == 200


# --- concurrency ----------------------------------------------------------------------------


def test_delete_of_a_missing_document_is_204_but_412_with_if_match(client, agent, activity_id):
    params = state_params(agent, activity_id)
    assert client.delete(STATE, params=params).status_code == 204
    assert client.delete(STATE, params=params, headers={"If-Match": "*"}).status_code == 412


def test_if_match_star_needs_the_document_to_exist(client, agent, activity_id):
    params = state_params(agent, activity_id)
    assert put_json(client, STATE, params, 1, **{"If-Match": "*"}).status_code == 412
    put_json(client, STATE, params, 1)
    assert put_json(client, STATE, params, 2, **{"If-Match": "*"}).status_code == 204


def test_if_match_accepts_an_upper_case_etag(client, agent, activity_id):
    params = state_params(agent, activity_id)
    tag = put_json(client, STATE, params, 1).headers["ETag"]
    assert put_json(client, STATE, params, 2, **{"If-Match": tag.upper()}).status_code == 204


def test_if_match_never_matches_a_weak_tag(client, agent, activity_id):
    """If-Match uses the strong comparison (RFC 7232 3.1)."""
    params = state_params(agent, activity_id)
    tag = put_json(client, STATE, params, 1).headers["ETag"]
    assert put_json(client, STATE, params, 2, **{"If-Match": f"W/{tag}"}).status_code == 412


def test_if_none_match_of_the_current_etag_fails_a_write(client, agent, activity_id):
    params = state_params(agent, activity_id)
    tag = put_json(client, STATE, params, 1).headers["ETag"]
    assert post_json(client, STATE, params, {"a": 1}, **{"If-None-Match": tag}).status_code == 412


def test_both_headers_must_hold(client, agent, activity_id):
    params = state_params(agent, activity_id)
    tag = put_json(client, STATE, params, 1).headers["ETag"]
    headers = {"If-Match": tag, "If-None-Match": "*"}
    assert put_json(client, STATE, params, 2, **headers).status_code == 412
    assert client.get(STATE, params=params).json() == 1


@pytest.mark.parametrize("resource", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_profile_post_and_delete_need_no_precondition_headers(client, agent, activity_id, resource):
    """1.0.3 3.1.s4.b13 asks for 409 on PUT only; POST and DELETE headers are the Client's
    SHOULD* (3.1.s3.b2-b3)."""
    params = profile_params(resource, agent, activity_id)
    put_json(client, resource, params, {"a": 1}, **{"If-None-Match": "*"})
    assert post_json(client, resource, params, {"b": 2}).status_code == 204
    assert client.delete(resource, params=params).status_code == 204


@pytest.mark.parametrize("resource", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_profile_put_without_headers_is_400_when_new_and_409_once_it_exists_in_1_0_3(
    client, agent, activity_id, resource
):
    params = profile_params(resource, agent, activity_id)
    refused = put_json(client, resource, params, {"v": 1})
    assert refused.status_code == 400
    assert "If-None-Match" in refused.json()["message"]
    assert client.get(resource, params=params).status_code == 404
    assert put_json(client, resource, params, {"v": 1}, **{"If-None-Match": "*"}).status_code == 204
    conflict = put_json(client, resource, params, {"v": 2})
    assert conflict.status_code == 409
    assert "If-Match" in conflict.json()["message"]
    assert client.get(resource, params=params).json() == {"v": 1}


@pytest.mark.parametrize("resource", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_profile_put_without_headers_creates_but_409s_once_it_exists_in_2_0(
    client_v2, agent, activity_id, resource
):
    params = profile_params(resource, agent, activity_id)
    assert put_json(client_v2, resource, params, {"v": 1}).status_code == 204
    assert put_json(client_v2, resource, params, {"v": 2}).status_code == 409
    assert client_v2.get(resource, params=params).json() == {"v": 1}


def test_state_put_over_an_existing_document_needs_no_header_in_1_0_3(client, agent, activity_id):
    params = state_params(agent, activity_id)
    put_json(client, STATE, params, 1)
    assert put_json(client, STATE, params, 2).status_code == 204


def test_state_put_over_an_existing_document_without_headers_is_409_in_2_0(
    client_v2, agent, activity_id
):
    params = state_params(agent, activity_id)
    assert put_json(client_v2, STATE, params, 1).status_code == 204
    assert put_json(client_v2, STATE, params, 2).status_code == 409
    tag = client_v2.get(STATE, params=params).headers["ETag"]
    assert put_json(client_v2, STATE, params, 2, **{"If-Match": tag}).status_code == 204


def test_concurrent_creates_with_if_none_match_star_store_exactly_one(client, agent, activity_id):
    params = profile_params(ACTIVITY_PROFILE, agent, activity_id)
    statuses: list[int] = []

    def create(n: int) -> None:
        response = put_json(client, ACTIVITY_PROFILE, params, {"n": n}, **{"If-None-Match": "*"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204] + [412] * 7


def test_concurrent_merges_lose_no_property(client, agent, activity_id):
    params = state_params(agent, activity_id)
    threads = [
        threading.Thread(target=post_json, args=(client, STATE, params, {f"k{n}": n}))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.get(STATE, params=params).json() == {f"k{n}": n for n in range(8)}


# --- scopes ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scoped(make_client: Callable[..., httpx.Client]) -> dict[str, httpx.Client]:
    return {
        scopes: make_client(scopes)
        for scopes in ("state", "profile", "all/read", "statements/write")
    }


@pytest.mark.parametrize(
    ("scopes", "path", "method", "allowed"),
    [
        ("state", STATE, "PUT", True),
        ("state", STATE, "GET", True),
        ("state", ACTIVITY_PROFILE, "GET", False),
        ("profile", ACTIVITY_PROFILE, "PUT", True),
        ("profile", AGENT_PROFILE, "GET", True),
        ("profile", STATE, "GET", False),
        ("all/read", STATE, "GET", True),
        ("all/read", AGENT_PROFILE, "GET", True),
        ("all/read", STATE, "PUT", False),
        ("all/read", ACTIVITY_PROFILE, "DELETE", False),
        ("statements/write", STATE, "GET", False),
    ],
)
def test_scopes_grant_the_document_resources(
    scoped, agent, activity_id, scopes, path, method, allowed
):
    params = {
        STATE: state_params(agent, activity_id),
        ACTIVITY_PROFILE: profile_params(ACTIVITY_PROFILE, agent, activity_id),
        AGENT_PROFILE: profile_params(AGENT_PROFILE, agent, activity_id),
    }[path]
    response = scoped[scopes].request(
        method,
        path,
        params=params,
        content=b"{}",
        headers={"Content-Type": "application/json", "If-None-Match": "*"},
    )
    if allowed:
        assert response.status_code in (200, 204, 404), response.text
    else:
        assert response.status_code == 403
