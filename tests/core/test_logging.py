"""JSON log lines: one object a line, the request's id on it, no credential in it."""

from __future__ import annotations

import json
import logging
import sys

from core.logging import REDACTED, JsonFormatter, logging_config, request_id


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"name": "hyperedu.test", "levelno": logging.INFO, "levelname": "INFO", "msg": message}
    )
    made.args = args or None
    made.__dict__.update(extra)
    return made


def test_a_record_is_one_json_object_with_level_logger_and_message() -> None:
    line = JsonFormatter().format(record("stored %d statements", 3))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "info"
    assert entry["logger"] == "hyperedu.test"
    assert entry["message"] == "stored 3 statements"
    assert entry["ts"].endswith("+00:00")


def test_the_current_request_id_is_on_every_line_logged_while_serving_it() -> None:
    token = request_id.set("req-42")
    try:
        entry = json.loads(JsonFormatter().format(record("hello")))
    finally:
        request_id.reset(token)
    assert entry["request_id"] == "req-42"
    assert "request_id" not in json.loads(JsonFormatter().format(record("hello")))


def test_extra_fields_are_kept_and_credential_fields_are_redacted() -> None:
    entry = json.loads(
        JsonFormatter().format(
            record("x", route="/xapi/statements", authorization="Basic a2V5OnNlY3JldA==")
        )
    )
    assert entry["route"] == "/xapi/statements"
    assert entry["authorization"] == REDACTED


def test_basic_and_bearer_tokens_are_masked_in_messages_and_tracebacks() -> None:
    formatter = JsonFormatter()
    message = json.loads(formatter.format(record("got %s", "Basic a2V5OnNlY3JldA==")))
    assert "a2V5OnNlY3JldA" not in message["message"]
    try:
        raise ValueError("bad header Bearer eyJhbGciOi.payload.sig")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    entry = json.loads(formatter.format(failed))
    assert "eyJhbGciOi" not in entry["exception"]
    assert "Bearer " + REDACTED in entry["exception"]


def test_the_dict_config_is_accepted_by_the_logging_module() -> None:
    config = logging_config("warning")
    assert config["root"]["level"] == "WARNING"
    assert config["formatters"]["json"]["()"] == "core.logging.JsonFormatter"
