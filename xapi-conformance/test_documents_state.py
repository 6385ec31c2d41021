"""State Resource: xAPI 1.0.3 Communication 2.3 (with 2.2 Document Resources);
IEEE 9274.1.1 (xAPI 2.0) 4.1.6.2.

Concurrency (ETag, If-Match, If-None-Match, 409) lives in test_documents_concurrency.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from documents_support import (
    AGENT_WITH_TWO_IFIS,
    AGENT_WITHOUT_IFI,
    JSON,
    NOT_A_TIMESTAMP,
    NOT_A_UUID,
    NOT_AN_IRI,
    NOT_JSON,
    Document,
    basic_auth,
    http_date,
    media_type,
    only_1_0_3,
    only_2_0,
    server_clock,
    state_document,
    wait_past_a_second,
    with_param,
    xapi_timestamp,
)

ALL_METHODS = ["PUT", "POST", "GET", "DELETE"]


@pytest.fixture
def doc(lrs, unique, agent, activity) -> Document:
    return state_document(lrs, unique, agent, activity)


def ids_of(doc: Document, **extra) -> list[str]:
    response = doc.list_ids(**extra)
    assert response.status_code == 200, response.text
    ids = response.json()
    assert isinstance(ids, list), f"expected an array of State ids, got {ids!r}"
    return ids


# --- Single Document PUT | POST | GET | DELETE (1.0.3 2.3.s3; 2.0 4.1.6.2) ---------------------


def test_put_stores_the_state_document_and_returns_204(doc):
    """1.0.3 2.3.s3: "Stores, changes, fetches, or deletes the document specified by the given
    "stateId" ... Returns (PUT | POST | DELETE): 204 No Content; Returns (GET): 200 OK, the State
    document". 2.0 4.1.6.2, PUT: "Stores a single document with the given id. Returns: 204"."""
    response = doc.put({"bookmark": "page-7"})
    assert response.status_code == 204, response.text
    fetched = doc.get()
    assert fetched.status_code == 200
    assert fetched.json() == {"bookmark": "page-7"}


def test_post_of_a_document_not_yet_stored_stores_it_as_put_would(doc):
    """1.0.3 2.3.s3 / 2.0 4.1.6.2, POST: "Updates/stores a single document with the given id.
    Returns: 204 No Content" (ADL XAPI-00233: a POST for a document not in the LRS is a PUT)."""
    response = doc.post({"score": 3})
    assert response.status_code == 204, response.text
    assert doc.json() == {"score": 3}


def test_delete_with_state_id_deletes_that_document_only(doc):
    """1.0.3 2.3.s2: "If it [stateId] is included, the GET and DELETE methods will act upon a
    single defined state document identified by "stateId"." Returns (DELETE): 204 No Content."""
    other = doc.sibling(doc.doc_id + "-other")
    doc.create()
    other.create()
    assert doc.delete().status_code == 204
    assert doc.get().status_code == 404
    assert other.get().status_code == 200


def test_get_of_a_state_document_that_does_not_exist_returns_404(doc):
    """1.0.3 3.2.s2.b4: "404 Not Found - Indicates the requested resource was not found. May be
    returned by ... any State ... Resource request targeting a specific document"; 3.2.s3.b1:
    "An LRS MUST return the error code most appropriate to the error condition"."""
    assert doc.get().status_code == 404


def test_documents_are_accepted_for_activities_and_agents_the_lrs_has_never_seen(doc):
    """1.0.3 2.2.s4.b2 / 2.0 4.1.6: "The LRS MUST NOT reject documents on the basis of not
    having prior knowledge of the Activity and/or Agent." (Agent and Activity here are new.)"""
    assert doc.post({"first": True}).status_code == 204
    assert doc.get().status_code == 200


def test_head_returns_the_headers_get_would_without_the_document(doc):
    """1.0.3 1.1.s3.b1: "The LRS MUST respond to any HTTP HEAD request as it would have responded
    to an otherwise identical HTTP GET request except: The message-body MUST be omitted." """
    doc.create({"head": "check"})
    got = doc.get()
    head = doc.head()
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers.get("ETag") == got.headers.get("ETag")
    assert media_type(head) == media_type(got)


