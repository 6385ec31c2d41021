"""`hyperedu`: serve the LRS, manage credentials, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from core.config import Settings, SettingsError, load_settings
from hyperedu.bootstrap import Runtime, database, export_to_workers
from lms.analytics.reports import REPORTS
from lms.analytics.sql import FORMATS

if TYPE_CHECKING:
    import asyncpg

    from core.bus import Bus
    from lms.analytics.engine import Engine
    from lrs.credentials import CredentialStore

T = TypeVar("T")

_SELF = [sys.executable, "-m", "hyperedu.cli"]
_CONSUMERS = ("progress", "notifications", "catalogue")  # `hyperedu consumer`, all by default


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="where the embedded PostgreSQL and keys live (HYPEREDU_DATA_DIR; ./var)"
    )


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        data_dir=args.data_dir,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
        role=getattr(args, "role", None),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperedu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the xAPI LRS server")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (HYPEREDU_HOST; 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (HYPEREDU_PORT; 8080)")
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes (HYPEREDU_WORKERS; 0, the default: one per CPU, at most 4)",
    )
    serve.add_argument(
        "--role",
        help="all (default: API, relay when Kafka is set, LMS consumers), api, relay,"
        " consumer:NAME (HYPEREDU_ROLE), so each process kind scales on its own",
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    _common(migrate)
    migrate.set_defaults(run=_migrate)

    relay = commands.add_parser(
        "relay", help="relay statements from PostgreSQL to Kafka (HYPEREDU_KAFKA_BOOTSTRAP)"
    )
    _common(relay)
    relay.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    relay.set_defaults(run=_relay)

    credentials = commands.add_parser("credentials", help="manage xAPI credentials")
    actions = credentials.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key/secret with xAPI scopes")
    _common(create)
    create.add_argument(
        "--scopes",
        default="all",
        help="comma-separated xAPI scopes: statements/write, statements/read,"
        " statements/read/mine, all/read, all, state, profile, define (default: all)",
    )
    create.add_argument("--label", default="", help="a name for whoever uses it")
    create.add_argument("--json", action="store_true", help='print {"key": ..., "secret": ...}')
    create.set_defaults(run=_credentials_create)
    listing = actions.add_parser("list", help="list credentials (never their secrets)")
    _common(listing)
    listing.add_argument("--json", action="store_true", help="print JSON lines")
    listing.set_defaults(run=_credentials_list)
    revoke = actions.add_parser("revoke", help="revoke a credential by key")
    _common(revoke)
    revoke.add_argument("key")
    revoke.set_defaults(run=_credentials_revoke)

    sql = commands.add_parser("sql", help="run a read-only SQL query on the analytics tables")
    _analytics_options(sql)
    sql.add_argument("query", help="one SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement")
    sql.set_defaults(run=_sql)
    report = commands.add_parser("report", help="print a built-in analytics report")
    _analytics_options(report)
    report.add_argument("name", choices=sorted(REPORTS))
    report.set_defaults(run=_report)
    analytics = commands.add_parser("analytics", help="the ClickHouse analytics store")
    analytics_actions = analytics.add_subparsers(dest="action", required=True, metavar="ACTION")
    sync = analytics_actions.add_parser("sync", help="load new statements into ClickHouse")
    _common(sync)
    sync.add_argument("--follow", action="store_true", help="keep loading until interrupted")
    sync.set_defaults(run=_analytics_sync)
    _add_iam_commands(commands)
    _add_operations_commands(commands)
    consumer = commands.add_parser(
        "consumer",
        help=f"run LMS consumers of the bus: {', '.join(_CONSUMERS)} (default: all)",
    )
    _common(consumer)
    consumer.add_argument("names", nargs="*", metavar="NAME", help=", ".join(_CONSUMERS))
    consumer.add_argument(
        "--rebuild",
        action="store_true",
        help="progress: forget its state and replay the statement log from offset zero",
    )
    consumer.set_defaults(run=_consumer)
    bench = commands.add_parser("bench", help="benchmarks: ingest, queries, memory, capacity")
    benches = bench.add_subparsers(dest="bench", required=True, metavar="BENCH")
    ingest = benches.add_parser(
        "ingest", help="POST /xapi/statements at several batch sizes, optionally vs raw COPY"
    )
    from bench.ingest import add_arguments as add_ingest_arguments

    add_ingest_arguments(ingest)
    ingest.set_defaults(run=_bench_ingest)
    _add_bench_commands(benches)
    return parser


def _bench_ingest(args: argparse.Namespace) -> int:
    from bench.ingest import run

    return run(args)


def _add_bench_commands(benches: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    import importlib

    for name, help_text in (
        ("seed", "fill a store fast (COPY) for the query benchmarks"),
        ("query", "p50/p95/p99 of GET /xapi/statements per filter and of `more` paging"),
        ("plan", "capacity arithmetic for a target rate from the latest ingest result"),
        ("soak", "post steadily and sample the server's memory: is it flat?"),
        ("profile", "flame graph and microseconds per statement by stage, under load"),
        ("append", "PostgreSQL CPU per statement of the ingest append, by batch size"),
    ):
        module = importlib.import_module(f"bench.{name}")
        command = benches.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run)


def _serve(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    from core.logging import logging_config
    from hyperedu.kept_child import KeptChild
    from hyperedu.metrics_dir import prepare_metrics_dir
    from hyperedu.parent_death import SERVER_PID_ENV
    from ingest.inflight_board import FILE_NAME as BOARD_FILE_NAME
    from ingest.inflight_board import reset as reset_inflight_board
    from lrs.ratelimit import FILE_NAME as RATE_LIMIT_FILE_NAME

    settings = _settings(args)
    if settings.role == "relay":
        args.exit_with_parent = False
        return _relay(args)
    if settings.role.startswith("consumer"):
        name = settings.role.partition(":")[2]
        args.names, args.rebuild = ([name] if name else []), False
        return _consumer(args)
    if settings.role not in ("all", "api"):
        print(f"hyperedu: unknown role {settings.role!r}", file=sys.stderr)
        return 2
    if settings.interface not in ("rsgi", "asgi"):
        print(f"hyperedu: unknown interface {settings.interface!r} (rsgi, asgi)", file=sys.stderr)
        return 2
    # Until Granian installs its own handlers: a SIGTERM unwinds like Ctrl-C, stopping the
    # embedded PostgreSQL started meanwhile (by default it would end the process on the spot).
    signal.signal(signal.SIGTERM, _stop_while_starting)
    with database(settings, keep_running=True) as runtime:
        export_to_workers(runtime.settings)
        os.environ[SERVER_PID_ENV] = str(os.getpid())  # the workers' parent (parent_death.py)
        prepare_metrics_dir(settings.data_path)
        reset_inflight_board(settings.data_path / BOARD_FILE_NAME)
        # Its times are time.monotonic()'s, which restarts with the machine.
        (settings.data_path / RATE_LIMIT_FILE_NAME).unlink(missing_ok=True)
        # The outbox relay runs beside the server, as a child kept running that ends with it.
        relay = (
            KeptChild("the outbox relay", [*_SELF, "relay", "--exit-with-parent"])
            if runtime.settings.kafka_bootstrap and settings.role == "all"
            else None
        )
        endpoint = f"http://{settings.host}:{settings.port}/xapi/"
        workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
        print(f"HyperEdu LRS: xAPI endpoint {endpoint} ({workers})", flush=True)
        print(
            f"  data directory {settings.data_path}; get a credential with:\n"
            f"  hyperedu credentials create --scopes all --data-dir {settings.data_path}",
            flush=True,
        )
        Granian(
            "hyperedu.bootstrap:app_from_env",
            factory=True,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.RSGI if settings.interface == "rsgi" else Interfaces.ASGI,
            workers=settings.workers,
            workers_kill_timeout=settings.stop_timeout_s,
            # A worker that dies (killed, out of memory) is replaced, not the whole server
            # stopped; one that dies again within seconds of its replacement stops it.
            respawn_failed_workers=True,
            loop=Loops.uvloop,
            backlog=2048,
            log_access=False,
            log_dictconfig=logging_config(settings.log_level),
        ).serve()
        if relay is not None:
            relay.stop()
    return 0


def _stop_while_starting(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _relay(args: argparse.Namespace) -> int:
    import logging.config

    from core.logging import logging_config
    from ingest.relay import run_relay

    settings = _settings(args)
    if not settings.kafka_bootstrap:
        print("hyperedu: set HYPEREDU_KAFKA_BOOTSTRAP (host:port) to relay to", file=sys.stderr)
        return 2
    logging.config.dictConfig(logging_config(settings.log_level))
    parent = os.getppid()

    async def relay(runtime: Runtime) -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        settings = runtime.settings
        task = asyncio.create_task(run_relay(settings, settings.session_database_url, stop))
        while not task.done():
            await asyncio.wait([task], timeout=1)
            if args.exit_with_parent and os.getppid() != parent:
                stop.set()  # the server that started us is gone
        await task

    with database(settings) as runtime:
        asyncio.run(relay(runtime))
    return 0


def _consumer(args: argparse.Namespace) -> int:
    import logging.config

    from core.logging import logging_config
    from lms.courses import worker as catalogue
    from lms.notifications import worker as notifications
    from lms.progress import worker as progress

    names = args.names or list(_CONSUMERS)
    if unknown := set(names) - set(_CONSUMERS):
        print(f"hyperedu: no consumer {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    settings = _settings(args)
    logging.config.dictConfig(logging_config(settings.log_level))

    async def consume(runtime: Runtime) -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        runs = []
        if "progress" in names:
            runs.append(progress.run(runtime.settings, stop, rebuild=args.rebuild))
        if "notifications" in names:
            runs.append(notifications.run(runtime.settings, stop))
        if "catalogue" in names:
            runs.append(catalogue.run(runtime.settings, stop))
        await asyncio.gather(*runs)

    with database(settings) as runtime:
        asyncio.run(consume(runtime))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    with database(_settings(args)):
        print("database is up to date")
    return 0


def _with_store(args: argparse.Namespace, action: Callable[[CredentialStore], Awaitable[T]]) -> T:
    from asyncpg import create_pool

    from lrs.credentials import CredentialStore

    async def run(runtime: Runtime) -> T:
        async with create_pool(
            runtime.settings.session_database_url, min_size=1, max_size=1
        ) as pool:
            return await action(CredentialStore(pool, runtime.server_key))

    with database(_settings(args)) as runtime:
        return asyncio.run(run(runtime))


def _credentials_create(args: argparse.Namespace) -> int:
    try:
        credential, secret = _with_store(args, lambda s: s.create(args.scopes, args.label))
    except ValueError as exc:
        print(f"hyperedu: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"key": credential.key, "secret": secret}))
    else:
        print(
            f"key:    {credential.key}\nsecret: {secret}\nscopes: {', '.join(sorted(credential.scopes))}"
        )
        print("The secret is shown only now; it is stored as a keyed digest.")
    return 0


def _credentials_list(args: argparse.Namespace) -> int:
    for c in _with_store(args, lambda s: s.list()):
        fields = {
            "key": c.key,
            "scopes": sorted(c.scopes),
            "label": c.label,
            "created": c.created.isoformat() if c.created else None,
            "revoked": c.revoked.isoformat() if c.revoked else None,
        }
        if args.json:
            print(json.dumps(fields))
        else:
            state = f"revoked {fields['revoked']}" if c.revoked else "active"
            print(f"{c.key}  {','.join(sorted(c.scopes))}  {state}  {c.label}")
    return 0


def _credentials_revoke(args: argparse.Namespace) -> int:
    if _with_store(args, lambda s: s.revoke(args.key)):
        print(f"revoked {args.key}")
        return 0
    print(f"hyperedu: no active credential {args.key}", file=sys.stderr)
    return 1


def _add_iam_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="manage people: accounts with a role")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    admin = actions.add_parser("create-admin", help="create a user with the admin role")
    create = actions.add_parser("create", help="create a user with a role")
    create.add_argument(
        "--role", required=True, choices=["admin", "author", "learner", "analyst"], help="the role"
    )
    for parser in (admin, create):
        _common(parser)
        parser.add_argument("--email", required=True, help="the address they sign in with")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin (else prompt for it)",
        )
        parser.add_argument("--json", action="store_true", help='print {"id": ..., ...}')
        parser.set_defaults(run=_users_create)
    admin.set_defaults(role="admin")
    listing = actions.add_parser("list", help="list users (never their password hashes)")
    _common(listing)
    listing.set_defaults(run=_users_list)

    keys = commands.add_parser("keys", help="manage the keys that sign access tokens")
    key_actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = key_actions.add_parser(
        "rotate",
        help="sign with a new key; the previous key still verifies until the next rotation",
    )
    _common(rotate)
    rotate.set_defaults(run=_keys_rotate)


def _add_operations_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    statements = commands.add_parser("statements", help="export and import statements in bulk")
    actions = statements.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write statements to stdout (progress on stderr)")
    _common(export)
    export.add_argument("--since", help="only statements stored after this ISO 8601 time")
    export.add_argument("--until", help="only statements stored at or before this time")
    export.add_argument("--format", choices=["ndjson", "csv"], default="ndjson")
    export.set_defaults(run=_statements_export)
    load = actions.add_parser("import", help="store statements from an NDJSON file ('-': stdin)")
    _common(load)
    load.add_argument("file")
    load.add_argument(
        "--partial", action="store_true", help="skip invalid lines (reported), store the rest"
    )
    load.add_argument("--batch", type=int, default=1000, help="statements per commit (1000)")
    load.add_argument(
        "--as", dest="as_key", metavar="KEY", help="record as this credential (default: the CLI)"
    )
    load.set_defaults(run=_statements_import)

    agents = commands.add_parser("agents", help="GDPR: erase an agent's data")
    agent_actions = agents.add_subparsers(dest="action", required=True, metavar="ACTION")
    erase = agent_actions.add_parser(
        "erase", help="delete or pseudonymise every statement and document of an agent"
    )
    _common(erase)
    erase.add_argument("--agent", required=True, help='the Agent as JSON: {"mbox": "mailto:..."}')
    erase.add_argument("--mode", choices=["delete", "pseudonymise"], default="delete")
    erase.set_defaults(run=_agents_erase)


def _statements_export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from hyperedu.operations import export_to

    def moment(text: str | None) -> datetime | None:
        if text is None:
            return None
        value = datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    try:
        since, until = moment(args.since), moment(args.until)
    except ValueError as exc:
        print(f"hyperedu: {exc}", file=sys.stderr)
        return 2
    with database(_settings(args)) as runtime:
        asyncio.run(
            export_to(
                runtime.settings, sys.stdout.buffer, since=since, until=until, fmt=args.format
            )
        )
    return 0


def _statements_import(args: argparse.Namespace) -> int:
    from hyperedu.operations import import_from

    if args.batch < 1:
        print("hyperedu: --batch must be at least 1", file=sys.stderr)
        return 2
    with database(_settings(args)) as runtime:
        source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
        try:
            report = asyncio.run(
                import_from(
                    runtime.settings,
                    runtime.server_key,
                    source,
                    partial=args.partial,
                    batch_size=args.batch,
                    as_key=args.as_key,
                )
            )
        except ValueError as exc:
            print(f"hyperedu: {exc}", file=sys.stderr)
            return 2
        finally:
            source.close()
    if report.stopped is not None:
        print(
            f"hyperedu: stopped at line {report.stopped.line}; nothing of its batch was stored",
            file=sys.stderr,
        )
        return 1
    return 0


def _agents_erase(args: argparse.Namespace) -> int:
    from core.errors import HyperEduError
    from hyperedu.operations import erase
    from lrs.erasure import ErasureMode

    with database(_settings(args)) as runtime:
        try:
            report = asyncio.run(
                erase(runtime.settings, runtime.server_key, args.agent, ErasureMode(args.mode))
            )
        except (ValueError, HyperEduError) as exc:
            print(f"hyperedu: {exc}", file=sys.stderr)
            return 2
    print(json.dumps(report.to_dict()))
    return 0


def _with_pool(
    args: argparse.Namespace, action: Callable[[asyncpg.Pool, bytes], Awaitable[T]]
) -> T:
    from asyncpg import create_pool

    async def run(runtime: Runtime) -> T:
        async with create_pool(
            runtime.settings.session_database_url, min_size=1, max_size=1
        ) as pool:
            return await action(pool, runtime.server_key)

    with database(_settings(args)) as runtime:
        return asyncio.run(run(runtime))


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    from getpass import getpass

    password = getpass("password: ")
    if getpass("again: ") != password:
        raise ValueError("the passwords differ")
    return password


def _users_create(args: argparse.Namespace) -> int:
    from core.errors import HyperEduError
    from lms.iam.roles import Role
    from lms.iam.users import UserStore

    role = Role(args.role)
    try:
        password = _read_password(args)
        user = _with_pool(args, lambda pool, _: UserStore(pool).create(args.email, password, role))
    except (ValueError, HyperEduError) as exc:
        print(f"hyperedu: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"id": str(user.id), "email": user.email, "role": user.role.value}))
    else:
        print(f"created {user.role.value} {user.email} ({user.id})")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    from lms.iam.users import UserStore

    for user in _with_pool(args, lambda pool, _: UserStore(pool).list()):
        state = f"disabled {user.disabled.isoformat()}" if user.disabled else "active"
        print(f"{user.id}  {user.role.value:8}  {state}  {user.email}")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from lms.iam.keys import rotate

    kid, deleted = _with_pool(args, rotate)
    print(f"signing with key {kid}; the previous key verifies until the next rotation")
    if deleted:
        print(f"deleted keys retired before: {', '.join(deleted)}")
    return 0


def _analytics_options(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--format", choices=list(FORMATS), default="table")
    parser.add_argument("--output", help="write the result to this file, not stdout")
    parser.add_argument(
        "--no-sync", action="store_true", help="query without first loading new statements"
    )


def _with_analytics(args: argparse.Namespace, action: Callable[[Engine], T]) -> T:
    """Open ClickHouse (embedded: this process alone, see lms/analytics/README.md), bring it
    up to date with the statement log unless --no-sync, run `action(engine)`."""
    from lms.analytics.engine import open_engine
    from lms.analytics.schema import apply_schema
    from lms.analytics.sink import sync

    settings = _settings(args)
    engine = open_engine(settings)
    try:
        apply_schema(engine)
        if not getattr(args, "no_sync", False):
            with database(settings) as runtime:
                follow = getattr(args, "follow", False)
                stats = asyncio.run(sync(_bus(runtime.settings), engine, follow=follow))
            print(f"analytics: {stats.inserted} new statements loaded", file=sys.stderr)
        return action(engine)
    finally:
        engine.close()


def _bus(settings: Settings) -> Bus:
    if settings.kafka_bootstrap:
        from ingest.bus_kafka import KafkaBus

        return KafkaBus(settings.kafka_bootstrap)
    from ingest.bus_postgres import PostgresBus

    return PostgresBus(settings.session_database_url)


def _analytics_sync(args: argparse.Namespace) -> int:
    return int(_with_analytics(args, lambda engine: 0))


def _sql(args: argparse.Namespace) -> int:
    from lms.analytics.sql import run_readonly_sql

    return _print_result(args, lambda engine: run_readonly_sql(engine, args.query, args.format))


def _report(args: argparse.Namespace) -> int:
    from lms.analytics.reports import run_report

    return _print_result(args, lambda engine: run_report(engine, args.name, args.format))


def _print_result(args: argparse.Namespace, query: Callable[[Engine], bytes]) -> int:
    try:
        out = _with_analytics(args, query)
    except Exception as exc:  # the analyst's SQL error, or a busy or missing store
        print(f"hyperedu: {exc}", file=sys.stderr)
        return 2
    if args.output:
        with open(args.output, "wb") as f:
            f.write(out)
    else:
        sys.stdout.buffer.write(out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"hyperedu: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
