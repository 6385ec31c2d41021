"""Communication 2.1.3 GET Statements: fetching a single Statement (statementId /
voidedStatementId), and Communication 1.1 HEAD Request Implementation on the Statement Resource.
"""

from __future__ import annotations

import pytest
from support import (
    basic_auth,
    describe,
    fetch,
    get_statement,
    new_id,
    parse_http_date,
    parse_timestamp,
    raw_request,
    store,
    with_id,
)


def test_lrs_must_return_the_statement_requested_by_statement_id(lrs, statement):
    """Communication 2.1.3.s1: "If the statementId or voidedStatementId parameter is specified a
    single Statement is returned." """
    posted = with_id(statement)
    store(lrs, posted)

    response = get_statement(lrs, posted["id"])

    assert response.status_code == 200, describe(response)
    got = response.json()
    assert got["id"] == posted["id"]
    assert (got["actor"], got["verb"], got["object"]) == (
        posted["actor"],
        posted["verb"],
        posted["object"],
    )
    assert "statements" not in got


def test_lrs_must_answer_404_for_a_statement_id_it_does_not_have(lrs):
    """Communication 3.2.s2.b4: "404 Not Found - Indicates the requested resource was not found.
    May be returned by ... the method to retrieve a single Statement." with 3.2.s3.b1: "An LRS
    MUST return the error code most appropriate to the error condition"."""
    response = lrs.get_statements({"statementId": new_id()})

    assert response.status_code == 404, describe(response)


def test_lrs_must_reject_a_request_with_both_statement_id_and_voided_statement_id(lrs, statement):
    """Communication 2.1.3.s2.b1: "The LRS MUST reject with a 400 Bad Request error any requests
    to this resource which contain both statementId and voidedStatementId parameters"."""
    statement_id = store(lrs, statement)[0]

    response = lrs.get_statements({"statementId": statement_id, "voidedStatementId": new_id()})

    assert response.status_code == 400, describe(response)


@pytest.mark.parametrize("single", ["statementId", "voidedStatementId"])
@pytest.mark.parametrize(
    "other",
    [
        {"limit": 1},
        {"ascending": True},
        {"since": "2000-01-01T00:00:00Z"},
        {"verb": "http://adlnet.gov/expapi/verbs/experienced"},
        {"agent": {"mbox": "mailto:someone@example.com"}},
    ],
    ids=lambda p: next(iter(p)),
)
def test_lrs_must_reject_statement_id_or_voided_statement_id_with_any_other_parameter(
    lrs, statement, single, other
):
    """Communication 2.1.3.s2.b2: "The LRS MUST reject with an 400 Bad Request error any requests
    to this resource which contain statementId or voidedStatementId parameters, and also contain
    any other parameter besides "attachments" or "format"." """
    statement_id = store(lrs, statement)[0]

    response = lrs.get_statements({single: statement_id, **other})

    assert response.status_code == 400, describe(response)


def test_lrs_must_accept_statement_id_with_the_attachments_and_format_parameters(lrs, statement):
    """Communication 2.1.3.s2.b2: statementId may be combined with "attachments" or "format"
    (the only parameters the requirement exempts)."""
    statement_id = store(lrs, statement)[0]

    response = get_statement(lrs, statement_id, format="exact", attachments=False)

    assert response.status_code == 200, describe(response)
    assert response.json()["id"] == statement_id


def test_lrs_should_include_a_last_modified_header_matching_the_stored_timestamp(lrs, statement):
    """Communication 2.1.3.s2.b8: "The LRS SHOULD* include a "Last-Modified" header which matches
    the "stored" Timestamp of the Statement." (HTTP dates carry whole seconds.)"""
    statement_id = store(lrs, statement)[0]

    response = get_statement(lrs, statement_id)

    assert response.status_code == 200, describe(response)
    assert "Last-Modified" in response.headers
    last_modified = parse_http_date(response.headers["Last-Modified"])
    stored = parse_timestamp(response.json()["stored"])
    assert abs((last_modified - stored).total_seconds()) < 1


def test_lrs_must_answer_head_for_a_statement_as_it_would_get_without_the_body(lrs, statement):
    """Communication 1.1.s3.b1: "The LRS MUST respond to any HTTP HEAD request as it would have
    responded to an otherwise identical HTTP GET request except: The message-body MUST be
    omitted." """
    statement_id = store(lrs, statement)[0]
    fetch(lrs, statement_id)
    target = f"statements?statementId={statement_id}"
    headers = {
        "X-Experience-API-Version": lrs.version,
        "Authorization": basic_auth(lrs.key, lrs.secret),
    }

    raw = raw_request(lrs, "HEAD", target, headers)

    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    names = {line.split(":", 1)[0].strip().lower() for line in header_lines}
    assert status_line.split()[1] == "200", status_line
    assert "x-experience-api-version" in names
    assert body == b"", f"HEAD response carried a body: {body[:200]!r}"


def test_lrs_must_answer_head_for_a_statement_query_without_a_body(lrs, agent):
    """Communication 1.1.s1: "All resources that support GET requests also support HEAD. The LRS
    will respond to HEAD requests by returning the meta information only, using the HTTP
    headers, and not the actual document." """
    response = lrs.request("HEAD", "statements", params={"agent": agent})

    assert response.status_code == 200, describe(response)
    assert "X-Experience-API-Consistent-Through" in response.headers
    assert response.content == b""


def test_lrs_must_answer_head_for_an_unknown_statement_as_get_would_with_404(lrs):
    """Communication 1.1.s3.b1: HEAD is answered "as it would have responded to an otherwise
    identical HTTP GET request" -- including its status."""
    response = lrs.request("HEAD", "statements", params={"statementId": new_id()})

    assert response.status_code == 404, describe(response)
