"""The end-of-shift check and the hand-over (issue 16, item 5): "每天下班前十分鐘調度員應核查
當天工作單完成情況，在交接班記錄本上詳細了解工作未完成的原因". On a fake clock: a site with
a day and a night shift, open and closed work orders, a late task; the beat task writes the
check once, tells the dispatcher on duty what is open, and the check goes on to its
annotations, its completion, the hand-over and its acknowledgement."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine import clock
from server.desk import tasks
from server.desk.models import Handover, ShiftCheck, ShiftCheckItem
from server.estate.models import Site
from server.flows.models import Notification
from server.flows.notifications import delivery, messages
from server.staff.models import StaffProfile
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local
from tests.test_kpis import DONE, ORDER
from tests.test_kpis import REQUEST as URGENT

ORDINARY = {**URGENT, "urgency": "ordinary", "description": "Door sticks"}
COMPLAINT = {
    "complainant": "Ms Chen", "phone": "13900000002", "unit": "1-103", "channel": "walk_in",
    "description": "Rude cleaner", "category": "service_attitude",
}  # fmt: skip


@pytest.fixture
def site(db, users):
    deploy_all()
    make_units("1-101", "1-102", "1-103", "1-104")
    site = Site.objects.get()
    site.shifts = "08:00-18:00,18:00-08:00"
    site.save()
    for role, user in users.items():
        user.email = f"{role}@example.com"
        user.save()
    return site


@pytest.fixture
def day(site, users):
    """At 17:40 on the 23rd: an urgent repair dispatched, not finished (1-101), an ordinary
    one waiting for dispatch (1-102), one done (1-104), a complaint engineering has not
    handled in time
    (1-103). The beat has run since the night shift's check at 07:50."""
    assert beat("2026-11-23 07:50") == 1
    open_urgent = Case(users, "repair", as_="frontdesk", data=URGENT, at=local("2026-11-23 09:00"))
    open_urgent.now = local("2026-11-23 09:05")
    open_urgent.complete("dispatch_urgent", as_="dispatcher", data=ORDER)
    waiting = Case(users, "repair", as_="frontdesk", data={**ORDINARY, "unit": "1-102"},
                   at=local("2026-11-23 10:00"))  # fmt: skip
    done = Case(users, "repair", as_="frontdesk", data={**URGENT, "unit": "1-104"},
                at=local("2026-11-23 11:00"))  # fmt: skip
    done.now = local("2026-11-23 11:05")
    done.complete("dispatch_urgent", as_="dispatcher", data=ORDER)
    done.complete("arrive", as_="technician")
    done.complete("repair_work", as_="technician", data=DONE)
    done.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    assert done.status == "completed"
    complaint = Case(users, "complaint", as_="frontdesk", data=COMPLAINT,
                     at=local("2026-11-16 12:00"))  # fmt: skip
    complaint.complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    for case in (open_urgent, waiting):  # the complaint stays as it is: late, not escalated yet
        case.advance_to(local("2026-11-23 17:40"))
    Notification.objects.all().delete()  # the escalations of the day: not what is tested
    return {"urgent": open_urgent, "waiting": waiting, "done": done, "complaint": complaint}


def beat(at: str) -> int:
    with clock.frozen(local(at)):
        return tasks.shift_checks()


def test_ten_minutes_before_the_day_shift_ends_one_check_lists_what_is_open(day, users):
    StaffProfile.objects.create(user=users["dispatcher"], on_duty=True)
    off = User.objects.create_user("night_dispatcher", email="n@example.com")
    off.groups.add(Group.objects.get(name="dispatcher"))
    StaffProfile.objects.create(user=off, on_duty=False)

    assert beat("2026-11-23 17:49") == 0
    assert beat("2026-11-23 17:50") == 1
    assert beat("2026-11-23 17:50") == 0  # a retry, a second beat worker: written once
    assert beat("2026-11-23 17:55") == 0

    check = ShiftCheck.objects.get(shift="08:00-18:00")
    assert (check.shift, check.ends_at) == ("08:00-18:00", local("2026-11-23 18:00"))
    items = {i.instance_id: i for i in ShiftCheckItem.objects.filter(shift_check=check)}
    urgent, waiting, complaint = day["urgent"], day["waiting"], day["complaint"]
    assert set(items) == {urgent.id, waiting.id, complaint.id}  # not the finished job
    assert items[urgent.id].kind == items[waiting.id].kind == "work_order"
    assert items[complaint.id].kind == "late_task" and items[complaint.id].late
    assert items[urgent.id].unit == "1-101" and items[urgent.id].late  # not on site by 09:35

    told = Notification.objects.filter(kind="shift_check", data__check=check.pk)
    assert sorted(n.recipient.username for n in told) == ["cs_supervisor", "dispatcher"]
    to_dispatcher = told.get(recipient=users["dispatcher"])
    zh, en = messages.render(to_dispatcher, "zh-hans"), messages.render(to_dispatcher, "en")
    for unit in ("1-101", "1-102", "1-103"):
        assert unit in zh.body and unit in en.body
    assert "1-104" not in zh.body + en.body  # closed
    assert "Mr Wang" not in zh.body + en.body and "13800000001" not in zh.body + en.body
    assert "到场" in zh.body or "到达" in zh.body or urgent.task("arrive").name in zh.body
    assert en.subject == "[End-of-shift check] 测试花园 08:00-18:00: 3 open, 2 late"
    assert zh.link.endswith("/shift/")
    summary = messages.render(told.get(recipient=users["cs_supervisor"]), "en")
    assert "3 items still open" in summary.body and "1-101" not in summary.body

    assert delivery.deliver() == 2
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {"dispatcher@example.com", "cs_supervisor@example.com"}
    body = sent["dispatcher@example.com"].body
    assert "1-101" in body and "1-102" in body and "1-103" in body and "1-104" not in body


