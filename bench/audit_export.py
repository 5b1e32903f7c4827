"""The auditors' CSV export of 10,000, 50,000 and 100,000 events: rows a second and memory.

A throw-away copy of the configured database (DATABASE_URL; PostgreSQL is the point) gets
the five processes and synthetic cases with ten events each, written straight in bulk (a
benchmark may bypass the write path: the append-only trigger refuses only UPDATE and
DELETE). Then ``GET /api/audit/events/?format=csv`` is asked through Django's whole stack
(session, middleware, view, the streamed answer) in a second process started for it (so
its resident size is not the bulk writing's), each size twice: once timed (rows a second,
how far the resident size rose above where it started: Linux's VmHWM, reset before each
export; and the ru_maxrss delta), once under tracemalloc (the peak of Python's allocations
while the answer is consumed). Memory that stays flat from 10,000 to
100,000 rows is the point; JSON and xlsx of every event follow.

Run: .venv/bin/python bench/audit_export.py [--events 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

EVENTS_PER_CASE = 10
BATCH = 5_000  # rows per bulk insert
KINDS = (
    "instance_started", "task_created", "task_claimed", "task_completed", "timer_fired",
    "escalated", "notified", "task_created", "task_completed", "instance_completed",
)  # fmt: skip
RECORDED = {"data": {"reporter": "王大明", "phone": "13800000001", "description": "厨房进水"}}


def populate(*, cases: int, events_per_case: int, user, start: datetime | None = None) -> None:
    """``cases`` completed repair cases with ``events_per_case`` events each, all started
    on the day of ``start`` (default 2026-01-05)."""
    from server.flows.cases import chain
    from server.flows.models import AuditEvent, ProcessDefinition, ProcessInstance

    definition = ProcessDefinition.objects.filter(key="repair").order_by("-version").first()
    at = start or datetime(2026, 1, 5, 2, tzinfo=UTC)
    state = zlib.compress(b"{}", 1)
    for first in range(0, cases, BATCH):
        made = ProcessInstance.objects.bulk_create(
            ProcessInstance(
                definition=definition, process_key="repair", business_key=f"9-{i % 500:03d}",
                status="completed", state=state, serializer_version="bench", started_by=user,
                started_at=at, updated_at=at, completed_at=at + timedelta(hours=5),
                event_seq=events_per_case, summary={"urgency": "ordinary", "trade": "other"},
            )
            for i in range(first, min(first + BATCH, cases))
        )  # fmt: skip
        rows = []
        for instance in made:
            trail = [
                AuditEvent(
                    instance=instance, seq=seq, kind=KINDS[(seq - 1) % len(KINDS)],
                    at=at + timedelta(minutes=seq), actor=user,
                    data=RECORDED if seq == 1 else {},
                )
                for seq in range(1, events_per_case + 1)
            ]  # fmt: skip
            chain.seal(instance, trail)  # as the write path would: the rows verify
            rows += trail
            if len(rows) >= BATCH:
                AuditEvent.objects.bulk_create(rows)
                rows = []
        AuditEvent.objects.bulk_create(rows)
        ProcessInstance.objects.bulk_update(made, ["audit_head"])


def _kib(field: str) -> int:
    """A line of /proc/self/status in KiB (VmRSS: resident now; VmHWM: its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """Start VmHWM again from the present resident size (Linux: clear_refs 5). ru_maxrss
    cannot be reset, and after exec it even keeps the parent's peak at the fork."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def export(client, url: str, traced: bool) -> tuple[int, float, int, int]:
    """(lines, seconds, peak bytes: tracemalloc's when ``traced``, else how far the
    resident size rose above where it started (VmHWM), bytes sent)."""
    _reset_peak()
    before = _kib("VmRSS")
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    answer = client.get(url)
    assert answer.status_code == 200 and answer.streaming, answer.status_code
    rows, size = -1, 0  # the headings
    for piece in answer.streaming_content:
        rows += piece.count(b"\n")
        size += len(piece)
    seconds = time.perf_counter() - t0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        peak = (_kib("VmHWM") - before) * 1024
    return rows, seconds, peak, size


def measure(events: int) -> None:
    """The exports, in a process of their own (``--measure``): its resident size is then
    Django's and the exports', not the bulk writing's."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(HTTP_ACCEPT_LANGUAGE="en", secure=not settings.DEBUG)
    client.force_login(User.objects.get(username="bench_auditor"))
    client.get("/api/audit/events/?format=csv&to=2026-01-01")  # warm: imports, caches
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"measuring process: resident {_kib('VmRSS') / 1024:.0f} MiB after start-up and "
          f"one request (ru_maxrss {maxrss / 1024:.0f} MiB: the parent's, kept over exec)"
          )  # fmt: skip
    base = "/api/audit/events/?format="
    runs = [(f"{base}csv&to=2026-01-05", "csv 10%"), (f"{base}csv&to=2026-01-12", "csv 50%"),
            (f"{base}csv", "csv 100%"), (f"{base}json", "json 100%"),
            (f"{base}xlsx", "xlsx 100%")]  # fmt: skip
    for url, label in runs:
        lines, seconds, grew, size = export(client, url, traced=False)
        peak = export(client, url, traced=True)[2]
        rows = lines if label.startswith("csv") else events
        maxrss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss) / 1024
        print(f"{label:>9} {rows:>8,} rows: {rows / seconds:8,.0f} rows/s, "
              f"tracemalloc peak {peak / 2**20:5.2f} MiB, resident peak +{grew / 2**20:5.2f} "
              f"MiB, ru_maxrss +{maxrss:.2f} MiB, {size / 2**20:5.1f} MiB sent")  # fmt: skip
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in all")
    parser.add_argument("--keep", action="store_true", help="keep the database (test_...)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    if args.measure:  # the child: DATABASE_URL names the database the parent filled
        measure(args.events)
        return
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection

    import engine
    from server.flows.definitions.services import process_deploy

    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{connection.vendor}")  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
            process_deploy(source=source)
        auditor = User.objects.create_user("bench_auditor", password="x")
        auditor.groups.add(Group.objects.get_or_create(name="auditor")[0])
        # Three start days: a tenth of the cases, four tenths, the other half.
        cases = args.events // EVENTS_PER_CASE
        t0 = time.perf_counter()
        for share, day in ((0.1, 5), (0.4, 12), (0.5, 19)):
            populate(cases=int(cases * share), events_per_case=EVENTS_PER_CASE, user=auditor,
                     start=datetime(2026, 1, day, 2, tzinfo=UTC))  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"{args.events:,} events in {cases:,} cases written in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        child = urlsplit(url)._replace(path=f"/{quote(connection.settings_dict['NAME'])}")
        done = subprocess.run(
            [sys.executable, __file__, "--measure", "--events", str(args.events)],
            env={**os.environ, "DATABASE_URL": child.geturl()}, check=False,
        )  # fmt: skip
        if done.returncode:
            sys.exit(done.returncode)
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
