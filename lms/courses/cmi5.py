"""Launching a cmi5 AU (cmi5 sections 8 and 10): the `LMS.LaunchData` State document, the
one-time fetch URL that hands the AU its LRS credential, the launch URL, and the cmi5
context of the `launched` statement.

The AU's activity is the item's own IRI (the LMS-generated id, cmi5 8.1.5); the AU's
publisher id (`activityId` of the item's payload) is named in `contextActivities.grouping`,
and the course in `parent`, so the AU's statements count toward the learner's progress.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import msgspec

from core.cmi5 import CATEGORY, EXTENSIONS, SESSION_ID
from lms.courses.models import Cmi5Payload
from lms.courses.tracking import learner_agent
from lrs.credentials import Binding
from lrs.parameters import agent_key_param

LAUNCH_MODE = "Normal"
# What an AU does with the LRS: its statements, its own reads, its State and the learner's
# preferences (an Agent Profile document, cmi5 11.0). Never voiding (cmi5 9.3).
AU_SCOPES = "statements/write statements/read/mine state profile"


@dataclass(frozen=True, slots=True)
class Launch:
    """One launch of an AU by one learner in one registration."""

    au: Cmi5Payload
    activity_id: str  # the item's IRI
    course_activity_id: str
    actor: dict[str, Any]
    registration: uuid.UUID
    session_id: uuid.UUID

    def context_template(self) -> dict[str, Any]:
        return {
            "contextActivities": {
                "grouping": [{"objectType": "Activity", "id": self.au.activity_id}],
                "parent": [{"objectType": "Activity", "id": self.course_activity_id}],
            },
            "extensions": {SESSION_ID: str(self.session_id)},
        }

    def launch_data(self, return_url: str | None) -> dict[str, Any]:
        """The `LMS.LaunchData` document (cmi5 10.0)."""
        data: dict[str, Any] = {
            "contextTemplate": self.context_template(),
            "launchMode": LAUNCH_MODE,
            "launchMethod": self.au.launch_method.value,
            "moveOn": self.au.move_on.value,
        }
        if self.au.mastery_score is not None:
            data["masteryScore"] = self.au.mastery_score
        if self.au.launch_parameters is not None:
            data["launchParameters"] = self.au.launch_parameters
        if return_url is not None:
            data["returnURL"] = return_url
        return data

    def launch_url(self, *, endpoint: str, fetch_url: str) -> str:
        """The AU's URL with the launch parameters of cmi5 8.1, URL-encoded."""
        query = urlencode(
            {
                "endpoint": endpoint,
                "fetch": fetch_url,
                "actor": msgspec.json.encode(self.actor).decode(),
                "registration": str(self.registration),
                "activityId": self.activity_id,
            }
        )
        separator = "&" if "?" in self.au.launch_url else "?"
        return self.au.launch_url + separator + query

    def launched_context(self, statement: dict[str, Any]) -> dict[str, Any]:
        """The `launched` statement with the context cmi5 9.6 asks of it."""
        context = statement["context"]
        activities = context["contextActivities"]
        activities["grouping"] = [{"objectType": "Activity", "id": self.au.activity_id}]
        activities["category"] = [{"objectType": "Activity", "id": CATEGORY}]
        extensions: dict[str, Any] = {
            SESSION_ID: str(self.session_id),
            EXTENSIONS + "launchmode": LAUNCH_MODE,
            EXTENSIONS + "launchurl": self.au.launch_url,
            EXTENSIONS + "moveon": self.au.move_on.value,
        }
        if self.au.mastery_score is not None:
            extensions[EXTENSIONS + "masteryscore"] = self.au.mastery_score
        if self.au.launch_parameters is not None:
            extensions[EXTENSIONS + "launchparameters"] = self.au.launch_parameters
        context["extensions"] = extensions
        return statement


def au_binding(base_url: str, learner: str, registration: uuid.UUID) -> Binding:
    """What the AU's credential is bound to: the actor of its launch URL (cmi5 9.2) and the
    registration of its launch (cmi5 9.6.1)."""
    key = agent_key_param(msgspec.json.encode(learner_agent(base_url, learner)).decode())
    assert key is not None
    return Binding(actor=key, registration=str(registration))


def new_fetch_token() -> str:
    """256 random bits: the fetch URL cannot be guessed."""
    return secrets.token_urlsafe(32)


def fetch_digest(token: str) -> bytes:
    """What is stored of a fetch token: its SHA-256 (the token itself is a random key)."""
    return hashlib.sha256(token.encode()).digest()


def fetch_url(base_url: str, token: str) -> str:
    return f"{base_url}/api/v1/cmi5/fetch/{token}"


def xapi_endpoint(base_url: str) -> str:
    return f"{base_url}/xapi/"
