"""Assessments (lms/assessments): scoring of each question type, seeded draws, the attempt
engine over HTTP (time limits, feedback, manual grading, who sees what), and the xAPI
statements it records."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from core.xapi.decode import decode_statement_obj
from lms.assessments.assembly import Candidate, assemble, attempt_seed, choose_questions
from lms.assessments.models import Draw, QuestionIn, TestSettings
from lms.assessments.scoring import ResponseError, checked_response, credit, normalise_text
from lms.assessments.statements import AssessmentIris, AttemptStatements
from tests.conftest import Server
from tests.lms.conftest import bearer, create_user, password_grant

API = "/api/v1"
ADL = "http://adlnet.gov/expapi/verbs/"
CHOICES = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}]

QUESTIONS: dict[str, dict[str, Any]] = {
    "single_choice": {
        "type": "single_choice",
        "prompt": "Pick b",
        "choices": CHOICES,
        "correct": "b",
    },
    "multiple_choice": {
        "type": "multiple_choice",
        "prompt": "Pick a and c",
        "choices": CHOICES,
        "correct": ["a", "c"],
        "points": 2,
    },
    "true_false": {"type": "true_false", "prompt": "Sky is blue", "correct": True},
    "numeric": {"type": "numeric", "prompt": "Pi", "correct": 3.14, "tolerance": 0.01},
    "short_text": {"type": "short_text", "prompt": "Capital of France", "accepted": ["Paris"]},
    "matching": {
        "type": "matching",
        "prompt": "Match",
        "source": [{"id": "fr", "text": "France"}, {"id": "de", "text": "Germany"}],
        "target": [{"id": "paris", "text": "Paris"}, {"id": "berlin", "text": "Berlin"}],
        "pairs": {"fr": "paris", "de": "berlin"},
    },
    "ordering": {
        "type": "ordering",
        "prompt": "Order",
        "steps": [
            {"id": "one", "text": "1"},
            {"id": "two", "text": "2"},
            {"id": "three", "text": "3"},
        ],
    },
    "open_ended": {"type": "open_ended", "prompt": "Explain", "rubric": "clarity", "points": 4},
}
RIGHT: dict[str, Any] = {
    "single_choice": "b",
    "multiple_choice": ["a", "c"],
    "true_false": True,
    "numeric": 3.145,
    "short_text": "  paris. ",
    "matching": {"fr": "paris", "de": "berlin"},
    "ordering": ["one", "two", "three"],
    "open_ended": "Because.",
}


def question(kind: str, **changes: Any) -> QuestionIn:
    return msgspec.convert({**QUESTIONS[kind], **changes}, QuestionIn)


# Scoring, one rule per type


@pytest.mark.parametrize("kind", [k for k in QUESTIONS if k != "open_ended"])
def test_the_right_response_earns_full_credit(kind: str) -> None:
    q = question(kind)
    assert credit(q, checked_response(q, RIGHT[kind])) == 1.0


def test_single_choice_and_true_false_are_all_or_nothing() -> None:
    assert credit(question("single_choice"), "a") == 0.0
    assert credit(question("true_false"), False) == 0.0


def test_multiple_choice_gives_partial_credit_and_wrong_picks_cost() -> None:
    q = question("multiple_choice")
    assert credit(q, ["a"]) == 0.5
    assert credit(q, ["a", "b"]) == 0.0
    assert credit(q, ["a", "b", "c"]) == 0.5
    assert credit(q, ["b"]) == 0.0  # never below zero


def test_numeric_within_tolerance() -> None:
    q = question("numeric")
    assert credit(q, 3.15) == 1.0 and credit(q, 3.13) == 1.0
    assert credit(q, 3.16) == 0.0
    assert credit(question("numeric", correct=0.3, tolerance=0), 0.1 + 0.2) == 1.0


def test_short_text_is_matched_after_normalising() -> None:
    q = question("short_text", accepted=["New  York", "NYC"])
    assert credit(q, "new york!") == 1.0
    assert credit(q, "\uff2e\uff39\uff23") == 1.0  # full-width letters: NFKC
    assert credit(q, "York") == 0.0
    assert credit(question("short_text", caseSensitive=True), "paris") == 0.0
    assert normalise_text(" \u201cHello,   World\u201d ") == "hello, world"


def test_matching_gives_credit_per_pair() -> None:
    q = question("matching")
    assert credit(q, {"fr": "paris", "de": "paris"}) == 0.5
    assert credit(q, {}) == 0.0


def test_ordering_is_right_only_in_order() -> None:
    assert credit(question("ordering"), ["two", "one", "three"]) == 0.0


def test_open_ended_waits_for_a_person() -> None:
    assert credit(question("open_ended"), "anything") is None


@pytest.mark.parametrize(
    ("kind", "response"),
    [
        ("single_choice", "z"),
        ("multiple_choice", ["a", "a"]),
        ("true_false", "true"),
        ("numeric", True),
        ("numeric", float("nan")),
        ("short_text", 3),
        ("matching", {"fr": "rome"}),
        ("ordering", ["one", "two"]),
    ],
)
def test_responses_of_the_wrong_shape_are_refused(kind: str, response: Any) -> None:
    with pytest.raises(ResponseError):
        checked_response(question(kind), response)


@pytest.mark.parametrize("kind", list(QUESTIONS))
def test_answered_statements_carry_valid_cmi_interactions(kind: str) -> None:
    iris = AssessmentIris("https://lms.example")
    now = datetime.now(UTC)
    attempt = {"id": uuid.uuid4(), "registration": uuid.uuid4(), "learner": "u1", "started": now}
    test = {"id": uuid.uuid4(), "course_id": "c1", "title": "T"}
    q = question(kind)
    response = checked_response(q, RIGHT[kind])
    fraction = credit(q, response)
    points = None if fraction is None else fraction * q.points
    body = AttemptStatements(iris, test, attempt).answered("q1", q, response, now, points)
    statement = decode_statement_obj(body, "1.0.3")  # the LRS's own validation
    definition = body["object"]["definition"]
    assert statement.object.id == "https://lms.example/lms/questions/q1"
    assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert (
        definition["interactionType"]
        == {
            "single_choice": "choice",
            "multiple_choice": "choice",
            "true_false": "true-false",
            "numeric": "numeric",
            "short_text": "fill-in",
            "matching": "matching",
            "ordering": "sequencing",
            "open_ended": "long-fill-in",
        }[kind]
    )
    if kind != "open_ended":
        assert body["result"]["success"] is True
        assert definition["correctResponsesPattern"]
    parents = body["context"]["contextActivities"]
    assert parents["parent"][0]["id"] == f"https://lms.example/lms/tests/{test['id']}"
    assert parents["grouping"][0]["id"] == "https://lms.example/lms/courses/c1"


def test_response_patterns() -> None:
    iris = AssessmentIris("https://x")
    attempt = {
        "id": uuid.uuid4(),
        "registration": None,
        "learner": "u",
        "started": datetime.now(UTC),
    }
    statements = AttemptStatements(iris, {"id": "t", "course_id": None, "title": "T"}, attempt)

    def answered(kind: str) -> dict[str, Any]:
        return statements.answered("q", question(kind), RIGHT[kind], datetime.now(UTC), 1)

    assert answered("multiple_choice")["result"]["response"] == "a[,]c"
    assert answered("matching")["result"]["response"] == "fr[.]paris[,]de[.]berlin"
    numeric = answered("numeric")["object"]["definition"]["correctResponsesPattern"]
    assert numeric == ["3.13[:]3.15"]
    assert answered("short_text")["object"]["definition"]["correctResponsesPattern"] == [
        "{case_matters=false}Paris"
    ]
    assert "context" not in answered("true_false") or "registration" not in answered(
        "true_false"
    ).get("context", {})


# Seeded draws


def pool(n: int, bank: uuid.UUID) -> list[Candidate]:
    return [
        Candidate(
            uuid.UUID(int=i + 1),
            bank,
            question("true_false", tags=["even" if i % 2 == 0 else "odd"], difficulty=1 + i % 3),
        )
        for i in range(n)
    ]


def test_draws_are_reproducible_from_the_seed() -> None:
    bank = uuid.uuid4()
    candidates = pool(30, bank)
    draws = [Draw(bank_id=bank, count=5)]
    settings = TestSettings(shuffle_questions=True)
    first = assemble([], draws, candidates, settings, seed=42)
    assert assemble([], draws, list(reversed(candidates)), settings, seed=42) == first
    assert assemble([], draws, candidates, settings, seed=43) != first
    assert attempt_seed(bank, "u", 1) == attempt_seed(bank, "u", 1) != attempt_seed(bank, "u", 2)


def test_draws_filter_by_tag_and_difficulty_without_repeats() -> None:
    bank = uuid.uuid4()
    candidates = pool(30, bank)
    fixed = [candidates[0]]
    draws = [
        Draw(bank_id=bank, count=4, tags=["even"], difficulties=[1]),
        Draw(bank_id=bank, count=100),
    ]
    chosen = choose_questions(fixed, draws, candidates, random.Random(1))
    assert chosen[0] == candidates[0]
    tagged = chosen[1:5]
    assert all("even" in c.question.tags and c.question.difficulty == 1 for c in tagged)
    assert len({c.id for c in chosen}) == len(chosen) == 30  # the second draw takes the rest


def test_ordering_steps_are_always_shuffled_choices_only_when_asked() -> None:
    bank = uuid.uuid4()
    steps = [{"id": f"s{i}", "text": str(i)} for i in range(8)]
    ordering = Candidate(uuid.uuid4(), bank, question("ordering", steps=steps))
    choice = Candidate(uuid.uuid4(), bank, question("single_choice"))
    settings = TestSettings(shuffle_options=False)
    [o, c] = assemble([ordering, choice], [], [], settings, seed=7)
    assert o["order"]["steps"] != [s["id"] for s in steps]
    assert c["order"]["choices"] == ["a", "b", "c"]


# Over HTTP

_VERB_RANK = {"attempted": 0, "answered": 1, "passed": 2, "failed": 2, "completed": 3}


def in_order(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By timestamp (one commit stores them all at once), then as an attempt emits them."""
    return sorted(
        statements,
        key=lambda s: (s["timestamp"], _VERB_RANK[s["verb"]["id"].removeprefix(ADL)]),
    )


