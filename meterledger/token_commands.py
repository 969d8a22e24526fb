"""``meterledger token …``: create, list and revoke the bearer tokens of the HTTP API.

``create`` prints the secret once, alone on stdout (so ``TOKEN=$(meterledger token create
…)`` works), and the database keeps only its hash; each change is in the audit log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import AsyncIterator
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from meterledger.embedded import embedded_postgres
from meterledger.settings import Settings
from store.access import ROLES, Token, create_token, list_tokens, revoke_token
from store.migrate import migrate
from store.pool import open_pool


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    token = commands.add_parser("token", help="API tokens", description=__doc__)
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a token and print its secret once", description=create_help()
    )
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True, type=_name, help="who or what uses it")
    create.add_argument("--site", help="limit the token to one site (its key)")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="every token, revoked ones included")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a token from now on")
    revoke.add_argument("id", type=int, help="the token's id (see `token list`)")
    revoke.set_defaults(handler=_revoke)


def create_help() -> str:
    return (
        "Create a bearer token and print its secret once; only its hash is stored. Roles: "
        "viewer reads; operator also records meter events; manager also closes, reviews, "
        "approves and restates periods; auditor reads everything, lineage and audit log "
        "included, and changes nothing; admin may do everything."
    )


def _name(text: str) -> str:
    if not text.strip() or len(text) > 200:
        raise argparse.ArgumentTypeError(f"a name of 1 to 200 characters, not {text!r}")
    return text.strip()


def actor() -> str:
    """Who runs the command, as the audit log names a change made from the command line."""
    return f"cli:{getpass.getuser()}"


@contextlib.asynccontextmanager
async def _pool(settings: Settings) -> AsyncIterator[AsyncConnectionPool]:
    with contextlib.ExitStack() as stack:
        url = settings.database_url or stack.enter_context(embedded_postgres(settings.data_dir))
        await asyncio.to_thread(migrate, url)
        pool = await open_pool(url, max_size=2)
        try:
            yield pool
        finally:
            await pool.close()


def _create(args: argparse.Namespace) -> int:
    async def create() -> None:
        async with _pool(Settings()) as pool:
            issued = await create_token(
                pool, args.name, args.role, created_by=actor(), site=args.site
            )
        scope = f", site {issued.token.site}" if issued.token.site else ""
        print(
            f"token {issued.token.id} {issued.token.name!r} ({issued.token.role}{scope}) "
            "created; its secret follows and is not shown again",
            file=sys.stderr,
        )
        print(issued.secret, flush=True)

    asyncio.run(create())
    return 0


def _list(_args: argparse.Namespace) -> int:
    async def fetch() -> list[Token]:
        async with _pool(Settings()) as pool:
            return await list_tokens(pool)

    tokens = asyncio.run(fetch())
    print(f"{'id':>4}  {'role':8} {'site':16} {'created':16} {'last used':16} {'state':18} name")
    for t in tokens:
        state = "active" if t.revoked_at is None else f"revoked {_when(t.revoked_at)}"
        print(
            f"{t.id:>4}  {t.role:8} {t.site or '(all)':16} {_when(t.created_at):16} "
            f"{_when(t.last_used_at):16} {state:18} {t.name} (by {t.created_by})"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    async def revoke() -> Token:
        async with _pool(Settings()) as pool:
            return await revoke_token(pool, args.id, revoked_by=actor())

    token = asyncio.run(revoke())
    assert token.revoked_at is not None
    print(f"token {token.id} {token.name!r} revoked since {_when(token.revoked_at)}")
    return 0


def _when(instant: datetime | None) -> str:
    return "-" if instant is None else f"{instant.astimezone():%Y-%m-%d %H:%M}"
