"""Learner progress and course completion (lms/progress): statements posted as the LMS
contract shapes them, progress read back over HTTP, completion sent exactly once, across a
redelivery and a rebuild from offset zero."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from core.xapi.decode import decode_statements
from ingest.rows import to_row
from lms.progress.consumer import CONSUMER_GROUP, reset_projection
from lms.progress.criteria import ActivityState, CompletionCriteria, MoveOn, item_met, judge
from lms.progress.iris import LmsIris
from lms.progress.observation import Voiding, duration_ms, observe, wanted
from tests.conftest import Server
from tests.lms.conftest import XAPI, bearer, create_user, password_grant, sql

ADL = "http://adlnet.gov/expapi/verbs/"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"


@pytest.fixture(scope="module")
def srv(own_server_factory: Callable[[dict[str, str]], Server]) -> Server:
    return own_server_factory({})


@pytest.fixture(scope="module")
def dsn(srv: Server) -> Iterator[str]:
    from ingest.embedded_postgres import start_embedded_postgres

    pg, url = start_embedded_postgres(srv.data_dir)
    yield url
    pg.cleanup()


@pytest.fixture(scope="module")
def users(srv: Server) -> dict[str, dict[str, str]]:
    out = {}
    for name, role in [("ann", "learner"), ("bob", "learner"), ("author", "author")]:
        user = create_user(srv.data_dir, role)
        response = password_grant(srv.url, user["email"])
        assert response.status_code == 200, response.text
        out[name] = {**user, "headers": bearer(response.json()["access_token"])}  # type: ignore[dict-item]
    return out


class Learner:
    """One learner's enrolment in one course, posting statements the LMS contract's way."""

    def __init__(self, srv: Server, user: dict[str, Any], course_id: str) -> None:
        self.srv = srv
        self.user = user
        self.course_id = course_id
        self.registration = str(uuid.uuid4())

    @property
    def course(self) -> str:
        return f"{self.srv.url}/lms/courses/{self.course_id}"

    def item(self, item_id: str) -> str:
        return f"{self.course}/items/{item_id}"

    def test(self, test_id: str) -> str:
        return f"{self.srv.url}/lms/tests/{self.course_id}-{test_id}"

    def post(
        self,
        verb: str,
        activity: str,
        *,
        score: float | None = None,
        duration: str | None = None,
        cmi5: bool = False,
    ) -> str:
        """Post a statement (`cmi5`: a cmi5 defined one, cmi5 9.6.2.1); its id."""
        result: dict[str, Any] = {}
        if score is not None:
            result["score"] = {"scaled": score}
            result["success"] = verb == "passed"
        if duration is not None:
            result["duration"] = duration
        statement = {
            "actor": {"account": {"homePage": self.srv.url, "name": self.user["id"]}},
            "verb": {"id": ADL + verb},
            "object": {"id": activity},
            "context": {
                "registration": self.registration,
                "contextActivities": {
                    "parent": [{"id": self.course}],
                    **({"category": [{"id": CMI5}]} if cmi5 else {}),
                },
            },
            **({"result": result} if result else {}),
        }
        response = httpx.post(
            self.srv.url + "/xapi/statements",
            json=statement,
            headers={**XAPI, **self.user["headers"]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return str(response.json()[0])

    def void(self, statement_id: str) -> None:
        statement = {
            "actor": {"account": {"homePage": self.srv.url, "name": self.user["id"]}},
            "verb": {"id": ADL + "voided"},
            "object": {"objectType": "StatementRef", "id": statement_id},
        }
        response = httpx.post(
            self.srv.url + "/xapi/statements",
            json=statement,
            headers={**XAPI, **self.user["headers"]},
            timeout=30,
        )
        assert response.status_code == 200, response.text


def put_criteria(srv: Server, headers: dict[str, str], course_id: str, **criteria: Any) -> None:
    response = httpx.put(
        f"{srv.url}/api/v1/courses/{course_id}/completion-criteria",
        json=criteria,
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text


def progress(srv: Server, headers: dict[str, str], course_id: str, **params: str) -> httpx.Response:
    return httpx.get(
        srv.url + "/api/v1/progress",
        params={"courseId": course_id, **params},
        headers=headers,
        timeout=30,
    )


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {check}")
        time.sleep(0.2)


def caught_up(dsn: str) -> bool:
    rows = sql(
        dsn,
        'SELECT coalesce((SELECT position FROM bus_offsets WHERE "group" = $1'
        " AND topic = 'xapi.statements'), 0) >= (SELECT max(seq) FROM statements)",
        CONSUMER_GROUP,
    )
    return bool(rows[0][0])


def course_statements(dsn: str, learner: Learner) -> dict[str, int]:
    rows = sql(
        dsn,
        "SELECT verb, count(*) FROM statements WHERE registration = $1"
        " AND body::jsonb -> 'object' ->> 'id' = $2 GROUP BY verb",
        uuid.UUID(learner.registration),
        learner.course,
    )
    return {r["verb"]: r["count"] for r in rows}


def completed_events(dsn: str, course_id: str) -> int:
    rows = sql(
        dsn,
        "SELECT count(*) FROM bus_events WHERE topic = 'lms.progress'"
        " AND convert_from(value, 'UTF8')::jsonb @> $1::jsonb",
        f'{{"type": "CourseCompleted", "course_id": "{course_id}"}}',
    )
    return int(rows[0][0])


def snapshot(dsn: str) -> tuple[list[Any], ...]:
    return (
        [tuple(r) for r in sql(dsn, "SELECT * FROM lms_progress ORDER BY 1, 2")],
        [tuple(r) for r in sql(dsn, "SELECT * FROM lms_progress_activities ORDER BY 1, 2, 3")],
        [tuple(r) for r in sql(dsn, "SELECT * FROM lms_progress_seen ORDER BY 1")],
        [tuple(r) for r in sql(dsn, "SELECT * FROM lms_progress_observations ORDER BY 1")],
        [tuple(r) for r in sql(dsn, "SELECT * FROM lms_progress_voided ORDER BY 1")],
        [
            tuple(r)
            for r in sql(
                dsn, "SELECT target, statement_id, body FROM lms_progress_voidings ORDER BY 1"
            )
        ],
        [
            tuple(r)
            for r in sql(
                dsn,
                "SELECT registration, course_id, verb, statement_id, body"
                " FROM lms_progress_emitted ORDER BY 1, 2, 3",
            )
        ],
    )


@pytest.fixture(scope="module")
def finished(srv: Server, users: dict[str, Any], dsn: str) -> Learner:
    """Ann works through a course with two items and a test until it is complete."""
    ann = Learner(srv, users["ann"], f"c-{uuid.uuid4().hex[:8]}")
    put_criteria(
        srv,
        users["author"]["headers"],
        ann.course_id,
        requiredItems=[ann.item("intro"), ann.item("lab")],
        requiredTests=[ann.test("final")],
        minScore=0.7,
        moveOn={ann.item("intro"): "Completed", ann.item("lab"): "CompletedOrPassed"},
    )
    ann.post("launched", ann.item("intro"))
    ann.post("completed", ann.item("intro"), duration="PT1M30S")
    ann.post("experienced", ann.item("lab"), duration="PT30S")
    ann.post("failed", ann.test("final"), score=0.4, duration="PT2M")
    ann.post("passed", ann.test("final"), score=0.9, duration="PT1M")
    # cmi5: once passed, a second passed or a failed is not counted.
    ann.post("passed", ann.test("final"), score=1.0, duration="PT5M")
    ann.post("failed", ann.test("final"), score=0.1, duration="PT5M")
    ann.post("passed", ann.item("lab"))
    eventually(lambda: progress(srv, ann.user["headers"], ann.course_id).json().get("completed"))
    eventually(lambda: caught_up(dsn))
    return ann


@pytest.fixture(scope="module")
def voided(srv: Server, users: dict[str, Any], dsn: str) -> Learner:
    """Bob completes a course, then the statements that completed it are voided."""
    bob = Learner(srv, users["bob"], f"c-{uuid.uuid4().hex[:8]}")
    put_criteria(
        srv,
        users["author"]["headers"],
        bob.course_id,
        requiredItems=[bob.item("intro")],
        requiredTests=[bob.test("final")],
        moveOn={bob.item("intro"): "Completed"},
    )
    bob.post("launched", bob.item("intro"), duration="PT10S")
    completed = bob.post("completed", bob.item("intro"), duration="PT1M")
    bob.post("failed", bob.test("final"), score=0.2)
    passed = bob.post("passed", bob.test("final"), score=0.8, duration="PT2M")
    bob.post("passed", bob.test("final"), score=0.9)  # after a pass: rejected, not counted
    eventually(lambda: progress(srv, bob.user["headers"], bob.course_id).json().get("completed"))
    bob.void(passed)
    bob.void(completed)
    eventually(lambda: not progress(srv, bob.user["headers"], bob.course_id).json()["satisfied"])
    eventually(lambda: caught_up(dsn))
    return bob


def test_voided_statements_no_longer_count_toward_progress(
    srv: Server, dsn: str, voided: Learner
) -> None:
    body = progress(srv, voided.user["headers"], voided.course_id).json()
    assert not body["completed"] and not body["satisfied"] and body["itemsDone"] == []
    intro = body["items"][voided.item("intro")]
    assert intro["launched"] == 1 and not intro["completed"]
    final = body["tests"][voided.test("final")]
    # The voided pass gone, the later pass counts: the state of a log without the voided two.
    assert final["passed"] and final["failedAttempts"] == 1 and final["rejected"] == 0
    assert body["bestScores"] == {voided.test("final"): 0.9}
    assert body["timeSpentMs"] == 10_000
    # What was decided before the voiding happened: sent once, not sent again.
    assert course_statements(dsn, voided) == {
        ADL + "completed": 1,
        ADL + "passed": 1,
        SATISFIED: 1,
    }


def test_progress_counts_items_best_scores_time_and_completion(
    srv: Server, finished: Learner
) -> None:
    body = progress(srv, finished.user["headers"], finished.course_id).json()
    assert body["registration"] == finished.registration
    assert body["learner"] == finished.user["id"]
    assert sorted(body["itemsDone"]) == sorted([finished.item("intro"), finished.item("lab")])
    assert body["bestScores"] == {finished.test("final"): 0.9}
    test = body["tests"][finished.test("final")]
    assert test["passed"] and test["failedAttempts"] == 1 and test["rejected"] == 2
    assert body["timeSpentMs"] == 90_000 + 30_000 + 120_000 + 60_000
    assert body["completed"] and body["satisfied"] and body["score"] == pytest.approx(0.9)


def test_completion_is_one_completed_one_passed_one_satisfied_statement(
    dsn: str, finished: Learner
) -> None:
    assert course_statements(dsn, finished) == {
        ADL + "completed": 1,
        ADL + "passed": 1,
        SATISFIED: 1,
    }
    assert completed_events(dsn, finished.course_id) == 1
    body = sql(
        dsn,
        "SELECT body::jsonb AS b FROM statements WHERE registration = $1 AND verb = $2"
        " AND body::jsonb -> 'object' ->> 'id' = $3",
        uuid.UUID(finished.registration),
        ADL + "passed",
        finished.course,
    )[0]["b"]
    assert '"scaled": 0.9' in body and finished.user["id"] in body


def test_more_statements_after_completion_send_nothing_again(
    srv: Server, dsn: str, finished: Learner
) -> None:
    finished.post("completed", finished.item("intro"))
    finished.post("completed", finished.item("lab"))
    eventually(lambda: caught_up(dsn))
    assert course_statements(dsn, finished) == {
        ADL + "completed": 1,
        ADL + "passed": 1,
        SATISFIED: 1,
    }
    assert completed_events(dsn, finished.course_id) == 1


def test_progress_waits_for_every_criterion(srv: Server, users: dict[str, Any], dsn: str) -> None:
    bob = Learner(srv, users["bob"], f"c-{uuid.uuid4().hex[:8]}")
    put_criteria(
        srv,
        users["author"]["headers"],
        bob.course_id,
        requiredItems=[bob.item("a")],
        requiredTests=[bob.test("t")],
        moveOn={bob.item("a"): "CompletedAndPassed"},
    )
    bob.post("completed", bob.item("a"))
    bob.post("passed", bob.test("t"), score=0.5)
    eventually(lambda: caught_up(dsn))
    body = progress(srv, bob.user["headers"], bob.course_id).json()
    assert body["itemsDone"] == [] and not body["completed"] and not body["satisfied"]
    bob.post("passed", bob.item("a"))
    eventually(lambda: progress(srv, bob.user["headers"], bob.course_id).json().get("completed"))
    assert course_statements(dsn, bob)[ADL + "completed"] == 1


def test_criteria_set_after_the_fact_complete_progress_already_made(
    srv: Server, users: dict[str, Any], dsn: str
) -> None:
    bob = Learner(srv, users["bob"], f"c-{uuid.uuid4().hex[:8]}")
    bob.post("completed", bob.item("only"))
    eventually(lambda: progress(srv, bob.user["headers"], bob.course_id).status_code == 200)
    assert not progress(srv, bob.user["headers"], bob.course_id).json()["completed"]
    put_criteria(srv, users["author"]["headers"], bob.course_id, requiredItems=[bob.item("only")])
    assert progress(srv, bob.user["headers"], bob.course_id).json()["completed"]
    eventually(lambda: course_statements(dsn, bob).get(ADL + "completed") == 1)
    assert ADL + "passed" not in course_statements(dsn, bob)  # no score applies


def test_learners_read_only_their_own_progress(
    srv: Server, users: dict[str, Any], finished: Learner
) -> None:
    course = finished.course_id
    assert (
        progress(srv, users["bob"]["headers"], course, learner=users["ann"]["id"]).status_code
        == 403
    )
    assert progress(srv, users["bob"]["headers"], course).status_code == 404
    as_author = progress(srv, users["author"]["headers"], course, learner=users["ann"]["id"])
    assert as_author.status_code == 200 and as_author.json()["completed"]
    assert progress(srv, {}, course).status_code == 401
    assert (
        httpx.get(f"{srv.url}/api/v1/progress", headers=users["ann"]["headers"]).status_code == 400
    )


def test_only_authors_set_completion_criteria(srv: Server, users: dict[str, Any]) -> None:
    url = f"{srv.url}/api/v1/courses/c-x/completion-criteria"
    assert httpx.put(url, json={}, headers=users["ann"]["headers"]).status_code == 403
    assert httpx.put(url, json={}).status_code == 401
    bad = httpx.put(url, json={"minScore": 2}, headers=users["author"]["headers"])
    assert bad.status_code == 400
    bad = httpx.put(url, json={"moveOn": {"x": "Sometimes"}}, headers=users["author"]["headers"])
    assert bad.status_code == 400


def voidings_of(dsn: str, targets: list[str]) -> dict[str, int]:
    """How many voiding statements the LRS holds per target."""
    rows = sql(
        dsn,
        "SELECT ref_target, count(*) FROM statements WHERE voiding AND ref_target = ANY($1)"
        " GROUP BY ref_target",
        [uuid.UUID(t) for t in targets],
    )
    return {str(r[0]): r[1] for r in rows}


@pytest.fixture(scope="module")
def violated(srv: Server, users: dict[str, Any], dsn: str) -> dict[str, str]:
    """Ann passes a cmi5 AU, then passes it again and fails it: cmi5 9.3 violations."""
    ann = Learner(srv, users["ann"], f"c-{uuid.uuid4().hex[:8]}")
    put_criteria(
        srv,
        users["author"]["headers"],
        ann.course_id,
        requiredItems=[ann.item("au")],
        moveOn={ann.item("au"): "Passed"},
    )
    sent = {
        "passed": ann.post("passed", ann.item("au"), score=0.8, cmi5=True),
        "passed again": ann.post("passed", ann.item("au"), score=1.0, cmi5=True),
        "failed after passed": ann.post("failed", ann.item("au"), score=0.1, cmi5=True),
    }
    targets = [sent["passed again"], sent["failed after passed"]]
    eventually(lambda: len(voidings_of(dsn, targets)) == 2)
    eventually(lambda: caught_up(dsn))
    return {**sent, "course_id": ann.course_id}


def test_cmi5_statements_breaking_sequencing_are_voided_once(
    srv: Server, users: dict[str, Any], dsn: str, violated: dict[str, str], finished: Learner
) -> None:
    sent = [violated["passed"], violated["passed again"], violated["failed after passed"]]
    assert voidings_of(dsn, sent) == {
        violated["passed again"]: 1,
        violated["failed after passed"]: 1,
    }
    body = progress(srv, users["ann"]["headers"], violated["course_id"]).json()
    [au] = body["items"].values()
    # Voided by the LMS, never counted: nothing recomputed when the voidings come back.
    assert au["passed"] and au["rejected"] == 2
    assert au["bestScore"] == 0.8 and au["failedAttempts"] == 0
    assert body["completed"] and body["satisfied"]
    # Not cmi5 defined (no cmi5 category): not counted, yet not the LMS's to void.
    rejected = sql(
        dsn,
        "SELECT id FROM statements WHERE registration = $1 AND verb = $2",
        uuid.UUID(finished.registration),
        ADL + "failed",
    )
    assert voidings_of(dsn, [str(r["id"]) for r in rejected]) == {}


def test_redelivery_and_rebuild_from_offset_zero_give_the_same_state(
    srv: Server, dsn: str, finished: Learner, voided: Learner, violated: dict[str, str]
) -> None:
    before = snapshot(dsn)
    statements_before = sql(dsn, "SELECT count(*) FROM statements")[0][0]
    events_before = completed_events(dsn, finished.course_id)

    # At least once: the whole log delivered again, over the state it already made.
    srv.stop()
    sql(dsn, 'UPDATE bus_offsets SET position = 0 WHERE "group" = $1', CONSUMER_GROUP)
    srv.start()
    eventually(lambda: caught_up(dsn))
    assert snapshot(dsn) == before

    # Rebuild: the derived state and the position forgotten, the log replayed from zero.
    srv.stop()

    async def reset() -> None:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
        try:
            await reset_projection(pool)
        finally:
            await pool.close()

    asyncio.run(reset())
    assert sql(dsn, "SELECT count(*) FROM lms_progress")[0][0] == 0
    srv.start()
    eventually(lambda: caught_up(dsn))
    assert snapshot(dsn) == before
    assert sql(dsn, "SELECT count(*) FROM statements")[0][0] == statements_before
    assert completed_events(dsn, finished.course_id) == events_before == 1
    targets = [violated["passed again"], violated["failed after passed"]]
    assert voidings_of(dsn, targets) == dict.fromkeys(targets, 1)


@pytest.mark.parametrize(
    ("move_on", "completed", "passed", "met"),
    [
        (MoveOn.PASSED, True, False, False),
        (MoveOn.PASSED, False, True, True),
        (MoveOn.COMPLETED, True, False, True),
        (MoveOn.COMPLETED, False, True, False),
        (MoveOn.COMPLETED_AND_PASSED, True, False, False),
        (MoveOn.COMPLETED_AND_PASSED, True, True, True),
        (MoveOn.COMPLETED_OR_PASSED, False, True, True),
        (MoveOn.COMPLETED_OR_PASSED, False, False, False),
        (MoveOn.NOT_APPLICABLE, False, False, True),
    ],
)
def test_move_on_rules_of_cmi5(move_on: MoveOn, completed: bool, passed: bool, met: bool) -> None:
    assert item_met(move_on, ActivityState(completed, passed, None)) is met


def test_not_applicable_items_are_met_without_a_statement() -> None:
    verdict = judge(CompletionCriteria(move_on={"a": MoveOn.NOT_APPLICABLE}), {})
    assert verdict.satisfied and not verdict.completed


def test_a_minimum_score_is_the_mean_of_the_best_scores() -> None:
    criteria = CompletionCriteria(required_tests=["t1", "t2"], min_score=0.75)
    low = {"t1": ActivityState(False, True, 0.8), "t2": ActivityState(False, True, 0.6)}
    high = {**low, "t2": ActivityState(False, True, 0.7)}
    assert not judge(criteria, low).completed
    assert judge(criteria, high).completed and judge(criteria, high).score == pytest.approx(0.75)


def test_durations_are_iso_8601() -> None:
    assert duration_ms("PT1H2M3.5S") == 3_723_500
    assert duration_ms("P1DT1S") == 86_401_000
    assert duration_ms("nonsense") == 0 and duration_ms(None) == 0


def stored_body(statement: dict[str, Any]) -> bytes:
    """`statement` as the log holds it (the LRS's own encoding of what it accepted)."""
    statement = {"id": str(uuid.uuid4()), "timestamp": "2026-12-02T10:00:00Z", **statement}
    row = to_row(
        decode_statements(msgspec.json.encode(statement), "1.0.3")[0],
        stored=datetime.now(UTC),
        authority_key="test",
        attachments=None,
        may_define=False,
    )
    return row.body.encode()


def test_every_statement_progress_reads_contains_a_wanted_string() -> None:
    """The PostgreSQL log sends progress only the bodies containing one of `wanted`."""
    iris = LmsIris("http://lms.example.org")
    learner = {"account": {"homePage": "http://lms.example.org", "name": "ann"}}
    course = {"contextActivities": {"parent": [{"id": iris.course("c1")}]}}
    registration = {"registration": str(uuid.uuid4())}
    item = {
        "actor": learner,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": iris.course("c1") + "/items/i1"},
        "context": {**registration, **course},
    }
    test = {**item, "object": {"id": "http://lms.example.org/lms/tests/t1"}}
    voiding = {
        "actor": learner,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": str(uuid.uuid4())},
    }
    elsewhere = {**item, "object": {"id": "http://example.com/courses/1/activities/2"},
                 "context": {**registration, "contextActivities": {
                     "parent": [{"id": "http://example.com/courses/1"}]}}}  # fmt: skip
    read = {name: stored_body(s) for name, s in
            [("item", item), ("test", test), ("voiding", voiding), ("elsewhere", elsewhere)]}  # fmt: skip
    observed = {name: observe(body, iris) for name, body in read.items()}
    assert observed["item"] is not None and observed["test"] is not None
    assert isinstance(observed["voiding"], Voiding) and observed["elsewhere"] is None
    for name, body in read.items():
        assert any(w.encode() in body for w in wanted(iris)) is (observed[name] is not None), name
    assert observe(b"", iris) is None  # what the bus sends for a statement left out