def person(server: Server, data_dir: Path, role: str) -> dict[str, Any]:
    user = create_user(data_dir, role)
    token = password_grant(server.url, user["email"]).json()["access_token"]
    return {**user, "headers": bearer(token)}


@pytest.fixture(scope="module")
def who(server: Server, data_dir: Path) -> dict[str, dict[str, Any]]:
    roles = [("owner", "author"), ("other", "author"), ("ann", "learner"), ("bob", "learner")]
    return {name: person(server, data_dir, role) for name, role in roles}


@pytest.fixture(scope="module")
def bank(api: Callable[..., httpx.Response], who: dict[str, Any]) -> dict[str, Any]:
    made = api("POST", "/question-banks", who["owner"], json={"title": "Geography"})
    assert made.status_code == 201, made.text
    ids = {}
    for kind, body in QUESTIONS.items():
        created = api(
            "POST", f"/question-banks/{made.json()['id']}/questions", who["owner"], json=body
        )
        assert created.status_code == 201, created.text
        ids[kind] = created.json()["id"]
    return {**made.json(), "questions": ids}


def make_test(
    api: Callable[..., httpx.Response],
    owner: dict[str, Any],
    questions: list[str],
    course_id: str | None = None,
    **settings: Any,
) -> dict[str, Any]:
    body = {
        "title": "Quiz",
        "courseId": course_id,
        "published": True,
        "questions": questions,
        "settings": {"feedback": "full", "passingScore": 0.6, **settings},
    }
    made = api("POST", "/tests", owner, json=body)
    assert made.status_code == 201, made.text
    return made.json()


