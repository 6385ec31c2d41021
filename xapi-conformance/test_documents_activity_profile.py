"""Activity Profile Resource: xAPI 1.0.3 Communication 2.7 (with 2.2 Document Resources);
IEEE 9274.1.1 (xAPI 2.0) 4.1.6.6.

Concurrency (ETag, If-Match, If-None-Match, 409) lives in test_documents_concurrency.py.
Documents are created with `If-None-Match: *`, as 1.0.3 3.1.s3.b1 asks of Clients.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from documents_support import (
    NOT_A_TIMESTAMP,
    NOT_AN_IRI,
    NOT_JSON,
    Document,
    activity_profile_document,
    basic_auth,
    http_date,
    media_type,
    only_1_0_3,
    server_clock,
    wait_past_a_second,
    with_param,
    xapi_timestamp,
)

ALL_METHODS = ["PUT", "POST", "GET", "DELETE"]
PATH = "activities/profile"


@pytest.fixture
def doc(lrs, unique, activity) -> Document:
    return activity_profile_document(lrs, unique, activity)


def ids_of(doc: Document, **extra) -> list[str]:
    response = doc.list_ids(**extra)
    assert response.status_code == 200, response.text
    ids = response.json()
    assert isinstance(ids, list), f"expected an array of profile ids, got {ids!r}"
    return ids


# --- Single Document PUT | POST | GET | DELETE (1.0.3 2.7.s3; 2.0 4.1.6.6) ---------------------


def test_put_stores_the_profile_document_and_returns_204(doc):
    """1.0.3 2.7.s3: "Stores, changes, fetches, or deletes the specified profile document in the
    context of the specified Activity. Returns (PUT | POST | DELETE) 204 No Content; Returns
    (GET): 200 OK, the profile document"."""
    response = doc.put({"rubric": "v1"}, headers={"If-None-Match": "*"})
    assert response.status_code == 204, response.text
    fetched = doc.get()
    assert fetched.status_code == 200
    assert fetched.json() == {"rubric": "v1"}


def test_post_of_a_document_not_yet_stored_stores_it_as_put_would(doc):
    """1.0.3 2.7.s3 / 2.0 4.1.6.6, POST: "Stores/updates a single document with the given id.
    Returns: 204 No Content" (ADL: a POST for a document not in the LRS is treated as a PUT)."""
    response = doc.post({"rubric": "v1"})
    assert response.status_code == 204, response.text
    assert doc.json() == {"rubric": "v1"}


def test_delete_deletes_the_profile_document_and_returns_204(doc):
    """1.0.3 2.7.s3: "... or deletes the specified profile document ... Returns (DELETE) 204 No
    Content"; a later GET of it finds nothing."""
    doc.create()
    assert doc.delete().status_code == 204
    assert doc.get().status_code == 404


def test_get_of_a_profile_document_that_does_not_exist_returns_404(doc):
    """1.0.3 3.2.s2.b4: "404 Not Found ... May be returned by ... any ... Activity Profile Resource
    request targeting a specific document"; 3.2.s3.b1: "An LRS MUST return the error code most
    appropriate to the error condition"."""
    assert doc.get().status_code == 404


def test_documents_are_accepted_for_activities_the_lrs_has_never_seen(doc):
    """1.0.3 2.2.s4.b2 / 2.0 4.1.6: "The LRS MUST NOT reject documents on the basis of not
    having prior knowledge of the Activity and/or Agent." """
    assert doc.post({"first": True}).status_code == 204
    assert doc.get().status_code == 200


def test_profile_documents_belong_to_their_activity(doc, unique):
    """1.0.3 2.7.s3: the document is stored "in the context of the specified Activity"; the same
    profileId under another Activity is another (here: absent) document."""
    doc.create()
    other = doc.elsewhere(activityId=f"http://example.com/activities/other-{unique}")
    assert other.get().status_code == 404
    assert ids_of(other) == []


# --- Multiple Document GET (1.0.3 2.7.s4; 2.0 4.1.6.6) ------------------------------------------


def test_get_without_profile_id_returns_the_array_of_profile_ids_of_the_activity(doc):
    """1.0.3 2.7.s4: "Fetches profile ids of all profile entries for an Activity. Returns: 200 OK,
    Array of profile id(s)"."""
    second = doc.sibling(doc.doc_id + "-b")
    doc.create()
    second.create()
    assert sorted(ids_of(doc)) == sorted([doc.doc_id, second.doc_id])


def test_get_without_profile_id_for_an_activity_without_profiles_returns_an_empty_array(doc):
    """1.0.3 2.7.s4: "Returns: 200 OK, Array of profile id(s)" - for no profiles, an empty one."""
    assert ids_of(doc) == []


