"""Assembling an attempt's questions: the fixed ones, then random draws from banks, with
question and option order shuffled. Everything random comes from one generator seeded per
attempt, so the same seed and the same banks give the same attempt again.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from lms.assessments.models import (
    Draw,
    Matching,
    MultipleChoice,
    Ordering,
    QuestionIn,
    SingleChoice,
    TestSettings,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    bank_id: uuid.UUID
    question: QuestionIn


def attempt_seed(test_id: uuid.UUID, learner: str, number: int) -> int:
    """The seed of a learner's n-th attempt at a test (a positive 63-bit integer)."""
    digest = hashlib.sha256(f"{test_id} {learner} {number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def matches(draw: Draw, candidate: Candidate) -> bool:
    question = candidate.question
    return (
        candidate.bank_id == draw.bank_id
        and set(draw.tags) <= set(question.tags)
        and (not draw.difficulties or question.difficulty in draw.difficulties)
    )


def choose_questions(
    fixed: list[Candidate], draws: list[Draw], pool: list[Candidate], rng: random.Random
) -> list[Candidate]:
    """The fixed questions, then each draw's from what earlier ones left (a draw takes what
    there is when its bank has fewer matching questions than it asks for)."""
    chosen = list(fixed)
    taken = {c.id for c in chosen}
    ordered_pool = sorted(pool, key=lambda c: c.id)  # the database's order must not matter
    for draw in draws:
        eligible = [c for c in ordered_pool if c.id not in taken and matches(draw, c)]
        picked = rng.sample(eligible, min(draw.count, len(eligible)))
        chosen.extend(picked)
        taken.update(c.id for c in picked)
    return chosen


def option_order(question: QuestionIn, rng: random.Random, shuffle: bool) -> dict[str, list[str]]:
    """The order the options are shown in. Ordering steps are always shuffled (their
    authored order is the answer)."""

    def arranged(ids: list[str], always: bool = False) -> list[str]:
        ids = list(ids)
        if shuffle or always:
            rng.shuffle(ids)
        return ids

    if isinstance(question, SingleChoice | MultipleChoice):
        return {"choices": arranged([c.id for c in question.choices])}
    if isinstance(question, Matching):
        return {
            "source": [c.id for c in question.source],
            "target": arranged([c.id for c in question.target]),
        }
    if isinstance(question, Ordering):
        return {"steps": arranged([s.id for s in question.steps], always=True)}
    return {}


def assemble(
    fixed: list[Candidate],
    draws: list[Draw],
    pool: list[Candidate],
    settings: TestSettings,
    seed: int,
) -> list[dict[str, Any]]:
    """The attempt's questions as delivered: id, bank, the question, the option order."""
    rng = random.Random(seed)
    chosen = choose_questions(fixed, draws, pool, rng)
    if settings.shuffle_questions:
        rng.shuffle(chosen)
    return [
        {
            "id": str(c.id),
            "bankId": str(c.bank_id),
            "question": msgspec.to_builtins(c.question),
            "order": option_order(c.question, rng, settings.shuffle_options),
        }
        for c in chosen
    ]