# --- Identification of the document: Agent IFI, registration ----------------------------------


def test_state_is_found_by_the_agent_ifi_whatever_else_the_agent_object_says(doc, agent):
    """1.0.3 2.3.s3 table: agent is "The Agent associated with this state"; Agents are the same
    Agent when they share an Inverse Functional Identifier (Data 2.4.2.1), so a name or
    objectType in the parameter does not change which state is addressed."""
    doc.create({"who": "by mbox"})
    same_agent = doc.elsewhere(agent={"mbox": agent["mbox"]})
    assert same_agent.json() == {"who": "by mbox"}


def test_state_of_one_agent_is_not_visible_to_another_agent(doc, unique):
    """1.0.3 2.3.s3: the document "exists in the context of the specified Activity, Agent, and
    registration (if specified)". Another Agent's context holds no such document."""
    doc.create()
    stranger = doc.elsewhere(agent={"mbox": f"mailto:stranger-{unique}@example.com"})
    assert stranger.get().status_code == 404
    assert ids_of(stranger) == []


def test_registration_scopes_the_state_document(doc):
    """1.0.3 2.3.s3: "the document ... that exists in the context of the specified Activity,
    Agent, and registration (if specified)". The same stateId under another registration is
    another document."""
    mine = doc.elsewhere(registration=str(uuid.uuid4()))
    theirs = doc.elsewhere(registration=str(uuid.uuid4()))
    mine.create({"registration": "mine"})
    assert theirs.get().status_code == 404
    assert mine.json() == {"registration": "mine"}


# --- Multiple Document GET (1.0.3 2.3.s4; 2.0 4.1.6.2) ------------------------------------------


def test_get_without_state_id_returns_the_array_of_state_ids_in_the_context(doc):
    """1.0.3 2.3.s4: "Fetches State ids of all state data for this context (Activity + Agent
    [ + registration if specified]). Returns: 200 OK, Array of State id(s)"."""
    second = doc.sibling(doc.doc_id + "-b")
    doc.create()
    second.create()
    assert sorted(ids_of(doc)) == sorted([doc.doc_id, second.doc_id])


def test_get_without_state_id_in_a_context_without_state_returns_an_empty_array(doc):
    """1.0.3 2.3.s4: "Returns: 200 OK, Array of State id(s)" - for no state, an empty array."""
    assert ids_of(doc) == []


def test_get_without_state_id_with_registration_lists_only_that_registrations_ids(doc):
    """1.0.3 2.3.s4: "Fetches State ids of all state data for this context (Activity + Agent
    [ + registration if specified])"."""
    registered = doc.elsewhere(registration=str(uuid.uuid4()))
    registered.create()
    doc.sibling(doc.doc_id + "-unregistered").create()
    doc.elsewhere(registration=str(uuid.uuid4())).sibling(doc.doc_id + "-other-reg").create()
    assert ids_of(registered) == [registered.doc_id]


def test_get_without_state_id_with_since_returns_only_ids_stored_after_since(doc):
    """1.0.3 2.3.s4: "If "since" parameter is specified, this is limited to entries that have
    been stored or updated since the specified timestamp (exclusive)." (2.0 4.1.6.2 alike.)"""
    before = doc.sibling(doc.doc_id + "-before")
    after = doc.sibling(doc.doc_id + "-after")
    since = server_clock(before.create()) + timedelta(seconds=1)
    wait_past_a_second()
    after.create()
    assert ids_of(doc, since=xapi_timestamp(since)) == [after.doc_id]
    assert sorted(ids_of(doc)) == sorted([before.doc_id, after.doc_id])


def test_get_with_since_that_is_not_a_timestamp_is_rejected_with_400(doc):
    """1.0.3 2.3.s4 table: since is a "Timestamp"; 3.2.s2.b1: "400 Bad Request - Indicates an
    error condition caused by an invalid or missing argument" (ADL XAPI-00204)."""
    assert doc.list_ids(since=NOT_A_TIMESTAMP).status_code == 400


