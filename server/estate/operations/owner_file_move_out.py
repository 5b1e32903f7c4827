"""owner_file_move_out: the unit's residents moved out; the file keeps them, dated."""

from __future__ import annotations

from server.operations import ServiceOperation

from ..services import date_or, unit_get
from . import _owner_file


def apply(params: dict, *, batch, today) -> dict:
    unit = unit_get(params["unit"])
    moved_out = date_or(params.get("moved_out"), today)
    residents = list(unit.residents.filter(moved_out__isnull=True))
    for resident in residents:
        resident.moved_out = moved_out
        batch.update(resident, ["moved_out"])
    return {"unit": unit.code, "moved_out": len(residents)}


OPERATION = ServiceOperation(
    name="owner_file_move_out",
    summary="Record that the unit's residents moved out",
    required=("unit",),
    optional=("moved_out",),
    apply=apply,
    audit_kind=_owner_file.AUDIT_KIND,
    describe=_owner_file.describe,
)
