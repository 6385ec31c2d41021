"""`hyperedu`: serve the LRS, manage credentials, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from core.config import Settings, load_settings
from hyperedu.bootstrap import Runtime, database, export_to_workers


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
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperedu", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the xAPI LRS server")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (HYPEREDU_HOST; 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (HYPEREDU_PORT; 8080)")
    serve.add_argument("--workers", type=int, help="worker processes (HYPEREDU_WORKERS; 1)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    _common(migrate)
    migrate.set_defaults(run=_migrate)

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
    return parser


def _serve(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    settings = _settings(args)
    with database(settings) as runtime:
        export_to_workers(runtime.settings)
        endpoint = f"http://{settings.host}:{settings.port}/xapi/"
        print(f"HyperEdu LRS: xAPI endpoint {endpoint}", flush=True)
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
            interface=Interfaces.ASGI,
            workers=settings.workers,
            loop=Loops.uvloop,
            backlog=2048,
            log_access=False,
        ).serve()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    with database(_settings(args)):
        print("database is up to date")
    return 0


def _with_store(args: argparse.Namespace, action):  # type: ignore[no-untyped-def]
    from asyncpg import create_pool

    from lrs.credentials import CredentialStore

    async def run(runtime: Runtime) -> object:
        async with create_pool(runtime.settings.database_url, min_size=1, max_size=1) as pool:
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
            print(f"{c.key}  {','.join(fields['scopes'])}  {state}  {c.label}")
    return 0


def _credentials_revoke(args: argparse.Namespace) -> int:
    if _with_store(args, lambda s: s.revoke(args.key)):
        print(f"revoked {args.key}")
        return 0
    print(f"hyperedu: no active credential {args.key}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
