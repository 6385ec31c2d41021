"""Attachments and signatures of posted statements, checked against the multipart parts."""

from __future__ import annotations

import msgspec

from core.errors import ValidationError
from core.xapi.models import Statement
from core.xapi.signature import verify_signed_statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def check_attachments(statements: list[Statement], parts: dict[str, bytes]) -> None:
    """Every attachment without fileUrl has its part, and every part belongs to an attachment."""
    declared: set[str] = set()
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.attachments or ()):
            declared.add(attachment.sha2)
            if attachment.file_url is msgspec.UNSET and attachment.sha2 not in parts:
                raise ValidationError(
                    "An attachment without fileUrl MUST be sent as a part of a multipart/mixed"
                    " request whose X-Experience-API-Hash equals its sha2",
                    f"$[{i}].attachments[{j}].sha2",
                )
    for sha2 in parts:
        if sha2 not in declared:
            raise ValidationError(
                "Every part of a multipart/mixed request MUST match an attachment's sha2",
                "$",
                f"no attachment declares sha2 {sha2}",
            )


def verify_signatures(statements: list[Statement], parts: dict[str, bytes]) -> None:
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.attachments or ()):
            if attachment.usage_type != SIGNATURE:
                continue
            part = parts.get(attachment.sha2)
            if part is None:
                raise ValidationError(
                    "A signature attachment MUST be sent as a part of the request",
                    f"$[{i}].attachments[{j}]",
                )
            try:
                verify_signed_statement(msgspec.to_builtins(statement), part)
            except ValidationError as exc:
                raise exc.at(f"$[{i}]") from None
