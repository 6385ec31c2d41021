"""Question banks, tests and the attempt engine: who may do what, starting an attempt,
answering, submitting (also when its time limit passed, checked on every access), scoring,
manual grading, and the statements and events that follow.

Every function runs in the caller's transaction; statements are queued and events appended
to the bus outbox in it, so they commit with the change that decides them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from core.errors import BadRequest, Conflict, Forbidden, NotFound
from core.events import TestFailed, TestPassed, encode_event
from ingest.bus_postgres import append_events
from lms.assessments import review, store
from lms.assessments.assembly import Candidate, assemble, attempt_seed
from lms.assessments.models import (
    Attempt,
    AttemptStatus,
    Bank,
    Draw,
    FeedbackPolicy,
    Grade,
    OpenEnded,
    Question,
    QuestionIn,
    Test,
    TestIn,
    TestSettings,
)
from lms.assessments.scoring import ResponseError, checked_response, credit
from lms.assessments.statements import AssessmentIris, AttemptStatements
from lms.courses.lookup import course_exists, courses_with_test, registration_of
from lms.iam.access import Caller


def now() -> datetime:
    return datetime.now(UTC)


# Banks and questions


def bank_of(row: Any) -> Bank:
    return Bank(**row)


async def readable_bank(conn: asyncpg.Connection, bank_id: uuid.UUID) -> Any:
    rows = await store.banks(conn, bank_id)
    if not rows:
        raise NotFound(f"no question bank {bank_id}")
    return rows[0]


async def owned_bank(conn: asyncpg.Connection, bank_id: uuid.UUID, caller: Caller) -> Any:
    row = await readable_bank(conn, bank_id)
    if not caller.owns(row):
        raise Forbidden("only the bank's owner (or an admin) may change it")
    return row


def checked_question(question: QuestionIn) -> QuestionIn:
    if (problem := question.problem()) is not None:
        raise BadRequest(problem)
    return question


def question_in(row: Any) -> QuestionIn:
    return msgspec.json.decode(row["spec"], type=QuestionIn)


def question_of(row: Any, iris: AssessmentIris) -> Question:
    return Question(
        id=row["id"],
        bank_id=row["bank_id"],
        question=question_in(row),
        activity_id=iris.question(row["id"]),
    )


async def owned_question(conn: asyncpg.Connection, question_id: uuid.UUID, caller: Caller) -> Any:
    row = await store.question(conn, question_id)
    if row is None:
        raise NotFound(f"no question {question_id}")
    await owned_bank(conn, row["bank_id"], caller)
    return row


# Tests


def test_spec(data: TestIn) -> dict[str, Any]:
    return {
        "questions": [str(q) for q in data.questions],
        "draws": msgspec.to_builtins(data.draws),
        "settings": msgspec.to_builtins(data.settings),
    }


class _Spec(msgspec.Struct):
    questions: list[uuid.UUID]
    draws: list[Draw]
    settings: TestSettings


def spec_of(test: Any) -> _Spec:
    spec = msgspec.json.decode(test["spec"])
    return _Spec(
        questions=[uuid.UUID(q) for q in spec["questions"]],
        draws=msgspec.convert(spec["draws"], list[Draw]),
        settings=msgspec.convert(spec["settings"], TestSettings),
    )


def test_of(row: Any, iris: AssessmentIris, *, full: bool) -> Test:
    spec = spec_of(row)
    return Test(
        id=row["id"],
        owner=row["owner"],
        title=row["title"],
        course_id=row["course_id"],
        published=row["published"],
        settings=spec.settings,
        activity_id=iris.test(row["id"]),
        questions=spec.questions if full else None,
        draws=spec.draws if full else None,
    )


async def check_test(
    conn: asyncpg.Connection, data: TestIn, test_id: uuid.UUID | None = None
) -> str | None:
    """The fixed questions, the banks drawn from and the course exist (400 if not); the
    course is the one of every course item that is this test (409 if not). Returns the
    course id in its normal form."""
    if (problem := data.problem()) is not None:
        raise BadRequest(problem)
    course_id = await _checked_course(conn, data.course_id)
    if test_id is not None:
        for used_by in await courses_with_test(conn, test_id):
            if str(used_by) != course_id:
                raise Conflict(
                    f"an item of course {used_by} is this test: its courseId must stay {used_by}"
                )
    found = {r["id"] for r in await store.questions_by_id(conn, data.questions)}
    if missing := [str(q) for q in data.questions if q not in found]:
        raise BadRequest(f"no such questions: {', '.join(missing)}")
    for draw in data.draws:
        if await store.bank_owner(conn, draw.bank_id) is None:
            raise BadRequest(f"no question bank {draw.bank_id} to draw from")
    return course_id


async def _checked_course(conn: asyncpg.Connection, course_id: str | None) -> str | None:
    if course_id is None:
        return None
    course = _course_uuid(course_id)
    if course is None or not await course_exists(conn, course):
        raise BadRequest(f"courseId must be the id of a course; there is no course {course_id}")
    return str(course)


def _course_uuid(course_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(course_id)
    except ValueError:
        return None


async def readable_test(conn: asyncpg.Connection, test_id: uuid.UUID, caller: Caller) -> Any:
    row = await store.test(conn, test_id)
    if row is None or not (row["published"] or caller.author):
        raise NotFound(f"no test {test_id}")
    return row


async def owned_test(conn: asyncpg.Connection, test_id: uuid.UUID, caller: Caller) -> Any:
    row = await store.test(conn, test_id, for_update=True)
    if row is None or not (row["published"] or caller.author):
        raise NotFound(f"no test {test_id}")
    if not caller.owns(row):
        raise Forbidden("only the test's owner (or an admin) may do this")
    return row


# Attempts


async def start_attempt(
    conn: asyncpg.Connection,
    iris: AssessmentIris,
    test: Any,
    caller: Caller,
    registration: uuid.UUID | None,
) -> Any:
    if not test["published"]:
        raise Conflict("the test is not published")
    registration = await attempt_registration(conn, test, caller, registration)
    spec = spec_of(test)
    earlier = await store.attempts_of(conn, test["id"], caller.user_id)
    for row in earlier:
        if row["status"] == AttemptStatus.IN_PROGRESS:
            row = await expire_if_due(conn, iris, test, row)
            if row["status"] == AttemptStatus.IN_PROGRESS:
                raise Conflict(f"attempt {row['id']} at this test is still in progress")
    allowed = spec.settings.attempts_allowed
    if allowed is not None and len(earlier) >= allowed:
        raise Conflict(f"this test allows {allowed} attempt(s); all are used")
    number = len(earlier) + 1
    seed = attempt_seed(test["id"], caller.user_id, number)
    fixed_rows = {r["id"]: r for r in await store.questions_by_id(conn, spec.questions)}
    fixed = [_candidate(fixed_rows[q]) for q in spec.questions if q in fixed_rows]
    pool_rows = await store.questions_of_banks(conn, list({d.bank_id for d in spec.draws}))
    questions = assemble(fixed, spec.draws, [_candidate(r) for r in pool_rows], spec.settings, seed)
    limit = spec.settings.time_limit_seconds
    deadline = now() + timedelta(seconds=limit) if limit else None
    try:
        return await store.insert_attempt(
            conn,
            uuid.uuid4(),
            test["id"],
            caller.user_id,
            number,
            seed,
            registration,
            questions,
            deadline,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict("another attempt at this test was started at the same time") from None


async def attempt_registration(
    conn: asyncpg.Connection, test: Any, caller: Caller, given: uuid.UUID | None
) -> uuid.UUID | None:
    """The registration an attempt runs under: the learner's enrolment in the test's course
    (403 if not enrolled; 409 if `given` is another one). A test of no course has none."""
    if test["course_id"] is None:
        if given is not None:
            raise BadRequest("this test belongs to no course, so its attempts have no registration")
        return None
    course = _course_uuid(test["course_id"])
    registration = None if course is None else await registration_of(conn, course, caller.user_id)
    if registration is None:
        raise Forbidden(
            f"enrol in course {test['course_id']} first: attempts at this test run under"
            " your enrolment's registration"
        )
    if given is not None and given != registration:
        raise Conflict(
            f"registration {given} is not your enrolment's in course {test['course_id']}"
            f" ({registration})"
        )
    return registration


def _candidate(row: Any) -> Candidate:
    return Candidate(row["id"], row["bank_id"], question_in(row))


async def open_attempt(
    conn: asyncpg.Connection, iris: AssessmentIris, attempt_id: uuid.UUID, caller: Caller
) -> tuple[Any, Any]:
    """The attempt (locked) and its test; submitted first if its time is up. A learner
    opens only their own attempts; the test's owner and admins any."""
    attempt = await store.attempt(conn, attempt_id, for_update=True)
    if attempt is None:
        raise NotFound(f"no attempt {attempt_id}")
    test = await store.test(conn, attempt["test_id"])
    if attempt["learner"] != caller.user_id and not caller.owns(test):
        raise NotFound(f"no attempt {attempt_id}")
    return await expire_if_due(conn, iris, test, attempt), test


