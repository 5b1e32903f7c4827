"""One step on one case: the write path every change to an instance goes through.

In one ``transaction.atomic(durable=True)`` block (:func:`locked`): lock the instance
row, then read it and its open tasks, let the engine step, and bring the instance, its
task, timer and notification rows and its audit events in line in one write batch
(:class:`Step`). Two people (or a person and a timer) acting on one instance queue on the
row lock; the second reads what the first committed and gets a clear conflict, or steps
on from it. Work that must wait for the commit (Celery, notification delivery) goes through
``transaction.on_commit``; a nested ``atomic()`` inside a step is a savepoint, never a
commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext as _

import engine
from engine import ProcessSource, StepResult, casecard, clock
from engine.policy import ESCALATION_LEVELS
from server import operations
from server.files import services as files
from server.i18n import current_language
from server.staff import selectors as staff

from .. import access
from ..definitions.cache import get_engine, source_for
from ..errors import Conflict, Invalid, NotFound, ProcessFailed
from ..models import AuditEvent, HumanTask, Notification, ProcessInstance, Timer
from ..notifications import delivery, recipients
from . import chain
from .batch import Batch, lock_case

Kind = AuditEvent.Kind

INSTANCE_STEP_FIELDS = (
    "state", "serializer_version", "status", "completed_at", "event_seq", "updated_at",
    "escalation_level", "audit_head",
)  # fmt: skip

# A timer whose due time moved (a cycle's next round) is due afresh: its claim and errors go.
TIMER_MOVED_FIELDS = ("due_at", "claimed_until", "attempts", "last_error")
# What a timer row takes from its version: rewritten when the case moves to another one.
TIMER_VERSION_FIELDS = ("bpmn_id", "name", "reminder", "attached_to", "due_at")


class Step:
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
        self.attachments: list[files.Attachment] = []
        self.batch = Batch()
        self.result: StepResult | None = None
        self.instance_fields: set[str] = set()  # written besides INSTANCE_STEP_FIELDS
        self.moved = False  # to another version: task and timer rows take its names

    def event(self, kind: str, *, actor=None, task=None, data=None) -> None:
        self.instance.event_seq += 1
        self.events.append(AuditEvent(
            instance=self.instance, seq=self.instance.event_seq, kind=kind, at=self.now,
            actor=actor, task=task, data=data or {},
        ))  # fmt: skip

    def attach(self, source: ProcessSource, form: str | None, data: dict, prepared) -> dict:
        """The form's ``data`` (already checked) with a reference in place of each file,
        whose row is written with the step (server/files/services.py)."""
        if not form or not _has_file(data):
            return data
        data, rows, errors = files.attach(
            source.forms[form], data, prepared, instance=self.instance, now=self.now
        )
        if errors:
            raise Invalid(_("The form has errors; nothing was saved."), errors)
        self.attachments += rows
        return data

    def change_task(self, task: HumanTask, **fields) -> None:
        for name, value in fields.items():
            setattr(task, name, value)
        _, names = self.changed_tasks.setdefault(task.pk, (task, set()))
        names.update(fields)

    def move_to(self, definition, result: StepResult, *, actor=None) -> None:
        """The case now runs ``definition`` (another version of its process), its state
        ``result``: the open task rows the engine kept (same ids) take the new version's
        names, roles and forms, the others close, new ones open; timer rows follow."""
        self.instance.definition = definition
        self.instance_fields.add("definition")
        self.moved = True
        self.apply(result, actor=actor)
        ready = {r.id: r for r in result.ready}
        for key, task in self.open_tasks.items():
            r = ready.get(key)
            if r is None or task.status != HumanTask.Status.OPEN:
                continue
            new = {
                "bpmn_id": r.bpmn_id, "name": r.name, "name_en": r.name_en or "",
                "role": r.role or "", "form": r.form or "", "ui_form": r.ui_form or "",
                "documentation": r.documentation or "",
            }  # fmt: skip
            if changed := {k: v for k, v in new.items() if getattr(task, k) != v}:
                self.change_task(task, **changed)

    def apply(self, result: StepResult, *, actor=None) -> None:
        """Bring the instance and its task rows in line with the engine's result."""
        instance = self.instance
        instance.engine_state = result.state
        instance.serializer_version = engine.SERIALIZER_VERSION
        self.result = result
        self._keep_summary(result)
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
        new = [r for key, r in ready.items() if key not in self.open_tasks]
        people = _assignees(new)
        for r in new:
            assignee = people.get((r.assignee, r.role or ""))
            task = HumanTask(
                id=UUID(r.id), instance=instance, process_key=instance.process_key,
                bpmn_id=r.bpmn_id, name=r.name, name_en=r.name_en or "", role=r.role or "",
                form=r.form or "", ui_form=r.ui_form or "", documentation=r.documentation or "",
                due_at=r.due, created_at=self.now, assignee=assignee,
                dispatched=assignee is not None, hand_back=r.hand_back,
            )  # fmt: skip
            self.new_tasks.append(task)
            data = {"role": task.role}
            if r.assignee:  # who the diagram gave it to, or whom it named in vain
                data["assignee" if assignee else "assignee_not_found"] = r.assignee
            self.event(Kind.TASK_CREATED, task=task, data=data)
        self._effects(result, actor)
        if result.status != instance.status and result.status != "running":
            instance.status = result.status
            instance.completed_at = self.now
            if result.status == ProcessInstance.Status.COMPLETED:
                self.event(Kind.INSTANCE_COMPLETED, actor=actor)

    def _keep_summary(self, result: StepResult) -> None:
        """The case keeps its summary's values from the engine's data: written with the
        step's own update, and only when they changed (the source is cached: it just ran)."""
        source = source_for(self.instance.definition_id)
        kept = casecard.values(source, result.data, self.instance.summary)
        if kept != self.instance.summary:
            self.instance.summary = kept
            self.instance_fields.add("summary")

    def _effects(self, result: StepResult, actor) -> None:
        """Apply the step's service calls and record the escalations it threw."""
        today = self.now.astimezone(get_engine().calendar.tz).date()
        for effect in result.effects:
            try:
                kind, data = operations.apply(effect, batch=self.batch, today=today)
            except operations.EffectRefused as err:
                raise ProcessFailed(f"{err} Nothing was changed.") from err
            self.event(kind, actor=actor, data=data)
        glossary = source_for(self.instance.definition_id).glossary if result.thrown else {}
        for thrown in result.thrown:
            name = thrown.element_name or thrown.name
            names = {"name": name, "name_en": glossary.get(thrown.element or "") or name}
            if thrown.code in ESCALATION_LEVELS:
                level, role = ESCALATION_LEVELS[thrown.code]
                self.event(Kind.ESCALATED, data={"role": role, "level": level, **names})
                self.instance.escalation_level = max(self.instance.escalation_level, level)
                self.notifications += recipients.for_thrown(
                    self, Notification.Kind.ESCALATION, role, thrown, level=level
                )
            else:
                self.event(Kind.NOTIFIED, data={"role": thrown.code, **names})
                self.notifications += recipients.for_thrown(
                    self, Notification.Kind.NOTICE, thrown.code, thrown
                )

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
            if self.moved or key not in before or before[key].due != t.due
        ]  # fmt: skip
        # A move rewrites every row from the new version (due times kept by the engine).
        update = TIMER_VERSION_FIELDS if self.moved else TIMER_MOVED_FIELDS
        self.batch.insert(rows, on_conflict=("instance", "task_id"), update=update)

    def flush(self) -> None:
        """Write everything in one batch, the step's last statements: one round trip on
        PostgreSQL, its COMMIT included."""
        instance = self.instance
        instance.updated_at = self.now
        batch = self.batch
        if instance.pk is None:
            instance.save(force_insert=True)  # its id is needed by every other row
            for row in (*self.new_tasks, *self.events, *self.notifications, *self.attachments):
                row.instance_id = instance.pk
            chain.seal(instance, self.events)
            batch.update(instance, ("audit_head",))
        else:
            chain.seal(instance, self.events)
            batch.update(instance, (*INSTANCE_STEP_FIELDS, *sorted(self.instance_fields)))
        for task, names in self.changed_tasks.values():
            batch.update(task, names)
        batch.insert(self.new_tasks)
        batch.insert(self.events)
        batch.insert(self.notifications)
        batch.insert(self.attachments)
        delivery.queue(batch, self.notifications)
        self._sync_timers()
        batch.run(last=True)
        if self.notifications:
            transaction.on_commit(delivery.kick, robust=True)


