"""Notifications: domain events (lms.courses, lms.progress) turned into messages for people,
listed in the app, pushed over WebSocket, sent by email and signed webhooks in digests.

`route_handlers` go into the app's router; `worker.start/stop` into its lifespan.
"""

from litestar.types import ControllerRouterHandler

from lms.notifications.api import api_router
from lms.notifications.websocket import notifications_socket

route_handlers: list[ControllerRouterHandler] = [api_router, notifications_socket]

__all__ = ["route_handlers"]
