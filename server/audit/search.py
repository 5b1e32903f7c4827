"""Search across every case for auditors: by process, unit, owner, actor, status, start
date, escalation, lateness and category; the cases with their SLA outcome, and their events.

Every filter is a condition on the case row (a column, a key of its ``summary``, or an
``EXISTS`` on its tasks or events), so a page of results is one query whatever it matches,
and the SLA outcome is one grouped join on the case's tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from engine import casecard, clock
from server.estate.models import Resident
from server.flows import access
from server.flows.definitions.cache import source_for
from server.flows.errors import Forbidden, Invalid
from server.flows.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance

# The status filter: the case's own, or "invalid": a complaint screened as not valid (its
# screening form's ``valid`` recorded false; it ends at 无效投诉已答复, answered and kept).
INVALID = "invalid"
STATUSES = (*ProcessInstance.Status.values, INVALID)
ESCALATED = ("1", "2", "3")  # 1: escalated at all (level 2 or 3); 2, 3: exactly that level
# The summary fields that hold a case's category: a complaint's category (服务态度, 土建,
# ...) and a repair's trade (水电, 土建, 智能化, 电梯). A value names either.
CATEGORY_FIELDS = ("category", "trade")
URGENT = ("urgency", "urgent")  # the repair's 急修 tag: the summary's alert


def can_audit(user) -> bool:
    """Auditors (质量内审) and superusers, who hold every role."""
    return access.is_auditor(user)


def check_can_audit(user) -> None:
    if not can_audit(user):
        raise Forbidden(_("Only auditors may search and export the audit trail."))


@dataclass(frozen=True)
class Filters:
    """What an auditor asks for; every field left empty asks nothing."""

    process: str = ""
    unit: str = ""
    owner: str = ""
    actor: str = ""
    status: str = ""
    started_from: date | None = None
    started_to: date | None = None
    escalated: str = ""
    late: bool = False
    urgent: bool = False
    category: str = ""
    kind: str = ""  # events only


# The query parameters, named as the page and the API name them.
PARAMETERS = ("process", "unit", "owner", "actor", "status", "from", "to", "escalated", "late",
              "urgent", "category", "kind")  # fmt: skip


def parse(query) -> Filters:
    """The page's filters from its query string: blank values are left out (a form sends
    them), anything else that is not a declared value is refused naming its parameter."""
    given = {name: str(query.get(name, "")).replace("\x00", "").strip()[:100]
             for name in PARAMETERS}  # fmt: skip
    errors: dict[str, list[str]] = {}
    dates = {}
    for name in ("from", "to"):
        dates[name] = _date(given[name], name, errors)
    for name, allowed in (("status", STATUSES), ("escalated", ESCALATED)):
        if given[name] and given[name] not in allowed:
            errors[name] = [_("Must be one of: %(values)s.") % {"values": ", ".join(allowed)}]
    flags = {}
    for name in ("late", "urgent"):
        if given[name] not in ("", "0", "1", "true", "false"):
            errors[name] = [_("Must be 1, true, 0 or false.")]
        flags[name] = given[name] in ("1", "true")
    if errors:
        raise Invalid(_("The request has errors; see each field."), errors)
    return Filters(
        process=given["process"], unit=given["unit"], owner=given["owner"],
        actor=given["actor"], status=given["status"], started_from=dates["from"],
        started_to=dates["to"], escalated=given["escalated"], late=flags["late"],
        urgent=flags["urgent"], category=given["category"], kind=given["kind"],
    )  # fmt: skip


def _date(text: str, name: str, errors: dict) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:  # fromisoformat would also take 20261101
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Must be a date as YYYY-MM-DD.")]
        return None


def check_known(filters: Filters) -> None:
    """A process, category or actor that names nothing is refused naming its parameter, so
    a typing mistake is never read as "nothing was found"."""
    errors: dict[str, list[str]] = {}
    if filters.process or filters.category:
        processes, categories = catalogue()
        if filters.process and filters.process not in processes:
            errors["process"] = [_("No process is called %(value)s.") % {"value": filters.process}]
        if filters.category and filters.category not in categories:
            errors["category"] = [
                _("No form has the category %(value)s.") % {"value": filters.category}
            ]
    if filters.actor and not User.objects.filter(username=filters.actor).exists():
        errors["actor"] = [_("No user is called %(value)s.") % {"value": filters.actor}]
    if errors:
        raise Invalid(_("The request has errors; see each field."), errors)


def catalogue() -> tuple[list[str], dict[str, list[str]]]:
    """The deployed process keys, and every category value with its titles ([zh, en]) from
    the newest versions' forms: one light query, the sources cached per version."""
    newest: dict[str, int] = {}
    for key, pk in ProcessDefinition.objects.order_by("key", "-version").values_list("key", "pk"):
        newest.setdefault(key, pk)
    categories: dict[str, list[str]] = {}
    for pk in newest.values():
        source = source_for(pk)
        for name in CATEGORY_FIELDS:
            schema = casecard.field_schema(source, name)
            titles = schema.get("x-enum-titles") or {}
            for value in schema.get("enum") or []:
                categories.setdefault(str(value), list(titles.get(value) or [value, value]))
    return sorted(newest), categories


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _ended():
    """When a task's time stopped running: its completion (or closing), else now."""
    return Coalesce(F("tasks__completed_at"), Value(clock.now(), output_field=DateTimeField()))


