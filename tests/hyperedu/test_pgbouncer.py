"""Role api through a transaction-mode PgBouncer (the 100k profile's pooler): the xAPI and
LMS APIs on pooled connections, what needs a session of its own (migrations' lock, the
notification hub's LISTEN) on HYPEREDU_DIRECT_DATABASE_URL, and nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ingest.embedded_postgres import start_embedded_postgres
from tests.conftest import HYPEREDU, Server, basic, create_credential, free_port
from tests.lms.conftest import assert_notification_pushed

# pgbouncer refuses to run as root; the embedded PostgreSQL runs as this user (pgserver's)
# and its socket directory is open to it.
PGSERVER_USER = "pgserver"


@pytest.fixture
def pgbouncer(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(pooled URL through PgBouncer in transaction mode, direct URL) to tmp_path's PostgreSQL."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        pytest.fail("pgbouncer is not installed: `make system-deps` installs it")
    pg, direct = start_embedded_postgres(tmp_path)
    url = urlsplit(direct)
    socket_dir = parse_qs(url.query)["host"][0]
    config = Path(tempfile.mkdtemp(prefix="hyperedu-pgbouncer-"))
    port = free_port()
    (config / "users.txt").write_text('"postgres" ""\n')
    (config / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={socket_dir} port={url.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {config}/users.txt\n"
        "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 4\n"
        f"logfile = {config}/pgbouncer.log\n"
    )
    for path in (config, *config.iterdir()):
        path.chmod(0o777 if path == config else 0o644)
    command = [binary, str(config / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", PGSERVER_USER]
    bouncer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while (
            not (config / "pgbouncer.log").exists()
            or "listening on" not in (config / "pgbouncer.log").read_text()
        ):
            assert bouncer.poll() is None, "pgbouncer exited"
            assert time.monotonic() < deadline, "pgbouncer did not start"
            time.sleep(0.1)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", direct
    finally:
        bouncer.terminate()
        bouncer.wait(timeout=30)
        shutil.rmtree(config, ignore_errors=True)
        pg.cleanup()


def test_role_api_through_transaction_mode_pgbouncer(
    tmp_path: Path, pgbouncer: tuple[str, str]
) -> None:
    pooled, direct = pgbouncer
    credential = create_credential(tmp_path)
    through_pooler = {
        "HYPEREDU_DATABASE_URL": pooled,
        "HYPEREDU_DIRECT_DATABASE_URL": direct,
        "HYPEREDU_DB_STATEMENT_CACHE_SIZE": "0",  # Debian's PgBouncer is older than 1.21
    }
    server = Server(tmp_path, free_port(), env={"HYPEREDU_ROLE": "api", **through_pooler})
    server.start()
    consumer = subprocess.Popen(
        [*HYPEREDU, "consumer", "notifications", "--data-dir", str(tmp_path)],
        env={**os.environ, **through_pooler},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    headers = {"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)}
    registration = str(uuid.uuid4())

    def statement(n: int) -> dict[str, object]:
        return {
            "actor": {"mbox": f"mailto:pooled-{n % 7}@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": f"http://example.com/pooled/{n}"},
            "context": {"registration": registration},
        }

    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            # single statements from many connections at once (the group commit), one batch
            # large enough for the COPY path, and a PUT
            with ThreadPoolExecutor(16) as pool:
                singles = list(
                    pool.map(
                        lambda n: client.post("/xapi/statements", json=statement(n)), range(64)
                    )
                )
            assert [r.status_code for r in singles] == [200] * 64
            batch = client.post("/xapi/statements", json=[statement(n) for n in range(64, 664)])
            assert batch.status_code == 200, batch.text
            put = client.put(
                "/xapi/statements", params={"statementId": str(uuid.uuid4())}, json=statement(664)
            )
            assert put.status_code == 204, put.text
            stored: list[dict[str, object]] = []
            page = client.get(
                "/xapi/statements", params={"registration": registration, "limit": 500}
            ).json()
            stored += page["statements"]
            while page["more"]:
                page = client.get(page["more"]).json()
                stored += page["statements"]
            assert len(stored) == 665 and len({s["id"] for s in stored}) == 665
            state = {
                "activityId": "http://example.com/pooled/0",
                "agent": json.dumps({"mbox": "mailto:pooled-0@example.com"}),
                "stateId": "bookmark",
            }
            assert (
                client.put("/xapi/activities/state", params=state, json={"at": 3}).status_code
                == 204
            )
            assert client.get("/xapi/activities/state", params=state).json() == {"at": 3}

        # the hub LISTENs on the direct URL: a notification the consumer makes reaches the socket
        assert_notification_pushed(server.url, tmp_path, direct, "pooled-course")
    finally:
        consumer.terminate()
        assert consumer.wait(timeout=60) == 0
        server.stop()
