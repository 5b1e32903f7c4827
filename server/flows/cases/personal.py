"""Personal data in what a case recorded: which form an event recorded, and its data with
every ``x-personal`` value masked (engine/personal.py), for readers who may not see them.

WHO may see them is :func:`server.flows.cases.selectors.can_see_contacts`; this module
says WHAT to hide. :class:`Masker` is the one object every reader of events uses: the
events API, the case page's timeline, and the exports, which stream many cases of few
process versions (the forms' personal paths are read once per version and form).
"""

from __future__ import annotations

from engine import ProcessSource
from engine import personal as flags

from ..definitions.cache import source_for
from ..models import AuditEvent

RECORDS_FORM = frozenset({AuditEvent.Kind.INSTANCE_STARTED, AuditEvent.Kind.TASK_COMPLETED})


def recorded_form(event: AuditEvent, source: ProcessSource) -> dict | None:
    """The form whose data an event recorded: the start form, or the completed task's."""
    return _form_of(source, event.kind, event.task.form if event.task_id else None)


def _form_of(source: ProcessSource, kind: str, task_form: str | None) -> dict | None:
    if kind == AuditEvent.Kind.INSTANCE_STARTED and source.start_form:
        return source.forms.get(source.start_form)
    if kind == AuditEvent.Kind.TASK_COMPLETED and task_form:
        return source.forms.get(task_form)
    return None


class Masker:
    """Masks the personal values of events' recorded form data (``data["data"]``), by their
    forms' ``x-personal`` flags. Keep one for a whole export: sources are read once per
    process version. ``mask`` is what a personal value becomes (``"***"``)."""

    def __init__(self, mask=flags.MASK):
        self.mask = mask
        self._schemas: dict[tuple[int, str, str | None], dict | None] = {}

    def schema(self, definition_id: int, kind: str, task_form: str | None) -> dict | None:
        """The form an event of ``kind`` (of a task with form ``task_form``) recorded."""
        key = (definition_id, kind, task_form)
        if key not in self._schemas:
            found = None
            if kind in RECORDS_FORM:
                found = _form_of(source_for(definition_id), kind, task_form)
            self._schemas[key] = found
        return self._schemas[key]

    def data(self, data: dict, *, definition_id: int, kind: str, task_form: str | None) -> dict:
        """An event's ``data`` (as read from its row) with its form data masked: for an
        export that reads rows as values (``instance__definition_id``, ``task__form``)."""
        recorded = data.get("data") if isinstance(data, dict) else None
        if not isinstance(recorded, dict) or kind not in RECORDS_FORM:
            return data
        schema = self.schema(definition_id, kind, task_form)
        return {**data, "data": flags.redact(recorded, schema, self.mask)}

    def event_data(self, event: AuditEvent, *, definition_id: int) -> dict:
        """``event.data`` masked; ``definition_id``: its case's (select ``task`` with the
        events: its form is asked)."""
        return self.data(
            event.data, definition_id=definition_id, kind=event.kind,
            task_form=event.task.form if event.task_id else None,
        )  # fmt: skip

    def holds_personal(self, event: AuditEvent, *, definition_id: int) -> bool:
        """Whether the event recorded a personal value (what a read of it reveals)."""
        recorded = (event.data or {}).get("data")
        if not isinstance(recorded, dict) or event.kind not in RECORDS_FORM:
            return False
        task_form = event.task.form if event.task_id else None
        schema = self.schema(definition_id, event.kind, task_form)
        return flags.holds_personal(recorded, schema)
