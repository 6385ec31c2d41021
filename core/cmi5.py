"""The cmi5 vocabulary the LMS modules share: moveOn values and the cmi5 IRIs.

cmi5 is an xAPI profile; the course module launches AUs with it and the progress module
judges their statements by it, so both name the same values from here, not from each other.
"""

from __future__ import annotations

import enum


class MoveOn(enum.StrEnum):
    """When the LMS counts an AU as met (cmi5 13.1.4, the AU's `moveOn`)."""

    PASSED = "Passed"
    COMPLETED = "Completed"
    COMPLETED_AND_PASSED = "CompletedAndPassed"
    COMPLETED_OR_PASSED = "CompletedOrPassed"
    NOT_APPLICABLE = "NotApplicable"


# cmi5 9.6.2.1: a "cmi5 defined" statement names this category; the cmi5 9 rules bind those.
CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
EXTENSIONS = "https://w3id.org/xapi/cmi5/context/extensions/"
SESSION_ID = EXTENSIONS + "sessionid"
# The State document the LMS writes at launch; the AU reads it and MUST NOT change it (10.0).
LAUNCH_DATA = "LMS.LaunchData"
