"""The verbs on cases and tasks: start, fire timers, cancel, claim, unclaim, assign, complete.

Each is one step through :mod:`.step`, the one write path.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from engine import clock
from server.estate import services as estate
from server.i18n import current_language

from .. import access
from ..definitions.cache import get_engine, source_for
from ..definitions.selectors import is_retired, latest_definition
from ..errors import Conflict, Forbidden, Invalid
from ..models import HumanTask, ProcessInstance, Timer
from .step import Kind, Step, engine_step, locked, task_under_lock, validated


def instance_start(*, process_key: str, started_by, data: dict | None) -> ProcessInstance:
    """Start the newest version of ``process_key`` with its start form's ``data``."""
    definition = latest_definition(process_key)
    source = source_for(definition.pk)
    if is_retired(process_key):
        raise Conflict(
            _("%(process)r is retired: it takes no new cases.")
            % {"process": source.name(current_language())}
        )
    if not set(source.start_roles) & access.user_roles(started_by):
        name = source.name(current_language())
        raise Forbidden(_("Your roles may not start %(process)r.") % {"process": name})
    data = validated(source, source.start_form, data)
    if source.business_key == "unit" and data.get("unit"):
        try:
            estate.unit_get(str(data["unit"]))
        except estate.UnknownUnit as err:
            raise Invalid(
                _("The form has errors; nothing was saved."), {"unit": [str(err)]}
            ) from err
    result = engine_step(get_engine().start, source, data)
    now = clock.now()
    instance = ProcessInstance(
        definition=definition, process_key=definition.key,
        business_key=str(data.get(source.business_key, ""))[:128], status="running",
        started_by=started_by, started_at=now,
    )  # fmt: skip
    with transaction.atomic(durable=True):
        write = Step(instance, [], now)
        write.event(Kind.INSTANCE_STARTED, actor=started_by, data={"data": data})
        write.apply(result, actor=started_by)
        write.flush()
    return instance


def instance_fire_timers(*, instance_id: int) -> int:
    """Fire the instance's due timers through the write path; returns how many fired.

    An instance with no timer row due (another worker fired it a moment ago) costs one
    indexed read, not a load of its state.
    """
    due = Timer.objects.filter(instance_id=instance_id, due_at__lte=clock.now())
    if not due.filter(instance__status=ProcessInstance.Status.RUNNING).exists():
        # Rows left on a finished case (none should be): drop them, never fire them.
        due.exclude(instance__status=ProcessInstance.Status.RUNNING).delete()
        return 0
    with locked(instance_id=instance_id) as write:
        if write.instance.status != ProcessInstance.Status.RUNNING:
            return 0  # finished a moment ago: its step dropped its timer rows
        source = source_for(write.instance.definition_id)
        result = engine_step(get_engine().fire_due_timers, source, write.instance.engine_state)
        for timer in result.fired:
            write.event(Kind.TIMER_FIRED, data={
                "timer": timer.bpmn_id, "name": timer.name,
                "due": timer.due.isoformat() if timer.due else None,
            })  # fmt: skip
        write.apply(result)
    return len(result.fired)


def instance_cancel(*, instance_id: int, user, reason: str) -> ProcessInstance:
    """Cancel a running instance; only a supervisor or manager may."""
    if not access.is_supervisor(user):
        raise Forbidden(_("Only a supervisor or manager may cancel a case."))
    if not reason.strip():
        raise Invalid("Say why the case is cancelled.", {"reason": ["This field is required."]})
    with locked(instance_id=instance_id) as write:
        if write.instance.status != ProcessInstance.Status.RUNNING:
            raise Conflict(_("The case is already %(status)s.") % {"status": write.instance.status})
        source = source_for(write.instance.definition_id)
        result = engine_step(get_engine().cancel, source, write.instance.engine_state)
        write.apply(result, actor=user)
        write.event(Kind.INSTANCE_CANCELLED, actor=user, data={"reason": reason})
    return write.instance


def task_claim(*, task_id: UUID, user) -> HumanTask:
    task_id = access.task_uuid(task_id)
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        if task.assignee_id == user.pk and task.status == HumanTask.Status.OPEN:
            return task  # claiming twice is harmless
        access.check_can_act(user, task)
        write.change_task(task, assignee=user)
        write.event(Kind.TASK_CLAIMED, actor=user, task=task)
    return task


def task_unclaim(*, task_id: UUID, user) -> HumanTask:
    task_id = access.task_uuid(task_id)
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        access.check_open(user, task)
        if task.assignee_id != user.pk:
            raise Conflict(_("Task %(id)s is not claimed by you.") % {"id": task_id})
        write.change_task(task, assignee=None)
        write.event(Kind.TASK_UNCLAIMED, actor=user, task=task)
    return task


def task_assign(*, task_id: UUID, user, assignee_id: int) -> HumanTask:
    """A supervisor hands an open task to a holder of its role (claimed or not).

    ``assignee_id`` is a user id its caller has checked (a positive 64-bit integer)."""
    task_id = access.task_uuid(task_id)
    if not access.is_supervisor(user):
        raise Forbidden(_("Only a supervisor or manager may reassign a task."))
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        access.check_open(user, task)
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or task.role not in access.user_roles(assignee):
            raise Invalid(
                _("That person does not hold the task's role."),
                {
                    "assignee": [
                        _("Must be an active holder of the role %(role)s.") % {"role": task.role}
                    ]
                },
            )
        if task.assignee_id == assignee.pk:
            return task
        before = task.assignee_id
        write.change_task(task, assignee=assignee)
        write.event(Kind.TASK_ASSIGNED, actor=user, task=task,
                    data={"to": assignee.pk, "from": before})  # fmt: skip
    return task


def task_complete(*, task_id: UUID, user, data: dict | None) -> HumanTask:
    """Complete an open task with its form's ``data``, as its assignee or a holder of its role."""
    task_id = access.task_uuid(task_id)
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        access.check_can_act(user, task)
        source = source_for(write.instance.definition_id)
        data = validated(source, task.form or None, data)
        result = engine_step(
            get_engine().complete, source, write.instance.engine_state, str(task.pk), data
        )
        write.change_task(task, status=HumanTask.Status.COMPLETED, completed_at=write.now,
                          completed_by=user, assignee=task.assignee or user)  # fmt: skip
        write.event(Kind.TASK_COMPLETED, actor=user, task=task, data={"data": data})
        write.apply(result, actor=user)
    return task
