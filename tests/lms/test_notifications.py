"""Notifications (lms/notifications): domain events on the bus become notifications listed
over HTTP, pushed over WebSocket, and sent in digests by signed webhook (retried, then
dead-lettered) and by email to a local SMTP sink."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest

from core.events import CourseCompleted, CoursePublished, encode_event
from lms.notifications.webhook import SIGNATURE_HEADER, verify
from tests.conftest import Server, free_port
from tests.lms.conftest import bearer, create_user, password_grant, publish

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
websocket = pytest.importorskip("websocket")  # websocket-client

SECRET = "s3cret-for-signing"
MAX_ATTEMPTS = 3


class Receiver(BaseHTTPRequestHandler):
    """Webhook endpoints: /ok answers 204, /flaky fails twice first, /down always fails."""

    received: list[tuple[str, dict[str, str], bytes]] = []
    flaky_failures = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), body))
        fail = self.path.startswith("/down")
        if self.path.startswith("/flaky") and type(self).flaky_failures < 2:
            type(self).flaky_failures += 1
            fail = True
        self.send_response(500 if fail else 204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_address[1]}"
    http.shutdown()


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture(scope="module")
def srv(own_server_factory: Callable[[dict[str, str]], Server], smtp: tuple[Sink, int]) -> Server:
    return own_server_factory(
        {
            "HYPEREDU_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "HYPEREDU_NOTIFICATIONS_SMTP_PORT": str(smtp[1]),
            "HYPEREDU_NOTIFICATIONS_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "HYPEREDU_NOTIFICATIONS_BACKOFF_S": "0.2",
            "HYPEREDU_NOTIFICATIONS_DISPATCH_INTERVAL_S": "0.1",
        }
    )


@pytest.fixture(scope="module")
def dsn(srv: Server) -> Iterator[str]:
    from ingest.embedded_postgres import start_embedded_postgres

    pg, url = start_embedded_postgres(srv.data_dir)
    yield url
    pg.cleanup()


def person(srv: Server, role: str = "learner") -> dict[str, Any]:
    user = create_user(srv.data_dir, role)
    token = password_grant(srv.url, user["email"]).json()["access_token"]
    return {**user, "token": token, "headers": bearer(token)}


def completed(learner: str, course_id: str | None = None) -> CourseCompleted:
    return CourseCompleted(learner=learner, course_id=course_id or f"c-{uuid.uuid4().hex[:6]}")


def publish_completions(dsn: str, *events: CourseCompleted) -> None:
    publish(dsn, "lms.progress", *(encode_event(e) for e in events))


def set_preferences(srv: Server, who: dict[str, Any], **prefs: Any) -> httpx.Response:
    response = httpx.put(
        srv.url + "/api/v1/notifications/preferences", json=prefs, headers=who["headers"]
    )
    assert response.status_code == 200, response.text
    return response


def listed(srv: Server, who: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.get(srv.url + "/api/v1/notifications", headers=who["headers"])
    assert response.status_code == 200, response.text
    return list(response.json())


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s")
        time.sleep(0.1)
    return value


def posts_to(path: str) -> list[tuple[str, dict[str, str], bytes]]:
    return [r for r in Receiver.received if r[0] == path]


def test_events_are_listed_once_each_and_muted_types_not_at_all(srv: Server, dsn: str) -> None:
    ann = person(srv)
    event = completed(ann["id"])
    publish_completions(dsn, event, event)  # delivered twice: one notification
    eventually(lambda: listed(srv, ann))
    time.sleep(0.5)
    [notification] = listed(srv, ann)
    assert notification["type"] == "CourseCompleted"
    assert event.course_id in notification["title"]
    assert notification["event"]["event_id"] == str(event.event_id)

    set_preferences(srv, ann, muted=["CourseCompleted"])
    publish_completions(dsn, completed(ann["id"]))
    marker = CoursePublished(course_id="c-none", version=2, published_by="x")
    publish(dsn, "lms.courses", encode_event(marker))
    time.sleep(1.5)
    assert len(listed(srv, ann)) == 1


def test_new_versions_reach_enrolled_learners(srv: Server, dsn: str) -> None:
    ann = person(srv)
    course_id = f"c-{uuid.uuid4().hex[:6]}"
    enrolled = {
        "type": "LearnerEnrolled",
        "event_id": str(uuid.uuid4()),
        "course_id": course_id,
        "learner": ann["id"],
        "registration": str(uuid.uuid4()),
    }
    publish(dsn, "lms.courses", (course_id.encode(), json.dumps(enrolled).encode()))
    published = CoursePublished(course_id=course_id, version=2, published_by="someone")
    publish(dsn, "lms.courses", encode_event(published))
    eventually(lambda: len(listed(srv, ann)) == 2)
    assert [n["type"] for n in listed(srv, ann)] == ["CoursePublished", "LearnerEnrolled"]


def test_preferences_keep_the_webhook_secret_to_themselves(srv: Server) -> None:
    ann = person(srv)
    url = srv.url + "/api/v1/notifications/preferences"
    assert httpx.get(url, headers=ann["headers"]).json()["digestSeconds"] == 30
    body = set_preferences(
        srv, ann, webhookUrl="http://127.0.0.1:9/x", webhookSecret=SECRET, digestSeconds=5
    ).json()
    assert "webhookSecret" not in body and body["webhookSecretSet"] is True
    assert httpx.get(url, headers=ann["headers"]).json()["webhookUrl"] == "http://127.0.0.1:9/x"
    no_secret = httpx.put(url, json={"webhookUrl": "http://x/"}, headers=ann["headers"])
    assert no_secret.status_code == 400
    assert (
        httpx.put(
            url, json={"webhookUrl": "ftp://x/", "webhookSecret": "k"}, headers=ann["headers"]
        ).status_code
        == 400
    )
    assert httpx.get(url).status_code == 401


def test_websocket_pushes_a_notification_as_it_is_made(srv: Server, dsn: str) -> None:
    ann = person(srv)
    ws_url = srv.url.replace("http://", "ws://") + "/api/v1/notifications/ws"
    socket = websocket.create_connection(f"{ws_url}?access_token={ann['token']}", timeout=15)
    try:
        time.sleep(0.3)  # the hub has the socket
        event = completed(ann["id"])
        publish_completions(dsn, event, completed(str(uuid.uuid4())))  # the second: someone else
        pushed = json.loads(socket.recv())
        assert (
            pushed["type"] == "CourseCompleted" and pushed["event"]["course_id"] == event.course_id
        )
    finally:
        socket.close()


def test_websocket_needs_a_valid_token(srv: Server) -> None:
    ws_url = srv.url.replace("http://", "ws://") + "/api/v1/notifications/ws"
    with pytest.raises(websocket.WebSocketException):
        websocket.create_connection(ws_url, timeout=10)
    with pytest.raises(websocket.WebSocketException):
        websocket.create_connection(f"{ws_url}?access_token=not-a-token", timeout=10)


def test_a_burst_is_one_signed_webhook_digest(srv: Server, dsn: str, receiver: str) -> None:
    ann = person(srv)
    path = f"/ok/{ann['id']}"
    set_preferences(srv, ann, webhookUrl=receiver + path, webhookSecret=SECRET, digestSeconds=2)
    events = [completed(ann["id"]) for _ in range(3)]
    publish_completions(dsn, *events[:2])
    publish_completions(dsn, events[2])
    eventually(lambda: posts_to(path))
    time.sleep(2.5)
    [(_, headers, body)] = posts_to(path)
    assert verify(SECRET, body, headers[SIGNATURE_HEADER])
    assert not verify("another secret", body, headers[SIGNATURE_HEADER])
    message = json.loads(body)
    assert message["digest"] is True and message["user"] == ann["id"]
    assert sorted(n["event"]["course_id"] for n in message["notifications"]) == sorted(
        e.course_id for e in events
    )


def test_a_failing_webhook_is_retried_until_it_answers(
    srv: Server, dsn: str, receiver: str
) -> None:
    ann = person(srv)
    path = f"/flaky/{ann['id']}"
    set_preferences(srv, ann, webhookUrl=receiver + path, webhookSecret=SECRET, digestSeconds=0)
    publish_completions(dsn, completed(ann["id"]))
    eventually(lambda: len(posts_to(path)) >= 3)
    time.sleep(1.0)
    assert len(posts_to(path)) == 3  # two failures, then delivered: nothing more
    assert len({body for _, _, body in posts_to(path)}) == 1  # the same message each time
    row = asyncio.run(
        _fetchrow(
            dsn, "SELECT * FROM lms_notification_deliveries WHERE target = $1", receiver + path
        )
    )
    assert row["delivered"] is not None and row["attempts"] == 3 and row["dead"] is None


def test_a_webhook_that_keeps_failing_is_dead_lettered(
    srv: Server, dsn: str, receiver: str
) -> None:
    ann = person(srv)
    admin = person(srv, "admin")
    path = f"/down/{ann['id']}"
    set_preferences(srv, ann, webhookUrl=receiver + path, webhookSecret=SECRET, digestSeconds=0)
    publish_completions(dsn, completed(ann["id"]))
    url = srv.url + "/api/v1/notifications/dead-letters"

    def dead() -> list[dict[str, Any]]:
        return [
            d for d in httpx.get(url, headers=admin["headers"]).json() if d["target"].endswith(path)
        ]

    [letter] = eventually(dead)
    assert letter["attempts"] == MAX_ATTEMPTS and len(posts_to(path)) == MAX_ATTEMPTS
    assert "500" in letter["lastError"] and letter["message"]["user"] == ann["id"]
    assert httpx.get(url, headers=ann["headers"]).status_code == 403

    retried = httpx.post(f"{url}/{letter['id']}/retry", headers=admin["headers"])
    assert retried.status_code == 202
    eventually(lambda: len(posts_to(path)) > MAX_ATTEMPTS)
    eventually(dead)


@pytest.mark.parametrize("delivery_id", [0, -1, 2**63, 10**20])
def test_retrying_an_id_no_delivery_can_have_is_404(srv: Server, delivery_id: int) -> None:
    url = f"{srv.url}/api/v1/notifications/dead-letters/{delivery_id}/retry"
    assert httpx.post(url, headers=person(srv, "admin")["headers"]).status_code == 404


def test_email_digest_reaches_the_smtp_sink(srv: Server, dsn: str, smtp: tuple[Sink, int]) -> None:
    sink, _ = smtp
    ann = person(srv)
    set_preferences(srv, ann, email=True, digestSeconds=1)
    publish_completions(dsn, completed(ann["id"]), completed(ann["id"]))

    def mine() -> list[Any]:
        return [m for m in sink.messages if ann["email"] in m.rcpt_tos]

    [mail] = eventually(mine)
    text = mail.content.decode()
    assert "Subject: 2 new notifications" in text and "You completed course" in text


async def _fetchrow(dsn: str, query: str, *args: object) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchrow(query, *args)
    finally:
        await conn.close()
