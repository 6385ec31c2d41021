"""`hyperedu serve --role`: each process kind runs on its own."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx

from ingest.embedded_postgres import start_embedded_postgres
from ingest.inflight_hosts import host_id
from tests.conftest import HYPEREDU, Server, basic, create_credential, free_port
from tests.lms.conftest import assert_notification_pushed, bearer, create_user, password_grant


def test_api_role_serves_the_xapi_api(tmp_path: Path):
    credential = create_credential(tmp_path)
    server = Server(tmp_path, free_port(), env={"HYPEREDU_ROLE": "api"})
    server.start()
    try:
        response = httpx.post(
            server.url + "/xapi/statements",
            headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
            json={
                "actor": {"mbox": "mailto:role@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": "http://example.com/role"},
            },
        )
        assert response.status_code == 200
    finally:
        server.stop()


def test_an_unknown_role_is_refused_with_exit_status_2(tmp_path: Path):
    done = subprocess.run(
        [*HYPEREDU, "serve", "--role", "everything", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown role" in done.stderr


def test_api_role_with_a_consumer_process_pushes_notifications_and_keeps_the_catalogue(
    tmp_path: Path,
):
    """The scaled split: role api runs no LMS consumer, but its workers keep the WebSocket hub;
    `hyperedu consumer` (all of them) makes the notification the learner's socket receives
    and keeps the catalogue the api serves."""
    server = Server(tmp_path, free_port(), env={"HYPEREDU_ROLE": "api"})
    server.start()
    consumer = subprocess.Popen(
        [*HYPEREDU, "consumer", "--data-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pg, dsn = start_embedded_postgres(tmp_path)
    try:
        assert_notification_pushed(server.url, tmp_path, dsn, "role-api-course")

        author = create_user(tmp_path, "author")
        headers = bearer(password_grant(server.url, author["email"]).json()["access_token"])
        api = server.url + "/api/v1"
        course = httpx.post(api + "/courses", json={"title": "Split 101"}, headers=headers)
        assert course.status_code == 201, course.text
        cid = course.json()["id"]
        module = httpx.post(f"{api}/courses/{cid}/modules", json={"title": "M"}, headers=headers)
        item = {"kind": "video", "title": "V", "payload": {"url": "https://v.example/1.mp4"}}
        items = f"{api}/courses/{cid}/modules/{module.json()['id']}/items"
        assert httpx.post(items, json=item, headers=headers).status_code == 201
        assert httpx.post(f"{api}/courses/{cid}/publish", headers=headers).status_code == 200
        deadline = time.monotonic() + 30
        while (listed := httpx.get(f"{api}/catalogue/{cid}", headers=headers)).status_code != 200:
            assert time.monotonic() < deadline, "the consumer process did not keep the catalogue"
            time.sleep(0.2)
        assert listed.json()["title"] == "Split 101"
        # The statements the progress consumer records count for Consistent-Through too: it
        # reports beside the api's workers, as a host of its own (ingest/inflight_hosts.py).
        reporting = asyncio.run(_reporting_hosts(dsn))
        assert reporting[f"{host_id(tmp_path)} progress consumer"] == 1
        assert reporting[host_id(tmp_path)] == 2  # the api's two workers
    finally:
        consumer.terminate()
        assert consumer.wait(timeout=60) == 0
        server.stop()
        pg.cleanup()


async def _reporting_hosts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT host, count(*) FROM inflight_workers GROUP BY host")
        return {row["host"]: row["count"] for row in rows}
    finally:
        await conn.close()
