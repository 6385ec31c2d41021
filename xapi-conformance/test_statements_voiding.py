"""Data 2.3.2 Voiding and Communication 2.1.4 Voided Statements."""

from __future__ import annotations

from support import (
    VOIDED,
    describe,
    get_statement,
    new_id,
    other_agent,
    query_ids,
    settle,
    store,
    store_each,
    with_id,
)


def voiding(target_id: str, unique: str) -> dict:
    """A Statement by an administrator voiding `target_id`."""
    return with_id(
        {
            "actor": other_agent(unique, "admin"),
            "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": target_id},
        }
    )


def test_lrs_must_accept_a_statement_voiding_another(lrs, statement, unique):
    """Data 2.3.2.s2.b1/b2: "When issuing a Statement that voids another, the Object of that
    voiding Statement MUST have the "objectType" property set to StatementRef" and "MUST specify
    the id of the Statement-to-be-voided by its "id" property." """
    target = store(lrs, statement)[0]

    response = lrs.post_statements(voiding(target, unique))

    assert response.status_code == 200, describe(response)


def test_lrs_must_not_return_a_voided_statement_by_statement_id(lrs, statement, unique):
    """Communication 2.1.4.s1.b1: "The LRS MUST not return any Statement which has been voided,
    unless that Statement has been requested by voidedStatementId." """
    target = store(lrs, statement)[0]
    void = voiding(target, unique)
    store(lrs, void)
    settle(lrs, void["id"])

    response = lrs.get_statements({"statementId": target})

    assert response.status_code == 404, describe(response)


def test_lrs_must_return_a_voided_statement_by_voided_statement_id(lrs, statement, unique):
    """Communication 2.1.4.s1.b1: "The process of retrieving voiding Statements is to request
    each individually by voidedStatementId." and 2.1.3.s1.table1.row2: "voidedStatementId ... Id
    of voided Statement to fetch." """
    target = store(lrs, statement)[0]
    void = voiding(target, unique)
    store(lrs, void)
    settle(lrs, void["id"])

    response = lrs.get_statements({"voidedStatementId": target})

    assert response.status_code == 200, describe(response)
    assert response.json()["id"] == target


def test_lrs_must_not_return_a_statement_that_is_not_voided_by_voided_statement_id(lrs, statement):
    """Data 2.3.2.s2.b3: "an LRS MUST consider a Statement it contains voided if and only if the
    Statement is not itself a voiding Statement and the LRS also contains a voiding Statement
    referring to the first Statement." -- a Statement nobody voided is not found as voided."""
    target = store(lrs, statement)[0]
    settle(lrs, target)

    response = lrs.get_statements({"voidedStatementId": target})

    assert response.status_code == 404, describe(response)


def test_queries_must_not_return_voided_statements(lrs, statement, agent, unique):
    """Communication 2.1.4.s1.b1: "The LRS MUST not return any Statement which has been voided,
    unless that Statement has been requested by voidedStatementId. The process described in the
    section on filter conditions for StatementRefs is no exception to this requirement." """
    kept, voided = with_id(statement), with_id(statement)
    store(lrs, kept, voided)
    void = voiding(voided["id"], unique)
    store(lrs, void)
    settle(lrs, void["id"])

    found = query_ids(lrs, {"agent": agent})

    assert voided["id"] not in found
    assert kept["id"] in found


def test_queries_must_still_return_the_voiding_statement(lrs, statement, agent, unique):
    """Communication 2.1.4.s1.b2: "The LRS MUST still return any Statements targeting the voided
    Statement, following the process and conditions described in the section on filter
    conditions for StatementRefs. This includes the voiding Statement, which cannot be voided." """
    target = store(lrs, statement)[0]
    void = voiding(target, unique)
    store(lrs, void)
    settle(lrs, void["id"])

    assert query_ids(lrs, {"agent": agent}) == [void["id"]]


def test_a_voiding_statement_must_not_be_considered_voided(lrs, statement, unique):
    """Data 2.3.2.s1: "Any Statement that voids another cannot itself be voided." with 2.3.2.s2.b3:
    a Statement is voided "if and only if the Statement is not itself a voiding Statement"."""
    target = store(lrs, statement)[0]
    first_void = voiding(target, unique)
    second_void = voiding(first_void["id"], unique)
    store_each(lrs, first_void, second_void)
    settle(lrs, second_void["id"])

    assert get_statement(lrs, first_void["id"]).status_code == 200
    assert lrs.get_statements({"voidedStatementId": first_void["id"]}).status_code == 404
    assert lrs.get_statements({"statementId": target}).status_code == 404


def test_lrs_should_not_reject_a_voiding_statement_whose_target_it_does_not_have(lrs, unique):
    """Data 2.3.2.s2.b5: "Upon receiving a Statement that voids another, the LRS SHOULD NOT*
    reject the request on the grounds of the Object of that voiding Statement not being
    present." """
    response = lrs.post_statements(voiding(new_id(), unique))

    assert response.status_code == 200, describe(response)


def test_lrs_must_reject_a_voiding_statement_whose_object_is_not_a_statement_ref(
    lrs, statement, activity
):
    """Data 2.3.2.s2.b1: "When issuing a Statement that voids another, the Object of that voiding
    Statement MUST have the "objectType" property set to StatementRef." """
    bad = with_id({**statement, "verb": {"id": VOIDED}, "object": activity})

    response = lrs.post_statements(bad)

    assert response.status_code == 400, describe(response)
