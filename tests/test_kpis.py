"""The KPIs' definitions (issue 16, item 1; server/reports/kpis.py): cases built on a fake
clock with known outcomes, each KPI's numerator and denominator asserted exactly."""

import io
from datetime import timedelta

import pytest

from engine import clock
from server.flows.cases import services
from server.flows.demo import SIGNED
from server.flows.models import ProcessInstance
from server.reports import kpis, rollup
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "水管爆裂", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
DONE = {"outcome": "done", "work_done": "换水管", "owner_signature": SIGNED}
ORDER = {"technician": "technician", "requirements": "关阀"}
START, END = local("2026-11-01 00:00"), local("2026-12-01 00:00")


@pytest.fixture
def world(db, users):
    deploy_all()
    make_units("1-101")
    return users


def urgent_repair(users, day: str, *, arrive_late_by: int = -5, visits=("satisfied",)) -> Case:
    """Reported 09:00 on ``day``, dispatched at 09:05, on site ``arrive_late_by`` minutes
    after its limit (negative: before), done in an hour; each of ``visits`` is a return
    visit's answer (an unsatisfied one sends the job back for rework)."""
    at = local(f"{day} 09:00")
    case = Case(users, "repair", as_="frontdesk", data=REQUEST, at=at)
    for n, said in enumerate(visits):
        case.now = case.now + timedelta(minutes=5)
        dispatch = "dispatch_urgent" if "dispatch_urgent" in case.open() else "dispatch"
        if dispatch == "dispatch":
            case.complete(dispatch, as_="dispatcher",
                          data={**ORDER, "appointment_at": case.now.isoformat()})  # fmt: skip
        else:
            case.complete(dispatch, as_="dispatcher", data=ORDER)
        if n == 0:
            case.advance_to(case.due("arrive") + timedelta(minutes=arrive_late_by))
        case.complete("arrive", as_="technician")
        case.now += timedelta(hours=1)
        case.complete("repair_work", as_="technician", data=DONE)
        case.now += timedelta(hours=2)
        case.complete("return_visit", as_="dispatcher", data={"satisfaction": said})
    return case


