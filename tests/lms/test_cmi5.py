"""cmi5 launches (lms/courses/cmi5*): the LMS.LaunchData State document (cmi5 10.0), the
one-time fetch URL (cmi5 8.2), the launch URL (cmi5 8.1), and the AU's LRS credential, which
expires and may not void statements (cmi5 9.3: "The AU MUST NOT void statements")."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Server
from tests.lms.conftest import XAPI, sql
from tests.lms.test_courses import person

API = "/api/v1"
ADL = "http://adlnet.gov/expapi/verbs/"
CMI5 = "https://w3id.org/xapi/cmi5/context/extensions/"
PUBLISHER_ID = "https://au.example/courses/geology/aus/intro"
CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"


@pytest.fixture(scope="module")
def course(server: Server, api: Callable[..., httpx.Response]) -> dict[str, Any]:
    """A published course with one cmi5 AU."""
    owner = person(server, Path(server.data_dir), "author")
    made = api("POST", "/courses", owner, json={"title": "Geology"}).json()
    module = api("POST", f"/courses/{made['id']}/modules", owner, json={"title": "M"}).json()
    au = api(
        "POST",
        f"/courses/{made['id']}/modules/{module['id']}/items",
        owner,
        json={
            "kind": "cmi5",
            "title": "Introduction",
            "payload": {
                "launchUrl": "https://au.example/intro/index.html?lang=en",
                "activityId": PUBLISHER_ID,
                "moveOn": "Passed",
                "masteryScore": 0.8,
            },
        },
    )
    assert au.status_code == 201, au.text
    assert api("POST", f"/courses/{made['id']}/publish", owner).status_code == 200
    return {**made, "owner": owner, "au": au.json()}


def launch(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> dict[str, Any]:
    """A new learner enrols and launches the AU; the launch answer and its URL's parameters."""
    learner = person(server, Path(server.data_dir), "learner")
    enrolment = api("POST", f"/courses/{course['id']}/enrolments", learner).json()
    launched = api(
        "POST",
        f"/courses/{course['id']}/items/{course['au']['id']}/launch",
        learner,
        json={"returnUrl": "https://lms.example/courses/geology"},
    )
    assert launched.status_code == 200, launched.text
    url = urlsplit(launched.json()["launchUrl"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    return {
        **launched.json(),
        "learner": learner,
        "enrolment": enrolment,
        "url": url,
        "params": params,
    }


def fetch(url: str) -> httpx.Response:
    return httpx.post(url, timeout=30)


def au_headers(auth_token: str) -> dict[str, str]:
    return {**XAPI, "Authorization": "Basic " + auth_token}


def on_every_write_path(
    server: Server,
    headers: dict[str, str],
    body: dict[str, Any],
    *,
    beside: dict[str, Any] | None = None,
) -> dict[str, httpx.Response]:
    """`body` written through each statement write path the LRS has: the fast lane's POST
    (in a batch after `beside`, when given) and PUT, the router's POST (a CORS request skips
    the fast lane) and partialSuccess; the response of each, by path."""
    writes = {
        "POST (fast lane)": ("POST", {}, {}, [beside, body] if beside else body),
        "PUT (fast lane)": ("PUT", {"statementId": body["id"]}, {}, body),
        "POST (router)": ("POST", {}, {"Origin": "https://au.example"}, body),
        "POST partialSuccess": ("POST", {"partialSuccess": "true"}, {}, [body]),
    }
    return {
        name: httpx.request(
            method,
            server.url + "/xapi/statements",
            params=params,
            json=sent,
            headers={**headers, **extra},
            timeout=30,
        )
        for name, (method, params, extra, sent) in writes.items()
    }


def statement(launched: dict[str, Any], verb: str, **extra: Any) -> dict[str, Any]:
    """A statement as an AU sends it: its actor, activity and registration from the launch."""
    return {
        "id": str(uuid.uuid4()),
        "actor": json.loads(launched["params"]["actor"]),
        "verb": {"id": ADL + verb},
        "object": {"objectType": "Activity", "id": launched["params"]["activityId"]},
        "context": {"registration": launched["params"]["registration"]},
        **extra,
    }


def test_the_launch_url_carries_the_cmi5_launch_parameters(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> None:
    launched = launch(server, api, course)
    url, params = launched["url"], launched["params"]
    assert (url.scheme, url.netloc, url.path) == ("https", "au.example", "/intro/index.html")
    assert params["lang"] == "en"  # the AU's own query stays
    assert params["endpoint"] == server.url + "/xapi/"
    assert params["fetch"].startswith(server.url + "/api/v1/cmi5/fetch/")
    assert json.loads(params["actor"]) == {
        "objectType": "Agent",
        "account": {"homePage": server.url, "name": launched["learner"]["id"]},
    }
    assert params["registration"] == launched["enrolment"]["registration"]
    assert params["activityId"] == course["au"]["activityId"] != PUBLISHER_ID
    assert launched["activityId"] == params["activityId"]


def test_the_launch_writes_lms_launch_data_in_the_lrs(
    server: Server,
    client: httpx.Client,
    api: Callable[..., httpx.Response],
    course: dict[str, Any],
) -> None:
    launched = launch(server, api, course)
    params = launched["params"]
    got = client.get(
        "/xapi/activities/state",
        params={
            "activityId": params["activityId"],
            "agent": params["actor"],
            "registration": params["registration"],
            "stateId": "LMS.LaunchData",
        },
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    data = got.json()
    template = data["contextTemplate"]
    assert template["contextActivities"]["grouping"] == [
        {"objectType": "Activity", "id": PUBLISHER_ID}
    ]
    assert (
        template["contextActivities"]["parent"][0]["id"]
        == f"{server.url}/lms/courses/" + (course["id"])
    )
    assert template["extensions"] == {CMI5 + "sessionid": launched["sessionId"]}
    assert data["launchMode"] == "Normal"
    assert data["launchMethod"] == "AnyWindow"
    assert data["moveOn"] == "Passed"
    assert data["masteryScore"] == 0.8
    assert data["returnURL"] == "https://lms.example/courses/geology"

    # The launched statement, recorded before the answer, carries the cmi5 context (9.6).
    [launched_id] = launched["statementIds"]
    recorded = client.get("/xapi/statements", params={"statementId": launched_id}).json()
    assert recorded["verb"]["id"] == ADL + "launched"
    assert recorded["object"]["id"] == params["activityId"]
    extensions = recorded["context"]["extensions"]
    assert extensions[CMI5 + "sessionid"] == launched["sessionId"]
    assert extensions[CMI5 + "launchmode"] == "Normal"
    assert extensions[CMI5 + "moveon"] == "Passed"
    assert extensions[CMI5 + "launchurl"] == "https://au.example/intro/index.html?lang=en"
    assert recorded["context"]["contextActivities"]["grouping"][0]["id"] == PUBLISHER_ID


def test_the_fetch_url_returns_the_auth_token_once(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> None:
    launched = launch(server, api, course)
    first = fetch(launched["params"]["fetch"])
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    key, _, secret = base64.b64decode(first.json()["auth-token"]).decode().partition(":")
    assert key and secret
    again = fetch(launched["params"]["fetch"])
    assert again.status_code == 200  # cmi5 8.2.2: 200, with the error in the body
    assert again.json()["error-code"] == "1" and again.json()["error-text"]
    assert "auth-token" not in again.json()
    unknown = fetch(server.url + "/api/v1/cmi5/fetch/" + "x" * 43)
    assert unknown.status_code == 200 and unknown.json()["error-code"] == "2"
    assert httpx.get(launched["params"]["fetch"], timeout=30).status_code == 405


def test_an_expired_fetch_url_gives_no_token(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any], database_url: str
) -> None:
    launched = launch(server, api, course)
    sql(
        database_url,
        "UPDATE lms_cmi5_sessions SET fetch_expires = now() - interval '1 second'"
        " WHERE session_id = $1",
        uuid.UUID(launched["sessionId"]),
    )
    expired = fetch(launched["params"]["fetch"])
    assert expired.status_code == 200 and expired.json()["error-code"] == "1"


def test_the_au_writes_and_reads_statements_but_may_not_void(
    server: Server,
    client: httpx.Client,
    api: Callable[..., httpx.Response],
    course: dict[str, Any],
    database_url: str,
) -> None:
    launched = launch(server, api, course)
    token = fetch(launched["params"]["fetch"]).json()["auth-token"]
    headers = au_headers(token)
    initialized = statement(launched, "initialized")
    posted = httpx.post(
        server.url + "/xapi/statements", json=initialized, headers=headers, timeout=30
    )
    assert posted.status_code == 200, posted.text
    mine = httpx.get(server.url + "/xapi/statements", headers=headers, timeout=30)
    assert mine.status_code == 200
    assert [s["id"] for s in mine.json()["statements"]] == [initialized["id"]]
    state = httpx.get(
        server.url + "/xapi/activities/state",
        params={
            "activityId": launched["params"]["activityId"],
            "agent": launched["params"]["actor"],
            "registration": launched["params"]["registration"],
            "stateId": "LMS.LaunchData",
        },
        headers=headers,
        timeout=30,
    )
    assert state.status_code == 200 and state.json()["moveOn"] == "Passed"

    voiding = statement(launched, "voided")
    voiding["object"] = {"objectType": "StatementRef", "id": initialized["id"]}
    del voiding["context"]
    for name, refused in on_every_write_path(server, headers, voiding).items():
        assert refused.status_code == 403, f"{name}: {refused.status_code} {refused.text}"
        assert "void" in refused.json()["message"]
    still = client.get("/xapi/statements", params={"statementId": initialized["id"]})
    assert still.status_code == 200  # not voided

    row = sql(
        database_url,
        "SELECT c.may_void, c.expires - now() AS life, c.scopes FROM credentials c"
        " JOIN lms_cmi5_sessions s ON s.credential_key = c.key WHERE s.session_id = $1",
        uuid.UUID(launched["sessionId"]),
    )[0]
    assert row["may_void"] is False
    assert 7.9 * 3600 < row["life"].total_seconds() <= 8 * 3600  # cmi5_session_hours
    assert "all" not in row["scopes"] and "statements/read" not in row["scopes"]


def test_the_au_credential_expires(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any], database_url: str
) -> None:
    launched = launch(server, api, course)
    token = fetch(launched["params"]["fetch"]).json()["auth-token"]
    sql(
        database_url,
        "UPDATE credentials SET expires = now() - interval '1 second'"
        " WHERE key = (SELECT credential_key FROM lms_cmi5_sessions WHERE session_id = $1)",
        uuid.UUID(launched["sessionId"]),
    )
    late = httpx.post(
        server.url + "/xapi/statements",
        json=statement(launched, "initialized"),
        headers=au_headers(token),
        timeout=30,
    )
    assert late.status_code == 401


def test_the_au_credential_cannot_be_exchanged_for_a_bearer_token(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> None:
    launched = launch(server, api, course)
    token = fetch(launched["params"]["fetch"]).json()["auth-token"]
    exchanged = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + token},
        timeout=30,
    )
    assert exchanged.status_code == 400
    assert exchanged.json()["error"] == "unauthorized_client"
    assert "access_token" not in exchanged.json()


def test_other_credentials_still_void(client: httpx.Client) -> None:
    target = client.post(
        "/xapi/statements",
        json={
            "actor": {"mbox": "mailto:someone@example.com"},
            "verb": {"id": ADL + "experienced"},
            "object": {"id": "https://example.com/a"},
        },
    )
    assert target.status_code == 200, target.text
    voided = client.post(
        "/xapi/statements",
        json={
            "actor": {"mbox": "mailto:someone@example.com"},
            "verb": {"id": ADL + "voided"},
            "object": {"objectType": "StatementRef", "id": target.json()[0]},
        },
    )
    assert voided.status_code == 200, voided.text


def test_an_au_without_its_publisher_id_is_refused(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> None:
    made = api(
        "POST",
        f"/courses/{course['id']}/modules/{course['au']['moduleId']}/items",
        course["owner"],
        json={"kind": "cmi5", "title": "x", "payload": {"launchUrl": "https://au.example/x"}},
    )
    assert made.status_code == 400 and "activityId" in made.json()["message"]


def test_the_au_credential_writes_only_statements_of_its_launch(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any], database_url: str
) -> None:
    """cmi5 9.2: the actor MUST be an Agent and match the actor of the launch URL; cmi5 9.6.1:
    the registration MUST be the launch's."""
    launched = launch(server, api, course)
    other = launch(server, api, course)  # another learner's launch of the same AU
    headers = au_headers(fetch(launched["params"]["fetch"]).json()["auth-token"])
    actor = json.loads(launched["params"]["actor"])
    registration = launched["params"]["registration"]

    right = statement(launched, "initialized")
    ok = httpx.post(server.url + "/xapi/statements", json=right, headers=headers, timeout=30)
    assert ok.status_code == 200, ok.text
    upper = statement(launched, "experienced", context={"registration": registration.upper()})
    ok = httpx.post(server.url + "/xapi/statements", json=upper, headers=headers, timeout=30)
    assert ok.status_code == 200, ok.text

    wrong: dict[str, tuple[dict[str, Any], str]] = {
        "another learner": (
            statement(launched, "experienced", actor=json.loads(other["params"]["actor"])),
            "cmi5 9.2",
        ),
        "an mbox": (
            statement(launched, "experienced", actor={"mbox": "mailto:au@example.com"}),
            "cmi5 9.2",
        ),
        "a Group": (
            statement(
                launched,
                "experienced",
                actor={"objectType": "Group", "account": actor["account"], "member": []},
            ),
            "cmi5 9.2",
        ),
        "no context": ({k: v for k, v in right.items() if k != "context"}, "cmi5 9.6.1"),
        "no registration": (
            statement(launched, "experienced", context={"language": "en-US"}),
            "cmi5 9.6.1",
        ),
        "another registration": (
            statement(
                launched, "experienced", context={"registration": other["params"]["registration"]}
            ),
            "cmi5 9.6.1",
        ),
    }
    for name, (body, rule) in wrong.items():
        body = {**body, "id": str(uuid.uuid4())}
        good = statement(launched, "experienced")
        for how, refused in on_every_write_path(server, headers, body, beside=good).items():
            assert refused.status_code == 403, f"{name}, {how}: {refused.text}"
            assert rule in refused.json()["message"], f"{name}, {how}: {refused.text}"
    stored = sql(
        database_url,
        "SELECT count(*) FROM statements WHERE registration = $1",
        uuid.UUID(registration),
    )[0][0]
    assert stored == 3  # launched, and the two right ones: none of a refused batch

    row = sql(
        database_url,
        "SELECT c.bound_actor, c.bound_registration FROM credentials c"
        " JOIN lms_cmi5_sessions s ON s.credential_key = c.key WHERE s.session_id = $1",
        uuid.UUID(launched["sessionId"]),
    )[0]
    assert row["bound_actor"] == f"account {server.url} {launched['learner']['id']}"
    assert str(row["bound_registration"]) == registration


def test_the_au_writes_only_its_learners_state(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> None:
    launched = launch(server, api, course)
    other = launch(server, api, course)
    headers = au_headers(fetch(launched["params"]["fetch"]).json()["auth-token"])

    def put_state(agent: str) -> httpx.Response:
        return httpx.put(
            server.url + "/xapi/activities/state",
            params={
                "activityId": launched["params"]["activityId"],
                "agent": agent,
                "registration": launched["params"]["registration"],
                "stateId": "bookmark",
            },
            json={"page": 3},
            headers=headers,
            timeout=30,
        )

    assert put_state(launched["params"]["actor"]).status_code == 204
    refused = put_state(other["params"]["actor"])
    assert refused.status_code == 403 and "State" in refused.json()["message"]
    deleted = httpx.delete(
        server.url + "/xapi/activities/state",
        params={"activityId": launched["params"]["activityId"], "agent": other["params"]["actor"]},
        headers=headers,
        timeout=30,
    )
    assert deleted.status_code == 403


def test_the_au_may_read_but_not_change_its_launch_data(
    server: Server, api: Callable[..., httpx.Response], course: dict[str, Any]
) -> None:
    launched = launch(server, api, course)
    headers = au_headers(fetch(launched["params"]["fetch"]).json()["auth-token"])
    target = {
        "activityId": launched["params"]["activityId"],
        "agent": launched["params"]["actor"],
        "registration": launched["params"]["registration"],
    }
    url = server.url + "/xapi/activities/state"
    launch_data = {**target, "stateId": "LMS.LaunchData"}
    before = httpx.get(url, params=launch_data, headers=headers, timeout=30)
    assert before.status_code == 200

    for changed in (
        httpx.put(url, params=launch_data, json={"launchMode": "Review"}, headers=headers),
        httpx.post(url, params=launch_data, json={"launchMode": "Review"}, headers=headers),
        httpx.delete(url, params=launch_data, headers=headers),
        httpx.delete(url, params=target, headers=headers),  # the whole collection holds it
    ):
        assert changed.status_code == 403
        assert "cmi5 10.0" in changed.json()["message"]
    after = httpx.get(url, params=launch_data, headers=headers, timeout=30)
    assert after.json() == before.json()


def cmi5_statement(
    launched: dict[str, Any], headers: dict[str, str], verb: str, **extra: Any
) -> dict[str, Any]:
    """A cmi5 defined statement (cmi5 9.6.2.1), its context from `LMS.LaunchData`'s template."""
    params = launched["params"]
    data = httpx.get(
        params["endpoint"] + "activities/state",
        params={
            "activityId": params["activityId"],
            "agent": params["actor"],
            "registration": params["registration"],
            "stateId": "LMS.LaunchData",
        },
        headers=headers,
        timeout=30,
    ).json()
    context = data["contextTemplate"]
    context["contextActivities"]["category"] = [{"objectType": "Activity", "id": CATEGORY}]
    return statement(
        launched, verb, context={**context, "registration": params["registration"]}, **extra
    )


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"not reached in {timeout} s"
        time.sleep(0.2)
    return value


def test_statements_breaking_cmi5_sequencing_are_voided_by_the_lms(
    server: Server,
    client: httpx.Client,
    api: Callable[..., httpx.Response],
    course: dict[str, Any],
    database_url: str,
) -> None:
    """cmi5 6.3: "The LMS MUST Void statements that are NOT rejected AND conflict with the
    Statement API requirements as defined in Section 9" (9.3: after passed, no passed or
    failed in the registration)."""
    launched = launch(server, api, course)
    headers = au_headers(fetch(launched["params"]["fetch"]).json()["auth-token"])
    sent = {}
    for name, verb, success in [
        ("passed", "passed", True),
        ("passed again", "passed", True),
        ("failed after passed", "failed", False),
    ]:
        body = cmi5_statement(
            launched, headers, verb, result={"success": success, "score": {"scaled": 0.9}}
        )
        posted = httpx.post(server.url + "/xapi/statements", json=body, headers=headers, timeout=30)
        assert posted.status_code == 200, f"{name}: {posted.text}"  # not rejected by the LRS
        sent[name] = body["id"]

    def gone(statement_id: str) -> bool:
        found = client.get("/xapi/statements", params={"statementId": statement_id})
        return found.status_code == 404

    for name in ("passed again", "failed after passed"):
        eventually(lambda name=name: gone(sent[name]))
        voided = client.get("/xapi/statements", params={"voidedStatementId": sent[name]})
        assert voided.status_code == 200 and voided.json()["id"] == sent[name]
        voidings = [
            s
            for s in client.get("/xapi/statements", params={"verb": ADL + "voided"}).json()[
                "statements"
            ]
            if s["object"]["id"] == sent[name]
        ]
        assert len(voidings) == 1, name
        assert voidings[0]["object"]["objectType"] == "StatementRef"
        assert voidings[0]["actor"]["account"] == {"homePage": server.url, "name": "lms.progress"}
    assert client.get("/xapi/statements", params={"statementId": sent["passed"]}).status_code == 200

    progress = httpx.get(
        server.url + API + "/progress",
        params={"courseId": course["id"]},
        headers=launched["learner"]["headers"],
        timeout=30,
    ).json()
    item = progress["items"][launched["params"]["activityId"]]
    assert item["passed"] and item["rejected"] == 2
    targets = sql(
        database_url,
        "SELECT ref_target, count(*) FROM statements WHERE voiding AND ref_target = ANY($1)"
        " GROUP BY ref_target",
        [uuid.UUID(i) for i in sent.values()],
    )
    assert sorted((str(r[0]), r[1]) for r in targets) == sorted(
        [(sent["passed again"], 1), (sent["failed after passed"], 1)]
    )
