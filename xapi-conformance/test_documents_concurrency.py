"""Concurrency of the Document Resources: xAPI 1.0.3 Communication 3.1; IEEE 9274.1.1 (xAPI 2.0)
4.1.4.

Where the versions part:
- 1.0.3 3.1.s3: "The State Resource will permit PUT, POST and DELETE requests without concurrency
  headers"; 2.0 4.1.4 drops that sentence, so a PUT without If-Match/If-None-Match on an existing
  State document is a 409 there, as for the profiles.
- 1.0.3 makes POST/DELETE precondition handling SHOULD*; 2.0 makes If-Match on PUT, POST and
  DELETE a "shall". Both are checked on both versions (the working group asks SHOULD* to be
  implemented "as though they were MUST requirements").
- The ETag as SHA-1 of the contents is 1.0.3 only; If-None-Match on POST is named by 1.0.3 only.
"""

from __future__ import annotations

import re

import pytest
from documents_support import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    DOCUMENT_RESOURCES,
    STATE,
    WRONG_ETAG,
    Document,
    document_of,
    only_1_0_3,
    only_2_0,
    sha1_hex,
)

QUOTED_ETAG = re.compile(r'^(W/)?"[^"]*"$')


def _title(resource) -> str:
    return resource.title.lower().replace(" ", "-")


@pytest.fixture(params=DOCUMENT_RESOURCES, ids=_title)
def doc(request, lrs, unique, agent, activity) -> Document:
    return document_of(request.param, lrs, unique, agent, activity)


@pytest.fixture(params=[ACTIVITY_PROFILE, AGENT_PROFILE], ids=_title)
def profile(request, lrs, unique, agent, activity) -> Document:
    return document_of(request.param, lrs, unique, agent, activity)


@pytest.fixture
def state(lrs, unique, agent, activity) -> Document:
    return document_of(STATE, lrs, unique, agent, activity)


def stale_etag(doc: Document) -> str:
    """Store version 1, remember its ETag, then store version 2: the ETag is now stale."""
    doc.create({"version": 1})
    old = doc.etag()
    response = doc.put({"version": 2}, headers={"If-Match": old})
    assert response.status_code == 204, response.text
    return old


# --- ETag on GET (1.0.3 3.1.s4.b1-b4; 2.0 4.1.4) ------------------------------------------------


def test_get_of_a_document_carries_an_etag_header(doc):
    """1.0.3 3.1.s4.b1 / 2.0 4.1.4: "An LRS responding to a GET request MUST add an ETag HTTP
    header to the response." """
    doc.create()
    assert doc.get().headers.get("ETag")


def test_get_of_a_list_of_document_ids_carries_an_etag_header(doc):
    """2.0 4.1.4 (and 1.0.3 3.1.s4.b1): "An LRS responding to a GET request shall add an ETag
    HTTP header to the response." -- read literally, the GET of a list of ids too."""
    doc.create()
    response = doc.list_ids()
    assert response.status_code == 200, response.text
    assert QUOTED_ETAG.match(response.headers.get("ETag", ""))


def test_etag_is_enclosed_in_quotes(doc):
    """1.0.3 3.1.s4.b4: "As defined in RFC 2616, an LRS responding to a GET request MUST enclose
    the header in quotes." """
    doc.create()
    assert QUOTED_ETAG.match(doc.etag())