def _late_tasks():
    return HumanTask.objects.filter(
        instance=OuterRef("pk"), due_at__isnull=False,
        due_at__lt=Coalesce(F("completed_at"), Value(clock.now(), output_field=DateTimeField())),
    )  # fmt: skip


def _invalid():
    return AuditEvent.objects.filter(
        instance=OuterRef("pk"), kind=AuditEvent.Kind.TASK_COMPLETED, data__data__valid=False
    )


def _matching(filters: Filters) -> QuerySet[ProcessInstance]:
    cases = ProcessInstance.objects.all()
    if filters.process:
        cases = cases.filter(process_key=filters.process)
    if filters.unit:
        cases = cases.filter(business_key__iexact=filters.unit)
    if filters.owner:
        owners = Resident.objects.filter(name__icontains=filters.owner, moved_out__isnull=True)
        cases = cases.filter(business_key__in=owners.values("unit__code"))
    if filters.actor:
        cases = cases.filter(Exists(AuditEvent.objects.filter(
            instance=OuterRef("pk"), actor__username=filters.actor)))  # fmt: skip
    if filters.status == INVALID:
        cases = cases.filter(Exists(_invalid()))
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.started_from:
        cases = cases.filter(started_at__gte=_local_midnight(filters.started_from))
    if filters.started_to:
        cases = cases.filter(started_at__lt=_local_midnight(filters.started_to + timedelta(1)))
    if filters.escalated == "1":
        cases = cases.filter(escalation_level__gte=2)
    elif filters.escalated:
        cases = cases.filter(escalation_level=int(filters.escalated))
    if filters.late:
        cases = cases.filter(Exists(_late_tasks()))
    if filters.urgent:
        cases = cases.filter(**{f"summary__{URGENT[0]}": URGENT[1]})
    if filters.category:
        found = Q()
        for name in CATEGORY_FIELDS:
            found |= Q(**{f"summary__{name}": filters.category})
        cases = cases.filter(found)
    return cases


def case_search(*, user, filters: Filters) -> QuerySet[ProcessInstance]:
    """The cases that match, newest first, each with its SLA outcome: ``limited`` (tasks
    with a time limit), ``met`` (done within it), ``missed`` (done after it, or still open
    past it), ``worst_late`` (the largest lateness, a timedelta or None) and ``invalid``."""
    check_can_audit(user)
    check_known(filters)
    late = Q(tasks__due_at__isnull=False, tasks__due_at__lt=_ended())
    lateness = ExpressionWrapper(_ended() - F("tasks__due_at"), output_field=DurationField())
    return (
        _matching(filters)
        .annotate(
            limited=Count("tasks", filter=Q(tasks__due_at__isnull=False)),
            met=Count("tasks", filter=Q(tasks__status=HumanTask.Status.COMPLETED,
                                        tasks__due_at__gte=F("tasks__completed_at"))),
            missed=Count("tasks", filter=late),
            worst_late=Max(lateness, filter=late),
            invalid=Exists(_invalid()),
        )
        .defer("state").order_by("-started_at", "-pk")
    )  # fmt: skip


def event_search(*, user, filters: Filters) -> QuerySet[AuditEvent]:
    """The events of the matching cases (only ``kind``'s, only ``actor``'s when given), in
    case and sequence order, with what a row of an export shows read in the same query."""
    check_can_audit(user)
    check_known(filters)
    events = AuditEvent.objects.filter(instance__in=_matching(filters).values("pk"))
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.actor:
        events = events.filter(actor__username=filters.actor)
    return (
        events.select_related("instance", "actor", "task")
        .only("seq", "kind", "at", "data", "instance__process_key", "instance__business_key",
              "instance__definition_id", "actor__username", "task__name", "task__name_en",
              "task__form", "task__bpmn_id")
        .order_by("instance_id", "seq")
    )  # fmt: skip


def late_minutes(worst: timedelta | None) -> int | None:
    """A lateness in whole minutes, rounded up (a minute late is late)."""
    if worst is None:
        return None
    return -int(-worst.total_seconds() // 60)
