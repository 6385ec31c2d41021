"""/api/v1: question banks and their questions, tests, attempts, manual grading.

Authors change the banks and tests they own (admins any); learners take published tests
and read only their own attempts. The statements an attempt decides are sent to the LRS
after the transaction that decides them commits.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Router, delete, get, patch, post, put
from litestar.params import Parameter

from core.errors import Conflict, Forbidden, NotFound
from lms.assessments import service, store
from lms.assessments.models import (
    AnswerIn,
    Attempt,
    AttemptStart,
    AttemptStatus,
    Bank,
    BankIn,
    BankPatch,
    Grade,
    PendingAnswer,
    Question,
    QuestionIn,
    Test,
    TestIn,
)
from lms.assessments.review import delivered
from lms.assessments.statements import AssessmentIris, send_pending
from lms.iam.access import AUTHENTICATED, Caller, authorize, principal_of
from lms.iam.roles import Permission
from lrs.state import LrsState

AUTHOR = {"permission": Permission.AUTHOR_CONTENT}
ANYONE = {"permission": AUTHENTICATED}
LEARNER = {"permission": Permission.LEARN}


def _caller(request: Request[Any, Any, Any]) -> Caller:
    return Caller.of(principal_of(request))


def _iris(request: Request[Any, Any, Any]) -> AssessmentIris:
    return AssessmentIris(LrsState.of(request).settings.base_url)


@asynccontextmanager
async def _transaction(request: Request[Any, Any, Any]) -> AsyncIterator[asyncpg.Connection]:
    async with LrsState.of(request).pool.acquire() as conn, conn.transaction():
        yield conn


@asynccontextmanager
async def _reading(request: Request[Any, Any, Any]) -> AsyncIterator[asyncpg.Connection]:
    async with LrsState.of(request).pool.acquire() as conn:
        yield conn


async def _send_statements(request: Request[Any, Any, Any]) -> None:
    lrs = LrsState.of(request)
    await send_pending(lrs.pool, lrs.committer, lrs.settings.base_url)


# Question banks


@post("/question-banks", opt=AUTHOR)
async def create_bank(request: Request[Any, Any, Any], data: BankIn) -> Bank:
    bank_id = uuid.uuid4()
    async with _transaction(request) as conn:
        await store.insert_bank(
            conn, bank_id, _caller(request).user_id, data.title, data.description
        )
        return service.bank_of(await service.readable_bank(conn, bank_id))


@get("/question-banks", opt=AUTHOR)
async def list_banks(request: Request[Any, Any, Any]) -> list[Bank]:
    async with _reading(request) as conn:
        return [service.bank_of(r) for r in await store.banks(conn)]


@get("/question-banks/{bank_id:uuid}", opt=AUTHOR)
async def get_bank(request: Request[Any, Any, Any], bank_id: uuid.UUID) -> Bank:
    async with _reading(request) as conn:
        return service.bank_of(await service.readable_bank(conn, bank_id))


@patch("/question-banks/{bank_id:uuid}", opt=AUTHOR)
async def patch_bank(request: Request[Any, Any, Any], bank_id: uuid.UUID, data: BankPatch) -> Bank:
    async with _transaction(request) as conn:
        await service.owned_bank(conn, bank_id, _caller(request))
        fields = {k: v for k in ("title", "description") if (v := getattr(data, k)) is not None}
        if fields:
            await store.update_bank(conn, bank_id, **fields)
        return service.bank_of(await service.readable_bank(conn, bank_id))


@delete("/question-banks/{bank_id:uuid}", opt=AUTHOR)
async def delete_bank(request: Request[Any, Any, Any], bank_id: uuid.UUID) -> None:
    """Attempts keep the questions they delivered; tests drawing from it draw nothing."""
    async with _transaction(request) as conn:
        await service.owned_bank(conn, bank_id, _caller(request))
        await store.delete_bank(conn, bank_id)


@post("/question-banks/{bank_id:uuid}/questions", opt=AUTHOR)
async def create_question(
    request: Request[Any, Any, Any], bank_id: uuid.UUID, data: QuestionIn
) -> Question:
    """A question of one `type`: single_choice, multiple_choice, true_false, numeric,
    short_text, matching, ordering, open_ended."""
    question_id = uuid.uuid4()
    async with _transaction(request) as conn:
        await service.owned_bank(conn, bank_id, _caller(request))
        await store.insert_question(conn, question_id, bank_id, service.checked_question(data))
        return service.question_of(await store.question(conn, question_id), _iris(request))


@get("/question-banks/{bank_id:uuid}/questions", opt=AUTHOR)
async def list_questions(
    request: Request[Any, Any, Any],
    bank_id: uuid.UUID,
    tag: str | None = None,
    difficulty: Annotated[int | None, Parameter(ge=1, le=5)] = None,
) -> list[Question]:
    async with _reading(request) as conn:
        await service.readable_bank(conn, bank_id)
        rows = await store.questions_of_bank(conn, bank_id, tag, difficulty)
    iris = _iris(request)
    return [service.question_of(r, iris) for r in rows]


@get("/questions/{question_id:uuid}", opt=AUTHOR)
async def get_question(request: Request[Any, Any, Any], question_id: uuid.UUID) -> Question:
    async with _reading(request) as conn:
        row = await store.question(conn, question_id)
    if row is None:
        raise NotFound(f"no question {question_id}")
    return service.question_of(row, _iris(request))


@put("/questions/{question_id:uuid}", opt=AUTHOR)
async def put_question(
    request: Request[Any, Any, Any], question_id: uuid.UUID, data: QuestionIn
) -> Question:
    """Replace the question; attempts started before keep the version they delivered."""
    async with _transaction(request) as conn:
        await service.owned_question(conn, question_id, _caller(request))
        await store.replace_question(conn, question_id, service.checked_question(data))
        return service.question_of(await store.question(conn, question_id), _iris(request))


@delete("/questions/{question_id:uuid}", opt=AUTHOR)
async def delete_question(request: Request[Any, Any, Any], question_id: uuid.UUID) -> None:
    async with _transaction(request) as conn:
        await service.owned_question(conn, question_id, _caller(request))
        await store.delete_question(conn, question_id)


# Tests


@post("/tests", opt=AUTHOR)
async def create_test(request: Request[Any, Any, Any], data: TestIn) -> Test:
    test_id = uuid.uuid4()
    caller = _caller(request)
    async with _transaction(request) as conn:
        course_id = await service.check_test(conn, data)
        await store.insert_test(
            conn,
            test_id,
            caller.user_id,
            data.title,
            course_id,
            data.published,
            service.test_spec(data),
        )
        return service.test_of(await store.test(conn, test_id), _iris(request), full=True)


@get("/tests", opt=ANYONE)
async def list_tests(request: Request[Any, Any, Any]) -> list[Test]:
    """Published tests for learners; every test for authors."""
    caller = _caller(request)
    async with _reading(request) as conn:
        rows = await store.tests(conn, published_only=not caller.author)
    iris = _iris(request)
    return [service.test_of(r, iris, full=caller.owns(r)) for r in rows]


@get("/tests/{test_id:uuid}", opt=ANYONE)
async def get_test(request: Request[Any, Any, Any], test_id: uuid.UUID) -> Test:
    caller = _caller(request)
    async with _reading(request) as conn:
        row = await service.readable_test(conn, test_id, caller)
    return service.test_of(row, _iris(request), full=caller.owns(row))


@put("/tests/{test_id:uuid}", opt=AUTHOR)
async def put_test(request: Request[Any, Any, Any], test_id: uuid.UUID, data: TestIn) -> Test:
    """Replace the test; attempts started before keep the questions they delivered."""
    async with _transaction(request) as conn:
        await service.owned_test(conn, test_id, _caller(request))
        course_id = await service.check_test(conn, data, test_id)
        await store.replace_test(
            conn, test_id, data.title, course_id, data.published, service.test_spec(data)
        )
        return service.test_of(await store.test(conn, test_id), _iris(request), full=True)


@delete("/tests/{test_id:uuid}", opt=AUTHOR)
async def delete_test(request: Request[Any, Any, Any], test_id: uuid.UUID) -> None:
    async with _transaction(request) as conn:
        await service.owned_test(conn, test_id, _caller(request))
        await store.delete_test(conn, test_id)


# Attempts


@post("/tests/{test_id:uuid}/attempts", opt=LEARNER)
async def start_attempt(
    request: Request[Any, Any, Any], test_id: uuid.UUID, data: AttemptStart | None = None
) -> Attempt:
    """Start an attempt: its questions drawn with a seed of its own, its clock running."""
    caller = _caller(request)
    iris = _iris(request)
    async with _transaction(request) as conn:
        test = await service.readable_test(conn, test_id, caller)
        registration = data.registration if data is not None else None
        attempt = await service.start_attempt(conn, iris, test, caller, registration)
        view = service.attempt_view(attempt, test, {}, caller)
    await _send_statements(request)  # an attempt this one found expired
    return view


@get("/tests/{test_id:uuid}/attempts", opt=ANYONE)
async def list_attempts(request: Request[Any, Any, Any], test_id: uuid.UUID) -> list[Attempt]:
    """The caller's own attempts; every learner's for the test's owner and admins."""
    caller = _caller(request)
    async with _reading(request) as conn:
        test = await service.readable_test(conn, test_id, caller)
        rows = await store.attempts_of(conn, test_id, None if caller.owns(test) else caller.user_id)
        return [
            service.attempt_view(r, test, await store.answers(conn, r["id"]), caller) for r in rows
        ]


