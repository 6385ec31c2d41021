"""GET statements `format` parameter: exact, ids and canonical (xAPI Communication 2.1.3)."""

from __future__ import annotations

import copy
from typing import Any

from core.xapi.formats import (
    parse_accept_language,
    pick_language,
    to_canonical_format,
    to_ids_format,
)

STORED: dict[str, Any] = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
    "verb": {
        "id": "http://example.com/attempted",
        "display": {"en-US": "attempted", "de": "versuchte"},
    },
    "object": {
        "objectType": "Activity",
        "id": "http://example.com/quiz",
        "definition": {
            "name": {"en-US": "Quiz", "de-DE": "Prüfung"},
            "interactionType": "choice",
            "choices": [{"id": "a", "description": {"en-US": "A", "de": "A (de)"}}],
        },
    },
    "context": {
        "team": {
            "objectType": "Group",
            "name": "Team",
            "member": [{"objectType": "Agent", "name": "Bob", "mbox": "mailto:bob@example.com"}],
        },
        "instructor": {
            "objectType": "Group",
            "name": "Staff",
            "mbox": "mailto:staff@example.com",
            "member": [{"mbox": "mailto:x@example.com"}],
        },
        "contextActivities": {
            "parent": [{"id": "http://example.com/p", "definition": {"name": {"en": "P"}}}]
        },
    },
    "authority": {
        "objectType": "Agent",
        "name": "LRS",
        "account": {"homePage": "http://x.com", "name": "k"},
    },
    "stored": "2013-05-18T05:32:34.804Z",
}


def test_ids_format_keeps_only_what_identifies_agents_activities_and_verbs() -> None:
    ids = to_ids_format(STORED)
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
    assert ids["verb"] == {"id": "http://example.com/attempted"}
    assert ids["object"] == {"id": "http://example.com/quiz"}
    assert ids["authority"] == {
        "objectType": "Agent",
        "account": {"homePage": "http://x.com", "name": "k"},
    }
    assert ids["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/p"}]
    assert ids["stored"] == STORED["stored"]


def test_ids_format_reduces_anonymous_groups_to_their_members_identifiers() -> None:
    ids = to_ids_format(STORED)
    assert ids["context"]["team"] == {
        "objectType": "Group",
        "member": [{"objectType": "Agent", "mbox": "mailto:bob@example.com"}],
    }
    assert ids["context"]["instructor"] == {
        "objectType": "Group",
        "mbox": "mailto:staff@example.com",
    }


def test_ids_format_applies_inside_a_substatement() -> None:
    stmt = {
        **STORED,
        "object": {
            "objectType": "SubStatement",
            "actor": STORED["actor"],
            "verb": STORED["verb"],
            "object": STORED["object"],
        },
    }
    sub = to_ids_format(stmt)["object"]
    assert sub["verb"] == {"id": "http://example.com/attempted"}
    assert sub["object"] == {"id": "http://example.com/quiz"}


def test_formats_do_not_modify_the_stored_statement() -> None:
    before = copy.deepcopy(STORED)
    to_ids_format(STORED)
    to_canonical_format(STORED, ["de"])
    assert before == STORED


def test_canonical_format_returns_one_language_per_language_map() -> None:
    canonical = to_canonical_format(STORED, ["de", "en"])
    assert canonical["verb"]["display"] == {"de": "versuchte"}
    assert canonical["object"]["definition"]["name"] == {"de-DE": "Prüfung"}
    assert canonical["object"]["definition"]["choices"][0]["description"] == {"de": "A (de)"}
    assert canonical["actor"] == STORED["actor"]


def test_canonical_format_falls_back_to_one_entry_when_no_language_matches() -> None:
    canonical = to_canonical_format(STORED, ["fr"])
    assert canonical["verb"]["display"] == {"en-US": "attempted"}


def test_a_language_range_matches_tags_it_is_a_prefix_of() -> None:
    assert pick_language({"en-US": "a", "en": "b"}, ["en"]) == {"en": "b"}
    assert pick_language({"en-US": "a", "de": "b"}, ["EN"]) == {"en-US": "a"}
    assert pick_language({"en-US": "a", "de": "b"}, ["fr", "*"]) == {"en-US": "a"}


def test_accept_language_ranges_are_ordered_by_quality() -> None:
    header = "da, en-gb;q=0.8, en;q=0.7, fr;q=0, *;q=0.1"
    assert parse_accept_language(header) == ["da", "en-gb", "en", "*"]


def test_accept_language_keeps_header_order_for_equal_quality_and_skips_junk() -> None:
    assert parse_accept_language("de;q=0.5, en;q=0.5, ;q=1, it;q=abc") == ["de", "en"]
    assert parse_accept_language(None) == []
    assert parse_accept_language("") == []
