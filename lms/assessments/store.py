"""SQL of the assessments module. Every function runs on the caller's connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

_BANK = "b.id, b.owner, b.title, b.description, b.created"
_QUESTION = "id, bank_id, spec"
_TEST = "id, owner, title, course_id, published, spec, created, updated"
_ATTEMPT = (
    "id, test_id, learner, number, seed, registration, questions, started, deadline,"
    " submitted, auto_submitted, status, score_raw, score_max, passed"
)


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# Banks and questions


async def insert_bank(
    conn: asyncpg.Connection, bank_id: uuid.UUID, owner: str, title: str, description: str
) -> None:
    await conn.execute(
        "INSERT INTO lms_question_banks (id, owner, title, description) VALUES ($1, $2, $3, $4)",
        bank_id,
        owner,
        title,
        description,
    )


async def banks(conn: asyncpg.Connection, bank_id: uuid.UUID | None = None) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_BANK}, (SELECT count(*) FROM lms_questions q WHERE q.bank_id = b.id)"
        " AS question_count FROM lms_question_banks b"
        " WHERE $1::uuid IS NULL OR b.id = $1 ORDER BY b.created, b.id",
        bank_id,
    )
    return rows


async def update_bank(conn: asyncpg.Connection, bank_id: uuid.UUID, **fields: Any) -> None:
    assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(fields))
    await conn.execute(
        f"UPDATE lms_question_banks SET {assignments} WHERE id = $1", bank_id, *fields.values()
    )


async def delete_bank(conn: asyncpg.Connection, bank_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_question_banks WHERE id = $1", bank_id)


async def bank_owner(conn: asyncpg.Connection, bank_id: uuid.UUID) -> str | None:
    owner: str | None = await conn.fetchval(
        "SELECT owner FROM lms_question_banks WHERE id = $1", bank_id
    )
    return owner


async def insert_question(
    conn: asyncpg.Connection,
    question_id: uuid.UUID,
    bank_id: uuid.UUID,
    question: Any,
) -> None:
    await conn.execute(
        "INSERT INTO lms_questions (id, bank_id, kind, prompt, spec, tags, difficulty, points)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        question_id,
        bank_id,
        type(question).__struct_config__.tag,
        question.prompt,
        _json(question),
        question.tags,
        question.difficulty,
        question.points,
    )


async def replace_question(conn: asyncpg.Connection, question_id: uuid.UUID, question: Any) -> None:
    await conn.execute(
        "UPDATE lms_questions SET kind = $2, prompt = $3, spec = $4, tags = $5, difficulty = $6,"
        " points = $7 WHERE id = $1",
        question_id,
        type(question).__struct_config__.tag,
        question.prompt,
        _json(question),
        question.tags,
        question.difficulty,
        question.points,
    )


async def delete_question(conn: asyncpg.Connection, question_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_questions WHERE id = $1", question_id)


async def question(conn: asyncpg.Connection, question_id: uuid.UUID) -> Any:
    return await conn.fetchrow(f"SELECT {_QUESTION} FROM lms_questions WHERE id = $1", question_id)


async def questions_of_bank(
    conn: asyncpg.Connection, bank_id: uuid.UUID, tag: str | None, difficulty: int | None
) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_QUESTION} FROM lms_questions WHERE bank_id = $1"
        " AND ($2::text IS NULL OR $2 = ANY(tags)) AND ($3::int IS NULL OR difficulty = $3)"
        " ORDER BY created, id",
        bank_id,
        tag,
        difficulty,
    )
    return rows


async def questions_by_id(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_QUESTION} FROM lms_questions WHERE id = ANY($1::uuid[])", ids
    )
    return rows


async def questions_of_banks(conn: asyncpg.Connection, bank_ids: list[uuid.UUID]) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_QUESTION} FROM lms_questions WHERE bank_id = ANY($1::uuid[])", bank_ids
    )
    return rows


# Tests


async def insert_test(
    conn: asyncpg.Connection,
    test_id: uuid.UUID,
    owner: str,
    title: str,
    course_id: str | None,
    published: bool,
    spec: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO lms_tests (id, owner, title, course_id, published, spec)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        test_id,
        owner,
        title,
        course_id,
        published,
        _json(spec),
    )


async def replace_test(
    conn: asyncpg.Connection,
    test_id: uuid.UUID,
    title: str,
    course_id: str | None,
    published: bool,
    spec: dict[str, Any],
) -> None:
    await conn.execute(
        "UPDATE lms_tests SET title = $2, course_id = $3, published = $4, spec = $5,"
        " updated = now() WHERE id = $1",
        test_id,
        title,
        course_id,
        published,
        _json(spec),
    )


async def test(conn: asyncpg.Connection, test_id: uuid.UUID, *, for_update: bool = False) -> Any:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_TEST} FROM lms_tests WHERE id = $1{lock}", test_id)


async def tests(conn: asyncpg.Connection, *, published_only: bool) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_TEST} FROM lms_tests WHERE published OR NOT $1 ORDER BY created, id",
        published_only,
    )
    return rows


async def delete_test(conn: asyncpg.Connection, test_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_tests WHERE id = $1", test_id)


# Attempts and answers


async def attempts_of(
    conn: asyncpg.Connection, test_id: uuid.UUID, learner: str | None
) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_ATTEMPT} FROM lms_attempts WHERE test_id = $1"
        " AND ($2::text IS NULL OR learner = $2) ORDER BY learner, number",
        test_id,
        learner,
    )
    return rows


async def insert_attempt(
    conn: asyncpg.Connection,
    attempt_id: uuid.UUID,
    test_id: uuid.UUID,
    learner: str,
    number: int,
    seed: int,
    registration: uuid.UUID | None,
    questions: list[dict[str, Any]],
    deadline: datetime | None,
) -> Any:
    return await conn.fetchrow(
        "INSERT INTO lms_attempts (id, test_id, learner, number, seed, registration, questions,"
        f" deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_ATTEMPT}",
        attempt_id,
        test_id,
        learner,
        number,
        seed,
        registration,
        _json(questions),
        deadline,
    )


async def attempt(
    conn: asyncpg.Connection, attempt_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_ATTEMPT} FROM lms_attempts WHERE id = $1{lock}", attempt_id
    )


async def close_attempt(
    conn: asyncpg.Connection,
    attempt_id: uuid.UUID,
    *,
    status: str,
    submitted: datetime,
    auto_submitted: bool,
    score_raw: float | None,
    score_max: float,
    passed: bool | None,
) -> Any:
    return await conn.fetchrow(
        "UPDATE lms_attempts SET status = $2, submitted = $3, auto_submitted = $4,"
        f" score_raw = $5, score_max = $6, passed = $7 WHERE id = $1 RETURNING {_ATTEMPT}",
        attempt_id,
        status,
        submitted,
        auto_submitted,
        score_raw,
        score_max,
        passed,
    )


async def answers(conn: asyncpg.Connection, attempt_id: uuid.UUID) -> dict[str, Any]:
    rows = await conn.fetch(
        "SELECT question_id, response, answered, points, graded_by, comment"
        " FROM lms_attempt_answers WHERE attempt_id = $1",
        attempt_id,
    )
    return {str(r["question_id"]): r for r in rows}


async def put_answer(
    conn: asyncpg.Connection, attempt_id: uuid.UUID, question_id: uuid.UUID, response: Any
) -> None:
    await conn.execute(
        "INSERT INTO lms_attempt_answers (attempt_id, question_id, response) VALUES ($1, $2, $3)"
        " ON CONFLICT (attempt_id, question_id) DO UPDATE SET response = excluded.response,"
        " answered = now()",
        attempt_id,
        question_id,
        _json(response),
    )


async def set_points(
    conn: asyncpg.Connection,
    attempt_id: uuid.UUID,
    question_id: uuid.UUID,
    points: float | None,
    *,
    graded_by: str | None = None,
    comment: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE lms_attempt_answers SET points = $3, graded_by = $4, comment = $5"
        " WHERE attempt_id = $1 AND question_id = $2",
        attempt_id,
        question_id,
        points,
        graded_by,
        comment,
    )


async def pending_answers(conn: asyncpg.Connection, test_id: uuid.UUID) -> list[Any]:
    """Answers of submitted attempts that wait for a person's grade, oldest first."""
    rows: list[Any] = await conn.fetch(
        "SELECT a.id AS attempt_id, a.learner, a.questions, x.question_id, x.response,"
        " x.answered FROM lms_attempts a JOIN lms_attempt_answers x ON x.attempt_id = a.id"
        " WHERE a.test_id = $1 AND a.status = 'grading' AND x.points IS NULL"
        " ORDER BY a.submitted, a.id, x.question_id",
        test_id,
    )
    return rows


# The statement outbox


async def queue_statements(conn: asyncpg.Connection, bodies: list[dict[str, Any]]) -> None:
    await conn.executemany(
        "INSERT INTO lms_assessment_statements (id, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(uuid.UUID(b["id"]), _json(b)) for b in bodies],
    )


async def pending_statements(conn: asyncpg.Connection, limit: int) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT id, body FROM lms_assessment_statements WHERE accepted IS NULL"
        " ORDER BY decided, id LIMIT $1",
        limit,
    )
    return rows


async def mark_accepted(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE lms_assessment_statements SET accepted = now() WHERE id = ANY($1::uuid[])", ids
    )
