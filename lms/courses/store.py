"""SQL of the courses module: the write model and the catalogue documents.

Every function runs on the caller's connection (and in its transaction, when it has one).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

_COURSE = "id, owner, title, description, status, version, created, updated"


async def insert_course(
    conn: asyncpg.Connection, course_id: uuid.UUID, owner: str, title: str, description: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"INSERT INTO lms_courses (id, owner, title, description) VALUES ($1, $2, $3, $4)"
        f" RETURNING {_COURSE}",
        course_id,
        owner,
        title,
        description,
    )


async def course(
    conn: asyncpg.Connection, course_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_COURSE} FROM lms_courses WHERE id = $1{lock}", course_id)


async def courses(
    conn: asyncpg.Connection, *, owner: str | None, published_only: bool
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_COURSE} FROM lms_courses"
        " WHERE ($1::text IS NULL OR owner = $1) AND (NOT $2 OR status = 'published')"
        " ORDER BY created, id",
        owner,
        published_only,
    )
    return rows


async def update_course(
    conn: asyncpg.Connection, course_id: uuid.UUID, **fields: Any
) -> asyncpg.Record:
    """Set `fields` (title, description, status), add one to the version."""
    names = list(fields)
    assignments = "".join(f", {name} = ${i + 2}" for i, name in enumerate(names))
    return await conn.fetchrow(
        f"UPDATE lms_courses SET version = version + 1, updated = now(){assignments}"
        f" WHERE id = $1 RETURNING {_COURSE}",
        course_id,
        *fields.values(),
    )


async def delete_course(conn: asyncpg.Connection, course_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_courses WHERE id = $1", course_id)


async def modules(conn: asyncpg.Connection, course_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, position, title FROM lms_course_modules WHERE course_id = $1"
        " ORDER BY position, id",
        course_id,
    )
    return rows


async def insert_module(
    conn: asyncpg.Connection, module_id: uuid.UUID, course_id: uuid.UUID, title: str
) -> None:
    await conn.execute(
        "INSERT INTO lms_course_modules (id, course_id, position, title) VALUES ($1, $2,"
        " (SELECT count(*) FROM lms_course_modules WHERE course_id = $2), $3)",
        module_id,
        course_id,
        title,
    )


async def rename_module(conn: asyncpg.Connection, module_id: uuid.UUID, title: str) -> None:
    await conn.execute("UPDATE lms_course_modules SET title = $2 WHERE id = $1", module_id, title)


async def delete_module(conn: asyncpg.Connection, module_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_course_modules WHERE id = $1", module_id)


async def order_modules(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE lms_course_modules m SET position = o.position - 1"
        " FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, position) WHERE m.id = o.id",
        ids,
    )


async def items(conn: asyncpg.Connection, course_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every item of the course, module by module, in order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT i.id, i.module_id, i.position, i.kind, i.title, i.payload"
        " FROM lms_course_items i JOIN lms_course_modules m ON m.id = i.module_id"
        " WHERE i.course_id = $1 ORDER BY m.position, i.position, i.id",
        course_id,
    )
    return rows


async def item(
    conn: asyncpg.Connection, course_id: uuid.UUID, item_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, module_id, position, kind, title, payload FROM lms_course_items"
        " WHERE course_id = $1 AND id = $2",
        course_id,
        item_id,
    )


async def insert_item(
    conn: asyncpg.Connection,
    item_id: uuid.UUID,
    course_id: uuid.UUID,
    module_id: uuid.UUID,
    kind: str,
    title: str,
    payload: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO lms_course_items (id, course_id, module_id, position, kind, title, payload)"
        " VALUES ($1, $2, $3, (SELECT count(*) FROM lms_course_items WHERE module_id = $3),"
        " $4, $5, $6)",
        item_id,
        course_id,
        module_id,
        kind,
        title,
        _json(payload),
    )


async def update_item(
    conn: asyncpg.Connection,
    item_id: uuid.UUID,
    *,
    title: str,
    payload: dict[str, Any],
    module_id: uuid.UUID,
) -> None:
    await conn.execute(
        "UPDATE lms_course_items SET title = $2, payload = $3, module_id = $4 WHERE id = $1",
        item_id,
        title,
        _json(payload),
        module_id,
    )


async def delete_item(conn: asyncpg.Connection, item_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_course_items WHERE id = $1", item_id)


async def item_ids(conn: asyncpg.Connection, module_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT id FROM lms_course_items WHERE module_id = $1 ORDER BY position, id", module_id
    )
    return [r["id"] for r in rows]


async def order_items(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE lms_course_items i SET position = o.position - 1"
        " FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, position) WHERE i.id = o.id",
        ids,
    )


async def insert_enrolment(
    conn: asyncpg.Connection,
    course_id: uuid.UUID,
    learner: str,
    registration: uuid.UUID,
    enrolled_by: str,
) -> asyncpg.Record | None:
    """The new enrolment; None if the learner was enrolled already."""
    return await conn.fetchrow(
        "INSERT INTO lms_enrolments (course_id, learner, registration, enrolled_by)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        " RETURNING course_id, learner, registration, enrolled",
        course_id,
        learner,
        registration,
        enrolled_by,
    )


async def enrolment(
    conn: asyncpg.Connection, course_id: uuid.UUID, learner: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT course_id, learner, registration, enrolled FROM lms_enrolments"
        " WHERE course_id = $1 AND learner = $2",
        course_id,
        learner,
    )


async def enrolments(
    conn: asyncpg.Connection, course_id: uuid.UUID, learner: str | None
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT course_id, learner, registration, enrolled FROM lms_enrolments"
        " WHERE course_id = $1 AND ($2::text IS NULL OR learner = $2) ORDER BY enrolled",
        course_id,
        learner,
    )
    return rows


async def count_enrolments(conn: asyncpg.Connection, course_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM lms_enrolments WHERE course_id = $1", course_id
    )
    return count


# The catalogue (read model)


async def put_document(
    conn: asyncpg.Connection,
    course_id: uuid.UUID,
    version: int,
    title: str,
    document: dict[str, Any],
) -> None:
    """Store the document unless a newer version of it is there already."""
    await conn.execute(
        "INSERT INTO lms_catalogue (course_id, version, title, document)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (course_id) DO UPDATE SET"
        " version = excluded.version, title = excluded.title, document = excluded.document,"
        " updated = now() WHERE lms_catalogue.version <= excluded.version",
        course_id,
        version,
        title,
        _json(document),
    )


async def drop_document(conn: asyncpg.Connection, course_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM lms_catalogue WHERE course_id = $1", course_id)


async def documents(conn: asyncpg.Connection) -> list[str]:
    """Every course of the catalogue without its outline, by title."""
    rows = await conn.fetch(
        "SELECT (document - 'modules')::text AS doc FROM lms_catalogue ORDER BY title, course_id"
    )
    return [r["doc"] for r in rows]


async def document(conn: asyncpg.Connection, course_id: uuid.UUID) -> str | None:
    doc: str | None = await conn.fetchval(
        "SELECT document::text FROM lms_catalogue WHERE course_id = $1", course_id
    )
    return doc


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# cmi5 launch sessions


async def insert_cmi5_session(
    conn: asyncpg.Connection,
    *,
    session_id: uuid.UUID,
    fetch_digest: bytes,
    course_id: uuid.UUID,
    item_id: uuid.UUID,
    learner: str,
    registration: uuid.UUID,
    fetch_seconds: int,
) -> None:
    await conn.execute(
        "INSERT INTO lms_cmi5_sessions (session_id, fetch_digest, course_id, item_id, learner,"
        " registration, fetch_expires)"
        " VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
        session_id,
        fetch_digest,
        course_id,
        item_id,
        learner,
        registration,
        fetch_seconds,
    )


async def redeem_fetch(conn: asyncpg.Connection, fetch_digest: bytes) -> asyncpg.Record | None:
    """The session whose fetch token this is, marked redeemed; None if there is none, it was
    redeemed before, or it has expired."""
    return await conn.fetchrow(
        "UPDATE lms_cmi5_sessions SET fetched = now()"
        " WHERE fetch_digest = $1 AND fetched IS NULL AND fetch_expires > now()"
        " RETURNING session_id, course_id, item_id, learner, registration",
        fetch_digest,
    )


async def fetch_known(conn: asyncpg.Connection, fetch_digest: bytes) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM lms_cmi5_sessions WHERE fetch_digest = $1", fetch_digest
        )
    )


async def set_session_credential(
    conn: asyncpg.Connection, session_id: uuid.UUID, credential_key: str
) -> None:
    await conn.execute(
        "UPDATE lms_cmi5_sessions SET credential_key = $2 WHERE session_id = $1",
        session_id,
        credential_key,
    )
