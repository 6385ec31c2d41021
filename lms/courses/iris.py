"""The activity IRIs of courses and their items, as the LMS contract fixes them:
course `{base}/lms/courses/{course_id}`, item `{base}/lms/courses/{course_id}/items/{item_id}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CourseIris:
    base_url: str

    def course(self, course_id: uuid.UUID | str) -> str:
        return f"{self.base_url}/lms/courses/{course_id}"

    def item(self, course_id: uuid.UUID | str, item_id: uuid.UUID | str) -> str:
        return f"{self.course(course_id)}/items/{item_id}"
