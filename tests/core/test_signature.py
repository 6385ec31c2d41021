"""xAPI Data 2.6: Signed Statements."""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.xapi.multipart import parse_multipart_mixed
from core.xapi.signature import (
    RULE_ALGORITHM,
    RULE_COMPACT_SERIALIZATION,
    RULE_EQUIVALENT,
    RULE_PAYLOAD_IS_STATEMENT,
    RULE_SIGNATURE_ATTACHMENT,
    RULE_X509,
    SIGNATURE_USAGE_TYPE,
    verify_signed_statement,
)

HASHES = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def certificate(
    subject_key: Any, common_name: str, issuer_key: Any = None, issuer_name: str | None = None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(issuer_key or subject_key, hashes.SHA256())
    )


def x5c(*certificates: x509.Certificate) -> list[str]:
    der = (c.public_bytes(serialization.Encoding.DER) for c in certificates)
    return [base64.b64encode(d).decode() for d in der]


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def cert(key) -> x509.Certificate:
    return certificate(key, "Signer")


def sign(payload: Any, key: rsa.RSAPrivateKey, alg: str = "RS256", **header: Any) -> bytes:
    """A compact JWS; `payload` is JSON-encoded unless given as bytes."""
    encoded_header = b64url(json_bytes({"alg": alg, **header}))
    raw = payload if isinstance(payload, bytes) else json_bytes(payload)
    signing_input = encoded_header + b"." + b64url(raw)
    signature = key.sign(signing_input, padding.PKCS1v15(), HASHES.get(alg, hashes.SHA256()))
    return signing_input + b"." + b64url(signature)


def statement(**extra: Any) -> dict[str, Any]:
    return {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "mbox": "mailto:signer@example.com", "name": "Signer"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "done"}},
        "object": {"objectType": "Activity", "id": "http://example.com/activities/signed"},
        **extra,
    }


def with_signature(
    signed: dict[str, Any], jws: bytes, content_type: str = "application/octet-stream"
) -> dict[str, Any]:
    """The statement as sent: `signed` plus the signature attachment carrying `jws`."""
    attachment = {
        "usageType": SIGNATURE_USAGE_TYPE,
        "display": {"en-US": "Signature"},
        "contentType": content_type,
        "length": len(jws),
        "sha2": hashlib.sha256(jws).hexdigest(),
    }
    return {**signed, "attachments": [*signed.get("attachments", []), attachment]}


def rule_of(sent: dict[str, Any], jws: bytes) -> str:
    with pytest.raises(ValidationError) as error:
        verify_signed_statement(sent, jws)
    return error.value.rule


# --- accepted --------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_a_jws_using_rs256_rs384_or_rs512_verified_by_its_x5c_certificate_is_accepted(
    alg, key, cert
):
    jws = sign(statement(), key, alg, x5c=x5c(cert))
    verify_signed_statement(with_signature(statement(), jws), jws)


def test_a_jws_without_x5c_is_accepted_on_its_form_as_there_is_no_key_to_verify_against(key):
    jws = sign(statement(), key)
    verify_signed_statement(with_signature(statement(), jws), jws)


def test_the_payload_includes_the_attachments_the_statement_had_before_it_was_signed(key, cert):
    other = {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "essay"},
        "contentType": "text/plain",
        "length": 5,
        "sha2": hashlib.sha256(b"essay").hexdigest(),
    }
    signed = statement(attachments=[other])
    jws = sign(signed, key, x5c=x5c(cert))
    verify_signed_statement(with_signature(signed, jws), jws)


def test_properties_the_lrs_sets_after_signing_do_not_break_equivalence(key):
    signed = statement()
    del signed["id"]
    jws = sign(signed, key)
    stored = {
        **statement(),
        "stored": "2024-01-01T00:00:00.000Z",
        "timestamp": "2024-01-01T00:00:00.000Z",
        "version": "1.0.0",
        "authority": {"objectType": "Agent", "mbox": "mailto:lrs@example.com"},
    }
    verify_signed_statement(with_signature(stored, jws), jws)


def test_a_differently_serialized_but_equivalent_payload_is_accepted(key):
    signed = statement()
    reordered = {k: signed[k] for k in reversed(list(signed))}
    jws = sign(json.dumps(reordered, indent=2).encode(), key)
    verify_signed_statement(with_signature(signed, jws), jws)


