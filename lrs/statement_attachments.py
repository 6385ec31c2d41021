"""Signatures of posted statements, checked against the multipart parts that carry them."""

from __future__ import annotations

import msgspec

from core.errors import ValidationError
from core.xapi.models import Statement
from core.xapi.signature import verify_signed_statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def verify_signatures(statements: list[Statement], parts: dict[str, bytes]) -> None:
    """Every statement carrying a signature attachment has a valid JWS for its content."""
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.attachments or ()):
            if attachment.usage_type != SIGNATURE:
                continue
            part = parts.get(attachment.sha2.lower())
            if part is None:
                raise ValidationError(
                    "A signature attachment MUST be sent as a part of the request",
                    f"$[{i}].attachments[{j}]",
                )
            try:
                verify_signed_statement(msgspec.to_builtins(statement), part)
            except ValidationError as exc:
                raise exc.at(f"$[{i}]") from None
