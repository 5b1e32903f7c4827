"""Reads that check who is asking. Views read models only through these."""

from __future__ import annotations

from uuid import UUID

from django.db.models import F, Q, QuerySet

from . import access
from .errors import Invalid, NotFound
from .models import AuditEvent, HumanTask, Notification, ProcessDefinition, ProcessInstance, Timer


def process_list() -> list[ProcessDefinition]:
    """The newest version of every deployed process, by key."""
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    return list(latest.values())


def process_get(*, key: str) -> ProcessDefinition:
    definition = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if definition is None:
        raise NotFound(f"There is no deployed process {key!r}.")
    return definition


def _visible_instances(user) -> QuerySet[ProcessInstance]:
    instances = ProcessInstance.objects.all()
    if access.is_auditor(user):
        return instances
    roles = access.user_roles(user)
    touched = HumanTask.objects.filter(
        Q(role__in=roles) | Q(assignee=user) | Q(completed_by=user)
    ).values("instance_id")
    # A case escalated to someone is theirs to look into.
    notified = Notification.objects.filter(recipient=user).values("instance_id")
    return instances.filter(Q(started_by=user) | Q(pk__in=touched) | Q(pk__in=notified))


def instance_get_for_user(*, user, instance_id: int | str) -> ProcessInstance:
    if not (str(instance_id).isdigit() and len(str(instance_id)) < 19):  # fits a bigint
        raise NotFound(f"Case {instance_id} does not exist or is not visible to you.")
    instance = (
        _visible_instances(user).filter(pk=instance_id)
        .select_related("definition", "started_by")
        .defer("state", "definition__bpmn", "definition__forms", "definition__manifest")
        .first()
    )  # fmt: skip
    if instance is None:
        raise NotFound(f"Case {instance_id} does not exist or is not visible to you.")
    return instance


def instance_open_tasks(*, instance: ProcessInstance) -> list[HumanTask]:
    return list(
        HumanTask.objects.filter(instance=instance, status=HumanTask.Status.OPEN)
        .select_related("assignee").order_by("created_at", "pk")
    )  # fmt: skip


def instance_events(*, instance: ProcessInstance) -> list[AuditEvent]:
    return list(instance.events.select_related("actor").order_by("seq"))


TASK_SCOPES = ("mine", "available")


def task_list_for_user(*, user, scope: str) -> QuerySet[HumanTask]:
    """``mine``: open tasks assigned to me; ``available``: unclaimed open tasks of my roles."""
    open_tasks = HumanTask.objects.filter(status=HumanTask.Status.OPEN)
    if scope == "mine":
        tasks = open_tasks.filter(assignee=user)
    elif scope == "available":
        tasks = open_tasks.filter(assignee__isnull=True, role__in=access.user_roles(user))
    else:
        raise Invalid(
            f"Unknown scope {scope!r}.", {"scope": [f"Must be one of: {', '.join(TASK_SCOPES)}."]}
        )
    return (
        tasks.select_related("instance", "assignee").defer("instance__state")
        .order_by(F("due_at").asc(nulls_last=True), "created_at", "pk")
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


def notification_list_for_user(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    mine = (
        Notification.objects.filter(recipient=user).select_related("task")
        .order_by("-created_at", "-pk")
    )  # fmt: skip
    return mine.filter(read_at__isnull=True) if unread_only else mine


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
