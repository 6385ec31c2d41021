"""The Agents Resource, /xapi/agents (xAPI 1.0.3 Communication 2.4; 2.0 4.1.6.3): the
Person Object of an Agent.

HyperEdu does not link identifiers of one person to each other, so the Person holds the
requested Agent's identifier only; its names are the one given in the request and those the
Agent carried in its most recent Statements as actor or object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Request, Response, get
from msgspec import UNSET

from core.auth import Action, require
from core.errors import BadRequest
from core.xapi.models import Agent, Group, Statement
from ingest.rows import agent_key
from lrs.parameters import parse_actor_param, reject_unknown
from lrs.state import LrsState, authenticate

# How many of the Agent's most recent Statements are read for the names it went by.
NAME_STATEMENTS = 50

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")

_encode = msgspec.json.Encoder().encode
_decode_statement = msgspec.json.Decoder(Statement).decode


@get("/xapi/agents")
async def get_person(request: Request[Any, Any, Any]) -> Response[bytes]:
    credential = await authenticate(request)
    require(credential.scopes, Action.READ_ACTIVITIES_AGENTS)
    params = request.query_params
    reject_unknown(params, {"agent"})
    if "agent" not in params:
        raise BadRequest("missing required parameter(s): agent")
    agent = parse_agent(params["agent"])
    key = agent_key(agent)
    assert key is not None
    async with LrsState.of(request).pool.acquire() as conn:
        bodies = await conn.fetch(
            "SELECT s.body FROM statement_agents a JOIN statements s ON s.seq = a.seq"
            " WHERE a.agent = $1 AND a.direct ORDER BY a.seq DESC LIMIT $2",
            key,
            NAME_STATEMENTS,
        )
    seen = (name for row in bodies for name in names_of(_decode_statement(row["body"]), key))
    return Response(_encode(person(agent, seen)), media_type="application/json")


def parse_agent(text: str) -> Agent:
    """The agent parameter: "a normal Agent Object with a single identifier and no arrays. It
    is not a Person Object, nor is it a Group." (1.0.3 2.4)"""
    actor = parse_actor_param(text)
    if isinstance(actor, Group):
        raise BadRequest("agent must be an Agent, not a Group")
    return actor


def person(agent: Agent, seen_names: Iterator[str]) -> dict[str, Any]:
    fields = msgspec.to_builtins(agent)
    names = list(dict.fromkeys([*([agent.name] if agent.name is not UNSET else []), *seen_names]))
    found: dict[str, Any] = {"objectType": "Person"}
    if names:
        found["name"] = names
    for ifi in _IFIS:
        if ifi in fields:
            found[ifi] = [fields[ifi]]
    return found


def names_of(statement: Statement, key: str) -> Iterator[str]:
    """Names the Agent with identifier `key` has as the Statement's actor or object, or as a
    member of a Group there."""
    for actor in (statement.actor, statement.object):
        if not isinstance(actor, Agent | Group):
            continue
        members = (actor.member or ()) if isinstance(actor, Group) else ()
        for one in (actor, *members):
            if one.name is not UNSET and agent_key(one) == key:
                yield one.name
