"""Data 2.6 Signed Statements.

A Signed Statement carries a JSON web signature (JWS) of itself as an Attachment with usageType
http://adlnet.gov/expapi/attachments/signature. The signatures here are JWS Compact
Serializations made with a fresh RSA key whose self-signed X.509 certificate is in "x5c".
"""

from __future__ import annotations

import pytest
from support import absent, describe, jws, post_multipart, signed, verb, with_id


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_lrs_must_accept_a_statement_with_a_well_formed_rsa_signature(lrs, statement, alg):
    """Data 2.6.s4.b4: "The JWS signature MUST use an algorithm of "RS256","RS384", or "RS512"."
    -- a Statement signed so, whose payload is the Statement itself, is well formed and
    accepted."""
    original = with_id(statement)
    body, part = signed(original, jws(original, alg))

    response = post_multipart(lrs, [body], [part])

    assert response.status_code == 200, describe(response)
    assert response.json() == [original["id"]]


def test_lrs_must_reject_a_signature_whose_payload_differs_from_the_statement(
    lrs, statement, unique
):
    """Data 2.6.s5.b3.b2: "Validate that the original Statement is logically equivalent to the
    received Statement." with 2.6.s5.b1: "The LRS MUST reject requests to store Statements that
    contain malformed signatures, with 400 Bad Request." """
    original = with_id(statement)
    tampered = {**original, "verb": verb(unique, "tampered")}
    body, part = signed(tampered, jws(original))

    response = post_multipart(lrs, [body], [part])

    assert response.status_code == 400, describe(response)
    assert absent(lrs, original["id"])


def test_lrs_must_reject_a_signature_using_an_algorithm_other_than_rs256_rs384_rs512(
    lrs, statement
):
    """Data 2.6.s4.b4: "The JWS signature MUST use an algorithm of "RS256","RS384", or "RS512"."
    and 2.6.s5.b3.b4: "Validate that the signature requirements outlined above have been
    met." """
    original = with_id(statement)
    body, part = signed(original, jws(original, "HS256"))

    response = post_multipart(lrs, [body], [part])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_a_signature_that_does_not_verify_against_its_x5c_certificate(
    lrs, statement
):
    """Data 2.6.s5.b3.b3: "If the JWS header includes an X.509 certificate, validate the
    signature against that certificate as defined in JWS." """
    original = with_id(statement)
    header, payload, signature = jws(original).split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    body, part = signed(original, f"{header}.{payload}.{flipped}")

    response = post_multipart(lrs, [body], [part])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_a_signature_that_is_not_a_jws(lrs, statement):
    """Data 2.6.s5.b3.b1: "Decode the JWS signature, and load the signed serialization of the
    Statement from the JWS signature payload." -- what cannot be decoded is malformed and
    rejected with 400 Bad Request (2.6.s5.b1)."""
    original = with_id(statement)
    body, part = signed(original, "this is not a JSON web signature")

    response = post_multipart(lrs, [body], [part])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_a_signature_attachment_not_of_type_application_octet_stream(
    lrs, statement
):
    """Data 2.6.s4.b1: "A Signed Statement MUST include a JSON web signature (JWS) ... as an
    Attachment with a usageType of http://adlnet.gov/expapi/attachments/signature and a
    contentType of application/octet-stream." """
    original = with_id(statement)
    body, part = signed(original, jws(original), content_type="text/plain")

    response = post_multipart(lrs, [body], [part])

    assert response.status_code == 400, describe(response)
