"""The multipart/mixed transmission format of statements with attachments.

xAPI Communication 1.5.2: the first part holds the statement(s) as `application/json`; every
further part holds the raw octets of one attachment, with `Content-Transfer-Encoding: binary` and
an `X-Experience-API-Hash` header naming the SHA-2 of those octets, which is how parts are matched
to the `sha2` of attachment objects (1.5.2.s1.b4) - never by position or filename.

Framing follows RFC 2046, where a delimiter is CRLF "--" boundary. Bodies framed with bare LF are
accepted too (the ADL conformance suite sends some); the line break that ends the opening
delimiter line decides which of the two a body uses, so a part's content is never guessed at.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from email.message import Message
from typing import NamedTuple

from core.errors import BadRequest, ValidationError
from core.xapi.models import Attachment, Statement, SubStatement

_HASH_HEADER = "x-experience-api-hash"

RULE_FIRST_PART_JSON = (
    "The first part of a multipart/mixed request MUST contain the Statements, with Content-Type "
    "application/json (Communication 1.5.2.s2.b2.b1)"
)
RULE_HASH_HEADER = (
    "Each part after the first MUST have an X-Experience-API-Hash header equal to the sha2 of one "
    "of the Statements' attachments (Communication 1.5.2.s2.b2.b3)"
)
RULE_BINARY_ENCODING = (
    "Each part after the first MUST have Content-Transfer-Encoding: binary "
    "(Communication 1.5.2.s2.b2.b4)"
)
RULE_PARAMETERS_MATCH = (
    "A part's headers MUST match the properties of its attachment (Communication 1.5.2.s2.b2.b7)"
)
RULE_ATTACHMENT_HAS_DATA = (
    "An attachment MUST have a fileUrl or a multipart/mixed part whose X-Experience-API-Hash "
    "equals its sha2 (Communication 1.5.2.s3.b5)"
)
RULE_SHA2_OF_DATA = (
    "An attachment's sha2, and its part's X-Experience-API-Hash, MUST be the SHA-2 hash of its "
    "data (Data 2.4.11)"
)

_MAX_HEADER_BLOCK = 16 * 1024
_TRANSPORT_PADDING = re.compile(rb"[ \t]*")
_BCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
_HEX_DIGITS = frozenset("0123456789abcdef")

# The SHA-2 functions by the length of their hex digest; the header does not say which was used,
# and SHA-256 shares its length with SHA-512/256 (SHA-224 with SHA-512/224).
_SHA2_BY_HEX_LENGTH = {
    56: ("sha224", "sha512_224"),
    64: ("sha256", "sha512_256"),
    96: ("sha384",),
    128: ("sha512",),
}


class PartHeaders(NamedTuple):
    """What an attachment part's own headers declare, to be matched with its attachment's
    `contentType` and `length` (Communication 1.5.2.s2.b2.b7)."""

    media_type: str | None
    length: int | None


def parse_multipart_mixed(body: bytes, content_type: str) -> tuple[bytes, dict[str, bytes]]:
    """Split a multipart/mixed statement request into its statements and attachment data.

    Returns the first part's content (the statement JSON, not yet decoded) and the attachment
    parts keyed by their lowercase hex SHA-2. Each part's content is checked against its
    `X-Experience-API-Hash`. Raises `BadRequest` when the body is not well-framed multipart and
    `ValidationError` when a part breaks an xAPI rule.
    """
    statements, attachments, _ = parse_multipart_request(body, content_type)
    return statements, attachments


def parse_multipart_request(
    body: bytes, content_type: str
) -> tuple[bytes, dict[str, bytes], dict[str, PartHeaders]]:
    """`parse_multipart_mixed`, and what each attachment part's headers declare (by sha2), for
    `check_attachments_present` to match with the attachments."""
    boundary = _boundary(content_type)
    parts = iter(_split_parts(body, boundary))
    first = next(parts, None)
    if first is None:
        raise BadRequest("multipart/mixed body has no parts")
    headers, statements = first
    if _media_type(headers.get("content-type", "")) != "application/json":
        raise ValidationError(
            RULE_FIRST_PART_JSON,
            detail="the first part must hold the statements with Content-Type application/json",
        )
    attachments: dict[str, bytes] = {}
    declared: dict[str, PartHeaders] = {}
    for number, (headers, content) in enumerate(parts, start=2):
        sha2 = _check_attachment_part(number, headers, content)
        attachments.setdefault(sha2, content)
        media_type = _media_type(headers.get("content-type", "")) or None
        length = len(content) if "content-length" in headers else None  # checked equal above
        declared.setdefault(sha2, PartHeaders(media_type, length))
    return statements, attachments, declared


def check_attachments_present(
    statements: Sequence[Statement],
    parts: Mapping[str, bytes],
    part_headers: Mapping[str, PartHeaders] | None = None,
) -> None:
    """Check that attachment objects and received attachment data correspond one to one.

    `statements` are the decoded statements of one request (a single statement is a list of
    one); `parts` is the attachment data received, keyed by lowercase sha2, and `part_headers`
    what their headers declared, as returned by `parse_multipart_request` - `{}` for an
    `application/json` request. Attachments of a SubStatement count like the statement's own.
    Every attachment without a `fileUrl` needs a part (Communication 1.5.2.s3.b5, 1.5.2.s2.b1);
    every part needs an attachment whose sha2 it carries (Data 2.4.11); a part's Content-Type
    and Content-Length, where given, must match the attachment's contentType and length
    (1.5.2.s2.b2.b7). Raises `ValidationError` at the first that does not.
    """
    described: set[str] = set()
    for path, attachment in _attachments(statements):
        sha2 = attachment.sha2.lower()
        described.add(sha2)
        if sha2 not in parts and not attachment.file_url:
            raise ValidationError(
                RULE_ATTACHMENT_HAS_DATA,
                path,
                f"attachment {attachment.sha2} has no fileUrl and no multipart part carries "
                "its data",
            )
        headers = (part_headers or {}).get(sha2)
        if headers is not None:
            _check_part_matches(headers, attachment, path)
    for sha2 in parts:
        if sha2 not in described:
            raise ValidationError(
                RULE_HASH_HEADER,
                detail=f"the part with X-Experience-API-Hash {sha2} matches no attachment's sha2",
            )


def build_multipart_mixed(
    statements_json: bytes, parts: Sequence[tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    """Encode a statements response with its attachments (GET with `attachments=true`).

    `parts` are `(sha2, contentType, content)`; a sha2 repeated is sent once (1.5.2.s2.b2.b5).
    Returns the body and the value of its Content-Type header.
    """
    unique = list({sha2.lower(): (sha2.lower(), ct, data) for sha2, ct, data in parts}.values())
    boundary = _fresh_boundary([statements_json, *(data for _, _, data in unique)])
    delimiter = b"--" + boundary
    chunks = [delimiter, b"\r\nContent-Type: application/json\r\n\r\n", statements_json]
    for sha2, content_type, content in unique:
        header = (
            f"Content-Type: {_header_safe(content_type)}\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n"
        )
        chunks += [b"\r\n", delimiter, b"\r\n", header.encode("ascii"), b"\r\n", content]
    chunks += [b"\r\n", delimiter, b"--\r\n"]
    return b"".join(chunks), f"multipart/mixed; boundary={boundary.decode('ascii')}"


def _boundary(content_type: str) -> bytes:
    if "\r" in content_type or "\n" in content_type:
        raise BadRequest("Content-Type header contains a line break")
    message = Message()
    message["Content-Type"] = content_type
    if message.get_content_type() != "multipart/mixed":
        raise BadRequest(f"expected Content-Type multipart/mixed, got {content_type!r}")
    boundary = message.get_boundary()
    if not boundary:
        raise BadRequest("multipart/mixed Content-Type has no boundary parameter (RFC 2046)")
    if len(boundary) > 70 or boundary.endswith(" ") or not set(boundary) <= _BCHARS:
        raise BadRequest(f"multipart boundary {boundary!r} is not valid (RFC 2046 5.1.1)")
    return boundary.encode("ascii")


def _split_parts(body: bytes, boundary: bytes) -> Iterator[tuple[dict[str, str], bytes]]:
    """Yield each part's headers (lowercase names) and content, in order.

    One left-to-right pass: every `find` starts where the previous one stopped, so the work is
    linear in the size of the body however many parts or false boundary matches it holds.
    """
    dash_boundary = b"--" + boundary
    start = _opening_delimiter(body, dash_boundary)
    if start is None:
        raise BadRequest("multipart/mixed body does not contain its boundary (RFC 2046)")
    newline, position, closed = _after_delimiter(body, start + len(dash_boundary), None)
    if closed:
        return
    delimiter = newline + dash_boundary
    search_from = position
    part_start = position
    while True:
        found = body.find(delimiter, search_from)
        if found < 0:
            raise BadRequest("multipart/mixed body ends before its closing boundary (RFC 2046)")
        _, after, closed = _after_delimiter(body, found + len(delimiter), newline)
        if after < 0:
            # The boundary string followed by other text is not a delimiter (RFC 2046 5.1.1).
            search_from = found + 1
            continue
        yield _split_headers(body, part_start, found)
        if closed:
            return
        part_start = search_from = after


def _opening_delimiter(body: bytes, dash_boundary: bytes) -> int | None:
    if body.startswith(dash_boundary):
        return 0
    found = body.find(b"\n" + dash_boundary)
    return None if found < 0 else found + 1


def _after_delimiter(body: bytes, position: int, newline: bytes | None) -> tuple[bytes, int, bool]:
    """Read what follows a boundary: `--` closes the body, else padding and a line break.

    Returns (the line break, the position after it, whether the body is closed); the position is
    -1 when the boundary is followed by anything else. With `newline` None the line break may be
    CRLF or LF and is reported, fixing the framing of the whole body.
    """
    if body.startswith(b"--", position):
        return newline or b"\r\n", position + 2, True
    padding = _TRANSPORT_PADDING.match(body, position)
    position = padding.end() if padding else position
    for candidate in (b"\r\n", b"\n") if newline is None else (newline,):
        if body.startswith(candidate, position):
            return candidate, position + len(candidate), False
    if newline is None:
        raise BadRequest("multipart boundary line is not followed by a line break (RFC 2046)")
    return newline, -1, False


def _split_headers(body: bytes, start: int, end: int) -> tuple[dict[str, str], bytes]:
    """Split one part at the blank line that ends its headers (a part may have none)."""
    for newline in (b"\r\n", b"\n"):
        if body.startswith(newline, start, end):
            return {}, body[start + len(newline) : end]
    limit = min(end, start + _MAX_HEADER_BLOCK)
    ends = [
        i for i in (body.find(b"\n\r\n", start, limit), body.find(b"\n\n", start, limit)) if i >= 0
    ]
    if not ends:
        raise BadRequest(
            "a multipart part has no blank line ending its headers within "
            f"{_MAX_HEADER_BLOCK} octets (RFC 2046)"
        )
    blank = min(ends)
    content_start = blank + (3 if body.startswith(b"\n\r\n", blank) else 2)
    return _parse_headers(body[start:blank]), body[content_start:end]


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    name = ""
    for raw in block.split(b"\n"):
        line = raw.removesuffix(b"\r").decode("latin-1")
        if line[:1] in (" ", "\t") and name:
            headers[name] = f"{headers[name]} {line.strip()}".strip()
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name:
            raise BadRequest(f"malformed header line in a multipart part: {line[:80]!r}")
        headers[name] = value.strip()
    return headers


def _check_attachment_part(number: int, headers: Mapping[str, str], content: bytes) -> str:
    encoding = headers.get("content-transfer-encoding")
    if encoding is None or encoding.lower() != "binary":
        raise ValidationError(
            RULE_BINARY_ENCODING,
            detail=f"part {number} must have Content-Transfer-Encoding: binary, got {encoding!r}",
        )
    declared = headers.get(_HASH_HEADER)
    if not declared:
        raise ValidationError(
            RULE_HASH_HEADER, detail=f"part {number} has no X-Experience-API-Hash header"
        )
    sha2 = declared.lower()
    functions = _SHA2_BY_HEX_LENGTH.get(len(sha2))
    if functions is None or not set(sha2) <= _HEX_DIGITS:
        raise ValidationError(
            RULE_HASH_HEADER,
            detail=f"part {number}'s X-Experience-API-Hash {declared!r} is not a hex SHA-2 digest",
        )
    if not any(hashlib.new(name, content).hexdigest() == sha2 for name in functions):
        raise ValidationError(
            RULE_SHA2_OF_DATA,
            detail=f"part {number}'s content does not hash to its X-Experience-API-Hash {sha2}",
        )
    length = headers.get("content-length")
    if length is not None and length != str(len(content)):
        raise ValidationError(
            RULE_PARAMETERS_MATCH,
            detail=f"part {number} declares Content-Length {length} but holds {len(content)} "
            "octets",
        )
    return sha2


def _check_part_matches(headers: PartHeaders, attachment: Attachment, path: str) -> None:
    if headers.media_type is not None and headers.media_type != _media_type(
        attachment.content_type
    ):
        raise ValidationError(
            RULE_PARAMETERS_MATCH,
            f"{path}.contentType",
            f"the part's Content-Type is {headers.media_type}, the attachment's contentType "
            f"{attachment.content_type}",
        )
    if headers.length is not None and headers.length != attachment.length:
        raise ValidationError(
            RULE_PARAMETERS_MATCH,
            f"{path}.length",
            f"the part's Content-Length is {headers.length}, the attachment's length "
            f"{attachment.length}",
        )


def _attachments(statements: Sequence[Statement]) -> Iterator[tuple[str, Attachment]]:
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.attachments or ()):
            yield f"$[{i}].attachments[{j}]", attachment
        sub = statement.object
        if isinstance(sub, SubStatement):
            for j, attachment in enumerate(sub.attachments or ()):
                yield f"$[{i}].object.attachments[{j}]", attachment


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def _fresh_boundary(contents: Sequence[bytes]) -> bytes:
    while True:
        boundary = secrets.token_hex(24).encode("ascii")
        if not any(b"--" + boundary in content for content in contents):
            return boundary


def _header_safe(content_type: str) -> str:
    # A stored contentType is client data: never let it break out of its header line.
    if content_type and content_type.isascii() and content_type.isprintable():
        return content_type
    return "application/octet-stream"
