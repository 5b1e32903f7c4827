"""Every change to a process instance goes through here.

One write path: in one ``transaction.atomic(durable=True)`` block, lock the instance
row, then read it and its open tasks, let the engine step, store the new state, and
bring task rows, timers, notifications and audit events in line. Two people (or a
person and a timer) acting on one instance queue on the row lock; the second reads
what the first committed and gets a clear conflict, or steps on from it. Work that
must wait for the commit (Celery, email) goes through ``transaction.on_commit``; a
nested ``atomic()`` inside a step is a savepoint, never a commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

import engine
from engine import ProcessSource, StepResult, clock
from server.estate import services as estate

from . import access, outbox
from .batch import Batch, lock_case
from .engine_binding import get_engine, source_for
from .errors import Conflict, Forbidden, Invalid, NotFound, ProcessFailed
from .models import AuditEvent, HumanTask, Notification, ProcessDefinition, ProcessInstance, Timer

Kind = AuditEvent.Kind
# Escalation codes thrown by BPMN: domain.md's chain 接待人 → 客服主管 → 主管副总经理.
# Any other code is the role key of a notice (engine/validation.py checks them).
ESCALATION_LEVELS = {"level2": (2, "cs_supervisor"), "level3": (3, "vice_gm")}
INSTANCE_STEP_FIELDS = (
    "state", "serializer_version", "status", "completed_at", "event_seq", "updated_at",
    "escalation_level",
)  # fmt: skip
# A timer whose due time moved (a cycle's next round) is due afresh: its claim and errors go.
TIMER_MOVED_FIELDS = ("due_at", "claimed_until", "attempts", "last_error")


class _Write:
    """The changes of one transaction on one instance, written in a few statements."""

    def __init__(self, instance: ProcessInstance, open_tasks: list[HumanTask], now: datetime):
        self.instance = instance
        for task in open_tasks:  # a task handed back answers with its case as the step left it
            task.instance = instance
        self.open_tasks = {str(t.pk): t for t in open_tasks}
        self.now = now
        self.events: list[AuditEvent] = []
        self.new_tasks: list[HumanTask] = []
        self.changed_tasks: dict[int, tuple[HumanTask, set[str]]] = {}
        self.notifications: list[Notification] = []
        self.batch = Batch()
        self.result: StepResult | None = None

    def event(self, kind: str, *, actor=None, task=None, data=None) -> None:
        self.instance.event_seq += 1
        self.events.append(AuditEvent(
            instance=self.instance, seq=self.instance.event_seq, kind=kind, at=self.now,
            actor=actor, task=task, data=data or {},
        ))  # fmt: skip

    def change_task(self, task: HumanTask, **fields) -> None:
        for name, value in fields.items():
            setattr(task, name, value)
        _, names = self.changed_tasks.setdefault(task.pk, (task, set()))
        names.update(fields)

    def apply(self, result: StepResult, *, actor=None) -> None:
        """Bring the instance and its task rows in line with the engine's result."""
        instance = self.instance
        instance.engine_state = result.state
        instance.serializer_version = engine.SERIALIZER_VERSION
        self.result = result
        ready = {r.id: r for r in result.ready}
        for key, task in list(self.open_tasks.items()):
            if task.status != HumanTask.Status.OPEN:
                continue
            if key not in ready:
                self.change_task(task, status=HumanTask.Status.CANCELLED, completed_at=self.now)
                self.event(Kind.TASK_CANCELLED, task=task, data={"reason": "left by the process"})
            elif ready[key].due and (task.due_at is None or ready[key].due < task.due_at):
                # A task's due time is the first limit it had: a limit that fired (and left
                # the task open) keeps the task overdue from then on.
                self.change_task(task, due_at=ready[key].due)
        for key, r in ready.items():
            if key not in self.open_tasks:
                task = HumanTask(
                    id=UUID(r.id), instance=instance, process_key=instance.process_key,
                    bpmn_id=r.bpmn_id, name=r.name, name_en=r.name_en or "", role=r.role or "",
                    form=r.form or "",
                    ui_form=r.ui_form or "", documentation=r.documentation or "",
                    due_at=r.due, created_at=self.now,
                )  # fmt: skip
                self.new_tasks.append(task)
                self.event(Kind.TASK_CREATED, task=task, data={"role": task.role})
        self._effects(result, actor)
        if result.status != instance.status and result.status != "running":
            instance.status = result.status
            instance.completed_at = self.now
            if result.status == ProcessInstance.Status.COMPLETED:
                self.event(Kind.INSTANCE_COMPLETED, actor=actor)

    def _effects(self, result: StepResult, actor) -> None:
        """Apply the step's service calls and record the escalations it threw."""
        today = self.now.astimezone(get_engine().calendar.tz).date()
        for effect in result.effects:
            try:
                kind, data = estate.effect_apply(effect, batch=self.batch, today=today)
            except estate.UnknownUnit as err:
                raise ProcessFailed(f"{err} Nothing was changed.") from err
            self.event(kind, actor=actor, data=data)
        for thrown in result.thrown:
            name = thrown.element_name or thrown.name
            if thrown.code in ESCALATION_LEVELS:
                level, role = ESCALATION_LEVELS[thrown.code]
                self.event(Kind.ESCALATED, data={"role": role, "level": level, "name": name})
                self.instance.escalation_level = max(self.instance.escalation_level, level)
                self.notify(Notification.Kind.ESCALATION, role, thrown, level=level)
            else:
                self.event(Kind.NOTIFIED, data={"role": thrown.code, "name": name})
                self.notify(Notification.Kind.NOTICE, thrown.code, thrown)

    def notify(self, kind: str, role: str, thrown, *, level: int | None = None) -> None:
        """A notification for each active holder of ``role`` and the late task's assignee.

        It points at the late task (the one whose timer fired), else at a task this step
        gave the role, else at the case.
        """
        tasks = {str(t.pk): t for t in (*self.open_tasks.values(), *self.new_tasks)}
        late = tasks.get(thrown.late_task or "")
        target = late or next((t for t in self.new_tasks if t.role == role), None)
        source = source_for(self.instance.definition_id)
        event = thrown.element_name or thrown.name
        data = {
            "process": self.instance.process_key,
            "process_name": [source.name("zh-hans"), source.name("en")],
            "unit": self.instance.business_key,
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
        for user in User.objects.filter(who, is_active=True).distinct().order_by("pk"):
            self.notifications.append(Notification(
                recipient=user, instance=self.instance, task=target, kind=kind, data=data,
                created_at=self.now, email=user.email or "",
            ))  # fmt: skip

    def _sync_timers(self) -> None:
        """Bring the instance's timer rows in line with the engine: usually nothing to do."""
        result = self.result
        if result is None:
            return
        before = {t.task_id: t for t in result.timers_before if t.due is not None}
        after = {t.task_id: t for t in result.timers if t.due is not None}
        if gone := [UUID(key) for key in before.keys() - after.keys()]:
            self.batch.delete(Timer, instance=self.instance.pk, task_id=gone)
        rows = [
            Timer(
                instance=self.instance, task_id=UUID(key), bpmn_id=t.bpmn_id, name=t.name,
                reminder=t.reminder, attached_to=UUID(t.attached_to) if t.attached_to else None,
                due_at=t.due,
            )
            for key, t in after.items()
            if key not in before or before[key].due != t.due
        ]  # fmt: skip
        self.batch.insert(rows, on_conflict=("instance", "task_id"), update=TIMER_MOVED_FIELDS)

    def flush(self) -> None:
        """Write everything in one batch, the step's last statements: one round trip on
        PostgreSQL, its COMMIT included."""
        instance = self.instance
        instance.updated_at = self.now
        batch = self.batch
        if instance.pk is None:
            instance.save(force_insert=True)  # its id is needed by every other row
            for row in (*self.new_tasks, *self.events, *self.notifications):
                row.instance_id = instance.pk
        else:
            batch.update(instance, INSTANCE_STEP_FIELDS)
        for task, names in self.changed_tasks.values():
            batch.update(task, names)
        batch.insert(self.new_tasks)
        batch.insert(self.events)
        batch.insert(self.notifications)
        self._sync_timers()
        batch.run(last=True)
        if self.notifications:
            transaction.on_commit(outbox.kick, robust=True)


@contextlib.contextmanager
def _locked(*, instance_id: int | None = None, task_id: UUID | None = None) -> Iterator[_Write]:
    """Lock one instance, by its id or one of its tasks', for the block; write at its end.

    The instance and its open tasks are read after the lock is granted, so every check
    made in the block sees what the previous holder of the lock committed.
    """
    with transaction.atomic(durable=True):
        instance, open_tasks = lock_case(
            ProcessInstance, HumanTask, instance_id=instance_id, task_id=task_id
        )
        if instance is None:
            if task_id is not None:  # the same words as a task the caller may not see
                raise access.task_not_found(task_id)
            raise NotFound(
                _("Case %(id)s does not exist or is not visible to you.") % {"id": instance_id}
            )
        write = _Write(instance, open_tasks, clock.now())
        yield write
        write.flush()


def _step(action, *args) -> StepResult:
    try:
        return action(*args)
    except engine.ScriptFailed as err:
        raise ProcessFailed(
            _(
                "The process definition failed at %(element)s: %(error)s. Nothing was changed; "
                "a manager needs to correct the process."
            )
            % {"element": err.element_id, "error": err}
        ) from err
    except engine.TaskNotReady as err:
        raise Conflict(str(err)) from err


def _validated(source: ProcessSource, form: str | None, data) -> dict:
    if data is None:
        data = {}
    if not form:
        if data:
            raise Invalid(
                _("This step has no form; send no data."), {"data": [_("Must be empty.")]}
            )
        return {}
    schema = source.forms[form]
    errors = engine.validate_form(schema, data, translation.get_language() or "zh-hans")
    if errors:
        raise Invalid(_("The form has errors; nothing was saved."), errors)
    return engine.with_defaults(schema, data)


def _task_under_lock(write: _Write, task_id: UUID) -> HumanTask:
    found = write.open_tasks.get(str(task_id))
    if found is not None:
        return found
    task = HumanTask.objects.filter(pk=task_id, instance=write.instance).first()
    if task is None:
        raise access.task_not_found(task_id)
    return task


# -- processes -------------------------------------------------------------------------


def process_deploy(*, source: ProcessSource, deployed_by=None) -> tuple[ProcessDefinition, bool]:
    """Validate and store ``source``; unchanged content is a no-op. Returns (definition, new)."""
    try:
        engine.validate(source, get_engine())
    except engine.ProcessInvalid as err:
        raise Invalid(str(err), {"problems": err.problems}) from err
    content_hash = source.content_hash
    with transaction.atomic():
        latest = (
            ProcessDefinition.objects.select_for_update().filter(key=source.key)
            .order_by("-version").first()
        )  # fmt: skip
        if latest is not None and latest.content_hash == content_hash:
            return latest, False
        try:
            definition = ProcessDefinition.objects.create(
                key=source.key, version=(latest.version + 1) if latest else 1,
                content_hash=content_hash, process_id=source.process_id,
                manifest=source.manifest(), bpmn=source.bpmn, forms=source.forms,
                deployed_by=deployed_by,
            )  # fmt: skip
        except IntegrityError as err:
            raise Conflict(
                f"Process {source.key!r} was deployed by someone else just now."
            ) from err
    return definition, True


def _latest_definition(process_key: str) -> ProcessDefinition:
    definition = ProcessDefinition.objects.filter(key=process_key).order_by("-version").first()
    if definition is None:
        raise NotFound(_("There is no deployed process %(key)r.") % {"key": process_key})
    return definition


# -- instances -------------------------------------------------------------------------


def instance_start(*, process_key: str, started_by, data: dict | None) -> ProcessInstance:
    """Start the newest version of ``process_key`` with its start form's ``data``."""
    definition = _latest_definition(process_key)
    source = source_for(definition.pk)
    if not set(source.start_roles) & access.user_roles(started_by):
        name = source.name(translation.get_language() or "zh-hans")
        raise Forbidden(_("Your roles may not start %(process)r.") % {"process": name})
    data = _validated(source, source.start_form, data)
    if source.business_key == "unit" and data.get("unit"):
        try:
            estate.unit_get(str(data["unit"]))
        except estate.UnknownUnit as err:
            raise Invalid(
                _("The form has errors; nothing was saved."), {"unit": [str(err)]}
            ) from err
    result = _step(get_engine().start, source, data)
    now = clock.now()
    instance = ProcessInstance(
        definition=definition, process_key=definition.key,
        business_key=str(data.get(source.business_key, ""))[:128], status="running",
        started_by=started_by, started_at=now,
    )  # fmt: skip
    with transaction.atomic(durable=True):
        write = _Write(instance, [], now)
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
    with _locked(instance_id=instance_id) as write:
        if write.instance.status != ProcessInstance.Status.RUNNING:
            return 0  # finished a moment ago: its step dropped its timer rows
        source = source_for(write.instance.definition_id)
        result = _step(get_engine().fire_due_timers, source, write.instance.engine_state)
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
    with _locked(instance_id=instance_id) as write:
        if write.instance.status != ProcessInstance.Status.RUNNING:
            raise Conflict(_("The case is already %(status)s.") % {"status": write.instance.status})
        source = source_for(write.instance.definition_id)
        result = _step(get_engine().cancel, source, write.instance.engine_state)
        write.apply(result, actor=user)
        write.event(Kind.INSTANCE_CANCELLED, actor=user, data={"reason": reason})
    return write.instance


# -- tasks -----------------------------------------------------------------------------


def task_claim(*, task_id: UUID, user) -> HumanTask:
    task_id = access.task_uuid(task_id)
    with _locked(task_id=task_id) as write:
        task = _task_under_lock(write, task_id)
        if task.assignee_id == user.pk and task.status == HumanTask.Status.OPEN:
            return task  # claiming twice is harmless
        access.check_can_act(user, task)
        write.change_task(task, assignee=user)
        write.event(Kind.TASK_CLAIMED, actor=user, task=task)
    return task


def task_unclaim(*, task_id: UUID, user) -> HumanTask:
    task_id = access.task_uuid(task_id)
    with _locked(task_id=task_id) as write:
        task = _task_under_lock(write, task_id)
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
    with _locked(task_id=task_id) as write:
        task = _task_under_lock(write, task_id)
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
    with _locked(task_id=task_id) as write:
        task = _task_under_lock(write, task_id)
        access.check_can_act(user, task)
        source = source_for(write.instance.definition_id)
        data = _validated(source, task.form or None, data)
        result = _step(
            get_engine().complete, source, write.instance.engine_state, str(task.pk), data
        )
        write.change_task(task, status=HumanTask.Status.COMPLETED, completed_at=write.now,
                          completed_by=user, assignee=task.assignee or user)  # fmt: skip
        write.event(Kind.TASK_COMPLETED, actor=user, task=task, data={"data": data})
        write.apply(result, actor=user)
    return task
