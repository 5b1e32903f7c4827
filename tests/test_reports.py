"""The daily complaint report, the monthly statistics and the registers (issue 16 item 4):
cases built on a fake clock with known outcomes; files read back; figures asserted exactly;
who may read, and whose names and phones they see."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from engine import clock
from server.desk.models import HotlineCall
from server.flows.cases import services
from server.flows.models import PersonalDataRead
from server.reports import kpis
from tests.scenario import Case, local
from tests.test_kpis import COMPLAINT, REQUEST, complaint, urgent_repair
from tests.test_kpis import world as world  # noqa: F401  (the fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def complaint_at(users, at: str, **changes) -> Case:
    return Case(users, "complaint", as_="frontdesk", data={**COMPLAINT, **changes},
                at=local(at))  # fmt: skip


@pytest.fixture
def november(world):  # noqa: F811
    """Complaints and repairs of November 2026, on known days, with known outcomes."""
    users = world
    made = {}
    made["before"] = complaint_at(users, "2026-11-09 17:00", description="Day before")
    made["closed"] = closed = complaint(users, "2026-11-10")  # 09:00, valid
    closed.complete("handle_frontdesk", as_="frontdesk",
                    data={"outcome": "resolved", "action_taken": "致歉"})  # fmt: skip
    closed.complete("reply", as_="frontdesk", data={"reply": "已处理", "reply_channel": "phone"})
    closed.complete("return_visit", as_="relations", data={"satisfaction": "satisfied"})
    made["open"] = open_ = complaint_at(
        users, "2026-11-10 14:00", category="building", description="墙裂", channel="phone"
    )
    open_.complete("screen", as_="frontdesk",
                   data={"valid": True, "department": "engineering"})  # fmt: skip
    made["late_evening"] = complaint_at(users, "2026-11-10 23:59", description="Late evening")
    made["invalid"] = complaint(users, "2026-11-11", valid=False)
    made["on_time"] = urgent_repair(users, "2026-11-10")
    made["late"] = urgent_repair(users, "2026-11-11", arrive_late_by=1)
    made["reworked"] = urgent_repair(users, "2026-11-12", visits=("unsatisfied", "satisfied"))
    ordinary = {**REQUEST, "urgency": "ordinary", "trade": "building", "unit": "1-101"}
    made["waiting"] = Case(users, "repair", as_="frontdesk", data=ordinary,
                           at=local("2026-11-20 10:00"))  # fmt: skip
    made["december"] = urgent_repair(users, "2026-12-02")
    at = local("2026-11-15 10:00")
    for kind, n in (("enquiry", 3), ("advice", 1), ("praise", 1)):
        for _ in range(n):
            HotlineCall.objects.create(
                at=at, kind=kind, summary="问物业费", taken_by=users["frontdesk"]
            )
    HotlineCall.objects.create(at=at, kind="complaint", summary="投诉", taken_by=users["frontdesk"],
                               case=made["open"].instance)  # fmt: skip
    HotlineCall.objects.create(at=local("2026-12-01 00:00"), kind="enquiry", summary="十二月",
                               taken_by=users["frontdesk"])  # fmt: skip
    return made


# -- the daily complaint report ---------------------------------------------------------------


def test_the_daily_report_downloads_as_xlsx_with_exactly_the_day_s_complaints(november, api):
    client = api("cs_supervisor")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"  # the cells in the reader's language
    answer = client.get("/api/reports/complaints-daily/?date=2026-11-10&format=xlsx")
    assert answer.status_code == 200 and answer["Content-Type"] == XLSX
    assert 'filename="complaints-2026-11-10.xlsx"' in answer["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("案件 / Case", "时间 / Time", "单元 / Unit", "投诉人 / Complainant")
    cases = [r[0] for r in rows[1:]]
    assert cases == [november[k].id for k in ("closed", "open", "late_evening")]
    assert november["before"].id not in cases and november["invalid"].id not in cases
    closed = dict(zip([h.split(" / ")[1] for h in rows[0]], rows[1], strict=True))
    assert closed["Time"] == "2026-11-10 09:00"
    assert closed["Type"] == "B" and closed["Level"] == 1 and closed["Result"] == "已处理"
    assert closed["Handler"] == "frontdesk" and closed["Satisfaction"] == "满意"
    assert closed["Closed"] and closed["Status"] == "已完成"
    assert closed["Category"] == "服务态度" and closed["Channel"] == "来访"
    opened = dict(zip([h.split(" / ")[1] for h in rows[0]], rows[2], strict=True))
    assert opened["Type"] == "A" and opened["Status"] == "处理中" and opened["Closed"] is None
    assert opened["Handler"] == "工程部"  # nobody holds it yet: the department it went to
    # the supervisor has no task in these level-1 complaints: names and phones masked
    assert {closed["Complainant"], closed["Phone"]} == {"***"}


def test_the_daily_report_as_json_and_csv(november, api):
    client = api("vice_gm")
    answer = client.get("/api/reports/complaints-daily/?date=2026-11-10")
    assert answer.status_code == 200
    body = answer.json()
    assert body["date"] == "2026-11-10" and body["count"] == 3
    assert body["open_from_earlier"] == 1  # 11-09's, still open
    first = body["complaints"][0]
    assert first["registered_at"] == "2026-11-10T01:00:00+00:00"
    assert (first["category"], first["type"], first["status"]) == ("service_attitude", "B",
                                                                   "completed")  # fmt: skip
    text = b"".join(client.get(
        "/api/reports/complaints-daily/?date=2026-11-11&format=csv").streaming_content
    ).decode("utf-8-sig")  # fmt: skip
    found = list(csv.reader(io.StringIO(text)))
    assert found[0][0] == "案件 / Case" and [int(r[0]) for r in found[1:]] == [
        november["invalid"].id
    ]
    assert found[1][9] == "No"  # the reader's language (English), not valid


def test_an_auditor_sees_names_and_the_read_is_recorded(november, api):
    answer = api("auditor").get("/api/reports/complaints-daily/?date=2026-11-10")
    rows = answer.json()["complaints"]
    assert {r["complainant"] for r in rows} == {"陈女士"}
    reads = PersonalDataRead.objects.filter(instance_id__in=[r["case"] for r in rows])
    assert reads.count() == 3 and {r.what for r in reads} == {"export"}


def test_reports_refuse_others_and_bad_parameters_in_the_reader_s_language(november, api):
    for role in ("frontdesk", "technician", "nobody"):
        answer = api(role).get("/api/reports/complaints-daily/?date=2026-11-10")
        assert answer.status_code == 403 and "reports" in answer.json()["detail"]
    chinese = api("dispatcher")
    chinese.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    answer = chinese.get("/api/reports/monthly/?month=2026-11")
    assert answer.status_code == 403 and "报表" in answer.json()["detail"]
    for url, name in (
        ("reports/complaints-daily/?date=2026-13-01", "date"),
        ("reports/complaints-daily/?date=20261110", "date"),
        ("reports/complaints-daily/?format=pdf", "format"),
        ("reports/monthly/?month=2026-13", "month"),
        ("reports/monthly/", "month"),
        ("reports/monthly/?month=2026-11&format=doc", "format"),
        ("registers/repairs/?from=2026-11-31", "from"),
        ("registers/repairs/?category=plumbing", "category"),
        ("registers/complaints/?status=lost", "status"),
        ("registers/repairs/?urgent=maybe", "urgent"),
        ("registers/repairs/?to=9999-12-31", "to"),  # its next midnight: past what dates hold
        ("registers/complaints/?from=0001-01-01", "from"),
        ("reports/complaints-daily/?date=0001-01-01", "date"),
        ("reports/monthly/?month=9999-12", "month"),
        ("reports/monthly/?month=٢٠٢٦-11", "month"),
    ):
        answer = api("property_manager").get("/api/" + url)
        assert answer.status_code == 400, (url, answer.content)
        assert name in answer.json()["errors"], (url, answer.json())


# -- the monthly statistics -------------------------------------------------------------------


def test_the_monthly_statistics_are_exact_and_agree_with_the_kpis(november, api):
    answer = api("property_manager").get("/api/reports/monthly/?month=2026-11")
    assert answer.status_code == 200
    stats = answer.json()
    assert stats["repairs"] == {
        "received": 4, "urgent": 3, "by_trade": {"water_electric": 3, "building": 1},
        "completed": 3, "on_time": 2, "late": 1, "reworked": 1,
        "timeliness": 2 / 3, "first_time_pass": 2 / 3,
    }  # fmt: skip
    assert stats["complaints"] == {
        "received": 5, "by_category": {"service_attitude": 4, "building": 1},
        "valid": 2, "closed": 1, "closed_rate": 0.5, "escalated": {"2": 0, "3": 0},
    }  # fmt: skip
    visits = stats["return_visits"]
    assert (visits["done"], visits["satisfied"]) == (5, 4)  # 4 repair visits, 1 complaint
    assert visits["split"] == {"very_satisfied": 0, "satisfied": 4, "neutral": 0,
                               "unsatisfied": 1}  # fmt: skip
    assert (visits["due"], visits["visited"], visits["rate"]) == (4, 4, 1.0)
    assert stats["hotline"] == {
        "calls": 6, "became_cases": 1,
        "by_kind": {"enquiry": 3, "advice": 1, "praise": 1, "complaint": 1, "repair": 0,
                    "other": 0},
    }  # fmt: skip
    assert stats["renovations"]["applications"] == 0
    assert stats["move_ins"] == {"started": 0, "completed": 0}
    start, end = local("2026-11-01 00:00"), local("2026-12-01 00:00")
    assert stats["repairs"]["timeliness"] == kpis.repair_timeliness(start, end).value
    assert visits["satisfaction"] == kpis.satisfaction(start, end).value == 0.8


def test_the_monthly_statistics_as_a_spreadsheet(november, api):
    answer = api("auditor").get("/api/reports/monthly/?month=2026-11&format=xlsx")
    assert answer.status_code == 200 and answer["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("项目 / Section", "指标 / Figure", "数值 / Value")
    lines = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert lines[("报修 / Repairs", "受理 / Received")] == 4
    assert lines[("报修 / Repairs", "及时率 / Timeliness")] == "66.7%"
    assert lines[("热线来电 / Hotline calls", "类型: 咨询 / Kind: Enquiry")] == 3
    assert lines[("热线来电 / Hotline calls", "转为案件 / Became cases")] == 1


def test_a_complaint_past_its_limit_is_escalated_in_the_month_s_figures(world, api):  # noqa: F811
    late = complaint(world, "2026-11-10")  # customer service: the same day
    late.advance_to(local("2026-11-11 12:00"))
    assert [level for level, _ in late.escalations()] == [2]
    stats = api("vice_gm").get("/api/reports/monthly/?month=2026-11").json()
    assert stats["complaints"]["escalated"] == {"2": 1, "3": 0}
    assert stats["escalations"] == {"cases": 1, "levels": {"2": 1}}
    row = api("vice_gm").get("/api/reports/complaints-daily/?date=2026-11-10").json()
    assert row["complaints"][0]["level"] == 2
    assert row["complaints"][0]["handler_role"] == "cs_supervisor"


# -- the registers ----------------------------------------------------------------------------


def test_the_repair_register_has_each_step_s_time_and_filters(november, api):
    client = api("dispatcher")
    body = client.get("/api/registers/repairs/?from=2026-11-01&to=2026-11-30").json()
    assert body["count"] == 4
    rows = {r["case"]: r for r in body["results"]}
    late = rows[november["late"].id]
    assert late["reported_at"] == "2026-11-11T01:00:00+00:00"
    assert late["dispatched_at"] == "2026-11-11T01:05:00+00:00"
    assert late["arrived_at"] == late["accepted_at"]  # never claimed first: taken on arrival
    assert late["done_at"] and late["satisfaction"] == "satisfied"
    assert late["technician"] == "technician" and late["dispatcher"] == "dispatcher"
    assert rows[november["reworked"].id]["reworked"] is True
    assert late["reworked"] is False
    waiting = rows[november["waiting"].id]
    assert waiting["dispatched_at"] is None and waiting["status"] == "running"
    assert waiting["waiting"] == ["dispatch"]
    # the dispatcher has tasks in these repairs: sees the reporter
    assert late["reporter"] == "王先生"

    def ids(query):
        found = client.get("/api/registers/repairs/?" + query)
        assert found.status_code == 200, found.content
        return [r["case"] for r in found.json()["results"]]

    assert ids("urgent=1&to=2026-11-30") == [november[k].id for k in ("on_time", "late",
                                                                     "reworked")]  # fmt: skip
    assert ids("category=building") == [november["waiting"].id]
    assert ids("status=running") == [november["waiting"].id]
    assert ids("from=2026-12-01") == [november["december"].id]
    assert ids("unit=1-101&from=2026-11-11&to=2026-11-11") == [november["late"].id]
    assert ids("unit=9-999") == []
    assert ids("from=2026-11-20&to=2026-11-10") == []  # an empty range lists nothing


def test_the_complaint_register_masks_for_a_reader_with_no_task_in_the_case(november, api):
    rows = api("property_manager").get("/api/registers/complaints/").json()["results"]
    assert len(rows) == 5 and {r["complainant"] for r in rows} == {"***"}
    frontdesk = api("frontdesk").get("/api/registers/complaints/").json()["results"]
    assert {r["complainant"] for r in frontdesk} == {"陈女士"}  # started them
    relations = api("relations").get("/api/registers/complaints/?status=completed").json()
    shown = {r["case"]: r["complainant"] for r in relations["results"]}
    assert shown == {november["closed"].id: "陈女士", november["invalid"].id: "***"}


def test_the_registers_refuse_roles_that_do_not_keep_them(november, api):
    for role in ("technician", "engineering", "finance", "security", "nobody"):
        answer = api(role).get("/api/registers/repairs/")
        assert answer.status_code == 403, role
        assert "registers" in answer.json()["detail"]


def test_a_register_exports_as_csv_json_and_xlsx_in_constant_queries(
    november, api, django_assert_num_queries
):
    client = api("cs_supervisor")
    with django_assert_num_queries(9) as few:  # token, cursor, steps, open tasks...
        text = b"".join(client.get("/api/registers/complaints/?format=csv").streaming_content)
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert len(rows) == 6 and rows[0][0] == "案件 / Case"
    for n in range(4):
        complaint_at(november["closed"].users, f"2026-11-2{n} 10:00")
    with django_assert_num_queries(len(few.captured_queries)):
        text = b"".join(client.get("/api/registers/complaints/?format=csv").streaming_content)
    assert len(list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))) == 10
    found = json.loads(b"".join(client.get(
        "/api/registers/repairs/?format=json").streaming_content))  # fmt: skip
    assert len(found) == 5 and found[0]["reported_at"].endswith("+00:00")
    answer = client.get("/api/registers/repairs/?format=xlsx&urgent=true")
    book = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True)
    assert len(list(book.worksheets[0].iter_rows(values_only=True))) == 1 + 4


def test_a_cancelled_repair_is_in_the_register_with_its_status(world, api):  # noqa: F811
    case = Case(world, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-13 09:00"))
    with clock.frozen(local("2026-11-13 09:01")):
        services.instance_cancel(instance_id=case.id, user=world["cs_supervisor"],
                                 reason="业主撤回")  # fmt: skip
    rows = api("frontdesk").get("/api/registers/repairs/?status=cancelled").json()["results"]
    assert [(r["case"], r["closed_at"]) for r in rows] == [(case.id, "2026-11-13T01:01:00+00:00")]
    assert rows[0]["waiting"] == []


# -- the pages --------------------------------------------------------------------------------


def test_the_pages_show_the_rows_and_refuse_others_in_their_language(november, client, world):  # noqa: F811
    client.force_login(world["cs_supervisor"])
    page = client.get("/reports/complaints-daily/?date=2026-11-10", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200 and "客户投诉信息日报表" in html
    assert html.count('data-case="') == 3 and "print-header" in html
    assert f'data-case="{november["before"].id}"' not in html
    assert "/api/reports/complaints-daily/?date=2026-11-10&amp;format=xlsx" in html
    bad = client.get("/reports/complaints-daily/?date=2026-02-30")
    assert bad.status_code == 200 and 'data-field="date"' in bad.content.decode()
    month = client.get("/reports/monthly/?month=2026-11", HTTP_ACCEPT_LANGUAGE="en")
    assert month.status_code == 200 and "Hotline calls" in month.content.decode()
    register = client.get("/registers/repairs/?urgent=1&to=2026-11-30")
    assert register.content.decode().count('data-case="') == 3
    bad = client.get("/registers/complaints/?status=lost")
    assert 'data-field="status"' in bad.content.decode()
    client.force_login(world["technician"])
    for url in ("/reports/monthly/", "/registers/repairs/", "/registers/complaints/"):
        refused = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert refused.status_code == 403 and ("报表" in refused.content.decode()
                                               or "台账" in refused.content.decode())  # fmt: skip
    client.force_login(world["frontdesk"])
    nav = client.get("/registers/complaints/").content.decode()
    assert "/registers/repairs/" in nav and "/reports/complaints-daily/" not in nav
    assert client.get("/reports/complaints-daily/").status_code == 403


def test_a_register_s_page_and_the_daily_report_cost_the_same_queries_for_more_rows(
    november, api, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api("dispatcher")
    supervisor = api("cs_supervisor")
    with CaptureQueriesContext(connection) as page_before:
        assert client.get("/api/registers/complaints/").json()["count"] == 5
    with CaptureQueriesContext(connection) as daily_before:
        assert supervisor.get("/api/reports/complaints-daily/?date=2026-11-10").json()["count"] == 3
    for n in range(4):
        complaint_at(november["closed"].users, f"2026-11-10 1{n}:30").complete(
            "screen", as_="frontdesk", data={"valid": True, "department": "security"}
        )
    with django_assert_num_queries(len(page_before.captured_queries)):
        assert client.get("/api/registers/complaints/").json()["count"] == 9
    with django_assert_num_queries(len(daily_before.captured_queries)):
        assert supervisor.get("/api/reports/complaints-daily/?date=2026-11-10").json()["count"] == 7
