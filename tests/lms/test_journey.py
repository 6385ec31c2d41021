"""The LMS end to end on a real server and a real PostgreSQL: an author builds and publishes a
course (a video and a test from a question bank, completion criteria set through progress), a
learner enrols, watches the video and passes the test; the modules fit together through the
LRS alone: progress sees the course complete, notifications tell the learner, the LRS holds
each statement of the journey exactly once, and the analytics table counts them."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import HYPEREDU, Server, basic, create_credential
from tests.lms.conftest import XAPI, bearer, create_user, password_grant

API = "/api/v1"
ADL = "http://adlnet.gov/expapi/verbs/"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
QUESTIONS: list[tuple[dict[str, Any], Any]] = [
    (
        {
            "type": "single_choice",
            "prompt": "Which keyword declares an immutable binding?",
            "choices": [{"id": "a", "text": "let"}, {"id": "b", "text": "mut"}],
            "correct": "a",
        },
        "a",
    ),
    ({"type": "true_false", "prompt": "Rust has a garbage collector", "correct": False}, False),
    ({"type": "numeric", "prompt": "2 + 2", "correct": 4, "tolerance": 0}, 4),
]


@pytest.fixture(scope="module")
def srv(own_server_factory: Callable[[dict[str, str]], Server]) -> Server:
    return own_server_factory({})


def person(srv: Server, role: str) -> dict[str, Any]:
    user = create_user(srv.data_dir, role)
    granted = password_grant(srv.url, user["email"])
    assert granted.status_code == 200, granted.text
    return {**user, "headers": bearer(granted.json()["access_token"])}


def poll(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """`check()` until it is truthy; bounded, never a fixed wait."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {what}")
        time.sleep(0.2)
    return value


