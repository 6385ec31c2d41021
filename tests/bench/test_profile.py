"""The stage attribution of `hyperedu bench profile` (py-spy itself is not run here)."""

from __future__ import annotations

from bench.profile import NATIVE, OTHER, stage_of, stage_shares

SERVER = (
    "<module> (hyperedu:6);main (hyperedu/cli.py:592);MPServer.serve (granian/server/mp.py:513)"
)


def test_a_sample_counts_for_the_innermost_frame_of_a_known_stage() -> None:
    frames = [
        "fast_lane (lrs/ingest_fast_lane.py:59)",
        "store_statements (lrs/statements.py:146)",
        "decode_statements (core/xapi/decode.py:87)",
        "Decoder.decode (msgspec/__init__.py:1)",
    ]
    assert stage_of(frames) == "decode (msgspec)"
    assert stage_of(frames[:2]) == "statements resource"


def test_asyncpg_under_the_append_is_the_append() -> None:
    frames = [
        "GroupCommitter._write_forever (ingest/batcher.py:150)",
        "append_batch (ingest/postgres.py:40)",
        "Connection._do_execute (asyncpg/connection.py:2069)",
    ]
    assert stage_of(frames) == "append to PostgreSQL (asyncpg)"


def test_samples_without_python_frames_of_their_own_are_native() -> None:
    assert stage_of([]) == NATIVE
    assert stage_of(SERVER.split(";")) == NATIVE
    assert stage_of(["something (somewhere/else.py:1)"]) == OTHER


def test_shares_sum_to_one_largest_first() -> None:
    raw = [
        f"{SERVER};fast_lane (lrs/ingest_fast_lane.py:59);validate (core/xapi/validate.py:9) 30",
        f"{SERVER} 60",
        " 10",
        "not a sample line",
    ]
    shares = stage_shares(raw)
    assert list(shares) == [NATIVE, "validate the data model"]
    assert shares[NATIVE] == 0.7
    assert abs(sum(shares.values()) - 1) < 1e-9
