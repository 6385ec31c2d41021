"""The Activity Profile Resource, /xapi/activities/profile (xAPI 1.0.3 Communication 2.7;
2.0 4.1.6.6): documents about an Activity, shared by every Agent."""

from __future__ import annotations

from core.auth import Action
from lrs.documents import DocumentResource, Kind, document_routes
from lrs.versioning import V1, V2

ACTIVITY_PROFILE = DocumentResource(
    kind=Kind.ACTIVITY_PROFILE,
    path="/xapi/activities/profile",
    id_param="profileId",
    context_params=("activityId",),
    optional_params=(),
    read_action=Action.READ_PROFILE,
    write_action=Action.PROFILE,
    put_guarded_in=frozenset({V1, V2}),
    put_precondition_required_in=frozenset({V1}),
    deletes_collections=False,
)

route_handlers = document_routes(ACTIVITY_PROFILE)