def make_course(api: Callable[..., httpx.Response], owner: dict[str, Any]) -> dict[str, Any]:
    """A published course with a module and a video in it."""
    course = api("POST", "/courses", owner, json={"title": "Geography"}).json()
    module = api("POST", f"/courses/{course['id']}/modules", owner, json={"title": "M"}).json()
    video = {"kind": "video", "title": "V", "payload": {"url": "https://v.example/1.mp4"}}
    api("POST", f"/courses/{course['id']}/modules/{module['id']}/items", owner, json=video)
    assert api("POST", f"/courses/{course['id']}/publish", owner).status_code == 200
    return {**course, "module": module}


def add_test_item(
    api: Callable[..., httpx.Response], owner: dict[str, Any], course: dict[str, Any], test_id: str
) -> httpx.Response:
    return api(
        "POST",
        f"/courses/{course['id']}/modules/{course['module']['id']}/items",
        owner,
        json={"kind": "test", "title": "Quiz", "payload": {"testId": test_id}},
    )


def test_question_validation(
    api: Callable[..., httpx.Response], who: dict[str, Any], bank: dict[str, Any]
) -> None:
    url = f"/question-banks/{bank['id']}/questions"
    wrong_key = api("POST", url, who["owner"], json={**QUESTIONS["single_choice"], "correct": "z"})
    assert wrong_key.status_code == 400 and "correct" in wrong_key.json()["message"]
    unknown = api("POST", url, who["owner"], json={"type": "essay", "prompt": "x"})
    assert unknown.status_code == 400
    assert api("POST", url, who["other"], json=QUESTIONS["true_false"]).status_code == 403
    assert api("POST", url, who["ann"], json=QUESTIONS["true_false"]).status_code == 403
    tagged = api("GET", url + "?difficulty=1", who["owner"]).json()
    assert len(tagged) == len(QUESTIONS)


