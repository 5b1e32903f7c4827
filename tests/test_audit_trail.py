"""The trail of one case for auditors (issue 15, item 3) and its record as a file (item 4):
real cases driven through the services on a fake clock, read back as an auditor reads them
(the selector, the page, the JSON and the record's three formats)."""

from __future__ import annotations

import csv
import html
import io
import json

import pytest
from openpyxl import load_workbook

from engine import clock
from server.audit import trail
from server.flows.cases import services
from server.flows.demo import SIGNED
from server.flows.models import Notification, ProcessInstance
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "厨房水管爆裂", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
DONE = {"outcome": "done", "work_done": "更换水管", "owner_signature": SIGNED}
COMPLAINT = {
    "complainant": "陈女士", "phone": "13900000002", "unit": "1-101", "channel": "walk_in",
    "description": "水管漏水无人处理", "category": "water_electric",
}  # fmt: skip


@pytest.fixture
def world(db, users):
    deploy_all()
    make_units("1-101")
    return users


def late_urgent_repair(users) -> Case:
    """Dispatched in time (09:05 of a 09:10 limit), on site late (09:50 of 09:30)."""
    case = Case(users, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
    case.now = local("2026-11-23 09:05")
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "关总阀"})  # fmt: skip
    case.advance_to(local("2026-11-23 09:31"))  # level 2: the supervisor and technician told
    case.now = local("2026-11-23 09:50")
    case.complete("arrive", as_="technician")
    case.now = local("2026-11-23 11:00")
    case.complete("repair_work", as_="technician", data=DONE)
    case.now = local("2026-11-24 10:00")
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    return case


def escalated_complaint(users) -> Case:
    """Passed to engineering and left: level 2 on 11-26, level 3 on 11-27, handled two
    working days after its level-3 limit."""
    case = Case(users, "complaint", as_="frontdesk", data=COMPLAINT, at=local("2026-11-23 09:00"))
    case.complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    for moment in ("2026-11-25 15:01", "2026-11-26 09:01", "2026-11-27 09:02",
                   "2026-12-01 09:03"):  # fmt: skip
        case.advance_to(local(moment))
    case.now = local("2026-12-03 10:00")
    case.complete("handle_level3", as_="vice_gm", data={"action_taken": "更换水管"})
    return case


def read(case: Case, language: str = "en") -> dict:
    instance = ProcessInstance.objects.get(pk=case.id)
    with clock.frozen(case.now):
        return trail.trail(instance, language=language, contacts=True)


def steps_of(found: dict) -> dict[str, dict]:
    return {s["bpmn_id"]: s for s in found["steps"]}


def test_a_repair_late_on_site_is_missed_by_20_minutes_and_its_dispatch_met_by_5(world):
    found = read(late_urgent_repair(world))
    steps = steps_of(found)
    dispatch, arrive = steps["dispatch_urgent"], steps["arrive"]
    assert (dispatch["outcome"], dispatch["by_minutes"], dispatch["spent_minutes"]) == ("met", 5, 5)
    assert dispatch["limit"]["key"] == "repair.urgent_dispatch"
    assert dispatch["outcome_text"] == "Met, 5 min early"
    assert (arrive["outcome"], arrive["by_minutes"], arrive["spent_minutes"]) == ("missed", 20, 45)
    assert arrive["limit"]["label"] == "Not on site in time"
    assert arrive["due_at"] == local("2026-11-23 09:30")
    assert arrive["outcome_text"] == "Missed by 20 min"
    assert arrive["who"]["username"] == "technician"
    assert steps["return_visit"]["outcome"] == "met"
    assert found["case"]["sla"] | {"text": ""} == {
        "steps": 4, "with_limit": 4, "met": 3, "missed": 1, "late": True, "text": "",
    }  # fmt: skip
    assert found["case"]["sla"]["text"] == "1 step(s) missed their limit, 3 met it"


def test_the_path_lists_the_diagram_s_elements_in_the_order_the_case_passed_them(world):
    found = read(late_urgent_repair(world))
    passed = [p["bpmn_id"] for p in found["path"]]
    tasks = [p for p in passed if p in ("dispatch_urgent", "arrive", "repair_work", "return_visit")]
    assert tasks == ["dispatch_urgent", "arrive", "repair_work", "return_visit"]
    assert passed[0] == "start" or found["path"][0]["kind"] == "StartEvent"
    assert "arrival_late" in passed  # the boundary timer that fired is part of the path
    kinds = {p["kind"] for p in found["path"]}
    assert {"UserTask", "ExclusiveGateway"} <= kinds
    assert passed.index("arrival_late") < passed.index("arrive")


