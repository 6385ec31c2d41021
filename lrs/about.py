"""The About resource: which xAPI versions this LRS speaks. No authentication."""

from __future__ import annotations

from litestar import Response, get

from lrs.versioning import SUPPORTED

_ABOUT = {"version": list(SUPPORTED), "extensions": {"https://hyperedu.dev/xapi/lrs": "HyperEdu"}}


@get("/xapi/about")
async def about() -> Response[dict[str, object]]:
    return Response(_ABOUT, media_type="application/json")
