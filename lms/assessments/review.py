"""What an attempt shows: its questions as delivered (never their answers while it runs),
and after submission what the test's feedback policy lets the learner see. The test's
owner and admins see everything."""

from __future__ import annotations

from typing import Any

import msgspec

from lms.assessments.models import (
    FeedbackPolicy,
    Matching,
    MultipleChoice,
    Numeric,
    OpenEnded,
    Ordering,
    QuestionIn,
    ShortText,
    SingleChoice,
    TrueFalse,
)


def delivered(entry: dict[str, Any]) -> QuestionIn:
    question: QuestionIn = msgspec.convert(entry["question"], QuestionIn)
    return question


def question_view(entry: dict[str, Any], answer: Any | None) -> dict[str, Any]:
    """A delivered question without its answer key, options in the delivered order."""
    question = delivered(entry)
    order = entry["order"]
    view: dict[str, Any] = {
        "id": entry["id"],
        "type": type(question).__struct_config__.tag,
        "prompt": question.prompt,
        "points": question.points,
    }
    if isinstance(question, SingleChoice | MultipleChoice):
        view["choices"] = _arranged(question.choices, order["choices"])
    elif isinstance(question, Matching):
        view["source"] = _arranged(question.source, order["source"])
        view["target"] = _arranged(question.target, order["target"])
    elif isinstance(question, Ordering):
        view["steps"] = _arranged(question.steps, order["steps"])
    view["response"] = msgspec.json.decode(answer["response"]) if answer is not None else None
    return view


def review_view(
    entry: dict[str, Any], answer: Any | None, policy: FeedbackPolicy
) -> dict[str, Any]:
    """The question after submission, with what `policy` shows of its grading."""
    view = question_view(entry, answer)
    if policy in (FeedbackPolicy.ANSWERS, FeedbackPolicy.FULL):
        question = delivered(entry)
        points = 0.0 if answer is None else answer["points"]
        view["awarded"] = points
        view["correct"] = None if points is None else points >= question.points
        if answer is not None and answer["comment"]:
            view["comment"] = answer["comment"]
    if policy is FeedbackPolicy.FULL:
        question = delivered(entry)
        view["correctResponse"] = correct_response(question)
        if question.explanation:
            view["explanation"] = question.explanation
    return view


def correct_response(question: QuestionIn) -> Any:
    if isinstance(question, SingleChoice | MultipleChoice | TrueFalse):
        return question.correct
    if isinstance(question, Numeric):
        return {"value": question.correct, "tolerance": question.tolerance}
    if isinstance(question, ShortText):
        return question.accepted
    if isinstance(question, Matching):
        return question.pairs
    if isinstance(question, Ordering):
        return [s.id for s in question.steps]
    if isinstance(question, OpenEnded):
        return None
    raise TypeError(type(question).__name__)


def _arranged(components: list[Any], ids: list[str]) -> list[dict[str, str]]:
    by_id = {c.id: c for c in components}
    return [{"id": i, "text": by_id[i].text} for i in ids if i in by_id]
