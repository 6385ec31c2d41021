"""The Agent Profile Resource, /xapi/agents/profile (xAPI 1.0.3 Communication 2.6;
2.0 4.1.6.5): documents about an Agent, shared by every Activity."""

from __future__ import annotations

from core.auth import Action
from lrs.documents import DocumentResource, Kind, document_routes
from lrs.versioning import V1, V2

AGENT_PROFILE = DocumentResource(
    kind=Kind.AGENT_PROFILE,
    path="/xapi/agents/profile",
    id_param="profileId",
    context_params=("agent",),
    optional_params=(),
    read_action=Action.READ_PROFILE,
    write_action=Action.PROFILE,
    put_guarded_in=frozenset({V1, V2}),
    put_precondition_required_in=frozenset({V1}),
    deletes_collections=False,
)

route_handlers = document_routes(AGENT_PROFILE)