def test_a_job_late_by_one_minute_is_late_and_a_rework_fails_the_first_time_pass(world):
    on_time = urgent_repair(world, "2026-11-10")
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    reworked = urgent_repair(world, "2026-11-12", visits=("unsatisfied", "satisfied"))
    assert {c.status for c in (on_time, late, reworked)} == {"completed"}
    cancelled = Case(world, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-13 09:00"))
    with clock.frozen(local("2026-11-13 09:01")):
        services.instance_cancel(instance_id=cancelled.id, user=world["cs_supervisor"],
                                 reason="业主撤回")  # fmt: skip
    outside = urgent_repair(world, "2026-12-02")  # after the period

    rollup.refresh()
    timely = kpis.repair_timeliness(START, END)
    assert (timely.numerator, timely.denominator, timely.missed) == (2, 3, [late.id])
    passed = kpis.repair_first_time_pass(START, END)
    assert (passed.numerator, passed.denominator, passed.missed) == (2, 3, [reworked.id])
    visited = kpis.return_visit_rate(START, END)
    assert (visited.numerator, visited.denominator, visited.missed) == (3, 3, [])
    happy = kpis.satisfaction(START, END)
    assert (happy.numerator, happy.denominator, happy.missed) == (3, 4, [reworked.id])
    assert outside.id not in timely.missed + passed.missed + happy.missed
    assert kpis.repair_timeliness(END, END + timedelta(days=30)).denominator == 1


def test_an_empty_period_answers_no_value_not_zero(world):
    rollup.refresh()
    answer = kpis.kpis(START, END)
    assert set(answer) == set(kpis.KPIS)
    assert answer["repair_timeliness"] == {
        "value": None,
        "target": 1.0,
        "numerator": 0,
        "denominator": 0,
        "missed": [],
    }
    assert answer["satisfaction"]["target"] == 0.9
    assert answer["escalations"]["levels"] == {}


def test_escalations_count_cases_per_level(world):
    late = urgent_repair(world, "2026-11-11", arrive_late_by=40)  # nobody on site: level 2
    rollup.refresh()
    found = kpis.escalations(START, END)
    levels = {level for level, _ in late.escalations()}
    assert found.numerator == 1 and found.missed == [late.id]
    assert found.detail["levels"] == {str(level): 1 for level in sorted(levels)}


COMPLAINT = {
    "complainant": "陈女士", "phone": "13900000002", "unit": "1-101", "channel": "walk_in",
    "description": "保洁员态度恶劣", "category": "service_attitude",
}  # fmt: skip


def complaint(users, day: str, *, valid=True) -> Case:
    case = Case(users, "complaint", as_="frontdesk", data=COMPLAINT, at=local(f"{day} 09:00"))
    if valid:
        case.complete("screen", as_="frontdesk",
                      data={"valid": True, "department": "customer_service"})  # fmt: skip
    else:
        case.complete("screen", as_="frontdesk", data={"valid": False, "invalid_reason": "非物业"})
        case.complete("reply_invalid", as_="frontdesk", data={"reply": "已解释"})
    return case


def test_valid_complaints_closed_counts_withdrawn_and_open_ones_against(world):
    closed = complaint(world, "2026-11-10")
    closed.complete("handle_frontdesk", as_="frontdesk",
                    data={"outcome": "resolved", "action_taken": "致歉"})  # fmt: skip
    closed.complete("reply", as_="frontdesk", data={"reply": "已处理", "reply_channel": "phone"})
    closed.complete("return_visit", as_="relations", data={"satisfaction": "neutral"})
    still_open = complaint(world, "2026-11-11")
    withdrawn = complaint(world, "2026-11-12")
    with clock.frozen(local("2026-11-12 10:00")):
        services.instance_cancel(instance_id=withdrawn.id, user=world["cs_supervisor"],
                                 reason="业主撤回")  # fmt: skip
    invalid = complaint(world, "2026-11-13", valid=False)
    assert (closed.status, invalid.status) == ("completed", "completed")

    rollup.refresh()
    found = kpis.complaints_closed(START, END)
    assert (found.numerator, found.denominator) == (1, 3)
    assert found.missed == sorted([still_open.id, withdrawn.id])
    visits = kpis.return_visit_rate(START, END)  # an invalid complaint has no visit to make
    assert (visits.numerator, visits.denominator, visits.missed) == (1, 1, [])
    happy = kpis.satisfaction(START, END)  # 一般 is not 满意
    assert (happy.numerator, happy.denominator, happy.missed) == (0, 1, [closed.id])


def test_a_renovation_review_a_minute_past_three_working_days_is_late(world):
    from tests.test_process_renovation import APPLY, APPROVE

    on_time = Case(world, "renovation", as_="frontdesk", data=APPLY, at=local("2026-11-23 09:00"))
    on_time.now = local("2026-11-25 16:00")
    on_time.complete("review", as_="engineering", data=APPROVE)
    late = Case(world, "renovation", as_="frontdesk", data=APPLY, at=local("2026-11-23 09:00"))
    late.advance_to(late.due("review") + timedelta(minutes=1))
    late.complete("review", as_="engineering", data=APPROVE)
    waiting = Case(world, "renovation", as_="frontdesk", data=APPLY, at=local("2026-11-24 09:00"))

    rollup.refresh()
    found = kpis.renovation_review_on_time(START, END)
    assert (found.numerator, found.denominator, found.missed) == (1, 2, [late.id])
    assert waiting.id not in found.missed  # not reviewed yet: counted when it is


def test_the_seven_kpis_cost_the_same_queries_for_one_case_as_for_three(
    world, django_assert_max_num_queries
):
    urgent_repair(world, "2026-11-10")
    rollup.refresh()
    with django_assert_max_num_queries(12):
        one = kpis.kpis(START, END)
    urgent_repair(world, "2026-11-11", arrive_late_by=1)
    urgent_repair(world, "2026-11-12")
    rollup.refresh()
    with django_assert_max_num_queries(12):
        three = kpis.kpis(START, END)
    assert (one["repair_timeliness"]["denominator"], three["repair_timeliness"]["denominator"]) == (
        1, 3,
    )  # fmt: skip


def test_the_roll_up_rewrites_a_case_that_moved_since_its_last_run(world):
    # Counted open at the first run, closed before the second: the second sees it closed.
    case = complaint(world, "2026-11-10")
    assert rollup.refresh() == 1
    assert kpis.complaints_closed(START, END).missed == [case.id]
    case.now = local("2026-11-10 15:00")
    case.complete("handle_frontdesk", as_="frontdesk",
                  data={"outcome": "resolved", "action_taken": "致歉"})  # fmt: skip
    case.complete("reply", as_="frontdesk", data={"reply": "已处理", "reply_channel": "phone"})
    case.complete("return_visit", as_="relations", data={"satisfaction": "satisfied"})
    assert rollup.refresh() == 1  # only the case that moved (and none twice)
    found = kpis.complaints_closed(START, END)
    assert (found.numerator, found.denominator, found.missed) == (1, 1, [])
    assert kpis.satisfaction(START, END).numerator == 1
    assert rollup.refresh(full=True) == 1
    assert kpis.complaints_closed(START, END).numerator == 1


def test_the_roll_up_costs_the_same_queries_for_one_case_as_for_a_batch(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rollup.refresh()  # its first run writes its mark
    urgent_repair(world, "2026-11-10")
    with CaptureQueriesContext(connection) as one:
        assert rollup.refresh() == 1
    for day in ("2026-11-11", "2026-11-12", "2026-11-13"):
        urgent_repair(world, day)
    with CaptureQueriesContext(connection) as three:
        assert rollup.refresh() == 4  # the three and the first, still within the overlap
    assert len(three) == len(one) <= 12


def test_beat_and_the_command_bring_the_roll_up_up_to_date(world, settings):
    from django.core.management import call_command

    from server.flows import tasks

    assert settings.CELERY_BEAT_SCHEDULE["kpi_rollup"]["task"] == "propflow.kpi_rollup"
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    assert tasks.kpi_rollup() == 1
    assert kpis.repair_timeliness(START, END).missed == [late.id]
    out = io.StringIO()
    call_command("kpi_rollup", "--full", stdout=out)
    assert out.getvalue().strip() == "KPI roll-up: 1 case(s) read (whole)."
    assert kpis.repair_timeliness(START, END).missed == [late.id]


def test_filters_targets_series_and_breakdowns_read_the_same_items(world):
    from server.estate.models import Building, Site, Unit
    from server.reports.kpis import Scope, breakdown, series

    on_time = urgent_repair(world, "2026-11-03")  # Tuesday of the week of 11-02
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    other = Site.objects.create(name="别的花园", kpi_targets={"repair_timeliness": 0.8})
    Unit.objects.create(code="9-901", building=Building.objects.create(site=other, name="9栋"),
                        floor=9, area_m2=80)  # fmt: skip
    elsewhere = urgent_repair(world, "2026-11-12", arrive_late_by=1)
    ProcessInstance.objects.filter(pk=elsewhere.id).update(business_key="9-901")
    rollup.refresh(full=True)

    everywhere = kpis.repair_timeliness(START, END)
    assert (everywhere.numerator, everywhere.denominator) == (1, 3)
    home = Site.objects.get(name="测试花园")
    ours = kpis.kpis(START, END, Scope(site=home))["repair_timeliness"]
    assert (ours["numerator"], ours["denominator"], ours["missed"]) == (1, 2, [late.id])
    assert ours["target"] == 1.0
    theirs = kpis.kpis(START, END, Scope(site=other))["repair_timeliness"]
    assert (theirs["numerator"], theirs["denominator"], theirs["target"]) == (0, 1, 0.8)
    technician = world["technician"].pk
    assert kpis.kpis(START, END, Scope(handler=technician))["repair_timeliness"]["denominator"] == 3
    assert kpis.kpis(START, END, Scope(handler=world["frontdesk"].pk))["repair_timeliness"][
        "denominator"
    ] == 0  # fmt: skip
    assert kpis.kpis(START, END, Scope(category="water_electric"))["repair_timeliness"][
        "denominator"
    ] == 3  # fmt: skip
    assert kpis.kpis(START, END, Scope(category="lift"))["repair_timeliness"]["denominator"] == 0
    assert (
        kpis.kpis(START, END, Scope(process="complaint"))["repair_timeliness"]["denominator"] == 0
    )

    weeks = series(START, END, "week", Scope(site=home))["repair_timeliness"]
    assert [(w["start"].isoformat(), w["numerator"], w["denominator"]) for w in weeks] == [
        ("2026-11-02", 1, 1), ("2026-11-09", 0, 1),
    ]  # fmt: skip
    months = series(START, END, "month")["repair_timeliness"]
    assert [(m["start"].isoformat(), m["numerator"], m["denominator"]) for m in months] == [
        ("2026-11-01", 1, 3)
    ]
    trades = breakdown(START, END, "trade")["repair_timeliness"]
    assert trades == {"water_electric": {"numerator": 1, "denominator": 3, "value": 1 / 3,
                                         "missed": sorted([late.id, elsewhere.id])}}  # fmt: skip
    by_handler = breakdown(START, END, "handler")["repair_timeliness"]
    assert set(by_handler) == {technician}
    assert on_time.id not in by_handler[technician]["missed"]
