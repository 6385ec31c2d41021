"""The request and response bodies of the assessments API: questions of each type (a union
tagged by `type`), tests, attempts. What types cannot say lives in each `problem()`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(min_length=1, max_length=10_000)]
# Interaction component ids go into xAPI response patterns, whose delimiters they must avoid.
ComponentId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Tag = Annotated[str, Meta(min_length=1, max_length=64)]
Difficulty = Annotated[int, Meta(ge=1, le=5)]


class _In(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    pass


class _Out(msgspec.Struct, frozen=True, rename="camel"):
    pass


class Choice(_In, frozen=True):
    id: ComponentId
    text: Text


# Questions: the fields every type has, then one struct per type.


class _Question(_In, frozen=True, kw_only=True, tag_field="type"):
    prompt: Text
    tags: list[Tag] = msgspec.field(default_factory=list)
    difficulty: Difficulty = 1
    points: Annotated[float, Meta(gt=0, le=1000)] = 1.0
    explanation: Annotated[str, Meta(max_length=10_000)] = ""  # shown in a full review

    def problem(self) -> str | None:
        return None


def _duplicates(ids: list[str]) -> bool:
    return len(ids) != len(set(ids))


class SingleChoice(_Question, frozen=True, kw_only=True, tag="single_choice"):
    choices: Annotated[list[Choice], Meta(min_length=2, max_length=50)]
    correct: ComponentId

    def problem(self) -> str | None:
        ids = [c.id for c in self.choices]
        if _duplicates(ids):
            return "choice ids must be distinct"
        if self.correct not in ids:
            return "correct must be the id of one of the choices"
        return None


class MultipleChoice(_Question, frozen=True, kw_only=True, tag="multiple_choice"):
    """Partial credit: (right choices picked - wrong ones picked) / right choices, at least 0."""

    choices: Annotated[list[Choice], Meta(min_length=2, max_length=50)]
    correct: Annotated[list[ComponentId], Meta(min_length=1)]

    def problem(self) -> str | None:
        ids = [c.id for c in self.choices]
        if _duplicates(ids) or _duplicates(self.correct):
            return "choice ids must be distinct, and so must the correct ones"
        if not set(self.correct) <= set(ids):
            return "every correct id must be the id of one of the choices"
        return None


class TrueFalse(_Question, frozen=True, kw_only=True, tag="true_false"):
    correct: bool


class Numeric(_Question, frozen=True, kw_only=True, tag="numeric"):
    """Right when within `tolerance` of `correct`."""

    correct: float
    tolerance: Annotated[float, Meta(ge=0)] = 0.0


class ShortText(_Question, frozen=True, kw_only=True, tag="short_text"):
    """Right when equal to an accepted answer once both are normalised (Unicode NFKC, spaces
    collapsed, surrounding punctuation dropped, case folded unless `caseSensitive`)."""

    accepted: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=500)]], Meta(min_length=1)
    ]
    case_sensitive: bool = False


class Matching(_Question, frozen=True, kw_only=True, tag="matching"):
    """`pairs` maps each source id to its target id; partial credit per right pair."""

    source: Annotated[list[Choice], Meta(min_length=1, max_length=50)]
    target: Annotated[list[Choice], Meta(min_length=1, max_length=50)]
    pairs: dict[ComponentId, ComponentId]

    def problem(self) -> str | None:
        sources = [c.id for c in self.source]
        targets = [c.id for c in self.target]
        if _duplicates(sources) or _duplicates(targets):
            return "source ids must be distinct, and so must target ids"
        if set(self.pairs) != set(sources):
            return "pairs must give a target for every source, and only for them"
        if not set(self.pairs.values()) <= set(targets):
            return "every paired target must be one of the targets"
        return None


class Ordering(_Question, frozen=True, kw_only=True, tag="ordering"):
    """`steps` in their right order (they are shown shuffled); right only all in order."""

    steps: Annotated[list[Choice], Meta(min_length=2, max_length=50)]

    def problem(self) -> str | None:
        return "step ids must be distinct" if _duplicates([s.id for s in self.steps]) else None


class OpenEnded(_Question, frozen=True, kw_only=True, tag="open_ended"):
    """Graded by a person (the test's owner or an admin) after submission."""

    rubric: Annotated[str, Meta(max_length=10_000)] = ""


QuestionIn = (
    SingleChoice
    | MultipleChoice
    | TrueFalse
    | Numeric
    | ShortText
    | Matching
    | Ordering
    | OpenEnded
)
AUTO_GRADED = (SingleChoice, MultipleChoice, TrueFalse, Numeric, ShortText, Matching, Ordering)


class Question(_Out, frozen=True):
    id: uuid.UUID
    bank_id: uuid.UUID
    question: QuestionIn  # as given, answer key included (authors only)
    activity_id: str


class BankIn(_In, frozen=True):
    title: Title
    description: Annotated[str, Meta(max_length=10_000)] = ""


class BankPatch(_In, frozen=True):
    title: Title | None = None
    description: Annotated[str, Meta(max_length=10_000)] | None = None


class Bank(_Out, frozen=True):
    id: uuid.UUID
    owner: str
    title: str
    description: str
    created: datetime
    question_count: int


# Tests


class FeedbackPolicy(enum.StrEnum):
    NONE = "none"  # after submission: that it is submitted, nothing more
    SCORE = "score"  # the score and whether it passed
    ANSWERS = "answers"  # ... and per question: the response, right or not, points
    FULL = "full"  # ... and the right answers and explanations


class Draw(_In, frozen=True):
    """`count` questions drawn at random from a bank, among those with every one of `tags`
    and (if given) one of `difficulties`."""

    bank_id: uuid.UUID
    count: Annotated[int, Meta(ge=1, le=200)]
    tags: list[Tag] = msgspec.field(default_factory=list)
    difficulties: list[Difficulty] = msgspec.field(default_factory=list)


class TestSettings(_In, frozen=True):
    __test__ = False
    time_limit_seconds: Annotated[int, Meta(ge=1)] | None = None
    attempts_allowed: Annotated[int, Meta(ge=1)] | None = None  # None: unlimited
    passing_score: Annotated[float, Meta(ge=0, le=1)] = 0.5  # scaled
    feedback: FeedbackPolicy = FeedbackPolicy.ANSWERS
    shuffle_questions: bool = False
    shuffle_options: bool = True


class TestIn(_In, frozen=True):
    __test__ = False
    title: Title
    course_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    published: bool = False
    questions: list[uuid.UUID] = msgspec.field(default_factory=list)  # always asked, in order
    draws: list[Draw] = msgspec.field(default_factory=list)
    settings: TestSettings = msgspec.field(default_factory=TestSettings)

    def problem(self) -> str | None:
        if not self.questions and not self.draws:
            return "a test needs questions or draws"
        if len(self.questions) != len(set(self.questions)):
            return "a fixed question is listed twice"
        return None


class Test(_Out, frozen=True):
    __test__ = False
    id: uuid.UUID
    owner: str
    title: str
    course_id: str | None
    published: bool
    settings: TestSettings
    activity_id: str
    questions: list[uuid.UUID] | None = None  # authors only
    draws: list[Draw] | None = None


# Attempts


class AttemptStart(_In, frozen=True):
    """An attempt runs under the registration of the learner's enrolment in the test's
    course, which its statements carry; `registration`, if given, must be that one."""

    registration: uuid.UUID | None = None


class Grade(_In, frozen=True):
    points: Annotated[float, Meta(ge=0)]
    comment: Annotated[str, Meta(max_length=10_000)] = ""


class AnswerIn(_In, frozen=True):
    """single_choice: a choice id; multiple_choice: choice ids; true_false: a boolean;
    numeric: a number; short_text, open_ended: text; matching: {source id: target id};
    ordering: step ids in order."""

    response: Any


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    GRADING = "grading"  # submitted; an open-ended answer waits for a person
    GRADED = "graded"


class Attempt(_Out, frozen=True):
    id: uuid.UUID
    test_id: uuid.UUID
    learner: str
    number: int
    seed: int
    status: AttemptStatus
    started: datetime
    deadline: datetime | None
    submitted: datetime | None
    auto_submitted: bool
    registration: uuid.UUID | None
    questions: list[dict[str, Any]]  # as delivered, without answers; review per policy
    score: dict[str, float] | None = None  # raw, min, max, scaled (per policy)
    passed: bool | None = None


class PendingAnswer(_Out, frozen=True):
    attempt_id: uuid.UUID
    question_id: uuid.UUID
    learner: str
    prompt: str
    rubric: str
    points_max: float
    response: Any
    answered: datetime