def test_an_attempt_from_start_to_review(
    client: httpx.Client,
    server: Server,
    api: Callable[..., httpx.Response],
    who: dict[str, Any],
    bank: dict[str, Any],
) -> None:
    auto = [bank["questions"][k] for k in QUESTIONS if k != "open_ended"]
    course = make_course(api, who["owner"])
    test = make_test(api, who["owner"], auto, course["id"])
    assert add_test_item(api, who["owner"], course, test["id"]).status_code == 201
    assert (
        api(
            "PUT", f"/tests/{test['id']}", who["other"], json={"title": "x", "questions": auto}
        ).status_code
        == 403
    )
    learner = person(server, Path(server.data_dir), "learner")
    enrolment = api("POST", f"/courses/{course['id']}/enrolments", learner).json()
    registration = enrolment["registration"]
    started = api(
        "POST", f"/tests/{test['id']}/attempts", learner, json={"registration": registration}
    )
    assert started.status_code == 201, started.text
    attempt = started.json()
    text = json.dumps(attempt["questions"])
    assert '"correct"' not in text and "pairs" not in text and "accepted" not in text
    assert api("GET", f"/attempts/{attempt['id']}", who["bob"]).status_code == 404
    assert api("POST", f"/tests/{test['id']}/attempts", learner).status_code == 409  # running
    by_id = {bank["questions"][k]: k for k in QUESTIONS}
    for q in attempt["questions"]:
        kind = by_id[q["id"]]
        response = RIGHT[kind] if kind != "multiple_choice" else ["a"]  # half credit there
        put = api(
            "PUT",
            f"/attempts/{attempt['id']}/answers/{q['id']}",
            learner,
            json={"response": response},
        )
        assert put.status_code == 204, put.text
    bad = api(
        "PUT",
        f"/attempts/{attempt['id']}/answers/{attempt['questions'][0]['id']}",
        learner,
        json={"response": {"x": 1}},
    )
    assert bad.status_code == 400
    mid = api("GET", f"/attempts/{attempt['id']}", learner).json()
    assert mid["status"] == "in_progress" and mid["score"] is None
    assert all(q["response"] is not None for q in mid["questions"])
    done = api("POST", f"/attempts/{attempt['id']}/submit", learner)
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "graded" and result["passed"] is True
    assert result["score"]["raw"] == 7.0 and result["score"]["max"] == 8.0
    mc = next(q for q in result["questions"] if by_id[q["id"]] == "multiple_choice")
    assert mc["awarded"] == 1.0 and mc["correct"] is False and mc["correctResponse"] == ["a", "c"]
    assert api("POST", f"/attempts/{attempt['id']}/submit", learner).status_code == 409

    agent = json.dumps({"account": {"homePage": server.url, "name": learner["id"]}})
    got = client.get("/xapi/statements", params={"agent": agent, "ascending": "true", "limit": 50})
    assert got.status_code == 200, got.text
    statements = in_order(got.json()["statements"])
    verbs = [s["verb"]["id"].removeprefix(ADL) for s in statements]
    assert verbs == ["attempted", *["answered"] * 7, "passed", "completed"]
    for s in statements:
        assert s["context"]["registration"] == registration
        decode_statement_obj(s, "1.0.3")
    for s in statements[1:8]:
        definition = s["object"]["definition"]
        assert s["object"]["id"].startswith(f"{server.url}/lms/questions/")
        assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
        assert definition["interactionType"] and "response" in s["result"]
    assert statements[-1]["result"]["score"] == {"scaled": 0.875, "raw": 7.0, "min": 0, "max": 8.0}
    assert statements[-1]["object"]["id"] == f"{server.url}/lms/tests/{test['id']}"
    assert statements[-1]["context"]["contextActivities"]["parent"][0]["id"] == (
        f"{server.url}/lms/courses/{course['id']}"
    )


