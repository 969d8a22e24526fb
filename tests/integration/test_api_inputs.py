"""Ledger inputs over HTTP against the real database: manual entries with evidence files,
instruments and production figures, checked by the ledger's unit rules, each committed with
its audit-log row (and an approved month's pending restatement) or not at all."""

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import psycopg
from api_harness import MARCH, SITE, Api, api, plant
from prometheus_client import CollectorRegistry

from api.app import create_app
from ledger.product_lines import LineBook
from meterledger.books import site_books

PROBLEM = "application/problem+json"
SITE_API = f"/api/v1/sites/{SITE}"
ENTRIES = f"{SITE_API}/periods/{MARCH}/entries"
PRODUCTION = f"{SITE_API}/periods/{MARCH}/production"
INSTRUMENTS = f"{SITE_API}/instruments"
NOTE = b"%PDF-1.4 delivery note 0312: 1200 L diesel, density 0.84 kg/L\n"
INVOICE = b"%PDF-1.4 invoice 77: diesel\n"
FREIGHT = {"category": "road_freight", "quantity": "36465", "unit": "t·km"}
GEC = {
    "kind": "GEC",
    "mwh": "5",
    "period_start": "2026-03-01",
    "period_end": "2026-04-01",
    "factor": "0",
    "certificates": ["GEC-2026-0001"],
}


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.encode()).fetchall()


def audit_actions(url: str) -> list[tuple[str, str, str]]:
    return [
        (r[0], r[1], r[2])
        for r in rows(
            url,
            "SELECT actor, action, subject FROM audit_log WHERE action NOT LIKE 'token.%' "
            "ORDER BY id",
        )
    ]


@contextlib.asynccontextmanager
async def with_lines(database_url: str) -> AsyncIterator[Api]:
    """The harness with two production lines declared at the test site."""
    async with api(database_url) as harness:
        books = dict(site_books(plant(), harness.ids))
        books[SITE] = replace(books[SITE], lines=(LineBook("line-a"), LineBook("line-b")))
        app = create_app(harness.pool, CollectorRegistry(), books=books)
        yield Api(app, harness.pool, harness.ids, harness.tokens)


async def add_diesel(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        ENTRIES,
        data={
            "category": "diesel",
            "quantity": "1200",
            "unit": "L",
            "density": "0.84",
            "density_unit": "kg/L",
            "description": "generator, March delivery",
        },
        files=[
            ("evidence", ("note-0312.pdf", NOTE, "application/pdf")),
            ("evidence", ("invoice-77.pdf", INVOICE, "application/pdf")),
        ],
    )


async def test_an_entry_is_stored_with_its_evidence_by_sha256_and_audited(
    database_url: str,
) -> None:
    async with api(database_url) as harness, harness.client("operator") as client:
        added = await add_diesel(client)
        listed = await client.get(ENTRIES)
    body = added.json()
    assert added.status_code == 201, body
    assert [e["sha256"] for e in body["evidence"]] == [
        hashlib.sha256(NOTE).hexdigest(),
        hashlib.sha256(INVOICE).hexdigest(),
    ]
    assert [(e["filename"], e["size"]) for e in body["evidence"]] == [
        ("note-0312.pdf", len(NOTE)),
        ("invoice-77.pdf", len(INVOICE)),
    ]
    # 1.008 t × 42.652 GJ/t × 0.0202 tC/GJ × 0.98 × 44/12
    assert round(Decimal(body["tco2e"]), 9) == Decimal("3.120676914")
    assert (body["quantity"], body["unit"], body["density"]) == ("1200", "L", "0.84")
    assert body["entered_by"] == "test operator"
    assert body["months"] == [
        {"period": MARCH, "status": "open", "effect": "taken at close", "pending_restatement": []}
    ]
    assert listed.json()["items"] == [
        {k: v for k, v in body.items() if k in listed.json()["items"][0]}
    ]
    stored = rows(database_url, "SELECT sha256, content FROM evidence_file ORDER BY size")
    assert [(sha, hashlib.sha256(bytes(content)).hexdigest()) for sha, content in stored] == [
        (hashlib.sha256(INVOICE).hexdigest(),) * 2,
        (hashlib.sha256(NOTE).hexdigest(),) * 2,
    ]
    assert audit_actions(database_url) == [
        ("test operator", "entry.add", f"{SITE}/entry/{body['id']}")
    ]


async def test_road_freight_in_km_is_refused_naming_the_field_and_both_units(
    database_url: str,
) -> None:
    async with api(database_url) as harness, harness.client("operator") as client:
        refused = await client.post(
            ENTRIES,
            data=FREIGHT | {"quantity": "561", "unit": "km"},
            files=[("evidence", ("waybill.pdf", b"waybill", "application/pdf"))],
        )
        accepted = await client.post(ENTRIES, data=FREIGHT)
    problem = refused.json()
    assert (refused.status_code, refused.headers["content-type"]) == (422, PROBLEM)
    assert (problem["field"], problem["value"]) == ("quantity", "561 km")
    assert "km is [length]" in problem["detail"]
    assert "t·km" in problem["detail"]
    assert accepted.status_code == 201, accepted.json()
    assert Decimal(accepted.json()["tco2e"]) == Decimal("4.703985")  # 65 t × 561 km × 0.129
    assert rows(database_url, "SELECT count(*) FROM evidence_file") == [(0,)]
    assert rows(database_url, "SELECT category, quantity, unit FROM manual_entry") == [
        ("road_freight", "36465", "t·km")
    ]


