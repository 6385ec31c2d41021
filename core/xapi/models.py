"""The xAPI data model (1.0.3 and 2.0) as msgspec Structs.

What the type system can say lives here: required fields, types, unions told apart by
`objectType`, no unknown properties, no `null` where a value is expected (optional fields
default to UNSET, so an explicit `null` is rejected). The rules types cannot say (one IFI
exactly, score bounds, IRI and timestamp forms, ...) live in `core/xapi/validate.py`.

Objects whose `objectType` may be omitted (Agent as actor, Activity as object) get it filled in
by `core/xapi/decode.py` before conversion, so every union here is tagged.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType, field

LanguageMap = dict[str, str]
Number = int | float
Extensions = dict[str, Any]


class _Model(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    rename="camel",
    gc=False,
):
    """Every model's options. Subclasses repeat `frozen=True`: msgspec inherits it, but type
    checkers read it per class (a non-frozen subclass of a frozen one would be an error)."""


class Account(_Model, frozen=True):
    home_page: str
    name: str


class Agent(_Model, frozen=True, tag="Agent", tag_field="objectType"):
    name: str | UnsetType = UNSET
    mbox: str | UnsetType = UNSET
    mbox_sha1sum: str | UnsetType = field(default=UNSET, name="mbox_sha1sum")
    openid: str | UnsetType = UNSET
    account: Account | UnsetType = UNSET


class Group(_Model, frozen=True, tag="Group", tag_field="objectType"):
    name: str | UnsetType = UNSET
    mbox: str | UnsetType = UNSET
    mbox_sha1sum: str | UnsetType = field(default=UNSET, name="mbox_sha1sum")
    openid: str | UnsetType = UNSET
    account: Account | UnsetType = UNSET
    member: list[Agent] | UnsetType = UNSET


Actor = Agent | Group


class Verb(_Model, frozen=True):
    id: str
    display: LanguageMap | UnsetType = UNSET


class InteractionComponent(_Model, frozen=True):
    id: str
    description: LanguageMap | UnsetType = UNSET


class ActivityDefinition(_Model, frozen=True):
    name: LanguageMap | UnsetType = UNSET
    description: LanguageMap | UnsetType = UNSET
    type: str | UnsetType = UNSET
    more_info: str | UnsetType = UNSET
    extensions: Extensions | UnsetType = UNSET
    interaction_type: str | UnsetType = UNSET
    correct_responses_pattern: list[str] | UnsetType = UNSET
    choices: list[InteractionComponent] | UnsetType = UNSET
    scale: list[InteractionComponent] | UnsetType = UNSET
    source: list[InteractionComponent] | UnsetType = UNSET
    target: list[InteractionComponent] | UnsetType = UNSET
    steps: list[InteractionComponent] | UnsetType = UNSET


class Activity(_Model, frozen=True, tag="Activity", tag_field="objectType"):
    id: str
    definition: ActivityDefinition | UnsetType = UNSET


class StatementRef(_Model, frozen=True, tag="StatementRef", tag_field="objectType"):
    id: str


class Score(_Model, frozen=True):
    scaled: Number | UnsetType = UNSET
    raw: Number | UnsetType = UNSET
    min: Number | UnsetType = UNSET
    max: Number | UnsetType = UNSET


class Result(_Model, frozen=True):
    score: Score | UnsetType = UNSET
    success: bool | UnsetType = UNSET
    completion: bool | UnsetType = UNSET
    response: str | UnsetType = UNSET
    duration: str | UnsetType = UNSET
    extensions: Extensions | UnsetType = UNSET


ActivityList = list[Activity] | Activity


class ContextActivities(_Model, frozen=True):
    parent: ActivityList | UnsetType = UNSET
    grouping: ActivityList | UnsetType = UNSET
    category: ActivityList | UnsetType = UNSET
    other: ActivityList | UnsetType = UNSET


class ContextAgent(_Model, frozen=True, tag="contextAgent", tag_field="objectType"):
    """xAPI 2.0 only."""

    agent: Agent
    relevant_types: list[str] | UnsetType = UNSET


class ContextGroup(_Model, frozen=True, tag="contextGroup", tag_field="objectType"):
    """xAPI 2.0 only."""

    group: Group
    relevant_types: list[str] | UnsetType = UNSET


class Context(_Model, frozen=True):
    registration: str | UnsetType = UNSET
    instructor: Actor | UnsetType = UNSET
    team: Group | UnsetType = UNSET
    context_activities: ContextActivities | UnsetType = UNSET
    context_agents: list[ContextAgent] | UnsetType = UNSET
    context_groups: list[ContextGroup] | UnsetType = UNSET
    revision: str | UnsetType = UNSET
    platform: str | UnsetType = UNSET
    language: str | UnsetType = UNSET
    statement: StatementRef | UnsetType = UNSET
    extensions: Extensions | UnsetType = UNSET


class Attachment(_Model, frozen=True):
    usage_type: str
    display: LanguageMap
    content_type: str
    length: int
    sha2: str
    description: LanguageMap | UnsetType = UNSET
    file_url: str | UnsetType = UNSET


class SubStatement(_Model, frozen=True, tag="SubStatement", tag_field="objectType"):
    actor: Actor
    verb: Verb
    object: Activity | Agent | Group | StatementRef
    result: Result | UnsetType = UNSET
    context: Context | UnsetType = UNSET
    timestamp: str | UnsetType = UNSET
    attachments: list[Attachment] | UnsetType = UNSET


StatementObject = Activity | Agent | Group | SubStatement | StatementRef


class Statement(_Model, frozen=True):
    actor: Actor
    verb: Verb
    object: StatementObject
    id: str | UnsetType = UNSET
    result: Result | UnsetType = UNSET
    context: Context | UnsetType = UNSET
    timestamp: str | UnsetType = UNSET
    stored: str | UnsetType = UNSET
    authority: Actor | UnsetType = UNSET
    version: str | UnsetType = UNSET
    attachments: list[Attachment] | UnsetType = UNSET
