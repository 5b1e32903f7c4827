"""unit_set_status: a unit moves on in its life (handed over, renovating, occupied…)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from server.operations import ServiceOperation

from ..models import Unit
from ..services import unit_get


def check(params: dict) -> list[str]:
    status = params.get("status")
    if "status" in params and status not in Unit.Status.values:
        return [f"status must be one of {', '.join(Unit.Status.values)}, not {status!r}"]
    return []


def apply(params: dict, *, batch, today) -> dict:
    unit = unit_get(params["unit"])
    before = unit.status
    unit.status = params["status"]
    batch.update(unit, ["status"])
    return {"unit": unit.code, "from": before, "to": unit.status}


def describe(data: dict, language: str) -> str:
    return _("Unit %(unit)s: %(from)s → %(to)s") % {
        "unit": data.get("unit", ""),
        "from": _status(data.get("from", "")),
        "to": _status(data.get("to", "")),
    }


def _status(key: str) -> str:
    """A status in the reader's language (its key if a later version dropped it)."""
    return str(Unit.Status(key).label) if key in Unit.Status.values else key


OPERATION = ServiceOperation(
    name="unit_set_status",
    summary="Set the unit's status",
    required=("unit", "status"),
    check=check,
    apply=apply,
    audit_kind="unit_status_changed",
    describe=describe,
)
