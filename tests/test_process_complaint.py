"""Complaint handling with three-level escalation (投诉), on a fake clock (domain.md, process 4)."""

import pytest

from server.flows.errors import Invalid
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

COMPLAINT = {
    "complainant": "陈女士", "phone": "13900000002", "unit": "1-101", "channel": "walk_in",
    "description": "保洁员态度恶劣", "category": "service_attitude",
}  # fmt: skip
RESOLVED = {"outcome": "resolved", "action_taken": "当面致歉并加强培训"}
REPLY = {"reply": "已处理，向您致歉", "reply_channel": "phone"}


@pytest.fixture
def complaint(db, users):
    deploy_all()
    make_units("1-101")

    def start(department="customer_service", at="2026-11-23 09:00", **changes):
        case = Case(users, "complaint", as_="frontdesk", data={**COMPLAINT, **changes},
                    at=local(at))  # fmt: skip
        if department:
            case.complete("screen", as_="frontdesk",
                          data={"valid": True, "department": department})  # fmt: skip
        return case

    return start


def close(case, satisfaction="satisfied"):
    case.complete("reply", as_="frontdesk", data=REPLY)
    case.complete("return_visit", as_="relations", data={"satisfaction": satisfaction})


def test_a_complaint_within_customer_service_is_handled_the_same_day_and_closed(complaint):
    case = complaint()
    assert case.open() == {"handle_frontdesk": "frontdesk"}
    assert case.due("handle_frontdesk") == local("2026-11-23 18:00")  # 不得超過當日

    assert case.advance_to(local("2026-11-23 15:40")) == 0
    assert case.advance_to(local("2026-11-23 15:46")) == 1  # 75% of the day: a reminder
    assert case.notices() == ["frontdesk"] and case.escalations() == []

    case.complete("handle_frontdesk", as_="frontdesk", data=RESOLVED)
    assert case.open() == {"reply": "frontdesk"}
    case.complete("reply", as_="frontdesk", data=REPLY)
    assert case.open() == {"return_visit": "relations"}
    assert case.due("return_visit") == local("2026-11-24 15:46")  # 1 working day

    case.complete("return_visit", as_="relations", data={"satisfaction": "very_satisfied"})
    assert case.status == "completed"
    assert case.completed() == ["screen", "handle_frontdesk", "reply", "return_visit"]
    assert case.data["complaint_type"] == "B" and case.data["level"] == 1


def test_passed_to_engineering_and_untouched_reaches_supervisor_then_vice_gm_then_daily(
    complaint,
):
    case = complaint(department="engineering", category="water_electric")
    assert case.open() == {"handle_engineering": "engineering"}
    assert case.due("handle_engineering") == local("2026-11-26 09:00")  # 處理時間不得超過三天
    assert case.data["complaint_type"] == "A"

    case.advance_to(local("2026-11-25 15:01"))  # 75% of three days
    assert case.notices() == ["engineering"]
    assert case.advance_to(local("2026-11-26 09:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor")]
    assert case.open() == {"handle_level2": "cs_supervisor"}
    assert case.due("handle_level2") == local("2026-11-27 09:01")  # 1 working day

    assert case.advance_to(local("2026-11-27 09:02")) == 1
    assert case.escalations() == [(2, "cs_supervisor"), (3, "vice_gm")]
    assert case.open() == {"handle_level3": "vice_gm"}
    assert case.due("handle_level3") == local("2026-12-01 09:02")  # 2 working days, weekend out

    case.advance_to(local("2026-12-01 09:03"))
    assert case.notices()[1:] == ["vice_gm"]  # overdue
    case.advance_to(local("2026-12-02 09:03"))
    case.advance_to(local("2026-12-03 09:03"))
    assert case.notices()[1:] == ["vice_gm", "vice_gm", "vice_gm"]  # then every day
    assert case.open() == {"handle_level3": "vice_gm"}  # 直到處理完畢

    case.complete("handle_level3", as_="vice_gm", data={"action_taken": "更换水管"})
    close(case)
    assert case.status == "completed"
    fired = [e.data["timer"] for e in case.events("timer_fired")]
    assert fired == ["engineering_reminder", "engineering_timeout", "level2_timeout",
                     "level3_overdue", "level3_daily", "level3_daily"]  # fmt: skip


