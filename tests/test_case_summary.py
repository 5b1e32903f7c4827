"""What a job is about, through the API: every task and case says it in one line in the
reader's language, with its tags; the caller only to those the contact rules allow."""

import pytest

from server.flows.models import ProcessInstance
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

REPAIR = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "水管爆裂", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
LINE_ZH = "急修 · 水电 · 厨房 · 水管爆裂"
LINE_EN = "Urgent · Water / electric · 厨房 · 水管爆裂"


@pytest.fixture
def repair(db, users):
    deploy_all()
    make_units("1-101")
    return Case(users, "repair", as_="frontdesk", data=REPAIR, at=local("2026-11-23 09:00"))


def _only(response) -> dict:
    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    return row


def test_every_task_says_what_the_job_is_in_the_reader_s_language(repair, api):
    row = _only(api("dispatcher").get("/api/tasks/"))
    assert row["summary"] == LINE_EN
    assert row["tags"] == [
        {"field": "urgency", "label": "Urgent", "alert": True},
        {"field": "trade", "label": "Water / electric", "alert": False},
    ]
    assert row["caller"] == {"name": "王先生", "phone": "13800000001"}  # the dispatcher's task
    chinese = api("dispatcher")
    chinese.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    assert _only(chinese.get("/api/tasks/"))["summary"] == LINE_ZH
    detail = api("dispatcher").get(f"/api/tasks/{row['id']}/").json()
    assert (detail["summary"], detail["caller"]["name"]) == (LINE_EN, "王先生")


def test_the_case_keeps_its_summary_through_later_steps(repair, api):
    repair.complete("dispatch_urgent", as_="dispatcher",
                    data={"technician": "technician", "requirements": "马上关闭总阀"})  # fmt: skip
    row = _only(api("technician").get("/api/tasks/"))
    assert (row["bpmn_id"], row["summary"]) == ("arrive", LINE_EN)
    assert row["caller"]["phone"] == "13800000001"  # the technician calls the caller
    case = api("technician").get(f"/api/instances/{repair.id}/").json()
    assert case["summary"] == LINE_EN and case["caller"]["name"] == "王先生"


def test_a_supervisor_sees_the_caller_only_once_the_case_is_escalated_to_them(repair, api):
    repair.complete("dispatch_urgent", as_="dispatcher",
                    data={"technician": "technician", "requirements": "马上关闭总阀"})  # fmt: skip
    looking = api("cs_supervisor").get("/api/tasks/?scope=all").json()["results"][0]
    assert looking["summary"] == LINE_EN and looking["caller"] is None
    assert api("cs_supervisor").get(f"/api/instances/{repair.id}/").json()["caller"] is None
    repair.advance_to(local("2026-11-23 09:40"))  # not on site in 30 minutes: level 2
    assert repair.refresh().escalation_level == 2
    escalated = api("cs_supervisor").get("/api/tasks/?scope=all").json()["results"][0]
    assert escalated["caller"] == {"name": "王先生", "phone": "13800000001"}
    assert api("cs_supervisor").get(f"/api/instances/{repair.id}/").json()["caller"]
    assert api("vice_gm").get(f"/api/instances/{repair.id}/").json()["caller"] is None


def test_a_case_of_a_version_before_summaries_answers_an_empty_line(repair, api):
    ProcessInstance.objects.filter(pk=repair.id).update(summary={})
    row = _only(api("dispatcher").get("/api/tasks/"))
    assert (row["summary"], row["tags"]) == ("", [])
    assert row["caller"] == {"name": "", "phone": ""}


def test_the_case_answers_its_milestones_with_when_and_who(repair, api):
    repair.now = local("2026-11-23 09:04")
    repair.complete("dispatch_urgent", as_="dispatcher",
                    data={"technician": "technician", "requirements": "马上关闭总阀"})  # fmt: skip
    case = api("technician").get(f"/api/instances/{repair.id}/").json()
    steps = [(m["key"], m["name"], m["state"], m["at"], (m["by"] or {}).get("username"))
             for m in case["milestones"]]  # fmt: skip
    assert steps == [
        ("received", "Received", "done", "2026-11-23T01:00:00+00:00", "frontdesk"),
        ("dispatch", "Dispatched", "done", "2026-11-23T01:04:00+00:00", "dispatcher"),
        ("arrive", "On site", "current", None, None),
        ("work", "Finished", "todo", None, None),
        ("visit", "Return visit", "todo", None, None),
    ]
