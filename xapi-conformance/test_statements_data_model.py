"""Data 2.2 Formatting Requirements, Data 2.4 Statement Properties and Data 4 Special Data Types:
one representative Statement per MUST the LRS enforces by rejecting (400 Bad Request,
Communication 3.2.s2.b1: "invalid arguments includes ... invalid Object structures").

Each test changes the fixture's valid statement in one place only, so the rejection can only be
due to that change.
"""

from __future__ import annotations

import copy

import pytest
from support import describe, other_agent, with_id

ACCOUNT = {"homePage": "http://www.example.com", "name": "1625378"}
ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"


def reject(lrs, statement: dict) -> None:
    response = lrs.post_statements(with_id(statement))
    assert response.status_code == 400, describe(response)


def accept(lrs, statement: dict) -> None:
    response = lrs.post_statements(with_id(statement))
    assert response.status_code == 200, describe(response)


def changed(statement: dict, path: str, value) -> dict:
    """A copy of `statement` with the property at dotted `path` set to `value`."""
    result = copy.deepcopy(statement)
    *parents, last = path.split(".")
    target = result
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value
    return result


def substatement(statement: dict, **overrides) -> dict:
    inner = {"objectType": "SubStatement", **{k: statement[k] for k in ("actor", "verb")}}
    return {**statement, "object": {**inner, "object": statement["object"], **overrides}}


def interaction(**definition) -> dict:
    return {"objectType": "Activity", "id": "http://example.com/q1", "definition": definition}


# -- Data 2.4 required properties -----------------------------------------------------------------


@pytest.mark.parametrize("missing", ["actor", "verb", "object"])
def test_lrs_must_reject_a_statement_missing_a_required_property(lrs, statement, missing):
    """Data 2.4.s1.table1: "actor ... Required", "verb ... Required", "object ... Required"."""
    reject(lrs, {k: v for k, v in statement.items() if k != missing})


# -- Data 2.4.2 Actor: Agents, Groups and Inverse Functional Identifiers ------------------------


def test_lrs_must_reject_an_agent_with_more_than_one_inverse_functional_identifier(lrs, statement):
    """Data 2.4.2.1.s2.b2: "An Agent MUST NOT include more than one (1) Inverse Functional
    Identifier" """
    reject(lrs, changed(statement, "actor.account", ACCOUNT))


def test_lrs_must_reject_an_agent_without_an_inverse_functional_identifier(lrs, statement):
    """Data 2.4.2.1.s2.b1: "An Agent MUST be identified by one (1) of the four types of Inverse
    Functional Identifiers" """
    reject(lrs, {**statement, "actor": {"objectType": "Agent", "name": "Nobody"}})


@pytest.mark.parametrize(
    "mbox", ["someone@example.com", "mailto:", "http://example.com/someone", ""]
)
def test_lrs_must_reject_an_mbox_that_is_not_a_mailto_iri(lrs, statement, mbox):
    """Data 2.4.2.3.s3.table1.row1: "mbox | mailto IRI | The required format is "mailto:email
    address"." with 2.2.s4.b1.b4: reject "any non-format-following key or value, including the
    empty string, where a string with a particular format (such as mailto IRI ...) is
    required." """
    reject(lrs, changed(statement, "actor.mbox", mbox))


def test_lrs_must_reject_an_mbox_sha1sum_that_is_not_a_hex_sha1(lrs, statement):
    """Data 2.4.2.3.s3.table1.row2: "mbox_sha1sum ... The hex-encoded SHA1 hash of a mailto
    IRI" with 2.2.s4.b1.b4 (non-format-following values)."""
    actor = {"objectType": "Agent", "mbox_sha1sum": "not a sha1 sum"}
    reject(lrs, {**statement, "actor": actor})


def test_lrs_must_reject_an_openid_that_is_not_a_uri(lrs, statement):
    """Data 2.4.2.3.s3.table1.row3: "openid | URI" with 2.2.s4.b1.b8: reject Statements
    "containing IRL or IRI values without a scheme." """
    reject(lrs, {**statement, "actor": {"objectType": "Agent", "openid": "toby.openid.example"}})


@pytest.mark.parametrize(
    "account",
    [
        {"name": "1625378"},
        {"homePage": "http://www.example.com"},
        {"homePage": "www.example.com", "name": "1625378"},
        {"homePage": "http://www.example.com", "name": 1625378},
    ],
    ids=["no-homePage", "no-name", "homePage-without-scheme", "numeric-name"],
)
def test_lrs_must_reject_an_account_without_an_irl_home_page_and_a_string_name(
    lrs, statement, account
):
    """Data 2.4.2.4.s2.table1: "homePage | IRL | ... | Required" and "name | String | ... |
    Required"."""
    reject(lrs, {**statement, "actor": {"objectType": "Agent", "account": account}})


