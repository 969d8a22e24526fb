"""The one error tree of meterledger.

Every part raises from here, so a caller can catch one family and an error carries its
subject as attributes rather than in a message prefix. Third-party errors (psycopg,
pymodbus, paho) are caught at the adapter that talks to them and re-raised from one of
these with ``raise ... from``::

    MeterledgerError
    ├── ConfigError            a plant file or register map that cannot be used
    ├── StoreError             the database refused or could not be reached
    │   └── MigrationError     a migration failed or an applied one was edited
    ├── DeviceError            a Modbus device did not answer or answered an exception
    ├── PayloadError           an MQTT payload that cannot be decoded
    ├── EmbeddedServiceError   a private PostgreSQL, broker or serial line could not start
    ├── UnitError              a quantity whose unit is unknown or does not fit the operation
    ├── FactorError            a factor set that cannot be loaded, or no factor for a period
    ├── InputError             a manual entry, instrument or production figure that cannot be used
    ├── WorkflowError          a period move the workflow does not allow (with its findings)
    ├── PartFailedError        a running part of the system stopped on its own
    ├── NotFoundError          a site, meter or point (named by its key) that does not exist
    └── AccessError            the API refuses a request for who sent it
        ├── AuthenticationError    no bearer token, or an unknown or revoked one (401)
        └── PermissionDeniedError  the token's role or site may not use the route (403)
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class MeterledgerError(Exception):
    """Base of every error meterledger raises on purpose."""


class ConfigError(MeterledgerError):
    """A configuration value that cannot be used, with where it was found."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        self.source = source
        self.field = field
        self.reason = reason
        super().__init__(f"{source}: {field}: {reason}")

    @classmethod
    def from_validation(cls, source: str, exc: ValidationError, raw: Any) -> ConfigError:
        """Name the first invalid field by its path, with the id of each list item on it."""
        first = exc.errors()[0]
        reason = first["msg"]
        if first["type"] not in ("missing", "extra_forbidden") and "input" in first:
            reason = f"{reason} (got {first['input']!r})"
        if len(exc.errors()) > 1:
            reason = f"{reason}; and {len(exc.errors()) - 1} more error(s)"
        return cls(source, _field_path(first["loc"], raw), reason)


class StoreError(MeterledgerError):
    """The database refused an operation or could not be reached."""


class MigrationError(StoreError):
    """A migration could not be applied, or an applied one no longer matches its file."""

    def __init__(self, version: str, reason: str) -> None:
        self.version = version
        self.reason = reason
        super().__init__(f"migration {version}: {reason}")


class DeviceError(MeterledgerError):
    """A Modbus request failed: no answer, a broken connection or an exception code."""

    def __init__(self, gateway: str, unit_id: int, address: int, reason: str) -> None:
        self.gateway = gateway
        self.unit_id = unit_id
        self.address = address
        self.reason = reason
        super().__init__(f"{gateway} unit {unit_id} address {address}: {reason}")


class PayloadError(MeterledgerError):
    """An MQTT payload that does not match the configured format."""

    def __init__(self, topic: str, reason: str) -> None:
        self.topic = topic
        self.reason = reason
        super().__init__(f"topic {topic!r}: {reason}")


class EmbeddedServiceError(MeterledgerError):
    """A private PostgreSQL, MQTT broker or virtual serial line could not be started."""


class UnitError(MeterledgerError):
    """A unit that cannot be parsed, or quantities whose dimensions do not fit together.

    ``expression`` shows the operation with its units (``km × kgCO2e/(t·km)``), so the
    message names the quantities, not just the dimensions.
    """

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"{expression}: {reason}")


class FactorError(MeterledgerError):
    """A factor set that cannot be loaded, or no factor for a carrier, region and period.

    ``subject`` says where (``cn.csv line 14, column value`` or
    ``electricity_grid in CN for [2024-01-01, 2024-02-01)``); loading errors also carry
    the ``line``, ``column`` and offending ``value``.
    """

    def __init__(
        self,
        subject: str,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.subject = subject
        self.reason = reason
        self.line = line
        self.column = column
        self.value = value
        super().__init__(f"{subject}: {reason}")


class InputError(MeterledgerError):
    """A ledger input (manual entry, instrument, production figure) that cannot be used.

    ``field`` and ``value`` name what was given (``quantity``, ``'561 km'``), ``reason``
    why it cannot be used.
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} {value!r}: {reason}")


class WorkflowError(MeterledgerError):
    """A period cannot move from ``status`` to ``target``; blocking findings are attached."""

    def __init__(
        self, status: str, target: str, reason: str, *, findings: tuple[object, ...] = ()
    ) -> None:
        self.status = status
        self.target = target
        self.reason = reason
        self.findings = findings
        super().__init__(f"{status} -> {target}: {reason}")


class PartFailedError(MeterledgerError):
    """A part of the running system (collector, API, a simulator) stopped on its own."""


class NotFoundError(MeterledgerError):
    """A ``kind`` of thing (site, meter, point) with the ``key`` a request named is not there."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class AccessError(MeterledgerError):
    """The API refuses a request because of who sent it; ``reason`` says what is missing."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AuthenticationError(AccessError):
    """No bearer token, or one that is unknown or revoked: the caller is nobody we know."""


class PermissionDeniedError(AccessError):
    """A known token whose role or site scope does not allow the route."""

    def __init__(self, reason: str, *, role: str, site: str | None = None) -> None:
        self.role = role
        self.site = site
        super().__init__(reason)


def _field_path(loc: tuple[int | str, ...], raw: Any) -> str:
    """Render a pydantic location as ``meters[2](id=gas).points``, following the raw data."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            item = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("id") or item.get("name"), str):
                label += f"(id={item.get('id') or item.get('name')})"
            parts.append(label)
            node = item
        else:
            parts.append(f".{key}" if parts else str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(root)"
