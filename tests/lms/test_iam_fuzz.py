"""Property tests against the running server: no statement query, and no token request,
makes it answer 500. Each test prints how many cases it ran."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import basic

MAX_EXAMPLES = 300

text = st.text(max_size=60)
timestamps = st.datetimes().map(lambda d: d.isoformat()) | st.datetimes().map(
    lambda d: d.isoformat() + "Z"
)
agents = st.one_of(
    st.builds(
        lambda local: json.dumps({"mbox": f"mailto:{local}@example.com"}),
        st.text(alphabet="abcxyz.+-_", min_size=1, max_size=12),
    ),
    st.builds(
        lambda name, home: json.dumps({"account": {"name": name, "homePage": home}}),
        text,
        text,
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=8,
    ).map(json.dumps),
    text,
)
booleans = st.sampled_from(["true", "false", "True", "0", "1", ""]) | text
PARAMS = {
    "agent": agents,
    "verb": st.sampled_from(["http://adlnet.gov/expapi/verbs/experienced", "urn:x", ""]) | text,
    "activity": st.sampled_from(["http://example.com/a", "not an iri"]) | text,
    "registration": st.uuids().map(str) | text,
    "related_activities": booleans,
    "related_agents": booleans,
    "since": timestamps | text,
    "until": timestamps | text,
    "limit": st.integers(-(10**20), 10**20).map(str) | text,
    "format": st.sampled_from(["exact", "ids", "canonical", "EXACT"]) | text,
    "attachments": booleans,
    "ascending": booleans,
    "statementId": st.uuids().map(str) | text,
    "voidedStatementId": st.uuids().map(str) | text,
    "more": text,
    "unknown": text,
}
queries = st.dictionaries(st.sampled_from(sorted(PARAMS)), st.just(None), max_size=5).flatmap(
    lambda chosen: st.fixed_dictionaries({name: PARAMS[name] for name in chosen})
)


def test_no_statement_query_is_a_server_error(server, credential, capsys):
    ran = {"cases": 0, "statuses": {}}
    with httpx.Client(
        base_url=server.url,
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
        timeout=30,
    ) as client:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(query=queries, language=st.none() | text)
        def check(query: dict[str, str], language: str | None) -> None:
            headers = {"Accept-Language": language} if language else {}
            try:
                response = client.get("/xapi/statements", params=query, headers=headers)
            except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
                return  # not a request a client can send
            ran["cases"] += 1
            ran["statuses"][response.status_code] = ran["statuses"].get(response.status_code, 0) + 1
            assert response.status_code < 500, (query, response.text)

        check()
    with capsys.disabled():
        print(f"\n[fuzz] GET /xapi/statements: {ran['cases']} cases, statuses {ran['statuses']}")
    assert ran["cases"] >= MAX_EXAMPLES // 2


form_values = st.text(max_size=40) | st.sampled_from(
    ["password", "client_credentials", "refresh_token", "all", "statements/write"]
)


def test_no_token_request_is_a_server_error(server, capsys):
    ran = {"cases": 0, "statuses": {}}
    fields = st.sampled_from(
        [
            "grant_type",
            "username",
            "password",
            "scope",
            "client_id",
            "client_secret",
            "refresh_token",
        ]
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:

        @settings(
            max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        )
        @given(
            form=st.dictionaries(fields, form_values, max_size=6),
            authorization=st.none() | st.text(max_size=40) | st.builds(basic, text, text),
        )
        def check(form: dict[str, str], authorization: str | None) -> None:
            headers = {"Authorization": authorization} if authorization else {}
            try:
                response = client.post("/oauth/token", data=form, headers=headers)
            except (httpx.LocalProtocolError, UnicodeEncodeError):
                return
            ran["cases"] += 1
            ran["statuses"][response.status_code] = ran["statuses"].get(response.status_code, 0) + 1
            assert response.status_code < 500, (form, authorization, response.text)

        check()
    with capsys.disabled():
        print(f"\n[fuzz] POST /oauth/token: {ran['cases']} cases, statuses {ran['statuses']}")
    assert ran["cases"] >= MAX_EXAMPLES // 2


@pytest.mark.parametrize("token", ["a.b.c", "a.b", "....", "eyJ" + "A" * 200, str(uuid.uuid4())])
def test_odd_bearer_tokens_are_401_not_500(server, token):
    response = httpx.get(
        server.url + "/xapi/statements",
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (400, 401)
