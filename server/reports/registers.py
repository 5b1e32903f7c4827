"""The registers (台账) the desk keeps by hand today, read from the case, task and audit
tables: the repair register (报修台账: who, where, what, when reported, dispatched,
accepted, arrived, done, fee, satisfied) and the complaint register, which is also what
the daily complaint report lists (server/reports/daily.py).

A register is a filtered list of cases (:class:`Filters`: from/to on the day a case was
reported, site time; status; category or trade; urgent; unit). Its rows are built a batch
of cases at a time: the cases (one query), then every recorded step of the batch (one
query on the audit events, the step's ``bpmn_id`` joined) and its open steps (one query on
the tasks), so the queries grow with batches, never with rows.

Where the times come from (the repair BPMN, processes/repair/repair.bpmn):

- reported: the case's start; dispatched: the last ``dispatch`` / ``dispatch_urgent``
  completed (a rework dispatches again; ``warranty_handover`` for a job in warranty);
- accepted: when the technician took the work order: the first claim of its ``arrive``
  (``warranty_urgent``) step after that dispatch, else its completion ("接單日期(精確到
  分鐘)"); arrived: that step's completion;
- done: the last ``repair_work`` completed with outcome ``done`` (``warranty_verify`` for a
  warranty job); fee: its ``fee_charged``; satisfied: the last ``return_visit``'s answer;
- reworked: ``repair_work`` done more than once (an unsatisfied visit sends the job back).

For complaints: registered (start), screened valid or not, the handler (who completed the
last ``handle_*`` step, or the holder of the open one), the level (1, or the highest the
case reached), the result (the reply given, else the last handling, else why invalid), the
return visit's answer, closed at (the case's completion).

Residents' names and phones show to whom :func:`server.flows.cases.selectors.
can_see_contacts` shows them on the case page (auditors, the case's starter, whoever has a
task in it, the level it was escalated to); judged in the cases' query (``contacts``),
masked (``***``) otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from engine import casecard
from engine import personal as flags
from engine.policy import ESCALATION_LEVELS
from engine.text import pick
from server.flows import access
from server.flows.definitions.cache import source_for
from server.flows.errors import Forbidden, Invalid
from server.flows.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance

BATCH = 500  # cases whose steps are read in one query
MASK = flags.MASK
COMPLETED = AuditEvent.Kind.TASK_COMPLETED
STARTED = AuditEvent.Kind.INSTANCE_STARTED
CLAIMED = AuditEvent.Kind.TASK_CLAIMED
STATUSES = tuple(ProcessInstance.Status.values)
# A case's status in the registers' words ([zh, en]): "running" is a complaint or repair
# still being handled.
STATUS_WORDS = {
    "running": ["处理中", "Open"], "suspended": ["已暂停", "Suspended"],
    "completed": ["已完成", "Completed"], "cancelled": ["已撤销", "Cancelled"],
}  # fmt: skip
# The register's kind of case, its category field, its steps.
KINDS = {"repair": "trade", "complaint": "category"}
DISPATCH = ("dispatch", "dispatch_urgent", "warranty_handover")
ARRIVE = ("arrive", "warranty_urgent")
WORK_DONE = ("repair_work", "warranty_verify")
HANDLE = ("handle_frontdesk", "handle_engineering", "handle_security", "handle_level2",
          "handle_level3")  # fmt: skip
TYPE_A = ("building", "water_electric", "smart")  # the complaint BPMN's intake script


def can_read_reports(user) -> bool:
    """The reports (daily complaints, monthly statistics): managers, supervisors, the vice
    GM, auditors and superusers (who hold every role)."""
    return bool(access.user_roles(user) & {"property_manager", "cs_supervisor", "vice_gm",
                                           "auditor"})  # fmt: skip


def can_read_registers(user) -> bool:
    """The registers: whoever reads the reports, and the people who keep them by hand
    today: the front desk, the dispatcher and customer relations."""
    return can_read_reports(user) or bool(
        access.user_roles(user) & {"frontdesk", "dispatcher", "relations"}
    )


def check_can_read_reports(user) -> None:
    if not can_read_reports(user):
        raise Forbidden(
            _(
                "Only managers, supervisors, the vice general manager and auditors may read "
                "the reports."
            )  # fmt: skip
        )


def check_can_read_registers(user) -> None:
    if not can_read_registers(user):
        raise Forbidden(
            _(
                "Only the front desk, dispatchers, customer relations, managers, supervisors "
                "and auditors may read the registers."
            )  # fmt: skip
        )


@dataclass(frozen=True)
class Filters:
    """What a register is asked for; every field left empty asks nothing."""

    start: date | None = None  # reported on or after (site day)
    end: date | None = None  # reported on or before (site day)
    status: str = ""
    category: str = ""  # a complaint's category or a repair's trade
    urgent: bool = False  # repairs only
    unit: str = ""


PARAMETERS = ("from", "to", "status", "category", "urgent", "unit")


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


# The days a report can ask about: a site-time midnight of either end, and the day after
# the last, are times the database and Python can hold.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def in_range(day: date | None) -> bool:
    return day is None or FIRST_YEAR <= day.year <= LAST_YEAR


def out_of_range() -> str:
    return _("Must be a day in the years %(first)s to %(last)s.") % {
        "first": FIRST_YEAR, "last": LAST_YEAR,
    }  # fmt: skip


def check_range(**days) -> None:
    """Each day given in the years a report can ask about, else a 400 naming it."""
    errors = {name: [out_of_range()] for name, day in days.items() if not in_range(day)}
    if errors:
        raise Invalid(_("The request has errors; see each field."), errors)


def parse_date(text: str, name: str, errors: dict) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:  # fromisoformat would also take 20261101
            raise ValueError(text)
        found = date.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Must be a date as YYYY-MM-DD.")]
        return None
    if not in_range(found):
        errors[name] = [out_of_range()]
        return None
    return found


def parse(process: str, query) -> Filters:
    """A register's filters from a query string (blank values left out); anything else
    that is not a declared value is refused naming its parameter (a 400)."""
    given = {name: str(query.get(name, "")).replace("\x00", "").strip()[:100]
             for name in PARAMETERS}  # fmt: skip
    errors: dict[str, list[str]] = {}
    start = parse_date(given["from"], "from", errors)
    end = parse_date(given["to"], "to", errors)
    if given["status"] and given["status"] not in STATUSES:
        words = [pick(STATUS_WORDS[s], get_language(), s) for s in STATUSES]
        errors["status"] = [_("Must be one of: %(values)s.") % {"values": ", ".join(words)}]
    if given["urgent"] not in ("", "0", "1", "true", "false"):
        errors["urgent"] = [_("Must be 1, true, 0 or false.")]
    if given["category"] and given["category"] not in dict(categories(process)):
        words = [pick(t, get_language(), v) for v, t in categories(process)]
        errors["category"] = [_("Must be one of: %(values)s.") % {"values": ", ".join(words)}]
    if errors:
        raise Invalid(_("The request has errors; see each field."), errors)
    return Filters(start=start, end=end, status=given["status"], category=given["category"],
                   urgent=given["urgent"] in ("1", "true"), unit=given["unit"])  # fmt: skip


def categories(process: str) -> list[tuple[str, list[str]]]:
    """The category (complaint) or trade (repair) values of the newest version's forms,
    each with its titles ([zh, en])."""
    newest = (ProcessDefinition.objects.filter(key=process).order_by("-version")
              .values_list("pk", flat=True).first())  # fmt: skip
    if newest is None:
        return []
    schema = casecard.field_schema(source_for(newest), KINDS[process])
    titles = schema.get("x-enum-titles") or {}
    return [(str(v), list(titles.get(v) or [v, v])) for v in schema.get("enum") or []]


def titles(process: str, field: str) -> dict[str, list[str]]:
    """An enum field's values with their titles ([zh, en]), from the newest version."""
    newest = (ProcessDefinition.objects.filter(key=process).order_by("-version")
              .values_list("pk", flat=True).first())  # fmt: skip
    if newest is None:
        return {}
    schema = casecard.field_schema(source_for(newest), field)
    found = schema.get("x-enum-titles") or {}
    return {str(v): list(found.get(v) or [v, v]) for v in schema.get("enum") or []}


