"""Who may see and do what. Every read and write asks these few functions.

A task is visible to the holders of its role, its assignee, whoever completed
it, supervisors (who reassign) and auditors. Acting on it needs the role or the
assignment; auditors read and never act. Owner contact data shows only on cases
the user has a task in (or started), and to auditors. What a user may not see
answers "not found", exactly like what does not exist.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _

from engine.policy import (
    CASE_CONTROL_ROLES,
    INTAKE_ROLES,
    PROCESS_MANAGER_ROLES,
    READ_ONLY_ROLES,
    SUPERVISOR_ROLES,
)
from engine.roles import ROLE_KEYS

from .errors import Conflict, Forbidden, NotFound, ServiceError
from .models import HumanTask, ProcessInstance


def user_roles(user: User | AnonymousUser) -> frozenset[str]:
    """The user's role keys, read once per user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_propflow_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = ROLE_KEYS
        else:
            cached = frozenset(user.groups.values_list("name", flat=True)) & ROLE_KEYS
        user._propflow_roles = cached
    return cached


def user_roles_known(user: User, group_names) -> None:
    """Keep the roles of ``user`` from its group names read with the user itself (the API's
    token check reads both in one query), so :func:`user_roles` needs no query of its own."""
    user._propflow_roles = ROLE_KEYS if user.is_superuser else frozenset(group_names) & ROLE_KEYS


def is_auditor(user) -> bool:
    return bool(user_roles(user) & READ_ONLY_ROLES)


def is_supervisor(user) -> bool:
    """May reassign tasks and cancel cases."""
    return bool(user_roles(user) & SUPERVISOR_ROLES)


def can_manage_processes(user) -> bool:
    """May upload, edit, deploy, retire and roll back processes (superusers too)."""
    return bool(getattr(user, "is_superuser", False) or user_roles(user) & PROCESS_MANAGER_ROLES)


def check_can_manage_processes(user) -> None:
    if not can_manage_processes(user):
        raise Forbidden(_("Only a property manager may change processes."))


def can_control_case(user) -> bool:
    """May suspend, resume, terminate a case and move it to another version."""
    return bool(user_roles(user) & CASE_CONTROL_ROLES)


def check_can_control_case(user, message: str) -> None:
    if not can_control_case(user):
        raise Forbidden(message)


def suspended(instance_id) -> str:
    """The conflict of acting on a task of a suspended case."""
    return _(
        "Case %(id)s is suspended: its tasks wait until a supervisor or manager resumes it. "
        "Nothing was changed."
    ) % {"id": instance_id}


def sees_owner_contacts(user) -> bool:
    """Sees the owner's name and phone in the unit lookup (intake roles and auditors)."""
    roles = user_roles(user)
    return bool(roles & INTAKE_ROLES or roles & READ_ONLY_ROLES)


def personal_reads_recorded(user) -> bool:
    """Whether the reads of personal data by ``user`` go on the record (PersonalDataRead):
    auditors', who read every case without working any ("every auditor read"), and
    superusers' (who hold every role, the auditor's too). A worker of the case, its starter
    and the supervisor it was escalated to see its contacts in the course of their work:
    the audit trail already says why."""
    return is_auditor(user)


def can_see_personal_reads(user) -> bool:
    """May list who read a case's personal data: auditors, supervisors and managers."""
    return is_auditor(user) or is_supervisor(user)


def can_see_task(user, task: HumanTask) -> bool:
    """Supervisors see every task so they can hand it to someone; auditors read all."""
    return (
        task.role in user_roles(user)
        or user.pk in (task.assignee_id, task.completed_by_id)
        or is_auditor(user)
        or is_supervisor(user)
    )


def task_uuid(task_id) -> UUID:
    """``task_id`` as a UUID; anything else is a task that does not exist."""
    try:
        return task_id if isinstance(task_id, UUID) else UUID(str(task_id))
    except ValueError:
        raise task_not_found(task_id) from None


def task_not_found(task_id) -> NotFound:
    return NotFound(_("Task %(id)s does not exist or is not visible to you.") % {"id": task_id})


def already(task_id, status: str) -> str:
    """The conflict of acting on a task that is no longer open."""
    if status == HumanTask.Status.CANCELLED:
        return _("Task %(id)s was closed by the process; nothing was changed.") % {"id": task_id}
    return _("Task %(id)s is already completed; nothing was changed.") % {"id": task_id}


def _refusal(user, task: HumanTask, *, act: bool) -> ServiceError | None:
    """Why ``user`` may not see the open ``task`` (or, with ``act``, claim or complete it
    now), or None."""
    if not can_see_task(user, task):
        return task_not_found(task.pk)
    if task.status != HumanTask.Status.OPEN:
        return Conflict(already(task.pk, task.status))
    if task.instance.status == ProcessInstance.Status.SUSPENDED:
        return Conflict(suspended(task.instance_id))
    if not act or task.assignee_id == user.pk:
        return None
    if task.role not in user_roles(user):
        return Forbidden(
            _("Your roles let you read task %(id)s but not act on it.") % {"id": task.pk}
        )
    if task.assignee_id is not None:
        return Conflict(
            _("Task %(id)s is claimed by %(who)s; ask them or a supervisor.")
            % {"id": task.pk, "who": task.assignee}
        )
    return None


def check_open(user, task: HumanTask) -> None:
    """Raise unless ``user`` may see ``task``, it is still open and its case not suspended."""
    if refusal := _refusal(user, task, act=False):
        raise refusal


def can_act(user, task: HumanTask) -> bool:
    """May ``user`` claim or complete ``task`` now? (:func:`check_can_act` says why not.)"""
    return _refusal(user, task, act=True) is None


def check_can_act(user, task: HumanTask) -> None:
    """Raise unless ``user`` may claim or complete the open ``task`` now."""
    if refusal := _refusal(user, task, act=True):
        raise refusal