async def expire_if_due(
    conn: asyncpg.Connection, iris: AssessmentIris, test: Any, attempt: Any
) -> Any:
    deadline = attempt["deadline"]
    if attempt["status"] == AttemptStatus.IN_PROGRESS and deadline and now() >= deadline:
        return await submit(conn, iris, test, attempt, auto=True)
    return attempt


def delivered_entry(attempt: Any, question_id: uuid.UUID) -> dict[str, Any]:
    for entry in msgspec.json.decode(attempt["questions"]):
        if entry["id"] == str(question_id):
            return entry  # type: ignore[no-any-return]
    raise NotFound(f"question {question_id} is not part of attempt {attempt['id']}")


async def answer(
    conn: asyncpg.Connection, attempt: Any, question_id: uuid.UUID, response: Any
) -> None:
    if attempt["status"] != AttemptStatus.IN_PROGRESS:
        raise Conflict("the attempt is submitted; answers can no longer change")
    question = review.delivered(delivered_entry(attempt, question_id))
    try:
        response = checked_response(question, response)
    except ResponseError as exc:
        raise BadRequest(str(exc)) from None
    await store.put_answer(conn, attempt["id"], question_id, response)


async def submit(
    conn: asyncpg.Connection, iris: AssessmentIris, test: Any, attempt: Any, *, auto: bool
) -> Any:
    """Score the answers; graded at once unless an open-ended answer waits for a person.
    Submitted automatically, the attempt ends at its deadline."""
    if attempt["status"] != AttemptStatus.IN_PROGRESS:
        raise Conflict("the attempt is submitted already")
    at = attempt["deadline"] if auto else now()
    statements = AttemptStatements(iris, test, attempt)
    answers = await store.answers(conn, attempt["id"])
    bodies = [statements.attempted()]
    raw, maximum, pending = 0.0, 0.0, False
    for entry in msgspec.json.decode(attempt["questions"]):
        question = review.delivered(entry)
        maximum += question.points
        given = answers.get(entry["id"])
        if given is None:
            continue
        response = msgspec.json.decode(given["response"])
        fraction = credit(question, response)
        points = None if fraction is None else round(fraction * question.points, 6)
        pending |= points is None
        raw += points or 0.0
        await store.set_points(conn, attempt["id"], uuid.UUID(entry["id"]), points)
        bodies.append(
            statements.answered(entry["id"], question, response, given["answered"], points)
        )
    if pending:
        row = await store.close_attempt(
            conn,
            attempt["id"],
            status=AttemptStatus.GRADING,
            submitted=at,
            auto_submitted=auto,
            score_raw=None,
            score_max=maximum,
            passed=None,
        )
    else:
        row = await _graded(conn, iris, test, attempt, raw, maximum, at, auto, bodies)
    await store.queue_statements(conn, bodies)
    return row


