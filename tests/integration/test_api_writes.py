"""Writes over HTTP against the real database: the period workflow and meter events,
validated at the edge, each committed together with its audit-log row or not at all."""

import psycopg
from api_harness import MARCH, SITE, api

PROBLEM = "application/problem+json"
PERIOD = f"/api/v1/sites/{SITE}/periods/{MARCH}"
EVENTS = f"/api/v1/sites/{SITE}/meters/grid-main/events"


def audit_rows(url: str) -> list[tuple[str, str, str, dict | None, dict | None]]:  # type: ignore[type-arg]
    """(actor, action, subject, before, after) of every write but the test's token set-up."""
    with psycopg.connect(url) as conn:
        return conn.execute(  # type: ignore[return-value]
            """SELECT actor, action, subject, before, after FROM audit_log
               WHERE action NOT LIKE 'token.%' ORDER BY id"""
        ).fetchall()


async def test_close_review_approve_and_restate_a_month_each_leave_an_audit_row(
    database_url: str,
) -> None:
    async with api(database_url) as harness, harness.client("manager") as client:
        closed = await client.post(f"{PERIOD}/close")
        reviewed = await client.post(f"{PERIOD}/review")
        approved = await client.post(f"{PERIOD}/approve")
        unexplained = await client.post(f"{PERIOD}/restatement", json={"reason": "  "})
        async with harness.client("operator") as operator:
            event = await operator.post(
                EVENTS,
                json={
                    "kind": "ratio_change",
                    "ts": "2026-03-16T00:00:00+01:00",
                    "point": "energy_import",
                    "multiplier_before": "1",
                    "multiplier_after": "2",
                },
            )
        restated = await client.post(
            f"{PERIOD}/restatement", json={"reason": "CT ratio doubled on 16 March"}
        )
    assert (closed.status_code, closed.json()["version"], closed.json()["status"]) == (
        201,
        1,
        "closed",
    )
    assert (reviewed.status_code, reviewed.json()["status"]) == (200, "reviewed")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert unexplained.status_code == 422
    assert unexplained.headers["content-type"] == PROBLEM
    assert unexplained.json()["field"] == "reason"
    assert event.status_code == 201
    assert event.json()["recorded"] is True
    body = restated.json()
    assert restated.status_code == 201, body
    assert (body["version"], body["status"], body["previous_hash"]) == (
        2,
        "closed",
        approved.json()["hash"],
    )
    assert body["reason"] == "CT ratio doubled on 16 March"
    grid = [c for c in body["changes"] if "grid-main" in c["key"]]
    assert grid, body["changes"]
    assert all(float(c["after"]) > float(c["before"]) for c in grid)  # doubled from the 16th

    rows = audit_rows(database_url)
    assert [(actor, action, subject) for actor, action, subject, _, _ in rows] == [
        ("test manager", "period.close", f"{SITE}/{MARCH}"),
        ("test manager", "period.review", f"{SITE}/{MARCH}"),
        ("test manager", "period.approve", f"{SITE}/{MARCH}"),
        ("test operator", "meter_event.ratio_change", f"{SITE}/grid-main/energy_import"),
        ("test manager", "period.restate", f"{SITE}/{MARCH}"),
    ]
    assert rows[0][3] is None
    assert rows[0][4] == {
        "version": 1,
        "status": "closed",
        "hash": closed.json()["hash"],
        "reason": None,
    }
    assert (rows[2][3]["status"], rows[2][4]["status"]) == ("reviewed", "approved")
    assert rows[3][4]["multiplier_after"] == "2"
    assert (rows[4][3]["version"], rows[4][4]["version"]) == (1, 2)


async def test_bad_input_is_refused_naming_the_field_and_value_and_writes_nothing(
    database_url: str,
) -> None:
    replacement = {
        "kind": "replacement",
        "ts": "2026-03-10T09:30:00Z",
        "point": "energy_import",
        "final_reading": 12345.5,
        "initial_reading": 0,
    }
    async with api(database_url) as harness, harness.client("admin") as client:
        answers = {
            "month 13": await client.post(f"/api/v1/sites/{SITE}/periods/2026-13/close"),
            "future month": await client.post(f"/api/v1/sites/{SITE}/periods/2999-01/close"),
            "unknown site": await client.post("/api/v1/sites/nowhere/periods/2026-03/close"),
            "negative reading": await client.post(EVENTS, json=replacement | {"final_reading": -5}),
            "no initial reading": await client.post(
                EVENTS, json={k: v for k, v in replacement.items() if k != "initial_reading"}
            ),
            "no offset": await client.post(EVENTS, json=replacement | {"ts": "2026-03-10T09:30"}),
            "gauge": await client.post(EVENTS, json=replacement | {"point": "power"}),
            "unknown point": await client.post(EVENTS, json=replacement | {"point": "nope"}),
            "unknown meter": await client.post(
                f"/api/v1/sites/{SITE}/meters/nowhere/events", json=replacement
            ),
            "unknown kind": await client.post(EVENTS, json=replacement | {"kind": "explosion"}),
            "same ratio": await client.post(
                EVENTS,
                json={
                    "kind": "ratio_change",
                    "ts": "2026-03-10T09:30:00Z",
                    "multiplier_before": "40",
                    "multiplier_after": "40.0",
                },
            ),
        }
    for case, response in answers.items():
        assert response.headers["content-type"] == PROBLEM, case
    named = {
        case: (r.status_code, r.json().get("field"), r.json().get("value"))
        for case, r in answers.items()
    }
    assert named["month 13"] == (422, "period", "2026-13")
    assert named["future month"] == (422, "period", "2999-01")
    assert named["unknown site"] == (404, "site", "nowhere")
    assert named["negative reading"] == (422, "replacement.final_reading", -5)
    assert named["no initial reading"] == (422, "replacement.initial_reading", None)
    assert named["no offset"][:2] == (422, "replacement.ts")
    assert named["gauge"] == (422, "point", "power")
    assert named["unknown point"] == (422, "point", "nope")
    assert named["unknown meter"] == (404, "meter", f"{SITE}/nowhere")
    assert named["unknown kind"][0] == 422  # pydantic names the tag in its message
    assert "'explosion' found using 'kind'" in answers["unknown kind"].json()["detail"]
    assert named["same ratio"][:2] == (422, "ratio_change")
    assert "multiplier_after equals multiplier_before" in answers["same ratio"].json()["detail"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM statement").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM meter_event").fetchone() == (0,)
    assert audit_rows(database_url) == []