def test_an_escalated_complaint_shows_each_level_when_and_who_was_told(world):
    case = escalated_complaint(world)
    found = read(case)
    escalations = [(e["level"], e["role"], e["at"]) for e in found["escalations"] if e["level"]]
    assert escalations == [
        (2, "cs_supervisor", local("2026-11-26 09:01")),
        (3, "vice_gm", local("2026-11-27 09:02")),
    ]
    level2 = next(e for e in found["escalations"] if e["level"] == 2)
    assert [p["username"] for p in level2["notified"]] == ["cs_supervisor"]
    level3 = next(e for e in found["escalations"] if e["level"] == 3)
    assert [p["username"] for p in level3["notified"]] == ["vice_gm"]
    told = [(n["recipient"]["username"], n["kind"], n["created_at"])
            for n in found["notifications"]]  # fmt: skip
    assert ("cs_supervisor", "escalation", local("2026-11-26 09:01")) in told
    assert ("vice_gm", "escalation", local("2026-11-27 09:02")) in told
    assert len(told) == Notification.objects.filter(instance_id=case.id).count()
    steps = steps_of(found)
    level3_step = steps["handle_level3"]
    assert level3_step["due_at"] == local("2026-12-01 09:02")
    assert level3_step["outcome"] == "missed"
    assert level3_step["by_minutes"] == (2 * 24 * 60) + 58  # 12-01 09:02 to 12-03 10:00
    assert level3_step["limit"]["unit"] == "working_days"
    assert level3_step["by_text"] == "2 working day(s)"  # as the limit is counted
    assert steps["handle_engineering"]["outcome"] == "missed"  # closed by the escalation


def test_a_reassignment_shows_from_whom_to_whom(world):
    from django.contrib.auth.models import Group, User

    second = User.objects.create_user("technician2", password="pw", first_name="王志强")
    second.groups.add(Group.objects.get(name="technician"))
    case = Case(world, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "关总阀"})  # fmt: skip
    with clock.frozen(case.now):
        services.task_assign(task_id=case.task("arrive").pk, user=world["cs_supervisor"],
                             assignee_id=second.pk)  # fmt: skip
    found = read(case)
    moved = next(e for e in found["events"] if e["kind"] == "task_assigned")
    assert moved["actor"]["username"] == "cs_supervisor"
    [change] = moved["changes"]
    assert (change["before"]["username"], change["after"]["username"]) == (
        "technician", "technician2",
    )  # fmt: skip
    assert (change["before_text"], change["after_text"]) == ("technician", "王志强")
    assert steps_of(found)["arrive"]["who"]["username"] == "technician2"


def test_form_data_shows_what_each_completion_changed_before_and_after(world):
    case = Case(world, "repair", as_="frontdesk", data={**REQUEST, "urgency": "ordinary"},
                at=local("2026-11-23 09:00"))  # fmt: skip
    order = {"technician": "technician", "requirements": "带阀芯",
             "appointment_at": "2026-11-23T14:00:00+08:00"}  # fmt: skip
    case.complete("dispatch", as_="dispatcher", data=order)
    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician", data=DONE)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "unsatisfied"})
    case.complete("dispatch", as_="dispatcher", data={**order, "requirements": "换整套龙头"})
    found = read(case, language="en")
    completions = [e for e in found["events"] if e["kind"] == "task_completed"]
    first, again = completions[0], completions[-1]
    requirements = next(c for c in first["changes"] if c["field"] == "requirements")
    assert (requirements["before"], requirements["after"], requirements["changed"]) == (
        None, "带阀芯", True,
    )  # fmt: skip
    changed = {c["field"]: c for c in again["changes"] if c["changed"]}
    assert set(changed) == {"requirements"}
    assert (changed["requirements"]["before"], changed["requirements"]["after"]) == (
        "带阀芯", "换整套龙头",
    )  # fmt: skip
    assert changed["requirements"]["label"] == "Work requirements"
    started = found["events"][0]
    assert started["kind"] == "instance_started" and started["label"] == "Case started"
    urgency = next(c for c in started["changes"] if c["field"] == "urgency")
    assert urgency["after_text"] == "Ordinary"  # a choice by its title
    assert started["data"]["data"]["phone"] == "13800000001"  # auditors see contact data


