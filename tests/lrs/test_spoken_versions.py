"""The version a refusal without a version header is answered in: the client's own, whichever
of the server's workers heard it last."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from lrs.spoken_versions import DEFAULT, FILE_NAME, SpokenVersions
from lrs.versioning import V1, V2

ADA = "Basic a2V5OnNlY3JldA=="


def test_a_client_is_answered_in_the_version_it_last_spoke() -> None:
    spoken = SpokenVersions()
    spoken.heard(ADA, V2)
    assert spoken.refusal_version(ADA) == V2
    spoken.heard(ADA, V1)
    assert spoken.refusal_version(ADA) == V1


def test_a_client_not_heard_from_or_without_credentials_gets_the_default() -> None:
    spoken = SpokenVersions()
    spoken.heard(ADA, V2)
    assert DEFAULT == V1
    assert spoken.refusal_version("Basic b3RoZXI6b3RoZXI=") == DEFAULT
    assert spoken.refusal_version(None) == DEFAULT


def test_workers_share_what_a_client_last_spoke(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    this_worker = SpokenVersions(path)
    this_worker.heard(ADA, V1)
    # Another worker is another process with its own mapping of the file.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from lrs.spoken_versions import SpokenVersions;"
            " SpokenVersions(Path(sys.argv[1])).heard(sys.argv[2], '2.0.0')",
            str(path),
            ADA,
        ],
        check=True,
    )
    assert this_worker.refusal_version(ADA) == V2
    assert SpokenVersions(path).refusal_version(ADA) == V2  # a worker started later, too


def test_the_table_holds_no_secret_and_has_a_fixed_size(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    spoken = SpokenVersions(path)
    size = path.stat().st_size
    for i in range(50_000):
        spoken.heard(f"Basic client-{i}", V2)
    assert path.stat().st_size == size
    table = path.read_bytes()
    assert b"client-" not in table and b"Basic" not in table
    assert all(isinstance(key, int) for key in vars(spoken)["_digests"])
    assert spoken.refusal_version("Basic client-49999") == V2


def test_every_worker_of_the_server_answers_in_the_version_last_spoken(
    server, make_client: Callable[..., httpx.Client]
) -> None:
    """The session's server runs two workers; each request below is on a new connection, so
    they land on either worker."""
    client = make_client("all", "2.0.0")
    authorization = client.headers["authorization"]
    for spoken in ("2.0.0", "1.0.3", "2.0.0"):
        heard = httpx.get(
            server.url + "/xapi/statements?limit=1",
            headers={"Authorization": authorization, "X-Experience-API-Version": spoken},
        )
        assert heard.status_code == 200
        for _ in range(8):
            refused = httpx.get(
                server.url + "/xapi/statements?limit=1", headers={"Authorization": authorization}
            )
            assert refused.status_code == 400
            assert refused.headers["x-experience-api-version"] == spoken
