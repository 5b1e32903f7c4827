"""Task completions per second through the REST API: gunicorn on PostgreSQL, N clients.

A throw-away database (``propflow_load_<random>``, as bench/load.py makes it) gets the
10-task linear process of bench/step.py and --cases cases, each waiting at its first task
(a form-less step, so the figure is the API's and the write path's, not a form's). --clients
users of its role, each with a token, are given their share of the tasks and complete
them back to back (``POST /api/tasks/{id}/complete/``, no pause) over one keep-alive
connection each, in --client-procs processes of their own, until their share is done or
--duration runs out. It prints completions per second, latency percentiles, statuses, and
the CPU each party used; then checks that every completed task is recorded once.

``--profile N`` instead completes N tasks in this process through Django's whole stack
(middleware, token authentication, the view, the service, the answer) under cProfile, and
prints where a request's time goes.

Run: make bench-completions (or .venv/bin/python bench/completions.py --clients 32).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, load_report  # noqa: E402 - needs the path above


def populate(clients: int, cases: int) -> dict:
    """Migrate, deploy the linear process, start ``cases`` cases; the clients and their tasks."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from bench.step import source
    from server.flows.cases import services
    from server.flows.definitions.services import process_deploy
    from server.flows.models import HumanTask

    call_command("migrate", verbosity=0)
    process_deploy(source=source())
    group = Group.objects.get(name="frontdesk")
    users = []
    for i in range(clients):
        user = User.objects.create(username=f"desk{i:02d}")
        user.groups.add(group)
        users.append(user)
    for i in range(cases):
        services.instance_start(process_key="bench_linear", started_by=users[i % clients], data={})
    tasks = [str(pk) for pk in HumanTask.objects.filter(status="open").values_list("pk", flat=True)]
    return {
        "clients": [
            {"token": Token.objects.create(user=u).key, "tasks": tasks[i::clients]}
            for i, u in enumerate(users)
        ]
    }


