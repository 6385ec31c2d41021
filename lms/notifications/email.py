"""Email messages through SMTP (stdlib `smtplib`, in a thread: it blocks)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from lms.notifications.config import NotificationSettings


def compose(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


def _send(settings: NotificationSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_email(settings: NotificationSettings, message: EmailMessage) -> None:
    if not settings.smtp_host:
        raise RuntimeError("no SMTP server configured (HYPEREDU_NOTIFICATIONS_SMTP_HOST)")
    await asyncio.to_thread(_send, settings, message)