def _contacts(user):
    """Whether the reader sees a case's residents' names and phones, as a condition on the
    case row (what ``can_see_contacts`` answers for one case)."""
    if access.is_auditor(user):
        return Value(True)
    roles = access.user_roles(user)
    levels = [at for at, role in ESCALATION_LEVELS.values() if role in roles]
    mine = HumanTask.objects.filter(
        Q(role__in=roles) | Q(assignee=user) | Q(completed_by=user), instance=OuterRef("pk")
    )
    seen = Q(started_by=user) | Q(Exists(mine))
    if levels:
        seen |= Q(escalation_level__gte=min(levels))
    return seen


def cases(process: str, *, user, filters: Filters) -> QuerySet[ProcessInstance]:
    """The register's cases, oldest reported first, each with ``contacts``: whether
    ``user`` sees its residents' names and phones."""
    found = ProcessInstance.objects.filter(process_key=process)
    if filters.start:
        found = found.filter(started_at__gte=local_midnight(filters.start))
    if filters.end:
        found = found.filter(started_at__lt=local_midnight(filters.end + timedelta(1)))
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.category:
        found = found.filter(**{f"summary__{KINDS[process]}": filters.category})
    if filters.urgent:
        found = found.filter(summary__urgency="urgent")
    if filters.unit:
        found = found.filter(business_key__iexact=filters.unit)
    contacts = _contacts(user)
    if not isinstance(contacts, Value):
        contacts = Case(When(contacts, then=Value(True)), default=Value(False),
                        output_field=BooleanField())  # fmt: skip
    return (
        found.annotate(contacts=contacts)
        .only("pk", "process_key", "business_key", "status", "started_at", "completed_at",
              "escalation_level", "summary", "started_by_id")
        .order_by("started_at", "pk")
    )  # fmt: skip


