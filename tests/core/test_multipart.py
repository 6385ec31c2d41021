"""xAPI Communication 1.5.2 (multipart/mixed) and Data 2.4.11 (Attachments)."""

from __future__ import annotations

import contextlib
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import BadRequest, HyperEduError, ValidationError
from core.xapi.models import Activity, Agent, Attachment, Statement, SubStatement, Verb
from core.xapi.multipart import (
    RULE_ATTACHMENT_HAS_DATA,
    RULE_BINARY_ENCODING,
    RULE_FIRST_PART_JSON,
    RULE_HASH_HEADER,
    RULE_PARAMETERS_MATCH,
    RULE_SHA2_OF_DATA,
    build_multipart_mixed,
    check_attachments_present,
    parse_multipart_mixed,
)

BOUNDARY = "-------314159265358979323846"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"
TEXT = b"here is a simple attachment"
TEXT_SHA2 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
STATEMENT_JSON = b'{"actor":{"mbox":"mailto:a@example.com"}}'


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment_part(
    content: bytes,
    *,
    sha2: str | None = None,
    encoding: str | None = "binary",
    extra: str = "",
) -> tuple[str, bytes]:
    headers = "Content-Type: application/octet-stream\r\n" + extra
    if encoding is not None:
        headers += f"Content-Transfer-Encoding: {encoding}\r\n"
    if sha2 != "":
        headers += f"X-Experience-API-Hash: {sha2 or sha256(content)}\r\n"
    return headers, content


def body(*parts: tuple[str, bytes], first_type: str = "application/json", nl: bytes = b"\r\n"):
    """A multipart/mixed body: the statements part, then `parts` as (headers, content)."""
    delimiter = b"--" + BOUNDARY.encode()
    chunks = [delimiter, nl, f"Content-Type: {first_type}".encode(), nl, nl, STATEMENT_JSON]
    for headers, content in parts:
        chunks += [nl, delimiter, nl, headers.replace("\r\n", nl.decode()).encode(), nl, content]
    chunks += [nl, delimiter, b"--", nl]
    return b"".join(chunks)


def statement(*attachments: Attachment, sub: list[Attachment] | None = None) -> Statement:
    activity = Activity(id="http://example.com/activities/1")
    return Statement(
        actor=Agent(mbox="mailto:a@example.com"),
        verb=Verb(id="http://adlnet.gov/expapi/verbs/answered"),
        object=activity
        if sub is None
        else SubStatement(
            actor=Agent(mbox="mailto:b@example.com"),
            verb=Verb(id="http://adlnet.gov/expapi/verbs/answered"),
            object=activity,
            attachments=sub,
        ),
        attachments=list(attachments),
    )


def attachment(sha2: str, file_url: str | None = None) -> Attachment:
    extra = {} if file_url is None else {"file_url": file_url}
    return Attachment(
        usage_type="http://example.com/attachment-usage/test",
        display={"en-US": "A test attachment"},
        content_type="text/plain",
        length=27,
        sha2=sha2,
        **extra,
    )


# --- framing ---------------------------------------------------------------------------------


def test_the_spec_example_is_accepted():
    spec_body = (
        b"--abcABC0123'()+_,-./:=?\r\n"
        b"Content-Type:application/json\r\n\r\n" + STATEMENT_JSON + b"\r\n"
        b"--abcABC0123'()+_,-./:=?\r\n"
        b"Content-Type:text/plain\r\n"
        b"Content-Transfer-Encoding:binary\r\n"
        b"X-Experience-API-Hash:" + TEXT_SHA2.encode() + b"\r\n\r\n" + TEXT + b"\r\n"
        b"--abcABC0123'()+_,-./:=?--"
    )
    statements, parts = parse_multipart_mixed(
        spec_body, 'multipart/mixed; boundary="abcABC0123\'()+_,-./:=?"'
    )
    assert statements == STATEMENT_JSON
    assert parts == {TEXT_SHA2: TEXT}


