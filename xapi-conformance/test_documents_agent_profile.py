"""Agent Profile Resource: xAPI 1.0.3 Communication 2.6 (with 2.2 Document Resources);
IEEE 9274.1.1 (xAPI 2.0) 4.1.6.5.

Concurrency (ETag, If-Match, If-None-Match, 409) lives in test_documents_concurrency.py.
Documents are created with `If-None-Match: *`, as 1.0.3 3.1.s3.b1 asks of Clients.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from documents_support import (
    AGENT_WITH_TWO_IFIS,
    AGENT_WITHOUT_IFI,
    NOT_A_TIMESTAMP,
    NOT_JSON,
    Document,
    agent_profile_document,
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
PATH = "agents/profile"


@pytest.fixture
def doc(lrs, unique, agent) -> Document:
    return agent_profile_document(lrs, unique, agent)


def ids_of(doc: Document, **extra) -> list[str]:
    response = doc.list_ids(**extra)
    assert response.status_code == 200, response.text
    ids = response.json()
    assert isinstance(ids, list), f"expected an array of profile ids, got {ids!r}"
    return ids


# --- Single Document PUT | POST | GET | DELETE (1.0.3 2.6.s3; 2.0 4.1.6.5) ---------------------


def test_put_stores_the_profile_document_and_returns_204(doc):
    """1.0.3 2.6.s3: "Stores, changes, fetches, or deletes the specified profile document in the
    context of the specified Agent. Returns (PUT | POST | DELETE): 204 No Content; Returns (GET):
    200 OK, the profile document"."""
    response = doc.put({"theme": "dark"}, headers={"If-None-Match": "*"})
    assert response.status_code == 204, response.text
    fetched = doc.get()
    assert fetched.status_code == 200
    assert fetched.json() == {"theme": "dark"}


def test_post_of_a_document_not_yet_stored_stores_it_as_put_would(doc):
    """1.0.3 2.6.s3 / 2.0 4.1.6.5, POST: "Stores/updates a single document with the given id.
    Returns: 204 No Content" (ADL: a POST for a document not in the LRS is treated as a PUT)."""
    response = doc.post({"theme": "dark"})
    assert response.status_code == 204, response.text
    assert doc.json() == {"theme": "dark"}


def test_delete_deletes_the_profile_document_and_returns_204(doc):
    """1.0.3 2.6.s3: "... or deletes the specified profile document ... Returns (PUT | POST |
    DELETE): 204 No Content"; a later GET of it finds nothing."""
    doc.create()
    assert doc.delete().status_code == 204
    assert doc.get().status_code == 404


def test_get_of_a_profile_document_that_does_not_exist_returns_404(doc):
    """1.0.3 3.2.s2.b4: "404 Not Found ... May be returned by ... any ... Agent Profile ...
    Resource request targeting a specific document"; 3.2.s3.b1: "An LRS MUST return the error
    code most appropriate to the error condition"."""
    assert doc.get().status_code == 404


def test_documents_are_accepted_for_agents_the_lrs_has_never_seen(doc):
    """1.0.3 2.2.s4.b2 / 2.0 4.1.6: "The LRS MUST NOT reject documents on the basis of not
    having prior knowledge of the Activity and/or Agent." """
    assert doc.post({"first": True}).status_code == 204
    assert doc.get().status_code == 200


def test_profile_is_found_by_the_agent_ifi_whatever_else_the_agent_object_says(doc, agent):
    """1.0.3 2.6.s3 table: agent is "The Agent associated with this profile"; Agents sharing an
    Inverse Functional Identifier are the same Agent (Data 2.4.2.1), whatever their name."""
    doc.create({"who": "by mbox"})
    same_agent = doc.elsewhere(agent={"objectType": "Agent", "mbox": agent["mbox"], "name": "X"})
    assert same_agent.json() == {"who": "by mbox"}


def test_profile_documents_belong_to_their_agent(doc, unique):
    """1.0.3 2.6.s3: the document is stored "in the context of the specified Agent"; another Agent
    has no such document."""
    doc.create()
    stranger = doc.elsewhere(agent={"mbox": f"mailto:stranger-{unique}@example.com"})
    assert stranger.get().status_code == 404
    assert ids_of(stranger) == []


def test_agent_identified_by_account_has_its_own_profiles(doc, unique):
    """1.0.3 2.6.s3 table: agent is an "Agent object (JSON)"; any Inverse Functional Identifier,
    here an account, identifies the Agent whose profile is stored."""
    by_account = doc.elsewhere(
        agent={"account": {"homePage": "http://lms.example.com", "name": f"learner-{unique}"}}
    )
    by_account.create({"account": True})
    assert by_account.json() == {"account": True}
    assert ids_of(by_account) == [by_account.doc_id]


# --- Multiple Document GET (1.0.3 2.6.s4; 2.0 4.1.6.5) ------------------------------------------


def test_get_without_profile_id_returns_the_array_of_profile_ids_of_the_agent(doc):
    """1.0.3 2.6.s4: "Fetches profile ids of all profile entries for an Agent. Returns: 200 OK,
    Array of profile id(s)"."""
    second = doc.sibling(doc.doc_id + "-b")
    doc.create()
    second.create()
    assert sorted(ids_of(doc)) == sorted([doc.doc_id, second.doc_id])