def test_an_unsatisfied_return_visit_reopens_the_case_one_level_higher(complaint):
    case = complaint()
    case.complete("handle_frontdesk", as_="frontdesk", data=RESOLVED)
    close(case, satisfaction="unsatisfied")

    assert case.open() == {"handle_level2": "cs_supervisor"}
    assert case.escalations() == [(2, "cs_supervisor")]
    assert (case.data["level"], case.data["reopened"]) == (2, 1)

    case.complete("handle_level2", as_="cs_supervisor", data=RESOLVED)
    close(case, satisfaction="unsatisfied")
    assert case.open() == {"handle_level3": "vice_gm"}

    case.complete("handle_level3", as_="vice_gm", data={"action_taken": "总经理约谈"})
    close(case, satisfaction="unsatisfied")
    assert case.open() == {"handle_level3": "vice_gm"}  # level 3 is the top: it stays there
    assert case.data["reopened"] == 3


def test_a_handler_who_cannot_resolve_escalates_by_hand(complaint):
    case = complaint(department="security", category="security_vehicles")
    assert case.open() == {"handle_security": "security"}
    case.complete("handle_security", as_="security",
                  data={"outcome": "cannot_resolve", "action_taken": "需物业经理协调"})  # fmt: skip
    assert case.open() == {"handle_level2": "cs_supervisor"}
    case.complete("handle_level2", as_="cs_supervisor",
                  data={"outcome": "cannot_resolve", "action_taken": "需公司层面"})  # fmt: skip
    assert case.open() == {"handle_level3": "vice_gm"}
    assert case.escalations() == [(2, "cs_supervisor"), (3, "vice_gm")]
    assert case.events("timer_fired") == []


def test_a_major_complaint_starts_at_level_2(complaint):
    case = complaint(major=True)
    assert case.open() == {"handle_level2": "cs_supervisor"}
    assert case.escalations() == [(2, "cs_supervisor")]


def test_outsourced_cleaning_complaints_get_three_days_with_customer_service(complaint):
    case = complaint(department="outsourced", category="cleaning_landscaping")
    assert case.open() == {"handle_frontdesk": "frontdesk"}
    assert case.due("handle_frontdesk") == local("2026-11-26 09:00")


def test_an_invalid_complaint_is_answered_closed_and_still_visible_to_the_auditor(complaint, api):
    case = complaint(department=None)
    case.complete("screen", as_="frontdesk", data={"valid": False, "invalid_reason": "非物业职责"})
    assert case.open() == {"reply_invalid": "frontdesk"}
    case.complete("reply_invalid", as_="frontdesk", data={"reply": "该事项属于业主之间的纠纷"})
    assert case.status == "completed"

    seen = api("auditor").get(f"/api/instances/{case.id}/events/")
    assert seen.status_code == 200
    events = seen.json()["results"]
    submitted = [e["data"].get("data") for e in events if e["kind"] == "task_completed"]
    assert submitted[0] == {"valid": False, "invalid_reason": "非物业职责",
                            "department": "customer_service"}  # fmt: skip


def test_screening_an_invalid_complaint_needs_the_reason(complaint):
    case = complaint(department=None)
    with pytest.raises(Invalid) as refused:
        case.complete("screen", as_="frontdesk", data={"valid": False})
    assert "invalid_reason" in refused.value.errors
    assert case.open() == {"screen": "frontdesk"}


def test_a_complaint_registered_on_a_saturday_is_due_that_saturday_evening(complaint):
    # The centre works seven days (標準服務時間 周一至周日上午8:00~下午18:00): "the same day"
    # is Saturday's service day, not Monday's.
    case = complaint(at="2026-11-28 10:00")
    assert case.due("handle_frontdesk") == local("2026-11-28 18:00")
    assert case.advance_to(local("2026-11-28 16:01")) == 1  # 75% of the day: a reminder
    assert case.notices() == ["frontdesk"] and case.escalations() == []
    assert case.advance_to(local("2026-11-28 18:01")) == 1
    assert case.escalations() == [(2, "cs_supervisor")]
