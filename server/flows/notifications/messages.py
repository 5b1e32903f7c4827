"""The words of a notification, in Chinese or English, from the facts it stores.

What happened, in which process and unit, which task and how late (or how long
until it is due, for a reminder), and the link to follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from engine.text import pick

from ..models import Notification

LEVELS = {2: ("二级升级", "Level 2 escalation"), 3: ("三级升级", "Level 3 escalation")}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str


def duration(minutes: int, language: str) -> str:
    """``1 d 2 h 5 min`` / ``1天2小时5分钟``; units that are zero are left out."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    units = (" d", " h", " min") if language == "en" else ("天", "小时", "分钟")
    parts = [f"{n}{unit}" for n, unit in zip((days, hours, mins), units, strict=True) if n]
    return (" " if language == "en" else "").join(parts) or f"0{units[2]}"


def lateness(n: Notification, language: str) -> str:
    """ "12 min late" / "due in 3 h" as of when the notification was written."""
    due = n.data.get("due_at")
    if not due:
        return ""
    minutes = int((n.created_at - datetime.fromisoformat(due)).total_seconds() // 60)
    if language == "en":
        return f"{duration(minutes, 'en')} late" if minutes >= 0 else (
            f"due in {duration(-minutes, 'en')}")  # fmt: skip
    return f"已超时{duration(minutes, 'zh')}" if minutes >= 0 else (
        f"还有{duration(-minutes, 'zh')}到期")  # fmt: skip


def path(n: Notification) -> str:
    """The task's page, when it is the recipient's to work (their role's, or assigned to
    them); else the case's, which every recipient may open (the late task is often another
    role's)."""
    task = n.task
    if task is not None and (task.role == n.data.get("role") or task.assignee_id == n.recipient_id):
        return f"/tasks/{n.task_id}/"
    return f"/cases/{n.instance_id}/"


def link(n: Notification) -> str:
    """:func:`path` on the site's address, for email."""
    return settings.PROPFLOW_SITE_URL.rstrip("/") + path(n)


def render(n: Notification, language: str = "zh-hans") -> Message:
    d, en = n.data, language == "en"
    process, unit = pick(d.get("process_name"), language), d.get("unit") or ""
    task = pick(d.get("task_name"), language)
    if d.get("level") in LEVELS:
        label = pick(LEVELS[d["level"]], language)
    else:
        label = "Notice" if en else "提醒"
    where = " · ".join(p for p in (process, unit) if p)
    late = lateness(n, language)
    subject = f"[{label}] {where}"
    if task:
        subject += f": {task}" if en else f"：{task}"
        if late:
            subject += f" ({late})" if en else f"（{late}）"
    event = pick(d.get("event"), language)
    lines = [
        f"{label}: {event}" if en else f"{label}：{event}",
        (f"Case: {where} (#{n.instance_id})" if en else f"案件：{where}（#{n.instance_id}）"),
    ]
    if task:
        lines.append(f"Task: {task}" + (f", {late}" if late else "") if en else
                     f"任务：{task}" + (f"，{late}" if late else ""))  # fmt: skip
    url = link(n)
    lines.append(f"Open: {url}" if en else f"处理：{url}")
    return Message(subject=subject, body="\n".join(lines), link=url)


def email(n: Notification) -> tuple[str, str]:
    """Subject and body of the email: Chinese first, then English."""
    zh, en = render(n, "zh-hans"), render(n, "en")
    return zh.subject, f"{zh.body}\n\n{en.body}\n"
