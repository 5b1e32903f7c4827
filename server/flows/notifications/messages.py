"""The words of a notification, in Chinese or English, from the facts it stores.

What happened, in which process and unit, which task and how late (or how long
until it is due, for a reminder), and the link to follow. The sentences are
Django's translations (English source, the Chinese in
``server/web/locale/zh_Hans/LC_MESSAGES/django.po``, context ``notification``),
rendered under the reader's language whatever the request's; the names in them
(process, task, event) are the facts' own, in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import pgettext, pgettext_lazy

from engine.text import normalise, pick

from ..models import Notification

LEVELS = {
    2: pgettext_lazy("notification", "Level 2 escalation"),
    3: pgettext_lazy("notification", "Level 3 escalation"),
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str


def duration(minutes: int, language: str) -> str:
    """``1 d 2 h 5 min`` / ``1天2小时5分钟``; units that are zero are left out."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    with translation.override(normalise(language)):
        units = (pgettext("duration", "%(n)s d"), pgettext("duration", "%(n)s h"),
                 pgettext("duration", "%(n)s min"))  # fmt: skip
        parts = [unit % {"n": n} for n, unit in zip((days, hours, mins), units, strict=True) if n]
        if not parts:
            return units[2] % {"n": 0}
        text = parts[0]
        for part in parts[1:]:  # Chinese runs the parts together, English spaces them
            text = pgettext("duration", "%(first)s %(then)s") % {"first": text, "then": part}
        return text


def lateness(n: Notification, language: str) -> str:
    """ "12 min late" / "due in 3 h" as of when the notification was written."""
    due = n.data.get("due_at")
    if not due:
        return ""
    minutes = int((n.created_at - datetime.fromisoformat(due)).total_seconds() // 60)
    with translation.override(normalise(language)):
        if minutes >= 0:
            return pgettext("notification", "%(span)s late") % {"span": duration(minutes, language)}
        return pgettext("notification", "due in %(span)s") % {"span": duration(-minutes, language)}


def path(n: Notification) -> str:
    """A shift check's page; the task's page, when it is the recipient's to work (their
    role's, or assigned to them); else the case's, which every recipient may open (the late
    task is often another role's)."""
    if n.kind == Notification.Kind.SHIFT_CHECK:
        return "/shift/"
    task = n.task
    if task is not None and (task.role == n.data.get("role") or task.assignee_id == n.recipient_id):
        return f"/tasks/{n.task_id}/"
    return f"/cases/{n.instance_id}/"


def link(n: Notification) -> str:
    """:func:`path` on the site's address, for email."""
    return settings.PROPFLOW_SITE_URL.rstrip("/") + path(n)


def _facts(n: Notification, language: str) -> dict:
    d = n.data
    process = pick(d.get("process_name"), language)
    level = LEVELS.get(d.get("level"))
    return {
        "label": str(level) if level else pgettext("notification", "Notice"),
        "where": " · ".join(p for p in (process, d.get("unit") or "") if p),
        "task": pick(d.get("task_name"), language),
        "late": lateness(n, language),
        "event": pick(d.get("event"), language),
        "id": n.instance_id,
        "url": link(n),
    }


def _subject(facts: dict) -> str:
    if not facts["task"]:
        return pgettext("notification", "[%(label)s] %(where)s") % facts
    if facts["late"]:
        return pgettext("notification", "[%(label)s] %(where)s: %(task)s (%(late)s)") % facts
    return pgettext("notification", "[%(label)s] %(where)s: %(task)s") % facts


def _body(facts: dict) -> str:
    lines = [
        pgettext("notification", "%(label)s: %(event)s") % facts,
        pgettext("notification", "Case: %(where)s (#%(id)s)") % facts,
    ]
    if facts["task"] and facts["late"]:
        lines.append(pgettext("notification", "Task: %(task)s, %(late)s") % facts)
    elif facts["task"]:
        lines.append(pgettext("notification", "Task: %(task)s") % facts)
    lines.append(pgettext("notification", "Open: %(url)s") % facts)
    return "\n".join(lines)


def _shift_check(n: Notification, language: str) -> Message:
    """The end-of-shift check (server.desk): to a dispatcher, each open work order by unit
    and step (no owner's name or phone: the facts hold none); to a supervisor, the counts."""
    d = n.data
    facts = {
        "site": d.get("site", ""), "shift": d.get("shift", ""), "open": d.get("open", 0),
        "late": d.get("late", 0), "url": link(n),
        "end": f"{timezone.localtime(datetime.fromisoformat(d['ends_at'])):%H:%M}"
        if d.get("ends_at") else "",
    }  # fmt: skip
    subject = (
        pgettext(
            "notification", "[End-of-shift check] %(site)s %(shift)s: %(open)s open, %(late)s late"
        )
        % facts
    )
    if d.get("summary"):
        lines = [pgettext("notification", "Summary for supervisors: %(open)s items still open "
                          "at the end of the shift, %(late)s of them late.") % facts]  # fmt: skip
    else:
        lines = [pgettext("notification", "Check the day's open work orders before %(end)s and "
                          "say why each is unfinished:") % facts]  # fmt: skip
        for item in d.get("items") or []:
            line = pgettext("notification", "%(unit)s · %(step)s (#%(id)s)") % {
                "unit": item.get("unit") or "—", "step": pick(item.get("step"), language),
                "id": item.get("case"),
            }  # fmt: skip
            if item.get("late"):
                line = pgettext("notification", "%(line)s, late") % {"line": line}
            lines.append(line)
    lines.append(pgettext("notification", "Open: %(url)s") % facts)
    return Message(subject=subject, body="\n".join(lines), link=facts["url"])


def render(n: Notification, language: str = "zh-hans") -> Message:
    with translation.override(normalise(language)):
        if n.kind == Notification.Kind.SHIFT_CHECK:
            return _shift_check(n, language)
        facts = _facts(n, language)
        return Message(subject=_subject(facts), body=_body(facts), link=facts["url"])


def email(n: Notification) -> tuple[str, str]:
    """Subject and body of the email: Chinese first, then English."""
    zh, en = render(n, "zh-hans"), render(n, "en")
    return zh.subject, f"{zh.body}\n\n{en.body}\n"