async def grade(
    conn: asyncpg.Connection,
    iris: AssessmentIris,
    test: Any,
    attempt: Any,
    question_id: uuid.UUID,
    data: Grade,
    caller: Caller,
) -> Any:
    if not caller.owns(test):
        raise Forbidden("only the test's owner (or an admin) grades it")
    if attempt["status"] != AttemptStatus.GRADING:
        raise Conflict("the attempt has no answer waiting for a grade")
    question = review.delivered(delivered_entry(attempt, question_id))
    if not isinstance(question, OpenEnded):
        raise Conflict("only open-ended answers are graded by hand")
    answers = await store.answers(conn, attempt["id"])
    if str(question_id) not in answers:
        raise NotFound("the learner did not answer this question")
    if data.points > question.points:
        raise BadRequest(f"this question is worth at most {question.points} points")
    await store.set_points(
        conn,
        attempt["id"],
        question_id,
        data.points,
        graded_by=caller.user_id,
        comment=data.comment,
    )
    answers = await store.answers(conn, attempt["id"])
    if any(a["points"] is None for a in answers.values()):
        return attempt
    raw = sum(a["points"] for a in answers.values())
    bodies: list[dict[str, Any]] = []
    at = now()
    row = await _graded(
        conn,
        iris,
        test,
        attempt,
        raw,
        attempt["score_max"],
        at,
        attempt["auto_submitted"],
        bodies,
        submitted=attempt["submitted"],
    )
    await store.queue_statements(conn, bodies)
    return row


