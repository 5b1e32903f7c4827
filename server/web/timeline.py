"""A case's audit events as a timeline a person reads, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from engine import policy
from server.audit import words
from server.flows import presenters
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


def entries(events, source, language: str, *, contacts: bool) -> list[Entry]:
    """One entry per audit event; recorded form data labelled by its form, contact
    fields withheld unless ``contacts``."""
    out = []
    for event in events:
        data = event.data or {}
        entry = _entry(event, data, language, source)
        recorded = data.get("data")
        if isinstance(recorded, dict) and recorded:
            schema = presenters.recorded_form(event, source)
            hide = frozenset() if contacts else policy.contact_fields(schema)
            entry.lines = schema_form.describe(schema, recorded, language, hide=hide)
        out.append(entry)
    return out


def _entry(event, data: dict, language: str, source) -> Entry:
    """The event's line: what happened, in the reader's language (the auditor's trail
    says it in the same words)."""
    title, detail, important = words.describe(event, language, source)
    return Entry(event=event, title=title, detail=detail, important=important)
