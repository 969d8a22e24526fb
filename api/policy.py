"""Who may call which route: one rule per route, keyed by method and path template.

Roles: viewer < operator < manager < admin, each allowed what the one before is, plus the
auditor, who reads everything the others read (lineage and the audit log included) and
changes nothing. A route with no rule here is refused to everyone at run time, and the
role matrix test (tests/integration/test_api_roles.py) fails for it, so a new route cannot
ship open by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.access import ROLES, Role


@dataclass(frozen=True, slots=True)
class Rule:
    """The roles a route admits; ``public`` routes need no token at all."""

    roles: frozenset[Role]
    public: bool = False

    def admits(self, role: Role) -> bool:
        return self.public or role in self.roles


def _rule(*roles: Role) -> Rule:
    return Rule(frozenset(roles))


#: Probes and the contract stay open: a load balancer, Prometheus and a client generator
#: hold no token, and none of them shows data of a plant.
PUBLIC = Rule(frozenset(ROLES), public=True)
READ = _rule("viewer", "operator", "manager", "auditor", "admin")
#: Traceability down to readings, factor records and formulas: for whoever answers for
#: the figures, and the verifier.
LINEAGE = _rule("manager", "auditor", "admin")
#: What happens to meters on site: replacements, resets, ratio changes.
METER_WRITE = _rule("operator", "manager", "admin")
#: The period workflow: close, review, approve, restate.
LEDGER_WRITE = _rule("manager", "admin")
#: What the plant records by hand for a month: fuel deliveries, refrigerant top-ups,
#: freight, output per line. Like meter events, facts seen on site that feed the ledger
#: but never change a closed month by themselves (an approved one gets a pending
#: restatement that only LEDGER_WRITE can restate), so whoever records meter events may.
INPUT_WRITE = METER_WRITE
#: Contractual instruments are a purchase claimed against market-based scope 2: a
#: commercial decision the manager answers for, like the workflow.
INSTRUMENT_WRITE = LEDGER_WRITE
AUDIT_READ = _rule("auditor", "admin")

POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    # The dashboard page (api/dashboard.py) holds no data: it asks /api/v1 with the user's
    # token. Its assets under /static are a mount, outside routing and this table.
    ("GET", "/"): PUBLIC,
    ("GET", "/api/v1/me"): READ,
    ("GET", "/api/v1/sites/{site}/flow"): READ,
    ("GET", "/api/v1/sites/{site}/devices"): READ,
    ("GET", "/api/v1/sites/{site}/history"): READ,
    ("GET", "/api/v1/live"): READ,
    # The read side (api/catalog_routes.py, series_routes.py, ledger_routes.py,
    # factor_routes.py, stream.py).
    ("GET", "/api/v1/live/stream"): READ,
    ("GET", "/api/v1/sites"): READ,
    ("GET", "/api/v1/sites/{site}"): READ,
    ("GET", "/api/v1/sites/{site}/meters"): READ,
    ("GET", "/api/v1/sites/{site}/meters/{meter}"): READ,
    ("GET", "/api/v1/sites/{site}/meters/{meter}/events"): READ,
    ("GET", "/api/v1/points"): READ,
    ("GET", "/api/v1/points/{point_id}"): READ,
    ("GET", "/api/v1/points/{point_id}/series"): READ,
    ("GET", "/api/v1/sites/{site}/month-to-date"): READ,
    ("GET", "/api/v1/sites/{site}/periods"): READ,
    ("GET", "/api/v1/sites/{site}/periods/{period}"): READ,
    ("GET", "/api/v1/sites/{site}/periods/{period}/versions"): READ,
    ("GET", "/api/v1/sites/{site}/periods/{period}/diff"): READ,
    ("GET", "/api/v1/sites/{site}/periods/{period}/lineage"): LINEAGE,
    ("GET", "/api/v1/sites/{site}/chain"): LINEAGE,
    ("GET", "/api/v1/factor-sets"): READ,
    ("GET", "/api/v1/factor-sets/{name}/{version}"): READ,
    ("GET", "/api/v1/factor-sets/{name}/{version}/factors"): READ,
    ("POST", "/api/v1/factor-sets"): _rule("admin"),
    ("POST", "/api/v1/sites/{site}/periods/{period}/close"): LEDGER_WRITE,
    ("POST", "/api/v1/sites/{site}/periods/{period}/review"): LEDGER_WRITE,
    ("POST", "/api/v1/sites/{site}/periods/{period}/approve"): LEDGER_WRITE,
    ("POST", "/api/v1/sites/{site}/periods/{period}/restatement"): LEDGER_WRITE,
    ("POST", "/api/v1/sites/{site}/meters/{meter}/events"): METER_WRITE,
    # Ledger inputs (api/input_routes.py).
    ("GET", "/api/v1/sites/{site}/periods/{period}/entries"): READ,
    ("POST", "/api/v1/sites/{site}/periods/{period}/entries"): INPUT_WRITE,
    ("POST", "/api/v1/sites/{site}/entries/{input_id}/void"): INPUT_WRITE,
    ("GET", "/api/v1/sites/{site}/periods/{period}/production"): READ,
    ("POST", "/api/v1/sites/{site}/periods/{period}/production"): INPUT_WRITE,
    ("POST", "/api/v1/sites/{site}/production/{input_id}/void"): INPUT_WRITE,
    ("GET", "/api/v1/sites/{site}/instruments"): READ,
    ("POST", "/api/v1/sites/{site}/instruments"): INSTRUMENT_WRITE,
    ("POST", "/api/v1/sites/{site}/instruments/{input_id}/void"): INSTRUMENT_WRITE,
    ("GET", "/api/v1/audit"): AUDIT_READ,
}

#: Refuses everyone: what a route without a rule gets.
NOBODY = Rule(frozenset())


def rule_for(method: str, path: str) -> Rule:
    """The rule of a route (``path`` as declared, with ``{parameters}``); NOBODY if none."""
    return POLICY.get((method.upper(), path), NOBODY)
