"""The seven KPIs over a year of a busy site: 200,000 finished cases, on PostgreSQL.

A throw-away copy of the configured database (DATABASE_URL) gets the five processes, a site
with 2,000 units, 30 staff and ``--cases`` finished cases spread over 2026 the way a busy
centre's year looks: 55% repairs, 25% complaints, 8% renovations, 6% move-ins and 6%
move-outs, each with its human tasks (limits, completions, who did them) and its audit
events (about ten per case: the step's events, the screen's ``valid``, the return visit's
satisfaction, escalations), written straight in bulk by COPY (so PostgreSQL only). A few in a
hundred are late by minutes, reworked, escalated, invalid or unsatisfied, so every KPI
has both sides.

The roll-up (one row per measured item, server/reports/models.py) is built whole and then
refreshed with nothing moved and with 100 cases moved. Then ``server.reports.kpis.kpis``
is asked for the whole year, one month and one week, and
``GET /api/kpis/`` for the year through Django's whole stack: each ``--runs`` times, the
median and best printed with the queries it took. The events are not sealed into their
hash chains: the KPIs read neither ``prev`` nor ``hash``, and sealing two million rows only
lengthens the writing.

Run: DATABASE_URL=postgres://... .venv/bin/python bench/kpis.py [--cases 200000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

BATCH = 5_000
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
MIX = (("repair", 0.55), ("complaint", 0.25), ("renovation", 0.08), ("move_in", 0.06),
       ("move_out", 0.06))  # fmt: skip
# The human steps each process's finished case went through (BPMN ids), with their limits.
STEPS = {
    "repair": (("dispatch", 1), ("arrive", 4), ("repair_work", 48), ("return_visit", 24)),
    "complaint": (("screen", 2), ("handle_frontdesk", 8), ("reply", 4), ("return_visit", 24)),
    "renovation": (("review", 72), ("fees", 24), ("permit", 24), ("inspection", 168),
                   ("refund", 168)),
    "move_in": (("register", 4), ("fees", 24), ("inspection", 48), ("handover", 24),
                ("return_visit", 168)),
    "move_out": (("settle", 24), ("inspect", 48), ("keys_back", 8), ("goods_pass", 8),
                 ("archive", 24)),
}  # fmt: skip
TRADES = ("water_electric", "building", "smart", "lift", "other")
CATEGORIES = ("attitude", "building", "security", "cleaning", "other")
VISITS = ("very_satisfied",) * 3 + ("satisfied",) * 15 + ("neutral", "unsatisfied")


def _copy(model, rows: list[dict]) -> None:
    """``rows`` into ``model``'s table by PostgreSQL's COPY: two million rows in a minute
    where the ORM's bulk insert takes a quarter of an hour on this machine."""
    import io
    import json

    from django.db import connection

    fields = model._meta.concrete_fields
    defaults = {f.attname: (f.get_default() if f.has_default() else None if f.null else "")
                for f in fields}  # fmt: skip

    def text(value) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bytes):
            return "\\\\x" + value.hex()
        return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(text(row.get(f.attname, defaults[f.attname])) for f in fields))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(f.column for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {model._meta.db_table} ({columns}) FROM STDIN", buffer)


def populate(*, cases: int, staff: list, seed: int = 16) -> dict[str, int]:
    """``cases`` finished cases over 2026 with their tasks and events; returns row counts."""
    from django.db import connection

    from server.flows.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance

    rng = random.Random(seed)
    definitions = {
        key: ProcessDefinition.objects.filter(key=key).order_by("-version").first().pk
        for key, _ in MIX
    }
    state = zlib.compress(b"{}", 1)
    keys = [key for key, share in MIX for _ in range(int(share * 100))]
    counts = {"cases": 0, "tasks": 0, "events": 0}
    next_case = (ProcessInstance.objects.order_by("-pk").values_list("pk", flat=True).first()
                 or 0) + 1  # fmt: skip
    next_event = (AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
                  or 0) + 1  # fmt: skip
    for first in range(0, cases, BATCH):
        instances, tasks, events = [], [], []
        for _ in range(min(BATCH, cases - first)):
            key = rng.choice(keys)
            case, next_case = next_case, next_case + 1
            at = started = YEAR + timedelta(minutes=rng.randrange(0, 335 * 24 * 60))
            summary = {"unit": f"{rng.randrange(1, 21)}-1-{rng.randrange(101, 2101):04d}"}
            if key == "repair":
                summary |= {
                    "trade": rng.choice(TRADES),
                    "urgency": "urgent" if rng.random() < 0.2 else "ordinary",
                }
            elif key == "complaint":
                summary |= {"category": rng.choice(CATEGORIES)}
            seq = 0

            def event(kind, when, task=None, data=None, actor=None, events=events, case=case):
                nonlocal seq, next_event
                seq += 1
                events.append({"id": next_event, "instance_id": case, "seq": seq, "kind": kind,
                               "at": when, "actor_id": actor or staff[0], "task_id": task,
                               "data": data or {}})  # fmt: skip
                next_event += 1

            event("instance_started", at)
            steps = list(STEPS[key])
            if key == "repair" and rng.random() < 0.05:  # reworked: 返修
                steps[2:2] = [("repair_work", 48), ("return_visit", 24)]
            valid = rng.random() < 0.9
            if key == "complaint" and not valid:
                steps = [("screen", 2)]
            for bpmn_id, hours in steps:
                due = at + timedelta(hours=hours)
                took = timedelta(minutes=rng.randrange(5, hours * 60))
                if rng.random() < 0.03:  # late, by a minute or by hours
                    took = timedelta(hours=hours, minutes=rng.choice((1, 30, 600)))
                done = at + took
                who = rng.choice(staff)
                task = uuid.uuid4()
                tasks.append({"id": task, "instance_id": case, "process_key": key,
                              "bpmn_id": bpmn_id, "name": bpmn_id, "status": "completed",
                              "due_at": due, "created_at": at, "completed_at": done,
                              "completed_by_id": who, "assignee_id": who})  # fmt: skip
                event("task_created", at, task)
                data = {}
                if bpmn_id == "screen":
                    data = {"valid": valid}
                elif bpmn_id == "return_visit":
                    data = {"satisfaction": rng.choice(VISITS)}
                event("task_completed", done, task, {"data": data}, who)
                if rng.random() < 0.02:
                    event("escalated", done, data={"level": rng.choice((2, 2, 3))})
                at = done
            event("instance_completed", at)
            instances.append({"id": case, "definition_id": definitions[key], "process_key": key,
                              "business_key": summary["unit"], "status": "completed",
                              "state": state, "serializer_version": "bench",
                              "started_by_id": staff[0], "started_at": started,
                              "updated_at": at, "completed_at": at, "event_seq": seq,
                              "summary": summary, "audit_salt": uuid.uuid4().hex})  # fmt: skip
        _copy(ProcessInstance, instances)
        _copy(HumanTask, tasks)
        _copy(AuditEvent, events)
        counts["cases"] += len(instances)
        counts["tasks"] += len(tasks)
        counts["events"] += len(events)
    with connection.cursor() as cursor:  # the sequences past the ids given
        for model in (ProcessInstance, AuditEvent):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")  # fmt: skip
    return counts


def timed(label: str, call, runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - t0)
    print(f"{label:<34} median {statistics.median(seconds) * 1000:8.1f} ms, best "
          f"{min(seconds) * 1000:8.1f} ms, {len(queries)} queries")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (test_...)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.db.models import F
    from django.test import Client
    from django.utils import timezone

    import engine
    from server.flows.definitions.services import process_deploy
    from server.flows.models import AuditEvent, ProcessInstance
    from server.reports import kpis, rollup
    from server.reports.models import KpiFact

    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{connection.vendor}")  # fmt: skip
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
            process_deploy(source=source)
        staff = [User.objects.create_user(f"bench_{i}", password="x").pk for i in range(30)]
        manager = User.objects.create_user("bench_manager", password="x")
        manager.groups.add(Group.objects.get_or_create(name="property_manager")[0])
        t0 = time.perf_counter()
        counts = populate(cases=args.cases, staff=staff)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a day's writes
        print(f"{counts['cases']:,} cases, {counts['tasks']:,} tasks, {counts['events']:,} "
              f"events written in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        t0 = time.perf_counter()
        rollup.refresh(full=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reports_kpifact")
            cursor.execute("VACUUM ANALYZE reports_kpihandler")
        print(f"roll-up built whole in {time.perf_counter() - t0:.0f} s "
              f"({KpiFact.objects.count():,} items)")  # fmt: skip
        timed("rollup.refresh(), nothing moved", rollup.refresh, args.runs)
        moved = list(ProcessInstance.objects.order_by("-pk")[:100])

        def touch():  # 100 cases each write an event, as 100 steps would
            now = timezone.now()
            AuditEvent.objects.bulk_create(
                AuditEvent(instance_id=case.pk, seq=case.event_seq + 1, kind="bench", at=now)
                for case in moved
            )  # fmt: skip
            ProcessInstance.objects.filter(pk__in=[c.pk for c in moved]).update(
                event_seq=F("event_seq") + 1
            )
            for case in moved:
                case.event_seq += 1
            rollup.refresh()

        timed("rollup.refresh(), 100 cases moved", touch, args.runs)
        year, month, week = (
            (YEAR, YEAR.replace(year=2027)),
            (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
            (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC)),
        )
        for label, (start, end) in (("kpis(), the year", year), ("kpis(), June", month),
                                    ("kpis(), one week", week)):  # fmt: skip
            timed(label, lambda s=start, e=end: kpis.kpis(s, e), args.runs)
        timed("report() (dashboard), the year", lambda: kpis.report(*year), args.runs)
        timed("report() (dashboard), June", lambda: kpis.report(*month), args.runs)
        answer = kpis.kpis(*year)
        for name, kpi in answer.items():
            value = "-" if kpi["value"] is None else f"{kpi['value']:.4f}"
            print(f"  {name:<28} {kpi['numerator']:>8,} / {kpi['denominator']:>8,} = {value}")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client(HTTP_ACCEPT_LANGUAGE="en", secure=not settings.DEBUG)
        client.force_login(manager)
        url = f"/api/kpis/?from={date(2026, 1, 1)}&to={date(2026, 12, 31)}"
        if client.get(url).status_code == 200:
            timed("GET /api/kpis/, the year", lambda: client.get(url), args.runs)
        else:
            print(f"GET {url}: {client.get(url).status_code} (no API yet)")
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
