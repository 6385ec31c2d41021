"""Communication 2.1.3 GET Statements (queries), 2.1.3.s3 Filter Conditions for StatementRefs,
2.1.3.s4 language filtering, Data 2.5 Retrieval of Statements (StatementResult, `more`), and
the parameter rules of Communication 3.2 / Data 2.2.

Every query is filtered by an agent, verb, activity or registration made for the test alone, so
other data in the LRS never shows up in the results.
"""

from __future__ import annotations

import httpx
import pytest
from support import (
    describe,
    fetch,
    get_more,
    new_id,
    other_agent,
    parse_timestamp,
    query,
    query_all,
    query_ids,
    settle,
    store,
    store_each,
    verb,
    with_id,
)


def test_lrs_must_return_a_statement_result_with_a_statements_array(lrs, statement, agent):
    """Data 2.5.s2.table1.row1: "statements | Array of Statements | List of Statements ... |
    Required"; row2: "more | IRL | ... Empty string if there are no more results to fetch"."""
    statement_id = store(lrs, statement)[0]
    settle(lrs, statement_id)

    result = query(lrs, {"agent": agent})

    assert isinstance(result["statements"], list)
    assert [s["id"] for s in result["statements"]] == [statement_id]
    assert isinstance(result.get("more", ""), str)


def test_lrs_must_return_200_and_an_empty_statements_array_when_nothing_matches(lrs, agent):
    """Communication 2.1.3.s2.b4: "In the event that no Statements are found matching the query
    filter criteria, the LRS MUST still return 200 OK and a StatementResult Object. In this case,
    the "statements" property will contain an empty array." """
    response = lrs.get_statements({"agent": agent})

    assert response.status_code == 200, describe(response)
    assert response.json()["statements"] == []


