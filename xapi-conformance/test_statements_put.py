"""Communication 2.1.1 PUT Statements.

Stores a single Statement with the given id. Returns `204 No Content`. Parameter `statementId`
(Required): Id of Statement to record.
"""

from __future__ import annotations

from support import absent, describe, fetch, new_id, verb, with_id


def test_lrs_must_store_a_put_statement_and_return_204_no_content(lrs, statement):
    """Communication 2.1.1.s1: "Stores a single Statement with the given id. ... Returns:
    204 No Content"."""
    put = with_id(statement)

    response = lrs.put_statement(put, put["id"])

    assert response.status_code == 204, describe(response)
    assert not response.content
    assert fetch(lrs, put["id"])["id"] == put["id"]


def test_lrs_must_reject_a_put_without_the_statement_id_parameter(lrs, statement):
    """Communication 2.1.1.s1.table1.row1: "statementId ... Id of Statement to record ...
    Required" -- a missing required argument is a 400 Bad Request (Communication 3.2.s2.b1)."""
    put = with_id(statement)

    response = lrs.request("PUT", "statements", json_body=put)

    assert response.status_code == 400, describe(response)
    assert absent(lrs, put["id"])


def test_lrs_must_reject_a_put_whose_statement_id_differs_from_the_statement_id_property(
    lrs, statement
):
    """Communication 2.1.1.s3.b3: "Where provided, the "id" property of the Statement MUST match
    the "statementId" parameter of the request." """
    put = with_id(statement)
    other = new_id()

    response = lrs.put_statement(put, other)

    assert response.status_code == 400, describe(response)
    assert absent(lrs, other)
    assert absent(lrs, put["id"])


def test_lrs_must_store_a_put_statement_without_id_under_the_statement_id_parameter(lrs, statement):
    """Communication 2.1.1.s3.b2: "When PUTing Statements, the "id" property of the Statement
    SHOULD be used." -- so it may be left out, and the Statement is stored "with the given id"
    (2.1.1.s1)."""
    statement_id = new_id()

    response = lrs.put_statement(statement, statement_id)

    assert response.status_code == 204, describe(response)
    assert fetch(lrs, statement_id)["id"] == statement_id


def test_lrs_must_reject_a_put_whose_statement_id_is_not_a_uuid(lrs, statement):
    """Data 2.2.s4.b4: "The LRS MUST validate parameter values to the same standards required
    for values of the same types in Statements." -- statementId is a UUID (Data 4.4)."""
    response = lrs.put_statement(statement, "not-a-uuid")

    assert response.status_code == 400, describe(response)


def test_lrs_must_not_modify_a_statement_when_put_one_with_an_existing_id(lrs, statement, unique):
    """Communication 2.1.1.s2.b2: "An LRS MUST NOT make any modifications to its state based on
    receiving a Statement with a statementId that it already has a Statement for. Whether it
    responds with 409 Conflict or 204 No Content, it MUST NOT modify the Statement or any other
    Object." """
    original = with_id(statement)
    assert lrs.put_statement(original, original["id"]).status_code == 204

    lrs.put_statement({**original, "verb": verb(unique, "changed")}, original["id"])

    assert fetch(lrs, original["id"])["verb"]["id"] == original["verb"]["id"]


def test_lrs_should_return_409_conflict_for_a_put_id_it_has_with_different_content(
    lrs, statement, unique
):
    """Communication 2.1.1.s2.b3: "If the LRS receives a Statement with an id it already has a
    Statement for, it SHOULD verify the received Statement matches the existing one and SHOULD
    return 409 Conflict if they do not match." """
    original = with_id(statement)
    assert lrs.put_statement(original, original["id"]).status_code == 204

    response = lrs.put_statement({**original, "verb": verb(unique, "changed")}, original["id"])

    assert response.status_code == 409, describe(response)


def test_lrs_must_answer_204_to_a_repeated_put_of_an_identical_statement(lrs, statement):
    """Communication 2.1.1.s2.b2: "Whether it responds with 409 Conflict or 204 No Content, it
    MUST NOT modify the Statement" -- and 409 is for Statements that "do not match" (2.1.1.s2.b3),
    so the same Statement again is answered 204."""
    original = with_id(statement)
    assert lrs.put_statement(original, original["id"]).status_code == 204

    response = lrs.put_statement(original, original["id"])

    assert response.status_code == 204, describe(response)
