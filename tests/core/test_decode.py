"""xAPI Data 2.2 (formatting) and 2.4 (Statement properties), through `decode_statements`.

Each invalid case names the requirement it breaks, the rule fragment we expect and the path.
"""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.xapi.decode import (
    decode_statement_obj,
    decode_statements,
    with_context_activity_lists,
)
from core.xapi.models import Activity, Agent, Group, Statement, SubStatement

CORPUS = json.loads((Path(__file__).parent / "corpus" / "valid_statements.json").read_text())
UUID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
SHA2 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"


def base(**changes: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "actor": {"mbox": "mailto:ann@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        "object": {"id": "http://example.com/activities/quiz-1"},
    }
    stmt.update(changes)
    return stmt


def substatement(**changes: Any) -> dict[str, Any]:
    return base(object={"objectType": "SubStatement", **base(**changes)})


def attachment(**changes: Any) -> dict[str, Any]:
    value = {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain; charset=ascii",
        "length": 27,
        "sha2": SHA2,
    }
    value.update(changes)
    return value


def decode(stmt: object, version: str = "1.0.3") -> list[Statement]:
    return decode_statements(json.dumps(stmt).encode(), version)


def rejection(stmt: object, version: str = "1.0.3") -> ValidationError:
    with pytest.raises(ValidationError) as info:
        decode(stmt, version)
    return info.value


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_the_lrs_accepts_every_valid_statement_of_the_corpus(case: dict[str, Any]) -> None:
    [stmt] = decode(case["statement"], case["version"])
    assert isinstance(stmt, Statement)


def test_a_batch_is_decoded_in_order() -> None:
    stmts = decode([case["statement"] for case in CORPUS[:5]])
    assert len(stmts) == 5


def test_an_object_without_object_type_is_an_activity_and_an_actor_an_agent() -> None:
    [stmt] = decode(base())
    assert isinstance(stmt.object, Activity)
    assert isinstance(stmt.actor, Agent)


def test_a_substatement_actor_and_object_default_their_object_type() -> None:
    [stmt] = decode(substatement())
    assert isinstance(stmt.object, SubStatement)
    assert isinstance(stmt.object.actor, Agent)
    assert isinstance(stmt.object.object, Activity)


def test_a_group_actor_is_decoded_as_a_group() -> None:
    [stmt] = decode(base(actor={"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}))
    assert isinstance(stmt.actor, Group)


def test_decode_statement_obj_reports_paths_under_the_given_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        decode_statement_obj(base(id="nope"), "1.0.3", "$[4]")
    assert info.value.path == "$[4].id"


def test_an_error_in_the_third_statement_of_a_batch_names_its_index() -> None:
    error = rejection([base(), base(), base(verb={"id": "not an iri"})])
    assert error.path == "$[2].verb.id"


def _set(path: str, value: Any, stmt: dict[str, Any] | None = None) -> dict[str, Any]:
    """`base()` with the value at dotted `path` replaced (a missing parent is created)."""
    stmt = copy.deepcopy(stmt if stmt is not None else base())
    node: Any = stmt
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[last] = value
    return stmt


INVALID: list[tuple[str, str, object, str, str]] = [
    # (requirement, version, statement, rule fragment, path)
    ("the body is JSON", "1.0.3", "not json at all", "valid JSON", "$"),
    ("a batch is not empty", "1.0.3", [], "must not be empty", "$"),
    ("a statement is an object", "1.0.3", [1], "JSON object", "$[0]"),
    (
        "a statement has an actor",
        "1.0.3",
        {"verb": base()["verb"], "object": base()["object"]},
        "required",
        "$.actor",
    ),
    (
        "a statement has a verb",
        "1.0.3",
        {"actor": base()["actor"], "object": base()["object"]},
        "required",
        "$.verb",
    ),
    (
        "a statement has an object",
        "1.0.3",
        {"actor": base()["actor"], "verb": base()["verb"]},
        "required",
        "$.object",
    ),
    (
        "keys are case sensitive",
        "1.0.3",
        base(Actor={"mbox": "mailto:a@b.c"}),
        "not defined",
        "$.Actor",
    ),
    ("no unknown properties", "1.0.3", _set("verb.foo", "bar"), "not defined", "$.verb.foo"),
    (
        "no null values",
        "1.0.3",
        _set("verb.display", {"en-US": None}),
        "null",
        "$.verb.display[...]",
    ),
    (
        "no null values",
        "1.0.3",
        _set("context.registration", None),
        "null",
        "$.context.registration",
    ),
    (
        "strings where numbers are required",
        "1.0.3",
        _set("result.score", {"max": "100"}),
        "data type",
        "$.result.score.max",
    ),
    (
        "strings where booleans are required",
        "1.0.3",
        _set("result.completion", "false"),
        "data type",
        "$.result.completion",
    ),
    (
        "numbers are not booleans",
        "1.0.3",
        _set("result.score", {"raw": True}),
        "data type",
        "$.result.score.raw",
    ),
    ("an id is a UUID", "1.0.3", base(id="AA97B177-9383-4934-8543-0F91A7A028368"), "UUID", "$.id"),
    ("an id is a UUID", "1.0.3", base(id="MA97B177-9383-4934-8543-0F91A7A02836"), "UUID", "$.id"),
    ("an id is a string", "1.0.3", base(id=12345), "data type", "$.id"),
    (
        "an agent has exactly one IFI",
        "1.0.3",
        base(actor={"mbox": "mailto:a@b.c", "openid": "http://openid.example.org/1"}),
        "exactly one inverse functional identifier",
        "$.actor",
    ),
    (
        "an agent has an IFI",
        "1.0.3",
        base(actor={"name": "nobody"}),
        "exactly one inverse functional identifier",
        "$.actor",
    ),
    (
        "an mbox is a mailto IRI",
        "1.0.3",
        base(actor={"mbox": "ann@example.com"}),
        "mailto",
        "$.actor.mbox",
    ),
    (
        "an mbox_sha1sum is 40 hex",
        "1.0.3",
        base(actor={"mbox_sha1sum": "xyz"}),
        "SHA1",
        "$.actor.mbox_sha1sum",
    ),
    ("an openid is a URI", "1.0.3", base(actor={"openid": "not a uri"}), "URI", "$.actor.openid"),
    (
        "an account has a name",
        "1.0.3",
        base(actor={"account": {"homePage": "http://x.com"}}),
        "required",
        "$.actor.account.name",
    ),
    (
        "an account name is a string",
        "1.0.3",
        base(actor={"account": {"homePage": "http://x.com", "name": {"key": "x"}}}),
        "data type",
        "$.actor.account.name",
    ),
    (
        "an account homePage is an IRL",
        "1.0.3",
        base(actor={"account": {"homePage": "example.com", "name": "x"}}),
        "IRL",
        "$.actor.account.homePage",
    ),
    (
        "an anonymous group has members",
        "1.0.3",
        base(actor={"objectType": "Group", "name": "g"}),
        "member",
        "$.actor.member",
    ),
    (
        "an identified group has one IFI",
        "1.0.3",
        base(actor={"objectType": "Group", "mbox": "mailto:g@x.com", "openid": "http://o.com/g"}),
        "at most one",
        "$.actor",
    ),
    (
        "group members are agents",
        "1.0.3",
        base(
            actor={
                "objectType": "Group",
                "member": [{"objectType": "Group", "mbox": "mailto:g@x.c"}],
            }
        ),
        "objectType",
        "$.actor.member[0].objectType",
    ),
    (
        "group members have one IFI",
        "1.0.3",
        base(actor={"objectType": "Group", "member": [{"name": "x"}]}),
        "exactly one",
        "$.actor.member[0]",
    ),
    (
        "objectType values are case sensitive",
        "1.0.3",
        base(actor={"objectType": "agent", "mbox": "mailto:a@b.c"}),
        "objectType",
        "$.actor.objectType",
    ),
    ("a verb id is an IRI", "1.0.3", _set("verb.id", "ab=c://should.fail.com"), "IRI", "$.verb.id"),
    ("a verb id is not empty", "1.0.3", _set("verb.id", ""), "IRI", "$.verb.id"),
    (
        "verb display is a language map",
        "1.0.3",
        _set("verb.display", "i-enochian"),
        "data type",
        "$.verb.display",
    ),
    (
        "language map keys are RFC 5646 tags",
        "1.0.3",
        _set("verb.display", {"de-419-DE": "x"}),
        "RFC 5646",
        "$.verb.display.de-419-DE",
    ),
    (
        "no single-character primary subtag",
        "1.0.3",
        _set("verb.display", {"a-DE": "x"}),
        "RFC 5646",
        "$.verb.display.a-DE",
    ),
    (
        "no repeated extension singleton",
        "1.0.3",
        _set("verb.display", {"ar-a-aaa-b-bbb-a-ccc": "x"}),
        "RFC 5646",
        "$.verb.display.ar-a-aaa-b-bbb-a-ccc",
    ),
    (
        "an activity has an id",
        "1.0.3",
        base(object={"objectType": "Activity"}),
        "required",
        "$.object.id",
    ),
    ("an activity id is an IRI", "1.0.3", _set("object.id", "should fail"), "IRI", "$.object.id"),
    (
        "a definition is an object",
        "1.0.3",
        _set("object.definition", "should fail"),
        "data type",
        "$.object.definition",
    ),
    (
        "a definition type is an IRI",
        "1.0.3",
        _set("object.definition", {"type": "x"}),
        "IRI",
        "$.object.definition.type",
    ),
    (
        "moreInfo is an IRL",
        "1.0.3",
        _set("object.definition", {"moreInfo": "x"}),
        "IRL",
        "$.object.definition.moreInfo",
    ),
    (
        "extension keys are IRIs",
        "1.0.3",
        _set("object.definition", {"extensions": {"valid": 1}}),
        "Extension keys",
        "$.object.definition.extensions.valid",
    ),
    (
        "extensions are objects",
        "1.0.3",
        _set("result.extensions", "x"),
        "data type",
        "$.result.extensions",
    ),
    (
        "interactionType is enumerated, exactly",
        "1.0.3",
        _set("object.definition", {"interactionType": "true-faLse"}),
        "interactionType",
        "$.object.definition.interactionType",
    ),
    (
        "interaction properties need an interactionType",
        "1.0.3",
        _set("object.definition", {"choices": [{"id": "a"}]}),
        "interactionType",
        "$.object.definition.interactionType",
    ),
    (
        "component lists match the interactionType",
        "1.0.3",
        _set("object.definition", {"interactionType": "likert", "choices": [{"id": "a"}]}),
        "matching interactionType",
        "$.object.definition.choices",
    ),
    (
        "component ids are distinct",
        "1.0.3",
        _set(
            "object.definition",
            {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]},
        ),
        "distinct",
        "$.object.definition.choices[1].id",
    ),
    (
        "an agent object says its objectType",
        "1.0.3",
        base(object={"mbox": "mailto:a@b.c"}),
        "not defined",
        "$.object.mbox",
    ),
    (
        "a StatementRef id is a UUID",
        "1.0.3",
        base(object={"objectType": "StatementRef", "id": "x"}),
        "UUID",
        "$.object.id",
    ),
    (
        "voided verb needs a StatementRef",
        "1.0.3",
        base(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}),
        "voided",
        "$.object",
    ),
    ("a substatement has no id", "1.0.3", substatement(id=UUID), "not defined", "$.object.id"),
    (
        "a substatement has no stored",
        "1.0.3",
        substatement(stored="2013-05-18T05:32:34Z"),
        "not defined",
        "$.object.stored",
    ),
    (
        "a substatement has no version",
        "1.0.3",
        substatement(version="1.0.0"),
        "not defined",
        "$.object.version",
    ),
    (
        "a substatement has no authority",
        "1.0.3",
        substatement(authority={"mbox": "mailto:a@b.c"}),
        "not defined",
        "$.object.authority",
    ),
    (
        "a substatement does not nest",
        "1.0.3",
        substatement(object={"objectType": "SubStatement"}),
        "objectType",
        "$.object.object.objectType",
    ),
    (
        "scaled is at most 1",
        "1.0.3",
        _set("result.score", {"scaled": 1.01}),
        "scaled",
        "$.result.score.scaled",
    ),
    (
        "scaled is at least -1",
        "1.0.3",
        _set("result.score", {"scaled": -1.01}),
        "scaled",
        "$.result.score.scaled",
    ),
    (
        "raw is at least min",
        "1.0.3",
        _set("result.score", {"raw": -1, "min": 0}),
        "raw",
        "$.result.score.raw",
    ),
    (
        "raw is at most max",
        "1.0.3",
        _set("result.score", {"raw": 101, "max": 100}),
        "raw",
        "$.result.score.raw",
    ),
    (
        "min is less than max",
        "1.0.3",
        _set("result.score", {"min": 5, "max": 5}),
        "min",
        "$.result.score.min",
    ),
    (
        "a duration is ISO 8601",
        "1.0.3",
        _set("result.duration", "PA1H0M0S"),
        "duration",
        "$.result.duration",
    ),
    (
        "a duration is ISO 8601",
        "1.0.3",
        _set("result.duration", "should fail"),
        "duration",
        "$.result.duration",
    ),
    (
        "not the alternative duration format",
        "1.0.3",
        _set("result.duration", "P0003-01-29T04:35:59"),
        "duration",
        "$.result.duration",
    ),
    (
        "a duration is a string",
        "1.0.3",
        _set("result.duration", 12345),
        "data type",
        "$.result.duration",
    ),
    (
        "a registration is a UUID",
        "1.0.3",
        _set("context.registration", "should fail"),
        "UUID",
        "$.context.registration",
    ),
    (
        "an instructor is an agent",
        "1.0.3",
        _set("context.instructor", {"key": "x"}),
        "not defined",
        "$.context.instructor.key",
    ),
    (
        "a team is a group",
        "1.0.3",
        _set("context.team", {"objectType": "Agent", "mbox": "mailto:a@b.c"}),
        "objectType",
        "$.context.team.objectType",
    ),
    (
        "a team says it is a Group",
        "1.0.3",
        _set("context.team", {"mbox": "mailto:a@b.c"}),
        "objectType",
        "$.context.team",
    ),
    (
        "contextActivities keys are enumerated",
        "1.0.3",
        _set("context.contextActivities", {"parents": {"id": "http://x.com"}}),
        "not defined",
        "$.context.contextActivities.parents",
    ),
    (
        "context activities are activities",
        "1.0.3",
        _set("context.contextActivities", {"parent": [{"id": "nope"}]}),
        "IRI",
        "$.context.contextActivities.parent[0].id",
    ),
    (
        "revision needs an Activity object",
        "1.0.3",
        base(object={"objectType": "Agent", "mbox": "mailto:b@x.com"}, context={"revision": "1"}),
        "revision",
        "$.context.revision",
    ),
    (
        "platform needs an Activity object",
        "1.0.3",
        substatement(object={"objectType": "StatementRef", "id": UUID}, context={"platform": "x"}),
        "platform",
        "$.object.context.platform",
    ),
    (
        "a context language is a string",
        "1.0.3",
        _set("context.language", {"a12345": "x"}),
        "data type",
        "$.context.language",
    ),
    (
        "a context statement is a StatementRef",
        "1.0.3",
        _set("context.statement", {"objectType": "statementref"}),
        "objectType",
        "$.context.statement.objectType",
    ),
    (
        "a context statement id is a UUID",
        "1.0.3",
        _set("context.statement", {"objectType": "StatementRef", "id": "should fail"}),
        "UUID",
        "$.context.statement.id",
    ),
    (
        "contextAgents are 2.0 only",
        "1.0.3",
        _set(
            "context.contextAgents",
            [{"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.c"}}],
        ),
        "2.0",
        "$.context.contextAgents",
    ),
    (
        "a contextAgent says its objectType",
        "2.0.0",
        _set("context.contextAgents", [{"agent": {"mbox": "mailto:a@b.c"}}]),
        "objectType",
        "$.context.contextAgents[0]",
    ),
    (
        "a contextAgent objectType is contextAgent",
        "2.0.0",
        _set(
            "context.contextAgents",
            [{"objectType": "Should fail", "agent": {"mbox": "mailto:a@b.c"}}],
        ),
        "objectType",
        "$.context.contextAgents[0].objectType",
    ),
    (
        "a contextAgent agent is valid",
        "2.0.0",
        _set("context.contextAgents", [{"objectType": "contextAgent", "agent": {"key": "x"}}]),
        "not defined",
        "$.context.contextAgents[0].agent.key",
    ),
    (
        "relevantTypes is not empty",
        "2.0.0",
        _set(
            "context.contextAgents",
            [
                {
                    "objectType": "contextAgent",
                    "agent": {"mbox": "mailto:a@b.c"},
                    "relevantTypes": [],
                }
            ],
        ),
        "at least one",
        "$.context.contextAgents[0].relevantTypes",
    ),
    (
        "relevantTypes are IRIs",
        "2.0.0",
        _set(
            "context.contextGroups",
            [
                {
                    "objectType": "contextGroup",
                    "relevantTypes": ["abc"],
                    "group": {"objectType": "Group", "mbox": "mailto:t@x.com"},
                }
            ],
        ),
        "IRIs",
        "$.context.contextGroups[0].relevantTypes[0]",
    ),
    (
        "a contextGroup group is a Group",
        "2.0.0",
        _set("context.contextGroups", [{"objectType": "contextGroup", "group": {"key": "x"}}]),
        "objectType",
        "$.context.contextGroups[0].group",
    ),
    ("a timestamp is ISO 8601", "1.0.3", base(timestamp="01/011/2015"), "Timestamp", "$.timestamp"),
    (
        "a timestamp has no -00 offset",
        "1.0.3",
        base(timestamp="2008-09-15T15:53:00.601-00"),
        "Timestamp",
        "$.timestamp",
    ),
    (
        "a timestamp has no -0000 offset",
        "1.0.3",
        base(timestamp="2008-09-15T15:53:00.601-0000"),
        "Timestamp",
        "$.timestamp",
    ),
    (
        "a timestamp has no -00:00 offset",
        "2.0.0",
        base(timestamp="2008-09-15T15:53:00.601-00:00"),
        "Timestamp",
        "$.timestamp",
    ),
    (
        "a timestamp is a real date",
        "1.0.3",
        base(timestamp="2013-02-30T05:32:34Z"),
        "Timestamp",
        "$.timestamp",
    ),
    (
        "a substatement timestamp is ISO 8601",
        "1.0.3",
        substatement(timestamp="should fail"),
        "Timestamp",
        "$.object.timestamp",
    ),
    ("stored is a timestamp", "1.0.3", base(stored="yesterday"), "Timestamp", "$.stored"),
    (
        "authority is an agent or group",
        "1.0.3",
        base(authority={"objectType": "Agent", "name": "x"}),
        "exactly one",
        "$.authority",
    ),
    (
        "an authority group has two members",
        "1.0.3",
        base(authority={"objectType": "Group", "member": [{"mbox": "mailto:b@x.com"}]}),
        "two Agents",
        "$.authority",
    ),
    (
        "an authority group is anonymous",
        "2.0.0",
        base(
            authority={
                "objectType": "Group",
                "openid": "http://openid.example.org/1",
                "member": [{"mbox": "mailto:a@x.com"}, {"mbox": "mailto:b@x.com"}],
            }
        ),
        "two Agents",
        "$.authority",
    ),
    ("version is 1.0.x", "1.0.3", base(version="1.1.0"), "version", "$.version"),
    ("version is 1.0.x", "1.0.3", base(version="0.9.9"), "version", "$.version"),
    ("version is 1.0.x under 1.0.3", "1.0.3", base(version="2.0.0"), "version", "$.version"),
    ("version is 2.0.x or 1.0.x under 2.0", "2.0.0", base(version="2.1.0"), "version", "$.version"),
    (
        "attachments have a usageType",
        "1.0.3",
        base(attachments=[{"display": {"en-US": "x"}}]),
        "required",
        "$.attachments[0].usageType",
    ),
    (
        "an attachment usageType is an IRI",
        "1.0.3",
        base(attachments=[attachment(usageType="x")]),
        "IRI",
        "$.attachments[0].usageType",
    ),
    (
        "attachment display keys are language tags",
        "1.0.3",
        base(attachments=[attachment(display={"de-419-DE": "x"})]),
        "RFC 5646",
        "$.attachments[0].display.de-419-DE",
    ),
    (
        "attachment description keys are language tags",
        "1.0.3",
        base(attachments=[attachment(description={"de-419-DE": "x"})]),
        "RFC 5646",
        "$.attachments[0].description.de-419-DE",
    ),
    (
        "an attachment contentType is a media type",
        "1.0.3",
        base(attachments=[attachment(contentType="not a type")]),
        "Media Type",
        "$.attachments[0].contentType",
    ),
    (
        "an attachment length is an integer",
        "1.0.3",
        base(attachments=[attachment(length=1.5)]),
        "data type",
        "$.attachments[0].length",
    ),
    (
        "an attachment length is not negative",
        "1.0.3",
        base(attachments=[attachment(length=-1)]),
        "non-negative",
        "$.attachments[0].length",
    ),
    (
        "an attachment sha2 is a SHA-2 hex",
        "1.0.3",
        base(attachments=[attachment(sha2="abc")]),
        "SHA-2",
        "$.attachments[0].sha2",
    ),
    (
        "an attachment fileUrl is an IRL",
        "1.0.3",
        base(attachments=[attachment(fileUrl="file.txt")]),
        "IRL",
        "$.attachments[0].fileUrl",
    ),
    (
        "numbers are in range",
        "1.0.3",
        b'{"result": {"score": {"raw": 1e400}}}',
        "range",
        "$[...][...][...]",
    ),
]


@pytest.mark.parametrize(
    ("requirement", "version", "stmt", "rule", "path"),
    INVALID,
    ids=[f"{case[0]}:{case[4]}" for case in INVALID],
)
def test_the_lrs_rejects_a_statement_breaking_a_requirement(
    requirement: str, version: str, stmt: object, rule: str, path: str
) -> None:
    if isinstance(stmt, bytes):
        with pytest.raises(ValidationError) as info:
            decode_statements(stmt, version)
        error = info.value
    elif isinstance(stmt, str):
        with pytest.raises(ValidationError) as info:
            decode_statements(stmt.encode(), version)
        error = info.value
    else:
        error = rejection(stmt, version)
    assert rule.lower() in error.rule.lower(), error.message
    assert error.path == path, error.message


def test_extension_values_may_be_null() -> None:
    decode(_set("result.extensions", {"http://example.com/null": None}))


def test_a_context_language_is_not_held_to_the_language_tag_syntax_the_adl_suite_accepts() -> None:
    decode(_set("context.language", "supercalifragilisticexpialidociouswhatabouthhhhhhh1"))


def test_a_2_0_context_language_must_be_an_rfc_5646_tag() -> None:
    decode(_set("context.language", "cmn"), "2.0.0")
    error = rejection(_set("context.language", "something"), "2.0.0")
    assert error.path == "$.context.language"


def test_deeply_nested_input_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        decode_statements(b"[" * 100_000 + b"]" * 100_000, "1.0.3")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "actor",
                    "verb",
                    "object",
                    "id",
                    "objectType",
                    "mbox",
                    "member",
                    "context",
                    "result",
                    "display",
                    "definition",
                    "score",
                    "raw",
                    "Agent",
                    "Group",
                    "SubStatement",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(JSON)
def test_any_json_input_raises_nothing_but_validation_error(value: object) -> None:
    with contextlib.suppress(ValidationError):
        decode_statements(msgspec.json.encode(value), "1.0.3")


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_any_bytes_raise_nothing_but_validation_error(body: bytes) -> None:
    with contextlib.suppress(ValidationError):
        decode_statements(body, "2.0.0")


@settings(max_examples=200)
@given(
    st.sampled_from(CORPUS), st.sampled_from(["actor", "verb", "object", "context", "result"]), JSON
)
def test_a_corrupted_valid_statement_raises_nothing_but_validation_error(
    case: dict[str, Any], key: str, value: object
) -> None:
    stmt = copy.deepcopy(case["statement"])
    stmt[key] = value
    with contextlib.suppress(ValidationError):
        decode(stmt, case["version"])


def _with_object_types(stmt: dict[str, Any]) -> dict[str, Any]:
    """`stmt` with the omitted actor/object objectTypes spelled out (takes the fast path)."""
    stmt = copy.deepcopy(stmt)
    for key, default in (("actor", "Agent"), ("object", "Activity")):
        if isinstance(stmt.get(key), dict):
            stmt[key].setdefault("objectType", default)
    return stmt


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_the_fast_path_and_the_general_path_decode_alike(case: dict[str, Any]) -> None:
    explicit = _with_object_types(case["statement"])
    general = decode_statement_obj(copy.deepcopy(explicit), case["version"])
    assert decode(explicit, case["version"]) == [with_context_activity_lists(general)]


DICT_CASES = [case for case in INVALID if isinstance(case[2], dict)]


@pytest.mark.parametrize(
    ("requirement", "version", "stmt", "rule", "path"),
    DICT_CASES,
    ids=[f"{case[0]}:{case[4]}" for case in DICT_CASES],
)
def test_the_fast_path_rejects_what_the_general_path_rejects(
    requirement: str, version: str, stmt: dict[str, Any], rule: str, path: str
) -> None:
    error = rejection(_with_object_types(stmt), version)
    assert rule.lower() in error.rule.lower(), error.message
    assert error.path == path, error.message


def test_a_single_context_activity_is_returned_as_an_array_of_one() -> None:
    """Data 2.4.6.2: the LRS MUST return single Activity Objects as an array of length one."""
    stmt = decode(
        {
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://example.com/v"},
            "object": {"id": "http://example.com/a"},
            "context": {"contextActivities": {"parent": {"id": "http://example.com/p"}}},
        },
        "1.0.3",
    )[0]
    assert msgspec.to_builtins(stmt)["context"]["contextActivities"]["parent"] == [
        {"objectType": "Activity", "id": "http://example.com/p"}
    ]


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ('"t\\u0065am"', '{"mbox": "mailto:a@b.c"}', "$.context.team"),
        ('"statement"', '{"id": "' + str(uuid.UUID(int=7)) + '"}', "$.context.statement"),
        (
            '"contextGroups"',
            '[{"objectType": "contextGroup", "group": {"mbox": "mailto:g@b.c"}}]',
            "$.context.contextGroups[0].group",
        ),
    ],
)
@pytest.mark.parametrize("inside", [False, True], ids=["statement", "substatement"])
def test_an_object_that_must_name_its_type_is_checked_on_the_fast_path(
    key: str, value: str, path: str, inside: bool
) -> None:
    """Every other objectType given, the typed fast path decodes the body; an object whose
    objectType the typed decoder would not ask for must still be refused, however its key is
    spelled (a JSON escape included)."""
    stmt = _with_object_types(base(context={"registration": str(uuid.UUID(int=1))}))
    if inside:
        stmt = _with_object_types(substatement(context={"registration": str(uuid.UUID(int=1))}))
        stmt["object"]["actor"]["objectType"] = "Agent"
        stmt["object"]["object"]["objectType"] = "Activity"
        path = path.replace("$.context", "$.object.context")
    body = json.dumps(stmt, sort_keys=True).encode()
    marker = b'"registration": "' + str(uuid.UUID(int=1)).encode() + b'"'
    assert body.count(marker) == 1
    body = body.replace(marker, marker + b", " + key.encode() + b": " + value.encode())
    with pytest.raises(ValidationError) as info:
        decode_statements(body, "2.0.0")
    assert "objectType" in info.value.rule, info.value.message
    assert info.value.path == path, info.value.message