def test_a_body_framed_with_bare_lf_is_accepted_as_the_adl_suite_sends_it():
    statements, parts = parse_multipart_mixed(body(attachment_part(TEXT), nl=b"\n"), CONTENT_TYPE)
    assert statements == STATEMENT_JSON
    assert parts == {TEXT_SHA2: TEXT}


def test_a_preamble_and_an_epilogue_are_ignored():
    framed = b"preamble\r\n" + body(attachment_part(TEXT)) + b"epilogue\r\n"
    assert parse_multipart_mixed(framed, CONTENT_TYPE) == (STATEMENT_JSON, {TEXT_SHA2: TEXT})


def test_a_body_starting_with_crlf_and_ending_at_the_close_delimiter_is_accepted():
    framed = b"\r\n" + body(attachment_part(TEXT)).removesuffix(b"\r\n")
    assert parse_multipart_mixed(framed, CONTENT_TYPE) == (STATEMENT_JSON, {TEXT_SHA2: TEXT})


def test_a_multipart_request_need_not_carry_attachments():
    assert parse_multipart_mixed(body(), CONTENT_TYPE) == (STATEMENT_JSON, {})


def test_transport_padding_after_a_boundary_is_allowed():
    framed = body(attachment_part(TEXT)).replace(
        f"--{BOUNDARY}\r\n".encode(), f"--{BOUNDARY} \t\r\n".encode()
    )
    assert parse_multipart_mixed(framed, CONTENT_TYPE) == (STATEMENT_JSON, {TEXT_SHA2: TEXT})


def test_folded_headers_are_unfolded():
    headers, content = attachment_part(TEXT)
    folded = headers.replace(
        "Content-Transfer-Encoding: binary", "Content-Transfer-Encoding:\r\n binary"
    )
    assert parse_multipart_mixed(body((folded, content)), CONTENT_TYPE)[1] == {TEXT_SHA2: TEXT}


def test_a_boundary_is_defined_by_the_boundary_parameter_which_is_required():
    with pytest.raises(BadRequest, match="no boundary"):
        parse_multipart_mixed(body(attachment_part(TEXT)), "multipart/mixed;")


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=x", "application/json"])
def test_attachments_are_rejected_in_any_content_type_but_multipart_mixed(content_type):
    with pytest.raises(BadRequest, match="expected Content-Type multipart/mixed"):
        parse_multipart_mixed(body(attachment_part(TEXT)), content_type)


def test_a_boundary_longer_than_70_characters_is_rejected():
    with pytest.raises(BadRequest, match="not valid"):
        parse_multipart_mixed(b"", "multipart/mixed; boundary=" + "a" * 71)


def test_a_body_without_its_boundary_is_rejected():
    with pytest.raises(BadRequest, match="does not contain its boundary"):
        parse_multipart_mixed(STATEMENT_JSON, CONTENT_TYPE)


def test_a_body_without_a_closing_boundary_is_rejected():
    truncated = body(attachment_part(TEXT)).removesuffix(f"\r\n--{BOUNDARY}--\r\n".encode())
    with pytest.raises(BadRequest, match="closing boundary"):
        parse_multipart_mixed(truncated, CONTENT_TYPE)


def test_a_body_with_no_parts_is_rejected():
    with pytest.raises(BadRequest, match="no parts"):
        parse_multipart_mixed(f"--{BOUNDARY}--\r\n".encode(), CONTENT_TYPE)


def test_a_part_without_a_blank_line_after_its_headers_is_rejected():
    framed = body((("Content-Type: text/plain\r\nContent-Transfer-Encoding: binary"), b""))
    framed = framed.replace(b"binary\r\n\r\n", b"binary\r\n")
    with pytest.raises(BadRequest, match="no blank line"):
        parse_multipart_mixed(framed, CONTENT_TYPE)