def test_get_without_profile_id_with_since_returns_only_ids_stored_after_since(doc):
    """1.0.3 2.7.s4: "If "since" parameter is specified, this is limited to entries that have been
    stored or updated since the specified Timestamp (exclusive)." """
    before = doc.sibling(doc.doc_id + "-before")
    after = doc.sibling(doc.doc_id + "-after")
    since = server_clock(before.create()) + timedelta(seconds=1)
    wait_past_a_second()
    after.create()
    assert ids_of(doc, since=xapi_timestamp(since)) == [after.doc_id]


def test_get_with_since_that_is_not_a_timestamp_is_rejected_with_400(doc):
    """1.0.3 2.7.s4 table: since is a "Timestamp"; 3.2.s2.b1: "400 Bad Request - Indicates an
    error condition caused by an invalid or missing argument"."""
    assert doc.list_ids(since=NOT_A_TIMESTAMP).status_code == 400


# --- Parameters (1.0.3 2.7.s3 table, 3.2; 2.0 4.1.6) -------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_request_without_activity_id_is_rejected_with_400(doc, method):
    """1.0.3 2.7.s3 table: activityId is Required; 3.2.s2.b1 (missing argument → 400)."""
    assert doc.send(method, with_param(doc.params, activityId=None)).status_code == 400


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_put_post_or_delete_without_profile_id_is_rejected_with_400(doc, method):
    """1.0.3 2.7.s3 table: profileId is Required for PUT | POST | DELETE; 3.2.s2.b1."""
    assert doc.send(method, with_param(doc.params, profileId=None)).status_code == 400


@pytest.mark.parametrize("method", ALL_METHODS)
def test_activity_id_that_is_not_an_iri_is_rejected_with_400(doc, method):
    """1.0.3 2.7.s3 table: activityId is an "Activity id (IRI)"; 2.0 4.1.6: "The LRS shall reject
    Requests where parameters are ... with any non-format-following ... value ... where a string
    with a particular format (such as ... IRI) is required"."""
    assert doc.send(method, with_param(doc.params, activityId=NOT_AN_IRI)).status_code == 400


def test_unrecognised_parameter_is_rejected_with_400(doc):
    """1.0.3 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters which the LRS does not recognize in their intended context". An Agent does not
    name an Activity Profile."""
    agent = {"mbox": "mailto:not-a-param-here@example.com"}
    assert doc.send("GET", {**doc.params, "agent": agent}).status_code == 400


def test_parameter_matching_a_spec_parameter_in_all_but_case_is_rejected_with_400(doc):
    """1.0.3 3.2.s3.b8: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters matching parameters described in this specification in all but case." """
    params = with_param(doc.params, profileId=None)
    assert doc.send("GET", {**params, "ProfileId": doc.doc_id}).status_code == 400


# --- JSON merge on POST (1.0.3 2.2.s7-s8; 2.0 4.1.6.6) ------------------------------------------


def test_post_of_json_onto_existing_json_merges_top_level_properties_with_204(doc):
    """1.0.3 2.2.s7: "When an LRS receives a POST request with content type application/json for
    an existing document also of content type application/json, it MUST merge the posted document
    with the existing document"; 2.2.s8.b2: "If the merge is successful, the LRS MUST respond
    with HTTP status code 204 No Content." """
    doc.create({"x": "foo", "y": "bar"})
    assert doc.post({"x": "bash", "z": "faz"}).status_code == 204
    assert doc.json() == {"x": "bash", "y": "bar", "z": "faz"}


def test_merge_replaces_a_top_level_object_whole_instead_of_merging_into_it(doc):
    """1.0.3 2.2.s7: "only top-level properties are merged, even if a top-level property is an
    Object. The entire contents of each original property are replaced with the entire contents
    of each new property." """
    doc.create({"levels": {"easy": 1, "hard": 3}, "name": "quiz"})
    assert doc.post({"levels": {"hard": 5}}).status_code == 204
    assert doc.json() == {"levels": {"hard": 5}, "name": "quiz"}


def test_post_of_a_non_json_document_onto_a_json_document_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "If the document being posted or any existing document does not have a
    Content-Type of application/json ... the LRS MUST respond with HTTP status code 400 Bad
    Request, and MUST NOT update the target document as a result of the request." """
    doc.create({"kept": True})
    assert doc.post("plain words", content_type="text/plain").status_code == 400
    assert doc.json() == {"kept": True}


