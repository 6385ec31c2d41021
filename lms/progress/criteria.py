"""Completion criteria of a course, and the verdict on one registration's progress.

moveOn (cmi5 section 9.6.2.5), per item, decides when the item counts as met:

- `Passed`: a `passed` statement was recorded for it;
- `Completed`: a `completed` statement (the default of an item without one);
- `CompletedAndPassed`: both; `CompletedOrPassed`: either;
- `NotApplicable`: met from the start, whatever the learner does.

The course is *satisfied* (cmi5 `satisfied`) when every item that has a moveOn is met, and
*completed* when every condition given holds (omitted ones hold): every required item met,
every required test passed, and the overall score (the mean of the best scaled scores of the
required tests, or of every test taken when none is required) at least `minScore`. A course
with no criteria is never completed, and one with no moveOn never satisfied.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from core.cmi5 import MoveOn


class CompletionCriteria(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    required_items: list[str] = msgspec.field(default_factory=list)
    required_tests: list[str] = msgspec.field(default_factory=list)
    min_score: float | None = None
    move_on: dict[str, MoveOn] = msgspec.field(default_factory=dict)

    def validate(self) -> str | None:
        """What is wrong with these criteria, or None."""
        if self.min_score is not None and not 0 <= self.min_score <= 1:
            return "minScore is a scaled score, from 0 to 1"
        return None

    @property
    def empty(self) -> bool:
        return not (self.required_items or self.required_tests or self.min_score is not None)

    @property
    def scored(self) -> bool:
        """Whether completing also means passing (a score or a test applies)."""
        return self.min_score is not None or bool(self.required_tests)


@dataclass(frozen=True, slots=True)
class ActivityState:
    completed: bool
    passed: bool
    best_score: float | None
    test: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    satisfied: bool
    completed: bool
    score: float | None


def item_met(move_on: MoveOn, state: ActivityState | None) -> bool:
    if move_on is MoveOn.NOT_APPLICABLE:
        return True
    if state is None:
        return False
    if move_on is MoveOn.PASSED:
        return state.passed
    if move_on is MoveOn.COMPLETED:
        return state.completed
    if move_on is MoveOn.COMPLETED_AND_PASSED:
        return state.completed and state.passed
    return state.completed or state.passed


def judge(criteria: CompletionCriteria, activities: dict[str, ActivityState]) -> Verdict:
    def met(item: str) -> bool:
        return item_met(criteria.move_on.get(item, MoveOn.COMPLETED), activities.get(item))

    satisfied = bool(criteria.move_on) and all(met(item) for item in criteria.move_on)
    score = overall_score(criteria, activities)
    completed = (
        not criteria.empty
        and all(met(item) for item in criteria.required_items)
        and all(activities.get(t, _NOTHING).passed for t in criteria.required_tests)
        and (criteria.min_score is None or (score is not None and score >= criteria.min_score))
    )
    return Verdict(satisfied, completed, score)


def overall_score(
    criteria: CompletionCriteria, activities: dict[str, ActivityState]
) -> float | None:
    tests = criteria.required_tests or [
        a for a, s in activities.items() if s.test and s.best_score is not None
    ]
    scores = [state.best_score for t in tests if (state := activities.get(t)) is not None]
    known = [s for s in scores if s is not None]
    if not tests or len(known) < len(tests):
        return None
    return sum(known) / len(known)


_NOTHING = ActivityState(completed=False, passed=False, best_score=None)
