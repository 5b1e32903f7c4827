"""The verbs on cases and tasks: start, fire timers, cancel (terminate), suspend, resume,
move to another version; claim, unclaim, hand back, assign, complete.

Each is one step through :mod:`.step`, the one write path. A read of a case's personal
data is recorded apart (:func:`record_personal_read`): it changes nothing of the case.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from engine import MigrationRefused, clock
from server.estate import services as estate
from server.files import services as files
from server.i18n import current_language

from .. import access
from ..definitions.cache import get_engine, source_for
from ..definitions.selectors import is_retired, latest_definition
from ..errors import Conflict, Forbidden, Invalid, NotFound, ProcessFailed
from ..models import HumanTask, PersonalDataRead, ProcessDefinition, ProcessInstance, Timer
from .step import Kind, Step, engine_step, locked, task_under_lock, validated

RUNNING, SUSPENDED = ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED
FINISHED = (ProcessInstance.Status.COMPLETED, ProcessInstance.Status.CANCELLED)


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
    data, prepared = files.prepare(data)
    data = validated(source, source.start_form, data)
    if source.business_key == "unit" and data.get("unit"):
        try:
            estate.unit_get(str(data["unit"]))
        except estate.UnknownUnit as err:
            raise Invalid(
                _("The form has errors; nothing was saved."), {"unit": [str(err)]}
            ) from err
    now = clock.now()
    instance = ProcessInstance(
        definition=definition, process_key=definition.key,
        business_key=str(data.get(source.business_key, ""))[:128], status="running",
        started_by=started_by, started_at=now,
    )  # fmt: skip
    write = Step(instance, [], now)
    data = write.attach(source, source.start_form, data, prepared)
    result = engine_step(get_engine().start, source, data, started_by.get_username())
    with transaction.atomic(durable=True):
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
    if not due.filter(instance__status=RUNNING).exists():
        # Rows left on a finished case (none should be): drop them, never fire them. A
        # suspended case keeps its rows: resuming fires what fell due.
        due.filter(instance__status__in=FINISHED).delete()
        return 0
    with locked(instance_id=instance_id) as write:
        if write.instance.status != RUNNING:
            return 0  # finished (its step dropped its timer rows) or suspended a moment ago
        source = source_for(write.instance.definition_id)
        result = engine_step(get_engine().fire_due_timers, source, write.instance.engine_state)
        _record_fired(write, result)
        write.apply(result)
    return len(result.fired)


def instance_cancel(*, instance_id: int, user, reason: str) -> ProcessInstance:
    """Cancel a running or suspended instance; only a supervisor or manager may.

    Terminating is this verb: the same people, the same outcome (the case cancelled, its
    tasks closed, its timers dropped), recorded as ``instance_cancelled`` with the reason.
    """
    access.check_can_control_case(user, _("Only a supervisor or manager may cancel a case."))
    if not reason.strip():
        raise Invalid(
            _("Say why the case is cancelled."), {"reason": [_("This field is required.")]}
        )
    with locked(instance_id=instance_id) as write:
        _check_status(write, RUNNING, SUSPENDED)
        source = source_for(write.instance.definition_id)
        result = engine_step(get_engine().cancel, source, write.instance.engine_state)
        write.apply(result, actor=user)
        write.event(Kind.INSTANCE_CANCELLED, actor=user, data={"reason": reason})
    return write.instance


instance_terminate = instance_cancel


def _check_status(write: Step, *allowed: str) -> None:
    status = write.instance.status
    if status not in allowed:
        raise Conflict(
            _("Case %(id)s is already %(status)s; nothing was changed.")
            % {"id": write.instance.pk, "status": _status_word(status)}
        )


def _status_word(status: str) -> str:
    return {
        RUNNING: _("running"), SUSPENDED: _("suspended"),
        ProcessInstance.Status.COMPLETED: _("completed"),
        ProcessInstance.Status.CANCELLED: _("cancelled"),
    }.get(status, status)  # fmt: skip


def instance_suspend(*, instance_id: int, user, reason: str) -> ProcessInstance:
    """Pause a running case: its timers wait (the sweep skips it) and its tasks take no
    claim, assignment or completion until :func:`instance_resume`."""
    access.check_can_control_case(user, _("Only a supervisor or manager may suspend a case."))
    if not reason.strip():
        raise Invalid(
            _("Say why the case is suspended."), {"reason": [_("This field is required.")]}
        )
    with locked(instance_id=instance_id) as write:
        _check_status(write, RUNNING)
        write.instance.status = SUSPENDED
        write.event(Kind.INSTANCE_SUSPENDED, actor=user, data={"reason": reason})
    return write.instance


def instance_resume(*, instance_id: int, user) -> ProcessInstance:
    """Run a suspended case again. The timers that fell due meanwhile fire in the same
    step, as they would have (escalations included); should the process fail at one, the
    case resumes anyway and the sweep retries it, recording the error on the timer."""
    access.check_can_control_case(user, _("Only a supervisor or manager may resume a case."))
    with locked(instance_id=instance_id) as write:
        _check_status(write, SUSPENDED)
        write.instance.status = RUNNING
        write.event(Kind.INSTANCE_RESUMED, actor=user)
        if Timer.objects.filter(instance_id=instance_id, due_at__lte=write.now).exists():
            source = source_for(write.instance.definition_id)
            try:
                result = engine_step(
                    get_engine().fire_due_timers, source, write.instance.engine_state
                )
            except ProcessFailed:
                return write.instance
            _record_fired(write, result)
            write.apply(result)
    return write.instance


def instance_migrate(*, instance_id: int, to_version: int, user) -> ProcessInstance:
    """Move a running or suspended case to version ``to_version`` of its process.

    The engine checks the case (is every open task's and waited event's element still
    there, of the same kind?) and refuses with a sentence per element (409); else the
    case's definition, state, open task rows (their ids kept) and timer rows (their due
    times kept) change in one step, recorded as ``instance_migrated``."""
    access.check_can_control_case(
        user, _("Only a supervisor or manager may move a case to another version.")
    )
    with locked(instance_id=instance_id) as write:
        instance = write.instance
        _check_status(write, RUNNING, SUSPENDED)
        target = version_of(instance.process_key, to_version)
        current = instance.definition_id
        if target.pk == current:
            raise Conflict(
                _("Case %(id)s already runs version %(version)s; nothing was changed.")
                % {"id": instance.pk, "version": to_version}
            )
        old = ProcessDefinition.objects.only("version").get(pk=current).version
        try:
            result = get_engine().migrate(
                source_for(current), source_for(target.pk), instance.engine_state
            )
        except MigrationRefused as err:
            raise Conflict(
                _("Case %(id)s cannot move to version %(version)s: %(reasons)s")
                % {"id": instance.pk, "version": to_version, "reasons": " ".join(err.reasons)},
                {"version": err.reasons},
            ) from err
        write.move_to(target, result, actor=user)
        write.event(Kind.INSTANCE_MIGRATED, actor=user, data={"from": old, "to": to_version})
    return write.instance


def instances_migrate(*, instance_ids: list[int], to_version: int, user) -> list[dict]:
    """Move several cases of one process to ``to_version``, each in its own step: one
    ``{id, migrated, reason}`` per case, in the order given. Every id must name a case the
    caller may see (else NotFound, nothing moved), all of one process."""
    access.check_can_control_case(
        user, _("Only a supervisor or manager may move a case to another version.")
    )
    ids = list(dict.fromkeys(instance_ids))
    found = dict(ProcessInstance.objects.filter(pk__in=ids).values_list("pk", "process_key"))
    if missing := [i for i in ids if i not in found]:
        raise NotFound(
            _("Case %(id)s does not exist or is not visible to you.") % {"id": missing[0]}
        )
    keys = set(found.values())
    if len(keys) > 1:
        raise Invalid(
            _("The cases belong to different processes; move one process's cases at a time."),
            {"instances": [_("Must all be cases of one process.")]},
        )
    version_of(keys.pop(), to_version)  # an unknown version is the request's error
    results = []
    for instance_id in ids:
        try:
            instance_migrate(instance_id=instance_id, to_version=to_version, user=user)
        except (Conflict, ProcessFailed) as err:
            results.append({"id": instance_id, "migrated": False, "reason": err.message})
        else:
            results.append({"id": instance_id, "migrated": True, "reason": ""})
    return results


def version_of(process_key: str, version: int) -> ProcessDefinition:
    """Version ``version`` of ``process_key``; an unknown one is the request's error."""
    found = ProcessDefinition.objects.filter(key=process_key, version=version).first()
    if found is None:
        raise Invalid(
            _("Process %(key)s has no version %(version)s.")
            % {"key": process_key, "version": version},
            {"version": [_("Must be a deployed version of the case's process.")]},
        )
    return found


