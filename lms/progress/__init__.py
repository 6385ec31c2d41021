"""Learner progress and course completion: a consumer of the statement stream (group
`lms.progress`) keeping per-registration progress tables, the completion criteria of each
course, and the course-level statements and `CourseCompleted` events that follow.

`route_handlers` go into the app's router; `worker.start/stop` into its lifespan.
"""

from lms.progress.api import api_router

route_handlers = [api_router]

__all__ = ["route_handlers"]
