"""Reads of the desk's records (the hotline log, shift checks, hand-overs), and who may read
and write them.

Shifts are read in the site's local time (the installation's ``TIME_ZONE``): a shift
"18:00-08:00" that starts on the 7th ends on the 8th at 08:00, and its check is due at 07:50.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from engine import clock
from engine.personal import MASK
from engine.policy import INTAKE_ROLES, READ_ONLY_ROLES, SUPERVISOR_ROLES
from server.estate.models import Site, Unit
from server.flows import access
from server.flows.errors import Forbidden, Invalid, NotFound
from server.flows.models import HumanTask, ProcessInstance

from .models import Handover, HotlineCall, ShiftCheck, ShiftCheckItem

BEFORE_END = timedelta(minutes=10)  # 每天下班前十分鐘
WORK_ORDERS = "repair"  # the process whose cases are work orders (工作单)
DISPATCHER = "dispatcher"
SHIFT_READERS = frozenset({DISPATCHER}) | SUPERVISOR_ROLES | READ_ONLY_ROLES
HOTLINE_READERS = frozenset({"frontdesk"}) | SUPERVISOR_ROLES | READ_ONLY_ROLES
HOTLINE_WRITERS = frozenset({"frontdesk"})
OPEN = (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED)


# -- who ---------------------------------------------------------------------------------------


def check_reads_shifts(user) -> None:
    if not access.user_roles(user) & SHIFT_READERS:
        raise Forbidden(_("Only dispatchers, supervisors and managers may read shift checks."))


def check_writes_shifts(user) -> None:
    if DISPATCHER not in access.user_roles(user):
        raise Forbidden(_("Only a dispatcher may check a shift and write its hand-over."))


def check_reads_hotline(user) -> None:
    if not access.user_roles(user) & HOTLINE_READERS:
        raise Forbidden(
            _("Only the front desk, supervisors and managers may read the hotline log.")
        )


def check_writes_hotline(user) -> None:
    if not access.user_roles(user) & HOTLINE_WRITERS:
        raise Forbidden(_("Only the front desk may log calls and turn them into cases."))


def sees_callers(user) -> bool:
    """The people who take owners' calls see a caller's name and phone; an auditor reads the
    log masked (its reads of personal data are recorded per case, and a call is none)."""
    return bool(access.user_roles(user) & INTAKE_ROLES)


# -- shifts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    site: Site
    label: str  # "18:00-08:00"
    starts_at: datetime
    ends_at: datetime

    @property
    def check_at(self) -> datetime:
        return self.ends_at - BEFORE_END


def span(text: str) -> tuple[time, time]:
    """``"08:00-18:00"`` as two times; ValueError for anything else."""
    start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    if start == end:
        raise ValueError(f"a shift of no length: {text!r}")
    return start, end


def site_shifts(site: Site) -> list[str]:
    """The site's shifts as written; none written: one shift, its service hours."""
    written = [s.strip() for s in (site.shifts or "").split(",") if s.strip()]
    return written or [site.service_hours or settings.PROPFLOW_SERVICE_HOURS]