# -- the rows ---------------------------------------------------------------------------------


@dataclass
class Step:
    kind: str
    at: datetime
    bpmn_id: str
    who: str
    data: dict


def _name(first: str | None, username: str | None) -> str:
    return (first or username or "").strip()


def _steps(ids: list[int]) -> dict[int, list[Step]]:
    """Every start, claim and completion of the cases ``ids``, in order: one query."""
    found: dict[int, list[Step]] = {pk: [] for pk in ids}
    events = (
        AuditEvent.objects.filter(instance_id__in=ids, kind__in=(STARTED, COMPLETED, CLAIMED))
        .order_by("instance_id", "seq")
        .values_list("instance_id", "kind", "at", "task__bpmn_id", "actor__first_name",
                     "actor__username", "data")
    )  # fmt: skip
    for pk, kind, at, bpmn_id, first, username, data in events:
        recorded = (data or {}).get("data") if isinstance(data, dict) else None
        found[pk].append(Step(kind, at, bpmn_id or "", _name(first, username),
                              recorded if isinstance(recorded, dict) else {}))  # fmt: skip
    return found


def _open(ids: list[int]) -> dict[int, list[dict]]:
    """The open steps of the cases ``ids``: one query."""
    found: dict[int, list[dict]] = {pk: [] for pk in ids}
    tasks = (
        HumanTask.objects.filter(instance_id__in=ids, status=HumanTask.Status.OPEN)
        .order_by("created_at")
        .values("instance_id", "bpmn_id", "name", "name_en", "role", "assignee__first_name",
                "assignee__username")
    )  # fmt: skip
    for task in tasks:
        found[task["instance_id"]].append(task)
    return found


def _last(steps: list[Step], ids: Iterable[str], **where) -> Step | None:
    ids = tuple(ids)
    for step in reversed(steps):
        if (
            step.kind == COMPLETED
            and step.bpmn_id in ids
            and all(step.data.get(k) == v for k, v in where.items())
        ):
            return step
    return None


def _started(steps: list[Step]) -> dict:
    return next((s.data for s in steps if s.kind == STARTED), {})


def _masked(value, shown: bool):
    if value in (None, ""):
        return ""
    return value if shown else MASK


