"""xAPI Data 4 (special data types): the string forms `validate_statement` relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.xapi.models import Activity, Agent, Group, Statement, Verb
from core.xapi.validate import (
    is_duration,
    is_iri,
    is_language_tag,
    is_media_type,
    is_sha2_hex,
    is_timestamp,
    is_uuid,
    validate_statement,
)


@pytest.mark.parametrize(
    "tag",
    [
        "de",
        "ine",
        "zh-Hant",
        "sr-Latn",
        "zh-cmn-Hans-CN",
        "sr-Latn-RS",
        "sl-rozaj-biske",
        "de-CH-1901",
        "hy-Latn-IT-arevela",
        "de-DE",
        "az-Arab-x-AZE-derbend",
        "x-whatever",
        "i-enochian",
        "en-US",
        "es-419",
        "EN-us",
        "en-a-bbb-x-a-ccc",
        "zh-min-nan",
    ],
)
def test_language_map_keys_accept_valid_rfc_5646_tags(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag",
    [
        "de-419-DE",
        "a-DE",
        "ar-a-aaa-b-bbb-a-ccc",
        "",
        "en_US",
        "en-",
        "-en",
        "de-1901-1901",
        "toolongprimary-en",
        "en-US-",
    ],
)
def test_language_map_keys_reject_tags_breaking_the_rfc_5646_token_lengths(tag: str) -> None:
    assert not is_language_tag(tag)


@pytest.mark.parametrize(
    "value",
    [
        "2013-05-18T05:32:34.804Z",
        "2013-05-18T05:32:34.804+00:00",
        "2013-05-18T05:32:34-05:00",
        "2013-05-18T05:32:34",
        "20130518T053234Z",
        "2013-05-18T05:32Z",
        "2013-05-18T05:32:34,5+0100",
        "2016-12-31T23:59:60Z",
        "2013-05-18T05:32:34.123456789+01",
    ],
)
def test_a_timestamp_is_an_iso_8601_date_and_time(value: str) -> None:
    assert is_timestamp(value)


@pytest.mark.parametrize(
    "value",
    [
        "should fail",
        "01/011/2015",
        "2013-05-18",
        "2008-09-15T15:53:00.601-00",
        "2008-09-15T15:53:00.601-0000",
        "2008-09-15T15:53:00.601-00:00",
        "2013-13-18T05:32:34Z",
        "2013-02-29T05:32:34Z",
        "2013-05-18T25:32:34Z",
        "2013-05-18 05:32:34Z",
        "2013-05-18T05:32:34+25:00",
        "2013-W20-1T05:32:34Z",
    ],
)
def test_an_lrs_rejects_a_timestamp_that_is_not_iso_8601(value: str) -> None:
    assert not is_timestamp(value)


def test_xapi_2_accepts_rfc_3339_timestamps_with_a_space_separator() -> None:
    assert is_timestamp("2008-09-15 15:53:00.601+00:00", v2=True)
    assert not is_timestamp("2008-09-15 15:53:00.601-00:00", v2=True)


@pytest.mark.parametrize(
    "value",
    [
        "PT1H0M0.1S",
        "PT4H35M59.14S",
        "PT16559.14S",
        "P3Y1M29DT4H35M59.14S",
        "P3Y",
        "P4W",
        "P0D",
        "PT0S",
        "P1Y2M",
    ],
)
def test_a_duration_is_an_iso_8601_duration(value: str) -> None:
    assert is_duration(value)


@pytest.mark.parametrize(
    "value",
    ["PA1H0M0S", "should fail", "P", "PT", "P1YT", "P0003-01-29T04:35:59", "1H", "PT1.5"],
)
def test_an_lrs_rejects_a_duration_that_is_not_iso_8601(value: str) -> None:
    assert not is_duration(value)


@pytest.mark.parametrize(
    "value",
    [
        "http://example.com/a",
        "urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "mailto:a@b.c",
        "https://例え.jp/パス",
        "tag:example.com,2024:x",
        "http://x.com/%20",
    ],
)
def test_an_iri_is_absolute(value: str) -> None:
    assert is_iri(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "example.com",
        "/relative",
        "ab=c://should.fail.com",
        "http://a b",
        "http:",
        "1http://x",
        "http://x.com/%zz",
    ],
)
def test_an_iri_without_a_scheme_or_with_bad_characters_is_rejected(value: str) -> None:
    assert not is_iri(value)


def test_uuids_are_in_standard_string_form_in_either_case() -> None:
    assert is_uuid("fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
    assert is_uuid("FD41C918-B88B-4B20-A0A5-A4C32391AAA0")
    assert not is_uuid("fd41c918b88b4b20a0a5a4c32391aaa0")
    assert not is_uuid("{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}")


def test_sha2_is_hex_of_a_sha_2_digest_length() -> None:
    assert is_sha2_hex("a" * 64)
    assert is_sha2_hex("A" * 128)
    assert not is_sha2_hex("a" * 40)
    assert not is_sha2_hex("g" * 64)


def test_content_type_is_an_internet_media_type() -> None:
    assert is_media_type("application/octet-stream")
    assert is_media_type('text/plain; charset="ascii"')
    assert not is_media_type("text")
    assert not is_media_type("text/plain;")


def _statement(actor: Agent | Group) -> Statement:
    return Statement(
        actor=actor, verb=Verb(id="http://example.com/v"), object=Activity(id="http://x.com")
    )


def test_validate_statement_names_the_rule_and_path() -> None:
    with pytest.raises(ValidationError) as info:
        validate_statement(
            _statement(Agent(mbox="mailto:a@b.c", openid="http://o.com")), "1.0.3", "$[1]"
        )
    assert info.value.path == "$[1].actor"
    assert "exactly one inverse functional identifier" in info.value.rule


@given(st.text(max_size=30))
def test_the_string_predicates_never_raise(value: str) -> None:
    for predicate in (is_iri, is_language_tag, is_duration, is_uuid, is_media_type, is_sha2_hex):
        predicate(value)
    is_timestamp(value)
    is_timestamp(value, v2=True)
