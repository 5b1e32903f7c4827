"""Renovation approval and inspection (装修审批 / 验收), on a fake clock (domain.md, process 2)."""

import pytest

from server.flows.demo import SIGNED  # a PNG that decodes: steps re-encode images
from server.flows.errors import Invalid
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local, unit_status

DRAWING = "data:application/pdf;base64,JVBERi0="
APPLY = {
    "unit": "1-101", "owner_name": "周杰", "phone": "13500000006", "identity_checked": True,
    "contractor": "美家装饰", "planned_start": "2026-12-01", "planned_end": "2027-02-28",
    "description": "厨卫翻新、铺地板", "drawings": [DRAWING, DRAWING],
    "commitment_signature": SIGNED, "handbook_given": True,
}  # fmt: skip
APPROVE = {"decision": "approve", "deposit": 2000, "management_fee": 300, "debris_fee": 200,
           "pass_deposit": 100}  # fmt: skip
FEES = {"deposit_paid": 2000, "management_fee_paid": 300, "debris_fee_paid": 200,
        "pass_deposit_paid": 100, "receipt_no": "ZX-01"}  # fmt: skip
REFUND = {"deposit_refunded": 2000, "pass_deposit_refunded": 100, "passes_returned": True}


@pytest.fixture
def renovation(db, users):
    deploy_all()
    make_units("1-101")

    def start(**changes):
        return Case(users, "renovation", as_="frontdesk", data={**APPLY, **changes},
                    at=local("2026-11-23 09:00"))  # fmt: skip

    return start


def to_works(case):
    """Approve, collect the fees and issue the permit: the works begin."""
    case.complete("review", as_="engineering", data=APPROVE)
    case.complete("fees", as_="finance", data=FEES)
    case.complete("permit", as_="frontdesk",
                  data={"permit_no": "XK-01", "worker_passes": 4, "posted": True})  # fmt: skip


def patrol(case, finding="ok", **data):
    case.complete("patrol", as_="frontdesk", data={"finding": finding, **data})


def to_inspection(case):
    """The works begin, finish at once, and the owner applies for acceptance."""
    to_works(case)
    patrol(case, "works_finished")
    case.complete("acceptance_apply", as_="frontdesk",
                  data={"finished_on": "2026-11-23", "as_built_drawings": [DRAWING]})  # fmt: skip


def test_an_approved_renovation_from_application_to_refund(renovation):
    case = renovation()
    assert case.open() == {"review": "engineering"}
    assert case.due("review") == local("2026-11-26 09:00")  # 三個工作日內批復

    case.now = local("2026-11-24 10:00")
    to_works(case)
    assert unit_status("1-101") == "renovating"
    assert case.open() == {"patrol": "frontdesk"}
    assert case.due("patrol") == local("2026-11-24 18:00")  # every day

    patrol(case)
    assert case.open() == {}  # until the next working day
    assert case.advance_to(local("2026-11-25 08:01")) == 1
    assert case.due("patrol") == local("2026-11-25 18:00")

    case.now = local("2026-11-25 10:00")
    patrol(case, "works_finished")
    assert case.open() == {"acceptance_apply": "frontdesk"}
    assert case.due("acceptance_apply") == local("2026-12-04 10:00")  # 7 working days
    case.complete("acceptance_apply", as_="frontdesk",
                  data={"finished_on": "2026-11-25", "as_built_drawings": [DRAWING]})  # fmt: skip
    assert case.open() == {"inspection": "engineering"}
    assert case.due("inspection") == local("2026-12-04 10:00")

    case.complete("inspection", as_="engineering",
                  data={"passed": True, "frontdesk_inspector": "刘敏"})  # fmt: skip
    assert unit_status("1-101") == "handed_over"
    assert case.open() == {"refund": "finance"}
    assert case.due("refund") == local("2026-12-04 10:00")  # 7 working days (hard limit 15)

    case.complete("refund", as_="finance", data=REFUND)
    assert case.status == "completed"
    assert case.escalations() == [] and case.notices() == []
    statuses = [(e.data["from"], e.data["to"]) for e in case.events("unit_status_changed")]
    assert statuses == [("handed_over", "renovating"), ("renovating", "handed_over")]


