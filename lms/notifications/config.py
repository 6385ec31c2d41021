"""Settings of notification delivery, read once from `HYPEREDU_NOTIFICATIONS_<FIELD>`."""

from __future__ import annotations

import os

import msgspec

ENV_PREFIX = "HYPEREDU_NOTIFICATIONS_"


class NotificationSettings(msgspec.Struct, frozen=True, kw_only=True):
    # SMTP server for email; unset host: no email is sent (messages wait as deliveries).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "hyperedu@localhost"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    # A failed email or webhook is tried again after backoff_s, then twice that, ... until
    # max_attempts have failed: then it is a dead letter.
    max_attempts: int = 6
    backoff_s: float = 2.0
    webhook_timeout_s: float = 10.0
    # How often the dispatcher looks for digests and deliveries that are due.
    dispatch_interval_s: float = 0.5


def load_notification_settings() -> NotificationSettings:
    values = {
        name: raw
        for name in NotificationSettings.__struct_fields__
        if (raw := os.environ.get(ENV_PREFIX + name.upper()))
    }
    return msgspec.convert(values, NotificationSettings, strict=False)
