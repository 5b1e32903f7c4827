"""Staff working at once through the REST API, against gunicorn on PostgreSQL; then checks.

A throw-away database (``propflow_load_<random>`` on the server of DATABASE_URL, never the
database DATABASE_URL names) gets the migrations, the five processes, 160 units and
--staff users with the roles of a service centre, several per role so that they compete
for the same tasks. gunicorn serves it with the production settings (gunicorn.conf.py,
PROPFLOW_DEBUG=0, a generated secret key, plain HTTP) while the staff, in processes of
their own (bench/load_staff.py), work for --duration seconds. Then it prints requests/s
and latency percentiles by kind, errors by status, 409 conflicts apart (two people
claiming one task: expected), the CPU the staff, the server and the rest of the machine
used, and the integrity checks of bench/load_checks.py on what the run left.

Exits 1 when a request failed other than by a conflict (a 5xx, an unexpected 400, ...),
when the staff made form data their own check refused, or when a check found a fault.
Run: make bench-load (or .venv/bin/python bench/load.py --staff 50 --duration 180).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import runpy
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load_report  # noqa: E402 - needs the path above

# The first 11 staff are one of each role, then the big roles again: at 50, frontdesk 10,
# technician 8, engineering 6, dispatcher 5, finance 5, relations 4, security 4,
# cs_supervisor 3, property_manager 2, vice_gm 2, auditor 1.
ROLE_MIX = (
    ("frontdesk", 10), ("technician", 8), ("engineering", 6), ("dispatcher", 5),
    ("finance", 5), ("relations", 4), ("security", 4), ("cs_supervisor", 3),
    ("property_manager", 2), ("vice_gm", 2), ("auditor", 1),
)  # fmt: skip
PASSWORD = "propflow-load"


def roster(staff: int) -> list[str]:
    order = [role for rank in range(10) for role, weight in ROLE_MIX if weight > rank]
    return [order[i % len(order)] for i in range(staff)]


def throwaway_url(args) -> tuple[dict, str, str]:
    """(the configured database's settings, the throw-away name, its URL)."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name "
            "(SQLite takes one writer at a time, so a load test on it measures nothing real)."
        )
    configured = dj_database_url.parse(url)
    name = args.database or f"propflow_load_{secrets.token_hex(4)}"
    if name == configured["NAME"]:
        sys.exit(f"Refusing to use {name!r}, the database DATABASE_URL names: choose another.")
    return configured, name, urlsplit(url)._replace(path=f"/{name}").geturl()


def admin(configured: dict, sql: str, name: str) -> None:
    """Run CREATE or DROP DATABASE from the server's maintenance database."""
    import psycopg2
    from psycopg2 import sql as q

    login = {k: configured[v] for k, v in
             (("user", "USER"), ("password", "PASSWORD"), ("host", "HOST"), ("port", "PORT"))
             if configured.get(v)}  # fmt: skip
    try:
        conn = psycopg2.connect(dbname="postgres", **login)
    except psycopg2.OperationalError:
        conn = psycopg2.connect(dbname=configured["NAME"], **login)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(q.SQL(sql).format(q.Identifier(name)))
    finally:
        conn.close()


def production_env(url: str, tmp: Path) -> dict[str, str]:
    """The environment of the server (and of this process's Django): production settings."""
    return dict(
        DATABASE_URL=url, PROPFLOW_DEBUG="0", PROPFLOW_SECRET_KEY=secrets.token_urlsafe(50),
        PROPFLOW_ALLOWED_HOSTS="127.0.0.1,localhost", PROPFLOW_VAR_DIR=str(tmp),
        # Plain HTTP on the loopback: the production HTTPS defaults turned off by name.
        PROPFLOW_SSL_REDIRECT="0", PROPFLOW_HSTS_SECONDS="0", PROPFLOW_SECURE_COOKIES="0",
        PROPFLOW_EMAIL_BACKEND="file", PROPFLOW_EMAIL_FILE_PATH=str(tmp / "mail"),
        DJANGO_SETTINGS_MODULE="server.settings",
    )  # fmt: skip


def populate(staff: int, seed: int) -> dict:
    """Migrate, deploy the processes, make the units and the staff; returns the plan."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    import engine
    from server.estate.models import Building, Site, Unit
    from server.flows.definitions.services import process_deploy

    call_command("migrate", verbosity=0)
    for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
        process_deploy(source=source)
    site = Site.objects.create(name="压测花园")
    codes = []
    for b in (1, 2):
        building = Building.objects.create(site=site, name=f"{b}栋")
        for floor in range(1, 21):
            for room in range(1, 5):
                code = f"{b}-{floor}0{room}"
                status = ("handed_over", "occupied", "not_handed_over")[(floor + room) % 3]
                Unit.objects.create(code=code, building=building, floor=floor, area_m2=90,
                                    status=status)  # fmt: skip
                codes.append(code)
    hashed = make_password(PASSWORD)  # one hash for all: hashing each would take minutes
    specs, holders = [], {}
    for i, role in enumerate(roster(staff)):
        user = User.objects.create(username=f"{role}{i:02d}", password=hashed)
        user.groups.add(Group.objects.get(name=role))
        holders.setdefault(role, []).append(user.pk)
        specs.append({"username": user.username, "password": PASSWORD, "roles": [role],
                      "seed": seed * 1000 + i})  # fmt: skip
    return {"staff": specs, "units": codes, "holders": holders}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, args) -> tuple[subprocess.Popen, int]:
    """gunicorn on a free port of the loopback, with this process's (production) environment."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen([*command, "server.wsgi"], cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start:\n{(tmp / 'gunicorn.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=5)
        except urllib.error.HTTPError:
            return server, port  # it answers (401 without a token): it is up
        except OSError:
            time.sleep(0.3)
            continue
        return server, port
    sys.exit("gunicorn did not answer within 60 s")


