"""Retention: a finished case's personal data is masked after a set number of years.

``PROPFLOW_PERSONAL_DATA_YEARS`` (5; 0 keeps it forever) after a case completed or was
cancelled, :func:`retire_due` masks, case by case and each in one step under the case's
lock, the values of every field its process's forms flag ``x-personal``:

- in its audit events, each such value becomes ``{"$redacted": digest}``, the salted digest
  the chain hashed (server/flows/cases/chain.py), so the trail still verifies; the database
  lets this one change through (migration 0017) only in a transaction that asks for it, and
  only to ``data``;
- in the engine's saved state and the case's summary, the value becomes ``***``;
- its personal attachments (signatures, photos of documents) lose their rows, and
  ``manage.py files_sweep`` removes their bytes.

The step records ``personal_data_retired`` (how many values, which fields, the rule's
years) on the case's own trail: what was removed and when stays auditable, not what it was.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef

from engine import ProcessSource, clock
from engine import personal as flags
from server.files.models import Attachment

from ..definitions.cache import source_for
from ..models import AuditEvent, ProcessInstance
from . import chain
from .personal import Masker
from .step import Step, locked

RETIRED = "personal_data_retired"
MASK = flags.MASK
FINISHED = (ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED)


Path = tuple[str, ...]  # a field's place in a form's data; "*" stands for every item


def personal_paths(source: ProcessSource) -> frozenset[Path]:
    """Where each ``x-personal`` field of the process's forms sits in its form's data:
    ``("phone",)``, ``("caller", "name")``, ``("vehicles", "*", "plate")``
    (engine/personal.py; a flagged field covers all below it)."""
    return frozenset(
        tuple(path.split("."))
        for schema in source.forms.values()
        for path in flags.personal_paths(schema)
    )


def _replace(data, path: Path, change) -> int:
    """Replace, in place, the value at ``path`` in ``data`` by ``change(value)`` when it is
    there and not already replaced; answers how many values changed."""
    if not path:
        return 0
    head, rest = path[0], path[1:]
    if head == flags.ITEMS:
        items = data if isinstance(data, list) else []
        if not rest:
            return sum(_replace_item(items, i, change) for i in range(len(items)))
        return sum(_replace(item, rest, change) for item in items)
    if not isinstance(data, dict) or head not in data:
        return 0
    if rest:
        return _replace(data[head], rest, change)
    new = change(data[head])
    if new == data[head]:
        return 0
    data[head] = new
    return 1


def _replace_item(items: list, index: int, change) -> int:
    new = change(items[index])
    if new == items[index]:
        return 0
    items[index] = new
    return 1


def due(*, years: float | None = None, now=None):
    """Finished cases past the rule whose personal data is still there."""
    years = settings.PROPFLOW_PERSONAL_DATA_YEARS if years is None else years
    if years <= 0:
        return ProcessInstance.objects.none()
    cutoff = (now or clock.now()) - timedelta(days=round(365.25 * years))
    retired = AuditEvent.objects.filter(instance=OuterRef("pk"), kind=RETIRED)
    return (
        ProcessInstance.objects.filter(status__in=FINISHED, completed_at__lt=cutoff)
        .exclude(Exists(retired)).order_by("completed_at", "pk")
    )  # fmt: skip


def retire_due(*, years: float | None = None, limit: int | None = None) -> list[int]:
    """Mask the personal data of every case past the rule; answers their ids."""
    years = settings.PROPFLOW_PERSONAL_DATA_YEARS if years is None else years
    ids = list(due(years=years).values_list("pk", flat=True)[:limit])
    for pk in ids:
        retire(instance_id=pk, years=years)
    return ids


def retire(*, instance_id: int, years: float) -> int:
    """Mask one case's personal data (see the module); answers how many values went."""
    with locked(instance_id=instance_id) as write:
        instance = write.instance
        if instance.status not in FINISHED:
            return 0
        paths = personal_paths(source_for(instance.definition_id))
        masked = _mask_events(instance) if paths else 0
        state = json.loads(instance.engine_state)
        if _mask_state(state, paths):
            instance.engine_state = json.dumps(state)
        summary = dict(instance.summary)
        if sum(_replace(summary, path, _masked) for path in paths):
            instance.summary = summary
            write.instance_fields.add("summary")
        files = _drop_personal_files(write)
        fields = sorted(".".join(p) for p in paths)
        write.event(
            RETIRED, data={"fields": fields, "values": masked, "files": files, "years": years}
        )
    return masked


def _masked(value):
    return value if value is None else MASK


def _mask_events(instance: ProcessInstance) -> int:
    """Replace each personal value the case's events recorded (by the recording form's
    flags, :class:`.personal.Masker`) by its digest's marker: the one change the database
    lets through, and only in this transaction."""
    count = 0

    def redact(value):
        nonlocal count
        new = chain.redacted(instance.audit_salt, value)
        count += new != value
        return new

    masker = Masker(mask=redact)
    changed = []
    rows = AuditEvent.objects.filter(instance=instance).values_list(
        "pk", "kind", "data", "task__form"
    )
    for pk, kind, data, form in rows:
        new = masker.data(data, definition_id=instance.definition_id, kind=kind, task_form=form)
        if new != data:
            changed.append((pk, new))
    if not changed:
        return 0
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:
            cursor.execute("SELECT set_config('propflow.audit_redaction', 'on', true)")
        for pk, data in changed:
            cursor.execute(
                "UPDATE flows_auditevent SET data = %s WHERE id = %s", [json.dumps(data), pk]
            )
        if postgres:
            cursor.execute("SELECT set_config('propflow.audit_redaction', 'off', true)")
    return count


def _mask_state(node, paths: frozenset[Path]) -> int:
    """Mask, in place, the personal values of every data dict in the engine's saved state:
    a task's or the workflow's ``data`` and a task's ``delta`` ``updates``."""
    count = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("data", "updates") and isinstance(value, dict):
                count += sum(_replace(value, path, _masked) for path in paths)
            count += _mask_state(value, paths)
    elif isinstance(node, list):
        for value in node:
            count += _mask_state(value, paths)
    return count


def _drop_personal_files(write: Step) -> int:
    rows = list(Attachment.objects.filter(instance=write.instance, personal=True).values("pk"))
    if rows:
        write.batch.delete(Attachment, instance=write.instance.pk, personal=True)
    return len(rows)
