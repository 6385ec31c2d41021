"""Questions as xAPI cmi.interaction activities: the definition (interactionType, the
component lists the type takes, correctResponsesPattern) and a response in the pattern
syntax (xAPI 1.0.3 section 4.1.4.1, interaction activities)."""

from __future__ import annotations

from typing import Any

from lms.assessments.models import (
    Choice,
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

CMI_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
LANG = "en-US"


def _components(choices: list[Choice]) -> list[dict[str, Any]]:
    return [{"id": c.id, "description": {LANG: c.text}} for c in choices]


def _number(value: float) -> str:
    # 12 significant digits: 3.14 - 0.01 is written 3.13, not 3.1300000000000003.
    return format(value, ".12g")


def definition(question: QuestionIn, name: str) -> dict[str, Any]:
    """The activity definition of the question (choices in their authored order)."""
    out: dict[str, Any] = {
        "name": {LANG: name},
        "description": {LANG: question.prompt},
        "type": CMI_INTERACTION,
    }
    if isinstance(question, SingleChoice):
        out |= {
            "interactionType": "choice",
            "choices": _components(question.choices),
            "correctResponsesPattern": [question.correct],
        }
    elif isinstance(question, MultipleChoice):
        right = [c.id for c in question.choices if c.id in set(question.correct)]
        out |= {
            "interactionType": "choice",
            "choices": _components(question.choices),
            "correctResponsesPattern": ["[,]".join(right)],
        }
    elif isinstance(question, TrueFalse):
        out |= {
            "interactionType": "true-false",
            "correctResponsesPattern": ["true" if question.correct else "false"],
        }
    elif isinstance(question, Numeric):
        if question.tolerance:
            low = _number(question.correct - question.tolerance)
            high = _number(question.correct + question.tolerance)
            pattern = f"{low}[:]{high}"
        else:
            pattern = _number(question.correct)
        out |= {"interactionType": "numeric", "correctResponsesPattern": [pattern]}
    elif isinstance(question, ShortText):
        case = "true" if question.case_sensitive else "false"
        out |= {
            "interactionType": "fill-in",
            "correctResponsesPattern": [f"{{case_matters={case}}}{a}" for a in question.accepted],
        }
    elif isinstance(question, Matching):
        out |= {
            "interactionType": "matching",
            "source": _components(question.source),
            "target": _components(question.target),
            "correctResponsesPattern": [
                "[,]".join(f"{s}[.]{t}" for s, t in question.pairs.items())
            ],
        }
    elif isinstance(question, Ordering):
        out |= {
            "interactionType": "sequencing",
            "choices": _components(question.steps),
            "correctResponsesPattern": ["[,]".join(s.id for s in question.steps)],
        }
    elif isinstance(question, OpenEnded):
        out |= {"interactionType": "long-fill-in"}
    return out


def response_text(question: QuestionIn, response: Any) -> str:
    """`response` (of the question's shape) as xAPI `result.response`."""
    if isinstance(question, MultipleChoice | Ordering):
        return "[,]".join(response)
    if isinstance(question, TrueFalse):
        return "true" if response else "false"
    if isinstance(question, Numeric):
        return _number(response)
    if isinstance(question, Matching):
        return "[,]".join(f"{s}[.]{t}" for s, t in response.items())
    return str(response)
