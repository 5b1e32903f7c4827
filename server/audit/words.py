"""The words of an audit event, in the reader's language: one line per kind, shared by the
case page's timeline (server/web/timeline.py) and the auditor's trail (``trail``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from engine.roles import ROLES
from engine.text import pick
from server import operations
from server.flows.models import AuditEvent, ProcessInstance

Kind = AuditEvent.Kind
ROLE_NAMES = {r.key: (r.name_zh, r.name_en) for r in ROLES}


def status_label(status: str) -> str:
    """A case's status in the reader's language."""
    return {
        ProcessInstance.Status.RUNNING: _("Running"),
        ProcessInstance.Status.SUSPENDED: _("Suspended"),
        ProcessInstance.Status.COMPLETED: _("Completed"),
        ProcessInstance.Status.CANCELLED: _("Cancelled"),
    }.get(status, status)


def role_label(key: str, language: str) -> str:
    return pick(ROLE_NAMES.get(key), language, key)


def task_name(task, language: str) -> str:
    return "" if task is None else pick([task.name, task.name_en], language)


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(),
            "name": user.get_full_name() or user.get_username()}  # fmt: skip


def describe(event: AuditEvent, language: str, source) -> tuple[str, str, bool]:
    """(what happened, its detail, whether it stands out) for ``event``; ``source`` is the
    case's process version (the English names of its time limits)."""
    data = event.data or {}
    task = task_name(event.task, language)
    role = role_label(data.get("role", ""), language)
    reason = str(data.get("reason", ""))
    match event.kind:
        case Kind.INSTANCE_STARTED:
            return _("Case started"), "", False
        case Kind.TASK_CREATED if data.get("assignee"):
            return _("New task “%(task)s” for %(role)s, given to %(who)s") % {
                "task": task, "role": role, "who": data["assignee"],
            }, "", False  # fmt: skip
        case Kind.TASK_CREATED:
            return _("New task “%(task)s” for %(role)s") % {"task": task, "role": role}, "", False
        case Kind.TASK_CLAIMED:
            return _("Claimed “%(task)s”") % {"task": task}, "", False
        case Kind.TASK_UNCLAIMED:
            return _("Put “%(task)s” back in the pool") % {"task": task}, reason, False
        case Kind.TASK_HANDED_BACK:
            return _("Handed “%(task)s” back, saying why") % {"task": task}, reason, True
        case Kind.TASK_ASSIGNED:
            return _("Reassigned “%(task)s”") % {"task": task}, "", False
        case Kind.TASK_COMPLETED:
            return _("Completed “%(task)s”") % {"task": task}, "", False
        case Kind.TASK_CANCELLED:
            return _("“%(task)s” closed by the process") % {"task": task}, "", False
        case Kind.TIMER_FIRED:
            name = pick([data.get("name", ""), source.glossary.get(data.get("timer", ""))],
                        language)  # fmt: skip
            return _("Time limit reached: %(name)s") % {"name": name}, "", False
        case Kind.ESCALATED:
            return _("Escalated to level %(level)s: %(role)s") % {
                "level": data.get("level"), "role": role,
            }, "", True  # fmt: skip
        case Kind.NOTIFIED:
            return _("Reminder sent to %(role)s") % {"role": role}, "", False
        case Kind.INSTANCE_CANCELLED:
            return _("Case cancelled"), reason, True
        case Kind.INSTANCE_COMPLETED:
            return _("Case completed"), "", False
        case Kind.INSTANCE_SUSPENDED:
            return _("Case suspended"), reason, True
        case Kind.INSTANCE_RESUMED:
            return _("Case resumed"), "", False
        case Kind.INSTANCE_MIGRATED:
            return _("Moved from version %(old)s to version %(new)s") % {
                "old": data.get("from"), "new": data.get("to"),
            }, "", False  # fmt: skip
    # What a service-task operation recorded: its declaration says how.
    return operations.describe(event.kind, data, language) or event.kind, "", False