def test_get_with_both_state_id_and_since_is_rejected_with_400(lrs, doc):
    """2.0 4.1.6.2 (Single Document) GET table: since - "Do not use for single document GET
    request ... If the stateId parameter is included, Not Allowed"; 4.1.6: "The LRS shall reject
    Requests where parameters are ... where a key or value is not allowed by this
    specification." """
    only_2_0(lrs, "1.0.3 only says since is not a parameter of the single document GET")
    doc.create()
    since = xapi_timestamp(server_clock(doc.get()) - timedelta(days=1))
    response = doc.lrs.request("GET", "activities/state", params={**doc.params, "since": since})
    assert response.status_code == 400


# --- Multiple Document DELETE (1.0.3 2.3.s5; 2.0 4.1.6.2) ---------------------------------------


def test_delete_without_state_id_deletes_all_state_in_the_context(doc, unique):
    """1.0.3 2.3.s5: "Deletes all state data for this context (Activity + Agent [+ registration
    if specified]). Returns: 204 No Content". State of another Activity is not in the context."""
    second = doc.sibling(doc.doc_id + "-b")
    other_activity = doc.elsewhere(activityId=f"http://example.com/activities/other-{unique}")
    for each in (doc, second, other_activity):
        each.create()
    assert doc.delete_all().status_code == 204
    assert ids_of(doc) == []
    assert doc.get().status_code == 404
    assert second.get().status_code == 404
    assert other_activity.get().status_code == 200


def test_delete_without_state_id_with_registration_deletes_only_that_registrations_state(doc):
    """1.0.3 2.3.s5: "Deletes all state data for this context (Activity + Agent [+ registration
    if specified])". State without that registration stays."""
    doomed = doc.elsewhere(registration=str(uuid.uuid4()))
    kept = doc.elsewhere(registration=str(uuid.uuid4()))
    unregistered = doc.sibling(doc.doc_id + "-unregistered")
    for each in (doomed, kept, unregistered):
        each.create()
    assert doomed.delete_all().status_code == 204
    assert doomed.get().status_code == 404
    assert kept.get().status_code == 200
    assert unregistered.get().status_code == 200


# --- Parameters (1.0.3 2.3.s3 table, 3.2; 2.0 4.1.6) -------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_request_without_activity_id_is_rejected_with_400(doc, method):
    """1.0.3 2.3.s3 table: activityId is Required; 3.2.s2.b1: "400 Bad Request - Indicates an
    error condition caused by an invalid or missing argument"."""
    assert doc.send(method, with_param(doc.params, activityId=None)).status_code == 400


@pytest.mark.parametrize("method", ALL_METHODS)
def test_request_without_agent_is_rejected_with_400(doc, method):
    """1.0.3 2.3.s3 table: agent is Required; 3.2.s2.b1 (missing argument → 400)."""
    assert doc.send(method, with_param(doc.params, agent=None)).status_code == 400


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_put_or_post_without_state_id_is_rejected_with_400(doc, method):
    """1.0.3 2.3.s3 table: stateId is Required for storing a document; 3.2.s2.b1."""
    assert doc.send(method, with_param(doc.params, stateId=None)).status_code == 400


@pytest.mark.parametrize("method", ALL_METHODS)
def test_agent_parameter_that_is_not_json_is_rejected_with_400(doc, method):
    """1.0.3 2.3.s3 table: agent is an "Agent Object (JSON)"; 3.2.s2.b1: "invalid arguments"
    includes malformed JSON (ADL XAPI-00196..00199)."""
    assert doc.send(method, with_param(doc.params, agent=NOT_JSON)).status_code == 400


@pytest.mark.parametrize(
    "bad_agent", [AGENT_WITHOUT_IFI, AGENT_WITH_TWO_IFIS], ids=["no-ifi", "2-ifis"]
)
@pytest.mark.parametrize("method", ALL_METHODS)
def test_agent_parameter_that_is_not_a_valid_agent_is_rejected_with_400(doc, method, bad_agent):
    """1.0.3 3.2.s2.b1: "invalid arguments" includes "invalid Object structures"; an Agent has
    "Exactly One of mbox, mbox_sha1sum, openid, account" (Data 2.4.2.1)."""
    assert doc.send(method, with_param(doc.params, agent=bad_agent)).status_code == 400


