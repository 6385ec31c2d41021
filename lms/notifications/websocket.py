"""Notifications pushed over WebSocket: `/api/v1/notifications/ws`.

Authenticated by an access token in the `access_token` query parameter (browsers cannot set
headers on a WebSocket) or in `Authorization: Bearer`. Each server worker has one `Hub`: it
listens for the `NOTIFY` a new notification sends at commit (whichever process made it) and
passes the notification to that person's open sockets in this worker.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import msgspec
from litestar import WebSocket, websocket

from core.errors import HyperEduError
from ingest.listen import listen_until_lost
from lms.iam.access import identify
from lms.iam.state import IamState
from lms.notifications.inbox import WAKE_CHANNEL

log = logging.getLogger(__name__)
HUB_KEY = "lms.notifications.hub"
_QUEUE_MAX = 1000  # a socket this far behind loses the oldest notifications, not the server


class Hub:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._sockets: dict[str, set[asyncio.Queue[bytes]]] = {}
        self._pushes: set[asyncio.Task[None]] = set()

    async def listen(self, dsn: str) -> None:
        """Pass on new notifications until the listening connection is lost."""
        await listen_until_lost(dsn, WAKE_CHANNEL, self._notified)

    def subscribe(self, user_id: str) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE_MAX)
        self._sockets.setdefault(user_id, set()).add(queue)
        return queue

    def unsubscribe(self, user_id: str, queue: asyncio.Queue[bytes]) -> None:
        queues = self._sockets.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._sockets[user_id]

    def _notified(self, payload: str) -> None:
        task = asyncio.create_task(self._push(int(payload)))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _push(self, notification_id: int) -> None:
        row = await self._pool.fetchrow(
            "SELECT id, user_id, type, title, data, created FROM lms_notifications WHERE id = $1",
            notification_id,
        )
        if row is None or row["user_id"] not in self._sockets:
            return
        body = msgspec.json.encode(notification_body(row))
        for queue in self._sockets.get(row["user_id"], ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(body)


def notification_body(row: Any) -> dict[str, object]:
    return {
        "id": row["id"],
        "type": row["type"],
        "title": row["title"],
        "event": msgspec.json.decode(row["data"]),
        "created": row["created"].isoformat(),
    }


@websocket("/api/v1/notifications/ws")
async def notifications_socket(socket: WebSocket[Any, Any, Any]) -> None:
    token = socket.query_params.get("access_token")
    authorization = f"Bearer {token}" if token else socket.headers.get("authorization")
    try:
        principal = await identify(IamState.of(socket), authorization)
    except HyperEduError:
        await socket.close(code=4401, reason="sign in first")
        return
    if principal.kind == "client":
        await socket.close(code=4403, reason="notifications are for people")
        return
    hub: Hub = socket.app.state[HUB_KEY]
    queue = hub.subscribe(principal.subject)
    await socket.accept()
    closed = asyncio.create_task(_until_closed(socket))
    try:
        while True:
            next_one = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({next_one, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                next_one.cancel()
                return
            await socket.send_data(next_one.result().decode(), mode="text")
    finally:
        closed.cancel()
        hub.unsubscribe(principal.subject, queue)


async def _until_closed(socket: WebSocket[Any, Any, Any]) -> None:
    while (await socket.receive())["type"] != "websocket.disconnect":
        pass
