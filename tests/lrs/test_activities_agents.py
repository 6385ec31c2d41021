"""The Activities and Agents Resources over HTTP (xAPI 1.0.3 Communication 2.4-2.5;
2.0 4.1.6.3-4.1.6.4): the canonical Activity definition, and the Person Object."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lrs.activities import canonical_definition

ACTIVITIES = "/xapi/activities"
AGENTS = "/xapi/agents"
VERB = {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}}


def post_statement(
    client: httpx.Client, actor: dict[str, Any], obj: dict[str, Any], **more: Any
) -> None:
    response = client.post(
        "/xapi/statements", json={"actor": actor, "verb": VERB, "object": obj, **more}
    )
    assert response.status_code == 200, response.text


def activity(client: httpx.Client, activity_id: str) -> httpx.Response:
    return client.get(ACTIVITIES, params={"activityId": activity_id})


def person(client: httpx.Client, agent: dict[str, Any]) -> httpx.Response:
    return client.get(AGENTS, params={"agent": json.dumps(agent)})


def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """What a Statement teaches the LRS may show a moment after the POST returns."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(0.05)


# --- the canonical definition ---------------------------------------------------------------


def test_canonical_definition_merges_later_over_earlier_per_property_and_language():
    first = {
        "name": {"en-US": "Quiz", "fr": "Quiz"},
        "type": "http://example.com/types/quiz",
        "extensions": {"http://example.com/x/a": 1},
    }
    second = {"name": {"en-US": "Final quiz"}, "extensions": {"http://example.com/x/b": 2}}
    assert canonical_definition([first, second]) == {
        "name": {"en-US": "Final quiz", "fr": "Quiz"},
        "type": "http://example.com/types/quiz",
        "extensions": {"http://example.com/x/b": 2},
    }


def test_canonical_definition_of_nothing_is_empty():
    assert canonical_definition([]) == {}


# --- Activities -----------------------------------------------------------------------------


def test_unknown_activity_is_returned_as_a_bare_activity(client, activity_id):
    response = activity(client, activity_id)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"objectType": "Activity", "id": activity_id}


def test_definitions_from_successive_statements_merge_in_order(client, agent, activity_id):
    post_statement(
        client,
        agent,
        {
            "id": activity_id,
            "definition": {
                "name": {"en-US": "Lesson", "de": "Lektion"},
                "description": {"en-US": "The first lesson"},
            },
        },
    )
    post_statement(
        client,
        agent,
        {
            "id": activity_id,
            "definition": {
                "name": {"en-US": "Lesson 1"},
                "type": "http://adlnet.gov/expapi/activities/lesson",
            },
        },
    )

    def merged() -> dict[str, Any] | None:
        body = activity(client, activity_id).json()
        return body if "type" in body.get("definition", {}) else None

    assert eventually(merged) == {
        "objectType": "Activity",
        "id": activity_id,
        "definition": {
            "name": {"en-US": "Lesson 1", "de": "Lektion"},
            "description": {"en-US": "The first lesson"},
            "type": "http://adlnet.gov/expapi/activities/lesson",
        },
    }


def test_repeating_a_definition_does_not_undo_a_later_one(client, agent, activity_id):
    old = {"name": {"en-US": "Old"}}
    new = {"name": {"en-US": "New"}}
    for definition in (old, new, old, new):
        post_statement(client, agent, {"id": activity_id, "definition": definition})
    post_statement(client, agent, {"id": activity_id, "definition": old})

    def named_old() -> bool:
        return activity(client, activity_id).json()["definition"]["name"]["en-US"] == "Old"

    assert eventually(named_old)


def test_definitions_in_context_activities_count_too(client, agent, activity_id, unique):
    parent = {"id": activity_id, "definition": {"name": {"en-US": "Course"}}}
    post_statement(
        client,
        agent,
        {"id": f"http://example.com/activities/lesson-{unique}"},
        context={"contextActivities": {"parent": [parent]}},
    )
    assert eventually(lambda: "definition" in activity(client, activity_id).json())