def test_lrs_must_reject_an_anonymous_group_without_members(lrs, statement):
    """Data 2.4.2.2.s4.b1: "An Anonymous Group MUST include a "member" property listing
    constituent Agents." """
    reject(lrs, {**statement, "actor": {"objectType": "Group", "name": "Nobody in particular"}})


def test_lrs_must_reject_a_group_containing_a_group_as_member(lrs, statement, agent, unique):
    """Data 2.4.2.2.s4.b2: "An Anonymous Group MUST NOT contain Group Objects in the "member"
    identifiers." """
    inner = {"objectType": "Group", "member": [agent]}
    reject(lrs, {**statement, "actor": {"objectType": "Group", "member": [inner]}})


def test_lrs_must_reject_an_identified_group_with_two_inverse_functional_identifiers(
    lrs, statement, unique
):
    """Data 2.4.2.2.s5.b1: "An Identified Group MUST include exactly one (1) Inverse Functional
    Identifier." """
    group = {"objectType": "Group", "mbox": f"mailto:team.{unique}@example.com", "account": ACCOUNT}
    reject(lrs, {**statement, "actor": group})


def test_lrs_must_accept_an_identified_group_without_members(lrs, statement, unique):
    """Data 2.4.2.2.s5.b4: "An Identified Group MAY include a "member" property listing
    constituent Agents." (and the table marks "member" Optional)."""
    accept(lrs, {**statement, "actor": {"objectType": "Group", "account": ACCOUNT}})


def test_lrs_must_reject_an_agent_used_as_object_without_object_type(lrs, statement, unique):
    """Data 2.4.4.2.s1.b1: "Statements that specify an Agent or Group as an Object MUST specify
    an 'objectType' property." """
    reject(lrs, {**statement, "object": {"mbox": f"mailto:object.{unique}@example.com"}})


# -- Data 2.2.s4 formatting rules -------------------------------------------------------------


def test_lrs_must_reject_a_statement_with_a_null_value(lrs, statement):
    """Data 2.2.s4.b1.b1: the LRS MUST reject Statements "with any null values (except inside
    extensions)." """
    reject(lrs, {**statement, "result": {"success": None}})


def test_lrs_must_accept_null_values_inside_extensions(lrs, statement):
    """Data 2.2.s4.b1.b1 ("except inside extensions") and Data 4.1.s3.b2: "An LRS MUST NOT reject
    a Statement based on the values of the extensions map." """
    extensions = {"http://example.com/ext/null": None, "http://example.com/ext/obj": {"a": None}}
    accept(lrs, {**statement, "result": {"extensions": extensions}})


EMPTY_OBJECTS = {
    "verb.display": {},
    "result": {},
    "result.score": {},
    "context": {},
    "object.definition.name": {},
    "object.definition.description": {},
}


@pytest.mark.parametrize("path", list(EMPTY_OBJECTS))
def test_lrs_must_reject_a_property_whose_value_is_an_empty_object(lrs, statement, path):
    """Data 2.2.s4.b1.b1, as ADL's requirement XAPI-00001 states it: "An LRS rejects with error
    code 400 Bad Request any Statement having a property whose value is set to "null", an empty
    object, or has no value, except in an "extensions" property". Checked in the statement and in
    a SubStatement."""
    reject(lrs, changed(statement, path, EMPTY_OBJECTS[path]))
    inner = changed(statement, path, EMPTY_OBJECTS[path])
    reject(lrs, substatement(statement, **{k: v for k, v in inner.items() if k != "actor"}))


def test_lrs_must_reject_an_empty_language_map_in_an_attachment_or_interaction(lrs, statement):
    """Data 2.2.s4.b1.b1 (XAPI-00001) for the language maps deeper down: an interaction
    component's description and an attachment's display."""
    choices = [{"id": "a", "description": {}}]
    definition = {"type": ACTIVITY_TYPE, "interactionType": "choice", "choices": choices}
    reject(lrs, {**statement, "object": interaction(**definition)})
    attachment = {
        "usageType": "http://example.com/usage",
        "display": {},
        "contentType": "text/plain",
        "length": 4,
        "sha2": "a" * 64,
        "fileUrl": "http://example.com/file.txt",
    }
    reject(lrs, {**statement, "attachments": [attachment]})


