"""owner_file_record: the owner file of a unit (一户一档), created or brought up to date."""

from __future__ import annotations

from server.operations import ServiceOperation

from ..models import Resident
from ..services import date_or, unit_get
from . import _owner_file


def _people(params: dict) -> list[tuple[str, dict]]:
    people = [(Resident.Kind.OWNER, params["owner"])]
    return people + [(Resident.Kind.HOUSEHOLD, m) for m in params.get("household") or []]


def apply(params: dict, *, batch, today) -> dict:
    unit = unit_get(params["unit"])
    current = {(r.kind, r.name): r for r in unit.residents.filter(moved_out__isnull=True)}
    moved_in = date_or(params.get("moved_in"), today)
    added = updated = 0
    new = []
    for kind, person in _people(params):
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


OPERATION = ServiceOperation(
    name="owner_file_record",
    summary="Create or update the owner file of the unit (一户一档)",
    required=("unit", "owner"),
    optional=("household", "vehicles", "moved_in"),
    apply=apply,
    audit_kind=_owner_file.AUDIT_KIND,
    describe=_owner_file.describe,
)