def test_attempts_run_under_the_learners_enrolment(
    server: Server, api: Callable[..., httpx.Response], who: dict[str, Any], bank: dict[str, Any]
) -> None:
    course = make_course(api, who["owner"])
    test = make_test(api, who["owner"], [bank["questions"]["true_false"]], course["id"])
    learner = person(server, Path(server.data_dir), "learner")
    attempts = f"/tests/{test['id']}/attempts"
    not_enrolled = api("POST", attempts, learner)
    assert not_enrolled.status_code == 403 and "enrol" in not_enrolled.json()["message"]
    registration = api("POST", f"/courses/{course['id']}/enrolments", learner).json()[
        "registration"
    ]
    another = api("POST", attempts, learner, json={"registration": str(uuid.uuid4())})
    assert another.status_code == 409 and "not your enrolment" in another.json()["message"]
    started = api("POST", attempts, learner)
    assert started.status_code == 201, started.text
    assert started.json()["registration"] == registration
    standalone = make_test(api, who["owner"], [bank["questions"]["true_false"]])
    with_registration = api(
        "POST",
        f"/tests/{standalone['id']}/attempts",
        learner,
        json={"registration": registration},
    )
    assert with_registration.status_code == 400
    alone = api("POST", f"/tests/{standalone['id']}/attempts", learner)
    assert alone.status_code == 201 and alone.json()["registration"] is None


def test_a_test_and_the_course_items_that_are_it_name_the_same_course(
    api: Callable[..., httpx.Response], who: dict[str, Any], bank: dict[str, Any]
) -> None:
    owner, questions = who["owner"], [bank["questions"]["true_false"]]
    body = {"title": "Q", "questions": questions}
    for course_id in ("course-1", str(uuid.uuid4())):
        no_course = api("POST", "/tests", owner, json={**body, "courseId": course_id})
        assert no_course.status_code == 400 and "no course" in no_course.json()["message"]
    mine, other = make_course(api, owner), make_course(api, owner)
    test = make_test(api, owner, questions, mine["id"].upper())
    assert test["courseId"] == mine["id"]  # in its normal form
    elsewhere = add_test_item(api, owner, other, test["id"])
    assert elsewhere.status_code == 409 and mine["id"] in elsewhere.json()["message"]
    standalone = make_test(api, owner, questions)
    unlinked = add_test_item(api, owner, mine, standalone["id"])
    assert unlinked.status_code == 409 and "courseId" in unlinked.json()["message"]
    assert add_test_item(api, owner, mine, str(uuid.uuid4())).status_code == 400
    item = add_test_item(api, owner, mine, test["id"])
    assert item.status_code == 201, item.text
    repoint = api(
        "PATCH",
        f"/courses/{mine['id']}/items/{item.json()['id']}",
        owner,
        json={"payload": {"testId": standalone["id"]}},
    )
    assert repoint.status_code == 409
    moved = api("PUT", f"/tests/{test['id']}", owner, json={**body, "courseId": other["id"]})
    assert moved.status_code == 409 and "must stay" in moved.json()["message"]
    dropped = api("PUT", f"/tests/{test['id']}", owner, json=body)
    assert dropped.status_code == 409
    kept = api("PUT", f"/tests/{test['id']}", owner, json={**body, "courseId": mine["id"]})
    assert kept.status_code == 200, kept.text