@pytest.mark.parametrize(
    "path", ["result.extensions", "context.extensions", "object.definition.extensions"]
)
def test_lrs_must_accept_an_empty_extensions_object(lrs, statement, path):
    """Data 2.2.s4.b1.b1: "except in an "extensions" property" (ADL: "statement activity
    extensions can be empty")."""
    accept(lrs, changed(statement, path, {}))


def test_lrs_must_reject_a_string_where_a_number_is_required(lrs, statement):
    """Data 2.2.s4.b1.b2: the LRS MUST reject Statements "with strings where numbers are
    required, even if those strings contain numbers." """
    reject(lrs, {**statement, "result": {"score": {"scaled": "0.5"}}})


def test_lrs_must_reject_a_string_where_a_boolean_is_required(lrs, statement):
    """Data 2.2.s4.b1.b3: the LRS MUST reject Statements "with strings where booleans are
    required, even if those strings contain booleans." """
    reject(lrs, {**statement, "result": {"completion": "true"}})


def test_lrs_must_reject_a_key_whose_case_does_not_match_the_specification(lrs, statement):
    """Data 2.2.s4.b1.b5: the LRS MUST reject Statements "where the case of a key does not match
    the case specified in this specification." """
    actor = {k: v for k, v in statement["actor"].items() if k != "objectType"}
    reject(lrs, {**statement, "actor": {**actor, "ObjectType": "Agent"}})


def test_lrs_must_reject_an_enumerated_value_whose_case_does_not_match(lrs, statement):
    """Data 2.2.s4.b1.b6: the LRS MUST reject Statements "where the case of a value restricted to
    enumerated values does not match an enumerated value given in this specification
    exactly." """
    reject(lrs, changed(statement, "object.objectType", "activity"))


@pytest.mark.parametrize(
    "where",
    ["statement", "actor", "verb", "object", "result", "context"],
)
def test_lrs_must_reject_a_property_not_allowed_by_the_specification(lrs, statement, where):
    """Data 2.2.s4.b1.b7: the LRS MUST reject Statements "where a key or value is not allowed by
    this specification." """
    base = {**statement, "result": {"success": True}, "context": {"platform": "Example"}}
    target = base if where == "statement" else {**base[where]}
    target["unknownProperty"] = "surprise"
    reject(lrs, target if where == "statement" else {**base, where: target})


def test_lrs_must_reject_an_iri_without_a_scheme(lrs, statement, unique):
    """Data 2.2.s4.b1.b8: the LRS MUST reject Statements "containing IRL or IRI values without a
    scheme." (an Activity id, Data 2.4.4.1.s1.table1.row2: "id | IRI")."""
    reject(lrs, changed(statement, "object.id", f"example.com/activities/{unique}"))


@pytest.mark.parametrize("tag", ["not a tag", "en_US", "", "abcdefghi"])
def test_lrs_must_validate_language_map_keys_as_rfc_5646_tags(lrs, statement, tag):
    """Data 2.2.s4.b2: "The LRS MUST at least validate that the sequence of token lengths for
    language map keys matches the RFC 5646 standard." """
    reject(lrs, changed(statement, "verb.display", {tag: "experienced"}))


@pytest.mark.parametrize("tag", ["something", "en_US", "zh-z-aaa-z-bbb"])
def test_lrs_must_reject_a_context_language_that_is_not_an_rfc_5646_tag(lrs, statement, tag):
    """xAPI 2.0 Data 2.4.6.s3.table1.row7: context "language" is a "String (as defined in RFC
    5646)", and Data 2.2.s4.b4: the LRS rejects a Statement using a value "where a string with a
    particular format ... is required" that does not follow it -- "something" has a 9-letter
    primary subtag (RFC 5646 allows 2-8). (2.0 only: ADL's 1.0.3 suite has the LRS store a
    51-letter context language, so 1.0.x is not held to it.)"""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    reject(lrs, changed(statement, "context", {"language": tag}))


# -- Data 2.4.3 Verb ------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [{"display": {"en-US": "did"}}, {"id": "did"}, {"id": ""}])
def test_lrs_must_reject_a_verb_without_an_iri_id(lrs, statement, verb):
    """Data 2.4.3.s3.table1.row1: "id | IRI | Corresponds to a Verb definition. | Required" """
    reject(lrs, {**statement, "verb": verb})


