"""The progress consumer: the statement stream (group `lms.progress`) into the progress
tables, and the course statements that decides sent through the LRS.

Exactly once, end to end:
- a batch of statements is applied in one transaction that also records each statement id
  as seen, so a batch delivered again (after a crash before the position commit) is skipped;
- a voiding statement recomputes the progress its target counted toward, in that same
  transaction, from the observations that still count;
- a cmi5 defined statement not counted for breaking cmi5 sequencing is voided by the LMS
  (cmi5 6.3): a row of the voiding ledger, inserted once per target in that same
  transaction, sent after the commit like the decisions (`lms.progress.voiding`);
- a decision (satisfied, completed, passed) is a row of the emission ledger, inserted once
  per (registration, course, verb) in that same transaction, together with the
  `CourseCompleted` event (outbox);
- the decided statements are sent after the commit, with ids derived from the ledger key:
  sent again after a crash, the LRS finds the same statement and stores nothing new.
The ledger survives a rebuild (the decisions happened), so a replay from offset zero
rebuilds the same state without deciding anything twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from core.bus import STATEMENTS_TOPIC, Bus, Consumer, ConsumerTask, Record
from ingest.batcher import GroupCommitter
from lms.progress.criteria import CompletionCriteria
from lms.progress.emit import send_pending
from lms.progress.iris import LmsIris
from lms.progress.observation import Voiding, observe, wanted
from lms.progress.projection import (
    apply_observation,
    apply_voiding,
    judge_registration,
    load_criteria,
    recompute,
)

CONSUMER_GROUP = "lms.progress"


async def apply_records(pool: asyncpg.Pool, records: Sequence[Record], iris: LmsIris) -> int:
    """Apply a batch in one transaction, in order; return how many statements changed
    progress (new ones that count, and voidings of ones that counted)."""
    observations = [o for r in records if (o := observe(r.value, iris)) is not None]
    if not observations:
        return 0
    applied = 0
    async with pool.acquire() as conn, conn.transaction():
        criteria: dict[str, CompletionCriteria | None] = {}

        async def criteria_of(course_id: str) -> CompletionCriteria | None:
            if course_id not in criteria:
                criteria[course_id] = await load_criteria(conn, course_id)
            return criteria[course_id]

        for obs in observations:
            if isinstance(obs, Voiding):
                counted = await apply_voiding(conn, obs)
                if counted is not None:
                    registration, course_id = counted
                    await recompute(
                        conn, registration, course_id, await criteria_of(course_id), iris
                    )
                    applied += 1
                continue
            if not await apply_observation(conn, obs, iris):
                continue
            applied += 1
            if (course_criteria := await criteria_of(obs.course_id)) is not None:
                await judge_registration(
                    conn, obs.registration, obs.course_id, course_criteria, iris, obs.timestamp
                )
    return applied


async def consume(
    consumer: Consumer,
    pool: asyncpg.Pool,
    committer: GroupCommitter,
    iris: LmsIris,
    *,
    follow: bool = True,
) -> int:
    """Apply the stream until cancelled (follow) or until a poll finds nothing new."""
    await send_pending(pool, committer, iris.base_url)  # decided before a crash, not yet sent
    applied = 0
    while True:
        records = await consumer.poll(max_records=1000, timeout_s=1.0)
        if records:
            applied += await apply_records(pool, records, iris)
            if any(r.value for r in records):  # else none was read, so none decided anything
                await send_pending(pool, committer, iris.base_url)
            await consumer.commit(records)
        elif not follow:
            return applied


async def reset_projection(pool: asyncpg.Pool) -> None:
    """Forget the derived state and the group's position: the next reader replays the log
    from offset zero. Criteria and the emission ledger stay. Stop the readers first."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "TRUNCATE lms_progress, lms_progress_activities, lms_progress_seen,"
            " lms_progress_observations, lms_progress_voided RESTART IDENTITY"
        )
        await conn.execute(
            'DELETE FROM bus_offsets WHERE "group" = $1 AND topic = $2',
            CONSUMER_GROUP,
            STATEMENTS_TOPIC,
        )


class ProgressWorker(ConsumerTask):
    """The consumer as a task beside the server; it restarts after an error."""

    def __init__(
        self, bus: Bus, pool: asyncpg.Pool, committer: GroupCommitter, iris: LmsIris
    ) -> None:
        async def handle(consumer: Consumer) -> None:
            await consume(consumer, pool, committer, iris)

        super().__init__(
            bus, CONSUMER_GROUP, STATEMENTS_TOPIC, handle, name="progress", wanted=wanted(iris)
        )