@get("/attempts/{attempt_id:uuid}", opt=ANYONE)
async def get_attempt(request: Request[Any, Any, Any], attempt_id: uuid.UUID) -> Attempt:
    """While it runs: its questions, without answers, with the caller's responses. After:
    the review the test's feedback policy allows."""
    caller = _caller(request)
    async with _transaction(request) as conn:
        attempt, test = await service.open_attempt(conn, _iris(request), attempt_id, caller)
        view = service.attempt_view(attempt, test, await store.answers(conn, attempt_id), caller)
    await _send_statements(request)
    return view


@put("/attempts/{attempt_id:uuid}/answers/{question_id:uuid}", opt=LEARNER, status_code=204)
async def put_answer(
    request: Request[Any, Any, Any], attempt_id: uuid.UUID, question_id: uuid.UUID, data: AnswerIn
) -> None:
    """Record (or change) the response to one question; 409 once the attempt is submitted,
    also when its time limit passed."""
    caller = _caller(request)
    async with _transaction(request) as conn:
        attempt, _ = await service.open_attempt(conn, _iris(request), attempt_id, caller)
        if attempt["learner"] != caller.user_id:
            raise Forbidden("only the learner answers their attempt")
        if attempt["status"] == AttemptStatus.IN_PROGRESS:
            await service.answer(conn, attempt, question_id, data.response)
    if attempt["status"] != AttemptStatus.IN_PROGRESS:
        await _send_statements(request)
        raise Conflict("the attempt is submitted (its time limit passed)")


