"""Realistic xAPI statements for load tests: varied actors, verbs, activities, results and
contexts, 600-900 bytes each, reproducible from a seed."""

from __future__ import annotations

import random
import uuid
from typing import Any

VERBS = [
    ("http://adlnet.gov/expapi/verbs/experienced", "experienced"),
    ("http://adlnet.gov/expapi/verbs/answered", "answered"),
    ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    ("http://adlnet.gov/expapi/verbs/attempted", "attempted"),
    ("https://w3id.org/xapi/video/verbs/played", "played"),
]
ACTIVITY_TYPES = [
    "http://adlnet.gov/expapi/activities/assessment",
    "http://adlnet.gov/expapi/activities/cmi.interaction",
    "http://adlnet.gov/expapi/activities/lesson",
    "https://w3id.org/xapi/video/activity-type/video",
]


def make_statement(
    rng: random.Random, learners: int = 5000, activities: int = 2000
) -> dict[str, Any]:
    learner = rng.randrange(learners)
    activity = rng.randrange(activities)
    course = activity // 50
    verb, display = rng.choice(VERBS)
    raw = rng.randint(0, 100)
    statement: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "name": f"Learner {learner}",
            "mbox": f"mailto:learner{learner}@school{learner % 17}.example.com",
        },
        "verb": {"id": verb, "display": {"en-US": display}},
        "object": {
            "objectType": "Activity",
            "id": f"https://lms.example.com/courses/{course}/activities/{activity}",
            "definition": {
                "name": {"en-US": f"Activity {activity} of course {course}"},
                "type": ACTIVITY_TYPES[activity % len(ACTIVITY_TYPES)],
            },
        },
        "context": {
            "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "platform": "HyperEdu bench",
            "language": "en-US",
            "contextActivities": {
                "parent": [
                    {"objectType": "Activity", "id": f"https://lms.example.com/courses/{course}"}
                ],
                "category": [
                    {
                        "objectType": "Activity",
                        "id": "https://w3id.org/xapi/cmi5/context/categories/moveon",
                    }
                ],
            },
        },
        "timestamp": f"2026-11-{rng.randint(1, 24):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.000Z",
    }
    if verb.endswith(("answered", "completed", "passed", "failed")):
        statement["result"] = {
            "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
            "success": raw >= 60,
            "completion": True,
            "duration": f"PT{rng.randint(1, 59)}M{rng.randint(0, 59)}S",
        }
    return statement


def make_batches(count: int, batch: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    return [[make_statement(rng) for _ in range(batch)] for _ in range(count)]
