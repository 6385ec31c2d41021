"""What a statement appends to the side tables that serve agent and activity queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec

from core.xapi.models import Agent, Statement
from ingest.rows import agent_key, new_statement_id, to_row

STORED = datetime(2026, 1, 1, tzinfo=UTC)


def row_of(statement: dict, may_define: bool = True):
    statement = {"id": str(uuid.uuid4()), **statement}
    parsed = msgspec.convert(statement, Statement)
    return to_row(parsed, stored=STORED, authority_key="k", attachments=None, may_define=may_define)


def agent(name: str) -> dict:
    return {"objectType": "Agent", "mbox": f"mailto:{name}@example.com"}


VERB = {"id": "http://adlnet.gov/expapi/verbs/experienced"}


def test_actor_and_agent_object_are_direct_other_agents_related():
    row = row_of(
        {
            "actor": agent("a"),
            "verb": VERB,
            "object": agent("b"),
            "authority": agent("auth"),
            "context": {
                "instructor": agent("i"),
                "team": {"objectType": "Group", "member": [agent("t")]},
            },
        }
    )
    assert row.agents == {
        "mbox mailto:a@example.com": True,
        "mbox mailto:b@example.com": True,
        "mbox mailto:auth@example.com": False,
        "mbox mailto:i@example.com": False,
        "mbox mailto:t@example.com": False,
    }


def test_members_of_a_group_actor_match_directly():
    row = row_of(
        {
            "actor": {"objectType": "Group", "member": [agent("m1"), agent("m2")]},
            "verb": VERB,
            "object": {"objectType": "Activity", "id": "http://example.com/a"},
        }
    )
    assert row.agents == {
        "mbox mailto:m1@example.com": True,
        "mbox mailto:m2@example.com": True,
    }


def test_context_activities_and_substatement_object_are_related_activities():
    row = row_of(
        {
            "actor": agent("a"),
            "verb": VERB,
            "object": {
                "objectType": "SubStatement",
                "actor": agent("s"),
                "verb": VERB,
                "object": {"objectType": "Activity", "id": "http://example.com/inner"},
            },
            "context": {
                "contextActivities": {
                    "parent": {"objectType": "Activity", "id": "http://example.com/p"},
                    "grouping": [{"objectType": "Activity", "id": "http://example.com/g"}],
                }
            },
        }
    )
    assert row.activities == {
        "http://example.com/inner": False,
        "http://example.com/p": False,
        "http://example.com/g": False,
    }
    assert row.agents["mbox mailto:s@example.com"] is False


def test_statement_ref_object_is_recorded_as_target_and_voiding_flagged():
    target = str(uuid.uuid4())
    row = row_of(
        {
            "actor": agent("a"),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target},
        }
    )
    assert row.ref_target == target
    assert row.voiding


def test_definitions_kept_only_for_credentials_that_may_define():
    statement = {
        "actor": agent("a"),
        "verb": VERB,
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/a",
            "definition": {"name": {"en": "A"}},
        },
    }
    assert row_of(statement).definitions == [("http://example.com/a", '{"name":{"en":"A"}}')]
    assert row_of(statement, may_define=False).definitions == []


def test_agent_key_distinguishes_every_identifier_kind():
    keys = {
        agent_key(msgspec.convert(a, Agent))
        for a in (
            {"objectType": "Agent", "mbox": "mailto:x@example.com"},
            {"objectType": "Agent", "mbox_sha1sum": "A" * 40},
            {"objectType": "Agent", "openid": "http://example.com/x"},
            {"objectType": "Agent", "account": {"homePage": "http://example.com", "name": "x"}},
        )
    }
    assert keys == {
        "mbox mailto:x@example.com",
        "mbox_sha1sum " + "a" * 40,
        "openid http://example.com/x",
        "account http://example.com x",
    }


def test_lrs_assigned_ids_are_time_ordered_uuid_v7():
    ids = [new_statement_id() for _ in range(1000)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(ids)) == 1000
    prefixes = [i[:13] for i in ids]  # the 48-bit millisecond timestamp
    assert prefixes == sorted(prefixes)
