"""The plant catalog: sites, meters and points, as the plant file declares them.

The plant file is the source of truth for the catalog; `sync_catalog` upserts it by key
and returns the stable integer id of every point, which is all a reading carries.
Meters and points missing from the file are kept (their readings still count): removing a
meter is a dated ``removed_at``, not a deletion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterledger.errors import StoreError

Key = str
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
POINT_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
Carrier = Literal["electricity", "natural_gas", "steam", "heat", "water", "diesel", "lpg", "other"]
Role = Literal["main", "sub", "generation", "export"]
Kind = Literal["counter", "gauge"]


class PointConfig(BaseModel):
    """A measured quantity of a meter: a counter (differenced) or a gauge (averaged)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=POINT_PATTERN)
    quantity: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    kind: Kind
    wrap: float | None = Field(default=None, gt=0, description="counter rolls over to 0 here")
    min: float | None = Field(default=None, description="physical lower bound")
    max: float | None = Field(default=None, description="physical upper bound")
    max_rate: float | None = Field(
        default=None, gt=0, description="counters: largest physical increase per hour"
    )
    resolution: float = Field(default=0, ge=0, description="counters: smallest step")
    stuck_after: int | None = Field(
        default=None, ge=2, description="flag STUCK from this many identical readings in a row"
    )
    settle_after: int = Field(
        default=3, ge=1, description="agreeing rejected readings that become a reset"
    )

    @model_validator(mode="after")
    def _rules_fit_kind(self) -> PointConfig:
        if self.kind != "counter":
            for name in ("wrap", "max_rate"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name!r} applies to counters only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class MeterConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=KEY_PATTERN)
    name: str = ""
    carrier: Carrier
    role: Role = "sub"
    parent: str | None = None
    serial: str | None = None
    model: str | None = None
    ct_ratio: float = Field(default=1, gt=0)
    pt_ratio: float = Field(default=1, gt=0)
    installed: datetime | None = None
    removed: datetime | None = None
    points: tuple[PointConfig, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_points(self) -> MeterConfig:
        seen: set[str] = set()
        for point in self.points:
            if point.id in seen:
                raise ValueError(f"point {point.id!r} is defined twice")
            seen.add(point.id)
        return self


class SiteConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=KEY_PATTERN)
    name: str = ""
    timezone: str
    grid_region: str | None = None
    meters: tuple[MeterConfig, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _meters_resolve(self) -> SiteConfig:
        ids = [meter.id for meter in self.meters]
        for meter in self.meters:
            if ids.count(meter.id) > 1:
                raise ValueError(f"meter {meter.id!r} is defined twice")
            if meter.parent is not None and meter.parent not in ids:
                raise ValueError(f"meter {meter.id!r}: parent {meter.parent!r} is not a meter")
        return self


@dataclass(frozen=True, slots=True)
class PointRef:
    """A point by its plant-file keys."""

    site: Key
    meter: Key
    point: Key


def sync_catalog(url: str, sites: tuple[SiteConfig, ...]) -> dict[PointRef, int]:
    """Upsert sites, meters and points by key; return every declared point's id."""
    ids: dict[PointRef, int] = {}
    try:
        with psycopg.connect(url) as conn, conn.transaction():
            for site in sites:
                site_id = _upsert_site(conn, site)
                meter_ids = {m.id: _upsert_meter(conn, site_id, m) for m in site.meters}
                for meter in site.meters:
                    parent = meter_ids.get(meter.parent) if meter.parent else None
                    conn.execute(
                        "UPDATE meter SET parent_id = %s WHERE id = %s",
                        (parent, meter_ids[meter.id]),
                    )
                    for point in meter.points:
                        ref = PointRef(site.id, meter.id, point.id)
                        ids[ref] = _upsert_point(conn, meter_ids[meter.id], point)
    except psycopg.Error as exc:
        raise StoreError(f"syncing the plant catalog: {exc}") from exc
    return ids


def _scalar_id(cur: psycopg.Cursor[tuple[int]]) -> int:
    row = cur.fetchone()
    assert row is not None  # RETURNING always yields the upserted row
    return row[0]


def _upsert_site(conn: psycopg.Connection[tuple[int]], site: SiteConfig) -> int:
    return _scalar_id(
        conn.execute(
            """INSERT INTO site (key, name, timezone, grid_region) VALUES (%s, %s, %s, %s)
               ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name,
                   timezone = EXCLUDED.timezone, grid_region = EXCLUDED.grid_region
               RETURNING id""",
            (site.id, site.name or site.id, site.timezone, site.grid_region),
        )
    )


def _upsert_meter(conn: psycopg.Connection[tuple[int]], site_id: int, meter: MeterConfig) -> int:
    return _scalar_id(
        conn.execute(
            """INSERT INTO meter (site_id, key, name, carrier, role, serial, model,
                                  ct_ratio, pt_ratio, installed_at, removed_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (site_id, key) DO UPDATE SET name = EXCLUDED.name,
                   carrier = EXCLUDED.carrier, role = EXCLUDED.role,
                   serial = EXCLUDED.serial, model = EXCLUDED.model,
                   ct_ratio = EXCLUDED.ct_ratio, pt_ratio = EXCLUDED.pt_ratio,
                   installed_at = EXCLUDED.installed_at, removed_at = EXCLUDED.removed_at
               RETURNING id""",
            (
                site_id,
                meter.id,
                meter.name or meter.id,
                meter.carrier,
                meter.role,
                meter.serial,
                meter.model,
                meter.ct_ratio,
                meter.pt_ratio,
                meter.installed,
                meter.removed,
            ),
        )
    )


def _upsert_point(conn: psycopg.Connection[tuple[int]], meter_id: int, point: PointConfig) -> int:
    return _scalar_id(
        conn.execute(
            """INSERT INTO point (meter_id, key, quantity, unit, kind, wrap_value)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (meter_id, key) DO UPDATE SET quantity = EXCLUDED.quantity,
                   unit = EXCLUDED.unit, kind = EXCLUDED.kind, wrap_value = EXCLUDED.wrap_value
               RETURNING id""",
            (meter_id, point.id, point.quantity, point.unit, point.kind, point.wrap),
        )
    )
