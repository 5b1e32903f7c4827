"""The durable schedule: timer rows follow the engine, sweeps claim them, failures wait."""

import time
import zlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail

from engine import clock
from server import celery_app
from server.flows import tasks, timers
from server.flows.cases import services
from server.flows.models import AuditEvent, HumanTask, Notification, Timer
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local
from tests.test_process_complaint import COMPLAINT
from tests.test_process_repair import REQUEST

CALLED = local("2026-11-23 09:00")


def rows(instance_id):
    return list(Timer.objects.filter(instance_id=instance_id).order_by("due_at")
                .values_list("bpmn_id", "due_at"))  # fmt: skip


@pytest.fixture
def urgent(db, users):
    deploy_all()
    make_units("1-101")

    def start(at=CALLED):
        return Case(users, "repair", as_="frontdesk", data={**REQUEST, "urgency": "urgent"},
                    at=at)  # fmt: skip

    return start


def test_timer_rows_follow_the_engine_through_the_case(urgent, users):
    case = urgent()
    assert rows(case.id) == [("dispatch_urgent_late", local("2026-11-23 09:10"))]
    timer = Timer.objects.get(instance_id=case.id)
    assert str(timer.attached_to) == str(case.task("dispatch_urgent").pk)

    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "-"})  # fmt: skip
    assert rows(case.id) == [("arrival_late", local("2026-11-23 09:30")),
                             ("arrival_very_late", local("2026-11-23 10:00"))]  # fmt: skip

    case.advance_to(local("2026-11-23 09:31"))
    assert rows(case.id) == [("arrival_very_late", local("2026-11-23 10:00"))]

    services.instance_cancel(instance_id=case.id, user=users["cs_supervisor"], reason="重复报修")
    assert rows(case.id) == []


def test_a_cycle_timer_moves_to_its_next_round_and_is_due_afresh(db, users):
    deploy_all()
    make_units("1-101")
    case = Case(users, "complaint", as_="frontdesk", data=COMPLAINT, at=CALLED)
    case.complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    for moment in ("2026-11-26 09:01", "2026-11-27 09:02", "2026-12-01 09:03"):
        case.advance_to(local(moment))  # level 2, level 3, then overdue at level 3
    daily = Timer.objects.get(instance_id=case.id, bpmn_id="level3_daily")
    Timer.objects.filter(pk=daily.pk).update(claimed_until=local("2026-12-02 09:04"), attempts=1)

    case.advance_to(local("2026-12-02 09:03"))

    moved = Timer.objects.get(pk=daily.pk)
    assert moved.due_at == daily.due_at + timedelta(days=1)
    assert (moved.claimed_until, moved.attempts) == (None, 0)


@pytest.mark.django_db(transaction=True)
def test_a_claimed_timer_is_not_handed_out_again_until_its_lease_runs_out(urgent, settings):
    settings.PROPFLOW_TIMER_LEASE_SECONDS = 60
    case = urgent()
    handed: list[list[int]] = []
    at = local("2026-11-23 09:11")

    with clock.frozen(at):
        assert timers.claim_due(dispatch=handed.append) == ([case.id], 1)
        assert timers.claim_due(dispatch=handed.append) == ([], 0)  # claimed: a worker has it
    with clock.frozen(at + timedelta(seconds=61)):  # the worker died: its claim ran out
        assert timers.claim_due(dispatch=handed.append) == ([case.id], 1)
    assert handed == [[case.id], [case.id]]
    assert Timer.objects.get(instance_id=case.id).attempts == 2

    with clock.frozen(at + timedelta(seconds=62)):
        assert timers.fire([case.id, case.id]) == [case.id]  # a duplicate message: no-op
    assert AuditEvent.objects.filter(instance_id=case.id, kind="timer_fired").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_instance_that_fails_to_fire_waits_with_its_reason_and_the_rest_fire(urgent, settings):
    settings.PROPFLOW_TIMER_LEASE_SECONDS = 60
    broken, sound = urgent(), urgent()
    state = zlib.compress(b'{"not": "an engine state"')
    type(broken.instance).objects.filter(pk=broken.id).update(state=state)

    at = local("2026-11-23 09:11")
    with clock.frozen(at):
        assert timers.fire_due() == [sound.id]

    failed = Timer.objects.get(instance_id=broken.id)
    assert "JSONDecodeError" in failed.last_error
    assert failed.claimed_until == at + timedelta(seconds=60)  # first failure: one lease
    with clock.frozen(at + timedelta(seconds=61)):
        assert timers.fire_due() == []
    failed.refresh_from_db()
    assert failed.attempts == 2 and failed.claimed_until == at + timedelta(seconds=181)  # x2
    assert HumanTask.objects.filter(instance_id=broken.id, status="open").count() == 1


@pytest.fixture
def eager():
    """Tasks run in the calling process, as when no broker is configured."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.mark.django_db(transaction=True)
def test_the_embedded_sweeper_fires_and_emails_with_no_broker(eager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    deploy_all()
    make_units("1-101")
    desk = User.objects.create_user("desk")
    desk.groups.add(Group.objects.get_or_create(name="frontdesk")[0])
    boss = User.objects.create_user("boss", email="boss@example.com")
    boss.groups.add(Group.objects.get_or_create(name="cs_supervisor")[0])
    with clock.frozen(clock.now() - timedelta(minutes=10, seconds=-1)):  # due in a second
        case = services.instance_start(process_key="repair", started_by=desk,
                                       data={**REQUEST, "urgency": "urgent"})  # fmt: skip

    sweeper = tasks.EmbeddedSweeper(interval=0.2)
    sweeper.start()
    try:
        deadline = time.monotonic() + 15
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sweeper.stop()
        sweeper.join(5)

    assert AuditEvent.objects.filter(instance=case, kind="timer_fired").count() == 1
    n = Notification.objects.get(recipient=boss)
    assert n.deliveries.get(channel="email").sent_at is not None
    assert [m.to for m in mail.outbox] == [["boss@example.com"]]
    assert "1-101" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_a_timer_left_on_a_finished_case_is_dropped_not_fired(urgent):
    case = urgent()
    type(case.instance).objects.filter(pk=case.id).update(status="cancelled")

    with clock.frozen(local("2026-11-23 09:11")):
        assert timers.fire_due() == []
    assert rows(case.id) == []
    assert not AuditEvent.objects.filter(instance_id=case.id, kind="timer_fired").exists()


@pytest.mark.django_db(transaction=True)
def test_a_sweep_counts_timers_not_cases_so_it_takes_every_due_one(urgent):
    cases = [urgent(), urgent()]
    for case in cases:
        case.complete("dispatch_urgent", as_="dispatcher",
                      data={"technician": "technician", "requirements": "-"})  # fmt: skip
    handed: list[list[int]] = []
    # At 10:01 each case has two due timers (not on site at 09:30, still not at 10:00).
    timers.sweep(dispatch=handed.extend, as_of=local("2026-11-23 10:01"), batch=2)
    assert Timer.objects.filter(claimed_until__isnull=True).count() == 0  # all 4 claimed
    assert set(handed) == {c.id for c in cases}
