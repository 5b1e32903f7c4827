"""Escalations and reminders notify people: an in-app record, and an email from the outbox
for each who has an address."""

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from engine import clock
from server.flows.cases import services
from server.flows.errors import NotFound
from server.flows.models import Notification, NotificationDelivery
from server.flows.notifications import delivery, messages
from server.flows.notifications.services import mark_read
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local
from tests.test_process_repair import REQUEST


@pytest.fixture
def urgent(db, users):
    deploy_all()
    make_units("1-101")
    for role, user in users.items():
        user.email = f"{role}@example.com"
        user.save()
    return Case(users, "repair", as_="frontdesk", data={**REQUEST, "urgency": "urgent"},
                at=local("2026-11-23 09:00"))  # fmt: skip


def test_a_late_urgent_dispatch_notifies_the_supervisors_with_unit_task_and_lateness(
    urgent, api, users
):
    second = User.objects.create_user("second_supervisor", email="s2@example.com")
    second.groups.add(Group.objects.get(name="cs_supervisor"))
    User.objects.create_user("gone", is_active=False).groups.add(
        Group.objects.get(name="cs_supervisor")
    )

    urgent.advance_to(local("2026-11-23 09:12"))  # due 09:10; the sweep came at 09:12

    sent = Notification.objects.order_by("recipient__username")
    assert [n.recipient.username for n in sent] == ["cs_supervisor", "second_supervisor"]
    n = sent[0]
    assert n.kind == "notice" and n.task.bpmn_id == "dispatch_urgent" and n.read_at is None
    zh, en = messages.render(n, "zh-hans"), messages.render(n, "en")
    assert zh.subject == "[提醒] 报修派工与维修 · 1-101：急修派工（已超时2分钟）"
    assert en.subject == "[Notice] Repair dispatch · 1-101: Dispatch the urgent repair (2 min late)"
    # The late task is the dispatchers'; the supervisor is sent to the case, theirs to see now.
    assert zh.link.endswith(f"/cases/{urgent.id}/") and zh.link in zh.body

    browser = Client()
    browser.force_login(users["cs_supervisor"])
    case = browser.get(zh.link.removeprefix("http://127.0.0.1:8000"))
    assert case.status_code == 200 and "急修派工" in case.content.decode()

    assert delivery.deliver() == 2
    assert delivery.deliver() == 0  # sent once
    assert sorted(m.to[0] for m in mail.outbox) == ["cs_supervisor@example.com", "s2@example.com"]
    assert "已超时2分钟" in mail.outbox[0].body and "2 min late" in mail.outbox[0].body


def test_a_level_2_escalation_also_notifies_the_late_tasks_assignee(urgent, users):
    urgent.complete("dispatch_urgent", as_="dispatcher", data={
        "technician": "technician", "requirements": "立即处理",
    })  # fmt: skip
    services.task_claim(task_id=urgent.task("arrive").pk, user=users["technician"])

    urgent.advance_to(local("2026-11-23 09:45"))  # arrival was due at 09:30

    level2 = Notification.objects.filter(kind="escalation")
    assert sorted(n.recipient.username for n in level2) == ["cs_supervisor", "technician"]
    n = level2.get(recipient=users["technician"])
    assert n.data["level"] == 2 and n.task.bpmn_id == "arrive"
    assert (
        messages.render(n, "zh-hans").subject
        == "[二级升级] 报修派工与维修 · 1-101：接单并到场（已超时15分钟）"
    )
    assert "1-101" in messages.render(n, "en").body
    assert messages.link(n).endswith(f"/tasks/{n.task_id}/")  # the technician's own task


def test_an_escalation_by_a_persons_decision_points_at_the_task_it_gives_the_role(urgent):
    urgent.complete("dispatch_urgent", as_="dispatcher", data={
        "technician": "technician", "requirements": "-",
    })  # fmt: skip
    urgent.complete("arrive", as_="technician")
    urgent.complete("repair_work", as_="technician",
                    data={"outcome": "cannot_handle", "work_done": "需要专业电工"})  # fmt: skip

    n = Notification.objects.get(kind="escalation")
    assert n.task.bpmn_id == "coordinate" and n.data["late"] is False
    assert n.data["event"] == ["上报客服中心主管：无法处理",
                               "Escalate to the CS supervisor: cannot handle"]  # fmt: skip


def test_people_mark_their_own_notifications_read_and_no_one_elses(urgent, users):
    urgent.advance_to(local("2026-11-23 09:12"))
    mine = Notification.objects.get(recipient=users["cs_supervisor"])

    with pytest.raises(NotFound):
        mark_read(user=users["frontdesk"], notification_ids=[mine.pk])
    assert mark_read(user=users["cs_supervisor"], notification_ids=[mine.pk]) == 1
    assert mark_read(user=users["cs_supervisor"]) == 0  # nothing left unread
    mine.refresh_from_db()
    assert mine.read_at is not None


