"""Repair dispatch (报修 / 派工 / 维修), every path, on a fake clock (domain.md, process 3)."""

from datetime import datetime

import pytest

from engine import clock
from server.flows.cases import services
from server.flows.demo import SIGNED  # a PNG that decodes: steps re-encode images
from server.flows.errors import Invalid
from server.flows.models import Notification
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local, unit_status

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "厨房水龙头漏水", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "ordinary",
}  # fmt: skip
DONE = {"outcome": "done", "work_done": "更换阀芯", "owner_signature": SIGNED}


def dispatch(case, appointment_at: str, **more) -> None:
    case.complete("dispatch", as_="dispatcher", data={
        "technician": "technician", "requirements": "带阀芯", "appointment_at": appointment_at,
        **more,
    })  # fmt: skip


@pytest.fixture
def repair(db, users):
    deploy_all()
    make_units("1-101")

    def start(at="2026-11-23 09:00", **changes):
        return Case(users, "repair", as_="frontdesk", data={**REQUEST, **changes}, at=local(at))

    return start


def test_ordinary_repair_from_request_to_satisfied_return_visit(repair):
    case = repair()
    assert case.open() == {"dispatch": "dispatcher"}

    case.now = local("2026-11-23 09:10")
    dispatch(case, "2026-11-23T14:00:00+08:00")
    assert case.open() == {"arrive": "technician"}
    assert case.due("arrive") == local("2026-11-23 14:30")  # the agreed time and 30 minutes' grace

    assert case.advance_to(local("2026-11-23 13:50")) == 0
    case.complete("arrive", as_="technician", claim=True)
    assert case.open() == {"repair_work": "technician"}
    assert case.due("repair_work") == local("2026-11-30 09:00")  # "other faults": 5 working days

    case.now = local("2026-11-23 15:00")
    case.complete("repair_work", as_="technician", data=DONE)
    assert case.open() == {"return_visit": "dispatcher"}
    assert case.due("return_visit") == local("2026-11-24 15:00")

    case.now = local("2026-11-24 10:00")
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})

    assert case.status == "completed"
    assert case.completed() == ["dispatch", "arrive", "repair_work", "return_visit"]
    assert (case.data["late"], case.data["first_time_pass"]) == (False, True)
    assert case.escalations() == [] and case.notices() == []
    kinds = [e.kind for e in case.events()]
    assert kinds == [
        "instance_started", "task_created",
        "task_completed", "task_created",
        "task_completed", "task_created",  # arrive: given to the dispatched technician
        "task_completed", "task_created",
        "task_completed", "instance_completed",
    ]  # fmt: skip
    assert unit_status("1-101") == "handed_over"  # a repair does not change the unit


def test_urgent_repair_not_dispatched_then_not_on_site_reaches_level_2_then_level_3(repair):
    case = repair(urgency="urgent")
    assert case.open() == {"dispatch_urgent": "dispatcher"}
    assert case.due("dispatch_urgent") == local("2026-11-23 09:10")

    assert case.advance(minutes=11) == 1  # 09:11: nobody dispatched it
    assert case.notices() == ["cs_supervisor"] and case.escalations() == []

    case.complete("dispatch_urgent", as_="dispatcher", data={
        "technician": "technician", "requirements": "立即处理",
    })  # fmt: skip
    assert case.due("arrive") == local("2026-11-23 09:30")  # 30 minutes from the call

    assert case.advance_to(local("2026-11-23 09:31")) == 1
    assert case.escalations() == [(2, "cs_supervisor")]
    assert case.advance_to(local("2026-11-23 10:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor"), (3, "vice_gm")]
    assert case.open() == {"arrive": "technician"}  # the technician must still go
    assert case.due("arrive") == local("2026-11-23 09:30")  # overdue since then

    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician", data=DONE)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "neutral"})
    assert case.status == "completed"
    fired = [e.data["timer"] for e in case.events("timer_fired")]
    assert fired == ["dispatch_urgent_late", "arrival_late", "arrival_very_late"]


def test_unsatisfied_return_visit_sends_the_same_case_back_to_dispatch(repair):
    case = repair()
    dispatch(case, "2026-11-23T14:00:00+08:00")
    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician", data=DONE)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "unsatisfied"})

    assert case.open() == {"dispatch": "dispatcher"}
    assert case.data["rework_count"] == 1

    dispatch(case, "2026-11-24T10:00:00+08:00")
    assert case.due("arrive") == local("2026-11-24 10:30")
    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician", data=DONE)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    assert case.status == "completed"
    assert case.data["first_time_pass"] is False  # counts against the first-time pass rate
    assert case.completed().count("repair_work") == 2


