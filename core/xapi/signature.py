"""Signed statements (xAPI Data 2.6): checking the JWS carried as a signature attachment.

The LRS checks that a signature is well formed, not that it is trustworthy (2.6.s5 and its note):
the JWS must decode, use RS256/RS384/RS512, carry the statement as it was before the signature
was added, and - only when its header carries an X.509 chain in `x5c` - verify against the first
certificate of that chain. Without `x5c` there is no key to verify against, and the statement is
accepted on its form alone.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from typing import Any

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.errors import ValidationError
from core.xapi.compare import statements_equivalent

SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"

RULE_SIGNATURE_ATTACHMENT = (
    "A signed Statement MUST carry its JWS as one attachment of usageType "
    f"{SIGNATURE_USAGE_TYPE} and contentType {SIGNATURE_CONTENT_TYPE} (Data 2.6.s4.b1)"
)
RULE_COMPACT_SERIALIZATION = (
    "A signature MUST be a well-formed JWS in compact serialization (Data 2.6.s4.b2, 2.6.s5.b1)"
)
RULE_PAYLOAD_IS_STATEMENT = (
    "The JWS payload MUST be a valid JSON serialization of the complete Statement (Data 2.6.s4.b3)"
)
RULE_ALGORITHM = "The JWS MUST use the algorithm RS256, RS384 or RS512 (Data 2.6.s4.b4)"
RULE_EQUIVALENT = (
    "The JWS payload MUST be logically equivalent to the Statement received (Data 2.6.s5.b3.b2)"
)
RULE_X509 = (
    "A JWS whose header includes an X.509 certificate MUST verify against it (Data 2.6.s5.b3.b3)"
)

_HASH_BY_ALGORITHM: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


def verify_signed_statement(statement: dict[str, Any], signature_part: bytes) -> None:
    """Check the JWS of a signed statement, raising `ValidationError` on the first fault.

    `statement` is one statement as decoded from the request's JSON, whose `attachments` hold
    exactly one attachment of usageType `SIGNATURE_USAGE_TYPE`; `signature_part` is that
    attachment's data, a JWS in compact serialization.
    """
    index = _signature_attachment_index(statement)
    signing_input, header, payload, signature = _decode_compact(signature_part)
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in _HASH_BY_ALGORITHM:
        raise ValidationError(
            RULE_ALGORITHM,
            f"$.attachments[{index}]",
            f"the JWS algorithm must be RS256, RS384 or RS512, not {algorithm!r}",
        )
    if "crit" in header:
        raise ValidationError(
            RULE_COMPACT_SERIALIZATION,
            f"$.attachments[{index}]",
            "the JWS header names critical extensions this LRS does not understand",
        )
    if "x5c" in header:
        _verify_with_certificate(header["x5c"], algorithm, signing_input, signature, index)
    _check_equivalent(payload, _statement_before_signing(statement, index))


def _signature_attachment_index(statement: dict[str, Any]) -> int:
    attachments = statement.get("attachments")
    signatures = [
        (i, attachment)
        for i, attachment in enumerate(attachments if isinstance(attachments, list) else ())
        if isinstance(attachment, dict) and attachment.get("usageType") == SIGNATURE_USAGE_TYPE
    ]
    if len(signatures) != 1:
        raise ValidationError(
            RULE_SIGNATURE_ATTACHMENT,
            "$.attachments",
            f"a signed statement has exactly one signature attachment, found {len(signatures)}",
        )
    index, attachment = signatures[0]
    content_type = str(attachment.get("contentType", ""))
    if content_type.partition(";")[0].strip().lower() != SIGNATURE_CONTENT_TYPE:
        raise ValidationError(
            RULE_SIGNATURE_ATTACHMENT,
            f"$.attachments[{index}].contentType",
            f"a signature attachment has contentType {SIGNATURE_CONTENT_TYPE}, not "
            f"{content_type!r}",
        )
    return index


def _decode_compact(jws: bytes) -> tuple[bytes, dict[str, Any], dict[str, Any], bytes]:
    """Split a compact JWS into (signing input, header, payload, signature)."""
    segments = jws.strip().split(b".")
    if len(segments) != 3 or not all(_BASE64URL.fullmatch(s) for s in segments):
        raise ValidationError(
            RULE_COMPACT_SERIALIZATION,
            detail="the signature is not a JWS in compact serialization "
            "(three base64url segments joined by '.')",
        )
    encoded_header, encoded_payload, encoded_signature = segments
    header = _decode_json_object(encoded_header, RULE_COMPACT_SERIALIZATION, "JWS header")
    payload = _decode_json_object(encoded_payload, RULE_PAYLOAD_IS_STATEMENT, "JWS payload")
    signature = _base64url_decode(encoded_signature, RULE_COMPACT_SERIALIZATION, "JWS signature")
    if not signature:
        raise ValidationError(RULE_COMPACT_SERIALIZATION, detail="the JWS signature is empty")
    return encoded_header + b"." + encoded_payload, header, payload, signature


def _decode_json_object(segment: bytes, rule: str, what: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(_base64url_decode(segment, rule, what))
    except msgspec.DecodeError as error:
        raise ValidationError(rule, detail=f"the {what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValidationError(rule, detail=f"the {what} is not a JSON object")
    return value


def _base64url_decode(segment: bytes, rule: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError(rule, detail=f"the {what} is not valid base64url") from None


def _verify_with_certificate(
    chain: object, algorithm: str, signing_input: bytes, signature: bytes, index: int
) -> None:
    path = f"$.attachments[{index}]"
    certificates = _load_chain(chain, path)
    try:
        public_key = certificates[0].public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationError(RULE_X509, path, "the x5c certificate's key cannot be read") from None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValidationError(RULE_X509, path, "the x5c certificate does not hold an RSA key")
    try:
        public_key.verify(
            signature, signing_input, padding.PKCS1v15(), _HASH_BY_ALGORITHM[algorithm]()
        )
    except InvalidSignature:
        raise ValidationError(
            RULE_X509, path, "the JWS signature does not verify against its x5c certificate"
        ) from None
    # Not a trust decision (2.6.s5 note): only a chain whose links do not fit is a mistake.
    for subject, issuer in itertools.pairwise(certificates):
        try:
            subject.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            raise ValidationError(
                RULE_X509, path, "a certificate of the x5c chain is not issued by the next one"
            ) from None


def _load_chain(chain: object, path: str) -> list[x509.Certificate]:
    if not isinstance(chain, list) or not chain:
        raise ValidationError(RULE_X509, path, "x5c must be a non-empty array of certificates")
    certificates = []
    for encoded in chain:
        if not isinstance(encoded, str):
            raise ValidationError(RULE_X509, path, "x5c holds a value that is not a string")
        try:
            der = base64.b64decode(encoded, validate=True)
            certificates.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            raise ValidationError(
                RULE_X509, path, "x5c holds a value that is not a base64 DER certificate"
            ) from None
    return certificates


def _statement_before_signing(statement: dict[str, Any], index: int) -> dict[str, Any]:
    """The statement as it was signed: without its signature attachment, nor `attachments` if
    that was the only one."""
    unsigned = dict(statement)
    others = [a for i, a in enumerate(statement["attachments"]) if i != index]
    if others:
        unsigned["attachments"] = others
    else:
        del unsigned["attachments"]
    return unsigned


def _check_equivalent(payload: dict[str, Any], statement: dict[str, Any]) -> None:
    # The comparison ignores what the LRS may add or overwrite after signing (id, stored,
    # authority, timestamp, version): Data 2.3.1, exceptions to Statement immutability.
    if not statements_equivalent(payload, statement):
        raise ValidationError(
            RULE_EQUIVALENT,
            detail="the JWS payload is not the statement it signs "
            "(the statement without its signature attachment)",
        )