def test_a_header_line_without_a_name_is_rejected_as_in_the_adl_too_many_parts_case():
    headers = (
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n" + TEXT_SHA2 + "\r\n"
    )
    with pytest.raises(BadRequest, match="malformed header line"):
        parse_multipart_mixed(body((headers, TEXT)), CONTENT_TYPE)


# --- part rules ------------------------------------------------------------------------------


def test_the_first_part_must_contain_the_statements_with_type_application_json():
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(attachment_part(TEXT), first_type="text/plain"), CONTENT_TYPE)
    assert error.value.rule == RULE_FIRST_PART_JSON


def test_the_first_part_content_type_may_carry_parameters():
    framed = body(first_type="application/json; charset=utf-8")
    assert parse_multipart_mixed(framed, CONTENT_TYPE)[0] == STATEMENT_JSON


def test_statements_split_over_two_json_parts_are_rejected():
    second_statement = ("Content-Type: application/json\r\n", STATEMENT_JSON)
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(second_statement), CONTENT_TYPE)
    assert error.value.rule == RULE_BINARY_ENCODING


def test_each_part_after_the_first_must_include_an_x_experience_api_hash():
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(attachment_part(TEXT, sha2="")), CONTENT_TYPE)
    assert error.value.rule == RULE_HASH_HEADER


def test_an_x_experience_api_hash_that_is_not_a_hex_sha2_is_rejected():
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(attachment_part(TEXT, sha2="z" * 64)), CONTENT_TYPE)
    assert error.value.rule == RULE_HASH_HEADER


def test_content_that_does_not_hash_to_its_x_experience_api_hash_is_rejected():
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(attachment_part(TEXT, sha2=sha256(b"other"))), CONTENT_TYPE)
    assert error.value.rule == RULE_SHA2_OF_DATA


@pytest.mark.parametrize("digest", [hashlib.sha224, hashlib.sha384, hashlib.sha512])
def test_any_sha2_function_may_populate_the_hash(digest):
    sha2 = digest(TEXT).hexdigest()
    assert parse_multipart_mixed(body(attachment_part(TEXT, sha2=sha2)), CONTENT_TYPE)[1] == {
        sha2: TEXT
    }


def test_an_uppercase_x_experience_api_hash_is_keyed_in_lowercase():
    framed = body(attachment_part(TEXT, sha2=TEXT_SHA2.upper()))
    assert parse_multipart_mixed(framed, CONTENT_TYPE)[1] == {TEXT_SHA2: TEXT}


@pytest.mark.parametrize("encoding", [None, "base64", "8bit"])
def test_each_part_after_the_first_must_have_content_transfer_encoding_binary(encoding):
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(attachment_part(TEXT, encoding=encoding)), CONTENT_TYPE)
    assert error.value.rule == RULE_BINARY_ENCODING


def test_header_names_and_the_binary_value_are_case_insensitive():
    headers = (
        "content-type: text/plain\r\ncontent-transfer-encoding: BINARY\r\n"
        f"x-experience-api-hash: {TEXT_SHA2}\r\n"
    )
    assert parse_multipart_mixed(body((headers, TEXT)), CONTENT_TYPE)[1] == {TEXT_SHA2: TEXT}


def test_a_content_length_parameter_must_match_the_part():
    part = attachment_part(TEXT, extra="Content-Length: 26\r\n")
    with pytest.raises(ValidationError) as error:
        parse_multipart_mixed(body(part), CONTENT_TYPE)
    assert error.value.rule == RULE_PARAMETERS_MATCH


def test_binary_content_with_crlf_dashes_and_the_boundary_inside_lines_survives_intact():
    content = (
        b"x\r\n\r\n--\r\n\x00\xff\r"
        + f"\r\n--{BOUNDARY}x\r\n".encode()  # the boundary followed by text is no delimiter
        + f"abc--{BOUNDARY}\r\n".encode()  # not at the start of a line
        + bytes(range(256))
        + b"\r\n"
    )
    _, parts = parse_multipart_mixed(body(attachment_part(content)), CONTENT_TYPE)
    assert parts == {sha256(content): content}


