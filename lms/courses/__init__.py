"""Courses: courses with ordered modules and content items, their draft/published
lifecycle, enrolments, the statements of learners' launches and completions, and the
catalogue read model kept from the `lms.courses` events.

`route_handlers` go into the app's router; `worker.start/stop` into its lifespan.
"""

from lms.courses.cmi5_fetch import fetch_router
from lms.courses.routes import api_router

route_handlers = [api_router, fetch_router]

__all__ = ["route_handlers"]
