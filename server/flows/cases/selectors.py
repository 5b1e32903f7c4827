"""Reads of cases and tasks that check who is asking. Views read models only through these."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from engine import clock, policy
from server.estate.models import Resident
from server.files.models import Attachment

from .. import access
from ..errors import Invalid, NotFound
from ..models import (
    AuditEvent,
    HumanTask,
    Notification,
    PersonalDataRead,
    ProcessInstance,
    Timer,
)
from .personal import Masker


def _visible_instances(user) -> QuerySet[ProcessInstance]:
    instances = ProcessInstance.objects.all()
    if access.is_auditor(user) or access.is_supervisor(user):
        return instances  # supervisors oversee every case; contacts stay withheld (below)
    roles = access.user_roles(user)
    touched = HumanTask.objects.filter(
        Q(role__in=roles) | Q(assignee=user) | Q(completed_by=user)
    ).values("instance_id")
    # A case escalated to someone is theirs to look into.
    notified = Notification.objects.filter(recipient=user).values("instance_id")
    return instances.filter(Q(started_by=user) | Q(pk__in=touched) | Q(pk__in=notified))


def instance_get_for_user(*, user, instance_id: int | str) -> ProcessInstance:
    text = str(instance_id)
    if not (text.isascii() and text.isdigit() and len(text) < 19):  # fits a bigint
        raise NotFound(
            _("Case %(id)s does not exist or is not visible to you.") % {"id": instance_id}
        )
    instance = (
        _visible_instances(user).filter(pk=instance_id)
        .select_related("definition", "started_by")
        .defer("state", "definition__bpmn", "definition__forms", "definition__manifest")
        .first()
    )  # fmt: skip
    if instance is None:
        raise NotFound(
            _("Case %(id)s does not exist or is not visible to you.") % {"id": instance_id}
        )
    return instance


def instance_open_tasks(*, instance: ProcessInstance) -> list[HumanTask]:
    return list(
        HumanTask.objects.filter(instance=instance, status=HumanTask.Status.OPEN)
        .select_related("assignee").order_by("created_at", "pk")
    )  # fmt: skip


def instance_done_steps(*, instance: ProcessInstance) -> list[str]:
    """The BPMN ids of the case's completed tasks (for the diagram)."""
    done = HumanTask.objects.filter(instance=instance, status=HumanTask.Status.COMPLETED)
    return sorted(set(done.values_list("bpmn_id", flat=True)))


def instance_events(*, instance: ProcessInstance) -> list[AuditEvent]:
    return list(instance.events.select_related("actor", "task").order_by("seq"))


def instance_milestone_events(*, instance: ProcessInstance) -> list[AuditEvent]:
    """The case's start and task completions, light (no recorded data): its step bar."""
    kinds = (AuditEvent.Kind.INSTANCE_STARTED, AuditEvent.Kind.TASK_COMPLETED)
    return list(
        instance.events.filter(kind__in=kinds).select_related("actor", "task")
        .only("kind", "at", "seq", "task__bpmn_id", "actor__username", "actor__first_name",
              "actor__last_name").order_by("seq")
    )  # fmt: skip


TASK_SCOPES = ("inbox", "mine", "available", "all")
CASE_STATUSES = tuple(ProcessInstance.Status.values)
SUSPENDED = ProcessInstance.Status.SUSPENDED
# The cases a supervisor may still suspend, resume, terminate or move.
CONTROLLABLE = (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED)


def _in_scope(tasks: QuerySet[HumanTask], user, scope: str) -> QuerySet[HumanTask]:
    roles = access.user_roles(user)
    if scope == "inbox":
        return tasks.filter(Q(assignee=user) | Q(assignee__isnull=True, role__in=roles))
    if scope == "mine":
        return tasks.filter(assignee=user)
    if scope == "available":
        return tasks.filter(assignee__isnull=True, role__in=roles)
    if scope == "all":
        if access.is_supervisor(user) or access.is_auditor(user):
            return tasks
        return tasks.filter(Q(assignee=user) | Q(role__in=roles))
    raise Invalid(
        f"Unknown scope {scope!r}.", {"scope": [f"Must be one of: {', '.join(TASK_SCOPES)}."]}
    )