def test_several_parts_are_keyed_by_their_hash():
    contents = [b"one", b"two\r\n", b"\r\nthree"]
    parts = parse_multipart_mixed(body(*map(attachment_part, contents)), CONTENT_TYPE)[1]
    assert parts == {sha256(c): c for c in contents}


def test_the_same_attachment_sent_twice_is_kept_once():
    parts = parse_multipart_mixed(body(attachment_part(TEXT), attachment_part(TEXT)), CONTENT_TYPE)
    assert parts[1] == {TEXT_SHA2: TEXT}


def test_a_5_mb_part_is_parsed_whole():
    content = bytes(range(256)) * (5 * 1024 * 1024 // 256) + b"\r\n--tail"
    parts = parse_multipart_mixed(body(attachment_part(content)), CONTENT_TYPE)[1]
    assert parts[sha256(content)] == content


def test_many_small_parts_are_parsed():
    contents = [str(i).encode() for i in range(2000)]
    parts = parse_multipart_mixed(body(*map(attachment_part, contents)), CONTENT_TYPE)[1]
    assert len(parts) == 2000


# --- attachments against parts ---------------------------------------------------------------


def test_every_attachment_matched_by_a_part_is_accepted():
    check_attachments_present([statement(attachment(TEXT_SHA2))], {TEXT_SHA2: TEXT})


def test_an_attachment_neither_with_a_file_url_nor_a_matching_part_is_rejected():
    other = sha256(b"other")
    with pytest.raises(ValidationError) as error:
        check_attachments_present(
            [statement(), statement(attachment(TEXT_SHA2), attachment(other))], {TEXT_SHA2: TEXT}
        )
    assert error.value.rule == RULE_ATTACHMENT_HAS_DATA
    assert error.value.path == "$[1].attachments[1]"


def test_an_application_json_batch_whose_attachments_all_have_a_file_url_is_accepted():
    check_attachments_present([statement(attachment(TEXT_SHA2, "http://over.there.com/f"))], {})


def test_an_application_json_batch_with_an_attachment_lacking_a_file_url_is_rejected():
    batch = [
        statement(attachment(TEXT_SHA2, "http://over.there.com/f")),
        statement(attachment(TEXT_SHA2)),
    ]
    with pytest.raises(ValidationError) as error:
        check_attachments_present(batch, {})
    assert error.value.rule == RULE_ATTACHMENT_HAS_DATA


def test_a_part_matching_no_attachment_sha2_is_rejected():
    extra = sha256(b"extra")
    with pytest.raises(ValidationError) as error:
        check_attachments_present(
            [statement(attachment(TEXT_SHA2))], {TEXT_SHA2: TEXT, extra: b"extra"}
        )
    assert error.value.rule == RULE_HASH_HEADER
    assert extra in error.value.message


def test_a_part_may_carry_data_for_an_attachment_that_also_has_a_file_url():
    check_attachments_present(
        [statement(attachment(TEXT_SHA2, "http://over.there.com/f"))], {TEXT_SHA2: TEXT}
    )


def test_one_part_serves_the_same_attachment_in_several_statements():
    check_attachments_present(
        [statement(attachment(TEXT_SHA2)), statement(attachment(TEXT_SHA2))], {TEXT_SHA2: TEXT}
    )


def test_attachment_sha2_matches_parts_case_insensitively():
    check_attachments_present([statement(attachment(TEXT_SHA2.upper()))], {TEXT_SHA2: TEXT})


def test_a_substatement_attachment_needs_its_data_like_any_other():
    with pytest.raises(ValidationError) as error:
        check_attachments_present([statement(sub=[attachment(TEXT_SHA2)])], {})
    assert error.value.path == "$[0].object.attachments[0]"
    check_attachments_present([statement(sub=[attachment(TEXT_SHA2)])], {TEXT_SHA2: TEXT})


def test_adl_too_few_parts_parses_but_fails_the_attachment_check():
    other = "7063d0a4cfa93373753ad2f5a6ffcf684559fb1df3c2f0473a14ece7d4edb06a"
    _, parts = parse_multipart_mixed(body(attachment_part(TEXT)), CONTENT_TYPE)
    with pytest.raises(ValidationError):
        check_attachments_present([statement(attachment(TEXT_SHA2), attachment(other))], parts)


# --- responses -------------------------------------------------------------------------------


def test_a_response_with_attachments_is_multipart_mixed_with_each_part_described():
    statements_json = json.dumps({"statements": [], "more": ""}).encode()
    content = b"\r\n--binary\r\n\x00"
    response, content_type = build_multipart_mixed(
        statements_json, [(sha256(content), "image/png", content)]
    )
    assert content_type.startswith("multipart/mixed; boundary=")
    boundary = content_type.partition("boundary=")[2]
    assert response.startswith(f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode())
    assert (
        f"Content-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n"
        f"X-Experience-API-Hash: {sha256(content)}\r\n\r\n".encode()
    ) in response
    assert response.endswith(f"\r\n--{boundary}--\r\n".encode())
    assert parse_multipart_mixed(response, content_type) == (
        statements_json,
        {sha256(content): content},
    )


def test_a_response_sends_an_attachment_shared_by_statements_once():
    response, _ = build_multipart_mixed(
        STATEMENT_JSON, [(TEXT_SHA2, "text/plain", TEXT), (TEXT_SHA2.upper(), "text/plain", TEXT)]
    )
    assert response.count(b"X-Experience-API-Hash") == 1


def test_a_content_type_that_cannot_be_a_header_is_sent_as_octet_stream():
    response, _ = build_multipart_mixed(
        STATEMENT_JSON, [(TEXT_SHA2, "text/plain\r\nX-Injected: 1", TEXT)]
    )
    assert b"X-Injected" not in response
    assert b"Content-Type: application/octet-stream\r\n" in response


def test_a_response_without_attachments_is_still_well_formed():
    response, content_type = build_multipart_mixed(STATEMENT_JSON, [])
    assert parse_multipart_mixed(response, content_type) == (STATEMENT_JSON, {})


# --- robustness ------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        f"--{BOUNDARY}".encode(),
        b"--",
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b":",
        b"Content-Type: application/json",
        b"Content-Transfer-Encoding: binary",
        b"X-Experience-API-Hash: " + TEXT_SHA2.encode(),
        b"Content-Length: 27",
        TEXT,
    ]
)