def _assignees(ready) -> dict[tuple[str, str], object]:
    """The people the diagram gives new tasks to, by (username, role): only active holders
    of the task's role (anyone else leaves the task to its role's inbox, said on the
    timeline). No query when no task names anyone."""
    out = {}
    wanted: dict[str, set[str]] = {}
    for r in ready:
        if r.assignee:
            wanted.setdefault(r.role or "", set()).add(r.assignee)
    for role, names in wanted.items():
        for username, user in staff.holders(names, role).items():
            out[(username, role)] = user
    return out


@contextlib.contextmanager
def locked(*, instance_id: int | None = None, task_id: UUID | None = None) -> Iterator[Step]:
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
        write = Step(instance, open_tasks, clock.now())
        yield write
        write.flush()


def engine_step(action, *args) -> StepResult:
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
    except engine.HandBackUnavailable as err:
        raise Conflict(
            _(
                "This task has no way back in its process: it stays with you. Ask a supervisor "
                "to give it to someone else."
            )
        ) from err


def validated(source: ProcessSource, form: str | None, data) -> dict:
    if data is None:
        data = {}
    if not form:
        if data:
            raise Invalid(
                _("This step has no form; send no data."), {"data": [_("Must be empty.")]}
            )
        return {}
    schema = staff.with_choices(source.forms[form])
    errors = engine.validate_form(schema, data, current_language())
    if errors:
        raise Invalid(_("The form has errors; nothing was saved."), errors)
    return engine.with_defaults(schema, data)


def task_under_lock(write: Step, task_id: UUID) -> HumanTask:
    found = write.open_tasks.get(str(task_id))
    if found is not None:
        return found
    task = HumanTask.objects.filter(pk=task_id, instance=write.instance).first()
    if task is None:
        raise access.task_not_found(task_id)
    return task


def _has_file(value) -> bool:
    """Whether any text in ``value`` is a data URL (a file that must not be kept as text)."""
    if isinstance(value, dict):
        return any(_has_file(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_file(v) for v in value)
    return isinstance(value, str) and value.startswith("data:")