def test_get_without_profile_id_for_an_agent_without_profiles_returns_an_empty_array(doc):
    """1.0.3 2.6.s4: "Returns: 200 OK, Array of profile id(s)" - for no profiles, an empty one."""
    assert ids_of(doc) == []


def test_get_without_profile_id_with_since_returns_only_ids_stored_after_since(doc):
    """1.0.3 2.6.s4: "If "since" parameter is specified, this is limited to entries that have been
    stored or updated since the specified Timestamp (exclusive)." """
    before = doc.sibling(doc.doc_id + "-before")
    after = doc.sibling(doc.doc_id + "-after")
    since = server_clock(before.create()) + timedelta(seconds=1)
    wait_past_a_second()
    after.create()
    assert ids_of(doc, since=xapi_timestamp(since)) == [after.doc_id]


def test_get_with_since_that_is_not_a_timestamp_is_rejected_with_400(doc):
    """1.0.3 2.6.s4 table: since is a "Timestamp"; 3.2.s2.b1: "400 Bad Request - Indicates an
    error condition caused by an invalid or missing argument"."""
    assert doc.list_ids(since=NOT_A_TIMESTAMP).status_code == 400


# --- Parameters (1.0.3 2.6.s3 table, 3.2; 2.0 4.1.6) -------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_request_without_agent_is_rejected_with_400(doc, method):
    """1.0.3 2.6.s3 table: agent is Required; 3.2.s2.b1 (missing argument → 400)."""
    assert doc.send(method, with_param(doc.params, agent=None)).status_code == 400


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_put_post_or_delete_without_profile_id_is_rejected_with_400(doc, method):
    """1.0.3 2.6.s3 table: profileId is Required for PUT | POST | DELETE; 3.2.s2.b1."""
    assert doc.send(method, with_param(doc.params, profileId=None)).status_code == 400


@pytest.mark.parametrize("method", ALL_METHODS)
def test_agent_parameter_that_is_not_json_is_rejected_with_400(doc, method):
    """1.0.3 2.6.s3 table: agent is an "Agent object (JSON)"; 3.2.s2.b1: "invalid arguments"
    includes malformed JSON."""
    assert doc.send(method, with_param(doc.params, agent=NOT_JSON)).status_code == 400


@pytest.mark.parametrize(
    "bad_agent", [AGENT_WITHOUT_IFI, AGENT_WITH_TWO_IFIS], ids=["no-ifi", "2-ifis"]
)
@pytest.mark.parametrize("method", ALL_METHODS)
def test_agent_parameter_that_is_not_a_valid_agent_is_rejected_with_400(doc, method, bad_agent):
    """1.0.3 3.2.s2.b1: "invalid arguments" includes "invalid Object structures"; an Agent has
    "Exactly One of mbox, mbox_sha1sum, openid, account" (Data 2.4.2.1)."""
    assert doc.send(method, with_param(doc.params, agent=bad_agent)).status_code == 400


def test_unrecognised_parameter_is_rejected_with_400(doc, activity):
    """1.0.3 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters which the LRS does not recognize in their intended context". An activityId does
    not name an Agent Profile."""
    assert doc.send("GET", {**doc.params, "activityId": activity["id"]}).status_code == 400


def test_parameter_matching_a_spec_parameter_in_all_but_case_is_rejected_with_400(doc):
    """1.0.3 3.2.s3.b8: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters matching parameters described in this specification in all but case." """
    params = with_param(doc.params, agent=None)
    assert doc.send("GET", {**params, "Agent": doc.context["agent"]}).status_code == 400


# --- JSON merge on POST (1.0.3 2.2.s7-s8; 2.0 4.1.6.5) ------------------------------------------


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
    doc.create({"prefs": {"lang": "en", "font": "large"}, "since": 2020})
    assert doc.post({"prefs": {"lang": "fr"}}).status_code == 204
    assert doc.json() == {"prefs": {"lang": "fr"}, "since": 2020}


def test_post_of_a_non_json_document_onto_a_json_document_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "If the document being posted or any existing document does not have a
    Content-Type of application/json ... the LRS MUST respond with HTTP status code 400 Bad
    Request, and MUST NOT update the target document as a result of the request." """
    doc.create({"kept": True})
    assert doc.post(b"\x89PNG", content_type="image/png").status_code == 400
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
    document" -- also when no document is stored yet."""
    assert doc.post(NOT_JSON).status_code == 400
    assert doc.get().status_code == 404


def test_post_of_json_that_is_not_an_object_is_rejected_with_400(doc):
    """1.0.3 2.2.s8.b1: "... or if either document cannot be parsed as a JSON Object ... 400"."""
    doc.create({"kept": True})
    assert doc.post("42").status_code == 400
    assert doc.json() == {"kept": True}


# --- Content types (1.0.3 1.5, 2.2.s2; 2.0 4.1.3) -----------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/octet-stream", b"\x00\x01\x02\xfe\xff" * 50),
        ("text/plain", "Grüße, 世界\r\n".encode()),
    ],
    ids=["binary", "text"],
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


# --- Last-Modified (1.0.3 2.2.s5-s6; 2.0 4.1.6.5) -----------------------------------------------


def test_single_document_get_includes_last_modified(doc):
    """1.0.3 2.2.s6.b1: "When returning a single document, the LRS SHOULD* include a
    "Last-Modified" header indicating when the document was last modified."; 2.0 4.1.6.5: "The
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
