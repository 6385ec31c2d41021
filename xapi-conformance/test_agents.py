"""Agents Resource: xAPI 1.0.3 Communication 2.4; IEEE 9274.1.1 (xAPI 2.0) 4.1.6.3."""

from __future__ import annotations

import hashlib

import pytest
from documents_support import (
    AGENT_WITH_TWO_IFIS,
    AGENT_WITHOUT_IFI,
    JSON,
    NOT_JSON,
    basic_auth,
    eventually,
    media_type,
)

PATH = "agents"
PERSON_PROPERTIES = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}


def get_person(lrs, agent) -> dict:
    response = lrs.request("GET", PATH, params={"agent": agent})
    assert response.status_code == 200, response.text
    person = response.json()
    assert isinstance(person, dict), f"a Person Object is a JSON object, got {person!r}"
    return person


def agents_with_each_ifi(unique: str) -> dict[str, dict]:
    mbox = f"mailto:person-{unique}@example.com"
    return {
        "mbox": {"objectType": "Agent", "mbox": mbox},
        "mbox_sha1sum": {"mbox_sha1sum": hashlib.sha1(mbox.encode()).hexdigest()},
        "openid": {"openid": f"http://openid.example.com/{unique}"},
        "account": {"account": {"homePage": "http://lms.example.com", "name": f"u-{unique}"}},
    }


def test_get_returns_a_person_object_with_object_type_person(lrs, agent):
    """1.0.3 2.4.s2: "Return a special, Person Object for a specified Agent. Returns: 200 OK,
    Person Object"; 2.4.s5 table: objectType is "Person", Required."""
    assert get_person(lrs, agent)["objectType"] == "Person"


@pytest.mark.parametrize("ifi", ["mbox", "mbox_sha1sum", "openid", "account"])
def test_person_of_an_unknown_agent_holds_the_requested_agents_identifier(lrs, unique, ifi):
    """1.0.3 2.4.s3.b3 / 2.0 4.1.6.3: "If an LRS does not have any additional information about
    an Agent to return, the LRS MUST still return a Person Object when queried, but that Person
    Object will only include the information associated with the requested Agent."; 2.4.s6.b1:
    "All array properties MUST be populated with members with the same definition as the
    similarly named property from Agent Objects." """
    agent = agents_with_each_ifi(unique)[ifi]
    person = get_person(lrs, agent)
    assert person["objectType"] == "Person"
    assert person[ifi] == [agent[ifi]]
    assert set(person) <= {"objectType", "name", ifi}


def test_person_of_an_agent_seen_in_a_statement_has_array_valued_properties(lrs, statement, agent):
    """1.0.3 2.4.s2: "instead of each attribute having a single value, each attribute has an array
    value"; 2.4.s5 table: name is an "Array of strings", mbox an "Array of IRIs in the form
    "mailto:email address"" (ADL XAPI-00238, 00239, 00244)."""
    assert lrs.post_statements([statement]).status_code == 200

    def knows_agent():
        person = get_person(lrs, agent)
        return person if agent["mbox"] in person.get("mbox", []) else None

    person = eventually(knows_agent)
    assert person, "the Person Object never included the Agent's mbox"
    names = person.get("name", [])
    assert isinstance(names, list)
    assert all(isinstance(name, str) for name in names)
    assert isinstance(person["mbox"], list)
    assert all(mbox.startswith("mailto:") for mbox in person["mbox"])


def test_person_accounts_are_complete_account_objects(lrs, unique):
    """1.0.3 2.4.s5 table: account is an "Array of account objects ... Complete account Objects
    (homePage and name) MUST be provided." """
    agent = agents_with_each_ifi(unique)["account"]
    accounts = get_person(lrs, agent)["account"]
    assert isinstance(accounts, list)
    assert accounts
    assert all({"homePage", "name"} <= set(account) for account in accounts)


def test_person_object_has_no_properties_beyond_those_of_a_person(lrs, agent):
    """1.0.3 2.4.s6.b2: "Additional properties not listed here SHOULD* NOT be added to this object
    and each property MUST occur only once." """
    assert set(get_person(lrs, agent)) <= PERSON_PROPERTIES


def test_person_object_is_returned_as_application_json(lrs, agent):
    """1.0.3 1.5: "Requests and responses within this specification normally use an
    application/json content type"."""
    response = lrs.request("GET", PATH, params={"agent": agent})
    assert media_type(response) == JSON


def test_get_without_agent_is_rejected_with_400(lrs):
    """1.0.3 2.4.s2 table: agent is Required (ADL XAPI-00243); 3.2.s2.b1: "400 Bad Request -
    Indicates an error condition caused by an invalid or missing argument"."""
    assert lrs.request("GET", PATH).status_code == 400


def test_agent_parameter_that_is_not_json_is_rejected_with_400(lrs):
    """1.0.3 2.4.s2 table: agent is an "Agent object (JSON)"; 3.2.s2.b1: "invalid arguments"
    includes malformed JSON."""
    assert lrs.request("GET", PATH, params={"agent": NOT_JSON}).status_code == 400


@pytest.mark.parametrize(
    "bad_agent", [AGENT_WITHOUT_IFI, AGENT_WITH_TWO_IFIS], ids=["no-ifi", "2-ifis"]
)
def test_agent_parameter_that_is_not_a_valid_agent_is_rejected_with_400(lrs, bad_agent):
    """1.0.3 2.4.s2: "The "agent" parameter is a normal Agent Object with a single identifier and
    no arrays." (ADL XAPI-00249: not a valid Agent → 400 Bad Request.)"""
    assert lrs.request("GET", PATH, params={"agent": bad_agent}).status_code == 400


def test_agent_parameter_that_is_a_person_object_is_rejected_with_400(lrs, agent):
    """1.0.3 2.4.s2: "The "agent" parameter is a normal Agent Object with a single identifier and
    no arrays. It is not a Person Object, nor is it a Group." """
    person = {"objectType": "Person", "mbox": [agent["mbox"]], "name": [agent["name"]]}
    assert lrs.request("GET", PATH, params={"agent": person}).status_code == 400


def test_unrecognised_parameter_is_rejected_with_400(lrs, agent):
    """1.0.3 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests that use any
    parameters which the LRS does not recognize in their intended context"."""
    params = {"agent": agent, "profileId": "not-here"}
    assert lrs.request("GET", PATH, params=params).status_code == 400


def test_request_without_version_header_is_rejected_with_400(lrs, agent):
    """1.0.3 3.3.s4.b1: "The Client MUST include the "X-Experience-API-Version" header in every
    request."; 2.0 4.1.1: the LRS "shall implement and validate" it; rejects are 400."""
    response = lrs.request("GET", PATH, params={"agent": agent}, version=False)
    assert response.status_code == 400


def test_request_without_credentials_is_rejected_with_401(lrs, agent):
    """1.0.3 3.2.s2.b2: "401 Unauthorized - Indicates that authentication is required"."""
    assert lrs.request("GET", PATH, params={"agent": agent}, auth=False).status_code == 401


def test_request_with_refused_credentials_is_rejected_with_401(lrs, agent):
    """1.0.3 3.2.s2.b2: 401 also means "the given credentials have been refused"."""
    response = lrs.request(
        "GET",
        PATH,
        params={"agent": agent},
        auth=False,
        headers={"Authorization": basic_auth(lrs.key, lrs.secret + "-wrong")},
    )
    assert response.status_code == 401
