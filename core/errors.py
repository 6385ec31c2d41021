"""The errors HyperEdu raises, each mapped once to an HTTP status (see `lrs/app.py`)."""

from __future__ import annotations


class HyperEduError(Exception):
    """Base of every error that reaches a client. `status` is its HTTP status."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_body(self) -> dict[str, object]:
        return {"error": type(self).__name__, "message": self.message}

    def headers(self) -> dict[str, str]:
        """Response headers the error's status calls for (lower-case names)."""
        return {}


class BadRequest(HyperEduError):
    """The request itself is malformed: a parameter, a header, the body's framing."""

    status = 400


class ValidationError(BadRequest):
    """A statement or document breaks a rule of the xAPI specification.

    `rule` names the requirement that failed, `path` is the JSON path of the offending value.
    """

    def __init__(self, rule: str, path: str = "$", detail: str = "") -> None:
        message = f"{rule} (at {path})" + (f": {detail}" if detail else "")
        super().__init__(message)
        self.rule = rule
        self.path = path
        self.detail = detail

    def to_body(self) -> dict[str, object]:
        return {
            "error": "ValidationError",
            "rule": self.rule,
            "path": self.path,
            "message": self.message,
        }

    def at(self, prefix: str) -> ValidationError:
        """The same error, its path placed under `prefix` (e.g. `$[3]`)."""
        return ValidationError(self.rule, prefix + self.path[1:], self.detail)


class Unauthorized(HyperEduError):
    """RFC 9110 11.6.1: a 401 carries a WWW-Authenticate challenge; `challenge` is the scheme
    the refused request should have used (HTTP Basic for the xAPI)."""

    status = 401

    def __init__(
        self, message: str, challenge: str = 'Basic realm="xAPI", charset="UTF-8"'
    ) -> None:
        super().__init__(message)
        self.challenge = challenge

    def headers(self) -> dict[str, str]:
        return {"www-authenticate": self.challenge}


class Forbidden(HyperEduError):
    status = 403


class NotFound(HyperEduError):
    status = 404


class MethodNotAllowed(HyperEduError):
    status = 405


class Conflict(HyperEduError):
    status = 409


class PreconditionFailed(HyperEduError):
    status = 412


class PayloadTooLarge(HyperEduError):
    status = 413


class UnsupportedMediaType(HyperEduError):
    status = 415


class Overloaded(HyperEduError):
    """The ingest queue is full: the client should retry after `retry_after` seconds."""

    status = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)}
