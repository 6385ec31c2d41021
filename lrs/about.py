"""The About resource: which xAPI versions this LRS speaks. No authentication."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from lrs.parameters import reject_unknown
from lrs.versioning import V1, V2, response_version

# Every 1.0.x request is answered as 1.0.3, so each 1.0 patch version is one we speak.
_V1_VERSIONS = ["1.0.0", "1.0.1", "1.0.2", V1]
_EXTENSIONS = {"https://hyperedu.dev/xapi/lrs": "HyperEdu"}


@get("/xapi/about")
async def about(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    """A client speaking 1.0.x is told the 1.0.x versions only, since the 1.0.3 conformance
    requirements (XAPI-00316) allow nothing but 0.9, 0.95 and 1.0.x there; a 2.0 client, or one
    not saying, is told 2.0.0 as well. It takes no parameters: Communication 3.2.s3.b7 makes any
    the LRS does not recognise a 400."""
    reject_unknown(request.query_params, ())
    speaks = response_version(request.headers.get("x-experience-api-version"))
    versions = _V1_VERSIONS if speaks == V1 else [*_V1_VERSIONS, V2]
    return Response({"version": versions, "extensions": _EXTENSIONS}, media_type="application/json")