def test_a_rejected_application_can_be_resubmitted_and_a_returned_one_withdrawn(renovation):
    case = renovation()
    case.complete("review", as_="engineering", data={"decision": "reject", "reasons": "拆承重墙"})
    assert case.open() == {"resubmit": "frontdesk"}
    case.complete("resubmit", as_="frontdesk", data={"withdraw": False, "changes": "保留承重墙"})
    assert case.open() == {"review": "engineering"}

    case.complete("review", as_="engineering", data={"decision": "return", "reasons": "缺水电图"})
    case.complete("resubmit", as_="frontdesk", data={"withdraw": True})
    assert case.status == "completed"
    assert case.completed() == ["review", "resubmit", "review", "resubmit"]
    assert unit_status("1-101") == "handed_over"


def test_a_rejection_needs_reasons(renovation):
    case = renovation()
    with pytest.raises(Invalid) as refused:
        case.complete("review", as_="engineering", data={"decision": "reject"})
    assert "reasons" in refused.value.errors


def test_a_structural_change_needs_the_property_managers_approval(renovation):
    case = renovation(structural_change=True)
    case.complete("review", as_="engineering", data=APPROVE)
    assert case.open() == {"pm_approval": "property_manager"}
    case.complete("pm_approval", as_="property_manager", data={"pm_approved": False})
    assert case.open() == {"resubmit": "frontdesk"}
    case.complete("resubmit", as_="frontdesk", data={"withdraw": False})
    case.complete("review", as_="engineering", data=APPROVE)
    case.complete("pm_approval", as_="property_manager", data={"pm_approved": True})
    assert case.open() == {"fees": "finance"}


def test_a_review_late_by_three_working_days_goes_to_the_supervisor_then_the_vice_gm(
    renovation,
):
    case = renovation()
    assert case.advance_to(local("2026-11-26 09:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor")]
    assert case.advance_to(local("2026-11-27 09:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor"), (3, "vice_gm")]
    assert case.open() == {"review": "engineering"}  # engineering must still review


def test_repeated_violations_climb_the_ladder_to_stopping_the_works(renovation):
    case = renovation()
    to_works(case)
    actions = []
    for _ in range(3):
        patrol(case, "violation", violation="夜间施工")
        actions.append(case.data["violation_action"])
        case.complete("handle_violation", as_="frontdesk", data={
            "action_taken": case.data["violation_action"], "contractor_signature": SIGNED,
            "owner_consents_to_stop": True,
        })  # fmt: skip
        case.advance(days=1)  # the next patrol
    assert actions == ["verbal_warning", "rectification_notice", "stop_works"]


def test_stopping_the_works_needs_the_owners_consent(renovation):
    case = renovation()
    to_works(case)
    patrol(case, "violation", violation="私拆消防设施")
    with pytest.raises(Invalid) as refused:
        case.complete("handle_violation", as_="frontdesk", data={
            "action_taken": "stop_works", "contractor_signature": SIGNED,
        })  # fmt: skip
    assert "owner_consents_to_stop" in refused.value.errors


def test_a_change_of_works_is_checked_for_seven_working_days_notice(renovation):
    case = renovation()
    to_works(case)
    patrol(case, "change_request", change_description="增加吊顶", change_date="2026-11-30")
    assert case.open() == {"change_review": "engineering"}
    assert case.data["change_notice_ok"] is False  # Monday 30th is 5 working days away
    case.complete("change_review", as_="engineering", data={"change_approved": False})

    case.advance(days=1)
    patrol(case, "change_request", change_description="增加吊顶", change_date="2026-12-07")
    assert case.data["change_notice_ok"] is True


def test_a_failed_inspection_is_rectified_and_inspected_again_until_it_passes(renovation):
    case = renovation()
    to_inspection(case)
    case.complete(
        "inspection",
        as_="engineering",
        data={"passed": False, "frontdesk_inspector": "刘敏", "findings": "防水未做"},
    )
    case.complete("rectification_notice", as_="frontdesk",
                  data={"notice_no": "ZG-01", "items": "补做防水"})  # fmt: skip
    assert case.open() == {"await_rectification": "frontdesk"}
    assert case.due("await_rectification") == local("2026-11-30 09:00")  # 7 days

    assert case.advance_to(local("2026-11-30 09:01")) == 1
    assert case.notices() == ["cs_supervisor"]
    case.complete("await_rectification", as_="frontdesk", data={"rectified_on": "2026-12-01"})
    assert case.open() == {"inspection": "engineering"}
    case.complete("inspection", as_="engineering",
                  data={"passed": True, "frontdesk_inspector": "刘敏"})  # fmt: skip
    assert case.open() == {"refund": "finance"}
    assert unit_status("1-101") == "handed_over"


