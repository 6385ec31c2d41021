"""What the statement tests share: storing and reading back, waiting for consistency, building
multipart/mixed bodies and JSON web signatures.

Nothing here asserts a requirement of its own; helpers only fail loudly when the LRS refuses a
step that a test needs as its precondition (storing the statement it is about to query, say).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
VERSION_HEADER = "X-Experience-API-Version"
_NEVER_USED_VERB = "http://example.com/xapi-conformance/verbs/never-used"
_SETTLE_SECONDS = 10.0


def new_id() -> str:
    return str(uuid.uuid4())


def parse_timestamp(value: str) -> dt.datetime:
    """An ISO 8601 combined date and time; naive values are read as UTC."""
    parsed = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_http_date(value: str) -> dt.datetime:
    return parsedate_to_datetime(value)


def verb(unique: str, name: str = "did") -> dict:
    return {"id": f"http://example.com/verbs/{name}/{unique}", "display": {"en-US": name}}


def other_agent(unique: str, name: str = "other") -> dict:
    return {"objectType": "Agent", "mbox": f"mailto:{name}.{unique}@example.com"}


def with_id(statement: dict, statement_id: str | None = None) -> dict:
    return {**statement, "id": statement_id or new_id()}


# -- storing and reading back -------------------------------------------------------------------


def store(lrs: Any, *statements: dict) -> list[str]:
    """POST the statements as one batch; the test needs them stored."""
    body: Any = statements[0] if len(statements) == 1 else list(statements)
    response = lrs.post_statements(body)
    assert response.status_code == 200, f"precondition: storing failed: {describe(response)}"
    ids = response.json()
    assert isinstance(ids, list) and len(ids) == len(statements), response.text
    return ids


def store_each(lrs: Any, *statements: dict) -> list[str]:
    """POST the statements one request at a time, so each gets its own `stored` time."""
    return [store(lrs, statement)[0] for statement in statements]


def get_statement(lrs: Any, statement_id: str, **params: Any) -> httpx.Response:
    """GET one statement, waiting a moment if the LRS answered before it was retrievable
    ("The LRS MAY respond before Statements that have been stored are available")."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    while True:
        response = lrs.get_statements({"statementId": statement_id, **params})
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def absent(lrs: Any, statement_id: str) -> bool:
    """Whether the LRS has no statement `statement_id` (checked once: the write was refused)."""
    return lrs.get_statements({"statementId": statement_id}).status_code == 404


def fetch(lrs: Any, statement_id: str, **params: Any) -> dict:
    response = get_statement(lrs, statement_id, **params)
    assert response.status_code == 200, f"precondition: fetching failed: {describe(response)}"
    return response.json()


def settle(lrs: Any, last_id: str) -> None:
    """Wait until X-Experience-API-Consistent-Through is past the `stored` time of `last_id`,
    so that queries see every statement stored up to it. `last_id` must not be voided."""
    stored = parse_timestamp(fetch(lrs, last_id)["stored"])
    deadline = time.monotonic() + _SETTLE_SECONDS
    while time.monotonic() < deadline:
        response = lrs.get_statements({"verb": _NEVER_USED_VERB, "limit": 1})
        header = response.headers.get(CONSISTENT_THROUGH)
        if header is None:  # nothing to wait on; the header's own test reports it
            return
        if parse_timestamp(header) > stored:
            return
        time.sleep(0.05)


def query(lrs: Any, params: dict[str, Any], **kwargs: Any) -> dict:
    response = lrs.get_statements(params, **kwargs)
    assert response.status_code == 200, describe(response)
    return response.json()


def query_all(lrs: Any, params: dict[str, Any], **kwargs: Any) -> list[dict]:
    """Every statement matching `params`, following `more` links."""
    result = query(lrs, params, **kwargs)
    statements = list(result["statements"])
    for _ in range(100):
        more = result.get("more")
        if not more:
            break
        response = get_more(lrs, more, **kwargs)
        assert response.status_code == 200, describe(response)
        result = response.json()
        statements.extend(result["statements"])
    return statements


def query_ids(lrs: Any, params: dict[str, Any], **kwargs: Any) -> list[str]:
    return [s["id"] for s in query_all(lrs, params, **kwargs)]


def get_more(lrs: Any, more: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Follow a `more` IRL: relative to the LRS's scheme, host and port."""
    return lrs.client.get(
        str(httpx.URL(lrs.endpoint).join(more)),
        headers=lrs.headers(headers),
        auth=(lrs.key, lrs.secret),
    )


def describe(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url} -> {response.status_code} " + (
        response.text[:500] if response.content else "(no body)"
    )


