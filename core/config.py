"""One typed settings object, read once from the environment (`HYPEREDU_*`) and CLI flags.

Every field is documented by its name, its default and the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

ENV_PREFIX = "HYPEREDU_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # What `hyperedu serve` runs: all (the embedded default: API, relay if Kafka is set, LMS
    # consumers in-process), api (HTTP only), relay, or consumer:NAME (progress, notifications).
    role: str = "all"
    host: str = "127.0.0.1"
    port: int = 8080
    # Server worker processes; 0: one per CPU this process may run on, at most
    # AUTO_WORKERS_MAX (a second worker on 2 cores took batched ingest from 0.6 to 1.2 of the
    # COPY ceiling; more than four would crowd the embedded PostgreSQL's 100 connections).
    workers: int = 0
    # How long a worker may take to stop (answer what is in flight, commit what it accepted)
    # before it is killed, in seconds. Also ends a worker that somehow missed the stop (one
    # told to stop while it starts holds the signal until it serves: lrs/stop_signals.py).
    stop_timeout_s: int = 20
    # The Granian interface the workers speak: rsgi (Granian's native one; plain statement
    # writes are answered without the ASGI machinery, the rest crosses a bridge to the ASGI
    # app) or asgi (the ASGI app served as it is).
    interface: str = "rsgi"
    data_dir: str = "./var"
    # Unset: a private PostgreSQL is started through `pgserver` under data_dir/pg.
    database_url: str = ""
    # PostgreSQL reached directly (or through a session-mode pooler), for what needs a session
    # of its own: the migrations' lock, the notification hubs' LISTEN, the relay and LMS
    # consumers (locks and LISTEN) and the one-off commands (export, import, erase, users);
    # those processes use only this URL. Set it when database_url goes through a
    # transaction-mode pooler such as PgBouncer; unset: database_url.
    direct_database_url: str = ""
    # Server-side key for the keyed digest of credential secrets; unset: data_dir/secret.key.
    secret_key: str = ""
    # Largest request body accepted (bytes); larger gets 413.
    max_body_bytes: int = 16 * 1024 * 1024
    # Largest State/profile document stored, as PUT sends it or a POST merge leaves it (bytes);
    # larger gets 413. Documents are bookmarks and settings; 1 MiB is far above that.
    max_document_bytes: int = 1024 * 1024
    # Group commit: one COPY per batch of at most this many statements ...
    batch_max_statements: int = 5000
    # ... and, under concurrent load (the previous batch served several requests), gathered
    # for this long more before the commit (milliseconds): fewer, larger commits cost less
    # per statement (measured at batch 1: server CPU -30 %, PostgreSQL CPU -50 %). A lone
    # request commits at once. 0: the batch is whatever queued while the previous commit ran.
    batch_window_ms: float = 2.0
    # Statements accepted but not yet committed, per worker; past it requests get 503.
    queue_max_statements: int = 50000
    # Asyncpg pool size per worker (the writer uses one connection, queries the rest).
    db_pool_size: int = 8
    # Prepared statements asyncpg keeps per pooled connection; 0 when database_url goes
    # through a transaction-mode PgBouncer older than 1.21 (1.21+ keeps them with
    # max_prepared_statements set).
    db_statement_cache_size: int = 100
    # Largest `limit` honoured on GET /xapi/statements (also the default when limit=0).
    statements_page_max: int = 500
    # Base URL clients reach this LRS at; the homePage of credential authorities.
    # Unset: http://HOST:PORT.
    public_url: str = ""
    # Statement writer tasks per worker (each holds one connection while it commits).
    writers: int = 2
    # Allowed CORS origins (comma-separated); "*" allows all, as browsers' xAPI content expects.
    cors_origins: str = "*"
    # Kafka bootstrap servers (host:port,...) the relay publishes statements to (topic
    # xapi.statements); unset: the PostgreSQL statement log is the only bus, and no relay runs.
    kafka_bootstrap: str = ""
    # ClickHouse server for analytics (http://user:password@host:8123/database);
    # unset: embedded chdb under data_dir/clickhouse.
    clickhouse_url: str = ""
    # Serve Prometheus metrics at /metrics (unauthenticated: expose it only to the scraper).
    metrics_enabled: bool = True
    # One JSON log line per HTTP request (off by default: it costs more than the metrics).
    access_log: bool = False
    # Level of the JSON logs the server writes: debug, info, warning, error.
    log_level: str = "info"
    # Identity: lifetime of the access tokens (JWT) /oauth/token issues, in seconds ...
    access_token_seconds: int = 900
    # ... and of refresh tokens (people only; each refresh rotates the token).
    refresh_token_seconds: int = 14 * 24 * 3600
    # An external OpenID Connect issuer whose JWTs are accepted too (unset: none) ...
    oidc_issuer: str = ""
    # ... its JWKS, a file path or an https URL ...
    oidc_jwks: str = ""
    # ... the audience its tokens must name ...
    oidc_audience: str = ""
    # ... the claim that lists a person's roles, and how its values map to ours
    # ("their-role=our-role,..."; values equal to one of our roles map to themselves).
    oidc_role_claim: str = "roles"
    oidc_role_map: str = ""
    # cmi5 launches: how long the one-time fetch URL of a launch may be redeemed (seconds) ...
    cmi5_fetch_seconds: int = 600
    # ... and how long the LRS credential it hands the AU lasts (hours: the AU session).
    cmi5_session_hours: float = 8.0
    # Requests per second per credential or user, per worker; 0: no rate limit ...
    rate_limit_per_s: float = 0.0
    # ... with bursts of up to this many requests (0: one second's worth).
    rate_limit_burst: int = 0
    # OpenTelemetry: spans go over OTLP/HTTP to this collector (http://host:4318, or its full
    # /v1/traces URL); unset: no tracing ...
    otlp_endpoint: str = ""
    # ... under this service.name.
    otlp_service_name: str = "hyperedu"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def session_database_url(self) -> str:
        """Where session-level work goes: `direct_database_url`, else `database_url`."""
        return self.direct_database_url or self.database_url

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


def _coerce(name: str, kind: type, raw: str) -> object:
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not a number ({kind.__name__})"
        ) from None
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def load_settings(**overrides: object) -> Settings:
    """Settings from `HYPEREDU_<FIELD>` environment variables, then non-None `overrides`."""
    values: dict[str, object] = {}
    for name, kind in _field_types().items():
        raw = os.environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, kind, raw)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = msgspec.convert(values, Settings)
    except msgspec.ValidationError as exc:
        raise SettingsError(str(exc)) from None
    if settings.workers < 0:
        raise SettingsError(
            f"{ENV_PREFIX}WORKERS (--workers) must be 0 (one per CPU) or more,"
            f" not {settings.workers}"
        )
    if settings.stop_timeout_s < 1:
        raise SettingsError(
            f"{ENV_PREFIX}STOP_TIMEOUT_S must be at least 1 second, not {settings.stop_timeout_s}"
        )
    if settings.workers == 0:
        settings = msgspec.structs.replace(settings, workers=auto_workers())
    return settings


AUTO_WORKERS_MAX = 4


def auto_workers() -> int:
    """One worker per CPU this process may run on (its affinity, where the OS has one),
    at most AUTO_WORKERS_MAX."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, AUTO_WORKERS_MAX))


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that reproduces `settings` in a child process (a server worker)."""
    return {ENV_PREFIX + name.upper(): str(getattr(settings, name)) for name in _field_types()}


def _field_types() -> dict[str, type]:
    return {
        f.name: f.type if isinstance(f.type, type) else str
        for f in msgspec.structs.fields(Settings)
    }