# -- Data 4.4 UUIDs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["id", "context.registration", "object.id"],
)
def test_lrs_must_reject_a_uuid_not_in_standard_string_form(lrs, statement, path):
    """Data 4.4: "UUIDs MUST be in the standard string form." (Statement id, context
    registration, and a StatementRef's id, Data 2.4.4.3.s4.b2)."""
    bad = "f6a4b8c2-1d3e-4f5a"
    if path == "object.id":
        statement = {**statement, "object": {"objectType": "StatementRef", "id": bad}}
    else:
        statement = changed(statement, path, bad)
    response = lrs.post_statements(statement)
    assert response.status_code == 400, describe(response)


# -- Data 4.5 timestamps and 4.6 durations -----------------------------------------------------


@pytest.mark.parametrize(
    "timestamp", ["should fail", "01/011/2015", "2015-13-45T12:00:00Z", "2015-11-18T25:17:00Z"]
)
def test_lrs_must_reject_a_timestamp_not_formatted_according_to_iso_8601(lrs, statement, timestamp):
    """Data 4.5.s1.b1: "A Timestamp MUST be formatted according to ISO 8601." """
    reject(lrs, {**statement, "timestamp": timestamp})


@pytest.mark.parametrize(
    "timestamp", ["2015-11-18T12:17:00.123Z", "2015-11-18T12:17:00+05:30", "2015-11-18T12:17:00Z"]
)
def test_lrs_must_accept_iso_8601_timestamps_with_a_time_zone(lrs, statement, timestamp):
    """Data 4.5.s1.b1: "A Timestamp MUST be formatted according to ISO 8601." -- and one that is,
    is accepted."""
    accept(lrs, {**statement, "timestamp": timestamp})


def test_lrs_must_reject_a_timestamp_without_a_time_zone(lrs, statement):
    """xAPI 2.0 (IEEE 9274.1.1), Timestamps: "A Timestamp shall include the time zone." -- in
    1.0.3 this is only SHOULD* (Data 4.5.s1.b4: "A Timestamp SHOULD* include the time zone.")."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    reject(lrs, {**statement, "timestamp": "2015-11-18T12:17:00.123"})


@pytest.mark.parametrize(
    "duration",
    ["PT1H1M1S1", "four hours", "P4W1D", "PT", "P0003-01-29T04:35:59", "P1.5Y2M", "PT1.5H30M"],
)
def test_lrs_must_reject_a_duration_not_in_the_iso_8601_duration_format(lrs, statement, duration):
    """Data 4.6.s1.b1: "A Duration MUST be expressed using the format for Duration in ISO
    8601:2004(E) section 4.4.3.2. The alternative format (in conformity with the format used for
    time points and described in ISO 8601:2004(E) section 4.4.3.3) MUST NOT be used." In 4.4.3.2
    only the lowest-order component may have a decimal fraction (ADL XAPI-00077, XAPI-00124)."""
    reject(lrs, {**statement, "result": {"duration": duration}})


@pytest.mark.parametrize("duration", ["PT4H35M59.14S", "P3Y1M29DT4H35M59.14S", "P4W", "PT1234S"])
def test_lrs_must_accept_durations_in_the_iso_8601_duration_format(lrs, statement, duration):
    """Data 4.6.s1.b1 and its examples (4.6.s2.table1): "PT4H35M59.14S", "P3Y1M29DT4H35M59.14S",
    "P4W" ..."""
    accept(lrs, {**statement, "result": {"duration": duration}})


# -- Data 2.4.5 Result ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "score",
    [
        {"scaled": 1.5},
        {"scaled": -1.01},
        {"raw": 11, "min": 0, "max": 10},
        {"raw": -1, "min": 0},
        {"min": 10, "max": 5},
    ],
    ids=["scaled>1", "scaled<-1", "raw>max", "raw<min", "min>max"],
)
def test_lrs_must_reject_a_score_outside_its_bounds(lrs, statement, score):
    """Data 2.4.5.1.s2.table1: "scaled | Decimal number between -1 and 1, inclusive", "raw |
    Decimal number between min and max (if present, otherwise unrestricted), inclusive", "min |
    Decimal number less than max (if present)"."""
    reject(lrs, {**statement, "result": {"score": score}})


# -- Data 2.4.4.1 Activities and interactions ------------------------------------------------


