"""Identity and access management: people and roles, OAuth 2.0 tokens, the admin API.

`route_handlers` go into the app's router; `iam_layer` wraps the app (see `lrs/app.py`).
"""

from litestar.types import ControllerRouterHandler

from lms.iam.admin import api_router
from lms.iam.layer import iam_layer
from lms.iam.oauth import route_handlers as oauth_handlers

route_handlers: list[ControllerRouterHandler] = [*oauth_handlers, api_router]

__all__ = ["iam_layer", "route_handlers"]
