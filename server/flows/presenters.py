"""How processes, instances, tasks and events look in the API (plain dicts)."""

from __future__ import annotations

from datetime import datetime

from engine import ProcessSource, clock

from . import access, messages
from .engine_binding import source_for
from .models import AuditEvent, HumanTask, Notification, ProcessDefinition, ProcessInstance


def _user(user) -> dict | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


def process(definition: ProcessDefinition, *, can_start: bool, detail: bool = False) -> dict:
    source = definition.source
    body = {
        "key": definition.key,
        "version": definition.version,
        "name": source.names,
        "start_roles": source.start_roles,
        "can_start": can_start,
        "deployed_at": _time(definition.deployed_at),
    }
    if detail:
        body["start_form"] = source.forms.get(source.start_form) if source.start_form else None
    return body


def task(
    task: HumanTask,
    *,
    detail: bool = False,
    process_names: dict[str, dict[str, str]] | None = None,
    now: datetime | None = None,
) -> dict:
    """A task; ``process_names`` from selectors.process_names() (one query for a whole list)."""
    now = now or clock.now()
    body = {
        "id": str(task.pk),
        "instance": task.instance_id,
        "process": task.process_key,
        "business_key": task.instance.business_key,
        "bpmn_id": task.bpmn_id,
        "name": task.name,
        "name_en": task.name_en or task.name,
        "role": task.role,
        "assignee": _user(task.assignee),
        "status": task.status,
        "due_at": _time(task.due_at),
        "created_at": _time(task.created_at),
        "process_name": (process_names or {}).get(task.process_key, {}),
        "escalation_level": task.instance.escalation_level,
        "overdue": _overdue(task, now),
    }
    if detail:
        source = source_for(task.instance.definition_id)
        body.update(
            documentation=task.documentation,
            form=source.forms.get(task.form) if task.form else None,
            ui_form=source.forms.get(task.ui_form) if task.ui_form else None,
            completed_at=_time(task.completed_at),
            completed_by=_user(task.completed_by),
        )
    return body


def _overdue(task: HumanTask, now: datetime) -> bool:
    return task.status == HumanTask.Status.OPEN and task.due_at is not None and task.due_at < now


def instance_row(instance: ProcessInstance, process_names: dict[str, dict[str, str]]) -> dict:
    """A case in a list: no tasks, no timers."""
    return {
        "id": instance.pk,
        "process": instance.process_key,
        "process_name": process_names.get(instance.process_key, {}),
        "business_key": instance.business_key,
        "status": instance.status,
        "started_at": _time(instance.started_at),
        "completed_at": _time(instance.completed_at),
        "escalation_level": instance.escalation_level,
    }


def instance(instance: ProcessInstance, open_tasks: list[HumanTask], timers=()) -> dict:
    return {
        "id": instance.pk,
        "process": instance.process_key,
        "version": instance.definition.version,
        "business_key": instance.business_key,
        "status": instance.status,
        "started_by": _user(instance.started_by),
        "started_at": _time(instance.started_at),
        "completed_at": _time(instance.completed_at),
        "tasks": [
            {
                "id": t.pk,
                "name": t.name,
                "name_en": t.name_en or t.name,
                "role": t.role,
                "assignee": _user(t.assignee),
                "status": t.status,
                "due_at": _time(t.due_at),
            }
            for t in open_tasks
        ],  # fmt: skip
        "timers": [
            {"name": t.name, "due_at": _time(t.due_at), "reminder": t.reminder} for t in timers
        ],
        "process_name": source_for(instance.definition_id).names,
        "escalation_level": instance.escalation_level,
    }


def diagram(source: ProcessSource, open_tasks: list[HumanTask], completed: list[str]) -> dict:
    """The case's BPMN with its open tasks (``active``) and completed ones (``done``) by id."""
    return {
        "bpmn": source.bpmn,
        "active": sorted({t.bpmn_id for t in open_tasks}),
        "done": sorted(set(completed)),
    }


def notification(n: Notification, language: str) -> dict:
    text = messages.render(n, language)
    return {
        "id": n.pk,
        "kind": n.kind,
        "level": n.data.get("level"),
        "instance": n.instance_id,
        "task": str(n.task_id) if n.task_id else None,
        "subject": text.subject,
        "body": text.body,
        "link": text.link,
        "created_at": _time(n.created_at),
        "read_at": _time(n.read_at),
    }


def event(event: AuditEvent, *, withhold_contacts_of: ProcessSource | None = None) -> dict:
    """An audit event; with ``withhold_contacts_of`` (the case's source), the contact fields
    of the form data it recorded are withheld (for readers who may not see them)."""
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": _time(event.at),
        "actor": _user(event.actor),
        "task": str(event.task_id) if event.task_id else None,
        "data": event_data(event, withhold_contacts_of=withhold_contacts_of),
    }


def event_data(event: AuditEvent, *, withhold_contacts_of: ProcessSource | None = None) -> dict:
    """What an event recorded, its form data's contact fields withheld with
    ``withhold_contacts_of`` (the case's source)."""
    data = event.data
    recorded = data.get("data")
    if withhold_contacts_of is not None and isinstance(recorded, dict):
        schema = recorded_form(event, withhold_contacts_of)
        data = {**data, "data": access.redact(recorded, schema)}
    return data


def recorded_form(event: AuditEvent, source: ProcessSource) -> dict | None:
    """The form whose data an event recorded: the start form, or the completed task's."""
    if event.kind == AuditEvent.Kind.INSTANCE_STARTED and source.start_form:
        return source.forms.get(source.start_form)
    if event.kind == AuditEvent.Kind.TASK_COMPLETED and event.task and event.task.form:
        return source.forms.get(event.task.form)
    return None
