"""Statements in bulk: export (NDJSON, CSV) and import (validated as the API validates, batched,
idempotent) from the CLI and over the admin API, and partial acceptance on POST
/xapi/statements?partialSuccess=true."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import HYPEREDU, Server
from tests.lms.conftest import bearer, create_user, password_grant

VERB = "http://adlnet.gov/expapi/verbs/experienced"


def statement(email: str, **more: Any) -> dict[str, Any]:
    return {
        "actor": {"objectType": "Agent", "name": "Ada", "mbox": f"mailto:{email}"},
        "verb": {"id": VERB},
        "object": {"id": f"http://example.com/activities/{uuid.uuid4().hex}"},
        **more,
    }


def run_cli(
    data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HYPEREDU, *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )


def by_registration(client: httpx.Client, registration: str) -> list[dict[str, Any]]:
    response = client.get("/xapi/statements", params={"registration": registration})
    assert response.status_code == 200, response.text
    statements: list[dict[str, Any]] = response.json()["statements"]
    return statements


def ndjson(*statements: dict[str, Any]) -> str:
    return "".join(json.dumps(s) + "\n" for s in statements)


@pytest.fixture(scope="module")
def admin(server: Server, data_dir: Path) -> httpx.Client:
    person = create_user(data_dir, "admin")
    token = password_grant(server.url, person["email"]).json()["access_token"]
    return httpx.Client(base_url=server.url, headers=bearer(token), timeout=60)


@pytest.fixture
def registration() -> str:
    return str(uuid.uuid4())


def with_registration(registration: str, email: str | None = None, **more: Any) -> dict[str, Any]:
    email = email or f"bulk-{uuid.uuid4().hex[:8]}@example.com"
    return statement(email, context={"registration": registration}, **more)


# --- export --------------------------------------------------------------------------------


def test_cli_export_writes_each_statement_as_stored_one_per_line(
    client: httpx.Client, data_dir: Path, registration: str
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    posted = client.post(
        "/xapi/statements", json=[with_registration(registration) for _ in range(3)]
    ).json()
    done = run_cli(data_dir, "statements", "export", "--since", since)
    assert done.returncode == 0, done.stderr
    exported = {s["id"]: s for s in map(json.loads, done.stdout.splitlines())}
    stored = {s["id"]: s for s in by_registration(client, registration)}
    assert set(posted) <= set(exported)
    assert all(exported[i] == stored[i] for i in posted)
    assert "exported" in done.stderr and "statements" in done.stderr


def test_cli_export_until_excludes_later_statements(
    client: httpx.Client, data_dir: Path, registration: str
) -> None:
    until = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    (posted,) = client.post("/xapi/statements", json=[with_registration(registration)]).json()
    done = run_cli(data_dir, "statements", "export", "--until", until)
    assert done.returncode == 0, done.stderr
    assert posted not in done.stdout


def test_cli_export_csv_is_a_flattened_view(
    client: httpx.Client, data_dir: Path, registration: str
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    email = f"csv-{uuid.uuid4().hex[:8]}@example.com"
    sent = with_registration(
        registration,
        email,
        result={"score": {"scaled": 0.5, "raw": 5}, "success": True, "duration": "PT1M"},
    )
    (posted,) = client.post("/xapi/statements", json=[sent]).json()
    done = run_cli(data_dir, "statements", "export", "--since", since, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    row = rows[posted]
    assert row["actor"] == f"mbox mailto:{email}"
    assert row["actor_name"] == "Ada"
    assert row["verb"] == VERB
    assert row["object_id"] == sent["object"]["id"]
    assert row["object_type"] == "Activity"
    assert (row["score_scaled"], row["score_raw"]) == ("0.5", "5")
    assert (row["success"], row["completion"]) == ("true", "")
    assert row["duration"] == "PT1M"
    assert row["registration"] == registration


def test_admin_export_streams_ndjson(
    admin: httpx.Client, client: httpx.Client, registration: str
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    posted = client.post(
        "/xapi/statements", json=[with_registration(registration) for _ in range(2)]
    ).json()
    with admin.stream(
        "GET", "/api/v1/admin/statements/export", params={"since": since}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        ids = {json.loads(line)["id"] for line in response.iter_lines() if line}
    assert set(posted) <= ids


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/admin/statements/export"), ("POST", "/api/v1/admin/statements/import")],
)
def test_admin_endpoints_refuse_everyone_but_administrators(
    client: httpx.Client, server: Server, method: str, path: str
) -> None:
    assert httpx.request(method, server.url + path).status_code == 401
    # A tool's credential with every xAPI scope is still not an administrator.
    assert client.request(method, path, content=b"").status_code == 403


# --- import --------------------------------------------------------------------------------


def test_cli_import_stores_statements_keeping_stored_and_authority(
    client: httpx.Client, data_dir: Path, tmp_path: Path, registration: str
) -> None:
    authority = {"objectType": "Agent", "account": {"homePage": "https://old.example", "name": "x"}}
    kept = with_registration(
        registration,
        id=str(uuid.uuid4()),
        stored="2020-01-02T03:04:05.678Z",
        timestamp="2020-01-02T03:04:00.000Z",
        authority=authority,
    )
    fresh = with_registration(registration, id=str(uuid.uuid4()))
    file = tmp_path / "in.ndjson"
    file.write_text(ndjson(kept, fresh))
    done = run_cli(data_dir, "statements", "import", str(file))
    assert done.returncode == 0, done.stderr
    assert "imported 2 statements" in done.stderr
    stored = {s["id"]: s for s in by_registration(client, registration)}
    assert stored[kept["id"]]["stored"] == "2020-01-02T03:04:05.678Z"
    assert stored[kept["id"]]["authority"] == authority
    assert stored[fresh["id"]]["stored"] > "2024"
    assert stored[fresh["id"]]["authority"]["account"]["name"] == "hyperedu-import"


def test_cli_import_again_is_idempotent(
    client: httpx.Client, data_dir: Path, tmp_path: Path, registration: str
) -> None:
    lines = [with_registration(registration, id=str(uuid.uuid4())) for _ in range(5)]
    file = tmp_path / "in.ndjson"
    file.write_text(ndjson(*lines))
    for _ in range(2):
        done = run_cli(data_dir, "statements", "import", str(file), "--batch", "2")
        assert done.returncode == 0, done.stderr
    assert len(by_registration(client, registration)) == 5


def test_cli_import_stops_at_the_first_invalid_line_storing_nothing_of_its_batch(
    client: httpx.Client, data_dir: Path, tmp_path: Path, registration: str
) -> None:
    bad = with_registration(registration)
    bad["verb"] = {"id": "not an iri"}
    file = tmp_path / "in.ndjson"
    file.write_text(ndjson(with_registration(registration), bad, with_registration(registration)))
    done = run_cli(data_dir, "statements", "import", str(file))
    assert done.returncode == 1
    assert "line 2:" in done.stderr and "$.verb.id" in done.stderr
    assert by_registration(client, registration) == []


def test_cli_import_partial_skips_invalid_lines_and_says_why(
    client: httpx.Client, data_dir: Path, registration: str
) -> None:
    bad = with_registration(registration)
    del bad["actor"]
    text = ndjson(with_registration(registration), bad) + "{not json\n\n"
    text += ndjson(with_registration(registration))
    done = run_cli(data_dir, "statements", "import", "-", "--partial", stdin=text)
    assert done.returncode == 0, done.stderr
    assert "line 2: A required property is missing (at $.actor)" in done.stderr
    assert "line 3:" in done.stderr
    assert "imported 2 statements" in done.stderr and "2 rejected" in done.stderr
    assert len(by_registration(client, registration)) == 2


def test_cli_import_conflicting_statement_is_rejected(
    client: httpx.Client, data_dir: Path, registration: str
) -> None:
    original = with_registration(registration, id=str(uuid.uuid4()))
    client.post("/xapi/statements", json=[original]).raise_for_status()
    changed = {**original, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}}
    done = run_cli(data_dir, "statements", "import", "-", "--partial", stdin=ndjson(changed))
    assert done.returncode == 0, done.stderr
    assert "line 1:" in done.stderr and "already stored with different content" in done.stderr
    (stored,) = by_registration(client, registration)
    assert stored["verb"]["id"] == VERB


def test_cli_import_as_a_credential(
    client: httpx.Client, credential: tuple[str, str], data_dir: Path, registration: str
) -> None:
    key = credential[0]
    line = ndjson(with_registration(registration))
    done = run_cli(data_dir, "statements", "import", "-", "--as", key, stdin=line)
    assert done.returncode == 0, done.stderr
    (stored,) = by_registration(client, registration)
    assert stored["authority"]["account"]["name"] == key
    assert (
        run_cli(data_dir, "statements", "import", "-", "--as", "nobody", stdin=line).returncode == 2
    )


def test_export_then_import_round_trips(
    client: httpx.Client, admin: httpx.Client, data_dir: Path, registration: str
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    client.post("/xapi/statements", json=[with_registration(registration) for _ in range(3)])
    exported = run_cli(data_dir, "statements", "export", "--since", since).stdout
    response = admin.post(
        "/api/v1/admin/statements/import",
        content=exported,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == len(exported.splitlines())
    assert len(by_registration(client, registration)) == 3


def test_admin_import_reports_lines(
    admin: httpx.Client, client: httpx.Client, registration: str
) -> None:
    bad = with_registration(registration)
    bad["object"] = {"id": "nope"}
    body = ndjson(with_registration(registration), bad, with_registration(registration))
    stopped = admin.post("/api/v1/admin/statements/import", content=body)
    assert stopped.status_code == 400
    assert stopped.json()["stopped"]["line"] == 2
    assert by_registration(client, registration) == []
    partial = admin.post(
        "/api/v1/admin/statements/import", params={"partialSuccess": "true"}, content=body
    )
    assert partial.status_code == 200, partial.text
    report = partial.json()
    assert (report["lines"], report["stored"], report["rejected_total"]) == (3, 2, 1)
    assert report["rejected"][0]["line"] == 2
    assert report["rejected"][0]["path"] == "$.object.id"
    assert len(by_registration(client, registration)) == 2


# --- POST /xapi/statements?partialSuccess=true ----------------------------------------------


def test_partial_success_stores_the_valid_statements_and_reports_the_rest(
    client: httpx.Client, registration: str
) -> None:
    bad = with_registration(registration)
    bad["verb"] = {"id": "not an iri"}
    batch = [with_registration(registration), bad, with_registration(registration)]
    response = client.post("/xapi/statements", params={"partialSuccess": "true"}, json=batch)
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["stored"]) == 2
    assert [(r["index"], r["path"]) for r in result["rejected"]] == [(1, "$[1].verb.id")]
    assert result["rejected"][0]["rule"]
    assert {s["id"] for s in by_registration(client, registration)} == set(result["stored"])


def test_without_partial_success_a_batch_stays_all_or_nothing(
    client: httpx.Client, registration: str
) -> None:
    bad = with_registration(registration)
    bad["verb"] = {"id": "not an iri"}
    response = client.post("/xapi/statements", json=[with_registration(registration), bad])
    assert response.status_code == 400
    assert by_registration(client, registration) == []


def test_partial_success_rejects_duplicates_and_conflicts_by_index(
    client: httpx.Client, registration: str
) -> None:
    stored = with_registration(registration, id=str(uuid.uuid4()))
    client.post("/xapi/statements", json=[stored]).raise_for_status()
    conflicting = {**stored, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}}
    twice = with_registration(registration, id=str(uuid.uuid4()))
    batch = [twice, twice, conflicting]
    response = client.post("/xapi/statements", params={"partialSuccess": "true"}, json=batch)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["stored"] == [twice["id"]]
    assert [(r["index"], r["path"]) for r in result["rejected"]] == [
        (1, "$[1].id"),
        (2, "$[2].id"),
    ]


def test_partial_success_must_be_true_or_false(client: httpx.Client) -> None:
    response = client.post("/xapi/statements", params={"partialSuccess": "yes"}, json=[])
    assert response.status_code == 400