@post("/attempts/{attempt_id:uuid}/submit", opt=LEARNER, status_code=200)
async def submit_attempt(request: Request[Any, Any, Any], attempt_id: uuid.UUID) -> Attempt:
    caller = _caller(request)
    iris = _iris(request)
    async with _transaction(request) as conn:
        attempt, test = await service.open_attempt(conn, iris, attempt_id, caller)
        if attempt["learner"] != caller.user_id:
            raise Forbidden("only the learner submits their attempt")
        attempt = await service.submit(conn, iris, test, attempt, auto=False)
        view = service.attempt_view(attempt, test, await store.answers(conn, attempt_id), caller)
    await _send_statements(request)
    return view


@get("/tests/{test_id:uuid}/grading-queue", opt=AUTHOR)
async def grading_queue(request: Request[Any, Any, Any], test_id: uuid.UUID) -> list[PendingAnswer]:
    """Open-ended answers of submitted attempts waiting for a grade, oldest first."""
    caller = _caller(request)
    async with _reading(request) as conn:
        test = await service.readable_test(conn, test_id, caller)
        if not caller.owns(test):
            raise Forbidden("only the test's owner (or an admin) grades it")
        rows = await store.pending_answers(conn, test_id)
    pending = []
    for row in rows:
        attempt = {"id": row["attempt_id"], "questions": row["questions"]}
        question = delivered(service.delivered_entry(attempt, row["question_id"]))
        pending.append(
            PendingAnswer(
                attempt_id=row["attempt_id"],
                question_id=row["question_id"],
                learner=row["learner"],
                prompt=question.prompt,
                rubric=getattr(question, "rubric", ""),
                points_max=question.points,
                response=msgspec.json.decode(row["response"]),
                answered=row["answered"],
            )
        )
    return pending


@post("/attempts/{attempt_id:uuid}/answers/{question_id:uuid}/grade", opt=AUTHOR, status_code=200)
async def grade_answer(
    request: Request[Any, Any, Any], attempt_id: uuid.UUID, question_id: uuid.UUID, data: Grade
) -> Attempt:
    """Grade an open-ended answer; the last grade completes the attempt's scoring."""
    caller = _caller(request)
    iris = _iris(request)
    async with _transaction(request) as conn:
        attempt, test = await service.open_attempt(conn, iris, attempt_id, caller)
        attempt = await service.grade(conn, iris, test, attempt, question_id, data, caller)
        view = service.attempt_view(attempt, test, await store.answers(conn, attempt_id), caller)
    await _send_statements(request)
    return view


api_router = Router(
    path="/api/v1",
    route_handlers=[
        create_bank,
        list_banks,
        get_bank,
        patch_bank,
        delete_bank,
        create_question,
        list_questions,
        get_question,
        put_question,
        delete_question,
        create_test,
        list_tests,
        get_test,
        put_test,
        delete_test,
        start_attempt,
        list_attempts,
        get_attempt,
        put_answer,
        submit_attempt,
        grading_queue,
        grade_answer,
    ],
    guards=[authorize],
    tags=["assessments"],
)
