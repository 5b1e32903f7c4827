"""Escalation timers through Celery: lag from due time to fired, throughput, duplicates.

On a throw-away copy of the configured PostgreSQL database (DATABASE_URL) and the
broker (CELERY_BROKER_URL), with real processes: 2 `celery worker --pool=solo`
processes and one `celery beat` sweeping every PROPFLOW_SWEEP_SECONDS (2 s).

Every case is an urgent repair whose 10-minute dispatch limit passes (a notice to
the supervisor: a timer fired, an audit event, a notification, an email to a file).
(1) steady: --steady timers falling due evenly over --window seconds, below capacity.
(2) burst: --burst timers all falling due at the same instant.
(3) floor: the same firing in this one process, no broker (timers.fire_due): the cost
    of the write path itself, which the workers cannot beat.
Lag is the audit event's time minus the timer's due time. Duplicates are timers fired
more than once (must be 0). Run: make bench-timers.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "厨房水龙头漏水", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
LIMIT = timedelta(minutes=10)  # repair.urgent_dispatch


def setup_database():
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection

    import engine
    from server.estate.models import Building, Site, Unit
    from server.flows.definitions.services import process_deploy

    if connection.vendor != "postgresql":
        sys.exit("bench/timers.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.CELERY_BROKER_URL:
        sys.exit("bench/timers.py needs a broker: set CELERY_BROKER_URL=redis://...")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
        process_deploy(source=source)
    building = Building.objects.create(site=Site.objects.create(name="基准花园"), name="1栋")
    Unit.objects.create(code="1-101", building=building, floor=1, area_m2=90)
    desk = User.objects.create_user("desk")
    desk.groups.add(Group.objects.get_or_create(name="frontdesk")[0])
    boss = User.objects.create_user("boss", email="boss@example.com")
    boss.groups.add(Group.objects.get_or_create(name="cs_supervisor")[0])
    return connection, old_name, desk


def start_cases(user, dues: list[datetime]) -> None:
    from engine import clock
    from server.flows.cases import services

    for due in dues:
        with clock.frozen(due - LIMIT):
            services.instance_start(process_key="repair", started_by=user, data=REQUEST)


def start_celery(tmp: Path, db_name: str) -> list[subprocess.Popen]:
    from django.conf import settings

    # The throw-away database on the configured server, with the same login and options.
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{quote(db_name)}").geturl()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PROPFLOW_QUEUE": f"propflow-bench-{uuid.uuid4().hex[:8]}",
        "PROPFLOW_EMAIL_BACKEND": "file",
        "PROPFLOW_EMAIL_FILE_PATH": str(tmp / "mail"),
        "PROPFLOW_VAR_DIR": str(tmp),
    }
    common = [sys.executable, "-m", "celery", "-A", "server"]
    quiet = ["--loglevel=WARNING"]
    procs = []
    for i in (1, 2):
        log = open(tmp / f"worker{i}.log", "wb")  # noqa: SIM115 - lives as long as the worker
        procs.append(subprocess.Popen(
            [*common, "worker", "-Q", env["PROPFLOW_QUEUE"], "-n", f"bench{i}@%h",
             "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
             *quiet],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
    log = open(tmp / "beat.log", "wb")  # noqa: SIM115
    procs.append(subprocess.Popen(
        [*common, "beat", "-s", str(tmp / "beat-schedule"), *quiet],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    ))  # fmt: skip
    return procs


def wait_fired(last_due: datetime, until: float) -> bool:
    from server.flows.models import Timer

    while time.time() < until:
        if not Timer.objects.filter(bpmn_id="dispatch_urgent_late", due_at__lte=last_due).exists():
            return True
        time.sleep(0.5)
    return False


def results(since: datetime, until: datetime | None = None):
    """(lags in seconds, duplicates, moment of the last firing) of timers due in the window."""
    from server.flows.models import AuditEvent

    fired = AuditEvent.objects.filter(kind="timer_fired", data__timer="dispatch_urgent_late")
    lags, seen, duplicates, last = [], set(), 0, None
    for instance_id, at, data in fired.values_list("instance_id", "at", "data"):
        due = datetime.fromisoformat(data["due"])
        if due < since or (until is not None and due > until):
            continue
        if instance_id in seen:
            duplicates += 1
            continue
        seen.add(instance_id)
        lags.append((at - due).total_seconds())
        last = at if last is None or at > last else last
    return sorted(lags), duplicates, last


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=10_000, help="timers due at one instant")
    parser.add_argument("--steady", type=int, default=1_200, help="timers due over --window")
    parser.add_argument("--window", type=float, default=60, help="seconds")
    parser.add_argument("--floor", type=int, default=300, help="timers fired in-process")
    args = parser.parse_args()

    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    connection, old_name, desk = setup_database()
    tmp = Path(tempfile.mkdtemp(prefix="propflow-bench-"))
    name = connection.settings_dict["NAME"]
    try:  # the throw-away database goes whatever happens, or each failed run leaves one
        through_celery(args, desk, tmp)
        floor(args, desk)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        print(f"database {name} dropped")
        shutil.rmtree(tmp, ignore_errors=True)


def through_celery(args, desk, tmp: Path) -> None:
    """(1) and (2): cases falling due steadily, then at one instant, fired by the workers."""
    from django.db import connection
    from django.utils import timezone

    procs = []
    try:
        # Cases are made first, falling due after the setup; the estimate errs long.
        t0 = time.perf_counter()
        start_cases(desk, [timezone.now() + timedelta(days=1)] * 50)  # measure the setup rate
        rate = (time.perf_counter() - t0) / 50
        lead = timedelta(seconds=rate * (args.steady + args.burst) * 1.3 + 20)
        steady_from = timezone.now() + lead
        step = timedelta(seconds=args.window / max(args.steady, 1))
        burst_at = steady_from + timedelta(seconds=args.window + 10)
        print(f"making {args.steady + args.burst} cases ({rate * 1000:.1f} ms each)...")
        start_cases(desk, [steady_from + step * i for i in range(args.steady)])
        start_cases(desk, [burst_at] * args.burst)
        if timezone.now() >= steady_from:
            sys.exit("Setup took longer than estimated; nothing measured.")
        procs = start_celery(tmp, connection.settings_dict["NAME"])
        ok = wait_fired(burst_at, burst_at.timestamp() + 600)
        from server.flows.notifications import delivery

        drained = time.time() + 300
        while delivery.outbox().exists() and time.time() < drained:
            time.sleep(0.5)
        report(args, steady_from, burst_at, ok)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def report(args, steady_from: datetime, burst_at: datetime, ok: bool) -> None:
    from server.flows.models import Notification, NotificationDelivery

    lags, dup_steady, _ = results(steady_from, steady_from + timedelta(seconds=args.window))
    burst_lags, dup_burst, last = results(burst_at, burst_at)
    print("workers: 2 x celery worker --pool=solo; 1 celery beat, sweeping every 2 s")
    print(
        f"(1) steady, {len(lags)} timers over {args.window:g} s "
        f"({args.steady / args.window:.0f}/s): lag median {statistics.median(lags):.2f} s, "
        f"p99 {pct(lags, 0.99):.2f} s, max {lags[-1]:.2f} s; duplicates {dup_steady}"
    )
    span = (last - burst_at).total_seconds() if last else float("nan")
    print(f"(2) burst, {len(burst_lags)} timers due at once: all fired {span:.1f} s after "
          f"their due time ({len(burst_lags) / span:.0f}/s); lag median "
          f"{statistics.median(burst_lags):.2f} s, p99 {pct(burst_lags, 0.99):.2f} s; "
          f"duplicates {dup_burst}")  # fmt: skip
    if not ok:
        print("NOT ALL FIRED within 10 minutes")
    sent = NotificationDelivery.objects.filter(channel="email", sent_at__isnull=False).count()
    print(f"notifications {Notification.objects.count()}, emailed {sent}")


def floor(args, desk) -> None:
    """(3): the same firing in this one process, no broker: the write path's own cost."""
    from django.utils import timezone

    from server.flows import timers

    start_cases(desk, [timezone.now() - timedelta(seconds=1)] * args.floor)
    t0 = time.perf_counter()
    fired = timers.fire_due()
    per = (time.perf_counter() - t0) / max(len(fired), 1)
    print(f"(3) floor, {len(fired)} fired in this process, no broker: {per * 1000:.2f} ms each "
          f"({1 / per:.0f}/s on one process)")  # fmt: skip


if __name__ == "__main__":
    main()
