"""A case's audit events as a timeline a person reads, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engine import personal
from engine.roles import ROLES
from engine.text import pick
from server import operations
from server.flows import presenters
from server.flows.cases.personal import recorded_form
from server.flows.models import AuditEvent, ProcessInstance
from server.flows.notifications import messages

from . import schema_form

Kind = AuditEvent.Kind
ROLE_NAMES = {r.key: (r.name_zh, r.name_en) for r in ROLES}


def duration_text(minutes: int, language: str) -> str:
    """ "due in 2 h 5 min" / "15 min late" (negative ``minutes``: late)."""
    span = messages.duration(abs(minutes), language)
    return _("%(span)s late") % {"span": span} if minutes < 0 else (
        _("due in %(span)s") % {"span": span})  # fmt: skip


def status_label(status: str) -> str:
    return {
        ProcessInstance.Status.RUNNING: _("Running"),
        ProcessInstance.Status.SUSPENDED: _("Suspended"),
        ProcessInstance.Status.COMPLETED: _("Completed"),
        ProcessInstance.Status.CANCELLED: _("Cancelled"),
    }.get(status, status)


def role_label(key: str, language: str) -> str:
    return pick(ROLE_NAMES.get(key), language, key)


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


def _task(event: AuditEvent, language: str) -> str:
    task = event.task
    if task is None:
        return ""
    return pick([task.name, task.name_en], language)


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
    """The event's line: what happened, in the reader's language."""
    task = _task(event, language)
    role = role_label(data.get("role", ""), language)
    entry = Entry(event=event, title=event.kind)
    match event.kind:
        case Kind.INSTANCE_STARTED:
            entry.title = _("Case started")
        case Kind.TASK_CREATED if data.get("assignee"):
            entry.title = _("New task “%(task)s” for %(role)s, given to %(who)s") % {
                "task": task, "role": role, "who": data["assignee"],
            }  # fmt: skip
        case Kind.TASK_CREATED:
            entry.title = _("New task “%(task)s” for %(role)s") % {"task": task, "role": role}
        case Kind.TASK_CLAIMED:
            entry.title = _("Claimed “%(task)s”") % {"task": task}
        case Kind.TASK_UNCLAIMED:
            entry.title = _("Put “%(task)s” back in the pool") % {"task": task}
            entry.detail = str(data.get("reason", ""))
        case Kind.TASK_HANDED_BACK:
            entry.title = _("Handed “%(task)s” back, saying why") % {"task": task}
            entry.detail = str(data.get("reason", ""))
            entry.important = True
        case Kind.TASK_ASSIGNED:
            entry.title = _("Reassigned “%(task)s”") % {"task": task}
        case Kind.TASK_COMPLETED:
            entry.title = _("Completed “%(task)s”") % {"task": task}
        case Kind.TASK_CANCELLED:
            entry.title = _("“%(task)s” closed by the process") % {"task": task}
        case Kind.TIMER_FIRED:
            english = source.glossary.get(data.get("timer", ""))
            name = pick([data.get("name", ""), english], language)
            entry.title = _("Time limit reached: %(name)s") % {"name": name}
        case Kind.ESCALATED:
            entry.title = _("Escalated to level %(level)s: %(role)s") % {
                "level": data.get("level"), "role": role,
            }  # fmt: skip
            entry.important = True
        case Kind.NOTIFIED:
            entry.title = _("Reminder sent to %(role)s") % {"role": role}
        case Kind.INSTANCE_CANCELLED:
            entry.title = _("Case cancelled")
            entry.detail = str(data.get("reason", ""))
            entry.important = True
        case Kind.INSTANCE_COMPLETED:
            entry.title = _("Case completed")
        case Kind.INSTANCE_SUSPENDED:
            entry.title = _("Case suspended")
            entry.detail = str(data.get("reason", ""))
            entry.important = True
        case Kind.INSTANCE_RESUMED:
            entry.title = _("Case resumed")
        case Kind.INSTANCE_MIGRATED:
            entry.title = _("Moved from version %(old)s to version %(new)s") % {
                "old": data.get("from"), "new": data.get("to"),
            }  # fmt: skip
        case _:  # what a service-task operation recorded: its declaration says how
            entry.title = operations.describe(event.kind, data, language) or event.kind
    return entry