def test_a_late_refund_notifies_at_seven_working_days_and_escalates_at_fifteen(renovation):
    case = renovation()
    to_inspection(case)
    case.complete("inspection", as_="engineering",
                  data={"passed": True, "frontdesk_inspector": "刘敏"})  # fmt: skip
    assert case.advance_to(local("2026-12-02 09:01")) == 1
    assert case.notices() == ["cs_supervisor"]
    assert case.advance_to(local("2026-12-14 09:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor")]


def test_the_owner_is_reminded_before_the_acceptance_window_closes(renovation):
    case = renovation()
    to_works(case)
    patrol(case, "works_finished")
    assert case.advance_to(local("2026-11-30 15:01")) == 1  # 75% of 7 working days
    assert case.notices() == ["frontdesk"]
    assert case.advance_to(local("2026-12-02 09:01")) == 1
    assert case.notices() == ["frontdesk", "cs_supervisor"]


def test_a_day_without_a_patrol_tells_the_supervisor(renovation):
    case = renovation()
    to_works(case)
    assert case.advance_to(local("2026-11-23 17:59")) == 0
    assert case.advance_to(local("2026-11-23 18:01")) == 1
    assert case.notices() == ["cs_supervisor"]


HOT_WORK_OK = {"engineering_approved": True, "hot_work_conditions": "厨房焊接水管，上午，配灭火器"}


def test_hot_work_needs_engineering_then_security_and_temporary_power_is_priced_paid_connected(
    renovation,
):
    # 動火作業…經工程部、禮賓部審批后方可動火; 臨時用電…經工程部審核定價、財務部收費后,由工程部提供
    case = renovation(hot_work=True, temporary_power=True)
    to_works(case)
    assert case.open() == {"patrol": "frontdesk", "hot_work_engineering": "engineering"}

    case.complete("hot_work_engineering", as_="engineering", data=HOT_WORK_OK)
    assert case.open() == {"patrol": "frontdesk", "hot_work_security": "security"}
    case.complete("hot_work_security", as_="security",
                  data={"security_approved": True, "fire_watch": "秩管员王强现场看火"})  # fmt: skip
    assert case.data["hot_work_approved"] is True

    assert case.open() == {"patrol": "frontdesk", "power_price": "engineering"}
    case.complete("power_price", as_="engineering",
                  data={"power_supply": "3kW，楼层配电箱", "power_fee": 150})  # fmt: skip
    assert case.open() == {"patrol": "frontdesk", "power_payment": "finance"}
    case.complete("power_payment", as_="finance",
                  data={"power_fee_paid": 150, "power_receipt_no": "LD-01"})  # fmt: skip
    assert case.open() == {"patrol": "frontdesk", "power_connect": "engineering"}
    case.complete("power_connect", as_="engineering", data={"power_connected_on": "2026-11-24"})
    assert case.open() == {"patrol": "frontdesk"}  # the works go on as before


def test_hot_work_engineering_refuses_never_reaches_security_and_is_not_approved(renovation):
    case = renovation(hot_work=True)
    to_works(case)
    case.complete("hot_work_engineering", as_="engineering",
                  data={**HOT_WORK_OK, "engineering_approved": False})  # fmt: skip
    assert case.open() == {"patrol": "frontdesk"}
    assert case.data["hot_work_approved"] is False
    assert "hot_work_security" not in case.completed()


def test_a_renovation_closes_only_once_its_special_approvals_are_done(renovation):
    case = renovation(temporary_power=True)
    to_inspection(case)
    case.complete("inspection", as_="engineering",
                  data={"passed": True, "frontdesk_inspector": "刘敏"})  # fmt: skip
    case.complete("refund", as_="finance", data=REFUND)
    assert case.open() == {"power_price": "engineering"} and case.status == "running"
    case.complete("power_price", as_="engineering",
                  data={"power_supply": "3kW", "power_fee": 0})  # fmt: skip
    case.complete("power_payment", as_="finance",
                  data={"power_fee_paid": 0, "power_receipt_no": "LD-02"})  # fmt: skip
    case.complete("power_connect", as_="engineering", data={"power_connected_on": "2026-11-24"})
    assert case.status == "completed"
