"""Meter events over HTTP: replacements, resets and ratio changes, checked before stored.

The body is validated by kind (a replacement needs both readings, a ratio change two
different multipliers); the meter and point must exist, and a replacement or reset must
hit a counter. The event and its audit-log row are written in one transaction; the same
event sent again is recorded once and audited once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response
from psycopg_pool import AsyncConnectionPool

from api.auth import Caller
from api.workflow_routes import SiteKey
from api.write_schemas import (
    ERRORS,
    MeterEventBody,
    MeterEventIn,
    MeterEventOut,
    RatioChange,
    Replacement,
)
from meterledger.errors import InputError, NotFoundError
from store.access import AuditEntry, append_audit
from store.catalog import KEY_PATTERN
from store.events import MeterEvent, record_event
from store.meter_lookup import meter_points
from store.transaction import transaction

MeterKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["grid-main"])]

#: Clocks of the person entering an event and of the server disagree a little.
CLOCK_SLACK = timedelta(minutes=5)


def event_router(pool: AsyncConnectionPool) -> APIRouter:
    router = APIRouter(prefix="/api/v1/sites/{site}/meters/{meter}", tags=["meter events"])

    @router.post(
        "/events",
        status_code=201,
        response_model=MeterEventOut,
        responses={200: {"model": MeterEventOut, "description": "Recorded before"}, **ERRORS},
    )
    async def record_meter_event(
        site: SiteKey, meter: MeterKey, body: MeterEventIn, who: Caller, response: Response
    ) -> MeterEventOut:
        """Record a replacement, reset or ratio change of a meter.

        A month already closed that the event falls in is not changed: the scheduler
        shows it as a pending restatement.
        """
        await _check_target(pool, site, meter, body)
        event = _event(site, meter, body, who.name)
        async with transaction(pool) as tx:
            recorded = await record_event(tx, event)
            if recorded:
                await append_audit(
                    tx,
                    AuditEntry(
                        who.name,
                        f"meter_event.{body.kind}",
                        f"{site}/{meter}" + (f"/{body.point}" if body.point else ""),
                        token_id=who.id,
                        site=site,
                        after=body.model_dump(mode="json"),
                    ),
                )
        if not recorded:
            response.status_code = 200
        return MeterEventOut(
            site=site,
            meter=meter,
            point=body.point,
            kind=body.kind,
            ts=body.ts,
            recorded=recorded,
        )

    return router


async def _check_target(
    pool: AsyncConnectionPool, site: str, meter: str, body: MeterEventBody
) -> None:
    """Refuse an event for a meter or point that is not there, a gauge, or the future."""
    points = await meter_points(pool, site, meter)
    if points is None:
        raise NotFoundError("meter", f"{site}/{meter}")
    if body.point is not None and body.point not in points:
        raise InputError("point", body.point, f"meter {meter} has points {sorted(points)}")
    if body.point is not None and points[body.point] != "counter":
        raise InputError("point", body.point, f"is a {points[body.point]}, not a counter")
    if body.ts > datetime.now(UTC) + CLOCK_SLACK:
        raise InputError("ts", body.ts.isoformat(), "is in the future")


def _event(site: str, meter: str, body: MeterEventBody, by: str) -> MeterEvent:
    detail: dict[str, object] = {"note": body.note} if body.note else {}
    if isinstance(body, RatioChange):
        detail |= {
            "multiplier_before": str(body.multiplier_before),
            "multiplier_after": str(body.multiplier_after),
        }
        if body.reading is not None:
            detail["value"] = body.reading
        return MeterEvent(
            site, meter, body.ts, "ratio_change", body.point, detail=detail, recorded_by=by
        )
    if isinstance(body, Replacement) and body.serial:
        detail["serial"] = body.serial
    return MeterEvent(
        site,
        meter,
        body.ts,
        body.kind,
        body.point,
        old_value=body.final_reading,
        new_value=body.initial_reading,
        detail=detail,
        recorded_by=by,
    )