def test_a_night_shift_ends_the_next_morning_and_a_missed_check_is_caught_up_once(day):
    assert beat("2026-11-23 17:50") == 1
    assert beat("2026-11-24 07:49") == 0
    assert beat("2026-11-24 09:30") == 1  # no worker from 07:40 to 09:30: caught up
    night = ShiftCheck.objects.get(shift="18:00-08:00", ends_at__gt=local("2026-11-23 12:00"))
    assert night.ends_at == local("2026-11-24 08:00")
    assert night.starts_at == local("2026-11-23 18:00")
    assert beat("2026-11-24 09:31") == 0


def test_a_first_run_writes_the_latest_missed_check_not_ones_from_days_ago(day):
    assert beat("2026-11-26 12:00") == 1  # only the night shift that ended at 08:00 today
    assert ShiftCheck.objects.latest("ends_at").ends_at == local("2026-11-26 08:00")


def test_a_site_with_no_shifts_checks_its_service_hours(day, site):
    site.shifts, site.service_hours = "", "09:00-17:30"
    site.save()
    assert beat("2026-11-23 17:20") == 1
    assert ShiftCheck.objects.latest("ends_at").ends_at == local("2026-11-23 17:30")


def test_writing_a_check_costs_a_fixed_number_of_queries(day):
    with CaptureQueriesContext(connection) as queries, clock.frozen(local("2026-11-23 17:50")):
        assert tasks.shift_checks() == 1
    assert len(queries) <= 16, [q["sql"][:120] for q in queries]


# -- through the API ---------------------------------------------------------------------------


@pytest.fixture
def check(day):
    assert beat("2026-11-23 17:50") == 1
    return ShiftCheck.objects.get(shift="08:00-18:00")


def test_annotate_complete_hand_over_and_acknowledge(check, api, users):
    night = User.objects.create_user("night_dispatcher")
    night.groups.add(Group.objects.get(name="dispatcher"))
    dispatcher = api("dispatcher")
    items = dispatcher.get(f"/api/shift-checks/{check.pk}/").json()["items"]
    assert len(items) == 3 and {i["unit"] for i in items} == {"1-101", "1-102", "1-103"}

    refused = dispatcher.post(f"/api/shift-checks/{check.pk}/complete/")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    blank = dispatcher.post(f"/api/shift-checks/items/{items[0]['id']}/annotate/",
                            {"reason": "  "}, format="json")  # fmt: skip
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]
    for item in items:
        answer = dispatcher.post(f"/api/shift-checks/items/{item['id']}/annotate/",
                                 {"reason": "Parts on order"}, format="json")  # fmt: skip
        assert answer.status_code == 200, answer.content
    done = dispatcher.post(f"/api/shift-checks/{check.pk}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = dispatcher.post(f"/api/shift-checks/{check.pk}/complete/")
    assert again.status_code == 409
    late = dispatcher.post(f"/api/shift-checks/items/{items[0]['id']}/annotate/",
                           {"reason": "changed my mind"}, format="json")  # fmt: skip
    assert late.status_code == 409

    handover = {"check": check.pk, "to_user": "night_dispatcher", "pending": "3 open jobs",
                "reasons": "Parts on order", "remarks": "Lift 2 noisy"}  # fmt: skip
    to_self = dispatcher.post("/api/handovers/", {**handover, "to_user": "dispatcher"},
                              format="json")  # fmt: skip
    assert to_self.status_code == 400 and "to_user" in to_self.json()["errors"]
    written = dispatcher.post("/api/handovers/", handover, format="json")
    assert written.status_code == 201, written.content
    assert dispatcher.post("/api/handovers/", handover, format="json").status_code == 409
    saved = Handover.objects.get()
    assert (saved.written_by, saved.to_user, saved.pending) == (
        users["dispatcher"],
        night,
        "3 open jobs",
    )

    writer_ack = dispatcher.post(f"/api/handovers/{saved.pk}/acknowledge/")
    assert writer_ack.status_code == 403
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    nightly = APIClient()
    nightly.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=night).key}")
    with clock.frozen(local("2026-11-23 18:05")):
        ack = nightly.post(f"/api/handovers/{saved.pk}/acknowledge/")
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "night_dispatcher"
    assert nightly.post(f"/api/handovers/{saved.pk}/acknowledge/").status_code == 409
    saved.refresh_from_db()
    assert saved.acknowledged_at == local("2026-11-23 18:05")

    summary = api("cs_supervisor").get("/api/shift-checks/").json()["results"][0]
    assert (summary["open_count"], summary["annotated_count"], summary["late_count"]) == (3, 3, 2)


