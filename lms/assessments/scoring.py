"""Scoring a response to a question: pure functions, one rule per question type.

`credit` is the fraction of the question's points a response earns (0 to 1), or None for an
open-ended question, which a person grades. `checked_response` says what is wrong with a
response's shape before it is stored.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from typing import Any

from lms.assessments.models import (
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

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = string.punctuation + "\u00a1\u00bf\u201c\u201d\u2018\u2019\u00ab\u00bb\u2026"
MAX_TEXT = 20_000


class ResponseError(ValueError):
    """A response that is not of its question's shape."""


def normalise_text(text: str, *, case_sensitive: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", text).strip().strip(_EDGE_PUNCTUATION).strip()
    return text if case_sensitive else text.casefold()


def credit(question: QuestionIn, response: Any) -> float | None:
    """The fraction of the points `response` (of the right shape) earns."""
    if isinstance(question, SingleChoice):
        return float(response == question.correct)
    if isinstance(question, MultipleChoice):
        picked = set(response)
        right = set(question.correct)
        return max(0.0, (len(picked & right) - len(picked - right)) / len(right))
    if isinstance(question, TrueFalse):
        return float(response is question.correct)
    if isinstance(question, Numeric):
        # A little slack for binary floating point: 0.1 + 0.2 is within 0 of 0.3.
        return float(abs(response - question.correct) <= question.tolerance + 1e-9)
    if isinstance(question, ShortText):
        given = normalise_text(response, case_sensitive=question.case_sensitive)
        accepted = {
            normalise_text(a, case_sensitive=question.case_sensitive) for a in question.accepted
        }
        return float(given in accepted)
    if isinstance(question, Matching):
        matched: int = sum(
            response.get(source) == target for source, target in question.pairs.items()
        )
        return matched / len(question.pairs)
    if isinstance(question, Ordering):
        return float(response == [s.id for s in question.steps])
    if isinstance(question, OpenEnded):
        return None
    raise TypeError(f"no scoring rule for {type(question).__name__}")


def checked_response(question: QuestionIn, response: Any) -> Any:
    """`response` if it is of the question's shape (numbers as float); ResponseError if not."""
    if isinstance(question, SingleChoice):
        _require(isinstance(response, str), "a choice id")
        _require(response in {c.id for c in question.choices}, "one of the choices' ids")
        return response
    if isinstance(question, MultipleChoice):
        ids = {c.id for c in question.choices}
        _require(isinstance(response, list), "a list of choice ids")
        _require(all(isinstance(r, str) and r in ids for r in response), "choice ids only")
        _require(len(set(response)) == len(response), "each choice id once")
        return response
    if isinstance(question, TrueFalse):
        _require(isinstance(response, bool), "true or false")
        return response
    if isinstance(question, Numeric):
        _require(isinstance(response, int | float) and not isinstance(response, bool), "a number")
        _require(math.isfinite(response), "a finite number")
        return float(response)
    if isinstance(question, ShortText | OpenEnded):
        _require(isinstance(response, str) and len(response) <= MAX_TEXT, "text")
        return response
    if isinstance(question, Matching):
        sources = {c.id for c in question.source}
        targets = {c.id for c in question.target}
        _require(isinstance(response, dict), "an object of source id to target id")
        _require(
            all(k in sources and isinstance(v, str) and v in targets for k, v in response.items()),
            "source ids mapped to target ids",
        )
        return response
    if isinstance(question, Ordering):
        step_ids = [s.id for s in question.steps]
        _require(isinstance(response, list), "a list of step ids")
        _require(sorted(map(str, response)) == sorted(step_ids), "every step id once")
        return response
    raise TypeError(f"no response shape for {type(question).__name__}")


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise ResponseError(f"the response must be {what}")