def test_one_rule_withholds_contact_data_from_readers_who_may_not_see_it(world):
    case = late_urgent_repair(world)
    instance = ProcessInstance.objects.get(pk=case.id)
    with clock.frozen(case.now):
        found = trail.trail(instance, language="en", contacts=False)
    started = found["events"][0]
    assert started["data"]["data"]["phone"] == "***"
    assert next(c for c in started["changes"] if c["field"] == "phone")["after"] == "***"


# -- the page -------------------------------------------------------------------------------


def test_the_auditor_s_page_shows_steps_events_notices_and_path(world, client):
    case = late_urgent_repair(world)
    client.force_login(world["auditor"])
    client.cookies["django_language"] = "en"
    with clock.frozen(case.now):
        page = client.get(f"/audit/cases/{case.id}/").content.decode()
    assert "Trail of case #" in page
    assert "Missed by 20 min" in page and 'class="missed"' in page
    assert "Met, 5 min early" in page
    assert "Not on site in time" in page
    assert "Escalate to the CS supervisor" not in page or "Level 2" in page
    assert "data-print" in page and "web/audit.js" in page and "web/audit.css" in page
    with clock.frozen(case.now):
        case_page = client.get(f"/cases/{case.id}/").content.decode()
    assert f'href="/audit/cases/{case.id}/"' in case_page


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Only auditors may read a case's trail."), ("zh-hans", "只有审计人员可以查看")],
)
def test_front_desk_is_refused_in_its_own_language(world, client, api, language, words):
    case = late_urgent_repair(world)
    client.force_login(world["frontdesk"])
    client.cookies["django_language"] = language
    page = client.get(f"/audit/cases/{case.id}/")
    assert page.status_code == 403 and words in html.unescape(page.content.decode())
    case_page = client.get(f"/cases/{case.id}/").content.decode()
    assert f'href="/audit/cases/{case.id}/"' not in case_page
    desk = api("frontdesk")
    for path in ("trail/", "record/?format=csv"):
        answer = desk.get(f"/api/audit/cases/{case.id}/{path}", HTTP_ACCEPT_LANGUAGE=language)
        assert answer.status_code == 403 and words in answer.json()["detail"]


def test_an_unknown_case_is_a_404_for_the_auditor(world, client, api):
    client.force_login(world["auditor"])
    client.cookies["django_language"] = "en"
    for path in ("/audit/cases/987654/", "/audit/cases/abc/"):
        answer = client.get(path)
        assert answer.status_code == 404 and "does not exist" in answer.content.decode()
    for path in ("trail/", "record/?format=xlsx"):
        assert api("auditor").get(f"/api/audit/cases/987654/{path}").status_code == 404


# -- the record as a file ---------------------------------------------------------------------


def test_the_record_exports_as_json_csv_and_xlsx_and_reads_back(world, api):
    case = late_urgent_repair(world)
    auditor = api("auditor")
    with clock.frozen(case.now):
        as_json = auditor.get(f"/api/audit/cases/{case.id}/record/?format=json")
        as_csv = auditor.get(f"/api/audit/cases/{case.id}/record/?format=csv")
        as_xlsx = auditor.get(f"/api/audit/cases/{case.id}/record/?format=xlsx")
        trail_answer = auditor.get(f"/api/audit/cases/{case.id}/trail/").json()
    for answer, ext in ((as_json, "json"), (as_csv, "csv"), (as_xlsx, "xlsx")):
        assert answer.status_code == 200
        assert answer["Content-Disposition"] == f'attachment; filename="case-{case.id}.{ext}"'

    record = json.loads(as_json.content)
    assert record == trail_answer
    assert set(record) == {"case", "steps", "events", "escalations", "notifications", "path"}
    assert steps_of(record)["arrive"]["outcome"] == "missed"

    assert as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in record["events"]]
    assert rows[0]["kind"] == "instance_started" and rows[0]["actor"] == "frontdesk"
    completed = [r for r in rows if r["kind"] == "task_completed"]
    assert 'Work requirements: — → "关总阀"' in completed[0]["changes"]

    book = load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert book.sheetnames == ["case", "steps", "events", "escalations", "notifications", "path"]
    steps = list(book["steps"].iter_rows(values_only=True))
    arrive = next(r for r in steps if r[0] == "Accept and arrive on site")
    assert (arrive[8], arrive[9]) == ("missed", 20)
    assert len(list(book["events"].iter_rows())) == len(record["events"]) + 1