def test_lrs_must_reject_an_activity_definition_without_any_property(lrs, statement):
    """Data 2.4.4.1.s2: an Activity Definition holds "at least one of the following
    properties": name, description, type, moreInfo, interactionType or extensions (ADL's LRS
    conformance suite expects 400 for an empty one, in the object and in a SubStatement)."""
    empty = {"objectType": "Activity", "id": "http://example.com/empty", "definition": {}}
    reject(lrs, {**statement, "object": empty})
    sub = {"objectType": "SubStatement", **{k: statement[k] for k in ("actor", "verb")}}
    reject(lrs, {**statement, "object": {**sub, "object": empty}})


def test_lrs_must_reject_an_interaction_activity_with_an_invalid_interaction_type(lrs, statement):
    """Data 2.4.4.1.s13.b1: "Interaction Activities MUST have a valid interactionType." """
    definition = {"type": ACTIVITY_TYPE, "interactionType": "multiple-choice"}
    reject(lrs, {**statement, "object": interaction(**definition)})


def test_lrs_must_reject_interaction_components_with_duplicate_ids(lrs, statement):
    """Data 2.4.4.1.s16.b1: "Within an array of interaction components, all id values MUST be
    distinct." """
    choices = [
        {"id": "golf", "description": {"en-US": "Golf Example"}},
        {"id": "golf", "description": {"en-US": "Another Golf"}},
    ]
    definition = {"type": ACTIVITY_TYPE, "interactionType": "choice", "choices": choices}
    reject(lrs, {**statement, "object": interaction(**definition)})


def test_lrs_must_accept_a_valid_interaction_activity(lrs, statement):
    """Data 2.4.4.1.s8 and Appendix C (choice): an interaction with a valid interactionType,
    correctResponsesPattern and distinct choices is accepted."""
    definition = {
        "type": ACTIVITY_TYPE,
        "interactionType": "choice",
        "correctResponsesPattern": ["golf[,]tetris"],
        "choices": [{"id": "golf"}, {"id": "tetris"}, {"id": "facebook"}],
    }
    accept(lrs, {**statement, "object": interaction(**definition)})


def test_lrs_must_reject_an_extension_key_that_is_not_an_iri(lrs, statement):
    """Data 4.1.s3.b1: "The keys of an extensions map MUST be IRIs." """
    reject(lrs, {**statement, "result": {"extensions": {"not an iri": 1}}})


# -- Data 2.4.4.3 SubStatements and StatementRefs ----------------------------------------------


def test_lrs_must_reject_a_nested_substatement(lrs, statement):
    """Data 2.4.4.3.s8.b4: "A SubStatement MUST NOT contain a SubStatement of its own, i.e.,
    cannot be nested." """
    inner = substatement(statement)["object"]
    reject(lrs, substatement(statement, object=inner))


@pytest.mark.parametrize("prop", ["id", "stored", "version", "authority"])
def test_lrs_must_reject_a_substatement_with_id_stored_version_or_authority(
    lrs, statement, unique, prop
):
    """Data 2.4.4.3.s8.b3: "A SubStatement MUST NOT have the "id", "stored", "version" or
    "authority" properties." """
    values = {
        "id": "f6a4b8c2-1d3e-4f5a-9b8c-7d6e5f4a3b2c",
        "stored": "2015-11-18T12:17:00.000Z",
        "version": "1.0.0",
        "authority": other_agent(unique, "authority"),
    }
    reject(lrs, substatement(statement, **{prop: values[prop]}))


def test_lrs_must_validate_a_substatement_as_a_statement(lrs, statement):
    """Data 2.4.4.3.s8.b2: "A SubStatement MUST be validated as a Statement in addition to other
    SubStatement requirements." """
    reject(lrs, substatement(statement, actor={"objectType": "Agent", "mbox": "not-a-mailto"}))


def test_lrs_must_accept_a_valid_substatement(lrs, statement):
    """Data 2.4.4.3.s8.b1: "A SubStatement MUST specify an "objectType" property with the value
    SubStatement." -- and one that does, and is otherwise valid, is accepted."""
    accept(lrs, substatement(statement))


# -- Data 2.4.6 Context ---------------------------------------------------------------------------


@pytest.mark.parametrize("prop", ["revision", "platform"])
def test_lrs_must_reject_revision_or_platform_when_the_object_is_not_an_activity(
    lrs, statement, unique, prop
):
    """Data 2.4.6.s4.b1: "The "revision" property MUST only be used if the Statement's Object is
    an Activity." and 2.4.6.s4.b2: "The "platform" property MUST only be used if the Statement's
    Object is an Activity." """
    reject(
        lrs,
        {**statement, "object": other_agent(unique, "object"), "context": {prop: "anything"}},
    )


