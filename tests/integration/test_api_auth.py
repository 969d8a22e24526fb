"""Bearer tokens against the real database: 401 and 403 as problem+json, hashes only,
revocation, site scope, the append-only audit log, the CLI and `run`'s local admin token."""

import hashlib
import os
import stat
from pathlib import Path

import psycopg
import pytest
from api_harness import OTHER, SITE, api

from meterledger.cli import main
from meterledger.local_admin import FILENAME, local_admin_token
from store.access import create_token, revoke_token, token_is_live
from store.migrate import migrate
from store.pool import open_pool

PROBLEM = "application/problem+json"


async def test_a_request_without_a_token_gets_401_with_a_bearer_challenge(
    database_url: str,
) -> None:
    async with api(database_url, readings=False) as harness, harness.client() as client:
        response = await client.get("/api/v1/live")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 401
    assert body["instance"] == "/api/v1/live"
    assert "bearer token" in body["detail"]


async def test_unknown_and_revoked_tokens_get_401_and_a_live_one_passes(
    database_url: str,
) -> None:
    async with api(database_url, readings=False) as harness:
        harness.tokens["forged"] = "mlt_" + "A" * 43
        async with harness.client("forged") as client:
            assert (await client.get("/api/v1/live")).status_code == 401
        issued = await create_token(harness.pool, "short-lived", "viewer", created_by="test")
        harness.tokens["short-lived"] = issued.secret
        async with harness.client("short-lived") as client:
            assert (await client.get("/api/v1/live")).status_code == 200
            await revoke_token(harness.pool, issued.token.id, revoked_by="test")
            refused = await client.get("/api/v1/live")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert "revoked" in refused.json()["detail"]


async def test_a_role_the_rule_does_not_admit_gets_403_naming_the_allowed_roles(
    database_url: str,
) -> None:
    async with api(database_url, readings=False) as harness, harness.client("auditor") as client:
        response = await client.post(f"/api/v1/sites/{SITE}/periods/2026-03/review")
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "www-authenticate" not in response.headers
    assert response.json()["detail"] == (
        "role auditor may not POST /api/v1/sites/{site}/periods/{period}/review; "
        "allowed: admin, manager"
    )


async def test_only_the_hash_of_a_secret_is_stored_and_use_is_noted(database_url: str) -> None:
    async with api(database_url, readings=False) as harness:
        async with harness.client("viewer") as client:
            assert (await client.get("/api/v1/live")).status_code == 200
        secrets = harness.tokens.values()
    with psycopg.connect(database_url) as conn:
        dump = str(conn.execute("SELECT * FROM api_token").fetchall())
        used = conn.execute("SELECT name FROM api_token WHERE last_used_at IS NOT NULL").fetchall()
    assert not any(secret in dump for secret in secrets)
    assert all(hashlib.sha256(s.encode()).hexdigest() in dump for s in secrets)
    assert used == [("test viewer",)]


async def test_a_site_scoped_token_sees_its_site_only(database_url: str) -> None:
    async with api(database_url, readings=False) as harness:
        async with harness.client("other-viewer") as client:
            live = (await client.get("/api/v1/live")).json()["items"]
        async with harness.client("other-manager") as client:
            elsewhere = await client.post(f"/api/v1/sites/{SITE}/periods/2026-03/review")
        async with harness.client("viewer") as client:
            everything = (await client.get("/api/v1/live")).json()["items"]
    assert {item["site"] for item in live} == {OTHER}
    assert {item["site"] for item in everything} == {SITE, OTHER}
    assert elsewhere.status_code == 403
    assert elsewhere.json()["detail"] == f"this token is limited to site {OTHER}, not {SITE}"


async def test_the_audit_log_refuses_update_delete_and_truncate(database_url: str) -> None:
    async with api(database_url, readings=False):
        pass
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (8,)  # the tokens
        for sql in (
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
                conn.execute(sql)
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (8,)


def test_token_commands_print_the_secret_once_list_and_revoke(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("METERLEDGER_DATABASE_URL", database_url)
    assert main(["token", "create", "--role", "auditor", "--name", "Verifier GmbH"]) == 0
    created = capsys.readouterr()
    secret = created.out.strip()
    assert secret.startswith("mlt_")
    assert len(secret) == 4 + 43  # 32 random bytes, URL-safe base64
    assert "token 1 'Verifier GmbH' (auditor) created" in created.err

    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "auditor" in listed
    assert "Verifier GmbH" in listed
    assert "active" in listed
    assert secret not in listed

    assert main(["token", "revoke", "1"]) == 0
    assert "token 1 'Verifier GmbH' revoked" in capsys.readouterr().out
    assert main(["token", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["token", "create", "--role", "viewer", "--name", "x", "--site", "nowhere"]) == 2
    assert "no such site" in capsys.readouterr().err

    with psycopg.connect(database_url) as conn:
        actions = conn.execute("SELECT action, actor FROM audit_log ORDER BY id").fetchall()
    user = actions[0][1]
    assert user.startswith("cli:")
    assert actions == [("token.create", user), ("token.revoke", user)]


async def test_run_keeps_one_local_admin_token_readable_by_its_owner_only(
    database_url: str, tmp_path: Path
) -> None:
    migrate(database_url)
    pool = await open_pool(database_url)
    try:
        first = await local_admin_token(pool, tmp_path)
        again = await local_admin_token(pool, tmp_path)
        kept = tmp_path / FILENAME
        mode = stat.S_IMODE(os.stat(kept).st_mode)
        assert (first, mode, kept.read_text().strip()) == (again, 0o600, first)
        assert await token_is_live(pool, first)

        async with pool.connection() as conn:
            await conn.execute("UPDATE api_token SET revoked_at = now()")
        replaced = await local_admin_token(pool, tmp_path)
    finally:
        await pool.close()
    assert replaced != first
    assert kept.read_text().strip() == replaced
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT role, revoked_at IS NULL FROM api_token ORDER BY id").fetchall()
    assert rows == [("admin", False), ("admin", True)]