def shifts_around(site: Site, moment: datetime) -> list[Shift]:
    """The site's shifts that start from two days before ``moment``'s day to its next day,
    by their end; a shift whose end is not after its start ends the next day."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = moment.astimezone(tz).date()
    found = []
    for label in site_shifts(site):
        start, end = span(label)
        for offset in (-2, -1, 0, 1):
            day = today + timedelta(days=offset)
            end_day = day if end > start else day + timedelta(days=1)
            found.append(Shift(site, label, _at(day, start, tz), _at(end_day, end, tz)))
    return sorted(found, key=lambda s: s.ends_at)


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment).replace(tzinfo=tz)


def shifts_due(*, now: datetime) -> list[Shift]:
    """Every site's shifts whose check is due by ``now`` and not more than the catch-up
    window (PROPFLOW_SHIFT_CHECK_CATCH_UP_HOURS) behind: one missed while no worker ran is
    still written, one from days ago is not."""
    window = timedelta(hours=settings.PROPFLOW_SHIFT_CHECK_CATCH_UP_HOURS)
    due = []
    for site in Site.objects.order_by("pk"):
        try:
            shifts = shifts_around(site, now)
        except ValueError:
            continue  # a site whose shifts do not read: no check rather than a dead beat
        due += [s for s in shifts if s.check_at <= now < s.check_at + window]
    return due


def checks_written(shifts: list[Shift]) -> set[tuple[int, datetime]]:
    """(site id, end) of those of ``shifts`` whose check is already written: one query."""
    if not shifts:
        return set()
    ends = {s.ends_at for s in shifts}
    found = ShiftCheck.objects.filter(
        site__in={s.site.pk for s in shifts}, ends_at__in=ends
    ).values_list("site_id", "ends_at")
    return {(site, ends_at) for site, ends_at in found}


@dataclass(frozen=True)
class OpenItem:
    kind: str
    instance_id: int
    process_key: str
    unit: str
    step: str
    step_en: str
    due_at: datetime | None
    late: bool


def open_items(*, site: Site, now: datetime) -> list[OpenItem]:
    """What is unfinished at the site at ``now``: each open work order (a running or
    suspended repair case, however old) with its open steps, and each other case with a
    task past its limit. A case whose unit is on no site's register is listed at every
    site, so no one misses it. Two queries."""
    units = Unit.objects.values("code")
    here = Q(instance__business_key__in=units.filter(building__site=site)) | ~Q(
        instance__business_key__in=units
    )
    tasks = (
        HumanTask.objects.filter(here, status=HumanTask.Status.OPEN, instance__status__in=OPEN,
                                 instance__started_at__lte=now)
        .filter(Q(process_key=WORK_ORDERS) | Q(due_at__lt=now))
        .select_related("instance").order_by("instance_id", "created_at", "pk")
    )  # fmt: skip
    by_case: dict[int, list[HumanTask]] = {}
    for task in tasks:
        by_case.setdefault(task.instance_id, []).append(task)
    items = []
    for instance_id, open_tasks in by_case.items():
        first = open_tasks[0]
        dues = [t.due_at for t in open_tasks if t.due_at]
        work_order = first.process_key == WORK_ORDERS
        kind = ShiftCheckItem.Kind.WORK_ORDER if work_order else ShiftCheckItem.Kind.LATE_TASK
        items.append(OpenItem(
            kind=kind, instance_id=instance_id, process_key=first.process_key,
            unit=first.instance.business_key,
            step=" / ".join(dict.fromkeys(t.name for t in open_tasks))[:200],
            step_en=" / ".join(dict.fromkeys(t.name_en or t.name for t in open_tasks))[:200],
            due_at=min(dues) if dues else None, late=any(d < now for d in dues),
        ))  # fmt: skip
    return items


def dispatchers_on_duty() -> QuerySet[User]:
    """Active dispatchers not marked off duty on the roster (no roster entry: on duty)."""
    return (
        User.objects.filter(is_active=True, groups__name=DISPATCHER)
        .exclude(staff_profile__on_duty=False).distinct().order_by("pk")
    )  # fmt: skip


def supervisors() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name="cs_supervisor").order_by("pk")


def check_list(*, user) -> QuerySet[ShiftCheck]:
    """Every check, newest first, with its counts: items, annotated, late."""
    check_reads_shifts(user)
    checks = ShiftCheck.objects.select_related("site", "completed_by").order_by("-ends_at", "-pk")
    return checks.annotate(
        open_count=Count("items"),
        annotated_count=Count("items", filter=~Q(items__reason="")),
        late_count=Count("items", filter=Q(items__late=True)),
    )


def check_get(*, user, check_id) -> ShiftCheck:
    key = parse_id(check_id)
    found = check_list(user=user).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("Shift check %(id)s does not exist.") % {"id": check_id})
    return found


def check_items(*, check: ShiftCheck) -> list[ShiftCheckItem]:
    return list(check.items.select_related("annotated_by").order_by("pk"))


def parse_id(value) -> int | None:
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def handover_list(*, user) -> QuerySet[Handover]:
    check_reads_shifts(user)
    return Handover.objects.select_related(
        "site", "written_by", "to_user", "acknowledged_by", "shift_check"
    ).order_by("-written_at", "-pk")


def handover_get(*, user, handover_id) -> Handover:
    key = parse_id(handover_id)
    found = handover_list(user=user).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("Hand-over %(id)s does not exist.") % {"id": handover_id})
    return found


def handover_waiting(*, user) -> Handover | None:
    """The latest hand-over not yet acknowledged that ``user`` would acknowledge: written to
    them, or, for a dispatcher, by someone else (the inbox's banner)."""
    roles = access.user_roles(user)
    if DISPATCHER not in roles:
        return None
    return (
        Handover.objects.filter(acknowledged_at__isnull=True).exclude(written_by=user)
        .select_related("written_by", "to_user", "site").order_by("-written_at", "-pk").first()
    )  # fmt: skip


def dispatcher_choices() -> QuerySet[User]:
    """Who a hand-over may be written to: the roster's active dispatchers."""
    return (
        User.objects.filter(is_active=True, groups__name=DISPATCHER)
        .select_related("staff_profile").distinct().order_by("username")
    )  # fmt: skip


# -- the hotline log -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRow:
    """A call as its reader may see it: caller and phone masked for those who may not."""

    call: HotlineCall
    caller: str
    phone: str
    convertible: bool  # a complaint or repair not yet a case


CONVERTIBLE = {HotlineCall.Kind.COMPLAINT: "complaint", HotlineCall.Kind.REPAIR: "repair"}


def call_list(*, user, day: date | None = None, kind: str = "") -> QuerySet[HotlineCall]:
    """The log, newest first: of one local day, of one kind."""
    check_reads_hotline(user)
    calls = HotlineCall.objects.select_related("taken_by", "site")
    if day is not None:
        tz = ZoneInfo(settings.TIME_ZONE)
        start = _at(day, time(0), tz)
        calls = calls.filter(at__gte=start, at__lt=start + timedelta(days=1))
    if kind:
        if kind not in HotlineCall.Kind.values:
            raise Invalid(_("Unknown kind of call."), {"kind": [_("Unknown kind of call.")]})
        calls = calls.filter(kind=kind)
    return calls.order_by("-at", "-pk")


def call_rows(*, user, calls) -> list[CallRow]:
    shown = sees_callers(user)
    return [
        CallRow(
            call=c, caller=c.caller if shown or not c.caller else MASK,
            phone=c.phone if shown or not c.phone else MASK,
            convertible=c.kind in CONVERTIBLE and c.case_id is None,
        )
        for c in calls
    ]  # fmt: skip


def call_get(*, user, call_id) -> HotlineCall:
    check_reads_hotline(user)
    key = parse_id(call_id)
    found = HotlineCall.objects.select_related("taken_by").filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("Call %(id)s does not exist.") % {"id": call_id})
    return found


def call_start_data(call: HotlineCall) -> dict:
    """What the call already says, as the start form of the case it becomes names it."""
    person = "reporter" if call.kind == HotlineCall.Kind.REPAIR else "complainant"
    data = {"unit": call.unit, person: call.caller, "phone": call.phone,
            "description": call.summary, "channel": call.channel}  # fmt: skip
    return {k: v for k, v in data.items() if v}


def local_today() -> date:
    return clock.now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()
