"""From a domain event to the notifications it makes: who hears of it, and in what words.

Events are read as plain JSON by their `type`, not through `core.events`' union, so that a
type added by another module (and unknown here) is not an error: an event naming a
`learner` notifies that learner; `CoursePublished` notifies the course's enrolled learners.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

_TITLES = {
    "CourseCompleted": "You completed course {course_id}",
    "LearnerEnrolled": "You are enrolled in course {course_id}",
    "CoursePublished": "Course {course_id} has a new version ({version})",
    "CourseCreated": "Your course {title} was created",
    "TestPassed": "You passed test {test_id}",
    "TestFailed": "You did not pass test {test_id} this time",
}


@dataclass(frozen=True, slots=True)
class Notice:
    event_id: str
    user_id: str
    type: str
    title: str


def user_of(learner: str) -> str:
    """A user id from an event's learner: the id itself, or the name of an account key
    (`account <homePage> <name>`, as `agent_key` writes it)."""
    if learner.startswith("account "):
        return learner.split(" ", 2)[-1]
    return learner


def title_of(event: dict[str, Any]) -> str:
    template = _TITLES.get(event.get("type", ""), "{type}")
    try:
        return template.format_map(event)
    except (KeyError, ValueError):
        return str(event.get("type", "notification"))


async def notices_for(conn: asyncpg.Connection, event: dict[str, Any]) -> list[Notice]:
    kind = str(event.get("type", ""))
    event_id = str(event.get("event_id", ""))
    if not kind or not event_id:
        return []
    users: list[str] = []
    if kind == "LearnerEnrolled" and event.get("course_id") and event.get("learner"):
        await conn.execute(
            "INSERT INTO lms_notification_enrolments (course_id, user_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            event["course_id"],
            user_of(event["learner"]),
        )
    if isinstance(event.get("learner"), str):
        users.append(user_of(event["learner"]))
    elif kind == "CoursePublished":
        users.extend(
            r["user_id"]
            for r in await conn.fetch(
                "SELECT user_id FROM lms_notification_enrolments WHERE course_id = $1",
                event.get("course_id"),
            )
        )
    elif kind == "CourseCreated" and isinstance(event.get("created_by"), str):
        users.append(event["created_by"])
    title = title_of(event)
    return [Notice(event_id, user, kind, title) for user in dict.fromkeys(users)]