def _filtered(tasks, *, process="", unit="", overdue=False, search="") -> QuerySet[HumanTask]:
    if process:
        tasks = tasks.filter(process_key=process)
    if unit:
        tasks = tasks.filter(instance__business_key=unit)
    if overdue:
        tasks = tasks.filter(due_at__lt=clock.now())
    if search := search.strip():
        owners = Resident.objects.filter(name__icontains=search, moved_out__isnull=True)
        tasks = tasks.filter(
            Q(instance__business_key__icontains=search)
            | Q(instance__business_key__in=owners.values("unit__code"))
        )
    return tasks


def _of_steps(steps: dict[str, set[str]]) -> Q:
    """Tasks of these (process key -> task ids)."""
    found = Q(pk__in=[])
    for key, ids in steps.items():
        found |= Q(process_key=key, bpmn_id__in=sorted(ids))
    return found


def task_list_for_user(
    *,
    user,
    scope: str = "inbox",
    steps: dict[str, set[str]] | None = None,
    other_than: dict[str, set[str]] | None = None,
    **filters,
) -> QuerySet[HumanTask]:
    """Open tasks, overdue first, then by due time (no due time last).

    ``inbox``: assigned to me, and my roles' unclaimed ones; ``mine``: assigned to me;
    ``available``: my roles' unclaimed; ``all``: every open task I may see (my roles',
    claimed or not; supervisors and auditors: everyone's). ``search`` matches the unit or
    the name of its current owner in the registry. ``steps``: only these tasks (process
    key -> task ids: an inbox tab); ``other_than``: all but these.
    """
    tasks = _in_scope(HumanTask.objects.filter(status=HumanTask.Status.OPEN), user, scope)
    tasks = _filtered(tasks, **filters)
    if steps is not None:
        tasks = tasks.filter(_of_steps(steps))
    if other_than is not None:
        tasks = tasks.exclude(_of_steps(other_than))
    return (
        tasks.select_related("instance", "assignee").defer("instance__state")
        .order_by(F("due_at").asc(nulls_last=True), "created_at", "pk")
    )  # fmt: skip


def task_step_counts(*, user, scope: str = "inbox", **filters) -> dict[tuple[str, str], int]:
    """How many of the open tasks :func:`task_list_for_user` lists are at each step
    (process key, task id): one query, for the inbox's tabs."""
    tasks = _filtered(
        _in_scope(HumanTask.objects.filter(status=HumanTask.Status.OPEN), user, scope), **filters
    )
    rows = tasks.order_by().values_list("process_key", "bpmn_id").annotate(n=Count("pk"))
    return {(key, bpmn_id): n for key, bpmn_id, n in rows}


def instance_list_for_user(
    *, user, process: str = "", status: str = "", search: str = ""
) -> QuerySet[ProcessInstance]:
    """The cases I may open, newest first."""
    instances = _visible_instances(user)
    if process:
        instances = instances.filter(process_key=process)
    if status:
        if status not in ProcessInstance.Status.values:
            raise Invalid(
                f"Unknown status {status!r}.",
                {"status": [f"Must be one of: {', '.join(ProcessInstance.Status.values)}."]},
            )
        instances = instances.filter(status=status)
    if search := search.strip():
        owners = Resident.objects.filter(name__icontains=search, moved_out__isnull=True)
        instances = instances.filter(
            Q(business_key__icontains=search) | Q(business_key__in=owners.values("unit__code"))
        )
    return (
        instances.select_related("started_by")
        .defer("state").order_by("-started_at", "-pk")
    )  # fmt: skip


def can_see_contacts(*, user, instance: ProcessInstance) -> bool:
    """Owner contact data shows on a case to auditors, to whoever started it, to whoever
    has a task in it (of their role, assigned to them, or done by them), and to the
    supervisor it was escalated to (level 2: 客服主管, level 3: 主管副总经理)."""
    if access.is_auditor(user) or instance.started_by_id == user.pk:
        return True
    roles = access.user_roles(user)
    if policy.escalated_to(roles, instance.escalation_level):
        return True
    return HumanTask.objects.filter(
        Q(role__in=roles) | Q(assignee=user) | Q(completed_by=user), instance=instance
    ).exists()


