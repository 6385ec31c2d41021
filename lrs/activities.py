"""The Activities Resource, /xapi/activities (xAPI 1.0.3 Communication 2.5; 2.0 4.1.6.4):
an Activity with the canonical definition the LRS holds for it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request, Response, get

from core.auth import Action, require
from core.errors import BadRequest
from lrs.parameters import iri_param, reject_unknown
from lrs.state import LrsState, authenticate

# Definition properties merged per language; every other property is replaced whole.
LANGUAGE_MAPS = frozenset({"name", "description"})

_encode = msgspec.json.Encoder().encode


@get("/xapi/activities")
async def get_activity(request: Request[Any, Any, Any]) -> Response[bytes]:
    credential = await authenticate(request)
    require(credential.scopes, Action.READ_ACTIVITIES_AGENTS)
    params = request.query_params
    reject_unknown(params, {"activityId"})
    activity_id = iri_param(params, "activityId")
    if activity_id is None:
        raise BadRequest("missing required parameter(s): activityId")
    async with LrsState.of(request).pool.acquire() as conn:
        # Equal definitions collapse to their latest use: the merge result is the same, and
        # an Activity that every Statement defines alike costs one row, not one per Statement.
        rows = await conn.fetch(
            "SELECT definition FROM activity_definitions WHERE activity = $1"
            " GROUP BY definition ORDER BY max(seq)",
            activity_id,
        )
    definition = canonical_definition(msgspec.json.decode(row["definition"]) for row in rows)
    # Unknown Activities are still Activities (1.0.3 2.5.s2.b1, 2.0 4.1.6.4): 200, not 404.
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return Response(_encode(activity), media_type="application/json")


def canonical_definition(definitions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Definitions in the order they were stored, merged: a later one wins per property, and
    per language within `name` and `description`."""
    merged: dict[str, Any] = {}
    for definition in definitions:
        for name, value in definition.items():
            if name in LANGUAGE_MAPS and name in merged:
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value
    return merged
