"""Search across cases for auditors (issue 15, items 2 and 4): each filter finds the case it
names and leaves the others, the SLA outcome per case, the events as CSV, JSON and xlsx,
who may ask, and what a search costs.

The world: four cases of the real processes on a fake clock, searched at NOW.
  A  urgent repair of 1-101 (owner 王大明), 2026-11-10: dispatched in 5 minutes, never on
     site: levels 2 and 3; running, late.
  B  ordinary repair of 2-202, 2026-12-01 00:30 in Shanghai (still 30 November in UTC),
     suspended by the supervisor.
  C  complaint of 2-202, 2026-10-15: screened invalid, answered: completed.
  D  complaint of 1-101, 2026-11-05: valid, cancelled by the supervisor.
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest
from openpyxl import load_workbook

from engine import clock
from server.estate.models import Resident, Unit
from server.flows.cases import services
from server.flows.models import AuditEvent, HumanTask
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

pytestmark = pytest.mark.postgres

NOW = local("2026-12-01 00:40")
REPAIR = {
    "reporter": "王大明", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "水管爆裂", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
COMPLAINT = {
    "complainant": "李女士", "phone": "13900000002", "unit": "2-202", "channel": "walk_in",
    "description": "保洁员态度差", "category": "service_attitude",
}  # fmt: skip


@pytest.fixture
def world(users):
    deploy_all()
    make_units("1-101", "2-202")
    Resident.objects.create(unit=Unit.objects.get(code="1-101"), name="王大明", phone="138")
    Resident.objects.create(unit=Unit.objects.get(code="2-202"), name="赵小红", phone="139")
    a = Case(users, "repair", as_="frontdesk", at=local("2026-11-10 09:00"), data=REPAIR)
    a.now = local("2026-11-10 09:05")
    a.complete("dispatch_urgent", as_="dispatcher",
               data={"technician": "technician", "requirements": "关阀"})  # fmt: skip
    a.advance_to(local("2026-11-10 10:30"))
    b = Case(users, "repair", as_="frontdesk", at=local("2026-12-01 00:30"), data={
        **REPAIR, "unit": "2-202", "reporter": "赵小红", "trade": "building",
        "urgency": "ordinary",
    })  # fmt: skip
    with clock.frozen(local("2026-12-01 00:35")):
        services.instance_suspend(instance_id=b.id, user=users["cs_supervisor"], reason="暂缓")
    c = Case(users, "complaint", as_="frontdesk", at=local("2026-10-15 10:00"), data=COMPLAINT)
    c.complete("screen", as_="frontdesk", data={"valid": False, "invalid_reason": "非物业范围"})
    c.complete("reply_invalid", as_="frontdesk", data={"reply": "已解释"})
    d = Case(users, "complaint", as_="frontdesk", at=local("2026-11-05 10:00"),
             data={**COMPLAINT, "unit": "1-101", "category": "cleaning_landscaping"})  # fmt: skip
    d.complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    with clock.frozen(local("2026-11-05 11:00")):
        services.instance_cancel(instance_id=d.id, user=users["cs_supervisor"], reason="撤回")
    return {"A": a.id, "B": b.id, "C": c.id, "D": d.id}


def found(api, role: str = "auditor", **params) -> dict:
    with clock.frozen(NOW):
        answer = api(role).get("/api/audit/cases/", {"page_size": 100, **params})
    assert answer.status_code == 200, answer.content
    return answer.json()


def names(world, body) -> set[str]:
    ids = {v: k for k, v in world.items()}
    return {ids[row["id"]] for row in body["results"]}


# What the browser test asks: /audit/?process=repair&late=1&urgent=1&from=...&to=...
LATE_URGENT_NOVEMBER = {"process": "repair", "late": "1", "urgent": "1", "from": "2026-11-01",
                        "to": "2026-11-30"}  # fmt: skip
FILTERS = {
    "process": ({"process": "repair"}, {"A", "B"}),
    "unit": ({"unit": "1-101"}, {"A", "D"}),
    "owner": ({"owner": "大明"}, {"A", "D"}),
    "actor": ({"actor": "dispatcher"}, {"A"}),
    "status running": ({"status": "running"}, {"A"}),
    "status suspended": ({"status": "suspended"}, {"B"}),
    "status completed": ({"status": "completed"}, {"C"}),
    "status cancelled": ({"status": "cancelled"}, {"D"}),
    "status invalid": ({"status": "invalid"}, {"C"}),
    # B started 00:30 on 1 December in Shanghai, 16:30 on 30 November in UTC: site days.
    "from and to": ({"from": "2026-11-01", "to": "2026-11-30"}, {"A", "D"}),
    "from": ({"from": "2026-12-01"}, {"B"}),
    "to, inclusive": ({"to": "2026-11-10"}, {"A", "C", "D"}),
    "escalated": ({"escalated": "1"}, {"A"}),
    "escalated to level 3": ({"escalated": "3"}, {"A"}),
    "escalated to level 2 only": ({"escalated": "2"}, set()),
    "late": ({"late": "1"}, {"A"}),
    "urgent": ({"urgent": "1"}, {"A"}),
    "category: a repair's trade": ({"category": "water_electric"}, {"A"}),
    "category: a complaint's": ({"category": "service_attitude"}, {"C"}),
    "late urgent repairs of November": (LATE_URGENT_NOVEMBER, {"A"}),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_finds_the_cases_it_names_and_no_other(name, world, api):
    params, expected = FILTERS[name]
    assert names(world, found(api, **params)) == expected
    assert names(world, found(api)) == {"A", "B", "C", "D"}  # without it: all four


def test_a_case_found_carries_its_sla_outcome(world, api):
    rows = {row["id"]: row for row in found(api)["results"]}
    a = rows[world["A"]]
    # dispatch_urgent met its 10 minutes; arrive (due 09:35) is still open at NOW.
    arrive = HumanTask.objects.get(instance_id=world["A"], bpmn_id="arrive")
    behind = -int(-(NOW - arrive.due_at).total_seconds() // 60)
    assert a["sla"] == {"limited": 2, "met": 1, "missed": 1, "worst_late_minutes": behind}
    assert a["escalation_level"] == 3 and a["status"] == "running" and not a["invalid"]
    c = rows[world["C"]]
    assert c["invalid"] and c["status"] == "completed" and c["sla"]["missed"] == 0
    assert rows[world["B"]]["sla"]["worst_late_minutes"] is None


def test_the_events_of_the_cases_found_come_as_a_page(world, api):
    with clock.frozen(NOW):
        body = (
            api("auditor")
            .get("/api/audit/events/", {"process": "repair", "kind": "escalated"})
            .json()
        )
    assert [(e["case"], e["data"]["level"]) for e in body["results"]] == [
        (world["A"], 2),
        (world["A"], 3),
    ]
    with clock.frozen(NOW):
        mine = api("auditor").get("/api/audit/events/", {"actor": "dispatcher"}).json()
    assert [e["kind"] for e in mine["results"]] == ["task_completed"]
    assert mine["results"][0]["task"]["name_en"] == "Dispatch the urgent repair"


def _export(api, fmt: str, **params):
    with clock.frozen(NOW):
        answer = api("auditor").get("/api/audit/events/", {"format": fmt, **params})
    assert answer.status_code == 200
    assert answer.streaming
    return answer, b"".join(answer.streaming_content)


def _expected(world, *cases: str) -> list[tuple[int, int, str]]:
    ids = [world[c] for c in cases]
    rows = AuditEvent.objects.filter(instance_id__in=ids).order_by("instance_id", "seq")
    return [(e.instance_id, e.seq, e.kind) for e in rows]


def test_the_events_export_as_csv_with_both_languages_headings(world, api):
    answer, content = _export(api, "csv", process="complaint")
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer["Content-Disposition"]
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0][:3] == ["case / 案件", "process / 流程", "unit / 单元"]
    assert [(int(r[0]), int(r[3]), r[5]) for r in table[1:]] == _expected(world, "C", "D")
    started = next(r for r in table[1:] if int(r[0]) == world["C"] and r[5] == "instance_started")
    assert json.loads(started[8])["data"]["complainant"] == "李女士"  # auditors see values
    assert started[4].startswith("2026-10-15T10:00:00+08:00")


def test_an_export_s_personal_values_are_on_the_record_as_the_auditor_s_reads(world, api):
    """Every case whose personal values the file carried is a read by the auditor, once,
    written after the file went out (issue 15, item 5)."""
    from server.flows.models import PersonalDataRead

    _export(api, "csv", process="complaint")
    reads = PersonalDataRead.objects.values_list("reader__username", "instance_id", "what")
    assert sorted(reads) == sorted(
        [("auditor", world["C"], "export"), ("auditor", world["D"], "export")]
    )
    api("auditor").get("/api/audit/events/", {"process": "repair"})  # a page of events
    assert PersonalDataRead.objects.filter(instance_id=world["A"], what="export").count() == 1


def test_the_events_export_as_one_json_array(world, api):
    answer, content = _export(api, "json", status="invalid")
    assert answer["Content-Type"] == "application/json"
    rows = json.loads(content)
    assert [(r["case"], r["seq"], r["kind"]) for r in rows] == _expected(world, "C")
    assert rows[0]["at"] == "2026-10-15T02:00:00+00:00"


def test_the_events_export_as_xlsx(world, api):
    answer, content = _export(api, "xlsx", unit="1-101")
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][5] == "kind / 事件"
    assert [(r[0], r[3], r[5]) for r in table[1:]] == _expected(world, "A", "D")


def test_only_auditors_and_superusers_may_search_or_export(world, api, users):
    for path in ("/api/audit/cases/", "/api/audit/events/?format=csv"):
        english = api("frontdesk").get(path)
        assert english.status_code == 403
        assert english.json()["detail"] == "Only auditors may search and export the audit trail."
        chinese = api("frontdesk").get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert chinese.status_code == 403
        assert chinese.json()["detail"] == "只有审计人员可以检索和导出审计记录。"
        assert api("vice_gm").get(path).status_code == 403
    users["nobody"].is_superuser = True
    users["nobody"].save()
    with clock.frozen(NOW):
        assert api("nobody").get("/api/audit/events/?format=csv").status_code == 200


BAD = {
    "from": "2026-13-01", "to": "2026-1-1", "status": "lost", "escalated": "4", "late": "yes",
    "urgent": "2", "format": "pdf", "process": "nope", "category": "weather", "actor": "ghost",
}  # fmt: skip


@pytest.mark.parametrize("param", BAD)
def test_an_unknown_filter_value_is_a_400_naming_it(param, world, api):
    for path in ("/api/audit/cases/", "/api/audit/events/"):
        if param == "format" and "cases" in path:
            continue
        answer = api("auditor").get(path, {param: BAD[param]})
        assert answer.status_code == 400, answer.content
        assert list(answer.json()["errors"]) == [param]


def test_a_search_and_an_export_cost_the_same_queries_for_more_rows(
    world, api, users, django_assert_max_num_queries
):
    from bench.audit_export import populate

    client = api("auditor")
    with clock.frozen(NOW), django_assert_max_num_queries(6):  # token, count, page, names
        client.get("/api/audit/cases/")
    # token, the cursor's rows, the personal reads it made (one INSERT per 1,000 cases)
    with clock.frozen(NOW), django_assert_max_num_queries(5):
        b"".join(client.get("/api/audit/events/?format=csv").streaming_content)
    populate(cases=50, events_per_case=10, user=users["technician"])
    with clock.frozen(NOW), django_assert_max_num_queries(6):
        assert found(api)["count"] == 54
    with clock.frozen(NOW), django_assert_max_num_queries(5):
        content = b"".join(client.get("/api/audit/events/?format=csv").streaming_content)
    assert content.count(b"\n") > 500


def _peak_while_streaming(client) -> tuple[int, int]:
    with clock.frozen(NOW):
        answer = client.get("/api/audit/events/?format=csv")
    tracemalloc.start()
    rows = 0
    for piece in answer.streaming_content:
        rows += piece.count(b"\n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, peak


def test_the_csv_export_s_memory_does_not_grow_with_its_rows(db, users, api):
    from bench.audit_export import populate

    deploy_all()
    populate(cases=200, events_per_case=10, user=users["technician"])
    small = _peak_while_streaming(api("auditor"))
    populate(cases=1800, events_per_case=10, user=users["technician"])
    large = _peak_while_streaming(api("auditor"))
    assert small[0] > 2000 and large[0] > 20000
    assert large[1] < 2 * small[1], (small, large)


def test_the_audit_page_finds_late_urgent_repairs_of_a_month(world, client, users):
    client.force_login(users["auditor"])
    with clock.frozen(NOW):
        page = client.get("/audit/", {**LATE_URGENT_NOVEMBER, "tab": "cases"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200
    assert f'href="/audit/cases/{world["A"]}/"' in html
    assert f"#{world['B']}<" not in html and f"#{world['D']}<" not in html
    assert "1 of 2 met" in html and "Missed: 1, the worst by" in html
    assert "/api/audit/events/?process=repair&amp;late=1&amp;urgent=1" in html
    with clock.frozen(NOW):
        events = client.get("/audit/", {"tab": "events", "process": "repair", "kind": "escalated"},
                            HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert events.content.decode().count("Escalated to level") == 2


def test_the_audit_page_says_what_is_wrong_with_a_filter(world, client, users):
    client.force_login(users["auditor"])
    page = client.get("/audit/", {"from": "2026-02-30"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Must be a date as YYYY-MM-DD." in page.content.decode()


@pytest.mark.parametrize(("language", "said"), [
    ("en", "Only auditors may search and export the audit trail."),
    ("zh-hans", "只有审计人员可以检索和导出审计记录。"),
])  # fmt: skip
def test_the_audit_page_is_403_for_others_in_their_language(language, said, db, client, users):
    client.force_login(users["frontdesk"])
    page = client.get("/audit/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 403 and said in page.content.decode()
    assert 'href="/audit/"' not in page.content.decode()  # no link in the frame either


def test_a_masker_that_may_not_reveal_withholds_contact_fields_reading_each_form_once(
    world, users, django_assert_max_num_queries
):
    from server.audit import export, search

    events = search.event_search(user=users["auditor"], filters=search.Filters(unit="2-202"))
    with django_assert_max_num_queries(3):  # the events, the versions' sources once each
        rows = list(export.rows(events, export.Masker(reveal=False)))
    recorded = {(r["case"], r["kind"]): r["data"].get("data") for r in rows}
    complaint = recorded[(world["C"], "instance_started")]
    assert complaint["complainant"] == complaint["phone"] == "***"
    assert complaint["description"] == "保洁员态度差"  # what happened is not personal
    repair = recorded[(world["B"], "instance_started")]
    assert repair["reporter"] == "***" and repair["trade"] == "building"
    revealed = list(export.rows(events, export.Masker(reveal=True)))
    assert {r["data"].get("data", {}).get("complainant") for r in revealed} >= {"李女士"}
