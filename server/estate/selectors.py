"""Reading the unit registry for people: the lookup an intake form searches as the caller
speaks (a unit code, a building, an owner's name)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from .models import Resident, Unit


def unit_search(*, q: str = "") -> QuerySet[Unit]:
    """Units whose code starts with or contains ``q``, or whose building or current owner's
    name contains it; by code, with their building, site and owners read in two queries."""
    owners = Resident.objects.filter(kind=Resident.Kind.OWNER, moved_out__isnull=True)
    units = Unit.objects.select_related("building__site").prefetch_related(
        Prefetch("residents", queryset=owners.order_by("pk"), to_attr="owners")
    )
    q = q.strip()
    if q:
        units = units.filter(
            Q(code__icontains=q) | Q(building__name__icontains=q)
            | Q(residents__name__icontains=q, residents__kind=Resident.Kind.OWNER)
        ).distinct()  # fmt: skip
    return units.order_by("code")
