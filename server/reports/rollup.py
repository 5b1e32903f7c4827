"""Keep the KPI roll-up (:class:`server.reports.models.KpiFact`) up to date.

:func:`refresh` rewrites the items of every case that wrote an audit event since the last
run (found on the events' time index): every step that completes a task, escalates, ends a
case or changes its data writes one. A step that began before a run may commit after it
with an earlier time, so each run looks back ``OVERLAP`` further (as the audit anchors do).
Runs from beat every few minutes (``propflow.kpi_rollup``), before each KPI read, and
whole from ``manage.py kpi_rollup --full``. Two runs at once: the second waits for the
first's row lock and then finds little left to do.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from engine import clock
from server.flows.models import AuditEvent, ProcessInstance

from . import facts
from .models import KpiFact, KpiHandler, KpiRollup

OVERLAP = timedelta(minutes=10)
BATCH = 2_000


def refresh(*, full: bool = False) -> int:
    """Rewrite the items of the cases that moved (every case when ``full``); returns how
    many cases were read."""
    with transaction.atomic():
        mark, _ = KpiRollup.objects.select_for_update().get_or_create(pk=1)
        if mark.seen and not full:
            moved = AuditEvent.objects.filter(at__gte=mark.seen - OVERLAP)
            rows = moved.order_by().values_list("instance_id", "at")
        else:
            rows = ProcessInstance.objects.order_by().values_list("pk", "updated_at")
        ids, seen = set(), None
        for pk, at in rows.iterator(chunk_size=BATCH):
            ids.add(pk)
            seen = at if seen is None or at > seen else seen
        ids = sorted(ids)
        if full:
            KpiFact.objects.all().delete()
            KpiHandler.objects.all().delete()
        for first in range(0, len(ids), BATCH):
            batch = ids[first : first + BATCH]
            if not full:
                KpiFact.objects.filter(case_id__in=batch).delete()
                KpiHandler.objects.filter(case_id__in=batch).delete()
            items, handlers = facts.derive(batch)
            KpiFact.objects.bulk_create(items, batch_size=BATCH)
            KpiHandler.objects.bulk_create(handlers, batch_size=BATCH)
        if seen and (mark.seen is None or seen > mark.seen or full):
            mark.seen = seen
        mark.ran_at = clock.now()
        mark.save()
    return len(ids)