async def test_a_write_whose_audit_row_fails_leaves_nothing_behind(database_url: str) -> None:
    async with api(database_url) as harness, harness.client("manager") as client:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$;
                   CREATE TRIGGER refuse BEFORE INSERT ON audit_log
                   FOR EACH ROW EXECUTE FUNCTION refuse();"""
            )
        closed = await client.post(f"{PERIOD}/close")
        event = await client.post(
            EVENTS,
            json={"kind": "reset", "ts": "2026-03-10T09:30:00Z", "point": "energy_import"},
        )
    assert (closed.status_code, event.status_code) == (503, 503)
    assert "audit log unavailable" in closed.json()["detail"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM statement").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM meter_event").fetchone() == (0,)


async def test_the_same_event_sent_twice_is_recorded_and_audited_once(database_url: str) -> None:
    event = {
        "kind": "replacement",
        "ts": "2026-03-10T09:30:00+01:00",
        "point": "energy_import",
        "final_reading": 8123.25,
        "initial_reading": 0.5,
        "serial": "SDM-NEW-7",
    }
    async with api(database_url) as harness, harness.client("operator") as client:
        first = await client.post(EVENTS, json=event)
        second = await client.post(EVENTS, json=event)
    assert (first.status_code, first.json()["recorded"]) == (201, True)
    assert (second.status_code, second.json()["recorded"]) == (200, False)
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT kind, old_value, new_value, detail, recorded_by FROM meter_event"
        ).fetchall()
    assert stored == [("replacement", 8123.25, 0.5, {"serial": "SDM-NEW-7"}, "test operator")]
    assert [row[1] for row in audit_rows(database_url)] == ["meter_event.replacement"]


async def test_moving_a_month_the_workflow_does_not_allow_is_a_conflict(
    database_url: str,
) -> None:
    async with api(database_url) as harness, harness.client("manager") as client:
        review_open = await client.post(f"{PERIOD}/review")
        await client.post(f"{PERIOD}/close")
        approve_unreviewed = await client.post(f"{PERIOD}/approve")
        close_again = await client.post(f"{PERIOD}/close")
        restate_draft = await client.post(f"{PERIOD}/restatement", json={"reason": "why not"})
    assert review_open.status_code == 409
    assert "is not closed" in review_open.json()["detail"]
    assert approve_unreviewed.status_code == 409
    assert close_again.status_code == 409
    assert "a reason" in close_again.json()["detail"]
    assert restate_draft.status_code == 409
    assert "only approved periods are restated" in restate_draft.json()["detail"]
    assert [row[1] for row in audit_rows(database_url)] == ["period.close"]


async def test_the_audit_log_is_served_to_auditors_in_pages_and_by_site(
    database_url: str,
) -> None:
    async with api(database_url) as harness:
        async with harness.client("manager") as client:
            await client.post(f"{PERIOD}/close")
            await client.post(f"{PERIOD}/review")
        async with harness.client("auditor") as client:
            everything = (await client.get("/api/v1/audit", params={"limit": 1000})).json()
            first = (await client.get("/api/v1/audit", params={"limit": 2})).json()
            rest = (await client.get("/api/v1/audit", params={"after": first["next_after"]})).json()
        async with harness.client("other-auditor") as client:
            scoped = (await client.get("/api/v1/audit")).json()
            refused = await client.get("/api/v1/audit", params={"site": SITE})
        async with harness.client("manager") as client:
            manager = await client.get("/api/v1/audit")
    actions = [item["action"] for item in everything["items"]]
    assert actions[-2:] == ["period.close", "period.review"]
    assert everything["next_after"] is None
    assert [i["id"] for i in first["items"] + rest["items"]] == [
        i["id"] for i in everything["items"]
    ]
    assert everything["items"][-1]["actor"] == "test manager"
    assert {i["site"] for i in scoped["items"]} == {"other-site"}  # the scoped tokens' creation
    assert refused.status_code == 403
    assert manager.status_code == 403