def test_definitions_from_a_credential_without_define_are_not_canonical(
    make_client, agent, activity_id
):
    writer = make_client("statements/write")
    post_statement(writer, agent, {"id": activity_id, "definition": {"name": {"en": "Mine"}}})
    reader = make_client("all/read")
    assert activity(reader, activity_id).json() == {"objectType": "Activity", "id": activity_id}


@pytest.mark.parametrize(
    "params",
    [{}, {"activityId": "not an iri"}, {"activityid": "http://example.com/a"}],
    ids=["missing", "not-iri", "wrong-case"],
)
def test_bad_activity_parameters_are_rejected_with_400(client, params):
    assert client.get(ACTIVITIES, params=params).status_code == 400


def test_activities_need_a_read_scope(make_client, activity_id):
    assert activity(make_client("statements/write"), activity_id).status_code == 403
    assert activity(make_client("define"), activity_id).status_code == 200


# --- Agents ---------------------------------------------------------------------------------


def test_person_of_an_unknown_agent_holds_its_identifier_and_name(client, agent):
    response = person(client, agent)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"objectType": "Person", "name": ["Ada"], "mbox": [agent["mbox"]]}


@pytest.mark.parametrize("ifi", ["mbox_sha1sum", "openid", "account"])
def test_person_carries_each_kind_of_identifier_as_an_array(client, unique, ifi):
    value = {
        "mbox_sha1sum": hashlib.sha1(f"mailto:{unique}@example.com".encode()).hexdigest(),
        "openid": f"http://openid.example.com/{unique}",
        "account": {"homePage": "http://lms.example.com", "name": unique},
    }[ifi]
    assert person(client, {ifi: value}).json() == {"objectType": "Person", ifi: [value]}


def test_person_lists_the_names_the_agent_went_by_in_statements(client, agent, activity_id):
    post_statement(client, {**agent, "name": "Ada Lovelace"}, {"id": activity_id})
    group = {"objectType": "Group", "member": [{**agent, "name": "Countess"}]}
    post_statement(client, group, {"id": activity_id})
    nameless = {"mbox": agent["mbox"]}

    def names() -> list[str] | None:
        found = person(client, nameless).json().get("name", [])
        return found if len(found) == 2 else None

    assert sorted(eventually(names) or []) == ["Ada Lovelace", "Countess"]


def test_names_of_other_agents_are_not_the_persons(client, agent, activity_id, unique):
    other = {"name": "Somebody Else", "mbox": f"mailto:else-{unique}@example.com"}
    post_statement(client, other, agent)
    time.sleep(0.2)
    assert "Somebody Else" not in person(client, agent).json().get("name", [])


@pytest.mark.parametrize(
    "agent_text",
    [
        None,
        "{not json",
        json.dumps({"name": "No identifier"}),
        json.dumps({"mbox": "mailto:a@example.com", "openid": "http://o.example.com/a"}),
        json.dumps({"objectType": "Group", "mbox": "mailto:team@example.com"}),
        json.dumps({"objectType": "Person", "mbox": ["mailto:a@example.com"]}),
        json.dumps({"mbox": "a@example.com"}),
    ],
    ids=["missing", "not-json", "no-ifi", "two-ifis", "group", "person", "bad-mbox"],
)
def test_bad_agent_parameters_are_rejected_with_400(client, agent_text):
    params = {} if agent_text is None else {"agent": agent_text}
    assert client.get(AGENTS, params=params).status_code == 400


def test_unknown_agents_parameter_is_rejected_with_400(client, agent):
    params = {"agent": json.dumps(agent), "profileId": "x"}
    assert client.get(AGENTS, params=params).status_code == 400


def test_agents_need_a_read_scope(make_client, agent):
    assert person(make_client("state"), agent).status_code == 403
    assert person(make_client("all/read"), agent).status_code == 200
