"""The notifications consumer: domain events (group `lms.notifications`) into notifications.

Idempotent by (event id, person): an event delivered again inserts nothing and wakes no one.
A new notification wakes the WebSocket hubs of every server worker with `NOTIFY`, at commit.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import msgspec

from core.bus import Consumer, Record
from core.events import COURSES_TOPIC, PROGRESS_TOPIC
from lms.notifications.recipients import notices_for

CONSUMER_GROUP = "lms.notifications"
TOPICS = (COURSES_TOPIC, PROGRESS_TOPIC)
WAKE_CHANNEL = "lms_notification"


async def record_events(pool: asyncpg.Pool, records: Sequence[Record]) -> int:
    """Turn a batch of events into notifications in one transaction; return how many."""
    made = 0
    async with pool.acquire() as conn, conn.transaction():
        for record in records:
            try:
                event = msgspec.json.decode(record.value)
            except msgspec.DecodeError:
                continue
            if not isinstance(event, dict):
                continue
            for notice in await notices_for(conn, event):
                prefs = await conn.fetchrow(
                    "SELECT websocket, muted FROM lms_notification_preferences WHERE user_id = $1",
                    notice.user_id,
                )
                if prefs is not None and notice.type in prefs["muted"]:
                    continue
                new_id = await conn.fetchval(
                    "INSERT INTO lms_notifications (event_id, user_id, type, title, data)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
                    notice.event_id,
                    notice.user_id,
                    notice.type,
                    notice.title,
                    record.value.decode(),
                )
                if new_id is None:
                    continue
                made += 1
                if prefs is None or prefs["websocket"]:
                    await conn.execute("SELECT pg_notify($1, $2)", WAKE_CHANNEL, str(new_id))
    return made


async def consume_events(consumer: Consumer, pool: asyncpg.Pool, *, follow: bool = True) -> int:
    """Record events until cancelled (follow) or until a poll finds nothing new."""
    made = 0
    while True:
        records = await consumer.poll(max_records=500, timeout_s=1.0)
        if records:
            made += await record_events(pool, records)
            await consumer.commit(records)
        elif not follow:
            return made
