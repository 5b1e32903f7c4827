"""The pages without a browser: who sees what, forms and their errors, query counts."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from server.estate.models import Resident, Unit
from server.flows.models import HumanTask
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local

COMPLAINT = {
    "complainant": "陈女士", "phone": "13900000002", "unit": "1-101", "channel": "walk_in",
    "description": "保洁员态度恶劣", "category": "service_attitude",
}  # fmt: skip


@pytest.fixture
def web(db, users):
    deploy_all()
    make_units("1-101", "1-102", "2-201")
    Resident.objects.create(unit=Unit.objects.get(code="2-201"), name="赵业主", phone="13700000000")

    def client(role: str, language: str = "zh-hans") -> Client:
        c = Client(HTTP_ACCEPT_LANGUAGE=language)
        c.force_login(users[role])
        return c

    return client


def complaint(users, unit="1-101", **changes):
    return Case(users, "complaint", as_="frontdesk", data={**COMPLAINT, "unit": unit, **changes},
                at=local("2026-11-23 09:00"))  # fmt: skip


def test_pages_need_a_login(web):
    for url in ("/", "/start/", "/cases/", "/notifications/", "/start/complaint/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_every_page_answers_in_chinese_by_default_and_in_english_on_request(web, users):
    case = complaint(users)
    task = case.task("screen")
    for language, words in (("zh-hans", ["待办", "甄别有效投诉"]), ("en", ["Inbox", "Screen"])):
        c = web("frontdesk", language)
        for url in ("/", f"/tasks/{task.pk}/", f"/cases/{case.id}/", "/start/", "/cases/"):
            page = c.get(url)
            assert page.status_code == 200, url
            assert words[0] in page.content.decode(), (language, url)
        assert words[1] in c.get(f"/tasks/{task.pk}/").content.decode()
    # The switch on every page stores the choice.
    c = web("frontdesk")
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Inbox" in c.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_a_task_of_another_role_is_not_found_like_a_missing_one(web, users):
    task = complaint(users).task("screen")
    assert web("technician").get(f"/tasks/{task.pk}/").status_code == 404
    assert web("technician").get("/tasks/00000000-0000-0000-0000-000000000000/").status_code == 404
    posted = web("technician").post(f"/tasks/{task.pk}/claim/")
    assert posted.status_code == 404
    assert web("frontdesk").get(f"/tasks/{task.pk}/").status_code == 200
    assert web("technician").get(f"/cases/{task.instance_id}/").status_code == 404
    assert web("technician").get("/cases/99999999999999999999/").status_code == 404


def test_forms_post_only_with_the_csrf_token(web, users):
    task = complaint(users).task("screen")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["frontdesk"])
    refused = strict.post(f"/tasks/{task.pk}/", {"valid": "on", "department": "engineering"})
    assert refused.status_code == 403
    assert HumanTask.objects.get(pk=task.pk).status == "open"


def test_a_wrong_form_keeps_what_was_typed_and_says_what_is_wrong_beside_each_field(web):
    c = web("frontdesk")
    page = c.post("/start/complaint/", {"complainant": "陈女士", "phone": "abc", "fee": "x"})
    html = page.content.decode()
    assert page.status_code == 400
    assert 'id="e-phone">格式不正确。' in html and 'id="e-description">此项必填。' in html
    assert 'value="陈女士"' in html and 'value="abc"' in html
    english = web("frontdesk", "en").post("/start/complaint/", {"complainant": "x"})
    assert 'id="e-description">This field is required.' in english.content.decode()


def test_the_start_menu_offers_only_what_the_users_roles_start(web):
    assert "/start/complaint/" in web("frontdesk").get("/start/").content.decode()
    assert "/start/complaint/" not in web("technician").get("/start/").content.decode()
    assert web("technician").get("/start/complaint/").status_code == 404
    assert web("frontdesk").get("/start/nothing/").status_code == 404


def urgent_repair(users, unit="2-201"):
    return Case(users, "repair", as_="frontdesk", at=local("2026-11-23 09:00"), data={
        "reporter": "王先生", "phone": "13800000001", "unit": unit, "location": "厨房",
        "channel": "phone", "description": "水管爆裂", "area": "in_unit",
        "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
    })  # fmt: skip


def test_owner_contacts_show_only_to_those_with_a_task_in_the_case(web, users):
    case = urgent_repair(users)
    case.advance_to(local("2026-11-23 09:12"))  # dispatch late: the supervisor is told
    supervisor_page = web("cs_supervisor").get(f"/cases/{case.id}/").content.decode()
    assert "13800000001" not in supervisor_page and "王先生" not in supervisor_page
    assert "赵业主" not in supervisor_page and "已隐藏" in supervisor_page
    for role in ("frontdesk", "dispatcher", "auditor"):
        page = web(role).get(f"/cases/{case.id}/").content.decode()
        assert "13800000001" in page and "赵业主" in page, role


def test_search_finds_tasks_by_unit_or_by_owner_name(web, users):
    complaint(users, unit="2-201")
    complaint(users, unit="1-102")
    c = web("frontdesk")
    assert "2-201" in c.get("/?q=赵业主").content.decode()
    assert "1-102" not in c.get("/?q=赵业主").content.decode()
    assert "1-102" in c.get("/?q=1-10").content.decode()
    partial = c.get("/?q=2-201", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "2-201" in partial


def test_the_inbox_costs_the_same_queries_for_3_tasks_as_for_30(web, users):
    c = web("frontdesk")
    for _ in range(3):
        complaint(users)
    c.get("/")  # warm: sessions, content types
    with CaptureQueriesContext(connection) as few:
        assert c.get("/").content.decode().count('class="name"') == 3
    for _ in range(27):
        complaint(users, unit="1-102")
    with CaptureQueriesContext(connection) as many:
        assert c.get("/").content.decode().count('class="name"') == 25  # a page
    assert len(few) == len(many) <= 8, [q["sql"] for q in many]


def test_a_supervisor_reassigns_a_task_to_a_holder_of_its_role(web, users):
    from django.contrib.auth.models import Group, User

    other = User.objects.create_user("desk2", password="pw")
    other.groups.add(Group.objects.get(name="frontdesk"))
    task = complaint(users).task("screen")
    receiver = users["frontdesk"].pk  # the first receiver holds it (首位责任制)
    assert (
        web("frontdesk").post(f"/tasks/{task.pk}/assign/", {"assignee": other.pk}).status_code
        == 302
    )
    assert HumanTask.objects.get(pk=task.pk).assignee_id == receiver  # not a supervisor
    boss = web("cs_supervisor")
    assert (
        boss.post(f"/tasks/{task.pk}/assign/", {"assignee": users["technician"].pk}).status_code
        == 302
    )
    assert HumanTask.objects.get(pk=task.pk).assignee_id == receiver  # not a front-desk holder
    boss.post(f"/tasks/{task.pk}/assign/", {"assignee": other.pk})
    assert HumanTask.objects.get(pk=task.pk).assignee_id == other.pk
    assert "desk2" in boss.get(f"/cases/{task.instance_id}/").content.decode()


def test_a_notification_opens_its_page_and_is_read(web, users):
    case = urgent_repair(users)
    case.advance_to(local("2026-11-23 09:12"))
    c = web("cs_supervisor")
    assert 'data-testid="unread">1<' in c.get("/").content.decode()
    page = c.get("/notifications/").content.decode()
    note = re.search(r'href="/notifications/(\d+)/"', page)
    opened = c.get(f"/notifications/{note.group(1)}/")
    assert opened.status_code == 302 and opened["Location"] in (
        f"/cases/{case.id}/",
        f"/tasks/{case.task('dispatch_urgent').pk}/",
    )
    assert 'data-testid="unread"' not in c.get("/").content.decode()
    assert web("frontdesk").get(f"/notifications/{note.group(1)}/").status_code == 404


def test_odd_input_answers_a_page_not_an_error(web, users):
    c = web("frontdesk")
    assert c.get("/?q=%00&unit=%00").status_code == 200
    assert c.get("/cases/?q=%00&status=nonsense").status_code == 200
    assert c.get("/cases/²/").status_code == 404
    assert c.get("/?page=9999").status_code == 200
    started = c.post("/start/complaint/", {**COMPLAINT, "description": "漏\x00水"})
    assert started.status_code == 302


def test_the_case_list_names_each_case_s_status_in_the_reader_s_language(web, users):
    complaint(users)
    chinese = web("frontdesk").get("/cases/").content.decode()
    assert "办理中" in chinese and "Running" not in chinese.split("<tbody>")[1]
    assert "Running" in web("frontdesk", "en").get("/cases/").content.decode()


def test_a_form_sent_without_its_csrf_token_gets_a_page_in_the_reader_s_language(users):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(users["frontdesk"])
    answer = client.post("/notifications/read/")
    assert answer.status_code == 403
    assert "重新加载" in answer.content.decode() and "CSRF" not in answer.content.decode()
