"""The State Resource, /xapi/activities/state (xAPI 1.0.3 Communication 2.3; 2.0 4.1.6.2):
documents of one Agent in one Activity, optionally per registration.

1.0.3 3.1.s3 lets State PUTs go without concurrency headers; 2.0 4.1.4 drops that exemption,
so there a PUT over an existing State document without If-Match/If-None-Match is a 409."""

from __future__ import annotations

from core.auth import Action
from lrs.documents import DocumentResource, Kind, document_routes
from lrs.versioning import V2

STATE = DocumentResource(
    kind=Kind.STATE,
    path="/xapi/activities/state",
    id_param="stateId",
    context_params=("activityId", "agent"),
    optional_params=("registration",),
    read_action=Action.READ_STATE,
    write_action=Action.STATE,
    put_guarded_in=frozenset({V2}),
    put_precondition_required_in=frozenset(),
    deletes_collections=True,
)

route_handlers = document_routes(STATE)
