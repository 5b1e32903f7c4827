"""What processes change in the registry: unit status and owner files.

Processes ask through named BPMN service tasks (engine/operations.py); the flow
services hand each call here, inside the step's transaction, and the rows go
out with the step's own write batch.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.operations import Effect

from .models import Resident, Unit


class UnknownUnit(Exception):
    pass


def unit_get(code: str) -> Unit:
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise UnknownUnit(f"There is no unit {code!r} in the registry.")
    return unit


def _date(value) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _unit_set_status(params: dict, batch) -> dict[str, Any]:
    unit = unit_get(params["unit"])
    before = unit.status
    unit.status = params["status"]
    batch.update(unit, ["status"])
    return {"unit": unit.code, "from": before, "to": unit.status}


def _owner_file_record(params: dict, batch, today: date) -> dict[str, Any]:
    unit = unit_get(params["unit"])
    current = {(r.kind, r.name): r for r in unit.residents.filter(moved_out__isnull=True)}
    moved_in = _date(params.get("moved_in")) or today
    people = [(Resident.Kind.OWNER, params["owner"])]
    people += [(Resident.Kind.HOUSEHOLD, m) for m in params.get("household") or []]
    added = updated = 0
    new = []
    for kind, person in people:
        name = str(person.get("name", "")).strip()
        if not name:
            continue
        phone = str(person.get("phone", ""))[:32]
        id_number = str(person.get("id_number", ""))[:32]
        found = current.get((kind, name))
        if found is None:
            new.append(Resident(unit=unit, kind=kind, name=name[:100], phone=phone,
                                id_number=id_number, moved_in=moved_in))  # fmt: skip
            added += 1
        elif (found.phone, found.id_number) != (phone, id_number or found.id_number):
            found.phone, found.id_number = phone, id_number or found.id_number
            batch.update(found, ["phone", "id_number"])
            updated += 1
    batch.insert(new)
    return {"unit": unit.code, "added": added, "updated": updated}


def _owner_file_move_out(params: dict, batch, today: date) -> dict[str, Any]:
    unit = unit_get(params["unit"])
    moved_out = _date(params.get("moved_out")) or today
    residents = list(unit.residents.filter(moved_out__isnull=True))
    for resident in residents:
        resident.moved_out = moved_out
        batch.update(resident, ["moved_out"])
    return {"unit": unit.code, "moved_out": len(residents)}


def effect_apply(effect: Effect, *, batch, today: date) -> tuple[str, dict[str, Any]]:
    """Queue the rows of one service call on ``batch``; returns (audit kind, audit data)."""
    if effect.operation == "unit_set_status":
        return "unit_status_changed", _unit_set_status(effect.params, batch)
    if effect.operation == "owner_file_record":
        return "owner_file_updated", _owner_file_record(effect.params, batch, today)
    if effect.operation == "owner_file_move_out":
        return "owner_file_updated", _owner_file_move_out(effect.params, batch, today)
    raise ValueError(f"No handler for service operation {effect.operation!r}")
