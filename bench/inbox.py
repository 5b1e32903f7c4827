"""The inbox of one user with 200 open tasks among 100,000 (and as many done), server time.

A throw-away copy of the configured database (DATABASE_URL; PostgreSQL is the point) gets
the five processes, 5,000 units with their owners, and task rows written straight in bulk
(the inbox reads rows only, never a workflow): 100,000 open tasks over every role, of which
the benchmark user (a technician) has 150 unclaimed of their role and 50 claimed, plus
100,000 completed ones. Then each page is asked for through Django's whole stack (session,
middleware, query, template) in this process, and timed from request to rendered response.

Run: make bench-inbox (or .venv/bin/python bench/inbox.py --open 100000).
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
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

MINE_UNCLAIMED, MINE_CLAIMED = 150, 50


def populate(open_tasks: int, done_tasks: int, units: int) -> dict:
    from django.conf import settings
    from django.contrib.auth.models import Group, User

    import engine
    from server.estate.models import Resident
    from server.flows.definitions.services import process_deploy

    for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
        process_deploy(source=source)
    me = User.objects.create_user("bench_technician", password="x")
    me.groups.add(Group.objects.get_or_create(name="technician")[0])
    others = [User.objects.create_user(f"staff{i}", password="x") for i in range(20)]
    codes = _estate(units)
    rng = random.Random(5)
    instances = _cases((open_tasks + done_tasks) // 4, codes, me, rng)  # four tasks a case
    _tasks(open_tasks, done_tasks, instances, me, others, rng)
    return {"user": me, "owner": Resident.objects.filter(unit__code=codes[7]).first().name}


BATCH = 5_000  # rows per bulk insert


def _estate(units: int) -> list[str]:
    """``units`` units, each with an owner; returns their codes."""
    from server.estate.models import Building, Resident, Site, Unit

    building = Building.objects.create(site=Site.objects.create(name="基准花园"), name="1栋")
    Unit.objects.bulk_create(
        Unit(building=building, code=f"{i // 100 + 1}-{i % 100 + 101}", floor=1, area_m2=90)
        for i in range(units)
    )
    codes = list(Unit.objects.values_list("code", flat=True))
    unit_ids = dict(Unit.objects.values_list("code", "pk"))
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    Resident.objects.bulk_create(
        Resident(unit_id=unit_ids[code], name=f"{surnames[i % 20]}业主{i}", phone="13800000000")
        for i, code in enumerate(codes)
    )
    return codes


def _cases(cases: int, codes: list[str], me, rng) -> list[tuple[int, str]]:
    """``cases`` running cases of the deployed processes; returns their (id, process key)."""
    from engine import clock
    from server.flows.models import ProcessDefinition, ProcessInstance

    definitions = list(ProcessDefinition.objects.all())
    now, state = clock.now(), zlib.compress(b"{}", 1)
    for start in range(0, cases, BATCH):
        ProcessInstance.objects.bulk_create(
            ProcessInstance(
                definition=(d := rng.choice(definitions)), process_key=d.key,
                business_key=rng.choice(codes), status="running", state=state,
                serializer_version="bench", started_by=me, started_at=now, updated_at=now,
                escalation_level=rng.choice((0, 0, 0, 2, 3)),
            )
            for _ in range(min(BATCH, cases - start))
        )  # fmt: skip
    return list(ProcessInstance.objects.values_list("pk", "process_key"))


def _tasks(open_tasks: int, done_tasks: int, instances, me, others, rng) -> None:
    """Four tasks a case: mine (claimed or to claim), other technicians', other roles', done."""
    from engine import clock
    from engine.roles import ROLES
    from server.flows.models import HumanTask

    now = clock.now()
    other_roles = [r.key for r in ROLES if r.key not in ("technician", "auditor")]

    def task(i: int, *, role: str, status: str, assignee=None):
        pk, key = instances[i // 4]
        due = now + timedelta(minutes=rng.randint(-3 * 24 * 60, 7 * 24 * 60))
        return HumanTask(
            id=uuid.uuid4(), instance_id=pk, process_key=key, bpmn_id=f"task_{i % 4}",
            name="处理任务", name_en="Handle", role=role, status=status, assignee=assignee,
            due_at=due if rng.random() < 0.9 else None, created_at=now,
            completed_at=now if status == "completed" else None,
            completed_by=assignee if status == "completed" else None,
        )  # fmt: skip

    mine = set(rng.sample(range(open_tasks), MINE_UNCLAIMED + MINE_CLAIMED))
    mine_claimed = set(list(mine)[:MINE_CLAIMED])
    rows = []
    for i in range(open_tasks + done_tasks):
        if i >= open_tasks:
            row = task(i, role=rng.choice(other_roles), status="completed",
                       assignee=rng.choice(others))  # fmt: skip
        elif i in mine_claimed:
            row = task(i, role="technician", status="open", assignee=me)
        elif i in mine:
            row = task(i, role="technician", status="open")
        elif rng.random() < 0.05:  # other technicians' claimed tasks: not in my inbox
            row = task(i, role="technician", status="open", assignee=rng.choice(others))
        else:
            row = task(i, role=rng.choice(other_roles), status="open",
                       assignee=rng.choice([None, None, *others]))  # fmt: skip
        rows.append(row)
        if len(rows) == BATCH:
            HumanTask.objects.bulk_create(rows)
            rows = []
    HumanTask.objects.bulk_create(rows)


def timed(client, url: str, runs: int) -> tuple[list[float], int, int]:
    from django.db import connection

    for _ in range(3):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    captured = []
    with connection.execute_wrapper(
        lambda execute, sql, *a: captured.append(sql) or execute(sql, *a)
    ):
        client.get(url)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
    return times, len(captured), len(response.content)


def show_queries(client, url: str) -> None:
    from django.db import connection

    def timing(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            print(f"  {(time.perf_counter() - t0) * 1000:6.2f} ms  {sql[:150]}")

    client.get(url)
    with connection.execute_wrapper(timing):
        client.get(url)


def https_client():
    """Django's test client, asking over HTTPS and for its own host name as a production
    site is asked: with PROPFLOW_DEBUG=0 a plain-HTTP request only answers a redirect."""
    from django.conf import settings
    from django.test import Client

    class HttpsClient(Client):
        def generic(self, *args, **kwargs):
            return super().generic(*args, **{**kwargs, "secure": True})

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return HttpsClient(HTTP_ACCEPT_LANGUAGE="zh-hans")


def measure(made: dict, args) -> None:
    client = https_client()
    client.force_login(made["user"])
    pages = [
        ("inbox, first page", "/"),
        ("inbox, page 4", "/?page=4"),
        ("inbox, overdue only", "/?overdue=1"),
        ("inbox, search by owner", f"/?q={made['owner']}"),
        ("inbox, search by unit", "/?q=3-1"),
        ("API task list", "/api/tasks/"),
    ]
    if args.queries:
        show_queries(client, "/")
    for label, url in pages:
        times, queries, size = timed(client, url, args.runs)
        times.sort()
        print(
            f"{label:24} median {statistics.median(times) * 1000:6.1f} ms, "
            f"p95 {times[int(len(times) * 0.95) - 1] * 1000:6.1f} ms, "
            f"{queries} queries, {size // 1024} KiB"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open tasks in all")
    parser.add_argument("--done", type=int, default=100_000, help="completed tasks")
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=50, help="requests per page")
    parser.add_argument("--queries", action="store_true", help="time each query of the inbox")
    parser.add_argument("--keep", action="store_true", help="keep the database (test_...)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)  # as production serves them

    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{connection.vendor}")  # fmt: skip
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        t0 = time.perf_counter()
        made = populate(args.open, args.done, args.units)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"{args.open:,} open tasks ({MINE_UNCLAIMED + MINE_CLAIMED} the user's: "
              f"{MINE_UNCLAIMED} to claim, {MINE_CLAIMED} claimed), {args.done:,} done, "
              f"{args.units:,} units; written in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        measure(made, args)
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
