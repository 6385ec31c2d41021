"""The statements a learner's use of a course item records: `launched` when they open it,
`experienced` (for content one reads or watches) and `completed` when they finish it.

The actor is the learner's account (homePage: the LMS, name: the user id), the registration
their enrolment's, and the course activity the parent of every item.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.xapi.decode import decode_statement_obj
from core.xapi.models import Account, Agent
from ingest.accept import accept_statements
from ingest.batcher import GroupCommitter
from lms.courses.iris import CourseIris
from lms.courses.models import ItemKind

AUTHORITY_KEY = "lms.courses"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
LAUNCHED = "launched"
EXPERIENCED = "experienced"
COMPLETED = "completed"

ACTIVITY_TYPES = {
    ItemKind.VIDEO: "https://w3id.org/xapi/video/activity-type/video",
    ItemKind.DOCUMENT: "http://id.tincanapi.com/activitytype/document",
    ItemKind.LINK: "http://adlnet.gov/expapi/activities/link",
    ItemKind.CMI5: "https://w3id.org/xapi/cmi5/activitytype/block",
    ItemKind.SCORM: "http://adlnet.gov/expapi/activities/module",
    ItemKind.TEST: "http://adlnet.gov/expapi/activities/assessment",
}
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
# What one finishes by reading, watching or visiting: its completion is also an experience.
EXPERIENCED_KINDS = frozenset({ItemKind.VIDEO, ItemKind.DOCUMENT, ItemKind.LINK})


def learner_agent(base_url: str, user_id: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": user_id}}


def item_statement(
    verb: str,
    *,
    iris: CourseIris,
    course: Any,
    item: Any,
    learner: str,
    registration: uuid.UUID,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": learner_agent(iris.base_url, learner),
        "verb": {"id": ADL_VERBS + verb, "display": {"en-US": verb}},
        "object": {
            "objectType": "Activity",
            "id": iris.item(course["id"], item["id"]),
            "definition": {
                "name": {"en-US": item["title"]},
                "type": ACTIVITY_TYPES[ItemKind(item["kind"])],
            },
        },
        "context": {
            "registration": str(registration),
            "contextActivities": {
                "parent": [
                    {
                        "objectType": "Activity",
                        "id": iris.course(course["id"]),
                        "definition": {"name": {"en-US": course["title"]}, "type": COURSE_TYPE},
                    }
                ]
            },
        },
    }
    if verb == COMPLETED:
        statement["result"] = {"completion": True}
    return statement


def authority(base_url: str) -> Agent:
    return Agent(name="HyperEdu courses", account=Account(home_page=base_url, name=AUTHORITY_KEY))


async def record(
    committer: GroupCommitter, base_url: str, bodies: list[dict[str, Any]]
) -> list[str]:
    """Validate and commit the statements; their ids."""
    statements = [decode_statement_obj(body, "1.0.3") for body in bodies]
    return await accept_statements(
        committer,
        statements,
        authority=authority(base_url),
        authority_key=AUTHORITY_KEY,
        may_define=True,
    )
