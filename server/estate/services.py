"""Reading the registry for the processes: the unit a case or a service call names.

What a process changes in the registry (unit status, owner files) is declared one
operation per module in :mod:`server.estate.operations`.
"""

from __future__ import annotations

from datetime import date

from server.operations import EffectRefused

from .models import Unit


class UnknownUnit(EffectRefused):
    pass


def unit_get(code: str) -> Unit:
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise UnknownUnit(f"There is no unit {code!r} in the registry.")
    return unit


def date_or(value, default: date) -> date:
    """An ISO date (or the date part of a date-time) from process data, else ``default``."""
    return date.fromisoformat(str(value)[:10]) if value else default