async def test_bad_inputs_are_refused_naming_the_field_and_value_and_store_nothing(
    database_url: str,
) -> None:
    async with with_lines(database_url) as harness, harness.client("manager") as client:
        answers = {
            "negative": await client.post(ENTRIES, data=FREIGHT | {"quantity": "-3"}),
            "not a number": await client.post(ENTRIES, data=FREIGHT | {"quantity": "lots"}),
            "category": await client.post(ENTRIES, data=FREIGHT | {"category": "coal"}),
            "litres of gas": await client.post(
                ENTRIES,
                data={"category": "refrigerant", "quantity": "12", "unit": "L", "gas": "R-410A"},
            ),
            "unknown gas": await client.post(
                ENTRIES,
                data={"category": "refrigerant", "quantity": "12", "unit": "kg", "gas": "R-999"},
            ),
            "density alone": await client.post(
                ENTRIES,
                data={"category": "diesel", "quantity": "1200", "unit": "L", "density": "0.84"},
            ),
            "kWh of diesel": await client.post(
                ENTRIES, data={"category": "diesel", "quantity": "5", "unit": "kWh"}
            ),
            "empty file": await client.post(
                ENTRIES, data=FREIGHT, files=[("evidence", ("empty.pdf", b"", "application/pdf"))]
            ),
            "month 13": await client.post(f"{SITE_API}/periods/2026-13/entries", data=FREIGHT),
            "next century": await client.post(f"{SITE_API}/periods/2999-01/entries", data=FREIGHT),
            "unknown line": await client.post(
                PRODUCTION, json={"line": "line-z", "tonnes": "12", "source": "MES"}
            ),
            "negative tonnes": await client.post(
                PRODUCTION, json={"line": "line-a", "tonnes": "-1", "source": "MES"}
            ),
            "backwards": await client.post(INSTRUMENTS, data=GEC | {"period_end": "2026-02-01"}),
        }
    named = {
        case: (r.status_code, r.json().get("field"), r.json().get("value"))
        for case, r in answers.items()
    }
    assert all(r.headers["content-type"] == PROBLEM for r in answers.values())
    assert named["negative"] == (422, "quantity", "-3")
    assert named["not a number"] == (422, "quantity", "lots")
    assert named["category"] == (422, "category", "coal")
    assert named["litres of gas"] == (422, "quantity", "12 L")
    assert named["unknown gas"][:2] == (422, "gas")
    assert "R-999" in str(named["unknown gas"][2]) + answers["unknown gas"].json()["detail"]
    assert named["density alone"] == (422, "density_unit", "(missing)")
    assert named["kWh of diesel"] == (422, "quantity", "5 kWh")
    assert named["empty file"] == (422, "evidence", "empty.pdf")
    assert named["month 13"][:2] == (422, "period")
    assert named["next century"] == (422, "period", "2999-01")
    assert named["unknown line"] == (422, "line", "line-z")
    assert named["negative tonnes"] == (422, "tonnes", "-1")
    assert named["backwards"] == (422, "period_end", "2026-02-01")
    for table in ("manual_entry", "production_entry", "contract_instrument", "evidence_file"):
        assert rows(database_url, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert audit_actions(database_url) == []


async def test_a_late_entry_for_an_approved_month_shows_as_a_pending_restatement(
    database_url: str,
) -> None:
    async with api(database_url) as harness:
        async with harness.client("manager") as manager:
            for step in ("close", "review", "approve"):
                moved = await manager.post(f"{SITE_API}/periods/{MARCH}/{step}")
                assert moved.status_code in (200, 201), moved.json()
        async with harness.client("operator") as operator:
            late = await operator.post(ENTRIES, data=FREIGHT)
        async with harness.client("viewer") as viewer:
            statement = (await viewer.get(f"{SITE_API}/periods/{MARCH}")).json()
    body = late.json()
    assert late.status_code == 201, body
    [month] = body["months"]
    key = f"scope3/upstream-transport/road_freight/entry-{body['id']}"
    assert (month["period"], month["status"], month["effect"]) == (
        MARCH,
        "approved",
        "pending restatement",
    )
    assert [(c["key"], c["before"], Decimal(c["after"])) for c in month["pending_restatement"]] == [
        (key, None, Decimal("4.703985"))
    ]
    assert statement["status"] == "approved"
    assert statement["version"] == 1
    assert key in [c["key"] for c in statement["pending_restatement"]]


async def test_auditors_and_viewers_read_inputs_but_write_none(database_url: str) -> None:
    async with api(database_url) as harness:
        async with harness.client("operator") as operator:
            await add_diesel(operator)
            operator_instrument = await operator.post(INSTRUMENTS, data=GEC)
        async with harness.client("manager") as manager:
            manager_instrument = await manager.post(INSTRUMENTS, data=GEC)
        answers = {}
        for role in ("auditor", "viewer"):
            async with harness.client(role) as client:
                answers[role] = (
                    (await client.post(ENTRIES, data=FREIGHT)).status_code,
                    (
                        await client.post(f"{SITE_API}/entries/1/void", json={"reason": "x"})
                    ).status_code,
                    (await client.get(ENTRIES)).status_code,
                    len((await client.get(INSTRUMENTS)).json()["items"]),
                )
    assert answers == {"auditor": (403, 403, 200, 1), "viewer": (403, 403, 200, 1)}
    assert operator_instrument.status_code == 403
    assert manager_instrument.status_code == 201, manager_instrument.json()
    assert manager_instrument.json()["certificates"] == ["GEC-2026-0001"]
    assert rows(database_url, "SELECT count(*) FROM manual_entry") == [(1,)]


async def test_inputs_whose_audit_row_fails_leave_nothing_behind(database_url: str) -> None:
    async with with_lines(database_url) as harness, harness.client("admin") as client:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$;
                   CREATE TRIGGER refuse BEFORE INSERT ON audit_log
                   FOR EACH ROW EXECUTE FUNCTION refuse();"""
            )
        answers = [
            await add_diesel(client),
            await client.post(INSTRUMENTS, data=GEC),
            await client.post(PRODUCTION, json={"line": "line-a", "tonnes": "12", "source": "MES"}),
            await client.post(
                "/api/v1/factor-sets",
                content="# set: test-grid\n# version: 9\n# title: t\n" + factor_csv(),
                headers={"content-type": "text/csv"},
            ),
        ]
    assert [r.status_code for r in answers] == [503, 503, 503, 503]
    assert all("audit log unavailable" in r.json()["detail"] for r in answers)
    for table in (
        "manual_entry",
        "evidence_file",
        "contract_instrument",
        "production_entry",
        "factor_set",
    ):
        assert rows(database_url, f"SELECT count(*) FROM {table}") == [(0,)], table


def factor_csv() -> str:
    from ledger.factorsets import COLUMNS

    record = (
        "grid-2024,factor,electricity_grid,XX,CO2,0.4321,tCO2,MWh,2024,2024-01-01,2025-01-01,"
        "Test Agency,TA-2024-1,,,"
    )
    return f"{','.join(COLUMNS)}\n{record}\n"


async def test_a_factor_set_import_is_audited_once(database_url: str) -> None:
    text = "# set: test-grid\n# version: 9\n# title: t\n" + factor_csv()
    async with api(database_url) as harness, harness.client("admin") as client:
        first = await client.post(
            "/api/v1/factor-sets", content=text, headers={"content-type": "text/csv"}
        )
        again = await client.post(
            "/api/v1/factor-sets", content=text, headers={"content-type": "text/csv"}
        )
    assert (first.status_code, again.status_code) == (201, 200)
    assert audit_actions(database_url) == [("test admin", "factor_set.import", "test-grid@9")]


async def test_voiding_needs_a_reason_and_keeps_the_input_listed_as_voided(
    database_url: str,
) -> None:
    async with api(database_url) as harness, harness.client("operator") as client:
        entry = (await add_diesel(client)).json()
        void = f"{SITE_API}/entries/{entry['id']}/void"
        blank = await client.post(void, json={"reason": " "})
        voided = await client.post(void, json={"reason": "delivery note belongs to April"})
        twice = await client.post(void, json={"reason": "again"})
        live = (await client.get(ENTRIES)).json()["items"]
        everything = (await client.get(ENTRIES, params={"voided": True})).json()["items"]
    assert (blank.status_code, blank.json()["field"]) == (422, "reason")
    assert voided.status_code == 200, voided.json()
    assert voided.json()["months"][0]["period"] == MARCH
    assert (twice.status_code, twice.json()["field"]) == (422, "id")
    assert live == []
    assert [(e["id"], e["voided"]["reason"]) for e in everything] == [
        (entry["id"], "delivery note belongs to April")
    ]
    assert [a[1] for a in audit_actions(database_url)] == ["entry.add", "entry.void"]


async def test_a_line_has_one_live_production_figure_a_month(database_url: str) -> None:
    figure = {"line": "line-a", "tonnes": "406.5", "source": "MES month report"}
    async with with_lines(database_url) as harness, harness.client("operator") as client:
        first = await client.post(PRODUCTION, json=figure)
        second = await client.post(PRODUCTION, json=figure | {"tonnes": "410"})
        replaced = await client.post(PRODUCTION, json=figure | {"tonnes": "410", "replace": True})
        live = (await client.get(PRODUCTION)).json()["items"]
    assert first.status_code == 201, first.json()
    assert (second.status_code, second.json()["field"], second.json()["value"]) == (
        422,
        "line",
        "line-a",
    )
    assert replaced.status_code == 201
    assert [(p["line"], p["tonnes"]) for p in live] == [("line-a", "410")]
    assert [a[1] for a in audit_actions(database_url)] == ["production.add", "production.add"]
