"""The built-in reports: each a view defined in schema.py, read through here or as SQL
(`SELECT * FROM report_...`). Rows come back as dicts, for the LMS and for tests."""

from __future__ import annotations

from typing import Any

import msgspec

from lms.analytics.engine import Engine
from lms.analytics.sql import run_readonly_sql

REPORTS = {
    "completion-rates": "report_completion_rates",
    "score-distribution": "report_score_distribution",
    "most-used-activities": "report_most_used_activities",
    "daily-active-learners": "report_daily_active_learners",
    "weekly-active-learners": "report_weekly_active_learners",
    "time-on-task": "report_time_on_task",
}

ReportRow = dict[str, Any]


def report_sql(name: str) -> str:
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; one of {', '.join(REPORTS)}")
    return f"SELECT * FROM {REPORTS[name]}"


def run_report(engine: Engine, name: str, fmt: str) -> bytes:
    return run_readonly_sql(engine, report_sql(name), fmt)


def report_rows(engine: Engine, name: str) -> list[ReportRow]:
    rows: list[ReportRow] = msgspec.json.decode(run_report(engine, name, "json"))
    return rows


def completion_rates(engine: Engine) -> list[ReportRow]:
    """Per course: learners, completed, passed, completion_rate, pass_rate."""
    return report_rows(engine, "completion-rates")


def score_distribution(engine: Engine) -> list[ReportRow]:
    """Per activity and tenth of the scaled score: statements, learners."""
    return report_rows(engine, "score-distribution")


def most_used_activities(engine: Engine) -> list[ReportRow]:
    """Per activity, busiest first: name, type, statements, learners."""
    return report_rows(engine, "most-used-activities")


def active_learners(engine: Engine, period: str = "day") -> list[ReportRow]:
    """Per day (or week, from Monday): learners, statements."""
    return report_rows(engine, {"day": "daily", "week": "weekly"}[period] + "-active-learners")


def time_on_task(engine: Engine) -> list[ReportRow]:
    """Per activity: learners, statements, total_seconds, seconds_per_learner."""
    return report_rows(engine, "time-on-task")
