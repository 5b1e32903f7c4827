"""Timers through real Celery processes: a worker and beat on the machine's broker and PostgreSQL.

Each test starts `celery -A server worker` and `celery -A server beat` as subprocesses on
the test database, with a queue of its own, and watches the database for the outcome.
The waits are bounds so a broken build fails instead of hanging; nothing asserts a time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from engine import clock
from server.flows.cases import services
from server.flows.models import AuditEvent, Notification, NotificationDelivery, Timer
from tests.conftest import BROKER_HINT, database_url, make_units
from tests.scenario import deploy_all
from tests.test_process_repair import REQUEST

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("CELERY_BROKER_URL", "")


def _broker_problem() -> str | None:
    if not BROKER:
        return BROKER_HINT
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as err:
        return f"the broker at {BROKER} does not answer: {err}"
    return None


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(bool(problem := _broker_problem()), reason=problem or ""),
]


class Celery:
    """Worker and beat processes for one test, on its own queue; all killed at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.queue = f"propflow-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
            "CELERY_BROKER_URL": BROKER,
            "PROPFLOW_QUEUE": self.queue,
            "PROPFLOW_SWEEP_SECONDS": "0.5",
            "PROPFLOW_TIMER_LEASE_SECONDS": "3",
            "PROPFLOW_PG_CLIENT_CHECK_MS": "500",
            "PROPFLOW_EMAIL_BACKEND": "file",
            "PROPFLOW_EMAIL_FILE_PATH": str(tmp / "mail"),
            "PROPFLOW_VAR_DIR": str(tmp),
            "PROPFLOW_CONN_MAX_AGE": "0",
        }
        self.procs: list[subprocess.Popen] = []

    def _start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "server", *args, "--loglevel=INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def worker(self, name: str = "w1", pool: str = "solo", concurrency: int = 1):
        return self._start(
            "worker", "-Q", self.queue, "-n", f"{name}-{self.queue}@%h", f"--pool={pool}",
            f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
            "--without-heartbeat", name=name,
        )  # fmt: skip

    def beat(self, name: str = "beat"):
        return self._start("beat", "-s", str(self.tmp / f"{name}-schedule"), name=name)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.tmp.glob("*.log"))

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)

    def mails(self) -> list[str]:
        folder = self.tmp / "mail"
        return [p.read_text() for p in sorted(folder.glob("*.log"))] if folder.exists() else []


@pytest.fixture
def celery(tmp_path):
    c = Celery(tmp_path)
    yield c
    c.stop()


def wait_for(condition, celery: Celery, what: str, bound: float = 60):
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {bound} s\n{celery.logs()}")


@pytest.fixture
def people():
    deploy_all()
    make_units("1-101")
    made = {}
    for role in ("frontdesk", "dispatcher", "cs_supervisor", "technician"):
        user = User.objects.create_user(role, email=f"{role}@example.com")
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        made[role] = user
    return made


def late_urgent_repairs(people, n: int = 1, overdue=timedelta(seconds=1)) -> list[int]:
    """``n`` urgent repairs whose 10-minute dispatch limit passed ``overdue`` ago."""
    ids = []
    with clock.frozen(clock.now() - timedelta(minutes=10) - overdue):
        for _ in range(n):
            ids.append(services.instance_start(
                process_key="repair", started_by=people["frontdesk"],
                data={**REQUEST, "urgency": "urgent"},
            ).pk)  # fmt: skip
    return ids


def fired(instance_id: int) -> int:
    return AuditEvent.objects.filter(instance_id=instance_id, kind="timer_fired").count()


def test_a_worker_fires_a_due_escalation_and_the_supervisor_is_notified_by_email(celery, people):
    (case,) = late_urgent_repairs(people, overdue=timedelta(seconds=-2))  # due in 2 s
    celery.worker()
    celery.beat()

    emailed = NotificationDelivery.objects.filter(channel="email", sent_at__isnull=False)
    wait_for(emailed.exists, celery, "the supervisor's notification email")

    assert fired(case) == 1
    n = Notification.objects.get(recipient=people["cs_supervisor"])
    assert n.task.bpmn_id == "dispatch_urgent" and n.read_at is None
    (mail,) = celery.mails()
    assert "To: cs_supervisor@example.com" in mail and "1-101" in mail
    assert not Timer.objects.filter(instance_id=case, bpmn_id="dispatch_urgent_late").exists()