def test_a_chain_whose_leaf_is_issued_by_the_next_certificate_is_accepted(key):
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = certificate(ca_key, "CA")
    leaf = certificate(key, "Signer", ca_key, "CA")
    jws = sign(statement(), key, x5c=x5c(leaf, ca))
    verify_signed_statement(with_signature(statement(), jws), jws)


# --- the signature attachment ----------------------------------------------------------------


def test_a_signature_attachment_must_have_content_type_application_octet_stream(key):
    jws = sign(statement(), key)
    sent = with_signature(statement(), jws, content_type="text/plain; charset=ascii")
    assert rule_of(sent, jws) == RULE_SIGNATURE_ATTACHMENT


def test_a_statement_with_two_signature_attachments_is_rejected(key):
    jws = sign(statement(), key)
    sent = with_signature(with_signature(statement(), jws), jws)
    assert rule_of(sent, jws) == RULE_SIGNATURE_ATTACHMENT


# --- malformed JWS ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "jws",
    [
        b"",
        b"abc",
        b"abc.def",
        b"a.b.c.d",
        b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln+/==",
        b'{"payload":"e30","signatures":[{"protected":"eyJhbGciOiJSUzI1NiJ9","signature":"c2ln"}]}',
    ],
    ids=["empty", "one-segment", "two-segments", "four-segments", "not-base64url", "json-serial"],
)
def test_jws_compact_serialization_is_required(jws):
    assert rule_of(with_signature(statement(), jws), jws) == RULE_COMPACT_SERIALIZATION


def test_a_jws_header_that_is_not_a_json_object_is_rejected():
    jws = b64url(b"[1]") + b"." + b64url(json_bytes(statement())) + b"." + b64url(b"sig")
    assert rule_of(with_signature(statement(), jws), jws) == RULE_COMPACT_SERIALIZATION


def test_a_jws_with_an_empty_signature_is_rejected(key):
    jws = sign(statement(), key).rpartition(b".")[0] + b"."
    assert rule_of(with_signature(statement(), jws), jws) == RULE_COMPACT_SERIALIZATION


def test_a_jws_with_critical_extensions_is_rejected(key):
    jws = sign(statement(), key, crit=["exp"], exp=1)
    assert rule_of(with_signature(statement(), jws), jws) == RULE_COMPACT_SERIALIZATION


def test_the_payload_must_be_a_valid_json_serialization_of_the_statement(key):
    broken = json_bytes(statement()).replace(b'"', b"'", 1)  # as the ADL suite's breakJson
    jws = sign(broken, key)
    assert rule_of(with_signature(statement(), jws), jws) == RULE_PAYLOAD_IS_STATEMENT


def test_a_payload_that_is_json_but_not_an_object_is_rejected(key):
    jws = sign([statement()], key)
    assert rule_of(with_signature(statement(), jws), jws) == RULE_PAYLOAD_IS_STATEMENT


# --- algorithm -------------------------------------------------------------------------------


def test_an_hs256_signature_is_rejected_whatever_its_secret(key):
    encoded = b64url(json_bytes({"alg": "HS256"})) + b"." + b64url(json_bytes(statement()))
    jws = encoded + b"." + b64url(hmac.new(b"secret", encoded, hashlib.sha256).digest())
    assert rule_of(with_signature(statement(), jws), jws) == RULE_ALGORITHM


def test_an_unsecured_jws_with_alg_none_is_rejected():
    encoded = b64url(json_bytes({"alg": "none"})) + b"." + b64url(json_bytes(statement()))
    jws = encoded + b"." + b64url(b"\x00")
    assert rule_of(with_signature(statement(), jws), jws) == RULE_ALGORITHM


def with_header(jws: bytes, header: dict[str, Any]) -> bytes:
    return b64url(json_bytes(header)) + jws[jws.index(b".") :]


@pytest.mark.parametrize(
    "header",
    [{"alg": "PS256"}, {"alg": "ES256"}, {"alg": "rs256"}, {"typ": "JWT"}, {"alg": ["RS256"]}],
)
def test_only_rs256_rs384_and_rs512_are_allowed(header, key):
    jws = with_header(sign(statement(), key), header)
    assert rule_of(with_signature(statement(), jws), jws) == RULE_ALGORITHM


# --- x5c -------------------------------------------------------------------------------------