def _record_fired(write: Step, result) -> None:
    glossary = source_for(write.instance.definition_id).glossary
    for timer in result.fired:
        write.event(Kind.TIMER_FIRED, data={
            "timer": timer.bpmn_id, "name": timer.name,
            "name_en": glossary.get(timer.bpmn_id) or timer.name,
            "due": timer.due.isoformat() if timer.due else None,
        })  # fmt: skip


def task_claim(*, task_id: UUID, user) -> HumanTask:
    task_id = access.task_uuid(task_id)
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        if task.assignee_id == user.pk and task.status == HumanTask.Status.OPEN:
            access.check_open(user, task)  # a suspended case's task takes no claim
            return task  # claiming twice (or a task given to you by name) is harmless
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
        if task.dispatched:
            raise Conflict(
                _(
                    "Task %(id)s was given to you by name, so it does not go back to the pool: "
                    "hand it back with a reason instead."
                )
                % {"id": task_id}
            )
        write.change_task(task, assignee=None)
        write.event(Kind.TASK_UNCLAIMED, actor=user, task=task)
    return task


HAND_BACK_REASON_MAX = 2000


def task_hand_back(*, task_id: UUID, user, reason: str) -> HumanTask:
    """Its holder gives a task back, saying why (退回; a work order is never refused).

    A task whose diagram has a way back (a ``hand_back`` boundary message, e.g. a job back
    to dispatch) takes it, the reason carried into the case's data; a task claimed from
    its role's pool goes back to the pool; one given by name with no way back stays.
    """
    task_id = access.task_uuid(task_id)
    reason = (reason or "").strip()
    if not reason or len(reason) > HAND_BACK_REASON_MAX:
        message = (
            _("Say why you hand it back.")
            if not reason
            else _("Keep the reason under %(n)s characters.") % {"n": HAND_BACK_REASON_MAX}
        )
        raise Invalid(message, {"reason": [message]})
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        access.check_open(user, task)
        if task.assignee_id != user.pk:
            raise Conflict(_("Task %(id)s is not yours to hand back.") % {"id": task_id})
        if task.hand_back:
            source = source_for(write.instance.definition_id)
            data = {"hand_back_reason": reason, "handed_back_by": user.get_username()}
            result = engine_step(
                get_engine().hand_back, source, write.instance.engine_state, str(task.pk), data
            )
            write.change_task(task, status=HumanTask.Status.CANCELLED, completed_at=write.now)
            write.event(Kind.TASK_HANDED_BACK, actor=user, task=task, data={"reason": reason})
            write.apply(result, actor=user)
        elif not task.dispatched:
            write.change_task(task, assignee=None)
            write.event(Kind.TASK_UNCLAIMED, actor=user, task=task, data={"reason": reason})
        else:
            raise Conflict(
                _(
                    "This task has no way back in its process: it stays with you. Ask a "
                    "supervisor to give it to someone else."
                )
            )
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
        if task.dispatched:  # the diagram's variable follows, so later steps go with it
            source = source_for(write.instance.definition_id)
            state = write.instance.engine_state
            result = engine_step(
                get_engine().reassign, source, state, str(task.pk), assignee.get_username()
            )
            if result is not None:
                write.apply(result, actor=user)
        before = task.assignee_id
        write.change_task(task, assignee=assignee)
        write.event(Kind.TASK_ASSIGNED, actor=user, task=task,
                    data={"to": assignee.pk, "from": before})  # fmt: skip
    return task


