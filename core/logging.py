"""Structured logs: one JSON object a line, carrying the ids of the request and trace served.

Credentials never reach a log line: values of credential-like fields are replaced, and
`Basic`/`Bearer` tokens are masked in messages, whatever code logged them.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.tracing import current_ids

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

REDACTED = "[redacted]"
_TOKEN = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"authorization|secret|password|token|cookie", re.IGNORECASE)
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    return _TOKEN.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "request_id"?, "trace_id"?, "span_id"?, ...extra,
    "exception"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        if ids := current_ids():
            entry["trace_id"], entry["span_id"] = ids
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = _field_value(name, value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def _field_value(name: str, value: object) -> object:
    if _SECRET_FIELD.search(name):
        return REDACTED
    return redact(value) if isinstance(value, str) else value


def logging_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` that writes JSON lines to stdout (the server's own
    logger, Granian's, and every library's through the root logger)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            "_granian": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            # The embedded PostgreSQL's wrapper logs every command it runs at INFO.
            "pgserver": {"level": "WARNING"},
        },
    }
