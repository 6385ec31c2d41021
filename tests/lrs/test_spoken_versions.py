"""The version a refusal without a version header is answered in: the client's own."""

from __future__ import annotations

from lrs.versioning import REFUSAL_VERSION, V1, V2, SpokenVersions


def test_a_client_is_answered_in_the_version_it_last_spoke() -> None:
    spoken = SpokenVersions()
    spoken.heard("Basic a2V5OnNlY3JldA==", V2)
    assert spoken.refusal_version("Basic a2V5OnNlY3JldA==") == V2
    spoken.heard("Basic a2V5OnNlY3JldA==", V1)
    assert spoken.refusal_version("Basic a2V5OnNlY3JldA==") == V1


def test_a_client_not_heard_from_or_without_credentials_gets_the_default() -> None:
    spoken = SpokenVersions()
    spoken.heard("Basic a2V5OnNlY3JldA==", V2)
    assert spoken.refusal_version("Basic b3RoZXI6b3RoZXI=") == REFUSAL_VERSION
    assert spoken.refusal_version(None) == REFUSAL_VERSION


def test_the_memory_is_bounded_and_holds_no_secret() -> None:
    spoken = SpokenVersions(limit=3)
    for i in range(10):
        spoken.heard(f"Basic client-{i}", V2)
    remembered = vars(spoken)["_last"]
    assert len(remembered) <= 3
    assert all(isinstance(key, int) for key in remembered)
    assert spoken.refusal_version("Basic client-9") == V2
