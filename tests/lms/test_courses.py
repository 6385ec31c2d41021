"""Courses (lms/courses): CRUD and lifecycle, who may do what, enrolment, the catalogue read
model kept from the course events, and the statements of launches and completions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import BadRequest
from core.xapi.decode import decode_statement_obj
from lms.courses.catalogue import catalogue_document
from lms.courses.iris import CourseIris
from lms.courses.models import Course, CourseStatus, ItemKind
from lms.courses.service import checked_payload
from lms.courses.tracking import item_statement
from tests.conftest import Server
from tests.lms.conftest import bearer, create_user, password_grant

API = "/api/v1"
ADL = "http://adlnet.gov/expapi/verbs/"


def person(server: Server, data_dir: Path, role: str) -> dict[str, Any]:
    user = create_user(data_dir, role)
    token = password_grant(server.url, user["email"]).json()["access_token"]
    return {**user, "headers": bearer(token)}


@pytest.fixture(scope="module")
def who(server: Server, data_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        name: person(server, data_dir, role)
        for name, role in [
            ("owner", "author"),
            ("other", "author"),
            ("ann", "learner"),
            ("bob", "learner"),
            ("admin", "admin"),
        ]
    }


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def build_course(api: Callable[..., httpx.Response], owner: dict[str, Any]) -> dict[str, Any]:
    course = api("POST", "/courses", owner, json={"title": "Rust 101", "description": "d"}).json()
    module = api("POST", f"/courses/{course['id']}/modules", owner, json={"title": "Basics"})
    assert module.status_code == 201, module.text
    item = api(
        "POST",
        f"/courses/{course['id']}/modules/{module.json()['id']}/items",
        owner,
        json={"kind": "video", "title": "Intro", "payload": {"url": "https://v.example/1.mp4"}},
    )
    assert item.status_code == 201, item.text
    return {**course, "module": module.json(), "item": item.json()}


# Pure parts


def test_payloads_are_checked_against_their_kind() -> None:
    assert checked_payload(ItemKind.LINK, {"url": "https://example.com"}) == {
        "url": "https://example.com"
    }
    au = {"launchUrl": "https://au.example/index.html", "activityId": "https://au.example/au"}
    assert checked_payload(ItemKind.CMI5, au) == {
        **au,
        "moveOn": "NotApplicable",
        "masteryScore": None,
        "launchMethod": "AnyWindow",
        "launchParameters": None,
    }
    assert checked_payload(ItemKind.SCORM, {"launchUrl": "https://p.example/"}) == {
        "launchUrl": "https://p.example/",
        "activityId": None,
    }
    for kind, payload in [
        (ItemKind.VIDEO, {}),
        (ItemKind.LINK, {"url": "ftp://x"}),
        (ItemKind.TEST, {"testId": "not a uuid"}),
        (ItemKind.CMI5, {"launchUrl": "https://au.example/"}),  # no publisher id
        (ItemKind.CMI5, {**au, "moveOn": "Sometimes"}),
        (ItemKind.DOCUMENT, {"url": "https://x", "extra": 1}),
    ]:
        with pytest.raises(BadRequest):
            checked_payload(kind, payload)


def test_item_statements_are_valid_xapi_with_the_contract_iris() -> None:
    iris = CourseIris("https://lms.example")
    course = {"id": uuid.uuid4(), "title": "C"}
    item = {"id": uuid.uuid4(), "title": "I", "kind": "video"}
    registration = uuid.uuid4()
    body = item_statement(
        "completed", iris=iris, course=course, item=item, learner="u1", registration=registration
    )
    statement = decode_statement_obj(body, "1.0.3")
    assert (
        statement.object.id == f"https://lms.example/lms/courses/{course['id']}/items/{item['id']}"
    )
    assert body["actor"]["account"] == {"homePage": "https://lms.example", "name": "u1"}
    assert body["context"]["registration"] == str(registration)
    parent = body["context"]["contextActivities"]["parent"][0]["id"]
    assert parent == f"https://lms.example/lms/courses/{course['id']}"


def test_the_catalogue_document_counts_the_outline() -> None:
    from datetime import UTC, datetime

    from lms.courses.models import Item, Module

    now = datetime.now(UTC)
    item = Item(uuid.uuid4(), uuid.uuid4(), 0, ItemKind.LINK, "l", {"url": "https://x"}, "iri")
    course = Course(
        uuid.uuid4(),
        "o",
        "T",
        "",
        CourseStatus.PUBLISHED,
        3,
        now,
        now,
        "iri",
        [Module(uuid.uuid4(), 0, "m", [item, item]), Module(uuid.uuid4(), 1, "n", [])],
    )
    document = catalogue_document(course, enrolments=2)
    assert (document["moduleCount"], document["itemCount"], document["enrolments"]) == (2, 2, 2)
    assert document["modules"][0]["items"][0]["kind"] == "link"


# Over HTTP


def test_crud_and_lifecycle(api: Callable[..., httpx.Response], who: dict[str, Any]) -> None:
    owner = who["owner"]
    course = build_course(api, owner)
    cid = course["id"]
    assert course["status"] == "draft" and course["version"] == 1
    second = api("POST", f"/courses/{cid}/modules", owner, json={"title": "First", "position": 0})
    outline = api("GET", f"/courses/{cid}", owner).json()
    assert [m["title"] for m in outline["modules"]] == ["First", "Basics"]
    assert outline["modules"][1]["items"][0]["activityId"].endswith(
        f"/lms/courses/{cid}/items/{course['item']['id']}"
    )
    reordered = api(
        "PUT",
        f"/courses/{cid}/module-order",
        owner,
        json={"ids": [course["module"]["id"], second.json()["id"]]},
    )
    assert [m["title"] for m in reordered.json()] == ["Basics", "First"]
    bad_order = api(
        "PUT", f"/courses/{cid}/module-order", owner, json={"ids": [course["module"]["id"]]}
    )
    assert bad_order.status_code == 400
    patched = api("PATCH", f"/courses/{cid}", owner, json={"title": "Rust 102"})
    assert patched.json()["title"] == "Rust 102" and patched.json()["version"] > 1
    assert api("POST", f"/courses/{cid}/publish", owner).json()["status"] == "published"
    assert api("POST", f"/courses/{cid}/publish", owner).status_code == 409
    assert api("POST", f"/courses/{cid}/unpublish", owner).json()["status"] == "draft"
    assert api("DELETE", f"/courses/{cid}/items/{course['item']['id']}", owner).status_code == 204
    assert api("POST", f"/courses/{cid}/publish", owner).status_code == 409  # no items
    assert api("DELETE", f"/courses/{cid}", owner).status_code == 204
    assert api("GET", f"/courses/{cid}", owner).status_code == 404


def test_validation_says_what_is_wrong(
    api: Callable[..., httpx.Response], who: dict[str, Any]
) -> None:
    owner = who["owner"]
    empty = api("POST", "/courses", owner, json={"title": ""})
    assert empty.status_code == 400 and "title" in empty.json()["message"]
    unknown = api("POST", "/courses", owner, json={"title": "x", "colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["message"]
    course = build_course(api, owner)
    bad_item = api(
        "POST",
        f"/courses/{course['id']}/modules/{course['module']['id']}/items",
        owner,
        json={"kind": "link", "title": "x", "payload": {"url": "not a url"}},
    )
    assert bad_item.status_code == 400 and "payload" in bad_item.json()["message"]
    assert api("GET", f"/courses/{uuid.uuid4()}", owner).status_code == 404
    assert (
        api(
            "PATCH", f"/courses/{course['id']}/modules/{uuid.uuid4()}", owner, json={"title": "y"}
        ).status_code
        == 404
    )


def test_permissions(api: Callable[..., httpx.Response], who: dict[str, Any]) -> None:
    course = build_course(api, who["owner"])
    cid = course["id"]
    assert api("PATCH", f"/courses/{cid}", who["other"], json={"title": "mine"}).status_code == 403
    assert api("POST", f"/courses/{cid}/publish", who["other"]).status_code == 403
    assert api("POST", "/courses", who["ann"], json={"title": "x"}).status_code == 403
    assert api("GET", f"/courses/{cid}", who["ann"]).status_code == 404  # a draft
    assert cid not in [c["id"] for c in api("GET", "/courses", who["ann"]).json()]
    assert (
        api("PATCH", f"/courses/{cid}", who["admin"], json={"description": "ok"}).status_code == 200
    )
    assert api("POST", f"/courses/{cid}/publish", who["owner"]).status_code == 200
    assert api("GET", f"/courses/{cid}", who["ann"]).status_code == 200
    assert cid in [c["id"] for c in api("GET", "/courses", who["ann"]).json()]
    mine = api("GET", "/courses?mine=true", who["other"]).json()
    assert cid not in [c["id"] for c in mine]


def test_enrolment_and_the_catalogue(
    api: Callable[..., httpx.Response], who: dict[str, Any]
) -> None:
    owner, ann = who["owner"], who["ann"]
    course = build_course(api, owner)
    cid = course["id"]
    assert api("POST", f"/courses/{cid}/enrolments", ann).status_code == 404  # a draft
    api("POST", f"/courses/{cid}/publish", owner)
    enrolled = api("POST", f"/courses/{cid}/enrolments", ann)
    assert enrolled.status_code == 201, enrolled.text
    registration = enrolled.json()["registration"]
    uuid.UUID(registration)
    assert api("POST", f"/courses/{cid}/enrolments", ann).status_code == 409
    others = api("POST", f"/courses/{cid}/enrolments", who["bob"], json={"learner": ann["id"]})
    assert others.status_code == 403
    by_owner = api("POST", f"/courses/{cid}/enrolments", owner, json={"learner": who["bob"]["id"]})
    assert by_owner.status_code == 201
    assert len(api("GET", f"/courses/{cid}/enrolments", owner).json()) == 2
    assert [e["registration"] for e in api("GET", f"/courses/{cid}/enrolments", ann).json()] == [
        registration
    ]

    def document() -> Any:
        got = api("GET", f"/catalogue/{cid}", ann)
        return got.json() if got.status_code == 200 and got.json()["enrolments"] == 2 else None

    doc = eventually(document)
    assert doc, "the catalogue did not catch up"
    assert doc["title"] == "Rust 101" and doc["itemCount"] == 1
    assert doc["modules"][0]["items"][0]["title"] == "Intro"
    listed = {c["id"]: c for c in api("GET", "/catalogue", ann).json()}
    assert cid in listed and "modules" not in listed[cid]
    api("PATCH", f"/courses/{cid}", owner, json={"title": "Rust 103"})
    assert eventually(lambda: api("GET", f"/catalogue/{cid}", ann).json()["title"] == "Rust 103")
    api("POST", f"/courses/{cid}/unpublish", owner)
    assert eventually(lambda: api("GET", f"/catalogue/{cid}", ann).status_code == 404)


def test_launch_and_complete_record_statements(
    server: Server, client: httpx.Client, api: Callable[..., httpx.Response], who: dict[str, Any]
) -> None:
    owner, learner = who["owner"], person(server, Path(server.data_dir), "learner")
    course = build_course(api, owner)
    cid, item = course["id"], course["item"]
    api("POST", f"/courses/{cid}/publish", owner)
    url = f"/courses/{cid}/items/{item['id']}"
    assert api("POST", url + "/launch", learner).status_code == 403  # not enrolled
    registration = api("POST", f"/courses/{cid}/enrolments", learner).json()["registration"]
    launched = api("POST", url + "/launch", learner)
    assert launched.status_code == 200, launched.text
    assert launched.json()["launchUrl"] == "https://v.example/1.mp4"
    assert len(api("POST", url + "/complete", learner).json()["statementIds"]) == 2

    agent = json.dumps({"account": {"homePage": server.url, "name": learner["id"]}})
    got = client.get(
        "/xapi/statements",
        params={"agent": agent, "registration": registration, "ascending": "true"},
    )
    assert got.status_code == 200, got.text
    statements = got.json()["statements"]
    assert [s["verb"]["id"] for s in statements] == [
        ADL + "launched",
        ADL + "experienced",
        ADL + "completed",
    ]
    for statement in statements:
        assert statement["object"]["id"] == f"{server.url}/lms/courses/{cid}/items/{item['id']}"
        assert statement["context"]["contextActivities"]["parent"][0]["id"] == (
            f"{server.url}/lms/courses/{cid}"
        )
