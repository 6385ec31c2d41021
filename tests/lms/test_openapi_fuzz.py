"""Schemathesis over the server's own OpenAPI document: no generated request to any
/api/v1 or /oauth operation, valid for the schema or not, makes it answer 5xx, whoever asks;
requests the schema says are invalid are refused with a 4xx.

The requests create, change and delete things, so they go to a server of this module's own.
Each operation gets its own bounded, derandomized Hypothesis run and a failing operation does
not stop the others; the number of cases and their statuses are printed at the end.

(Schemathesis's `@schema.parametrize()` relies on a pytest internal, `Node._nodeid`, that
pytest 9.2 no longer has, so the operations are walked with its Python API instead.)"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
)
from schemathesis.core.failures import FailureGroup

from tests.conftest import Server
from tests.lms.conftest import bearer, create_user, password_grant

MAX_EXAMPLES = 15
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Conformance of bodies and status codes to the document is left out: it documents no 401,
# 403 or 404, nor our error body, so every operation would fail it.
CHECKS = [not_a_server_error, negative_data_rejection, response_headers_conformance]
OPERATIONS = r"^/(api/v1|oauth)/"
# Logging out refuses the caller's access tokens at once: it goes last.
LOGOUT = "POST /api/v1/me/logout"
ROLES = ("learner", "admin")
API = "/api/v1"


@pytest.fixture(scope="module")
def fuzz_server(own_server_factory: Callable[[dict[str, str]], Server]) -> Server:
    return own_server_factory({})


@pytest.fixture(scope="module")
def operations(fuzz_server: Server) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/schema/openapi.json")
    found = [result.ok() for result in schema.include(path_regex=OPERATIONS).get_all_operations()]
    assert len(found) > 50, [operation.label for operation in found]
    return sorted(found, key=running_order)


def running_order(operation: schemathesis.APIOperation) -> tuple[bool, bool, int]:
    """Deletes after everything else, the deepest first, so that the things they would
    delete are there for the other operations; logging out last of all."""
    deletes = operation.method.upper() == "DELETE"
    return operation.label == LOGOUT, deletes, -len(operation.path) if deletes else 0


def signed_in(server: Server, role: str) -> dict[str, str]:
    """A new person of the role: their id and Authorization header."""
    person = create_user(server.data_dir, role)
    granted = password_grant(server.url, person["email"])
    assert granted.status_code == 200, granted.text
    return {"id": person["id"], **bearer(granted.json()["access_token"])}


def call_ok(server: Server, who: dict[str, str], method: str, path: str, **body: Any) -> Any:
    response = httpx.request(
        method,
        server.url + API + path,
        headers={"Authorization": who["Authorization"]},
        json=body or None,
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def seed(server: Server, admin: dict[str, str], learner: dict[str, str]) -> dict[str, str]:
    """Real ids for the path parameters: a published course with one module and item that the
    learner is enrolled in, and a published test of one question that the learner has begun."""
    course = call_ok(server, admin, "POST", "/courses", title="Fuzz 101", description="d")
    cid = course["id"]
    module = call_ok(server, admin, "POST", f"/courses/{cid}/modules", title="Basics")
    item = call_ok(
        server,
        admin,
        "POST",
        f"/courses/{cid}/modules/{module['id']}/items",
        kind="video",
        title="Intro",
        payload={"url": "https://v.example/1.mp4"},
    )
    call_ok(server, admin, "POST", f"/courses/{cid}/publish")
    call_ok(server, admin, "POST", f"/courses/{cid}/enrolments", learner=learner["id"])
    bank = call_ok(server, admin, "POST", "/question-banks", title="Fuzz")
    question = call_ok(
        server,
        admin,
        "POST",
        f"/question-banks/{bank['id']}/questions",
        type="single_choice",
        prompt="Pick b",
        choices=[{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        correct="b",
    )
    test = call_ok(
        server,
        admin,
        "POST",
        "/tests",
        title="Quiz",
        courseId=cid,
        published=True,
        questions=[question["id"]],
        settings={"feedback": "full", "passingScore": 0.6},
    )
    attempt = call_ok(server, learner, "POST", f"/tests/{test['id']}/attempts")
    credential = call_ok(server, admin, "POST", "/admin/credentials", scopes="all", label="fuzz")
    bystander = create_user(server.data_dir, "analyst")
    return {
        "course_id": cid,
        "module_id": module["id"],
        "item_id": item["id"],
        "bank_id": bank["id"],
        "question_id": question["id"],
        "test_id": test["id"],
        "attempt_id": attempt["id"],
        "key": credential["key"],
        "user_id": bystander["id"],
    }


@pytest.fixture(scope="module")
def callers(fuzz_server: Server) -> dict[str, dict[str, str]]:
    return {role: signed_in(fuzz_server, role) for role in ROLES}


@pytest.fixture(scope="module")
def known_ids(fuzz_server: Server, callers: dict[str, dict[str, str]]) -> dict[str, str]:
    return seed(fuzz_server, callers["admin"], callers["learner"])


def strategy(
    operation: schemathesis.APIOperation, known_ids: dict[str, str]
) -> st.SearchStrategy[schemathesis.Case]:
    """Cases that fit the schema and cases that don't, each on random and on real ids."""
    names = re.findall(r"\{(\w+)\}", operation.path)
    real = {name: known_ids[name] for name in names if name in known_ids}
    return st.one_of(
        [
            operation.as_strategy(mode, path_parameters=path_parameters)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for path_parameters in ([None, real] if real else [None])
        ]
    )


def fuzz(
    operation: schemathesis.APIOperation,
    cases: st.SearchStrategy[schemathesis.Case],
    session: requests.Session,
    caller: dict[str, str],
    statuses: Counter[int],
) -> None:
    """One bounded Hypothesis run over the operation; its first failure (shrunk) is raised."""

    @FUZZ
    @given(case=cases)
    def check(case: schemathesis.Case) -> None:
        response = case.call(session=session, headers=caller, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    check()


# The learner first: the admin's run changes and deletes what the learner's would use.
@pytest.mark.parametrize("role", ROLES)
def test_no_request_is_a_server_error(
    role: str,
    fuzz_server: Server,
    operations: list[schemathesis.APIOperation],
    callers: dict[str, dict[str, str]],
    known_ids: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    caller = {"Authorization": callers[role]["Authorization"]}
    statuses: Counter[int] = Counter()
    failures: dict[str, str] = {}
    with requests.Session() as session:
        for operation in operations:
            try:
                fuzz(operation, strategy(operation, known_ids), session, caller, statuses)
            except (Exception, FailureGroup) as failure:
                failures[operation.label] = str(failure)
    with capsys.disabled():
        print(
            f"\n[openapi fuzz] {role}: {len(operations)} operations, {statuses.total()} cases, "
            f"statuses {dict(sorted(statuses.items()))}"
        )
    assert not failures, "\n\n".join(f"{label}:\n{why}" for label, why in failures.items())
