"""Factor sets over HTTP: list, show, records with citations, and CSV import by admins."""

from api_reads import read_api

from ledger.factorsets import COLUMNS

HEADER = ",".join(COLUMNS)
RECORD = (
    "grid-2024,factor,electricity_grid,XX,CO2,0.4321,tCO2,MWh,2024,2024-01-01,2025-01-01,"
    "Test Agency,TA-2024-1,,,"
)


def csv_text(version: str, record: str = RECORD) -> str:
    return f"# set: test-grid\n# version: {version}\n# title: A test grid set\n{HEADER}\n{record}\n"


async def test_shipped_sets_are_listed_page_by_page(database_url: str) -> None:
    async with read_api(database_url) as api:
        first = (await api.client.get("/api/v1/factor-sets", params={"limit": 2})).json()
        rest = await api.client.get(
            "/api/v1/factor-sets", params={"cursor": first["next_cursor"], "limit": 100}
        )
    names = [s["name"] for s in first["items"] + rest.json()["items"]]
    assert {"cn-mee-grid", "cn-ndrc-defaults", "uk-desnz-2024"} <= set(names)
    assert len(names) == len(set(names))
    assert all(s["origin"] == "shipped" for s in first["items"])


async def test_factor_records_carry_value_units_and_citation(database_url: str) -> None:
    async with read_api(database_url) as api:
        sets = (await api.client.get("/api/v1/factor-sets")).json()["items"]
        grid = next(s for s in sets if s["name"] == "cn-mee-grid")
        url = f"/api/v1/factor-sets/cn-mee-grid/{grid['version']}/factors"
        records = (await api.client.get(url, params={"limit": 1000})).json()["items"]
    assert len(records) == grid["records"]
    by_value = {r["value"]: r for r in records}
    assert "0.5703" in by_value
    record = by_value["0.5703"]
    assert (record["numerator"], record["denominator"]) == ("tCO2", "MWh")
    assert record["publisher"]
    assert record["set_digest"] == grid["digest"]


async def test_an_admin_imports_a_set_once_and_cannot_rewrite_it(database_url: str) -> None:
    async with read_api(database_url) as api:
        headers = {"content-type": "text/csv"}
        created = await api.client.post(
            "/api/v1/factor-sets", content=csv_text("1"), headers=headers
        )
        again = await api.client.post("/api/v1/factor-sets", content=csv_text("1"), headers=headers)
        changed = csv_text("1", RECORD.replace("0.4321", "0.4322"))
        conflict = await api.client.post("/api/v1/factor-sets", content=changed, headers=headers)
        shown = await api.client.get("/api/v1/factor-sets/test-grid/1/factors")
    assert created.status_code == 201, created.text
    assert (created.json()["origin"], created.json()["records"]) == ("imported", 1)
    assert again.status_code == 200
    assert again.json()["digest"] == created.json()["digest"]
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    assert shown.json()["items"][0]["value"] == "0.4321"


async def test_a_bad_csv_is_refused_naming_line_column_and_value(database_url: str) -> None:
    async with read_api(database_url) as api:
        bad = csv_text("2", RECORD.replace("0.4321", "-1"))
        response = await api.client.post(
            "/api/v1/factor-sets", content=bad, headers={"content-type": "text/csv"}
        )
        listed = (await api.client.get("/api/v1/factor-sets", params={"limit": 1000})).json()
    assert response.status_code == 422
    problem = response.json()
    assert (problem["field"], problem["value"]) == ("value", "-1")
    assert "line 5" in problem["detail"]
    assert "test-grid" not in {s["name"] for s in listed["items"]}


async def test_only_admins_may_import(database_url: str) -> None:
    async with read_api(database_url, role="manager") as api:
        response = await api.client.post(
            "/api/v1/factor-sets", content=csv_text("3"), headers={"content-type": "text/csv"}
        )
    assert response.status_code == 403
