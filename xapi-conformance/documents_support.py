"""What the Document Resource tests share: addressing one document, and the values they send.

The three Document Resources (State, Activity Profile, Agent Profile) differ only in the
parameters that name a document's collection and in the name of the document id parameter; a
`Document` hides that difference so each test reads as the requirement it checks.

Times: `since`, `Last-Modified` and `Date` are compared on the server's clock only (the LRS may
run elsewhere), and HTTP dates carry whole seconds, hence `wait_past_a_second`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import LRS

T = TypeVar("T")

JSON = "application/json"

NOT_JSON = "{this is not JSON"
AGENT_WITHOUT_IFI = {"objectType": "Agent", "name": "Nobody In Particular"}
AGENT_WITH_TWO_IFIS = {
    "objectType": "Agent",
    "mbox": "mailto:two-ifis@example.com",
    "openid": "http://openid.example.com/two-ifis",
}
NOT_AN_IRI = "not an IRI"
NOT_A_UUID = "not-a-uuid"
NOT_A_TIMESTAMP = "yesterday at noon"
WRONG_ETAG = '"' + "0" * 40 + '"'


@dataclass(frozen=True)
class DocumentResource:
    title: str
    path: str
    id_param: str


STATE = DocumentResource("State", "activities/state", "stateId")
ACTIVITY_PROFILE = DocumentResource("Activity Profile", "activities/profile", "profileId")
AGENT_PROFILE = DocumentResource("Agent Profile", "agents/profile", "profileId")
DOCUMENT_RESOURCES = (STATE, ACTIVITY_PROFILE, AGENT_PROFILE)


@dataclass(frozen=True)
class Document:
    """One document: its resource, the parameters naming its collection, and its id."""

    lrs: LRS
    resource: DocumentResource
    context: dict[str, Any]
    doc_id: str

    @property
    def params(self) -> dict[str, Any]:
        return {**self.context, self.resource.id_param: self.doc_id}

    def sibling(self, doc_id: str) -> Document:
        """Another document in the same collection."""
        return replace(self, doc_id=doc_id)

    def elsewhere(self, **context: Any) -> Document:
        """The same document id in a collection named by different parameters."""
        return replace(self, context={**self.context, **context})

    def put(
        self, body: Any, content_type: str = JSON, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self._send("PUT", self.params, body, content_type, headers)

    def post(
        self, body: Any, content_type: str = JSON, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self._send("POST", self.params, body, content_type, headers)

    def get(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.lrs.request("GET", self.resource.path, params=self.params, headers=headers)

    def head(self) -> httpx.Response:
        return self.lrs.request("HEAD", self.resource.path, params=self.params)

    def delete(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.lrs.request("DELETE", self.resource.path, params=self.params, headers=headers)

    def create(self, body: Any = None, content_type: str = JSON) -> httpx.Response:
        """Store a new document the way every Client may: PUT with `If-None-Match: *`."""
        response = self.put(
            {"created": self.doc_id} if body is None else body,
            content_type,
            headers={"If-None-Match": "*"},
        )
        assert response.status_code == 204, _explain("creating the document", response)
        return response

    def etag(self) -> str:
        response = self.get()
        assert response.status_code == 200, _explain("fetching the document", response)
        tag = response.headers.get("ETag")
        assert tag, "a GET of a document carries no ETag"
        return tag

    def json(self) -> Any:
        """The stored document, parsed; fails the test unless the LRS returns it."""
        response = self.get()
        assert response.status_code == 200, _explain("fetching the document", response)
        return response.json()

    def list_ids(self, **extra: Any) -> httpx.Response:
        """The Multiple Document GET of this document's collection."""
        return self.lrs.request("GET", self.resource.path, params={**self.context, **extra})

    def delete_all(self, **extra: Any) -> httpx.Response:
        """The Multiple Document DELETE of this document's collection (State only)."""
        return self.lrs.request("DELETE", self.resource.path, params={**self.context, **extra})

    def send(self, method: str, params: dict[str, Any]) -> httpx.Response:
        """`method` with the given parameters; PUT and POST carry a small JSON document."""
        if method in ("PUT", "POST"):
            return self._send(method, params, {"probe": True}, JSON, None)
        return self.lrs.request(method, self.resource.path, params=params)

    def _send(
        self,
        method: str,
        params: dict[str, Any],
        body: Any,
        content_type: str,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.lrs.request(
            method,
            self.resource.path,
            params=params,
            content=content,
            headers={"Content-Type": content_type, **(headers or {})},
        )


def state_document(lrs: LRS, unique: str, agent: dict, activity: dict) -> Document:
    return Document(lrs, STATE, {"activityId": activity["id"], "agent": agent}, f"state-{unique}")


def activity_profile_document(lrs: LRS, unique: str, activity: dict) -> Document:
    return Document(lrs, ACTIVITY_PROFILE, {"activityId": activity["id"]}, f"profile-{unique}")


def agent_profile_document(lrs: LRS, unique: str, agent: dict) -> Document:
    return Document(lrs, AGENT_PROFILE, {"agent": agent}, f"profile-{unique}")


def document_of(
    resource: DocumentResource, lrs: LRS, unique: str, agent: dict, activity: dict
) -> Document:
    """A fresh document of any of the three resources."""
    if resource is STATE:
        return state_document(lrs, unique, agent, activity)
    if resource is ACTIVITY_PROFILE:
        return activity_profile_document(lrs, unique, activity)
    return agent_profile_document(lrs, unique, agent)


def with_param(params: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`params` with some replaced; a value of None drops that parameter."""
    merged = {**params, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def media_type(response: httpx.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def sha1_hex(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def http_date(response: httpx.Response, header: str) -> datetime:
    value = response.headers.get(header)
    assert value, f"the response carries no {header} header"
    return parsedate_to_datetime(value)


def server_clock(response: httpx.Response) -> datetime:
    """When the server sent `response`, to the second; the local clock if it sent no Date."""
    if "Date" in response.headers:
        return http_date(response, "Date")
    return datetime.now(UTC)


def xapi_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def wait_past_a_second() -> None:
    """HTTP dates have whole seconds; sleep so the next write lands in a later one."""
    time.sleep(1.1)


def eventually(probe: Callable[[], T | None], timeout: float = 5.0) -> T | None:
    """The first truthy result of `probe` within `timeout` seconds, else its last result.

    An LRS "MAY respond before Statements that have been stored are available for retrieval"
    (1.0.3 2.1.2), so what a statement teaches the LRS can show up a little later.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(0.1)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def only_1_0_3(lrs: LRS, why: str) -> None:
    if lrs.is_2_0:
        pytest.skip(f"xAPI 1.0.3 only: {why}")


def only_2_0(lrs: LRS, why: str) -> None:
    if not lrs.is_2_0:
        pytest.skip(f"xAPI 2.0 only: {why}")


def _explain(what: str, response: httpx.Response) -> str:
    return f"{what}: {response.status_code} {response.text[:300]}"