def test_post_of_json_onto_a_non_json_document_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "If ... any existing document does not have a Content-Type of
    application/json ... 400 Bad Request, and MUST NOT update the target document"."""
    doc.create("plain words", content_type="text/plain")
    assert doc.post({"merge": "me"}).status_code == 400
    assert doc.get().content == b"plain words"


def test_post_of_malformed_json_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "if either document cannot be parsed as a JSON Object, the LRS MUST
    respond with HTTP status code 400 Bad Request, and MUST NOT update the target document"."""
    doc.create({"kept": True})
    assert doc.post(NOT_JSON).status_code == 400
    assert doc.json() == {"kept": True}


def test_post_of_malformed_json_for_a_document_not_yet_stored_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "If the document being posted ... cannot be parsed as a JSON Object, the
    LRS MUST respond with HTTP status code 400 Bad Request, and MUST NOT update the target
    document" -- also when no document is stored yet (ADL XAPI-00314)."""
    assert doc.post(NOT_JSON).status_code == 400
    assert doc.get().status_code == 404


def test_post_of_json_that_is_not_an_object_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "... or if either document cannot be parsed as a JSON Object ... 400"."""
    doc.create({"kept": True})
    assert doc.post('"just a string"').status_code == 400
    assert doc.json() == {"kept": True}


# --- Content types (1.0.3 1.5, 2.2.s2; 2.0 4.1.3) -----------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/octet-stream", bytes(range(255, -1, -1))),
        ("text/csv", b"level,score\nhard,5\n"),
    ],
    ids=["binary", "csv"],
)
def test_any_content_type_is_stored_and_returned_unchanged_with_its_content_type(
    doc, content_type, content
):
    """1.0.3 1.5.b1: "Documents can have any content type."; 2.2.s2: contents are "Arbitrary
    binary data". The GET returns exactly the bytes stored, labelled with the type they had."""
    doc.create(content, content_type=content_type)
    fetched = doc.get()
    assert fetched.status_code == 200
    assert fetched.content == content
    assert media_type(fetched) == content_type


# --- Last-Modified (1.0.3 2.2.s5-s6; 2.0 4.1.6.6) -----------------------------------------------


def test_single_document_get_includes_last_modified(doc):
    """1.0.3 2.2.s6.b1: "When returning a single document, the LRS SHOULD* include a
    "Last-Modified" header indicating when the document was last modified."; 2.0 4.1.6.6: "The
    LRS shall include a "Last-Modified" header"."""
    stored_at = server_clock(doc.create())
    assert abs(http_date(doc.get(), "Last-Modified") - stored_at) <= timedelta(seconds=2)


def test_last_modified_advances_when_the_document_is_updated(doc):
    """1.0.3 2.2.s6.b1: Last-Modified indicates "when the document was last modified"."""
    doc.create({"v": 1})
    first = http_date(doc.get(), "Last-Modified")
    wait_past_a_second()
    assert doc.post({"v": 2}).status_code == 204
    assert http_date(doc.get(), "Last-Modified") > first


def test_multiple_document_get_last_modified_is_that_of_the_latest_document(lrs, doc):
    """1.0.3 2.2.s6.b2: "When returning multiple documents, the LRS SHOULD* include a
    "Last-Modified" header indicating when the most recently modified document was last
    modified." """
    only_1_0_3(lrs, "2.0 states no Last-Modified for the Multiple Document GET")
    doc.sibling(doc.doc_id + "-older").create()
    wait_past_a_second()
    doc.create()
    latest = http_date(doc.get(), "Last-Modified")
    assert http_date(doc.list_ids(), "Last-Modified") == latest


# --- Versioning and authentication (1.0.3 3.3, 4.0; 2.0 4.1.7, 4.1.8) ---------------------------


def test_request_without_version_header_is_rejected_with_400(doc):
    """1.0.3 3.3.s4.b1: "The Client MUST include the "X-Experience-API-Version" header in every
    request."; 2.0 4.1.1: the LRS "shall implement and validate" it; rejects are 400."""
    assert doc.lrs.request("GET", PATH, params=doc.params, version=False).status_code == 400


def test_request_without_credentials_is_rejected_with_401(doc):
    """1.0.3 3.2.s2.b2: "401 Unauthorized - Indicates that authentication is required"."""
    assert doc.lrs.request("GET", PATH, params=doc.params, auth=False).status_code == 401


def test_request_with_refused_credentials_is_rejected_with_401(doc):
    """1.0.3 3.2.s2.b2: 401 also means "the given credentials have been refused"."""
    wrong = basic_auth(doc.lrs.key, doc.lrs.secret + "-wrong")
    response = doc.lrs.request(
        "GET", PATH, params=doc.params, auth=False, headers={"Authorization": wrong}
    )
    assert response.status_code == 401
