"""Communication 1.2 Headers, 1.3 Alternate Request Syntax, 2.1.3 X-Experience-API-Consistent-
Through, 3.3 Versioning, 4.0 Authentication, and cross-origin (CORS) access to the Statement
Resource.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest
from support import (
    CONSISTENT_THROUGH,
    VERSION_HEADER,
    basic_auth,
    describe,
    fetch,
    parse_timestamp,
    query_ids,
    settle,
    store,
    with_id,
)

# -- Communication 3.3 Versioning -----------------------------------------------------------------


def _response(lrs, statement: dict, kind: str):
    """One response of a kind the Statement Resource gives: store, fetch, query or error."""
    put = with_id(statement)
    if kind == "post":
        return lrs.post_statements(with_id(statement))
    if kind == "put":
        return lrs.put_statement(put, put["id"])
    if kind == "get":
        return lrs.get_statements({"statementId": store(lrs, put)[0]})
    if kind == "query":
        return lrs.get_statements({"agent": statement["actor"]})
    if kind == "unversioned":
        return lrs.get_statements({"agent": statement["actor"]}, version=False)
    return lrs.get_statements({"statementId": "not-a-uuid"})


@pytest.mark.parametrize("kind", ["post", "put", "get", "query", "error"])
def test_lrs_must_include_the_version_header_in_every_response(lrs, statement, kind):
    """Communication 3.3.s3.b1: "The LRS MUST include the "X-Experience-API-Version" header in
    every response." """
    response = _response(lrs, statement, kind)

    assert VERSION_HEADER in response.headers, describe(response)


def test_lrs_must_set_the_version_header_to_the_latest_patch_version(lrs, statement):
    """Communication 3.3.s3.b2: "The LRS MUST set this header to the latest patch version." --
    1.0.3 for xAPI 1.0.x, 2.0.0 for xAPI 2.0."""
    response = lrs.post_statements(statement)

    assert response.headers.get(VERSION_HEADER) == lrs.version


def test_lrs_must_reject_a_request_without_a_version_header(lrs, agent):
    """Communication 3.3.s4.b1: "The Client MUST include the "X-Experience-API-Version" header in
    every request." -- the LRS rejects requests that do not, with 400 Bad Request (3.3.s3.b7)."""
    response = lrs.get_statements({"agent": agent}, version=False)

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_storing_a_statement_without_a_version_header(lrs, statement):
    """Communication 3.3.s4.b1 with 3.3.s3.b7: a request without the version header is rejected
    with 400 Bad Request -- and nothing is stored."""
    posted = with_id(statement)

    response = lrs.post_statements(posted, version=False)

    assert response.status_code == 400, describe(response)
    assert lrs.get_statements({"statementId": posted["id"]}).status_code == 404


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_lrs_must_answer_a_request_without_a_version_header_in_the_clients_version(
    lrs, statement, method
):
    """1.0.3 and 2.0 Communication 3.3: "The LRS MUST include the "X-Experience-API-Version"
    header in every response", also on the 400 that refuses a request for having none. Such a
    request names no version, and ADL's two suites want different ones on that very request:
    its 1.0.3 suite requires 1.0.x there (XAPI-00321), its 2.0 suite 2.0.0 (XAPI-00331). The
    LRS answers in the version the same client spoke before; a client it has not heard from
    is answered in 1.0.3."""
    put = with_id(statement)
    params = {"statementId": put["id"]} if method != "POST" else None
    body = None if method == "GET" else put
    assert lrs.get_statements({"limit": 1}).status_code == 200  # the client speaks its version

    response = lrs.request(method, "statements", params=params, json_body=body, version=False)

    assert response.status_code == 400, describe(response)
    assert response.headers.get(VERSION_HEADER) == lrs.version, describe(response)

    stranger = lrs.client.request(
        method,
        lrs.url("statements"),
        params=params,
        json=body,
        auth=("never-seen-" + uuid.uuid4().hex, "secret"),
    )
    assert stranger.status_code == 400, describe(stranger)
    assert stranger.headers.get(VERSION_HEADER) == "1.0.3", describe(stranger)


