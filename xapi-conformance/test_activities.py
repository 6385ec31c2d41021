"""Activities Resource: xAPI 1.0.3 Communication 2.5; IEEE 9274.1.1 (xAPI 2.0) 4.1.6.4."""

from __future__ import annotations

import pytest
from documents_support import JSON, NOT_AN_IRI, basic_auth, eventually, media_type

PATH = "activities"

CHOICE_DEFINITION = {
    "name": {"en-US": "Which colour is the sky?"},
    "description": {"en-US": "A one-question quiz"},
    "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "interactionType": "choice",
    "correctResponsesPattern": ["blue"],
    "choices": [
        {"id": "blue", "description": {"en-US": "Blue"}},
        {"id": "green", "description": {"en-US": "Green"}},
    ],
    "extensions": {"http://example.com/extensions/difficulty": 1},
}


def get_activity(lrs, activity_id: str):
    return lrs.request("GET", PATH, params={"activityId": activity_id})


def test_get_returns_the_complete_activity_object_a_statement_defined(lrs, statement, activity):
    """1.0.3 2.5.s1: "Loads the complete Activity Object specified. Returns: 200 OK, Content";
    2.0 4.1.6.4: "Fetches the complete Activity Object specified." The definition sent in a
    Statement is the one returned."""
    statement["object"] = {**activity, "definition": CHOICE_DEFINITION}
    posted = lrs.post_statements([statement])
    assert posted.status_code == 200, posted.text

    def defined():
        response = get_activity(lrs, activity["id"])
        return response if response.status_code == 200 and "definition" in response.json() else None

    response = eventually(defined)
    assert response is not None, "the Activity never showed the definition its Statement gave it"
    body = response.json()
    assert body["id"] == activity["id"]
    assert body.get("objectType", "Activity") == "Activity"
    assert body["definition"] == CHOICE_DEFINITION


def test_get_of_an_activity_without_a_canonical_definition_still_returns_an_activity(lrs, activity):
    """1.0.3 2.5.s2.b1: "If an LRS does not have a canonical definition of the Activity to return,
    the LRS SHOULD* still return an Activity Object when queried."; 2.0 4.1.6.4: "... the LRS
    shall still return an Activity Object when queried." (So: 200, not 404.)"""
    response = get_activity(lrs, activity["id"])
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == activity["id"]
    assert body.get("objectType", "Activity") == "Activity"


def test_activity_object_is_returned_as_application_json(lrs, activity):
    """1.0.3 1.5: "Requests and responses within this specification normally use an
    application/json content type"; the Activity Object is JSON."""
    assert media_type(get_activity(lrs, activity["id"])) == JSON


def test_get_without_activity_id_is_rejected_with_400(lrs):
    """1.0.3 2.5.s1 table: activityId is Required; 3.2.s2.b1: "400 Bad Request - Indicates an
    error condition caused by an invalid or missing argument"."""
    assert lrs.request("GET", PATH).status_code == 400


def test_activity_id_that_is_not_an_iri_is_rejected_with_400(lrs):
    """1.0.3 2.5.s1 table: activityId is an "Activity id (IRI)"; 2.0 4.1.6: "The LRS shall reject
    Requests where parameters are ... with any non-format-following ... value ... where a string
    with a particular format (such as ... IRI) is required"."""
    assert get_activity(lrs, NOT_AN_IRI).status_code == 400


def test_unrecognised_parameter_is_rejected_with_400(lrs, activity):
    """1.0.3 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters which the LRS does not recognize in their intended context"."""
    params = {"activityId": activity["id"], "profileId": "not-here"}
    assert lrs.request("GET", PATH, params=params).status_code == 400


@pytest.mark.parametrize("spelling", ["activityid", "ActivityId"])
def test_parameter_matching_a_spec_parameter_in_all_but_case_is_rejected_with_400(
    lrs, activity, spelling
):
    """1.0.3 3.2.s3.b8: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters matching parameters described in this specification in all but case." """
    assert lrs.request("GET", PATH, params={spelling: activity["id"]}).status_code == 400


def test_request_without_version_header_is_rejected_with_400(lrs, activity):
    """1.0.3 3.3.s4.b1: "The Client MUST include the "X-Experience-API-Version" header in every
    request."; 2.0 4.1.1: the LRS "shall implement and validate" it; rejects are 400."""
    response = lrs.request("GET", PATH, params={"activityId": activity["id"]}, version=False)
    assert response.status_code == 400


def test_request_without_credentials_is_rejected_with_401(lrs, activity):
    """1.0.3 3.2.s2.b2: "401 Unauthorized - Indicates that authentication is required"."""
    response = lrs.request("GET", PATH, params={"activityId": activity["id"]}, auth=False)
    assert response.status_code == 401


def test_request_with_refused_credentials_is_rejected_with_401(lrs, activity):
    """1.0.3 3.2.s2.b2: 401 also means "the given credentials have been refused"."""
    response = lrs.request(
        "GET",
        PATH,
        params={"activityId": activity["id"]},
        auth=False,
        headers={"Authorization": basic_auth(lrs.key, lrs.secret + "-wrong")},
    )
    assert response.status_code == 401