def test_two_beats_and_two_workers_fire_every_timer_once(celery, people):
    cases = late_urgent_repairs(people, n=30)
    celery.beat("beat1")
    celery.beat("beat2")
    celery.worker("w1", pool="prefork", concurrency=2)
    celery.worker("w2", pool="prefork", concurrency=2)

    wait_for(lambda: not Timer.objects.filter(bpmn_id="dispatch_urgent_late").exists(), celery,
             "every timer fired")  # fmt: skip
    time.sleep(2)  # let any duplicate hand-out arrive: it must find nothing to do

    assert [fired(c) for c in cases] == [1] * 30
    assert Notification.objects.count() == 30  # one supervisor, one notice per case
    for c in cases:
        seqs = list(AuditEvent.objects.filter(instance_id=c).values_list("seq", flat=True))
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def _waiting_on_a_lock() -> list[int]:
    """Sessions of the test database blocked on a row lock (the statement text is cut at
    1 kB in pg_stat_activity, too short to name the table of a batch)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_worker_killed_mid_fire_loses_nothing_and_duplicates_nothing(celery, people):
    (case,) = late_urgent_repairs(people)
    supervisor = people["cs_supervisor"]

    # Hold the supervisor's user row: the worker's write stops at the notification that
    # refers to it, after the instance update and the audit events, before its COMMIT.
    holder = _Holder(f"SELECT id FROM auth_user WHERE id = {supervisor.pk} FOR UPDATE")
    try:
        worker = celery.worker("doomed")
        celery.beat()
        wait_for(lambda: _waiting_on_a_lock(), celery, "the worker mid-write")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        wait_for(lambda: not _waiting_on_a_lock(), celery,
                 "PostgreSQL rolling back the dead worker's transaction", bound=30)  # fmt: skip
    finally:
        holder.release()

    assert fired(case) == 0  # nothing of the half-written step is left
    assert Timer.objects.filter(instance_id=case, bpmn_id="dispatch_urgent_late").exists()
    assert not Notification.objects.exists()

    celery.worker("rescuer")  # the claim runs out; the next sweep hands the timer out again
    wait_for(lambda: fired(case) == 1, celery, "the timer fired by the next worker")
    time.sleep(2)

    assert fired(case) == 1
    assert Notification.objects.filter(recipient=supervisor).count() == 1
    seqs = list(AuditEvent.objects.filter(instance_id=case).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, len(seqs) + 1))


class _Holder:
    """A second database session that holds a row lock until released."""

    def __init__(self, sql: str):
        import psycopg2

        db = connection.settings_dict
        self.conn = psycopg2.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
            host=db["HOST"], port=db["PORT"],
        )  # fmt: skip
        self.conn.cursor().execute(sql)  # psycopg2 opened a transaction: the lock is held

    def release(self):
        self.conn.rollback()
        self.conn.close()


def test_all_five_processes_escalate_through_the_workers(celery, users):
    # Long on purpose: one case per process, the same checks for each, through real workers.
    """Each process's escalation or reminder, left to fall due, is fired by a real worker
    and reaches the people of its role."""
    from server.estate.models import Resident, Unit
    from tests import test_process_complaint as complaint
    from tests import test_process_move_in as move_in
    from tests import test_process_move_out as move_out
    from tests import test_process_renovation as renovation
    from tests.scenario import Case

    deploy_all()
    make_units("1-101")
    make_units("2-301", status="not_handed_over")
    make_units("3-502", status="occupied")
    Resident.objects.create(unit=Unit.objects.get(code="3-502"), name="孙伟", phone="1")
    weeks_ago = clock.now() - timedelta(days=40)

    def case(process, data):
        return Case(users, process, as_="frontdesk", data=data, at=weeks_ago)

    cases = {}
    cases["repair"] = case("repair", {**REQUEST, "urgency": "urgent"})
    c = cases["complaint"] = case("complaint", complaint.COMPLAINT)
    c.complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    cases["renovation"] = case("renovation", renovation.APPLY)
    c = cases["move_in"] = case("move_in", move_in.START)
    c.complete("register", as_="frontdesk", data=move_in.REGISTER)
    c.complete("fees", as_="finance", data=move_in.FEES)
    c.complete("inspection", as_="engineering", data={
        "rooms": move_in.ROOMS, "defects": [{"location": "卫生间", "description": "地漏堵塞"}],
        "owner_signature": move_in.SIGNED,
    })  # fmt: skip
    c = cases["move_out"] = case("move_out", move_out.REQUEST)
    c.complete("settle", as_="finance", data=move_out.UNPAID)
    expected = {
        "repair": ("notified", "cs_supervisor"),
        "complaint": ("escalated", "cs_supervisor"),
        "renovation": ("escalated", "cs_supervisor"),
        "move_in": ("notified", "cs_supervisor"),
        "move_out": ("notified", "frontdesk"),
    }
    assert not AuditEvent.objects.filter(kind__in=["escalated", "notified"]).exists()

    celery.worker()
    celery.beat()

    def reached():
        return {
            key: {(e.kind, e.data["role"]) for e in c.events("escalated") + c.events("notified")}
            for key, c in cases.items()
        }

    wait_for(lambda: all(expected[k] in got for k, got in reached().items()), celery,
             f"every process escalating: {expected}")  # fmt: skip
    for key, c in cases.items():
        role = expected[key][1]
        assert Notification.objects.filter(instance_id=c.id, recipient=users[role]).exists(), key
