"""Data 2.3.1 Statement Immutability and Data 2.4 Statement Properties that the LRS assigns
(id, stored, timestamp, authority, version) or must return in a set form.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support import fetch, parse_timestamp, store, with_id

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def test_lrs_must_set_the_stored_property(lrs, statement):
    """Data 2.4.8.s3.b2: "The "stored" property MUST be set by the LRS" -- as a Timestamp
    (Data 4.5.s1.b1: "A Timestamp MUST be formatted according to ISO 8601")."""
    stored = fetch(lrs, store(lrs, statement)[0])["stored"]

    assert parse_timestamp(stored).year >= 2024


def test_lrs_must_overwrite_a_stored_value_in_a_received_statement(lrs, statement):
    """Data 2.4.8.s3.b2: "An LRS SHOULD validate and then MUST overwrite any value currently in
    the "stored" property of a Statement it receives." """
    claimed = "2001-01-01T00:00:00.000Z"

    stored = fetch(lrs, store(lrs, {**statement, "stored": claimed})[0])["stored"]

    assert parse_timestamp(stored) != parse_timestamp(claimed)


def test_lrs_should_set_timestamp_to_stored_when_it_is_not_provided(lrs, statement):
    """Data 2.4.7.s3.b2: "The "timestamp" property SHOULD* be set by the LRS to the value of the
    "stored" property if not provided." """
    got = fetch(lrs, store(lrs, statement)[0])

    assert "timestamp" in got
    assert parse_timestamp(got["timestamp"]) == parse_timestamp(got["stored"])


def test_lrs_must_keep_the_point_in_time_of_a_provided_timestamp(lrs, statement):
    """Data 2.3.1.b4: the "timestamp" and "stored" properties "can be returned in a different
    timezone to the one with which they were stored so long as the point in time referenced is
    not affected." """
    sent = "2013-05-18T05:32:34.804+02:00"

    got = fetch(lrs, store(lrs, {**statement, "timestamp": sent})[0])

    assert parse_timestamp(got["timestamp"]) == parse_timestamp(sent)


def test_lrs_must_convert_a_timestamp_not_in_utc_to_utc_in_2_0(lrs, statement):
    """xAPI 2.0 (IEEE 9274.1.1) 4.2.7: "An LRS shall convert Timestamps to UTC rather than
    rejecting Statements that send Timestamps not in UTC form", in a SubStatement too. xAPI
    1.0.3 leaves it open (Data 2.3.1.b4: "can be returned in a different timezone")."""
    if not lrs.is_2_0:
        pytest.skip("2.0.0 only")
    sent = "2023-05-04T12:00:00.250-05:00"
    inner = {k: statement[k] for k in ("actor", "verb", "object")}
    sub = {"objectType": "SubStatement", **inner, "timestamp": sent}

    got = fetch(lrs, store(lrs, {**statement, "timestamp": sent, "object": sub})[0])

    assert got["timestamp"] == "2023-05-04T17:00:00.250Z"
    assert got["object"]["timestamp"] == "2023-05-04T17:00:00.250Z"


def test_lrs_must_preserve_timestamp_precision_to_at_least_milliseconds(lrs, statement):
    """Data 4.5.s1.b3: "A Timestamp MUST preserve precision to at least milliseconds (3 decimal
    points beyond seconds)." and 4.5.s1.b7: "A Timestamp MAY be truncated or rounded to a
    precision of at least 3 decimal digits for seconds." """
    sent = "2015-11-18T12:17:00.123456Z"

    got = parse_timestamp(fetch(lrs, store(lrs, {**statement, "timestamp": sent})[0])["timestamp"])

    assert abs(got - parse_timestamp(sent)) <= dt.timedelta(microseconds=500)


def test_lrs_must_ensure_every_stored_statement_has_an_authority(lrs, statement):
    """Data 2.4.9.s3.b3: "The LRS MUST ensure that all Statements stored have an authority." and
    2.4.9.s3.b2: "The LRS MUST include the user as an Agent as the entire authority if a user
    connects directly (using HTTP Basic Authentication)"."""
    authority = fetch(lrs, store(lrs, statement)[0])["authority"]

    assert authority.get("objectType", "Agent") in ("Agent", "Group")
    if authority.get("objectType", "Agent") == "Agent":
        assert sum(ifi in authority for ifi in IFIS) == 1, authority
    else:  # 2.4.9.s3.b1: "... in 3-legged OAuth, where it MUST be a Group with two Agents."
        assert len(authority["member"]) == 2, authority