@pytest.mark.parametrize("header", ["0.9", "0.95"])
def test_lrs_must_reject_a_version_header_prior_to_1_0_0(lrs, agent, header):
    """Communication 3.3.s3.b4: "The LRS MUST reject requests with version header prior to
    version 1.0.0 unless such requests are routed to a fully conformant implementation of the
    prior version specified in the header." and 3.3.s3.b7: "The LRS MUST make these rejects by
    responding with a 400 Bad Request error including a short description of the problem." """
    response = lrs.get_statements({"agent": agent}, headers={VERSION_HEADER: header})

    assert response.status_code == 400, describe(response)
    assert response.content, "the rejection must include a short description"


def test_lrs_must_reject_a_version_header_of_a_later_minor_or_major_version(lrs, agent):
    """Communication 3.3.s3.b6: "The LRS MUST reject requests with a version header of 1.1.0 or
    greater." (xAPI 2.0: versions after 2.0.x) and 3.3.s3.b7 (400 with a short description)."""
    for header in ("2.1.0", "3.0.0") if lrs.is_2_0 else ("1.1.0", "3.0.0"):
        response = lrs.get_statements({"agent": agent}, headers={VERSION_HEADER: header})

        assert response.status_code == 400, describe(response)
        assert response.content, "the rejection must include a short description"


def test_lrs_must_accept_requests_with_a_version_header_starting_with_1_0(lrs, agent):
    """Communication 3.3.s3.b5: "The LRS MUST accept requests with a version header starting with
    1.0. if the request is otherwise valid." and 3.3.s3.b3: "The LRS MUST accept requests with a
    version header of 1.0 as if the version header was 1.0.0." """
    if lrs.is_2_0:
        pytest.skip("1.0.3 only")
    for header in ("1.0", "1.0.0", "1.0.1", "1.0.3"):
        response = lrs.get_statements({"agent": agent}, headers={VERSION_HEADER: header})

        assert response.status_code == 200, f"{header}: {describe(response)}"


def test_lrs_must_accept_requests_with_a_version_header_starting_with_2_0(lrs, agent):
    """xAPI 2.0 (IEEE 9274.1.1), Versioning: the LRS accepts requests whose version header is
    "2.0" or starts with "2.0." if the request is otherwise valid."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    for header in ("2.0", "2.0.0"):
        response = lrs.get_statements({"agent": agent}, headers={VERSION_HEADER: header})

        assert response.status_code == 200, f"{header}: {describe(response)}"


# -- Communication 2.1.3 X-Experience-API-Consistent-Through ----------------------------------


@pytest.mark.parametrize("kind", ["post", "put", "get", "query", "error", "unversioned"])
def test_lrs_must_include_consistent_through_on_all_statement_resource_responses(
    lrs, statement, kind
):
    """Communication 2.1.3.s2.b5: "The LRS MUST include the header
    "X-Experience-API-Consistent-Through", in ISO 8601 combined date and time format, on all
    responses to Statements Resource requests" -- a request refused for having no version header
    included."""
    response = _response(lrs, statement, kind)

    assert CONSISTENT_THROUGH in response.headers, describe(response)
    parse_timestamp(response.headers[CONSISTENT_THROUGH])


def test_consistent_through_must_cover_statements_stored_before_it(lrs, statement, agent):
    """Communication 2.1.3.s2.b5: the header carries "a value of the timestamp for which all
    Statements that have or will have a "stored" property before that time are known with
    reasonable certainty to be available for retrieval." """
    posted = with_id(statement)
    store(lrs, posted)
    settle(lrs, posted["id"])
    stored = parse_timestamp(fetch(lrs, posted["id"])["stored"])

    response = lrs.get_statements({"agent": agent})

    assert parse_timestamp(response.headers[CONSISTENT_THROUGH]) > stored
    assert [s["id"] for s in response.json()["statements"]] == [posted["id"]]


# -- Communication 4.0 Authentication -------------------------------------------------------------


def test_lrs_must_answer_401_to_a_request_without_credentials(lrs, agent):
    """Communication 3.2.s2.b2: "401 Unauthorized - Indicates that authentication is required"
    with 3.2.s3.b1: "An LRS MUST return the error code most appropriate to the error condition"
    (4.0.s3.b1: "The LRS MUST support authentication using at least one of the authentication
    methods defined in this specification.")."""
    response = lrs.get_statements({"agent": agent}, auth=False)

    assert response.status_code == 401, describe(response)