def test_a_job_the_technician_cannot_handle_goes_up_to_the_supervisor_and_is_redispatched(
    repair,
):
    case = repair(urgency="urgent")
    case.complete(
        "dispatch_urgent", as_="dispatcher", data={"technician": "technician", "requirements": "-"}
    )
    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician",
                  data={"outcome": "cannot_handle", "work_done": "需要专业电工"})  # fmt: skip

    assert case.open() == {"coordinate": "cs_supervisor"}
    assert case.escalations() == [(2, "cs_supervisor")]

    case.complete("coordinate", as_="cs_supervisor", data={"decision": "改派外部电工"})
    assert case.open() == {"dispatch_urgent": "dispatcher"}


def test_paid_work_the_owner_declines_ends_without_repair(repair):
    case = repair(paid=True)
    dispatch(case, "2026-11-23T14:00:00+08:00")
    case.complete("arrive", as_="technician")
    assert case.open() == {"fee_consent": "technician"}

    case.complete("fee_consent", as_="technician", data={
        "cause": "阀芯老化", "method": "更换", "fee": 80, "owner_consents": False,
    })  # fmt: skip
    assert case.status == "completed"
    assert "repair_work" not in case.completed()


def test_paid_work_goes_on_once_the_owner_consents(repair):
    case = repair(paid=True)
    dispatch(case, "2026-11-23T14:00:00+08:00")
    case.complete("arrive", as_="technician")
    case.complete("fee_consent", as_="technician", data={
        "cause": "阀芯老化", "method": "更换", "fee": 80, "owner_consents": True,
    })  # fmt: skip
    assert case.open() == {"repair_work": "technician"}


def test_warranty_repairs_go_to_the_original_contractor_and_engineering_verifies(repair):
    case = repair(in_warranty=True)
    assert case.open() == {"warranty_handover": "engineering"}
    case.complete("warranty_handover", as_="engineering", data={
        "contractor": "某建筑公司", "scheduled_at": "2026-11-24T09:00:00+08:00",
    })  # fmt: skip
    case.complete("warranty_verify", as_="engineering",
                  data={"verified": True, "owner_signature": SIGNED})  # fmt: skip
    assert case.open() == {"return_visit": "dispatcher"}


def test_a_common_area_door_repair_has_two_working_days_and_a_late_one_counts_as_late(repair):
    case = repair(unit="", area="common", location="2栋大堂", fault_kind="doors_windows")
    dispatch(case, "2026-11-23T10:00:00+08:00")
    case.complete("arrive", as_="technician")
    assert case.due("repair_work") == local("2026-11-25 09:00")

    # No reply-by on the work order: dispatch hears at 75% of the completion limit.
    assert case.advance_to(local("2026-11-24 21:01")) == 1
    assert case.notices() == ["dispatcher"]
    assert case.advance_to(local("2026-11-25 09:01")) == 1
    assert case.notices() == ["dispatcher", "cs_supervisor"]
    case.complete("repair_work", as_="technician", data=DONE)
    assert case.data["late"] is True  # 超过规定时间,办得再好也要视为没有办好


def test_an_in_unit_request_needs_the_unit(repair, api):
    response = api("frontdesk").post(
        "/api/instances/", {"process": "repair", "data": {**REQUEST, "unit": ""}}, format="json"
    )
    assert response.status_code == 400
    assert "unit" in response.json()["errors"]


def test_an_urgent_leak_in_warranty_keeps_the_30_minute_arrival_rule(repair):
    case = repair(in_warranty=True, urgency="urgent", description="卫生间管道爆裂")
    assert case.open() == {"warranty_urgent": "engineering"}
    assert case.due("warranty_urgent") == local("2026-11-23 09:30")  # 急修半小時內到場

    assert case.advance_to(local("2026-11-23 09:29")) == 0
    assert case.advance_to(local("2026-11-23 09:31")) == 1
    assert case.escalations() == [(2, "cs_supervisor")]
    assert case.advance_to(local("2026-11-23 10:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor"), (3, "vice_gm")]

    case.complete("warranty_urgent", as_="engineering",
                  data={"first_responder": "张工", "arrival_note": "已关闭总阀止水"})  # fmt: skip
    assert case.open() == {"warranty_handover": "engineering"}  # the contractor still repairs
    case.complete("warranty_handover", as_="engineering", data={
        "contractor": "某建筑公司", "scheduled_at": "2026-11-23T14:00:00+08:00",
    })  # fmt: skip
    case.complete("warranty_verify", as_="engineering",
                  data={"verified": True, "owner_signature": SIGNED})  # fmt: skip
    assert case.data["late"] is True  # on site after the 30 minutes: late in every KPI