def test_lrs_must_reject_a_context_activities_key_other_than_the_four_context_types(
    lrs, statement, activity
):
    """Data 2.4.6.2.s4.b1: "Every key in the contextActivities Object MUST be one of parent,
    grouping, category, or other." """
    reject(lrs, {**statement, "context": {"contextActivities": {"sibling": [activity]}}})


def test_lrs_must_reject_a_context_statement_reference_without_object_type(lrs, statement):
    """Data 2.4.4.3: "A Statement Reference MUST specify an "objectType" property with the value
    "StatementRef"." -- the context's "statement" property is one (Data 2.4.6); ADL XAPI-00092.
    Checked in the statement and in a SubStatement."""
    reference = {"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}
    reject(lrs, {**statement, "context": {"statement": reference}})
    reject(lrs, substatement(statement, context={"statement": reference}))
    accept(
        lrs, {**statement, "context": {"statement": {"objectType": "StatementRef", **reference}}}
    )


def test_lrs_must_reject_an_empty_context_activities_object(lrs, statement):
    """Data 2.4.6.2: contextActivities is a map of context types to activities; the ADL
    conformance requirement XAPI-00095: "The LRS rejects with 400 Bad Request a statement which
    has an empty "contextActivities" property"."""
    reject(lrs, {**statement, "context": {"contextActivities": {}}})


def test_lrs_must_reject_a_context_activities_value_that_is_not_an_activity(lrs, statement, agent):
    """Data 2.4.6.2.s4.b2: "Every value in the contextActivities Object MUST be either a single
    Activity Object or an array of Activity Objects." """
    reject(lrs, {**statement, "context": {"contextActivities": {"parent": [agent]}}})


# -- Data 2.4.10 Version ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.95", "1.1.0", "3.0.0", "one"])
def test_lrs_must_reject_a_statement_version_that_does_not_start_with_a_supported_version(
    lrs, statement, version
):
    """Data 2.4.10.s3.b2: "An LRS MUST reject all Statements with a version specified that does
    not start with 1.0." (xAPI 2.0: "1.0." or "2.0."); and 2.4.10.s2.b1: "Version MUST be
    formatted as laid out for the API version header"."""
    reject(lrs, {**statement, "version": version})


# -- xAPI 2.0 additions ---------------------------------------------------------------------


def context_agent(agent: dict, **extra) -> dict:
    return {"objectType": "contextAgent", "agent": agent, **extra}


def test_lrs_must_accept_context_agents_and_context_groups(lrs, statement, agent, unique):
    """xAPI 2.0 (IEEE 9274.1.1), Context: "contextAgents | Array of contextAgent Objects" and
    "contextGroups | Array of contextGroup Objects" (objectType "contextAgent" with an "agent",
    objectType "contextGroup" with a "group", each optionally with "relevantTypes", an array of
    IRIs)."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    group = {"objectType": "Group", "member": [agent, other_agent(unique)]}
    context = {
        "contextAgents": [
            context_agent(agent, relevantTypes=["http://example.com/types/instructor"])
        ],
        "contextGroups": [{"objectType": "contextGroup", "group": group}],
    }
    accept(lrs, {**statement, "context": context})


@pytest.mark.parametrize(
    "entry",
    [
        {"objectType": "Agent"},
        {"objectType": "contextAgent", "agent": {"name": "no identifier"}},
        {"relevantTypes": []},
        {"relevantTypes": ["not an iri"]},
    ],
    ids=["wrong-objectType", "invalid-agent", "empty-relevantTypes", "non-iri-relevantTypes"],
)
def test_lrs_must_reject_an_invalid_context_agent(lrs, statement, agent, entry):
    """xAPI 2.0 (IEEE 9274.1.1), contextAgent Object: "objectType | String | contextAgent |
    Required", "agent | Agent Object | Required", "relevantTypes | Array of IRIs | ... shall
    contain at least one IRI"."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    reject(lrs, {**statement, "context": {"contextAgents": [context_agent(agent) | entry]}})


def test_lrs_must_reject_a_context_group_whose_group_is_an_agent(lrs, statement, agent):
    """xAPI 2.0 (IEEE 9274.1.1), contextGroup Object: "group | Group Object | Required"."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    entry = {"objectType": "contextGroup", "group": agent}
    reject(lrs, {**statement, "context": {"contextGroups": [entry]}})