def run_staff(plan: dict, args, tmp: Path) -> list[dict]:
    """The staff in --client-procs processes; returns what each process recorded."""
    procs = []
    for n in range(args.client_procs):
        part = {**plan, "staff": plan["staff"][n :: args.client_procs]}
        (tmp / f"plan{n}.json").write_text(json.dumps(part))
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load_staff.py"), str(tmp / f"plan{n}.json"),
             str(tmp / f"staff{n}.json")], cwd=ROOT,
        ))  # fmt: skip
    for proc in procs:
        if proc.wait() != 0:
            sys.exit("a staff process failed (see above)")
    return [json.loads((tmp / f"staff{n}.json").read_text()) for n in range(args.client_procs)]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=50, help="simulated members of staff")
    parser.add_argument("--duration", type=float, default=180, help="seconds of work")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a person pauses between actions"
    )
    parser.add_argument(
        "--ramp", type=float, default=20, help="seconds over which staff arrive (at most 1/4)"
    )
    parser.add_argument("--client-procs", type=int, default=2, help="processes for the staff")
    parser.add_argument("--workers", type=int, help="gunicorn workers (gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="threads per worker (gunicorn.conf.py)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="the throw-away database's name (default random)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def measure(plan: dict, args, tmp: Path, server: subprocess.Popen, name: str):
    """Run the staff; returns their records and the CPU seconds of each party."""
    machine0 = load_report.machine_cpu()
    sampler = load_report.Sampler(server.pid, name)
    sampler.start()
    records = run_staff(plan, args, tmp)
    used = sampler.stop()
    cpu = {
        "machine": load_report.machine_cpu() - machine0,
        "server": used["server"],
        "database": used["database"],
        "staff": sum(r["cpu"] for r in records),
        "wall": max(r["wall"] for r in records),
    }
    return records, cpu


def prepare(args, name: str) -> dict:
    """Django on the throw-away database, populated; returns the staff's plan."""
    import django

    django.setup()
    from django.db import connection

    t0 = time.perf_counter()
    plan = populate(args.staff, args.seed)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    connection.close()  # the server's sessions only, during the run
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {pg}; database {name} ready in {time.perf_counter() - t0:.0f} s"
    )
    return plan


def run_and_report(args, plan: dict, tmp: Path, name: str) -> tuple[int, int]:
    """Serve, let the staff work, print the figures and checks; returns (failed, faults)."""
    server, port = start_server(tmp, args)
    try:
        gunicorn = server_config(args)
        plan.update(
            host="127.0.0.1", port=port, duration=args.duration, think=args.think,
            ramp=min(args.ramp, args.duration / 4), keepalive=gunicorn["keepalive"],
        )  # fmt: skip
        print(load_report.header(args, Counter(roster(args.staff)), gunicorn), flush=True)
        records, cpu = measure(plan, args, tmp, server, name)
    finally:
        load_report.stop(server)
    failed = load_report.requests(records, cpu["wall"])
    print(load_report.cpu_line(cpu))
    print(load_report.server_errors((tmp / "gunicorn.log").read_text(errors="replace")))
    print("integrity checks on the database after the run:")
    from bench import load_checks

    faults = load_checks.run()
    print(f"integrity faults {faults}; failed requests {failed}")
    return failed, faults


def main():
    args = parse_args()
    configured, name, url = throwaway_url(args)
    tmp = Path(tempfile.mkdtemp(prefix="propflow-load-"))
    os.environ.update(production_env(url, tmp))  # this process's Django is the server's
    os.environ.pop("CELERY_BROKER_URL", None)  # no broker: nothing sweeps timers here
    admin(configured, "CREATE DATABASE {}", name)
    try:
        plan = prepare(args, name)
        failed, faults = run_and_report(args, plan, tmp, name)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.keep:
            print(f"kept database {name}")
        else:
            admin(configured, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
            print(f"database {name} dropped")
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if faults or failed else 0)


def server_config(args) -> dict:
    """The settings gunicorn runs with: gunicorn.conf.py's, as overridden by the flags."""
    found = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = {k: found[k] for k in ("worker_class", "workers", "threads", "keepalive")}
    config["workers"] = args.workers or config["workers"]
    config["threads"] = args.threads or config["threads"]
    return config


if __name__ == "__main__":
    main()
