"""What the group committer measures. `lrs/metrics.py` serves these with the HTTP metrics;
they are defined here so that `ingest/` keeps depending on nothing above it.

Values go to prometheus-client's multiprocess files when PROMETHEUS_MULTIPROC_DIR is set
before the worker imports this module (`hyperedu serve` does), else stay in the process.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

STATEMENTS_ACCEPTED = Counter(
    "hyperedu_statements_accepted_total", "Statements committed and acknowledged to the client"
)
OVERLOADED = Counter(
    "hyperedu_overloaded_total",
    "Requests the group committer refused (queue full) or failed (store unavailable) with 503",
)
BATCH_STATEMENTS = Histogram(
    "hyperedu_batch_statements",
    "Statements per group-commit batch",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
COMMIT_SECONDS = Histogram(
    "hyperedu_commit_seconds",
    "Time to commit one batch: pool acquire, COPY and transaction commit",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