def cli(srv: Server, *args: str) -> str:
    done = subprocess.run(
        [*HYPEREDU, *args, "--data-dir", str(srv.data_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_learner_completes_a_course(srv: Server) -> None:
    author, learner = person(srv, "author"), person(srv, "learner")

    def api(method: str, path: str, who: dict[str, Any], **kw: Any) -> Any:
        response = httpx.request(
            method, srv.url + API + path, headers=who["headers"], timeout=30, **kw
        )
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    # The author: a question bank, a course with a video and a test, criteria, published.
    bank = api("POST", "/question-banks", author, json={"title": "Rust basics"})
    right: dict[str, Any] = {}
    for body, answer in QUESTIONS:
        made = api("POST", f"/question-banks/{bank['id']}/questions", author, json=body)
        right[made["id"]] = answer
    course = api("POST", "/courses", author, json={"title": "Rust 101", "description": "Start"})
    cid = course["id"]
    test = api(
        "POST",
        "/tests",
        author,
        json={
            "title": "Rust 101 quiz",
            "courseId": cid,
            "published": True,
            "questions": list(right),
            "settings": {"feedback": "full", "passingScore": 0.6},
        },
    )
    module = api("POST", f"/courses/{cid}/modules", author, json={"title": "Basics"})
    items = f"/courses/{cid}/modules/{module['id']}/items"
    video = api(
        "POST",
        items,
        author,
        json={"kind": "video", "title": "Intro", "payload": {"url": "https://v.example/1.mp4"}},
    )
    api(
        "POST",
        items,
        author,
        json={"kind": "test", "title": "Quiz", "payload": {"testId": test["id"]}},
    )
    course_iri = f"{srv.url}/lms/courses/{cid}"
    video_iri = f"{course_iri}/items/{video['id']}"
    test_iri = f"{srv.url}/lms/tests/{test['id']}"
    api(
        "PUT",
        f"/courses/{cid}/completion-criteria",
        author,
        json={
            "requiredItems": [video_iri],
            "requiredTests": [test_iri],
            "moveOn": {video_iri: "Completed"},
        },
    )
    assert api("POST", f"/courses/{cid}/publish", author)["status"] == "published"

    # The learner: enrols, watches the video, passes the test in that registration.
    registration = api("POST", f"/courses/{cid}/enrolments", learner)["registration"]
    assert api("POST", f"/courses/{cid}/items/{video['id']}/launch", learner)["launchUrl"]
    api("POST", f"/courses/{cid}/items/{video['id']}/complete", learner)
    attempt = api(
        "POST", f"/tests/{test['id']}/attempts", learner, json={"registration": registration}
    )
    assert {q["id"] for q in attempt["questions"]} == set(right)
    for qid, answer in right.items():
        api("PUT", f"/attempts/{attempt['id']}/answers/{qid}", learner, json={"response": answer})
    result = api("POST", f"/attempts/{attempt['id']}/submit", learner)
    assert result["passed"] is True and result["score"]["raw"] == result["score"]["max"] == 3.0

    # Progress: the course complete.
    def progress() -> Any:
        got = httpx.get(
            srv.url + API + "/progress", params={"courseId": cid}, headers=learner["headers"]
        )
        return got.json() if got.status_code == 200 and got.json()["completed"] else None

    done = poll(progress, "progress shows the course complete")
    assert done["registration"] == registration and done["satisfied"]
    assert done["itemsDone"] == [video_iri] and done["tests"][test_iri]["passed"]
    assert done["score"] == pytest.approx(1.0)

    # Notifications: the learner is told of the completion (and of the enrolment).
    def notified() -> Any:
        listed = api("GET", "/notifications", learner)
        kinds = Counter(n["type"] for n in listed)
        return listed if kinds["CourseCompleted"] and kinds["LearnerEnrolled"] else None

    listed = poll(notified, "the enrolment and completion notifications")
    [completion] = [n for n in listed if n["type"] == "CourseCompleted"]
    assert completion["event"]["course_id"] == cid and cid in completion["title"]

    # The LRS: every statement of the journey, exactly once.
    tool = {**XAPI, "Authorization": basic(*create_credential(srv.data_dir, "all"))}
    agent = {"account": {"homePage": srv.url, "name": learner["id"]}}
    expected = Counter(
        {
            ("launched", video_iri): 1,
            ("experienced", video_iri): 1,
            ("completed", video_iri): 1,
            ("attempted", test_iri): 1,
            **{("answered", f"{srv.url}/lms/questions/{q}"): 1 for q in right},
            ("passed", test_iri): 1,
            ("completed", test_iri): 1,
            ("completed", course_iri): 1,
            ("passed", course_iri): 1,
            ("satisfied", course_iri): 1,
        }
    )

    def statements() -> list[dict[str, Any]] | None:
        got = httpx.get(
            srv.url + "/xapi/statements",
            params={"agent": json.dumps(agent), "limit": 100},
            headers=tool,
            timeout=30,
        )
        assert got.status_code == 200, got.text
        assert not got.json()["more"]
        found = got.json()["statements"]
        return found if len(found) >= sum(expected.values()) else None

    stored = poll(statements, "the journey's statements in the LRS")
    seen = Counter(
        (
            "satisfied" if s["verb"]["id"] == SATISFIED else s["verb"]["id"].removeprefix(ADL),
            s["object"]["id"],
        )
        for s in stored
    )
    assert seen == expected
    assert len({s["id"] for s in stored}) == len(stored)
    for s in stored:
        assert s["actor"]["account"] == agent["account"]
        assert s["context"]["registration"] == registration, s
        activities = s["context"].get("contextActivities", {})
        parent = [a["id"] for a in activities.get("parent", [])]
        if s["object"]["id"] == course_iri:  # progress's course statements
            assert not parent, s
        elif s["verb"]["id"] == ADL + "answered":  # an interaction of the test, in the course
            assert parent == [test_iri], s
            assert [a["id"] for a in activities["grouping"]] == [course_iri], s
        else:
            assert parent == [course_iri], s

    # Analytics: the table counts the same statements.
    cli(srv, "analytics", "sync")
    actor = f"account {srv.url} {learner['id']}"
    rows = json.loads(
        cli(
            srv,
            "sql",
            f"SELECT count() AS n, uniqExact(id) AS ids FROM statements WHERE actor = '{actor}'",
            "--format",
            "json",
        )
    )
    assert rows == [{"n": len(stored), "ids": len(stored)}]