def test_lrs_must_set_the_version_of_a_statement_received_without_one(lrs, statement):
    """Data 2.4.10.s3.b3: "Statements returned by an LRS MUST retain the version they are
    accepted with. If they lack a version, the version MUST be set to 1.0.0." (2.0.0 under
    xAPI 2.0)."""
    got = fetch(lrs, store(lrs, statement)[0])

    assert got["version"] == ("2.0.0" if lrs.is_2_0 else "1.0.0")


def test_lrs_must_retain_the_version_a_statement_was_accepted_with(lrs, statement):
    """Data 2.4.10.s3.b3: "Statements returned by an LRS MUST retain the version they are
    accepted with." with 2.4.10.s3.b1: "An LRS MUST accept all Statements where their version
    starts with 1.0. if they otherwise validate." """
    sent = "2.0.0" if lrs.is_2_0 else "1.0.1"

    got = fetch(lrs, store(lrs, {**statement, "version": sent})[0])

    assert got["version"] == sent


def test_lrs_must_accept_a_statement_whose_version_starts_with_1_0(lrs, statement):
    """Data 2.4.10.s3.b1: "An LRS MUST accept all Statements where their version starts with
    1.0. if they otherwise validate." (xAPI 2.0 keeps accepting 1.0.x Statements.)"""
    response = lrs.post_statements(with_id({**statement, "version": "1.0.9"}))

    assert response.status_code == 200, response.text


def test_lrs_must_return_every_context_activities_value_as_an_array(lrs, statement, unique):
    """Data 2.4.6.2.s4.b3: "The LRS MUST return every value in the contextActivities Object as
    an array, even if it arrived as a single Activity Object." and 2.4.6.2.s4.b4: "The LRS MUST
    return single Activity Objects as an array of length one containing the same Activity." """
    parent = {"objectType": "Activity", "id": f"http://example.com/parent/{unique}"}
    sent = {**statement, "context": {"contextActivities": {"parent": parent}}}

    got = fetch(lrs, store(lrs, sent)[0])

    assert got["context"]["contextActivities"]["parent"] == [parent]


def test_lrs_must_keep_numbers_with_at_least_32_bit_float_precision(lrs, statement):
    """Data 2.2.s4.b3: "The LRS MUST process and store numbers with at least the precision of
    IEEE 754 32-bit floating point numbers." """
    score = {"scaled": 0.1234567, "raw": 123.4567, "min": -1000.5, "max": 1000.25}

    got = fetch(lrs, store(lrs, {**statement, "result": {"score": score}})[0])

    for name, value in score.items():
        assert abs(got["result"]["score"][name] - value) <= abs(value) * 2**-23, name


def test_lrs_must_return_the_result_duration_as_received(lrs, statement):
    """Data 2.3.1.b8: "the Result Duration is considered a string for purposes of Statement
    comparison." -- it is not among the exceptions to immutability, so it comes back unchanged
    (4.6: "Durations are expected to be presented in the format in which they are recorded")."""
    got = fetch(lrs, store(lrs, {**statement, "result": {"duration": "PT1234S"}})[0])

    assert got["result"]["duration"] == "PT1234S"


def test_lrs_must_return_the_statement_unchanged_apart_from_the_listed_exceptions(
    lrs, statement, unique
):
    """Data 2.3.1: "Statements are immutable (they cannot be changed)." -- the exceptions are
    properties the LRS assigns, definitions, display, timestamp serialisation, member order,
    attachments and case-insensitive values; everything else comes back as sent."""
    sent = with_id(
        {
            **statement,
            "result": {"success": True, "completion": False, "response": "x", "extensions": {}},
            "context": {
                "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                "platform": "Example platform",
                "language": "en-US",
                "extensions": {f"http://example.com/ext/{unique}": {"a": [1, None, "b"]}},
            },
        }
    )
    store(lrs, sent)

    got = fetch(lrs, sent["id"], format="exact")

    for name in ("id", "actor", "verb", "object", "result", "context"):
        assert got[name] == sent[name], name