class RefusingBackend:
    """An SMTP server that refuses: the one thing here that would leave the machine."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def open(self):
        pass

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_an_email_the_server_refuses_stays_in_the_outbox_with_the_reason(urgent, settings):
    urgent.advance_to(local("2026-11-23 09:12"))
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with clock.frozen(local("2026-11-23 09:13")):
        assert delivery.deliver() == 0
    d = NotificationDelivery.objects.get()
    assert d.sent_at is None and d.attempts == 1 and "mail server down" in d.error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with clock.frozen(local("2026-11-23 09:13:30")):
        assert delivery.deliver() == 0  # it waits a minute before the next attempt
    with clock.frozen(local("2026-11-23 09:14:01")):
        assert delivery.deliver() == 1 and len(mail.outbox) == 1


class DownBackend(RefusingBackend):
    def open(self):
        raise ConnectionRefusedError("no mail server")


def test_a_mail_server_that_is_down_costs_one_attempt_each_with_growing_waits(urgent, settings):
    urgent.advance_to(local("2026-11-23 09:12"))
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"

    for minute in ("09:13", "09:14", "09:15", "09:17", "09:21"):  # waits 1, 2, 4 minutes
        with clock.frozen(local(f"2026-11-23 {minute}")):
            delivery.deliver()
    d = NotificationDelivery.objects.get()
    assert d.attempts == 4 and d.next_at == local("2026-11-23 09:29")


def test_people_without_an_address_get_the_in_app_notification_only(urgent, users):
    users["cs_supervisor"].email = ""
    users["cs_supervisor"].save()
    urgent.advance_to(local("2026-11-23 09:12"))

    assert Notification.objects.filter(recipient=users["cs_supervisor"]).count() == 1
    assert not NotificationDelivery.objects.exists()
    assert delivery.deliver() == 0 and mail.outbox == []


def test_the_api_lists_only_the_callers_notifications_in_their_language(urgent, api):
    urgent.advance_to(local("2026-11-23 09:12"))

    body = api("cs_supervisor").get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["unread"] == 1
    (n,) = body["results"]
    assert n["subject"].startswith("[Notice] Repair dispatch · 1-101") and n["read_at"] is None
    zh = api("cs_supervisor").get("/api/notifications/?unread=1", HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh = zh.json()["results"][0]
    assert zh["subject"].startswith("[提醒]")
    assert api("frontdesk").get("/api/notifications/").json() == {
        "count": 0, "page": 1, "pages": 1, "unread": 0, "results": []
    }  # fmt: skip
    assert APIClient().get("/api/notifications/").status_code in (401, 403)

    assert api("frontdesk").post("/api/notifications/read/", {"ids": [n["id"]]},
                                 format="json").status_code == 404  # fmt: skip
    bad = api("cs_supervisor").post("/api/notifications/read/", {"ids": "all"}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()["errors"]
    done = api("cs_supervisor").post("/api/notifications/read/", {}, format="json").json()
    assert done == {"marked": 1, "unread": 0}
    assert api("cs_supervisor").get("/api/notifications/?unread=1").json()["results"] == []


def test_the_case_shows_the_timers_it_waits_on(urgent, api):
    body = api("dispatcher").get(f"/api/instances/{urgent.id}/").json()
    assert body["timers"] == [{
        "name": "急修未及时派工", "name_en": "Urgent repair not dispatched in time",
        "due_at": "2026-11-23T01:10:00+00:00", "reminder": False,
    }]  # fmt: skip


def test_the_words_come_from_the_catalogue_in_the_language_asked_whatever_the_active_one(
    urgent, users
):
    urgent.complete("dispatch_urgent", as_="dispatcher", data={
        "technician": "technician", "requirements": "立即处理",
    })  # fmt: skip
    services.task_claim(task_id=urgent.task("arrive").pk, user=users["technician"])
    urgent.advance_to(local("2026-11-23 10:35"))  # arrival was due at 09:30
    n = Notification.objects.filter(recipient=users["technician"], data__level=2).first()
    url = f"http://127.0.0.1:8000/tasks/{n.task_id}/"

    with translation.override("en"):
        zh = messages.render(n, "zh-hans")
    with translation.override("zh-hans"):
        en = messages.render(n, "en")

    assert zh.subject == "[二级升级] 报修派工与维修 · 1-101：接单并到场（已超时1小时5分钟）"
    assert zh.body.splitlines()[1:] == [
        f"案件：报修派工与维修 · 1-101（#{urgent.id}）", "任务：接单并到场，已超时1小时5分钟",
        f"处理：{url}",
    ]  # fmt: skip
    assert en.subject == (
        "[Level 2 escalation] Repair dispatch · 1-101: Accept and arrive on site (1 h 5 min late)"
    )
    assert en.body.splitlines()[1:] == [
        f"Case: Repair dispatch · 1-101 (#{urgent.id})",
        "Task: Accept and arrive on site, 1 h 5 min late",
        f"Open: {url}",
    ]
    subject, body = messages.email(n)
    assert subject == zh.subject and body == f"{zh.body}\n\n{en.body}\n"
    assert messages.duration(0, "en") == "0 min" and messages.duration(1501, "zh-hans") == (
        "1天1小时1分钟"
    )