def repair_row(case: ProcessInstance, steps: list[Step], open_: list[dict]) -> dict:
    """One line of the repair register (plain values, codes; times aware)."""
    asked = {**case.summary, **_started(steps)}
    shown = bool(case.contacts)
    dispatched = _last(steps, DISPATCH)
    accepted = arrived = None
    after = dispatched.at if dispatched else case.started_at
    for step in steps:
        if step.bpmn_id in ARRIVE and step.at >= after:
            if step.kind == CLAIMED and accepted is None:
                accepted = step
            if step.kind == COMPLETED:
                arrived = step
                break
    done = _last(steps, WORK_DONE[:1], outcome="done") or _last(steps, WORK_DONE[1:])
    visit = _last(steps, ("return_visit",))
    works = sum(1 for s in steps if s.kind == COMPLETED and s.bpmn_id == "repair_work"
                and s.data.get("outcome") == "done")  # fmt: skip
    fee = done.data.get("fee_charged") if done else None
    return {
        "case": case.pk,
        "unit": case.business_key,
        "location": asked.get("location", ""),
        "reporter": _masked(asked.get("reporter"), shown),
        "phone": _masked(asked.get("phone"), shown),
        "description": asked.get("description", ""),
        "trade": asked.get("trade", ""),
        "urgent": asked.get("urgency") == "urgent",
        "reported_at": case.started_at,
        "dispatched_at": dispatched.at if dispatched else None,
        "dispatcher": dispatched.who if dispatched else "",
        "technician": (arrived.who if arrived else None)
        or (dispatched.data.get("technician", "") if dispatched else ""),
        "accepted_at": (accepted or arrived).at if (accepted or arrived) else None,
        "arrived_at": arrived.at if arrived else None,
        "done_at": done.at if done else None,
        "fee": fee if isinstance(fee, int | float) and not isinstance(fee, bool) else None,
        "satisfaction": visit.data.get("satisfaction", "") if visit else "",
        "reworked": works > 1,
        "status": case.status,
        "waiting": [t["bpmn_id"] for t in open_],
        "closed_at": case.completed_at,
        "contacts": shown,
    }  # fmt: skip


def complaint_row(case: ProcessInstance, steps: list[Step], open_: list[dict]) -> dict:
    """One line of the complaint register and of the daily complaint report."""
    asked = {**case.summary, **_started(steps)}
    shown = bool(case.contacts)
    screened = _last(steps, ("screen",))
    handled = _last(steps, HANDLE)
    replied = _last(steps, ("reply", "reply_invalid"))
    visit = _last(steps, ("return_visit",))
    handler = handled.who if handled else ""
    handling = [t for t in open_ if t["bpmn_id"] in HANDLE] or (open_ if not handled else [])
    if handling:  # still being handled (or screened): who holds it now, else its role
        handler = _name(handling[-1]["assignee__first_name"], handling[-1]["assignee__username"])
    valid = screened.data.get("valid") if screened else None
    result = ""
    if replied:
        result = replied.data.get("reply", "")
    elif handled:
        result = handled.data.get("action_taken", "")
    elif screened and valid is False:
        result = screened.data.get("invalid_reason", "")
    category = asked.get("category", "")
    return {
        "case": case.pk,
        "registered_at": case.started_at,
        "unit": case.business_key,
        "complainant": _masked(asked.get("complainant"), shown),
        "phone": _masked(asked.get("phone"), shown),
        "channel": asked.get("channel", ""),
        "category": category,
        "type": "A" if category in TYPE_A else "B",
        "description": asked.get("description", ""),
        "major": bool(asked.get("major")),
        "valid": valid,
        "department": screened.data.get("department", "") if screened else "",
        "handler": handler,
        "handler_role": handling[-1]["role"] if handling and not handler else "",
        "level": max(1, case.escalation_level),
        "status": case.status,
        "result": result,
        "satisfaction": visit.data.get("satisfaction", "") if visit else "",
        "waiting": [t["bpmn_id"] for t in open_],
        "closed_at": case.completed_at,
        "contacts": shown,
    }  # fmt: skip


ROWS = {"repair": repair_row, "complaint": complaint_row}


def rows_of(process: str, found: Iterable[ProcessInstance]) -> list[dict]:
    """The rows of a page of cases (already read): two more queries."""
    found = list(found)
    ids = [c.pk for c in found]
    steps, open_ = _steps(ids), _open(ids)
    return [ROWS[process](c, steps[c.pk], open_[c.pk]) for c in found]


def stream(process: str, found: QuerySet[ProcessInstance]) -> Iterator[dict]:
    """Every row of the register, read from a server-side cursor a batch at a time (three
    queries a batch), in one transaction (see server/audit/export.py)."""
    with transaction.atomic():
        cursor = found.iterator(chunk_size=BATCH)
        batch: list[ProcessInstance] = []
        for case in cursor:
            batch.append(case)
            if len(batch) >= BATCH:
                yield from rows_of(process, batch)
                batch = []
        if batch:
            yield from rows_of(process, batch)