def basic_auth(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


# -- attachments and multipart/mixed ------------------------------------------------------------


@dataclass
class Part:
    headers: dict[str, str]
    body: bytes


@dataclass
class Attachment:
    """The raw data of an attachment and the attachment object that describes it."""

    data: bytes
    content_type: str = "text/plain"
    usage_type: str = "http://example.com/attachment-usage/test"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sha2(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def object(self) -> dict:
        return {
            "usageType": self.usage_type,
            "display": {"en-US": "A test attachment"},
            "contentType": self.content_type,
            "length": len(self.data),
            "sha2": self.sha2,
            **self.extra,
        }

    def part(self, *, sha2: str | None = None, transfer_encoding: bool = True) -> Part:
        headers = {"Content-Type": self.content_type, "X-Experience-API-Hash": sha2 or self.sha2}
        if transfer_encoding:
            headers["Content-Transfer-Encoding"] = "binary"
        return Part(headers, self.data)


def multipart(
    statements: Any, parts: Iterable[Part] = (), *, first_type: str = "application/json"
) -> tuple[bytes, str]:
    """A multipart/mixed body whose first part holds `statements`; returns (body, Content-Type)."""
    boundary = "xapi-conformance-" + uuid.uuid4().hex
    chunks = [_part_bytes(boundary, {"Content-Type": first_type}, json.dumps(statements).encode())]
    chunks += [_part_bytes(boundary, part.headers, part.body) for part in parts]
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, f'multipart/mixed; boundary="{boundary}"'


def _part_bytes(boundary: str, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"--{boundary}\r\n{head}\r\n".encode() + body + b"\r\n"


def post_multipart(lrs: Any, statements: Any, parts: Iterable[Part] = (), **kw: Any):
    body, content_type = multipart(statements, parts, **kw)
    return lrs.request("POST", "statements", content=body, headers={"Content-Type": content_type})


def put_multipart(lrs: Any, statement: dict, parts: Iterable[Part] = ()) -> httpx.Response:
    body, content_type = multipart(statement, parts)
    return lrs.request(
        "PUT",
        "statements",
        params={"statementId": statement["id"]},
        content=body,
        headers={"Content-Type": content_type},
    )


def media_type(response: httpx.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def parse_multipart(response: httpx.Response) -> list[Part]:
    """The parts of a multipart/mixed response (RFC 2046), headers keyed in lower case."""
    boundary = _boundary(response.headers["Content-Type"]).encode()
    delimiter = b"\r\n--" + boundary
    chunks = (b"\r\n" + response.content).split(delimiter)[1:]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.split(b"\r\n", 1)[1]  # rest of the delimiter line (transport padding)
        if chunk.startswith(b"\r\n"):
            head, data = b"", chunk[2:]
        else:
            head, _, data = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        parts.append(Part(headers, data))
    return parts


def _boundary(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip().strip('"')
    raise AssertionError(f"no boundary in Content-Type {content_type!r}")


# -- signed statements --------------------------------------------------------------------------


@functools.cache
def signing_identity() -> tuple[Any, bytes]:
    """An RSA key and a self-signed X.509 certificate (DER) for it, made once per run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xapi-conformance")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.DER)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws(payload: dict, alg: str = "RS256") -> str:
    """A JWS Compact Serialization of `payload` whose header carries the certificate in x5c."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, certificate = signing_identity()
    header = {"alg": alg, "x5c": [base64.b64encode(certificate).decode()]}
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    if alg.startswith("RS"):
        digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), digest[alg])
    elif alg == "HS256":
        signature = hmac.new(b"shared-secret", signing_input.encode(), hashlib.sha256).digest()
    else:
        raise ValueError(alg)
    return f"{signing_input}.{_b64url(signature)}"


def signed(statement: dict, signature: str, content_type: str = "application/octet-stream"):
    """`statement` carrying `signature` as its signature attachment, and the part holding it."""
    attachment = Attachment(signature.encode(), content_type, usage_type=SIGNATURE_USAGE)
    return {**statement, "attachments": [attachment.object()]}, attachment.part()


# -- raw HTTP, for what an HTTP client hides ----------------------------------------------------


def raw_request(lrs: Any, method: str, target: str, headers: dict[str, str]) -> bytes:
    """Send one request over a fresh connection and return every byte the server sent back
    before closing it (httpx never reads a body after HEAD, so it cannot show one was sent)."""
    url = httpx.URL(lrs.url(target))
    port = url.port or (443 if url.scheme == "https" else 80)
    lines = [f"{method} {url.raw_path.decode()} HTTP/1.1", f"Host: {url.host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Connection: close", "", ""]
    with socket.create_connection((url.host, port), timeout=30) as raw:
        sock = (
            ssl.create_default_context().wrap_socket(raw, server_hostname=url.host)
            if url.scheme == "https"
            else raw
        )
        sock.sendall("\r\n".join(lines).encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received