def task_complete(*, task_id: UUID, user, data: dict | None) -> HumanTask:
    """Complete an open task with its form's ``data``, as its assignee or a holder of its role."""
    task_id = access.task_uuid(task_id)
    data, prepared = files.prepare(data)  # before the lock: scaling and storing take time
    with locked(task_id=task_id) as write:
        task = task_under_lock(write, task_id)
        access.check_can_act(user, task)
        source = source_for(write.instance.definition_id)
        data = write.attach(source, task.form, validated(source, task.form or None, data), prepared)
        result = engine_step(
            get_engine().complete, source, write.instance.engine_state, str(task.pk), data
        )
        write.change_task(task, status=HumanTask.Status.COMPLETED, completed_at=write.now,
                          completed_by=user, assignee=task.assignee or user)  # fmt: skip
        write.event(Kind.TASK_COMPLETED, actor=user, task=task, data={"data": data})
        write.apply(result, actor=user)
    return task


def record_personal_read(*, user, instance: ProcessInstance, what: str) -> PersonalDataRead:
    """Put on the record that ``user`` received ``instance``'s personal data unmasked
    (``what``: a PersonalDataRead.What, where). One INSERT, no lock of the case: a read
    changes nothing of it. Callers record only readers whose reads count
    (access.personal_reads_recorded, selectors.personal_values_read)."""
    return PersonalDataRead.objects.create(
        reader=user, instance_id=instance.pk, what=PersonalDataRead.What(what), at=clock.now()
    )


def record_personal_reads(*, user, instance_ids, what: str) -> int:
    """:func:`record_personal_read` for many cases at once (an export): a row per case,
    inserted 1,000 to a statement; returns how many."""
    what, now = PersonalDataRead.What(what), clock.now()
    rows = [
        PersonalDataRead(reader=user, instance_id=pk, what=what, at=now)
        for pk in dict.fromkeys(instance_ids)
    ]
    return len(PersonalDataRead.objects.bulk_create(rows, batch_size=1000))


def attachment_served(*, user, attachment) -> None:
    """An attachment is being served to ``user``: a personal one read by an auditor (or a
    superuser) goes on the record."""
    if attachment.personal and access.personal_reads_recorded(user):
        record_personal_read(user=user, instance=attachment.instance, what="file")