def event_masker(*, user, instance: ProcessInstance) -> Masker | None:
    """What masks the personal values of ``instance``'s events for ``user``: None when
    they may see them (:func:`can_see_contacts`). An export of many cases keeps one
    :class:`~server.flows.cases.personal.Masker` for all and asks :func:`can_see_contacts`
    per case (auditors and superusers, the exporters, see every case's)."""
    return None if can_see_contacts(user=user, instance=instance) else Masker()


def personal_values_read(*, user, instance: ProcessInstance, events) -> bool:
    """Whether ``user`` receiving ``events`` of ``instance`` unmasked is a read to record
    (services.record_personal_read): they are an auditor or a superuser
    (access.personal_reads_recorded) and the events hold a personal value."""
    if not access.personal_reads_recorded(user):
        return False
    masker = Masker()
    return any(masker.holds_personal(e, definition_id=instance.definition_id) for e in events)


def instance_personal_reads(*, user, instance: ProcessInstance) -> list[PersonalDataRead]:
    """Who read the case's personal data, when, and where, oldest first; empty for those
    who may not see it (access.can_see_personal_reads)."""
    if not access.can_see_personal_reads(user):
        return []
    return list(
        PersonalDataRead.objects.filter(instance=instance).select_related("reader")
        .order_by("at", "pk")
    )  # fmt: skip


def task_contacts_visible(*, user, roles, task: HumanTask) -> bool:
    """Whether an inbox row may show its case's caller: what :func:`can_see_contacts`
    answers, judged from the row alone (no query per row), so never more than it: the
    task is the reader's, or their role's, or the case is theirs as above."""
    instance = task.instance
    return (
        task.assignee_id == user.pk or task.role in roles or access.is_auditor(user)
        or instance.started_by_id == user.pk
        or policy.escalated_to(roles, instance.escalation_level)
    )  # fmt: skip


def unit_people(*, code: str) -> list[Resident]:
    """The unit's current residents, owners first (confidential: check can_see_contacts)."""
    return list(
        Resident.objects.filter(unit__code=code, moved_out__isnull=True)
        .select_related("unit").order_by("kind", "pk")
    )  # fmt: skip


def task_get_for_user(*, user, task_id: UUID) -> HumanTask:
    task_id = access.task_uuid(task_id)
    task = (
        HumanTask.objects.select_related("instance", "assignee", "completed_by")
        .defer("instance__state").filter(pk=task_id).first()
    )  # fmt: skip
    if task is None or not access.can_see_task(user, task):
        raise access.task_not_found(task_id)
    return task


def instance_timers(*, instance: ProcessInstance) -> list[Timer]:
    return list(Timer.objects.filter(instance=instance).order_by("due_at", "pk"))


def assign_candidates(*, user, task: HumanTask) -> list[User]:
    """Whom a supervisor may give the open ``task`` to: the active holders of its role."""
    if not (access.is_supervisor(user) and task.status == HumanTask.Status.OPEN and task.role):
        return []
    return list(
        User.objects.filter(groups__name=task.role, is_active=True).distinct().order_by("username")
    )


def next_task_for(*, user, instance: ProcessInstance) -> HumanTask | None:
    """The case's first open task ``user`` may work now."""
    tasks = instance_open_tasks(instance=instance)
    for task in tasks:
        task.instance = instance  # can_act asks whether the case is suspended
    return next((t for t in tasks if access.can_act(user, t)), None)


def attachment_get_for_user(*, user, attachment_id: str) -> Attachment:
    """A file recorded in a case the user may see; a personal one (a signature, a contact
    field) only if they may also see the case's contacts. 404 alike for all else."""
    missing = NotFound(_("No such file."))
    try:
        key = UUID(str(attachment_id))
    except ValueError:
        raise missing from None
    found = (
        Attachment.objects.filter(pk=key, instance__in=_visible_instances(user).values("pk"))
        .select_related("instance")
        .defer("instance__state")
        .first()
    )
    if found is None:
        raise missing
    if found.personal and not can_see_contacts(user=user, instance=found.instance):
        raise missing
    return found