def test_who_may_do_what_with_a_check(check, api):
    item = check.items.first()
    assert api("frontdesk").get("/api/shift-checks/").status_code == 403
    assert api("technician").get(f"/api/shift-checks/{check.pk}/").status_code == 403
    supervisor = api("cs_supervisor")
    assert supervisor.get(f"/api/shift-checks/{check.pk}/").status_code == 200
    refused = supervisor.post(f"/api/shift-checks/items/{item.pk}/annotate/",
                              {"reason": "x"}, format="json")  # fmt: skip
    assert refused.status_code == 403
    item.refresh_from_db()
    assert item.reason == ""
    dispatcher = api("dispatcher")
    assert dispatcher.get("/api/shift-checks/999999/").status_code == 404
    assert dispatcher.get("/api/shift-checks/abc/").status_code == 404
    assert dispatcher.post("/api/shift-checks/items/999999/annotate/", {"reason": "x"},
                           format="json").status_code == 404  # fmt: skip
    early = dispatcher.post("/api/handovers/", {"check": check.pk, "to_user": "dispatcher",
                                                "pending": "x"}, format="json")  # fmt: skip
    assert early.status_code == 400
    assert dispatcher.post("/api/handovers/", {"to_user": "x"}, format="json").status_code == 400


def test_the_page_shows_the_check_and_the_inbox_the_hand_over_waiting(check, client, users):
    night = User.objects.create_user("night_dispatcher")
    night.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(users["dispatcher"])
    page = client.get("/shift/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1-101" in html and "1-102" in html and "1-104" not in html
    for item in check.items.all():
        client.post(f"/shift/items/{item.pk}/", {"reason": "Waiting for parts"})
    client.post(f"/shift/{check.pk}/complete/")
    handover = {"to_user": "night_dispatcher", "pending": "Three jobs", "reasons": "Parts"}
    client.post(f"/shift/{check.pk}/handover/", handover)
    assert Handover.objects.filter(to_user=night).exists()
    client.force_login(night)
    inbox = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Three jobs" in inbox and 'id="handover-banner"' in inbox
    client.post(f"/shift/handovers/{Handover.objects.get().pk}/acknowledge/")
    assert Handover.objects.get().acknowledged_by == night
    assert 'id="handover-banner"' not in client.get("/").content.decode()
    client.force_login(users["frontdesk"])
    assert client.get("/shift/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_the_embedded_sweeper_writes_the_due_check(users, settings):
    """``manage.py serve`` hands the sweeper beat's entry: a site with no broker checks too."""
    import time
    from zoneinfo import ZoneInfo

    from server.flows import tasks as flows_tasks

    make_units("1-101")
    here = clock.now().astimezone(ZoneInfo(settings.TIME_ZONE))
    ends = here + timedelta(minutes=5)  # its check fell due five minutes ago
    Site.objects.update(shifts=f"{here - timedelta(hours=2):%H:%M}-{ends:%H:%M}")
    sweeper = flows_tasks.EmbeddedSweeper(interval=0.1, periodic=[(60.0, tasks.shift_checks)])
    sweeper.start()
    try:
        deadline = time.monotonic() + 10
        while not ShiftCheck.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # more rounds: the minute has not passed, it does not run again
    finally:
        sweeper.stop()
        sweeper.join(5)
    assert ShiftCheck.objects.count() == 1


def test_the_check_s_notification_reads_in_the_bell_the_list_and_the_api(check, api, client,
                                                                         users):  # fmt: skip
    answer = api("dispatcher").get("/api/notifications/").json()["results"]
    (told,) = [n for n in answer if n["kind"] == "shift_check" and "1-101" in n["body"]]
    assert told["instance"] is None and told["link"].endswith("/shift/")
    client.force_login(users["dispatcher"])
    listed = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "[End-of-shift check]" in listed
    opened = client.get(f"/notifications/{told['id']}/")
    assert opened.status_code == 302 and opened["Location"] == "/shift/"
