"""Who is told when a case escalates or a reminder fires, and the facts their notification
holds (the words are rendered from them in the reader's language, :mod:`.messages`).

The write path calls :func:`for_thrown` for each escalation a step threw; the rows it
returns are written with the step, in its transaction.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q

from ..definitions.cache import source_for
from ..models import Notification


def for_thrown(
    step, kind: str, role: str, thrown, *, level: int | None = None
) -> list[Notification]:
    """A notification for each active holder of ``role`` and the late task's assignee, for
    the escalation or notice ``thrown`` by ``step`` (a :class:`~server.flows.cases.step.Step`).

    It points at the late task (the one whose timer fired), else at a task this step
    gave the role, else at the case.
    """
    tasks = {str(t.pk): t for t in (*step.open_tasks.values(), *step.new_tasks)}
    late = tasks.get(thrown.late_task or "")
    target = late or next((t for t in step.new_tasks if t.role == role), None)
    source = source_for(step.instance.definition_id)
    event = thrown.element_name or thrown.name
    data = {
        "process": step.instance.process_key,
        "process_name": [source.name("zh-hans"), source.name("en")],
        "unit": step.instance.business_key,
        "event": [event, source.glossary.get(thrown.element or "") or event],
        "role": role,
        "level": level,
        "late": late is not None,
        "task_name": [target.name, target.name_en or target.name] if target else None,
        "due_at": target.due_at.isoformat() if target and target.due_at else None,
    }
    who = Q(groups__name=role)
    if late is not None and late.assignee_id:
        who |= Q(pk=late.assignee_id)
    return [
        Notification(
            recipient=user, instance=step.instance, task=target, kind=kind, data=data,
            created_at=step.now,
        )
        for user in User.objects.filter(who, is_active=True).distinct().order_by("pk")
    ]  # fmt: skip