def test_agent_filter_must_return_statements_whose_actor_or_object_is_the_agent(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s1.table1.row3: "agent ... Filter, only return Statements for which the
    specified Agent or Group is the Actor or Object of the Statement." """
    someone = other_agent(unique)
    as_actor, as_object, as_instructor = (
        with_id(statement),
        with_id({**statement, "actor": someone, "object": agent}),
        with_id({**statement, "actor": someone, "context": {"instructor": agent}}),
    )
    store(lrs, as_actor, as_object, as_instructor)
    settle(lrs, as_instructor["id"])

    found = query_ids(lrs, {"agent": {"mbox": agent["mbox"]}})

    assert sorted(found) == sorted([as_actor["id"], as_object["id"]])


def test_agent_filter_must_match_groups_having_the_agent_as_a_member(lrs, statement, agent, unique):
    """Communication 2.1.3.s1.table1.row3: "For the purposes of this filter, Groups that have
    members which match the specified Agent based on their Inverse Functional Identifier as
    described above are considered a match" """
    group = {"objectType": "Group", "member": [agent, other_agent(unique)]}
    by_group = with_id({**statement, "actor": group})
    store(lrs, by_group)
    settle(lrs, by_group["id"])

    assert query_ids(lrs, {"agent": agent}) == [by_group["id"]]


def test_related_agents_must_widen_the_agent_filter_to_context_and_substatements(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s1.table1.row8: "related_agents ... Apply the Agent filter broadly.
    Include Statements for which the Actor, Object, Authority, Instructor, Team, or any of these
    properties in a contained SubStatement match the Agent parameter" """
    someone = other_agent(unique)
    as_actor = with_id(statement)
    as_instructor = with_id({**statement, "actor": someone, "context": {"instructor": agent}})
    in_substatement = with_id(
        {
            **statement,
            "actor": someone,
            "object": {
                "objectType": "SubStatement",
                "actor": agent,
                "verb": statement["verb"],
                "object": statement["object"],
            },
        }
    )
    store(lrs, as_actor, as_instructor, in_substatement)
    settle(lrs, in_substatement["id"])

    narrow = query_ids(lrs, {"agent": agent})
    broad = query_ids(lrs, {"agent": agent, "related_agents": True})

    assert narrow == [as_actor["id"]]
    assert sorted(broad) == sorted([as_actor["id"], as_instructor["id"], in_substatement["id"]])


def test_verb_filter_must_return_only_statements_with_that_verb(lrs, statement, agent, unique):
    """Communication 2.1.3.s1.table1.row4: "verb ... Filter, only return Statements matching the
    specified Verb id." """
    chosen = verb(unique, "chosen")
    with_chosen, with_other = with_id({**statement, "verb": chosen}), with_id(statement)
    store(lrs, with_chosen, with_other)
    settle(lrs, with_other["id"])

    assert query_ids(lrs, {"verb": chosen["id"]}) == [with_chosen["id"]]
    assert query_ids(lrs, {"agent": agent, "verb": chosen["id"]}) == [with_chosen["id"]]


def test_activity_filter_must_return_only_statements_whose_object_is_the_activity(
    lrs, statement, activity, unique
):
    """Communication 2.1.3.s1.table1.row5: "activity ... Filter, only return Statements for which
    the Object of the Statement is an Activity with the specified id." """
    elsewhere = {"objectType": "Activity", "id": f"http://example.com/elsewhere/{unique}"}
    as_object = with_id(statement)
    as_parent = with_id(
        {**statement, "object": elsewhere, "context": {"contextActivities": {"parent": [activity]}}}
    )
    store(lrs, as_object, as_parent)
    settle(lrs, as_parent["id"])

    assert query_ids(lrs, {"activity": activity["id"]}) == [as_object["id"]]


def test_related_activities_must_widen_the_activity_filter_to_context_and_substatements(
    lrs, statement, activity, unique
):
    """Communication 2.1.3.s1.table1.row7: "related_activities ... Include Statements for which
    the Object, any of the context Activities, or any of those properties in a contained
    SubStatement match the Activity parameter" """
    elsewhere = {"objectType": "Activity", "id": f"http://example.com/elsewhere/{unique}"}
    as_object = with_id(statement)
    as_grouping = with_id(
        {
            **statement,
            "object": elsewhere,
            "context": {"contextActivities": {"grouping": [activity]}},
        }
    )
    in_substatement = with_id(
        {
            **statement,
            "object": {
                "objectType": "SubStatement",
                "actor": statement["actor"],
                "verb": statement["verb"],
                "object": activity,
            },
        }
    )
    store(lrs, as_object, as_grouping, in_substatement)
    settle(lrs, in_substatement["id"])

    broad = query_ids(lrs, {"activity": activity["id"], "related_activities": True})

    assert sorted(broad) == sorted([as_object["id"], as_grouping["id"], in_substatement["id"]])


def test_registration_filter_must_return_only_statements_with_that_registration(
    lrs, statement, agent
):
    """Communication 2.1.3.s1.table1.row6: "registration ... Filter, only return Statements
    matching the specified registration id." """
    registration = new_id()
    registered = with_id({**statement, "context": {"registration": registration}})
    elsewhere = with_id({**statement, "context": {"registration": new_id()}})
    store(lrs, registered, elsewhere)
    settle(lrs, elsewhere["id"])

    assert query_ids(lrs, {"registration": registration}) == [registered["id"]]


def test_statements_targeting_a_matching_statement_must_meet_the_filter(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s3: "For filter parameters which are not time or sequence based (that
    is, other than "since", "until", or "limit"), Statements which target another Statement (by
    using a StatementRef as the Object of the Statement) will meet the filter condition if the
    targeted Statement meets the filter condition." """
    original = with_id(statement)
    comment = with_id(
        {
            "actor": other_agent(unique),
            "verb": verb(unique, "commented"),
            "object": {"objectType": "StatementRef", "id": original["id"]},
        }
    )
    store_each(lrs, original, comment)
    settle(lrs, comment["id"])

    assert sorted(query_ids(lrs, {"agent": agent})) == sorted([original["id"], comment["id"]])


def test_since_must_return_only_statements_stored_after_the_timestamp(lrs, statement, agent):
    """Communication 2.1.3.s1.table1.row9: "since ... Only Statements stored since the specified
    Timestamp (exclusive) are returned." """
    first, second = with_id(statement), with_id(statement)
    store_each(lrs, first, second)
    settle(lrs, second["id"])
    since = fetch(lrs, first["id"])["stored"]

    found = query_all(lrs, {"agent": agent, "since": since})

    assert first["id"] not in {s["id"] for s in found}
    assert all(parse_timestamp(s["stored"]) > parse_timestamp(since) for s in found)
    if parse_timestamp(fetch(lrs, second["id"])["stored"]) > parse_timestamp(since):
        assert second["id"] in {s["id"] for s in found}


def test_until_must_return_only_statements_stored_at_or_before_the_timestamp(lrs, statement, agent):
    """Communication 2.1.3.s1.table1.row10: "until ... Only Statements stored at or before the
    specified Timestamp are returned." """
    first, second = with_id(statement), with_id(statement)
    store_each(lrs, first, second)
    settle(lrs, second["id"])
    until = fetch(lrs, first["id"])["stored"]

    found = query_all(lrs, {"agent": agent, "until": until})

    assert first["id"] in {s["id"] for s in found}
    assert all(parse_timestamp(s["stored"]) <= parse_timestamp(until) for s in found)


def test_limit_must_cap_the_number_of_statements_returned(lrs, statement, agent):
    """Communication 2.1.3.s1.table1.row11: "limit ... Maximum number of Statements to return."
    and Data 2.5.s2.table1.row2: "more ... Required if the list returned has been limited"."""
    batch = [with_id(statement) for _ in range(3)]
    store(lrs, *batch)
    settle(lrs, batch[-1]["id"])

    result = query(lrs, {"agent": agent, "limit": 2})

    assert len(result["statements"]) == 2
    assert result.get("more"), "a limited list must carry a `more` IRL"


def test_more_must_be_a_relative_irl_that_fetches_the_remaining_results(lrs, statement, agent):
    """Data 2.5.s2.table1.row2: "more | IRL | Relative IRL that can be used to fetch more
    results, including the full path and optionally a query string but excluding scheme, host,
    and port." """
    batch = [with_id(statement) for _ in range(3)]
    store(lrs, *batch)
    settle(lrs, batch[-1]["id"])
    seen: list[str] = []

    result = query(lrs, {"agent": agent, "limit": 1})
    for _ in range(5):
        seen += [s["id"] for s in result["statements"]]
        more = result.get("more")
        if not more:
            break
        url = httpx.URL(more)
        assert not url.scheme and not url.host and more.startswith("/"), more
        response = get_more(lrs, more)
        assert response.status_code == 200, describe(response)
        result = response.json()

    assert sorted(seen) == sorted(s["id"] for s in batch)


def test_more_must_be_empty_or_absent_when_there_are_no_more_results(lrs, statement, agent):
    """Data 2.5.s2.table1.row2: "more ... Empty string if there are no more results to fetch." """
    statement_id = store(lrs, statement)[0]
    settle(lrs, statement_id)

    result = query(lrs, {"agent": agent, "limit": 5})

    assert len(result["statements"]) == 1
    assert result.get("more", "") == ""


def test_statements_must_be_returned_in_reverse_chronological_order_of_stored(
    lrs, statement, agent
):
    """Communication 2.1.3.s1: "Otherwise returns: A StatementResult Object, a list of Statements
    in reverse chronological order based on "stored" time" """
    posted = [with_id(statement) for _ in range(3)]
    store_each(lrs, *posted)
    settle(lrs, posted[-1]["id"])

    found = query_all(lrs, {"agent": agent})

    stored = [parse_timestamp(s["stored"]) for s in found]
    assert sorted(s["id"] for s in found) == sorted(s["id"] for s in posted)
    assert stored == sorted(stored, reverse=True)


def test_ascending_must_return_statements_in_ascending_order_of_stored(lrs, statement, agent):
    """Communication 2.1.3.s1.table1.row14: "ascending ... If true, return results in ascending
    order of stored time" """
    posted = [with_id(statement) for _ in range(3)]
    store_each(lrs, *posted)
    settle(lrs, posted[-1]["id"])

    found = query_all(lrs, {"agent": agent, "ascending": True})

    stored = [parse_timestamp(s["stored"]) for s in found]
    assert sorted(s["id"] for s in found) == sorted(s["id"] for s in posted)
    assert stored == sorted(stored)


def _described(statement: dict, unique: str) -> dict:
    """The fixture statement with a named agent, a displayed verb and a defined activity."""
    return with_id(
        {
            **statement,
            "object": {
                **statement["object"],
                "definition": {
                    "name": {"en-US": "an activity", "fr": "une activité"},
                    "description": {"en-US": "described", "fr": "décrite"},
                    "type": f"http://example.com/types/{unique}",
                },
            },
        }
    )


def test_format_ids_must_include_only_what_identifies_agents_activities_and_verbs(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s1.table1.row12: "If ids, only include minimum information necessary
    in Agent, Activity, Verb and Group Objects to identify them." """
    posted = _described(statement, unique)
    store(lrs, posted)
    settle(lrs, posted["id"])

    (got,) = query_all(lrs, {"agent": agent, "format": "ids"})

    assert "name" not in got["actor"] and got["actor"]["mbox"] == agent["mbox"]
    assert set(got["object"]) <= {"objectType", "id"}
    assert set(got["verb"]) == {"id"}


def test_format_ids_must_reduce_an_activity_to_its_id_even_inside_a_substatement(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s1.table1.row12: "If ids, only include minimum information necessary
    in Agent, Activity, Verb and Group Objects to identify them." -- for an Activity that is its
    id alone ("objectType": "Activity" is the default), also as a SubStatement's object."""
    activity = {"objectType": "Activity", "id": f"http://example.com/ids/{unique}"}
    inner = {"actor": agent, "verb": statement["verb"], "object": activity}
    posted = with_id({**statement, "object": {"objectType": "SubStatement", **inner}})
    store(lrs, posted)
    settle(lrs, posted["id"])

    (got,) = query_all(lrs, {"agent": agent, "format": "ids"})

    assert got["object"]["object"] == {"id": activity["id"]}, got["object"]
    assert got["object"]["objectType"] == "SubStatement"


def test_format_exact_must_return_objects_exactly_as_received(lrs, statement, agent, unique):
    """Communication 2.1.3.s1.table1.row12: "If exact, return Agent, Activity, Verb and Group
    Objects populated exactly as they were when the Statement was received." """
    posted = _described(statement, unique)
    store(lrs, posted)
    settle(lrs, posted["id"])

    (got,) = query_all(lrs, {"agent": agent, "format": "exact"})

    assert (got["actor"], got["verb"], got["object"]) == (
        posted["actor"],
        posted["verb"],
        posted["object"],
    )


def test_format_canonical_must_return_only_one_language_in_each_activity_language_map(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s4.b1: "Activity Objects contain Language Map Objects within their
    "name", "description" and various interaction components. The LRS MUST return only one
    language in each of these maps." """
    posted = _described(statement, unique)
    store(lrs, posted)
    settle(lrs, posted["id"])

    (got,) = query_all(lrs, {"agent": agent, "format": "canonical"})

    assert len(got["object"]["definition"]["name"]) == 1
    assert len(got["object"]["definition"]["description"]) == 1


def test_format_canonical_must_choose_the_language_by_accept_language(
    lrs, statement, agent, unique
):
    """Communication 2.1.3.s4.b5: "In order to choose the most relevant language, the LRS MUST
    apply the "Accept-Language" header as described in RFC 2616 (HTTP 1.1), except that this
    logic MUST be applied to each language map individually" """
    posted = _described(statement, unique)
    store(lrs, posted)
    settle(lrs, posted["id"])

    (got,) = query_all(
        lrs, {"agent": agent, "format": "canonical"}, headers={"Accept-Language": "fr"}
    )

    assert got["object"]["definition"]["name"] == {"fr": "une activité"}
    assert got["actor"] == posted["actor"]  # "return the original Agent and Group Objects"


@pytest.mark.parametrize(
    "params",
    [
        {"format": "everything"},
        {"limit": -1},
        {"limit": "ten"},
        {"since": "yesterday"},
        {"since": "2013-05-18"},
        {"since": "2013-05-18T05:32:34-00:00"},
        {"until": "2015-13-45T00:00:00Z"},
        {"ascending": "yes"},
        {"registration": "not-a-uuid"},
        {"registration": "{6690e6c9-3ef0-4ed3-8b37-7f3964730bee}"},
        {"statementId": "6690e6c93ef04ed38b377f3964730bee"},
        {"verb": "not an iri"},
        {"agent": {"mbox": "someone@example.com"}},
        {"agent": {"name": "no identifier"}},
    ],
    ids=lambda p: f"{next(iter(p))}={next(iter(p.values()))}",
)
def test_lrs_must_validate_query_parameter_values(lrs, params):
    """Data 2.2.s4.b4: "The LRS MUST validate parameter values to the same standards required for
    values of the same types in Statements." -- an invalid argument is a 400 Bad Request
    (Communication 3.2.s2.b1)."""
    response = lrs.get_statements(params)

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_parameters_it_does_not_recognise(lrs, agent):
    """Communication 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests
    that use any parameters which the LRS does not recognize in their intended context in this
    specification." """
    response = lrs.get_statements({"agent": agent, "colour": "blue"})

    assert response.status_code == 400, describe(response)


@pytest.mark.parametrize("name", ["Agent", "AGENT", "Related_Agents"])
def test_lrs_must_reject_parameters_matching_the_specification_in_all_but_case(lrs, agent, name):
    """Communication 3.2.s3.b8: "The LRS MUST reject with 400 Bad Request status any requests
    that use any parameters matching parameters described in this specification in all but
    case." """
    value = agent if name.lower() == "agent" else True
    params = {"agent": agent, name: value} if name.lower() != "agent" else {name: value}

    response = lrs.get_statements(params)

    assert response.status_code == 400, describe(response)