def test_feedback_policy_and_attempt_limits(
    api: Callable[..., httpx.Response], who: dict[str, Any], bank: dict[str, Any]
) -> None:
    test = make_test(
        api, who["owner"], [bank["questions"]["true_false"]], feedback="none", attemptsAllowed=1
    )
    attempt = api("POST", f"/tests/{test['id']}/attempts", who["ann"]).json()
    review = api("POST", f"/attempts/{attempt['id']}/submit", who["ann"]).json()
    assert review["score"] is None and review["passed"] is None
    assert "correct" not in review["questions"][0]
    assert api("POST", f"/tests/{test['id']}/attempts", who["ann"]).status_code == 409
    owner_view = api("GET", f"/attempts/{attempt['id']}", who["owner"]).json()
    assert owner_view["passed"] is False and owner_view["score"]["raw"] == 0.0


def test_the_time_limit_submits_on_the_next_access(
    api: Callable[..., httpx.Response], who: dict[str, Any], bank: dict[str, Any]
) -> None:
    test = make_test(api, who["owner"], [bank["questions"]["true_false"]], timeLimitSeconds=1)
    attempt = api("POST", f"/tests/{test['id']}/attempts", who["bob"]).json()
    qid = attempt["questions"][0]["id"]
    api("PUT", f"/attempts/{attempt['id']}/answers/{qid}", who["bob"], json={"response": True})
    time.sleep(1.5)
    late = api(
        "PUT", f"/attempts/{attempt['id']}/answers/{qid}", who["bob"], json={"response": False}
    )
    assert late.status_code == 409
    seen = api("GET", f"/attempts/{attempt['id']}", who["bob"]).json()
    assert seen["status"] == "graded" and seen["autoSubmitted"] is True
    assert seen["submitted"] == seen["deadline"] and seen["passed"] is True


def test_draws_are_reproducible_per_attempt(
    api: Callable[..., httpx.Response], who: dict[str, Any], bank: dict[str, Any]
) -> None:
    body = {
        "title": "Random",
        "published": True,
        "draws": [{"bankId": bank["id"], "count": 3}],
        "settings": {"shuffleQuestions": True},
    }
    test = api("POST", "/tests", who["owner"], json=body).json()
    attempt = api("POST", f"/tests/{test['id']}/attempts", who["ann"]).json()
    assert len(attempt["questions"]) == 3
    again = api("GET", f"/attempts/{attempt['id']}", who["ann"]).json()
    assert again["questions"] == attempt["questions"]
    assert attempt["seed"] == attempt_seed(uuid.UUID(test["id"]), who["ann"]["id"], 1)


def test_open_ended_answers_are_graded_by_hand(
    client: httpx.Client,
    server: Server,
    api: Callable[..., httpx.Response],
    who: dict[str, Any],
    bank: dict[str, Any],
) -> None:
    test = make_test(
        api, who["owner"], [bank["questions"]["true_false"], bank["questions"]["open_ended"]]
    )
    learner = person(server, Path(server.data_dir), "learner")
    attempt = api("POST", f"/tests/{test['id']}/attempts", learner).json()
    for q in attempt["questions"]:
        response = True if q["type"] == "true_false" else "My essay"
        api(
            "PUT",
            f"/attempts/{attempt['id']}/answers/{q['id']}",
            learner,
            json={"response": response},
        )
    submitted = api("POST", f"/attempts/{attempt['id']}/submit", learner).json()
    assert submitted["status"] == "grading" and submitted["passed"] is None
    queue = api("GET", f"/tests/{test['id']}/grading-queue", who["owner"]).json()
    assert [(p["attemptId"], p["response"]) for p in queue] == [(attempt["id"], "My essay")]
    assert api("GET", f"/tests/{test['id']}/grading-queue", who["other"]).status_code == 403
    url = f"/attempts/{attempt['id']}/answers/{bank['questions']['open_ended']}/grade"
    assert api("POST", url, who["owner"], json={"points": 5}).status_code == 400  # max 4
    graded = api("POST", url, who["owner"], json={"points": 2, "comment": "ok"})
    assert graded.status_code == 200, graded.text
    assert graded.json()["status"] == "graded" and graded.json()["score"]["raw"] == 3.0
    assert graded.json()["passed"] is True  # 3 of 5 >= 0.6
    agent = json.dumps({"account": {"homePage": server.url, "name": learner["id"]}})
    got = client.get("/xapi/statements", params={"agent": agent}).json()
    verbs = [s["verb"]["id"].removeprefix(ADL) for s in in_order(got["statements"])]
    assert verbs == ["attempted", "answered", "answered", "passed", "completed"]
