"""/api/v1/notifications: a person's notifications and preferences; dead letters (admins)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Router, get, post, put
from litestar.params import FromPath

from core.errors import BadRequest, NotFound
from lms.iam.access import AUTHENTICATED, authorize, principal_of
from lms.iam.roles import Permission
from lms.notifications.dispatch import DEFAULT_DIGEST_SECONDS
from lms.notifications.websocket import notification_body
from lrs.state import LrsState

_PAGE_MAX = 200
_BIGSERIAL_END = 2**63


class Preferences(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    websocket: bool = True
    email: bool = False
    email_address: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None  # write-only: answers say only whether one is set
    digest_seconds: int = DEFAULT_DIGEST_SECONDS
    muted: list[str] = msgspec.field(default_factory=list)

    def problem(self) -> str | None:
        if not 0 <= self.digest_seconds <= 86_400:
            return "digestSeconds is from 0 to 86400"
        if self.webhook_url is not None:
            url = urlsplit(self.webhook_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                return "webhookUrl must be an http(s) URL"
            if not self.webhook_secret:
                return "a webhook needs a webhookSecret to sign its messages with"
        if self.email_address is not None and "@" not in self.email_address:
            return "emailAddress is not an address"
        return None


def _subject(request: Request[Any, Any, Any]) -> str:
    return principal_of(request).subject


@get("/notifications", opt={"permission": AUTHENTICATED})
async def list_notifications(request: Request[Any, Any, Any]) -> list[dict[str, object]]:
    """Newest first; `?before=<id>` pages on, `?limit=` (at most 200)."""
    try:
        limit = min(int(request.query_params.get("limit", 50)), _PAGE_MAX)
        before = int(request.query_params.get("before", 2**62))
    except ValueError:
        raise BadRequest("limit and before are integers") from None
    rows = await LrsState.of(request).pool.fetch(
        "SELECT id, type, title, data, created FROM lms_notifications"
        " WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        _subject(request),
        before,
        limit,
    )
    return [notification_body(r) for r in rows]


@get("/notifications/preferences", opt={"permission": AUTHENTICATED})
async def get_preferences(request: Request[Any, Any, Any]) -> dict[str, object]:
    row = await LrsState.of(request).pool.fetchrow(
        "SELECT websocket, email, email_address, webhook_url, webhook_secret, digest_seconds,"
        " muted FROM lms_notification_preferences WHERE user_id = $1",
        _subject(request),
    )
    prefs = Preferences() if row is None else Preferences(**{**row, "muted": list(row["muted"])})
    return _preferences_body(prefs)


@put("/notifications/preferences", opt={"permission": AUTHENTICATED})
async def put_preferences(request: Request[Any, Any, Any]) -> dict[str, object]:
    try:
        prefs = msgspec.json.decode(await request.body(), type=Preferences)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"invalid preferences: {exc}") from None
    if (problem := prefs.problem()) is not None:
        raise BadRequest(problem)
    await LrsState.of(request).pool.execute(
        "INSERT INTO lms_notification_preferences (user_id, websocket, email, email_address,"
        " webhook_url, webhook_secret, digest_seconds, muted)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id) DO UPDATE SET"
        " websocket = excluded.websocket, email = excluded.email,"
        " email_address = excluded.email_address, webhook_url = excluded.webhook_url,"
        " webhook_secret = excluded.webhook_secret, digest_seconds = excluded.digest_seconds,"
        " muted = excluded.muted, updated = now()",
        _subject(request),
        prefs.websocket,
        prefs.email,
        prefs.email_address,
        prefs.webhook_url,
        prefs.webhook_secret,
        prefs.digest_seconds,
        prefs.muted,
    )
    return _preferences_body(prefs)


@get("/notifications/dead-letters", opt={"permission": Permission.MANAGE_NOTIFICATIONS})
async def list_dead_letters(request: Request[Any, Any, Any]) -> list[dict[str, object]]:
    rows = await LrsState.of(request).pool.fetch(
        "SELECT id, channel, user_id, target, body, attempts, last_error, created, dead"
        " FROM lms_notification_deliveries WHERE dead IS NOT NULL ORDER BY dead DESC LIMIT 500"
    )
    return [
        {
            "id": r["id"],
            "channel": r["channel"],
            "user": r["user_id"],
            "target": r["target"],
            "message": msgspec.json.decode(r["body"]),
            "attempts": r["attempts"],
            "lastError": r["last_error"],
            "created": r["created"].isoformat(),
            "dead": r["dead"].isoformat(),
        }
        for r in rows
    ]


@post(
    "/notifications/dead-letters/{delivery_id:int}/retry",
    status_code=202,
    opt={"permission": Permission.MANAGE_NOTIFICATIONS},
)
async def retry_dead_letter(request: Request[Any, Any, Any], delivery_id: FromPath[int]) -> None:
    if not 0 < delivery_id < _BIGSERIAL_END:  # the database would refuse it as out of range
        raise NotFound(f"no dead letter {delivery_id}")
    done = await LrsState.of(request).pool.execute(
        "UPDATE lms_notification_deliveries SET dead = NULL, attempts = 0, next_attempt = now()"
        " WHERE id = $1 AND dead IS NOT NULL",
        delivery_id,
    )
    if done == "UPDATE 0":
        raise NotFound(f"no dead letter {delivery_id}")


def _preferences_body(prefs: Preferences) -> dict[str, object]:
    body: dict[str, object] = msgspec.to_builtins(
        msgspec.structs.replace(prefs, webhook_secret=None)
    )
    body.pop("webhookSecret", None)
    body["webhookSecretSet"] = bool(prefs.webhook_secret)
    return body


api_router = Router(
    path="/api/v1",
    route_handlers=[
        list_notifications,
        get_preferences,
        put_preferences,
        list_dead_letters,
        retry_dead_letter,
    ],
    guards=[authorize],
)