def test_a_tampered_payload_does_not_verify_against_the_x5c_certificate(key, cert):
    jws = sign(statement(), key, x5c=x5c(cert))
    header, _, signature = jws.split(b".")
    tampered_statement = statement(result={"success": True})
    tampered = header + b"." + b64url(json_bytes(tampered_statement)) + b"." + signature
    assert rule_of(with_signature(tampered_statement, tampered), tampered) == RULE_X509


def test_a_jws_signed_by_another_key_than_the_x5c_certificate_is_rejected(cert):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jws = sign(statement(), other, x5c=x5c(cert))
    assert rule_of(with_signature(statement(), jws), jws) == RULE_X509


def test_an_rs384_header_over_an_rs256_signature_is_rejected(key, cert):
    jws = sign(statement(), key, "RS256", x5c=x5c(cert))
    forged = with_header(jws, {"alg": "RS384", "x5c": x5c(cert)})
    assert rule_of(with_signature(statement(), forged), forged) == RULE_X509


@pytest.mark.parametrize(
    "chain",
    [[], "MIIB", [42], ["not base64!"], [base64.b64encode(b"not a certificate").decode()]],
    ids=["empty", "not-a-list", "not-a-string", "not-base64", "not-der"],
)
def test_a_malformed_x5c_is_rejected(chain, key):
    jws = sign(statement(), key, x5c=chain)
    assert rule_of(with_signature(statement(), jws), jws) == RULE_X509


def test_an_x5c_certificate_without_an_rsa_key_is_rejected(key):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jws = sign(statement(), key, x5c=x5c(certificate(ec_key, "EC signer")))
    assert rule_of(with_signature(statement(), jws), jws) == RULE_X509


def test_a_chain_whose_certificates_are_not_issued_by_the_next_is_rejected(key, cert):
    stranger = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048), "CA")
    jws = sign(statement(), key, x5c=x5c(cert, stranger))
    assert rule_of(with_signature(statement(), jws), jws) == RULE_X509


# --- equivalence -----------------------------------------------------------------------------


def test_a_payload_differing_from_the_statement_is_rejected(key):
    jws = sign(statement(), key)
    sent = with_signature(statement(result={"success": False}), jws)
    assert rule_of(sent, jws) == RULE_EQUIVALENT


def test_a_payload_for_another_actor_is_rejected_even_with_a_valid_x5c_signature(key, cert):
    signed = statement(actor={"objectType": "Agent", "mbox": "mailto:someone@example.com"})
    jws = sign(signed, key, x5c=x5c(cert))
    assert rule_of(with_signature(statement(), jws), jws) == RULE_EQUIVALENT


def test_errors_carry_the_path_of_the_signature_attachment(key):
    jws = sign(statement(), key, "HS256")
    with pytest.raises(ValidationError) as error:
        verify_signed_statement(with_signature(statement(), jws), jws)
    assert error.value.path == "$.attachments[0]"
    assert error.value.at("$[2]").path == "$[2].attachments[0]"


# --- robustness ------------------------------------------------------------------------------

_SEGMENTS = st.one_of(
    st.binary(max_size=40).map(b64url),
    st.sampled_from([{"alg": "RS256"}, {"alg": "RS256", "x5c": ["AAAA"]}, {}, [], "x", 1]).map(
        lambda value: b64url(json_bytes(value))
    ),
    st.binary(max_size=12),
)


@given(st.lists(_SEGMENTS, max_size=4).map(b".".join) | st.binary(max_size=200))
def test_random_signatures_raise_nothing_but_validation_errors(jws):
    with contextlib.suppress(ValidationError):
        verify_signed_statement(with_signature(statement(), jws), jws)


def test_a_signed_statement_sent_as_the_adl_suite_sends_it_is_accepted(key):
    signed = statement()
    jws = sign(signed, key)
    sent = with_signature(signed, jws)
    boundary = "-------------1234567"
    body = b"".join(
        [
            f"\r\n--{boundary}\r\nContent-Type:application/json\r\n\r\n".encode(),
            json_bytes(sent),
            f"\r\n--{boundary}\r\nContent-Type:application/octet-stream\r\n"
            "Content-Transfer-Encoding:binary\r\n"
            f"X-Experience-API-Hash:{hashlib.sha256(jws).hexdigest()}\r\n\r\n".encode(),
            jws,
            f"\r\n--{boundary}--".encode(),
        ]
    )
    statements_json, parts = parse_multipart_mixed(body, f"multipart/mixed; boundary={boundary}")
    received = json.loads(statements_json)
    verify_signed_statement(received, parts[received["attachments"][0]["sha2"]])
