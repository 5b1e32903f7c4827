"""The KPIs' definitions (issue 16, item 1; server/reports/kpis.py): cases built on a fake
clock with known outcomes, each KPI's numerator and denominator asserted exactly."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine import clock
from server.flows.cases import services
from server.flows.demo import SIGNED
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

    found = kpis.renovation_review_on_time(START, END)
    assert (found.numerator, found.denominator, found.missed) == (1, 2, [late.id])
    assert waiting.id not in found.missed  # not reviewed yet: counted when it is


def test_the_seven_kpis_cost_the_same_queries_for_one_case_as_for_three(world):
    rollup.refresh()  # its first run writes its mark
    urgent_repair(world, "2026-11-10")
    with CaptureQueriesContext(connection) as reading_one:
        one = kpis.kpis(START, END)
    urgent_repair(world, "2026-11-11", arrive_late_by=1)
    urgent_repair(world, "2026-11-12")
    with CaptureQueriesContext(connection) as reading_three:
        three = kpis.kpis(START, END)
    # The roll-up's catch-up (a batch of the cases that moved), the targets, three readings.
    assert len(reading_one) == len(reading_three) <= 20
    assert (one["repair_timeliness"]["denominator"], three["repair_timeliness"]["denominator"]) == (
        1, 3,
    )  # fmt: skip


# -- filters, targets, reopened and not-yet-visited cases, series and breakdowns -------------


def other_site_unit(code: str = "9-901"):
    from server.estate.models import Building, Site, Unit

    site = Site.objects.create(name="北苑")
    building = Building.objects.create(site=site, name="9栋")
    Unit.objects.create(code=code, building=building, floor=9, area_m2=80, status="handed_over")
    return site


def test_each_filter_narrows_the_cases_every_kpi_counts(world):
    from django.contrib.auth.models import Group, User

    from server.estate.models import Site

    world["dispatcher2"] = User.objects.create_user("dispatcher2")
    world["dispatcher2"].groups.add(Group.objects.get(name="dispatcher"))

    north = other_site_unit()
    here = Site.objects.get(name="测试花园")
    urgent_repair(world, "2026-11-10")  # water_electric, 测试花园 (on time)
    late_lift = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    late_lift.instance.summary = {**late_lift.refresh().summary, "trade": "lift"}
    late_lift.instance.save(update_fields=["summary"])
    REQUEST_NORTH = {**REQUEST, "unit": "9-901"}
    north_case = Case(world, "repair", as_="frontdesk", data=REQUEST_NORTH,
                      at=local("2026-11-12 09:00"))  # fmt: skip
    north_case.complete("dispatch_urgent", as_="dispatcher", data=ORDER)
    north_case.advance_to(north_case.due("arrive") + timedelta(minutes=2))  # late
    north_case.complete("arrive", as_="technician")
    north_case.complete("repair_work", as_="technician", data=DONE)
    north_case.complete("return_visit", as_="dispatcher2", data={"satisfaction": "satisfied"})
    assert north_case.status == "completed"
    fixed = complaint(world, "2026-11-13")

    def timely(**scope):
        found = kpis.repair_timeliness(START, END, **scope)
        return found.numerator, found.denominator, found.missed

    assert timely() == (1, 3, sorted([late_lift.id, north_case.id]))
    assert timely(site=here) == (1, 2, [late_lift.id])
    assert timely(site=north.pk) == (0, 1, [north_case.id])
    assert timely(process="repair") == timely()
    assert timely(process="complaint") == (0, 0, [])
    assert timely(category="lift") == (0, 1, [late_lift.id])
    assert timely(category="water_electric") == (1, 2, [north_case.id])
    assert timely(category="service_attitude") == (0, 0, [])
    # The second dispatcher visited only the northern job: the one case they had a hand in.
    assert timely(handler=world["dispatcher2"]) == (0, 1, [north_case.id])
    assert timely(handler=world["technician"].pk) == timely()
    visits = kpis.satisfaction(START, END, handler=world["dispatcher2"])
    assert (visits.numerator, visits.denominator) == (1, 1)
    valid = kpis.complaints_closed(START, END, category="service_attitude")
    assert (valid.numerator, valid.denominator, valid.missed) == (0, 1, [fixed.id])
    assert kpis.complaints_closed(START, END, site=north).denominator == 0
    assert kpis.escalations(START, END, site=north).missed == [north_case.id]  # late: escalated
    assert kpis.escalations(START, END, site=here).missed == [late_lift.id]


def test_a_site_s_targets_override_the_sources_and_the_only_site_s_apply(world):
    from server.estate.models import Site

    here = Site.objects.get(name="测试花园")
    here.kpi_targets = {"satisfaction": 0.8, "escalations": 3, "nonsense": 1}
    here.save()
    assert kpis.satisfaction(START, END).target == 0.8  # the only site: its targets
    assert kpis.repair_timeliness(START, END).target == 1.0  # not named: the sources'
    assert kpis.escalations(START, END).target is None  # a count has no target
    north = other_site_unit()
    assert kpis.satisfaction(START, END).target == 0.9  # two sites, none named: the sources'
    assert kpis.satisfaction(START, END, site=here).target == 0.8
    assert kpis.satisfaction(START, END, site=north).target == 0.9
    assert kpis.targets(here)["satisfaction"] == 0.8
    assert "nonsense" not in kpis.targets(here)


def test_a_reopened_repair_counts_as_reworked_when_sent_back_not_again_when_finished(world):
    """A return visit answered 不满意 reopens the job (返修): it is reworked in the period it
    was sent back, even if it is still in rework at the period's end; finished next month,
    it is not counted a second time."""
    reopened = urgent_repair(world, "2026-11-28", visits=("unsatisfied",))
    assert reopened.status == "running" and "dispatch_urgent" in reopened.open()
    passed = urgent_repair(world, "2026-11-10")

    november = kpis.repair_first_time_pass(START, END)
    assert (november.numerator, november.denominator, november.missed) == (1, 2, [reopened.id])
    assert kpis.repair_timeliness(START, END).denominator == 1  # not done: not a job done yet

    reopened.now = local("2026-12-02 09:00")
    reopened.complete("dispatch_urgent", as_="dispatcher", data=ORDER)
    reopened.complete("arrive", as_="technician")
    reopened.complete("repair_work", as_="technician", data=DONE)
    reopened.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    assert reopened.status == "completed"
    december = kpis.repair_first_time_pass(END, local("2027-01-01 00:00"))
    assert (december.numerator, december.denominator) == (0, 0)  # judged in November
    assert kpis.repair_first_time_pass(START, END).missed == [reopened.id]  # still
    assert passed.id not in december.missed


def test_a_return_visit_not_yet_made_counts_nowhere_until_it_is(world):
    """The work is done and the visit is open (not yet due): the case is not completed, so
    neither the return-visit rate nor satisfaction counts it, nor calls it missed."""
    waiting = Case(world, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-30 09:00"))
    waiting.complete("dispatch_urgent", as_="dispatcher", data=ORDER)
    waiting.complete("arrive", as_="technician")
    waiting.complete("repair_work", as_="technician", data=DONE)
    visit = waiting.task("return_visit")
    assert visit.due_at is None or visit.due_at > waiting.now
    for name in ("return_visit_rate", "satisfaction", "repair_timeliness"):
        found = kpis.KPIS[name](START, END)
        assert (found.denominator, found.missed) == (0, []), name
    waiting.now = local("2026-12-01 10:00")
    waiting.complete("return_visit", as_="dispatcher", data={"satisfaction": "very_satisfied"})
    december = kpis.return_visit_rate(END, local("2027-01-01 00:00"))
    assert (december.numerator, december.denominator) == (1, 1)


def test_series_by_week_and_month_and_breakdowns_by_category_trade_and_handler(world):
    urgent_repair(world, "2026-11-02")  # on time, Monday of week 45
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)  # week 46
    late.instance.summary = {**late.refresh().summary, "trade": "lift"}
    late.instance.save(update_fields=["summary"])
    fixed = complaint(world, "2026-11-12")
    found = kpis.report(START, END)

    assert found.kpis["repair_timeliness"].answer() == kpis.repair_timeliness(START, END).answer()
    weeks = found.series["repair_timeliness"]["week"]
    assert [day.isoformat() for day, _ in weeks] == [
        "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30",
    ]  # fmt: skip
    assert [(k.numerator, k.denominator) for _, k in weeks] == [
        (0, 0), (1, 1), (0, 1), (0, 0), (0, 0), (0, 0),
    ]  # fmt: skip
    assert weeks[2][1].missed == [late.id] and weeks[0][1].value is None
    months = found.series["repair_timeliness"]["month"]
    assert [(d.isoformat(), k.numerator, k.denominator) for d, k in months] == [
        ("2026-11-01", 1, 2)
    ]
    trades = dict(found.breakdowns["repair_timeliness"]["trade"])
    assert {k: (v.numerator, v.denominator) for k, v in trades.items()} == {
        "lift": (0, 1), "water_electric": (1, 1),
    }  # fmt: skip
    assert found.breakdowns["repair_timeliness"]["category"] == []
    categories = dict(found.breakdowns["complaints_closed"]["category"])
    assert (categories["service_attitude"].denominator, categories["service_attitude"].missed) == (
        1, [fixed.id],
    )  # fmt: skip
    people = dict(found.breakdowns["repair_timeliness"]["handler"])
    assert (people["technician"].numerator, people["technician"].denominator) == (1, 2)
    assert people["dispatcher"].missed == [late.id]
    assert "frontdesk" not in people  # started them, completed no task in them
    escalated = found.kpis["escalations"]  # late by a minute: on to the supervisor
    assert escalated.missed == [late.id] and escalated.detail["levels"] == {"2": 1}
    by_trade = dict(found.breakdowns["escalations"]["trade"])
    assert {k: v.numerator for k, v in by_trade.items()} == {"lift": 1}


def test_a_local_week_starts_on_monday_at_midnight_in_the_site_s_time():
    sunday_night = local("2026-11-08 23:59")
    monday = local("2026-11-09 00:00")
    assert kpis.bucket(sunday_night, "week").isoformat() == "2026-11-02"
    assert kpis.bucket(monday, "week").isoformat() == "2026-11-09"
    assert kpis.bucket(local("2026-12-01 00:30"), "month").isoformat() == "2026-12-01"
    start, end = kpis.period(local("2026-11-01 00:00").date(), local("2026-11-30 00:00").date())
    assert (start, end) == (START, END)
    assert [d.isoformat() for d in kpis.buckets(START, END, "month")] == ["2026-11-01"]


def test_the_report_costs_the_same_queries_for_one_case_as_for_four(world):
    rollup.refresh()  # its first run writes its mark
    urgent_repair(world, "2026-11-10")
    with CaptureQueriesContext(connection) as reading_one:
        one = kpis.report(START, END)
    urgent_repair(world, "2026-11-11", arrive_late_by=40)
    urgent_repair(world, "2026-11-12", visits=("unsatisfied", "satisfied"))
    complaint(world, "2026-11-13")
    with CaptureQueriesContext(connection) as reading_four:
        four = kpis.report(START, END, kpis.Scope(category="water_electric"))
    # The catch-up, the targets, three readings for the figures, each series, each breakdown.
    assert len(reading_one) == len(reading_four) <= 36
    assert one.kpis["repair_timeliness"].denominator == 1
    assert four.kpis["repair_timeliness"].denominator == 3
    assert four.kpis["escalations"].numerator == 1


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
