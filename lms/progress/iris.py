"""The activity IRIs of the LMS contract, as progress reads them.

course `{base}/lms/courses/{course_id}`, item `{base}/lms/courses/{course_id}/items/{item_id}`,
test `{base}/lms/tests/{test_id}`; a learner is the account `{homePage: base, name: user id}`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LmsIris:
    base_url: str

    @property
    def _courses(self) -> str:
        return f"{self.base_url}/lms/courses/"

    def course(self, course_id: str) -> str:
        return self._courses + course_id

    def course_id_of(self, iri: str) -> str | None:
        """The course id if `iri` is a course activity (not one of its items)."""
        if not iri.startswith(self._courses):
            return None
        rest = iri[len(self._courses) :]
        return rest if rest and "/" not in rest else None

    def is_item_of(self, iri: str, course_id: str) -> bool:
        prefix = f"{self._courses}{course_id}/items/"
        return iri.startswith(prefix) and len(iri) > len(prefix)

    def is_test(self, iri: str) -> bool:
        prefix = f"{self.base_url}/lms/tests/"
        return iri.startswith(prefix) and len(iri) > len(prefix)