def test_a_value_typed_like_a_formula_is_written_as_text(world, api):
    case = Case(world, "repair", as_="frontdesk",
                data={**REQUEST, "description": "=HYPERLINK(\"http://x\")"},
                at=local("2026-11-23 09:00"))  # fmt: skip
    with clock.frozen(case.now):
        answer = api("auditor").get(f"/api/audit/cases/{case.id}/record/?format=xlsx")
    book = load_workbook(io.BytesIO(answer.content))
    cells = [c.value for row in book["events"].iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    assert any(isinstance(v, str) and "'=HYPERLINK" in v or "=HYPERLINK" in str(v) for v in cells)


def test_an_unknown_format_is_refused_naming_the_parameter(world, api):
    case = late_urgent_repair(world)
    answer = api("auditor").get(f"/api/audit/cases/{case.id}/record/?format=pdf")
    assert answer.status_code == 400 and "format" in answer.json()["errors"]


# -- what it costs ------------------------------------------------------------------------------


def test_reading_a_long_trail_costs_a_few_queries_whatever_its_length(
    world, django_assert_max_num_queries
):
    case = Case(world, "complaint", as_="frontdesk", data=COMPLAINT, at=local("2026-11-23 09:00"))
    case.complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    case.advance_to(local("2026-11-26 09:01"))
    case.advance_to(local("2026-11-27 09:02"))
    for day in range(1, 29):  # left with the vice GM: a reminder each day, events and notices
        case.advance_to(local(f"2026-12-{day:02d} 09:05"))
    instance = ProcessInstance.objects.select_related("definition").get(pk=case.id)
    assert instance.event_seq > 60
    trail.trail(instance, language="en", contacts=True)  # the version's source is kept
    with django_assert_max_num_queries(6), clock.frozen(case.now):
        found = trail.trail(instance, language="en", contacts=True)
    assert len(found["events"]) == instance.event_seq


def test_a_move_out_shows_the_unit_s_status_and_the_owner_file_before_and_after(world):
    from server.estate.models import Resident, Unit
    from tests.test_process_move_out import PAID, REQUEST, finish

    make_units("3-502", status="occupied")
    Resident.objects.create(unit=Unit.objects.get(code="3-502"), name="孙伟", phone="1")
    case = Case(world, "move_out", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
    case.complete("settle", as_="finance", data=PAID)
    finish(case)
    found = read(case)
    status = next(e for e in found["events"] if e["kind"] == "unit_status_changed")
    [change] = status["changes"]
    assert (change["before"], change["after"]) == ("occupied", "vacant")
    assert (change["before_text"], change["after_text"]) == ("Occupied", "Vacant")
    owners = next(e for e in found["events"] if e["kind"] == "owner_file_updated")
    assert [(c["field"], c["after"]) for c in owners["changes"]] == [("moved_out", 1)]


def test_a_state_the_engine_cannot_read_still_leaves_the_rows_trail(world):
    case = late_urgent_repair(world)
    instance = ProcessInstance.objects.get(pk=case.id)
    instance.engine_state = json.dumps({"serializer_version": "0.1"})
    ProcessInstance.objects.filter(pk=case.id).update(state=instance.state)
    found = read(case)
    assert found["path"] == []
    arrive = steps_of(found)["arrive"]
    assert (arrive["outcome"], arrive["by_minutes"]) == ("missed", 20)  # from the task row
    assert arrive["limit"]["label"] == "Due time"


def test_the_auditor_s_reads_of_the_trail_and_record_are_on_the_record(world, client, api):
    """The trail shows the reporter's name and phone to the auditor: each read of them (the
    page, the trail's answer, the record's file) is a PersonalDataRead (issue 15, item 5)."""
    from server.flows.models import PersonalDataRead

    case = late_urgent_repair(world)
    client.force_login(world["auditor"])
    with clock.frozen(case.now):
        assert client.get(f"/audit/cases/{case.id}/").status_code == 200
        assert api("auditor").get(f"/api/audit/cases/{case.id}/trail/").status_code == 200
        assert (
            api("auditor").get(f"/api/audit/cases/{case.id}/record/?format=csv").status_code == 200
        )
    reads = PersonalDataRead.objects.filter(instance_id=case.id).order_by("pk")
    assert [(r.reader.username, r.what) for r in reads] == [
        ("auditor", "trail"),
        ("auditor", "trail"),
        ("auditor", "export"),
    ]