@pytest.mark.parametrize("method", ALL_METHODS)
def test_activity_id_that_is_not_an_iri_is_rejected_with_400(doc, method):
    """1.0.3 2.3.s3 table: activityId is an "Activity id (IRI)"; 2.0 4.1.6: "The LRS shall reject
    Requests where parameters are ... with any non-format-following key or value ... where a
    string with a particular format (such as ... IRI) is required"."""
    assert doc.send(method, with_param(doc.params, activityId=NOT_AN_IRI)).status_code == 400


@pytest.mark.parametrize("method", ALL_METHODS)
def test_registration_that_is_not_a_uuid_is_rejected_with_400(doc, method):
    """1.0.3 2.3.s3 table: registration is a "UUID" (ADL XAPI-00200..00203); 2.0 4.1.6 (format)."""
    assert doc.send(method, with_param(doc.params, registration=NOT_A_UUID)).status_code == 400


def test_unrecognised_parameter_is_rejected_with_400(doc):
    """1.0.3 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters which the LRS does not recognize in their intended context"."""
    assert doc.send("GET", {**doc.params, "colour": "blue"}).status_code == 400


def test_parameter_matching_a_spec_parameter_in_all_but_case_is_rejected_with_400(doc):
    """1.0.3 3.2.s3.b8: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters matching parameters described in this specification in all but case." """
    params = with_param(doc.params, stateId=None)
    assert doc.send("GET", {**params, "StateId": doc.doc_id}).status_code == 400


# --- JSON merge on POST (1.0.3 2.2.s7-s8; 2.0 4.1.6.2) ------------------------------------------


def test_post_of_json_onto_existing_json_merges_top_level_properties_with_204(doc):
    """1.0.3 2.2.s7: "When an LRS receives a POST request with content type application/json for
    an existing document also of content type application/json, it MUST merge the posted document
    with the existing document"; 2.2.s8.b2: "If the merge is successful, the LRS MUST respond
    with HTTP status code 204 No Content." (The spec's own x/y/z example.)"""
    doc.create({"x": "foo", "y": "bar"})
    assert doc.post({"x": "bash", "z": "faz"}).status_code == 204
    assert doc.json() == {"x": "bash", "y": "bar", "z": "faz"}


def test_merge_replaces_a_top_level_object_whole_instead_of_merging_into_it(doc):
    """1.0.3 2.2.s7: "Note that only top-level properties are merged, even if a top-level property
    is an Object. The entire contents of each original property are replaced with the entire
    contents of each new property." """
    doc.create({"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale"})
    assert doc.post({"car": {"make": "Dodge"}}).status_code == 204
    assert doc.json() == {"car": {"make": "Dodge"}, "driver": "Dale"}


def test_merge_treats_application_json_with_a_charset_parameter_as_json(doc):
    """1.0.3 2.2.s7: merge applies to "content type application/json"; a charset parameter does not
    change the media type (RFC 7231 3.1.1.1), so this is still a merge, not a 400."""
    doc.create({"a": 1}, content_type="application/json; charset=utf-8")
    assert doc.post({"b": 2}, content_type="application/json; charset=utf-8").status_code == 204
    assert doc.json() == {"a": 1, "b": 2}


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
    doc.create(b"\x00binary\xff", content_type="application/octet-stream")
    assert doc.post({"merge": "me"}).status_code == 400
    assert doc.get().content == b"\x00binary\xff"


def test_post_of_malformed_json_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "if either document cannot be parsed as a JSON Object, the LRS MUST
    respond with HTTP status code 400 Bad Request, and MUST NOT update the target document"."""
    doc.create({"kept": True})
    assert doc.post(NOT_JSON).status_code == 400
    assert doc.json() == {"kept": True}