async def _graded(
    conn: asyncpg.Connection,
    iris: AssessmentIris,
    test: Any,
    attempt: Any,
    raw: float,
    maximum: float,
    at: datetime,
    auto: bool,
    bodies: list[dict[str, Any]],
    *,
    submitted: datetime | None = None,
) -> Any:
    """Close the attempt as graded; add the outcome's statements to `bodies`; publish
    TestPassed or TestFailed."""
    settings = spec_of(test).settings
    scaled = raw / maximum if maximum > 0 else 0.0
    passed = scaled >= settings.passing_score
    row = await store.close_attempt(
        conn,
        attempt["id"],
        status=AttemptStatus.GRADED,
        submitted=submitted or at,
        auto_submitted=auto,
        score_raw=raw,
        score_max=maximum,
        passed=passed,
    )
    bodies.extend(AttemptStatements(iris, test, attempt).outcome(raw, maximum, passed, at))
    kind = TestPassed if passed else TestFailed
    event = kind(
        learner=f"account {iris.base_url} {attempt['learner']}",
        course_id=test["course_id"] or "",
        test_id=str(test["id"]),
        score_scaled=round(scaled, 6),
        attempt=attempt["number"],
    )
    await append_events(conn, event.topic, [encode_event(event)])
    return row


def attempt_view(attempt: Any, test: Any, answers: dict[str, Any], caller: Caller) -> Attempt:
    """The attempt as `caller` may see it: questions without answers while it runs; after,
    what the feedback policy shows (everything to the test's owner and admins)."""
    policy = spec_of(test).settings.feedback
    if caller.owns(test):
        policy = FeedbackPolicy.FULL
    running = attempt["status"] == AttemptStatus.IN_PROGRESS
    entries = msgspec.json.decode(attempt["questions"])
    if running:
        questions = [review.question_view(e, answers.get(e["id"])) for e in entries]
    else:
        questions = [review.review_view(e, answers.get(e["id"]), policy) for e in entries]
    score = None
    passed = None
    if not running and policy is not FeedbackPolicy.NONE:
        maximum = attempt["score_max"] or 0.0
        raw = attempt["score_raw"]
        score = {"max": maximum, "min": 0.0}
        if raw is not None:
            score |= {"raw": raw, "scaled": round(raw / maximum, 6) if maximum else 0.0}
        passed = attempt["passed"]
    return Attempt(
        id=attempt["id"],
        test_id=attempt["test_id"],
        learner=attempt["learner"],
        number=attempt["number"],
        seed=attempt["seed"],
        status=AttemptStatus(attempt["status"]),
        started=attempt["started"],
        deadline=attempt["deadline"],
        submitted=attempt["submitted"],
        auto_submitted=attempt["auto_submitted"],
        registration=attempt["registration"],
        questions=questions,
        score=score,
        passed=passed,
    )
