"""The realistic mixed workload, for locust: external tools posting batches, learners
(their own statements, their history, their state documents) and dashboards (verb and
activity queries, paging with `more`). See bench/README.md for how to run it.

Credentials come from HYPEREDU_BENCH_KEY and HYPEREDU_BENCH_SECRET (scopes: all); the host
from --host (http://127.0.0.1:8080). Learners and activities are those of bench/workload.py,
so on a store seeded with `hyperedu bench seed` the queries find what they ask for."""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import FastHttpUser, between, task

from bench.server import basic_auth
from bench.workload import VERBS, make_statement

LEARNERS = 5000
ACTIVITIES = 2000


def _headers() -> dict[str, str]:
    key = os.environ.get("HYPEREDU_BENCH_KEY", "")
    secret = os.environ.get("HYPEREDU_BENCH_SECRET", "")
    if not (key and secret):
        raise RuntimeError("set HYPEREDU_BENCH_KEY and HYPEREDU_BENCH_SECRET (scopes: all)")
    return {
        "Authorization": basic_auth(key, secret),
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }


def _activity_id(activity: int) -> str:
    return f"https://lms.example.com/courses/{activity // 50}/activities/{activity}"


class XapiUser(FastHttpUser):
    abstract = True

    def on_start(self) -> None:
        self.headers = _headers()
        self.rng = random.Random()

    def statements(self, params: dict[str, str], name: str) -> dict[str, Any]:
        with self.client.get(
            "/xapi/statements", params=params, headers=self.headers, name=name, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return {}
            return dict(response.json())


class ExternalTool(XapiUser):
    """An LMS, a simulation or a video platform forwarding its learners' statements."""

    weight = 1
    wait_time = between(0.5, 1.5)

    @task
    def post_batch(self) -> None:
        size = self.rng.choice((10, 50, 100))
        body = json.dumps([make_statement(self.rng) for _ in range(size)])
        self.client.post(
            "/xapi/statements", data=body, headers=self.headers, name=f"POST statements x{size}"
        )


class Learner(XapiUser):
    """Content in a browser: posts one statement at a time, keeps its place in a State
    document, and shows the learner their history."""

    weight = 8
    wait_time = between(1, 3)

    def on_start(self) -> None:
        super().on_start()
        n = self.rng.randrange(LEARNERS)
        self.actor = {
            "objectType": "Agent",
            "name": f"Learner {n}",
            "mbox": f"mailto:learner{n}@school{n % 17}.example.com",
        }
        self.agent = json.dumps({"mbox": self.actor["mbox"]})
        self.activity = _activity_id(self.rng.randrange(ACTIVITIES))
        self.state_params = {"activityId": self.activity, "agent": self.agent, "stateId": "resume"}
        self.put_state()

    @task(4)
    def post_statement(self) -> None:
        statement = make_statement(self.rng) | {"actor": self.actor}
        statement["object"]["id"] = self.activity
        self.client.post(
            "/xapi/statements",
            data=json.dumps(statement),
            headers=self.headers,
            name="POST statements x1",
        )

    @task(2)
    def my_history(self) -> None:
        self.statements({"agent": self.agent, "limit": "20"}, "GET statements?agent")

    @task(2)
    def put_state(self) -> None:
        document = {"location": self.rng.randrange(100), "suspend_data": "x" * 200}
        self.client.put(
            "/xapi/activities/state",
            params=self.state_params,
            data=json.dumps(document),
            headers=self.headers,
            name="PUT activities/state",
        )

    @task(3)
    def get_state(self) -> None:
        self.client.get(
            "/xapi/activities/state",
            params=self.state_params,
            headers=self.headers,
            name="GET activities/state",
        )


class Dashboard(XapiUser):
    """A teacher's or analyst's dashboard: wide queries, paged."""

    weight = 1
    wait_time = between(2, 5)

    @task(2)
    def verb_report(self) -> None:
        verb = self.rng.choice(VERBS)[0]
        page = self.statements({"verb": verb, "limit": "100"}, "GET statements?verb")
        for _ in range(3):
            if not page.get("more"):
                break
            page = self._more(page["more"])

    @task(1)
    def course_activity(self) -> None:
        course = f"https://lms.example.com/courses/{self.rng.randrange(ACTIVITIES // 50)}"
        self.statements(
            {"activity": course, "related_activities": "true", "limit": "100"},
            "GET statements?activity&related_activities",
        )

    @task(1)
    def one_activity(self) -> None:
        activity = _activity_id(self.rng.randrange(ACTIVITIES))
        self.statements({"activity": activity, "limit": "100"}, "GET statements?activity")

    def _more(self, more: str) -> dict[str, Any]:
        with self.client.get(
            more, headers=self.headers, name="GET statements?more", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return {}
            return dict(response.json())