def test_etag_is_the_sha1_hex_digest_of_the_contents(lrs, doc):
    """1.0.3 3.1.s4.b2: "An LRS responding to a GET request without using a transfer encoding or
    using the identity transfer encoding MUST calculate the value of the ETag header to be a
    hexadecimal string of the SHA-1 digest of the contents." """
    only_1_0_3(lrs, "2.0 4.1.4 no longer prescribes how the ETag is calculated")
    doc.create(b"exactly these bytes", content_type="application/octet-stream")
    response = doc.get(headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert response.headers["ETag"].strip('"').lower() == sha1_hex(response.content)


def test_etag_changes_when_the_document_changes(doc):
    """1.0.3 3.1.s2 / 2.0 4.1.4: ETags "implement optimistic concurrency control ... where PUT,
    POST or DELETE are allowed to overwrite or remove existing data": a changed document has a
    new ETag."""
    doc.create({"a": 1})
    before = doc.etag()
    assert doc.post({"b": 2}).status_code == 204
    assert doc.etag() != before


# --- PUT with If-Match / If-None-Match (1.0.3 3.1.s4.b5-b10; 2.0 4.1.4) -------------------------


def test_put_with_if_match_of_the_current_etag_replaces_the_document(doc):
    """1.0.3 3.1.s4.b5: "An LRS responding to a PUT request MUST handle the "If-Match" header as
    described in RFC2616, HTTP 1.1 if it contains an ETag"; a matching ETag lets the PUT through."""
    doc.create({"version": 1})
    response = doc.put({"version": 2}, headers={"If-Match": doc.etag()})
    assert response.status_code == 204, response.text
    assert doc.json() == {"version": 2}


def test_put_with_if_match_of_a_stale_etag_is_rejected_with_412_and_changes_nothing(doc):
    """1.0.3 3.1.s4.b5, b9-b10 / 2.0 4.1.4: "If the header precondition ... fails, the LRS: MUST
    return HTTP status 412 Precondition Failed. MUST NOT make a modification to the resource." """
    old = stale_etag(doc)
    assert doc.put({"version": 3}, headers={"If-Match": old}).status_code == 412
    assert doc.json() == {"version": 2}


def test_put_with_if_match_naming_the_current_etag_among_others_replaces_the_document(doc):
    """1.0.3 3.1.s4.b5: handle If-Match "as described in RFC2616": "If any of the entity tags
    match the entity tag of the entity that would have been returned in the response to a similar
    GET request ... the server MAY perform the requested method" (RFC 2616 14.24)."""
    doc.create({"version": 1})
    tags = f"{WRONG_ETAG}, {doc.etag()}"
    assert doc.put({"version": 2}, headers={"If-Match": tags}).status_code == 204
    assert doc.json() == {"version": 2}


def test_put_with_if_match_on_a_document_that_does_not_exist_is_rejected_with_412(doc):
    """1.0.3 3.1.s4.b5 + RFC 2616 14.24: "if none of the entity tags match ... the server MUST NOT
    perform the requested method, and MUST return a 412 (Precondition Failed) response"."""
    assert doc.put({"version": 1}, headers={"If-Match": WRONG_ETAG}).status_code == 412
    assert doc.get().status_code == 404


def test_put_with_if_none_match_star_on_an_existing_document_is_rejected_with_412(doc):
    """1.0.3 3.1.s4.b6: "An LRS responding to a PUT request MUST handle the "If-None-Match" header
    as described in RFC2616, HTTP 1.1 if it contains "*", in order to to detect when there is a
    resource present that the Client is not aware of."; b9-b10: 412, no modification. (2.0 4.1.1
    still has the LRS "implement and validate" If-None-Match.)"""
    doc.create({"version": 1})
    assert doc.put({"version": 2}, headers={"If-None-Match": "*"}).status_code == 412
    assert doc.json() == {"version": 1}


def test_put_with_if_none_match_star_on_a_missing_document_stores_it(doc):
    """1.0.3 3.1.s4.b6: If-None-Match "*" only fails "when there is a resource present"."""
    response = doc.put({"fresh": True}, headers={"If-None-Match": "*"})
    assert response.status_code == 204, response.text
    assert doc.json() == {"fresh": True}


# --- PUT without either header (1.0.3 3.1.s4.b13-b15; 2.0 4.1.4) --------------------------------


def test_put_without_precondition_headers_on_an_existing_profile_is_rejected_with_409(profile):
    """1.0.3 3.1.s4.b13-b15 / 2.0 4.1.4: "If a PUT request is received without either header for
    a resource that already exists, the LRS: MUST return HTTP status 409 Conflict. MUST return a
    response explaining that the Learning Record Provider SHOULD check the current state of the
    resource [and] set the "If-Match" header ... MUST NOT make a modification to the resource." """
    profile.create({"version": 1})
    response = profile.put({"version": 2})
    assert response.status_code == 409
    assert response.text.strip(), "the 409 must explain how to resolve the conflict"
    assert profile.json() == {"version": 1}


def test_put_without_precondition_headers_on_a_new_profile_is_rejected_with_400(lrs, profile):
    """1.0.3 3.1.s3: "A Learning Record Provider making a PUT request to either the Agent Profile
    Resource or Activity Profile Resource MUST include the "If-Match" header or the
    "If-None-Match" header" -- a request breaking it is a Bad Request even when there is no
    document yet (ADL's 1.0.3 suite, XAPI-00273 and XAPI-00287: "fails without ETag header").
    ADL's 2.0 suite dropped the check, so 2.0 is not held to it here."""
    only_1_0_3(lrs, "ADL's 2.0 suite no longer refuses a header-less PUT of a new profile")
    response = profile.put({"version": 1})
    assert response.status_code == 400, response.text
    assert profile.get().status_code == 404


def test_put_without_precondition_headers_on_an_existing_state_is_rejected_with_409(lrs, state):
    """2.0 4.1.4 lists the State Resource among the concurrency-controlled resources and no longer
    exempts it: "If a PUT request is received without either header for a resource that already
    exists, the LRS shall return HTTP status 409 Conflict ... shall not make a modification"."""
    only_2_0(lrs, "1.0.3 3.1.s3 lets State PUTs go without concurrency headers")
    state.create({"version": 1})
    response = state.put({"version": 2})
    assert response.status_code == 409
    assert response.text.strip(), "the 409 must explain how to resolve the conflict"
    assert state.json() == {"version": 1}


def test_state_permits_put_without_concurrency_headers(lrs, state):
    """1.0.3 3.1.s3: "The State Resource will permit PUT, POST and DELETE requests without
    concurrency headers, since state conflicts are unlikely." """
    only_1_0_3(lrs, "2.0 4.1.4 applies the 409 rule to the State Resource too")
    state.create({"version": 1})
    assert state.put({"version": 2}).status_code == 204
    assert state.json() == {"version": 2}


def test_state_permits_post_and_delete_without_concurrency_headers(state):
    """1.0.3 3.1.s3: "The State Resource will permit PUT, POST and DELETE requests without
    concurrency headers". (2.0 asks for 409 on PUT only, so POST and DELETE still pass.)"""
    state.create({"a": 1})
    assert state.post({"b": 2}).status_code == 204
    assert state.json() == {"a": 1, "b": 2}
    assert state.delete().status_code == 204
    assert state.get().status_code == 404


# --- POST and DELETE with preconditions (1.0.3 3.1.s4.b7-b8, b11-b12; 2.0 4.1.4) ----------------


def test_post_with_if_match_of_the_current_etag_merges(doc):
    """1.0.3 3.1.s4.b7: "An LRS responding to a POST or DELETE request SHOULD* handle the
    "If-Match" header as described in RFC2616"; 2.0 4.1.4: "shall handle"."""
    doc.create({"a": 1})
    assert doc.post({"b": 2}, headers={"If-Match": doc.etag()}).status_code == 204
    assert doc.json() == {"a": 1, "b": 2}


def test_post_with_if_match_of_a_stale_etag_is_rejected_with_412_and_changes_nothing(doc):
    """1.0.3 3.1.s4.b11-b12: "If the header precondition in any of the POST or DELETE request cases
    above fails, the LRS: SHOULD* return HTTP status 412 Precondition Failed. SHOULD* NOT make a
    modification to the resource."; 2.0 4.1.4: "shall return ... 412", "shall not make a
    modification"."""
    old = stale_etag(doc)
    assert doc.post({"extra": True}, headers={"If-Match": old}).status_code == 412
    assert doc.json() == {"version": 2}


def test_post_with_if_none_match_star_on_an_existing_document_is_rejected_with_412(lrs, doc):
    """1.0.3 3.1.s4.b8: "An LRS responding to a POST request SHOULD* handle the "If-None-Match"
    header as described in RFC2616, HTTP 1.1 if it contains "*""; b11-b12: 412, no change."""
    only_1_0_3(lrs, "2.0 4.1.4 names only If-Match for POST")
    doc.create({"a": 1})
    assert doc.post({"b": 2}, headers={"If-None-Match": "*"}).status_code == 412
    assert doc.json() == {"a": 1}


def test_delete_with_if_match_of_the_current_etag_deletes_the_document(doc):
    """1.0.3 3.1.s4.b7 / 2.0 4.1.4: the LRS handles If-Match on DELETE; a matching ETag lets the
    DELETE through."""
    doc.create()
    assert doc.delete(headers={"If-Match": doc.etag()}).status_code == 204
    assert doc.get().status_code == 404


def test_delete_with_if_match_of_a_stale_etag_is_rejected_with_412_and_deletes_nothing(doc):
    """1.0.3 3.1.s4.b11-b12 (SHOULD*) / 2.0 4.1.4 (shall): a failed If-Match on DELETE is a 412
    and the document stays."""
    old = stale_etag(doc)
    assert doc.delete(headers={"If-Match": old}).status_code == 412
    assert doc.json() == {"version": 2}
