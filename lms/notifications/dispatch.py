"""The dispatcher: digests of notifications into email and webhook messages, and their
delivery with exponential back-off and dead letters.

A digest: a person's undispatched notifications are gathered into one message once the
oldest of them is `digest_seconds` old, so a burst within that window is one message. The
messages are rows of `lms_notification_deliveries`, tried until one attempt succeeds or
`max_attempts` have failed (then `dead`: a dead letter). One dispatcher per database at a
time (an advisory lock), though every server worker runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import msgspec

from lms.iam.users import UserStore
from lms.notifications.config import NotificationSettings
from lms.notifications.email import compose, send_email
from lms.notifications.webhook import post_webhook

log = logging.getLogger(__name__)
DEFAULT_DIGEST_SECONDS = 30
_LOCK = (0x4E4F5449, 1)  # "NOTI": one dispatcher per database
_LEASE_S = 300  # a claimed delivery is tried again after this if its dispatcher died


class Message(msgspec.Struct, frozen=True, rename="camel"):
    user: str
    digest: bool
    notifications: list[dict[str, Any]]


def message_of(user_id: str, rows: list[Any]) -> Message:
    return Message(
        user=user_id,
        digest=len(rows) > 1,
        notifications=[
            {
                "id": r["id"],
                "type": r["type"],
                "title": r["title"],
                "event": msgspec.json.decode(r["data"]),
                "created": _time(r["created"]),
            }
            for r in rows
        ],
    )


def subject_and_text(message: Message) -> tuple[str, str]:
    titles = [n["title"] for n in message.notifications]
    subject = titles[0] if len(titles) == 1 else f"{len(titles)} new notifications"
    return subject, "\n".join(f"- {t}" for t in titles) + "\n"


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, settings: NotificationSettings) -> None:
        self._pool = pool
        self._settings = settings
        self._users = UserStore(pool)
        self._http = httpx.AsyncClient(timeout=settings.webhook_timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    async def run(self, dsn: str) -> None:
        """Dispatch while holding the dispatcher lock; wait for it otherwise."""
        conn = await asyncpg.connect(dsn)
        try:
            while True:
                if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *_LOCK):
                    break
                await asyncio.sleep(1.0)  # another dispatcher has it
            while True:
                await self.dispatch_once()
                await asyncio.sleep(self._settings.dispatch_interval_s)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def dispatch_once(self) -> None:
        await self.gather_digests()
        await self.deliver_due()

    async def gather_digests(self) -> int:
        """Turn the due bursts of notifications into messages; return how many."""
        due = await self._pool.fetch(
            "SELECT n.user_id FROM lms_notifications n"
            " LEFT JOIN lms_notification_preferences p USING (user_id)"
            " WHERE n.dispatched IS NULL GROUP BY n.user_id, p.digest_seconds"
            " HAVING min(n.created) <= now() - make_interval(secs => coalesce(p.digest_seconds, $1))",
            DEFAULT_DIGEST_SECONDS,
        )
        made = 0
        for row in due:
            made += await self._gather(row["user_id"])
        return made

    async def _gather(self, user_id: str) -> int:
        email = await self._email_address(user_id)
        async with self._pool.acquire() as conn, conn.transaction():
            prefs = await conn.fetchrow(
                "SELECT webhook_url FROM lms_notification_preferences WHERE user_id = $1",
                user_id,
            )
            rows = await conn.fetch(
                "UPDATE lms_notifications SET dispatched = now() WHERE id IN"
                " (SELECT id FROM lms_notifications WHERE user_id = $1 AND dispatched IS NULL"
                "  ORDER BY id FOR UPDATE SKIP LOCKED)"
                " RETURNING id, type, title, data, created",
                user_id,
            )
            if not rows:
                return 0
            body = msgspec.json.encode(message_of(user_id, sorted(rows, key=lambda r: r["id"])))
            targets = [("email", email)] if email else []
            if prefs is not None and prefs["webhook_url"]:
                targets.append(("webhook", prefs["webhook_url"]))
            for channel, target in targets:
                await conn.execute(
                    "INSERT INTO lms_notification_deliveries (channel, user_id, target, body)"
                    " VALUES ($1, $2, $3, $4)",
                    channel,
                    user_id,
                    target,
                    body,
                )
            return len(targets)

    async def _email_address(self, user_id: str) -> str | None:
        prefs = await self._pool.fetchrow(
            "SELECT email, email_address FROM lms_notification_preferences WHERE user_id = $1",
            user_id,
        )
        if prefs is None or not prefs["email"]:
            return None
        if prefs["email_address"]:
            return str(prefs["email_address"])
        try:
            user = await self._users.get(uuid.UUID(user_id))
        except ValueError:
            return None
        return user.email if user is not None else None

    async def deliver_due(self) -> int:
        """Try every due delivery once; return how many succeeded."""
        claimed = await self._pool.fetch(
            "UPDATE lms_notification_deliveries d"
            " SET next_attempt = now() + make_interval(secs => $1)"
            " FROM (SELECT id FROM lms_notification_deliveries"
            "  WHERE delivered IS NULL AND dead IS NULL AND next_attempt <= now()"
            "  ORDER BY next_attempt LIMIT 100 FOR UPDATE SKIP LOCKED) due"
            " WHERE d.id = due.id"
            " RETURNING d.id, d.channel, d.target, d.body, d.attempts, d.user_id",
            float(_LEASE_S),
        )
        results = await asyncio.gather(*(self._attempt(row) for row in claimed))
        return sum(results)

    async def _attempt(self, row: Any) -> bool:
        try:
            if row["channel"] == "webhook":
                secret = await self._pool.fetchval(
                    "SELECT coalesce(webhook_secret, '') FROM lms_notification_preferences"
                    " WHERE user_id = $1",
                    row["user_id"],
                )
                await post_webhook(self._http, row["target"], secret or "", row["body"], row["id"])
            else:
                message = msgspec.json.decode(row["body"], type=Message)
                subject, text = subject_and_text(message)
                await send_email(
                    self._settings, compose(self._settings.smtp_from, row["target"], subject, text)
                )
        except Exception as exc:  # any failure of the far end is retried, then dead-lettered
            await self._failed(row, f"{type(exc).__name__}: {exc}")
            return False
        await self._pool.execute(
            "UPDATE lms_notification_deliveries SET delivered = now(), attempts = attempts + 1,"
            " last_error = NULL WHERE id = $1",
            row["id"],
        )
        return True

    async def _failed(self, row: Any, error: str) -> None:
        attempts = row["attempts"] + 1
        dead = attempts >= self._settings.max_attempts
        delay = self._settings.backoff_s * 2 ** (attempts - 1)
        await self._pool.execute(
            "UPDATE lms_notification_deliveries SET attempts = $2, last_error = $3,"
            " dead = CASE WHEN $4 THEN now() END,"
            " next_attempt = now() + make_interval(secs => $5) WHERE id = $1",
            row["id"],
            attempts,
            error[:1000],
            dead,
            delay,
        )
        if dead:
            log.warning("notification delivery %s is dead after %d attempts", row["id"], attempts)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