def client(plan_path: str, out_path: str) -> None:
    """One client process: a thread per user, each completing its tasks back to back."""
    import resource
    import threading

    plan = json.loads(Path(plan_path).read_text())
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + plan["duration"]

    def work(spec):
        conn = http.client.HTTPConnection(plan["host"], plan["port"], timeout=60)
        headers = {"Authorization": f"Token {spec['token']}", "Content-Type": "application/json",
                   "Accept-Language": "en"}  # fmt: skip
        mine = []
        for task in spec["tasks"]:
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            conn.request("POST", f"/api/tasks/{task}/complete/", b'{"data": {}}', headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - t0, response.status))
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        with lock:
            results.extend(mine)

    t0 = time.monotonic()
    threads = [threading.Thread(target=work, args=(spec,)) for spec in plan["clients"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    Path(out_path).write_text(json.dumps({
        "results": results, "wall": time.monotonic() - t0,
        "cpu": usage.ru_utime + usage.ru_stime,
    }))  # fmt: skip


def run_clients(plan: dict, args, tmp: Path) -> list[dict]:
    procs = []
    for n in range(args.client_procs):
        part = {**plan, "clients": plan["clients"][n :: args.client_procs]}
        (tmp / f"plan{n}.json").write_text(json.dumps(part))
        procs.append(subprocess.Popen([
            sys.executable, __file__, "--client", str(tmp / f"plan{n}.json"),
            str(tmp / f"out{n}.json"),
        ], cwd=ROOT))  # fmt: skip
    for proc in procs:
        if proc.wait() != 0:
            sys.exit("a client process failed (see above)")
    return [json.loads((tmp / f"out{n}.json").read_text()) for n in range(args.client_procs)]


def report(outs: list[dict], cpu: dict) -> int:
    results = [r for out in outs for r in out["results"]]
    wall = max(out["wall"] for out in outs)
    statuses = Counter(status for _, status in results)
    done = statuses.get(200, 0)
    seconds = sorted(s for s, _ in results)
    print(f"completions {done} in {wall:.1f} s: **{done / wall:.1f}/s**")
    print(
        f"latency p50 {statistics.median(seconds) * 1000:.1f} ms, "
        f"p95 {load_report.pct(seconds, 0.95):.1f} ms, p99 {load_report.pct(seconds, 0.99):.1f} "
        f"ms; statuses {dict(sorted(statuses.items()))}"
    )
    cpu["staff"] = sum(out["cpu"] for out in outs)
    cpu["wall"] = wall
    print(load_report.cpu_line(cpu))
    if done:
        print(f"server CPU per completion: {cpu['server'] / done * 1000:.2f} ms")
    return len(results) - done


def recorded_once() -> int:
    """Completed tasks without exactly one completion event (0 when all is well)."""
    from django.db.models import Count, Q

    from server.flows.models import HumanTask

    bad = (
        HumanTask.objects.filter(status="completed")
        .annotate(n=Count("events", filter=Q(events__kind="task_completed")))
        .exclude(n=1)
    )  # fmt: skip
    return bad.count()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--cases", type=int, default=12_000, help="tasks to complete (one a case)")
    parser.add_argument("--duration", type=float, default=60, help="at most this many seconds")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--workers", type=int, help="gunicorn workers (gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="threads per worker (gunicorn.conf.py)")
    parser.add_argument("--profile", type=int, metavar="N", help="profile N completions")
    parser.add_argument("--database", help="the throw-away database's name")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def serve_and_measure(args, plan: dict, tmp: Path, name: str) -> int:
    server, port = load.start_server(tmp, args)
    try:
        config = load.server_config(args)
        print(
            f"{args.clients} clients in {args.client_procs} processes against gunicorn "
            f"{config['worker_class']}, {config['workers']} workers x {config['threads']} threads"
        )
        plan.update(host="127.0.0.1", port=port, duration=args.duration)
        machine0 = load_report.machine_cpu()
        sampler = load_report.Sampler(server.pid, name)
        sampler.start()
        outs = run_clients(plan, args, tmp)
        used = sampler.stop()
    finally:
        load_report.stop(server)
    cpu = {"machine": load_report.machine_cpu() - machine0, **used}
    failed = report(outs, cpu)
    print(load_report.server_errors((tmp / "gunicorn.log").read_text(errors="replace")))
    twice = recorded_once()
    print(f"completed tasks not recorded exactly once: {twice}")
    return failed + twice


def profile(n: int, plan: dict) -> None:
    """``n`` completions through Django's stack in this process, under cProfile."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    connection.close()
    spec = plan["clients"][0]
    tasks = [t for c in plan["clients"] for t in c["tasks"]][: n + 20]
    client = Client(HTTP_AUTHORIZATION=f"Token {spec['token']}", HTTP_ACCEPT_LANGUAGE="en",
                    HTTP_HOST="127.0.0.1")  # fmt: skip
    owner = {t: c["token"] for c in plan["clients"] for t in c["tasks"]}

    def complete(task):
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {owner[task]}"
        response = client.post(f"/api/tasks/{task}/complete/", {"data": {}},
                               content_type="application/json")  # fmt: skip
        assert response.status_code == 200, response.content

    for task in tasks[:20]:  # warm: caches, connections
        complete(task)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for task in tasks[20:]:
        complete(task)
    profiler.disable()
    wall = time.perf_counter() - t0
    print(f"{n} completions in-process: {wall / n * 1000:.2f} ms each (under cProfile)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main():
    if sys.argv[1:2] == ["--client"]:
        return client(sys.argv[2], sys.argv[3])
    args = parse_args()
    configured, name, url = load.throwaway_url(args)
    tmp = Path(tempfile.mkdtemp(prefix="propflow-completions-"))
    os.environ.update(load.production_env(url, tmp))
    os.environ.pop("CELERY_BROKER_URL", None)
    load.admin(configured, "CREATE DATABASE {}", name)
    failed = 0
    try:
        import django

        django.setup()
        t0 = time.perf_counter()
        plan = populate(args.clients, args.profile + 20 if args.profile else args.cases)
        print(f"{args.cases if not args.profile else args.profile} cases ready in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        from django.db import connections

        connections.close_all()
        if args.profile:
            profile(args.profile, plan)
        else:
            failed = serve_and_measure(args, plan, tmp, name)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            load.admin(configured, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
