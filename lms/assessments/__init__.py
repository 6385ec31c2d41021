"""Assessments: question banks (eight question types), tests assembled from fixed
questions and seeded random draws, the attempt engine (time limits, scoring, feedback,
manual grading), and the xAPI statements and `TestPassed`/`TestFailed` events it records.

`route_handlers` go into the app's router.
"""

from lms.assessments.routes import api_router

route_handlers = [api_router]

__all__ = ["route_handlers"]