def test_post_of_malformed_json_for_a_document_not_yet_stored_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "If the document being posted ... cannot be parsed as a JSON Object, the
    LRS MUST respond with HTTP status code 400 Bad Request, and MUST NOT update the target
    document" -- also when no document is stored yet."""
    assert doc.post(NOT_JSON).status_code == 400
    assert doc.get().status_code == 404


def test_post_of_json_that_is_not_an_object_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "... or if either document cannot be parsed as a JSON Object ... 400"."""
    doc.create({"kept": True})
    assert doc.post([1, 2, 3]).status_code == 400
    assert doc.json() == {"kept": True}


def test_put_replaces_the_whole_document_so_properties_can_be_deleted(doc):
    """1.0.3 2.2.s8.b3: "If a Learning Record Provider needs to delete a property, it SHOULD use a
    PUT request to replace the whole document"."""
    doc.create({"keep": 1, "drop": 2})
    response = doc.put({"keep": 1}, headers={"If-Match": doc.etag()})
    assert response.status_code == 204, response.text
    assert doc.json() == {"keep": 1}


# --- Content types (1.0.3 1.5, 2.2.s2; 2.0 4.1.3) -----------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/octet-stream", bytes(range(256))),
        ("text/plain", "état: ✓\n".encode()),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
    ids=["binary", "text", "svg"],
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


def test_get_returns_the_json_document_as_application_json(doc):
    """1.0.3 1.5: "Documents can have any content type"; a document stored as application/json is
    returned as application/json, so a Client can POST-merge it (2.2.s7)."""
    doc.create({"typed": True})
    assert media_type(doc.get()) == JSON


# --- Last-Modified (1.0.3 2.2.s5-s6; 2.0 4.1.6.2) -----------------------------------------------


def test_single_document_get_includes_last_modified(doc):
    """1.0.3 2.2.s6.b1: "When returning a single document, the LRS SHOULD* include a
    "Last-Modified" header indicating when the document was last modified."; 2.0 4.1.6.2: "The
    LRS shall include a "Last-Modified" header". Checked against the server's own clock."""
    stored_at = server_clock(doc.create())
    last_modified = http_date(doc.get(), "Last-Modified")
    assert abs(last_modified - stored_at) <= timedelta(seconds=2)


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
    modified." (2.0 dropped this from the Multiple Document GET.)"""
    only_1_0_3(lrs, "2.0 states no Last-Modified for the Multiple Document GET")
    older = doc.sibling(doc.doc_id + "-older")
    older.create()
    wait_past_a_second()
    doc.create()
    latest = http_date(doc.get(), "Last-Modified")
    assert http_date(doc.list_ids(), "Last-Modified") == latest


# --- Versioning and authentication (1.0.3 3.3, 4.0; 2.0 4.1.7, 4.1.8) ---------------------------


def test_request_without_version_header_is_rejected_with_400(doc):
    """1.0.3 3.3.s4.b1: "The Client MUST include the "X-Experience-API-Version" header in every
    request."; 2.0 4.1.1: the LRS "shall implement and validate" X-Experience-API-Version;
    1.0.3 3.3.s3.b7 / 2.0 4.1.7: rejects are "a 400 Bad Request error"."""
    response = doc.lrs.request("GET", "activities/state", params=doc.params, version=False)
    assert response.status_code == 400


def test_request_without_credentials_is_rejected_with_401(doc):
    """1.0.3 3.2.s2.b2: "401 Unauthorized - Indicates that authentication is required"; 4.0.s3.b2:
    the LRS determines "what operations might be performed based on the credentials used"."""
    doc.create()
    response = doc.lrs.request("GET", "activities/state", params=doc.params, auth=False)
    assert response.status_code == 401


def test_request_with_refused_credentials_is_rejected_with_401(doc):
    """1.0.3 3.2.s2.b2: 401 also means "in the case authentication has been posted in the
    request, that the given credentials have been refused"."""
    wrong = basic_auth(doc.lrs.key, doc.lrs.secret + "-wrong")
    response = doc.lrs.request(
        "GET", "activities/state", params=doc.params, auth=False, headers={"Authorization": wrong}
    )
    assert response.status_code == 401
