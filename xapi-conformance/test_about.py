"""Communication 2.8 About Resource.

Returns JSON Object containing information about this LRS, including the xAPI version supported.
"""

from __future__ import annotations

import re

import pytest
from support import describe

IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def about(lrs, **kwargs):
    response = lrs.request("GET", "about", **kwargs)
    assert response.status_code == 200, describe(response)
    return response.json()


def test_about_must_return_a_json_object_with_a_version_array(lrs):
    """Communication 2.8.s4: "Returns: 200 OK, JSON object containing basic metadata about this
    LRS" with 2.8.s4.table1.row1: "version | Array of version strings | xAPI versions this LRS
    supports | Required" """
    body = about(lrs)

    assert isinstance(body["version"], list) and body["version"]
    assert all(isinstance(v, str) for v in body["version"])


def test_about_version_must_include_the_latest_version_the_lrs_conforms_to(lrs):
    """Communication 2.8.s5.b1: "An LRS MUST return the JSON document described above, with a
    "version" property that includes the latest minor and patch version the LRS conforms to, for
    each major version." -- 1.0.3 for this version of the specification (2.0.0 for xAPI 2.0)."""
    assert lrs.version in about(lrs)["version"]


def test_about_version_must_only_hold_0_9_0_95_or_1_0_x_values_for_a_1_0_client(lrs):
    """Communication 2.8.s5.b1.b1: "For version 1.0.0 of this specification, this means that
    1.0.0 MUST be included; 0.9 and 0.95 MAY be included." -- as the 1.0.3 conformance
    requirements read it (XAPI-00316), the "version" property can only have values of "0.9",
    "0.95", "1.0.0", or "1.0." + X, with 1.0.3 (XAPI-00317) among them."""
    if lrs.is_2_0:
        pytest.skip("1.0.3 only")
    versions = about(lrs)["version"]

    assert "1.0.3" in versions
    assert all(v in {"0.9", "0.95"} or re.fullmatch(r"1\.0\.\d+", v) for v in versions), versions


def test_about_must_not_contain_properties_other_than_version_and_extensions(lrs):
    """Communication 2.8.s5.b2: "Additional properties MUST NOT be added to this object outside
    of extensions and each property MUST occur only once." """
    response = lrs.request("GET", "about")

    pairs = response.json(object_pairs_hook=list)
    names = [name for name, _ in pairs]
    assert set(names) <= {"version", "extensions"}
    assert len(names) == len(set(names))


def test_about_extensions_must_be_an_object_keyed_by_iris(lrs):
    """Communication 2.8.s4.table1.row2: "extensions | Object | A map of other properties as
    needed" with Data 4.1.s3.b1: "The keys of an extensions map MUST be IRIs." """
    extensions = about(lrs).get("extensions", {})

    assert isinstance(extensions, dict)
    assert all(IRI.match(key) for key in extensions), list(extensions)


def test_about_should_allow_unauthenticated_access(lrs):
    """Communication 2.8.s5.b3: "An LRS SHOULD allow unauthenticated access to this resource." """
    assert lrs.version in about(lrs, auth=False)["version"]


@pytest.mark.parametrize("header", [None, "0.9", "1.1.0", "3.0.0", "not-a-version"])
def test_about_must_not_reject_requests_based_on_their_version_header(lrs, header):
    """Communication 2.8.s5.b4: "An LRS MUST NOT reject requests based on their version header as
    would otherwise be required by Versioning." """
    headers = {"X-Experience-API-Version": header} if header else None

    body = about(lrs, version=False, headers=headers)

    assert "version" in body


def test_about_must_answer_head_without_a_body(lrs):
    """Communication 1.1.s1: "All resources that support GET requests also support HEAD. The LRS
    will respond to HEAD requests by returning the meta information only" """
    response = lrs.request("HEAD", "about")

    assert response.status_code == 200, describe(response)
    assert response.content == b""
    assert "X-Experience-API-Version" in response.headers


def test_about_must_reject_a_parameter_it_does_not_recognise(lrs):
    """Communication 3.2.s3.b7: "The LRS MUST reject with 400 Bad Request status any requests
    that use any parameters which the LRS does not recognize in their intended context in this
    specification." The About resource takes none (ADL XAPI-00324)."""
    response = lrs.request("GET", "about", params={"foo": "bar"})

    assert response.status_code == 400, describe(response)
