"""The ASGI scope type the LRS layers compare against, looked up once.

Litestar types `scope["type"]` as `ScopeType` members, so a layer compares with the member for
the type checker to narrow the scope to an HTTP one; an Enum member's attribute lookup costs
more than the comparison itself, so every layer uses this module-level name.
"""

from __future__ import annotations

from typing import Final

from litestar.enums import ScopeType

HTTP: Final = ScopeType.HTTP
