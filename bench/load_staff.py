"""The simulated staff of bench/load.py: a thread each, in processes of their own.

bench/load.py starts this as ``load_staff.py PLAN.json RESULT.json`` so that the staff's
CPU is counted apart from the server's. Each member of staff signs in with their password
(a token), then for the time given works the way the REST API's users do, over one
keep-alive connection: read the inbox, open a task, claim it, complete it with valid data
made from the task's own JSON Schema (bench/formdata.py); those who may start cases start
them with the start form the API serves; supervisors now and then hand a claimed task to
another holder of its role; the auditor reads cases; anyone now and then signs in again.
"""

from __future__ import annotations

import http.client
import json
import random
import resource
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.formdata import Filler  # noqa: E402 - needs the path above

LOGIN_CHANCE = 0.005  # of each turn: signing in again (another device, a new shift)
START_CHANCE = 0.3  # of a starter's turns: a new case (a call, a visitor at the desk)
ASSIGN_CHANCE = 0.25  # of a supervisor's turns: giving a claimed task to someone else
UNCLAIM_CHANCE = 0.05  # of the tasks claimed: handed back instead of done
PICK_FROM = 5  # people take one of the first few tasks of the inbox: overdue first
SAMPLES = 5  # bodies kept per (kind, status) that is neither a success nor a conflict


class Record:
    """What one member of staff saw: latencies and statuses by kind of request."""

    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.samples: dict[str, list[str]] = defaultdict(list)

    def fault(self, kind: str, label: str, detail) -> None:
        """A fault of the bench itself, with no request: form data its own check refused
        (never sent), or an answer it could not read."""
        self.status[f"{kind} {label}"] += 1
        found = self.samples[f"{kind} {label}"]
        if len(found) < SAMPLES:
            found.append(json.dumps(detail, ensure_ascii=False)[:400])

    def add(self, kind: str, status: str, seconds: float, body: str = "") -> None:
        self.latency[kind].append(seconds)
        self.status[f"{kind} {status}"] += 1
        if not status.startswith("2") and status != "409":
            found = self.samples[f"{kind} {status}"]
            if len(found) < SAMPLES:
                found.append(body[:400])


