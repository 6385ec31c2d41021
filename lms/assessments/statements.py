"""The statements an attempt records, and how they reach the LRS.

On submission: `attempted` (at the start), one `answered` per answer (a cmi.interaction
activity, `result.response`, `success` once graded), then, once every answer is graded,
`passed` or `failed` and `completed` with the score. Each has an id derived from (attempt,
verb, question), and is queued in `lms_assessment_statements` in the transaction that
decides it; `send_pending` sends what the LRS has not committed yet, so a statement sent
twice is stored once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.xapi.decode import decode_statement_obj
from core.xapi.models import Account, Agent
from ingest.accept import accept_statements, xapi_time
from ingest.batcher import GroupCommitter
from lms.assessments import store
from lms.assessments.interactions import definition, response_text
from lms.assessments.models import QuestionIn

AUTHORITY_KEY = "lms.assessments"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
_NAMESPACE = uuid.UUID("b5a3c1d2-6f0e-4a7b-9c8d-2e1f0a9b8c7d")


class AssessmentIris:
    """test `{base}/lms/tests/{test_id}`, question `{base}/lms/questions/{question_id}`,
    course `{base}/lms/courses/{course_id}` (the LMS contract)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def test(self, test_id: uuid.UUID | str) -> str:
        return f"{self.base_url}/lms/tests/{test_id}"

    def question(self, question_id: uuid.UUID | str) -> str:
        return f"{self.base_url}/lms/questions/{question_id}"

    def course(self, course_id: str) -> str:
        return f"{self.base_url}/lms/courses/{course_id}"

    def learner(self, user_id: str) -> dict[str, Any]:
        return {"objectType": "Agent", "account": {"homePage": self.base_url, "name": user_id}}


def statement_id(attempt_id: uuid.UUID, verb: str, question_id: str = "") -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{attempt_id} {verb} {question_id}"))


class AttemptStatements:
    """The statements of one attempt (`attempt` and `test` are their database rows)."""

    def __init__(self, iris: AssessmentIris, test: Any, attempt: Any) -> None:
        self.iris = iris
        self.test = test
        self.attempt = attempt

    def _statement(
        self,
        verb: str,
        obj: dict[str, Any],
        at: datetime,
        *,
        question_id: str = "",
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if self.attempt["registration"] is not None:
            context["registration"] = str(self.attempt["registration"])
        activities: dict[str, Any] = {}
        test_activity = {"objectType": "Activity", "id": self.iris.test(self.test["id"])}
        course = self.test["course_id"]
        course_activity = (
            [{"objectType": "Activity", "id": self.iris.course(course)}] if course else []
        )
        if question_id:
            activities["parent"] = [test_activity]
            if course_activity:
                activities["grouping"] = course_activity
        elif course_activity:
            activities["parent"] = course_activity
        if activities:
            context["contextActivities"] = activities
        statement: dict[str, Any] = {
            "id": statement_id(self.attempt["id"], verb, question_id),
            "actor": self.iris.learner(self.attempt["learner"]),
            "verb": {"id": ADL_VERBS + verb, "display": {"en-US": verb}},
            "object": obj,
            "timestamp": xapi_time(at),
        }
        if context:
            statement["context"] = context
        if result is not None:
            statement["result"] = result
        return statement

    def _test_object(self) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.iris.test(self.test["id"]),
            "definition": {"name": {"en-US": self.test["title"]}, "type": ASSESSMENT},
        }

    def attempted(self) -> dict[str, Any]:
        return self._statement("attempted", self._test_object(), self.attempt["started"])

    def answered(
        self,
        question_id: str,
        question: QuestionIn,
        response: Any,
        at: datetime,
        points: float | None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"response": response_text(question, response)}
        if points is not None:
            result["success"] = points >= question.points
            result["score"] = _score(points, question.points)
        obj = {
            "objectType": "Activity",
            "id": self.iris.question(question_id),
            "definition": definition(question, _name(question.prompt)),
        }
        return self._statement("answered", obj, at, question_id=question_id, result=result)

    def outcome(
        self, raw: float, maximum: float, passed: bool, at: datetime
    ) -> list[dict[str, Any]]:
        """`passed` or `failed`, then `completed`, with the score and the time taken."""
        duration = _duration(self.attempt["started"], at)
        score = _score(raw, maximum)
        verdict = self._statement(
            "passed" if passed else "failed",
            self._test_object(),
            at,
            result={"score": score, "success": passed, "completion": True, "duration": duration},
        )
        completed = self._statement(
            "completed",
            self._test_object(),
            at,
            result={"score": score, "completion": True, "duration": duration},
        )
        return [verdict, completed]


def _name(prompt: str) -> str:
    return prompt if len(prompt) <= 80 else prompt[:79] + "\u2026"


def _score(raw: float, maximum: float) -> dict[str, float]:
    if maximum <= 0:  # nothing to score (a draw found no questions): min < max cannot hold
        return {"scaled": 0.0}
    scaled = raw / maximum
    return {"scaled": round(scaled, 6), "raw": round(raw, 6), "min": 0, "max": round(maximum, 6)}


def _duration(start: datetime, end: datetime) -> str:
    return f"PT{max(0.0, (end - start).total_seconds()):.2f}S"


def authority(base_url: str) -> Agent:
    return Agent(
        name="HyperEdu assessments", account=Account(home_page=base_url, name=AUTHORITY_KEY)
    )


async def send_pending(pool: asyncpg.Pool, committer: GroupCommitter, base_url: str) -> int:
    """Send the queued statements the LRS has not committed yet; return how many."""
    async with pool.acquire() as conn:
        rows = await store.pending_statements(conn, 500)
    if not rows:
        return 0
    statements = [decode_statement_obj(msgspec.json.decode(r["body"]), "1.0.3") for r in rows]
    await accept_statements(
        committer,
        statements,
        authority=authority(base_url),
        authority_key=AUTHORITY_KEY,
        may_define=True,
    )
    async with pool.acquire() as conn:
        await store.mark_accepted(conn, [r["id"] for r in rows])
    return len(rows)
