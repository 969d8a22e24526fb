"""The local admin token of ``meterledger run``, so the quick start needs no extra step.

The first run creates an admin token (the database keeps its hash, as for any token) and
keeps the secret for the local user in ``<data dir>/admin-token``, readable by its owner
only; later runs print the same dashboard link again. A revoked token, or a file from
another database, is replaced by a new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from store.access import create_token, token_is_live

log = logging.getLogger(__name__)

FILENAME = "admin-token"
NAME = "local admin (meterledger run)"


async def local_admin_token(pool: AsyncConnectionPool, data_dir: Path) -> str:
    """The secret of the local admin token: the kept one while it is live, else a new one."""
    path = data_dir / FILENAME
    with contextlib.suppress(FileNotFoundError):
        kept = path.read_text().strip()
        if kept and await token_is_live(pool, kept):
            return kept
    issued = await create_token(pool, NAME, "admin", created_by=f"meterledger run ({path})")
    _write_private(path, issued.secret)
    log.info("created the local admin token %d; its secret is in %s", issued.token.id, path)
    return issued.secret


def _write_private(path: Path, secret: str) -> None:
    """Write the secret so that no moment exists where others could read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover partial file keeps its mode otherwise
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    os.replace(partial, path)