class Connection:
    """One keep-alive HTTP connection, opened again when the server has closed it."""

    def __init__(self, host: str, port: int, keepalive: float):
        self.host, self.port, self.keepalive = host, port, keepalive
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0

    def send(self, method: str, path: str, body: bytes | None, headers: dict):
        # The server drops a connection idle for its keep-alive time; reusing one it is
        # closing would fail a request the server never saw, so open a new one first.
        if self.conn is None or time.monotonic() - self.used > self.keepalive - 0.5:
            self.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self.used = time.monotonic()
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Staff:
    def __init__(self, spec: dict, plan: dict, record: Record):
        self.name, self.password = spec["username"], spec["password"]
        self.roles = set(spec["roles"])
        self.plan, self.record = plan, record
        self.rng = random.Random(spec["seed"])
        self.filler = Filler(self.rng, plan["units"])
        self.http = Connection(plan["host"], plan["port"], plan["keepalive"])
        self.token = ""
        self.starts: list[str] = []
        self.start_forms: dict[str, dict | None] = {}

    def call(self, kind: str, method: str, path: str, body=None):
        """The answer's JSON on success, else None; every request lands in the record."""
        headers = {"Accept-Language": "en", "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        t0 = time.perf_counter()
        try:
            status, data = self.http.send(method, path, payload, headers)
        except (OSError, http.client.HTTPException) as err:
            self.record.add(kind, "connection", time.perf_counter() - t0, repr(err))
            return None
        seconds, label, answer = time.perf_counter() - t0, str(status), None
        if 200 <= status < 300:
            try:
                answer = json.loads(data)
            except ValueError:
                label = "not-json"
        self.record.add(kind, label, seconds, data.decode(errors="replace"))
        return answer

    def run(self, start_at: float, until: float) -> None:
        time.sleep(max(0.0, start_at - time.monotonic()))
        self.login()
        processes = (self.call("processes", "GET", "/api/processes/") or {}).get("results", [])
        self.starts = [p["key"] for p in processes if p["can_start"]]
        while time.monotonic() < until:
            try:
                self.turn()
            except Exception:  # an answer not shaped as documented: counted, and work goes on
                self.record.fault("answer", "unreadable", traceback.format_exc(limit=3))
            think = self.plan["think"] * self.rng.uniform(0.5, 1.5)
            time.sleep(max(0.0, min(think, until - time.monotonic())))
        self.http.close()

    def login(self) -> None:
        body = {"username": self.name, "password": self.password}
        answer = self.call("login", "POST", "/api/auth/token/", body)
        if answer:
            self.token = answer["token"]

    def turn(self) -> None:
        rng = self.rng
        if rng.random() < LOGIN_CHANCE:
            self.login()
        elif "auditor" in self.roles:
            self.read_case()
        elif self.starts and rng.random() < START_CHANCE:
            self.start_case()
        elif self.roles & {"cs_supervisor", "vice_gm", "property_manager"} and (
            rng.random() < ASSIGN_CHANCE
        ):
            self.reassign()
        else:
            self.work_inbox()

    def work_inbox(self) -> None:
        page = self.call("inbox", "GET", "/api/tasks/")
        tasks = page["results"] if page else []
        mine = [t for t in tasks if (t["assignee"] or {}).get("username") == self.name]
        if mine:
            self.work(mine[0])
        elif tasks:
            self.work(self.rng.choice(tasks[:PICK_FROM]))
        elif self.starts:
            self.start_case()

    def work(self, task: dict) -> None:
        path = f"/api/tasks/{task['id']}/"
        detail = self.call("task", "GET", path)
        if detail is None or detail["status"] != "open":
            return
        if (detail["assignee"] or {}).get("username") != self.name:
            if self.call("claim", "POST", path + "claim/") is None:
                return  # someone else was quicker (409) or it failed (counted)
            if self.rng.random() < UNCLAIM_CHANCE:
                self.call("unclaim", "POST", path + "unclaim/")
                return
        data = self.fill("complete", detail["form"])
        if data is not None:
            self.call("complete", "POST", path + "complete/", {"data": data})

    def fill(self, kind: str, schema: dict | None) -> dict | None:
        data, problems = self.filler.form(schema)
        if problems:
            self.record.fault(kind, "invalid-data", problems)
            return None
        return data

    def start_case(self) -> None:
        key = self.rng.choice(self.starts)
        if key not in self.start_forms:
            process = self.call("processes", "GET", f"/api/processes/{key}/")
            if process is None:
                return
            self.start_forms[key] = process["start_form"]
        data = self.fill("start", self.start_forms[key])
        if data is not None:
            self.call("start", "POST", "/api/instances/", {"process": key, "data": data})

    def reassign(self) -> None:
        page = self.call("inbox", "GET", "/api/tasks/?scope=all")
        claimed = [t for t in (page or {"results": []})["results"] if t["assignee"]]
        if not claimed:
            return
        task = self.rng.choice(claimed)
        others = [u for u in self.plan["holders"].get(task["role"], [])
                  if u != task["assignee"]["id"]]  # fmt: skip
        if others:
            body = {"assignee": self.rng.choice(others)}
            self.call("assign", "POST", f"/api/tasks/{task['id']}/assign/", body)

    def read_case(self) -> None:
        page = self.call("cases", "GET", "/api/instances/")
        if page and page["results"]:
            case = self.rng.choice(page["results"])
            self.call("events", "GET", f"/api/instances/{case['id']}/events/")


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    now = time.monotonic()
    until = now + plan["duration"]
    records, threads = [], []
    for spec in plan["staff"]:
        record = Record()
        staff = Staff(spec, plan, record)
        start_at = now + plan["ramp"] * staff.rng.random()  # people arrive over the ramp
        threads.append(threading.Thread(target=staff.run, args=(start_at, until), daemon=True))
        records.append(record)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    merged = Record()
    for record in records:
        for kind, values in record.latency.items():
            merged.latency[kind] += values
        merged.status.update(record.status)
        for key, bodies in record.samples.items():
            merged.samples[key] += bodies[: SAMPLES - len(merged.samples[key])]
    Path(sys.argv[2]).write_text(json.dumps({
        "cpu": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "wall": time.monotonic() - now,
        "latency": merged.latency, "status": merged.status, "samples": merged.samples,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
