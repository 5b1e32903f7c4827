"""A case's audit events as a timeline a person reads, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engine import personal
from server.audit import words
from server.flows import presenters
from server.flows.cases.personal import recorded_form
from server.flows.models import AuditEvent
from server.flows.notifications import messages

from . import schema_form


def duration_text(minutes: int, language: str) -> str:
    """ "due in 2 h 5 min" / "15 min late" (negative ``minutes``: late)."""
    span = messages.duration(abs(minutes), language)
    return _("%(span)s late") % {"span": span} if minutes < 0 else (
        _("due in %(span)s") % {"span": span})  # fmt: skip


status_label = words.status_label
role_label = words.role_label


@dataclass
class Entry:
    event: AuditEvent
    title: str
    detail: str = ""
    lines: list[schema_form.Shown] = field(default_factory=list)
    important: bool = False


@dataclass
class Step:
    """A milestone on the case page's step bar."""

    name: str
    state: str  # done | current | todo
    at: object = None
    actor: object = None


def steps(source, events, open_tasks, language: str) -> list[Step]:
    """The case's milestones (its package's ``[[milestones]]``), each with when and by
    whom it was reached, from the audit trail already read for the timeline."""
    return [
        Step(p["milestone"].name(language), p["state"], p["at"], p["actor"])
        for p in presenters.progress(source, events, open_tasks)
    ]


@dataclass(frozen=True)
class Read:
    """A read of the case's personal data, drawn like an event on the timeline."""

    at: object
    actor: object
    kind: str = "personal_data_read"


WHERE = {
    "case_page": gettext_lazy("the case page"),
    "task_page": gettext_lazy("a task page"),
    "events_api": gettext_lazy("the events API"),
    "file": gettext_lazy("a file"),
    "trail": gettext_lazy("the trail"),
    "export": gettext_lazy("an export"),
}


def entries(events, source, language: str, *, contacts: bool, reads=()) -> list[Entry]:
    """One entry per audit event, recorded form data labelled by its form, its personal
    fields (``x-personal``) withheld unless ``contacts``; and one per read of the case's
    personal data (``reads``, for those who may see them), in time order."""
    out, waiting = [], [_read(r) for r in reads]
    for event in events:
        while waiting and waiting[0].event.at < event.at:  # a read goes where it happened
            out.append(waiting.pop(0))
        data = event.data or {}
        entry = _entry(event, data, language, source)
        recorded = data.get("data")
        if isinstance(recorded, dict) and recorded:
            schema = recorded_form(event, source)
            hide = frozenset()
            if not contacts:  # the top-level fields show as withheld, nested ones as ***
                hide, recorded = personal.personal_fields(schema), personal.redact(recorded, schema)
            entry.lines = schema_form.describe(schema, recorded, language, hide=hide)
        out.append(entry)
    return out + waiting


def _read(read) -> Entry:
    title = _("%(who)s read the personal data (%(where)s)") % {
        "who": read.reader.get_username(), "where": WHERE.get(read.what, read.what),
    }  # fmt: skip
    return Entry(event=Read(read.at, read.reader), title=title)


def _entry(event, data: dict, language: str, source) -> Entry:
    """The event's line: what happened, in the reader's language (the auditor's trail
    says it in the same words)."""
    title, detail, important = words.describe(event, language, source)
    return Entry(event=event, title=title, detail=detail, important=important)