@given(st.binary(max_size=2048), st.text(max_size=80))
def test_random_bytes_raise_nothing_but_our_errors(data, content_type):
    for header in (content_type, CONTENT_TYPE):
        with contextlib.suppress(HyperEduError):
            parse_multipart_mixed(data, header)


@given(st.lists(_FRAGMENTS | st.binary(max_size=8), max_size=60))
def test_near_valid_bodies_raise_nothing_but_our_errors(fragments):
    try:
        _, parts = parse_multipart_mixed(b"".join(fragments), CONTENT_TYPE)
    except HyperEduError:
        return
    assert all(sha256(content) == sha2 or len(sha2) != 64 for sha2, content in parts.items())


_VALID = body(attachment_part(TEXT), attachment_part(b"\r\n--\r\n"))


@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_VALID)), st.integers(0, 12), _FRAGMENTS | st.binary(max_size=4)
        ),
        max_size=4,
    )
)
def test_mutated_valid_bodies_raise_nothing_but_our_errors(splices):
    mutated = _VALID
    for at, width, fragment in splices:
        mutated = mutated[:at] + fragment + mutated[at + width :]
    try:
        _, parts = parse_multipart_mixed(mutated, CONTENT_TYPE)
    except HyperEduError:
        return
    assert all(sha256(content) == sha2 for sha2, content in parts.items())