def test_lrs_must_answer_401_to_refused_credentials(lrs, statement):
    """Communication 3.2.s2.b2: "401 Unauthorized - Indicates that ... in the case authentication
    has been posted in the request, that the given credentials have been refused." """
    wrong = basic_auth(lrs.key or "nobody", (lrs.secret or "") + "-wrong")
    posted = with_id(statement)

    response = lrs.post_statements(posted, auth=False, headers={"Authorization": wrong})

    assert response.status_code == 401, describe(response)
    assert lrs.get_statements({"statementId": posted["id"]}).status_code == 404


# -- Communication 1.3 Alternate Request Syntax (xAPI 1.0.3 only) ------------------------------


def changed_name(statement: dict, name: str) -> dict:
    return {**statement, "actor": {**statement["actor"], "name": name}}


def _alternate(lrs, method: str, form: dict[str, str]):
    """POST `form` to statements?method=`method`, headers and credentials in the form only."""
    fields = {
        "Authorization": basic_auth(lrs.key, lrs.secret),
        VERSION_HEADER: lrs.version,
        **form,
    }
    return lrs.client.post(
        lrs.url("statements"),
        params={"method": method},
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_lrs_must_support_put_through_the_alternate_request_syntax(lrs, statement):
    """Communication 1.3.s3.b15: "The LRS MUST support the syntax above." -- method=PUT in the
    query string (1.3.s3.b2), the Statement as the "content" form parameter (1.3.s3.b4), and
    Authorization, X-Experience-API-Version and Content-Type as form parameters the LRS "MUST
    treat ... as header parameters" (1.3.s3.b7)."""
    if lrs.is_2_0:
        pytest.skip("1.0.3 only")
    put = with_id(statement)

    response = _alternate(
        lrs,
        "PUT",
        {"statementId": put["id"], "Content-Type": "application/json", "content": json.dumps(put)},
    )

    assert response.status_code == 204, describe(response)
    assert fetch(lrs, put["id"])["actor"] == put["actor"]


def test_lrs_must_support_post_through_the_alternate_request_syntax(lrs, statement):
    """Communication 1.3.s3.b15: "The LRS MUST support the syntax above." with 1.3.s3.b5: "The
    LRS MUST interpret this content as a UTF-8 string." """
    if lrs.is_2_0:
        pytest.skip("1.0.3 only")
    posted = with_id(changed_name(statement, "Zoë Ünïcode"))

    response = _alternate(
        lrs, "POST", {"Content-Type": "application/json", "content": json.dumps(posted)}
    )

    assert response.status_code == 200, describe(response)
    assert response.json() == [posted["id"]]
    assert fetch(lrs, posted["id"])["actor"]["name"] == "Zoë Ünïcode"


def test_lrs_must_support_get_through_the_alternate_request_syntax(lrs, statement, agent):
    """Communication 2.1.2.s2.b2: "GET Statements MAY be called using POST and form parameters if
    necessary as query strings have limits." and 1.3.s3.b14: "The LRS MUST treat any form
    parameters other than "content" or the header parameters listed above as query string
    parameters." """
    if lrs.is_2_0:
        pytest.skip("1.0.3 only")
    statement_id = store(lrs, statement)[0]
    settle(lrs, statement_id)

    response = _alternate(lrs, "GET", {"agent": json.dumps(agent)})

    assert response.status_code == 200, describe(response)
    assert [s["id"] for s in response.json()["statements"]] == [statement_id]


def test_lrs_should_reject_a_form_encoded_request_without_the_method_parameter(lrs, statement):
    """Communication 3.2.s3.b6: "If the content type is application/x-www-form-urlencoded it is
    expected that the request will include a method parameter as outlined in Alternate Request
    Syntax." (the LRS "SHOULD* reject any request with 400 Bad Request status where ... the
    structure of the request does not match the structure outlined in this specification")."""
    if lrs.is_2_0:
        pytest.skip("1.0.3 only")
    posted = with_id(statement)
    form = urlencode({"content": json.dumps(posted), "Content-Type": "application/json"})

    response = lrs.request(
        "POST",
        "statements",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400, describe(response)


def test_lrs_rejects_alternate_request_syntax_under_2_0_in_any_form(lrs, statement):
    """xAPI 2.0 (IEEE 9274.1.1) removed Alternate Request Syntax (xAPI 1.0.3 Communication 1.3):
    a 2.0 request with a "method" query parameter does "not match the structure outlined in this
    specification" (Communication 3.2: 400 Bad Request) -- whether it carries the form or not,
    and whatever method it names."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    put = with_id(statement)
    form = urlencode({"statementId": put["id"], "content": json.dumps(put)})
    cases = [
        ("POST", "GET", "application/json", ""),
        ("POST", "PUT", "application/json", ""),
        ("POST", "PUT", "application/x-www-form-urlencoded", form),
        ("PUT", "POST", "application/json", json.dumps(with_id(statement))),
    ]
    for method, alternate, content_type, body in cases:
        response = lrs.request(
            method,
            "statements",
            params={"method": alternate},
            content=body,
            headers={"Content-Type": content_type},
        )

        assert response.status_code == 400, (method, alternate, content_type, describe(response))
    assert lrs.get_statements({"statementId": put["id"]}).status_code == 404


def test_lrs_rejects_a_2_0_version_given_as_an_alternate_request_syntax_form_field(lrs, statement):
    """xAPI 2.0 removed Alternate Request Syntax, so a form that names version 2.0.0 in its
    X-Experience-API-Version field (which 1.0.3 treats as the header, Communication 1.3.s3.b7)
    is a 2.0 request using a syntax 2.0 does not have: 400 Bad Request."""
    posted = with_id(statement)
    fields = {
        "Authorization": basic_auth(lrs.key, lrs.secret),
        VERSION_HEADER: "2.0.0",
        "Content-Type": "application/json",
        "content": json.dumps(posted),
    }

    response = lrs.client.post(
        lrs.url("statements"),
        params={"method": "POST"},
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400, describe(response)
    assert lrs.get_statements({"statementId": posted["id"]}).status_code == 404


# -- Cross-origin requests --------------------------------------------------------------------


ORIGIN = "http://content.example.com"


def test_lrs_must_answer_a_cors_preflight_for_the_statement_resource(lrs):
    """Communication 1.3.s1: "One of the goals of the xAPI is to allow cross-domain tracking" --
    browsers ask first with a CORS preflight (no credentials, no xAPI headers), which must allow
    the method and the xAPI request headers."""
    response = lrs.client.request(
        "OPTIONS",
        lrs.url("statements"),
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type,x-experience-api-version",
        },
    )

    assert response.status_code in (200, 204), describe(response)
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)
    methods = response.headers.get("Access-Control-Allow-Methods", "").upper()
    assert "PUT" in methods
    allowed = response.headers.get("Access-Control-Allow-Headers", "").lower()
    for header in ("authorization", "content-type", "x-experience-api-version"):
        assert header in allowed or allowed == "*", header


def test_lrs_must_allow_cross_origin_reads_of_statements(lrs, agent):
    """Communication 1.3.s1 (cross-domain tracking): a cross-origin GET from a browser is answered
    with an Access-Control-Allow-Origin that lets the page read the result."""
    response = lrs.get_statements({"agent": agent}, headers={"Origin": ORIGIN})

    assert response.status_code == 200, describe(response)
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)


# -- Communication 1.4 Encoding -------------------------------------------------------------------


def test_lrs_must_encode_and_interpret_all_strings_as_utf_8(lrs, statement, agent):
    """Communication 1.4.s1.b1: "All strings MUST be encoded and interpreted as UTF-8." """
    name = "学習者 Zoë 🎓"
    posted = with_id(changed_name(statement, name))
    store(lrs, posted)
    settle(lrs, posted["id"])

    assert fetch(lrs, posted["id"])["actor"]["name"] == name
    assert query_ids(lrs, {"agent": {"mbox": agent["mbox"]}}) == [posted["id"]]
