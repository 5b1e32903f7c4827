"""The inbox shows the job (summary, tags, caller), in tabs of the process's stages with
their counts; the case page has a step bar of its milestones and its caller first. No
browser (tests/test_browser.py has the phone)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

REPAIR = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "水管爆裂", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
DISPATCH = {"technician": "technician", "requirements": "马上关闭总阀"}


@pytest.fixture
def web(db, users):
    deploy_all()
    make_units("1-101", "1-102")

    def client(role: str, language: str = "zh-hans") -> Client:
        c = Client(HTTP_ACCEPT_LANGUAGE=language)
        c.force_login(users[role])
        return c

    return client


def repair(users, at="2026-11-23 09:00", **changes) -> Case:
    return Case(users, "repair", as_="frontdesk", data={**REPAIR, **changes}, at=local(at))


def dispatched(users, **changes) -> Case:
    case = repair(users, **changes)
    case.complete("dispatch_urgent", as_="dispatcher", data=DISPATCH)
    return case


def tabs(page: str) -> dict[str, str]:
    found = re.findall(r'data-stage="(\w*)"[^>]*>([^<]+) <span class="n">(\d+)</span>', page)
    return {key: f"{label} {n}" for key, label, n in found}


def test_a_row_says_what_the_job_is_and_whom_to_call(web, users):
    repair(users)
    repair(users, urgency="ordinary", trade="lift", location="3号电梯", description="异响")
    page = web("dispatcher").get("/").content.decode()
    assert '<span class="tag alert" data-field="urgency">急修</span>' in page
    assert '<span class="tag" data-field="urgency">一般维修</span>' in page
    assert "厨房 · 水管爆裂" in page and "3号电梯 · 异响" in page
    assert 'href="tel:13800000001"' in page and "王先生" in page
    english = web("dispatcher", "en").get("/").content.decode()
    assert ">Urgent</span>" in english and ">Lift</span>" in english


def test_a_supervisor_looking_at_all_tasks_sees_the_job_but_not_the_caller(web, users):
    repair(users)
    page = web("cs_supervisor").get("/?scope=all").content.decode()
    assert "厨房 · 水管爆裂" in page and "13800000001" not in page and "王先生" not in page


def test_the_tabs_count_each_stage_and_show_only_its_tasks(web, users):
    dispatched(users)
    dispatched(users, unit="1-102")
    arrived = dispatched(users, location="卫生间")
    arrived.complete("arrive", as_="technician", claim=True)
    tech = web("technician")
    assert tabs(tech.get("/").content.decode()) == {
        "": "全部 3", "arrive": "待接单 2", "work": "维修中 1"}  # fmt: skip
    work = tech.get("/?stage=work").content.decode()
    assert work.count('<td class="name">') == 1 and "卫生间" in work
    assert tech.get("/?stage=arrive").content.decode().count('<td class="name">') == 2
    assert tabs(web("technician", "en").get("/").content.decode())["arrive"] == "To accept 2"
    unknown = tech.get("/?stage=nonsense")
    assert unknown.status_code == 200 and unknown.content.decode().count('<td class="name">') == 3


def test_tasks_in_no_milestone_have_a_tab_of_their_own(web, users):
    from server.flows.models import HumanTask

    dispatched(users)
    HumanTask.objects.filter(bpmn_id="arrive").update(bpmn_id="something_new")
    page = web("technician").get("/").content.decode()
    assert tabs(page) == {"": "全部 1", "other": "其他 1"}
    assert web("technician").get("/?stage=other").content.decode().count('<td class="name">') == 1


def test_the_inbox_with_its_tabs_costs_the_same_queries_for_3_tasks_as_for_30(web, users):
    c = web("dispatcher")
    for _ in range(3):
        repair(users)
    c.get("/")  # warm: sessions, content types, the versions' sources
    with CaptureQueriesContext(connection) as few:
        assert c.get("/").content.decode().count('data-testid="summary"') == 3
    for n in range(27):
        repair(users, unit="1-102", urgency="ordinary" if n % 2 else "urgent")
    with CaptureQueriesContext(connection) as many:
        page = c.get("/").content.decode()
    assert page.count('data-testid="summary"') == 25  # a page
    assert tabs(page)[""] == "全部 30"
    with CaptureQueriesContext(connection) as tab:
        c.get("/?stage=dispatch")
    assert len(few) == len(many) == len(tab) <= 9, [q["sql"] for q in many]


def test_the_case_page_has_a_step_bar_with_times_and_who(web, users):
    users["dispatcher"].first_name = "调度小张"
    users["dispatcher"].save()
    case = repair(users)
    case.now = local("2026-11-23 09:04")
    case.complete("dispatch_urgent", as_="dispatcher", data=DISPATCH)
    page = web("technician").get(f"/cases/{case.id}/").content.decode()
    bar = page[page.index('data-testid="steps"') : page.index("</ol>")]
    names = re.findall(r'<span class="step-name">([^<]+)</span>', bar)
    assert names == ["受理", "派工", "到场", "完工", "回访"]
    states = re.findall(r'<li class="(\w+)"', bar)
    assert states == ["done", "done", "current", "todo", "todo"]
    assert "<span>11-23</span> <span>09:00</span>" in bar and "frontdesk" in bar
    assert "<span>09:04</span>" in bar
    assert "调度小张" in bar
    english = web("technician", "en").get(f"/cases/{case.id}/").content.decode()
    assert '<span class="step-name">On site</span>' in english


def test_the_case_page_shows_the_caller_first_and_the_diagram_behind_a_tap(web, users):
    case = repair(users)
    page = web("dispatcher").get(f"/cases/{case.id}/").content.decode()
    assert page.index('data-testid="caller"') < page.index('data-testid="diagram-box"')
    assert "来电人：王先生" in page
    assert re.search(r'<details class="diagram-box"[^>]*>\s*<summary>', page)


def test_a_supervisor_escalated_on_a_case_sees_its_contacts(web, users):
    case = dispatched(users)
    before = web("cs_supervisor").get(f"/cases/{case.id}/").content.decode()
    assert "王先生" not in before
    case.advance_to(local("2026-11-23 09:40"))  # not on site within 30 minutes: level 2
    after = web("cs_supervisor").get(f"/cases/{case.id}/").content.decode()
    assert "来电人：王先生" in after and "13800000001" in after
    assert "王先生" not in web("vice_gm").get(f"/cases/{case.id}/").content.decode()
    case.advance_to(local("2026-11-23 10:05"))  # still not there 30 minutes on: level 3
    assert case.refresh().escalation_level == 3
    assert "王先生" in web("vice_gm").get(f"/cases/{case.id}/").content.decode()


def test_the_task_page_says_what_the_job_is_and_whom_to_call_at_its_top(web, users):
    case = dispatched(users)
    task = case.task("arrive")
    page = web("technician").get(f"/tasks/{task.pk}/").content.decode()
    top = page[page.index("<h1>") : page.index('class="actions-bar"')]
    assert '<span class="tag alert">急修</span>' in top and "厨房 · 水管爆裂" in top
    assert 'href="tel:13800000001"' in top
    boss = web("cs_supervisor").get(f"/tasks/{task.pk}/").content.decode()
    assert "厨房 · 水管爆裂" in boss and "13800000001" not in boss


def test_the_case_list_says_what_each_case_is_about_without_its_caller(web, users):
    repair(users)
    dispatched(users, location="阳台", description="窗户玻璃破裂", trade="building")
    c = web("cs_supervisor")
    c.get("/cases/")  # warm
    with CaptureQueriesContext(connection) as two:
        page = c.get("/cases/").content.decode()
    assert "厨房 · 水管爆裂" in page and "阳台 · 窗户玻璃破裂" in page
    assert '<span class="tag alert">急修</span>' in page and "13800000001" not in page
    for _ in range(5):
        repair(users)
    with CaptureQueriesContext(connection) as seven:
        assert c.get("/cases/").content.decode().count('data-testid="summary"') == 7
    assert len(two) == len(seven)