def test_an_ordinary_warranty_repair_has_no_arrival_rule(repair):
    case = repair(in_warranty=True)
    assert case.open() == {"warranty_handover": "engineering"}
    assert case.due("warranty_handover") is None


def test_a_late_arrival_marks_the_job_late_though_the_repair_itself_is_quick(repair):
    case = repair(urgency="urgent")
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "立即处理"})  # fmt: skip
    assert case.advance_to(local("2026-11-23 09:40")) == 1  # 10 minutes past the 30

    case.complete("arrive", as_="technician")
    assert case.data["late"] is True
    assert datetime.fromisoformat(case.data["arrived_at"]) == local("2026-11-23 09:40")

    case.now = local("2026-11-23 10:00")
    case.complete("repair_work", as_="technician", data=DONE)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    assert case.data["late"] is True  # 超過規定時間,辦得再好也要視為沒有辦好


def test_an_ordinary_arrival_within_the_grace_is_not_late(repair):
    case = repair()
    dispatch(case, "2026-11-23T14:00:00+08:00")
    case.now = local("2026-11-23 14:29")
    case.complete("arrive", as_="technician")
    assert case.data["late"] is False


def test_the_reply_by_time_reminds_dispatch_and_the_technician_holding_the_job(repair, users):
    case = repair()
    dispatch(case, "2026-11-23T10:00:00+08:00", reply_by="2026-11-23T16:00:00+08:00")
    case.complete("arrive", as_="technician")
    assert case.task("repair_work").assignee == users["technician"]  # the dispatched person

    assert case.advance_to(local("2026-11-23 15:59")) == 0
    assert case.advance_to(local("2026-11-23 16:01")) == 1
    assert case.notices() == ["dispatcher"] and case.escalations() == []
    assert case.open() == {"repair_work": "technician"}  # a reminder: the job goes on
    assert case.due("repair_work") == local("2026-11-30 09:00")  # the limit is not the reply-by
    told = set(Notification.objects.filter(instance_id=case.id)
               .values_list("recipient__username", flat=True))  # fmt: skip
    assert told == {"dispatcher", "technician"}


def test_a_technician_who_cannot_finish_in_time_reports_to_dispatch_and_keeps_the_job(
    repair, users
):
    case = repair()
    dispatch(case, "2026-11-23T10:00:00+08:00", reply_by="2026-11-23T16:00:00+08:00")
    case.complete("arrive", as_="technician")

    case.now = local("2026-11-23 15:00")
    report = {"outcome": "report_delay", "work_done": "已拆下旧管，配件缺货"}
    with pytest.raises(Invalid) as refused:
        case.complete("repair_work", as_="technician", data=report)
    assert {"delay_reason", "expected_at"} <= set(refused.value.errors)
    case.complete("repair_work", as_="technician", data={
        **report, "delay_reason": "配件需从厂家调货", "expected_at": "2026-11-25T12:00:00+08:00",
    })  # fmt: skip
    assert case.open() == {"acknowledge_delay": "dispatcher"}
    assert case.escalations() == []  # a report in time is not an escalation

    acknowledged = {"reply_by": "2026-11-25T12:00:00+08:00", "owner_informed": True}
    case.complete("acknowledge_delay", as_="dispatcher", data=acknowledged)
    assert case.open() == {"repair_work": "technician"}
    assert case.task("repair_work").assignee == users["technician"]  # still his job
    assert case.due("repair_work") == local("2026-11-30 09:00")  # the limit still counts
    assert case.advance_to(local("2026-11-23 16:01")) == 0  # the old reply-by is replaced
    assert case.advance_to(local("2026-11-25 12:01")) == 1
    assert case.notices() == ["dispatcher"]

    case.complete("repair_work", as_="technician", data=DONE)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    assert case.status == "completed"
    assert case.completed() == [
        "dispatch", "arrive", "repair_work", "acknowledge_delay", "repair_work", "return_visit",
    ]  # fmt: skip
    assert case.data["late"] is False and case.data["first_time_pass"] is True


def test_a_redispatch_without_a_reply_by_does_not_inherit_the_old_one(repair, users):
    case = repair()
    dispatch(case, "2026-11-23T10:00:00+08:00", reply_by="2026-11-23T12:00:00+08:00")
    with clock.frozen(case.now):
        services.task_hand_back(task_id=case.task("arrive").pk, user=users["technician"],
                                reason="缺少专用工具")  # fmt: skip
    assert case.open() == {"dispatch": "dispatcher"}

    case.now = local("2026-11-23 13:00")  # the first work order's reply-by has passed
    dispatch(case, "2026-11-23T14:00:00+08:00")
    case.complete("arrive", as_="technician")
    case.advance(minutes=1)
    assert case.notices() == []  # no reminder of a reply-by nobody asked for
    assert case.data["reply_by"] is None
