"""bench/load.py's figures: CPU of each party, request rates and percentiles, errors.

CPU comes from /proc (Linux): the machine's busy time from /proc/stat, gunicorn's from its
master and workers, the staff's from their own processes (``getrusage``); what is left of
the machine's busy time is PostgreSQL's and anything else running on it.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import threading
from collections import Counter, defaultdict
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
ORDER = ("login", "processes", "inbox", "task", "claim", "unclaim", "complete", "start",
         "assign", "cases", "events")  # fmt: skip


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine since boot, all cores together."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds including reaped children) of a process, None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    # After the name: state ppid ... utime stime cutime cstime at 12..15 (0-based).
    return int(fields[1]), sum(int(v) for v in fields[11:15]) / TICK


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


class Sampler(threading.Thread):
    """The CPU of gunicorn (master and workers) and of the PostgreSQL sessions on one
    database, read from /proc twice a second: a session that ends keeps what it had at
    its last sample (Django replaces a connection after PROPFLOW_CONN_MAX_AGE, 60 s)."""

    def __init__(self, server_pid: int, database: str):
        super().__init__(daemon=True)
        self.server_pid, self.database = server_pid, database
        self.party: dict[int, str] = {}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.sample()  # the baseline: what the processes had used before the run

    def _classify(self, pid: int, tree: set[int]) -> str | None:
        if pid in tree:
            return "server"
        command = _cmdline(pid)  # a session's title: "postgres: 15/main: user db host ..."
        if command.startswith("postgres:") and f" {self.database} " in command:
            return "database"
        return None

    def sample(self) -> None:
        stats = {int(e): s for e in os.listdir("/proc") if e.isdigit() and (s := _stat(int(e)))}
        tree = {self.server_pid}
        while more := {p for p, (parent, _) in stats.items() if parent in tree} - tree:
            tree |= more
        baseline = not self.first
        for pid, (_, cpu) in stats.items():
            party = self.party.get(pid) or self._classify(pid, tree)
            if party is not None:
                self.party[pid] = party
                self.first.setdefault(pid, cpu if baseline else 0.0)
                self.last[pid] = cpu

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.sample()

    def stop(self) -> Counter:
        """CPU seconds of each party since the sampler was made."""
        self.sample()
        self.done.set()
        used: Counter = Counter()
        for pid, party in self.party.items():
            used[party] += self.last[pid] - self.first[pid]
        return used


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # gunicorn finishes the requests under way
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def header(args, roles: Counter, gunicorn: dict) -> str:
    mix = ", ".join(f"{role} {n}" for role, n in roles.most_common())
    return (
        f"{args.staff} staff ({mix}) for {args.duration:g} s, pausing {args.think:g} s on "
        f"average between actions, in {args.client_procs} client processes\n"
        f"server: gunicorn {gunicorn['worker_class']}, {gunicorn['workers']} workers x "
        f"{gunicorn['threads']} threads, keep-alive {gunicorn['keepalive']} s"
    )


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values``, in milliseconds."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(p * len(values)) - 1))] * 1000


def _merge(records: list[dict]) -> tuple[dict, Counter, dict]:
    latency, status, samples = defaultdict(list), Counter(), defaultdict(list)
    for record in records:
        for kind, values in record["latency"].items():
            latency[kind] += values
        status.update(record["status"])
        for key, bodies in record["samples"].items():
            samples[key] += bodies
    return latency, status, samples


def _row(label: str, values: list[float], status: Counter, kinds, wall: float) -> str:
    values = sorted(values)
    ok = conflicts = 0
    for key, n in status.items():
        kind, answer = key.split()
        if kind in kinds:
            ok += n if answer.startswith("2") else 0
            conflicts += n if answer == "409" else 0
    return (
        f"  {label:10} {len(values):7} {len(values) / wall:7.1f} {pct(values, 0.5):8.1f} "
        f"{pct(values, 0.95):8.1f} {pct(values, 0.99):8.1f} {ok:7} {conflicts:6} "
        f"{len(values) - ok - conflicts:6}"
    )


def requests(records: list[dict], wall: float) -> int:
    """Print the table of requests by kind and the errors; returns how many failed."""
    latency, status, samples = _merge(records)
    total = sum(len(v) for v in latency.values())
    print(f"requests {total} in {wall:.0f} s: {total / wall:.1f}/s")
    print(f"  {'kind':10} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'2xx':>7} {'409':>6} {'errors':>6}")  # fmt: skip
    kinds = [k for k in ORDER if k in latency] + sorted(set(latency) - set(ORDER))
    for kind in kinds:
        print(_row(kind, latency[kind], status, {kind}, wall))
    rest = [k for k in kinds if k != "login"]
    print(_row("all-login", [v for k in rest for v in latency[k]], status, set(rest), wall))
    conflicts = {k[: -len(" 409")]: n for k, n in status.items() if k.endswith(" 409")}
    print(
        "conflicts (409: someone else claimed or completed it first; expected): "
        + (", ".join(f"{k} {n}" for k, n in sorted(conflicts.items())) or "none")
    )
    # Anything but a success or a conflict: 4xx and 5xx, lost connections, invalid data.
    failed = Counter(
        {k: n for k, n in status.items() if k.split()[1][0] != "2" and not k.endswith(" 409")}
    )
    print(
        "errors by kind and status: "
        + (", ".join(f"{k} {n}" for k, n in failed.most_common()) or "none")
    )
    for key in sorted(failed):
        if not key.split()[1].startswith("5"):  # a 5xx body says nothing: see the log
            for body in samples.get(key, [])[:2]:
                print(f"    {key}: {body[:300]}")
    return sum(failed.values())


def cpu_line(cpu: dict) -> str:
    cores = os.cpu_count() or 1
    capacity = cpu["wall"] * cores
    rest = cpu["machine"] - cpu["server"] - cpu["database"] - cpu["staff"]

    def share(seconds: float) -> str:
        return f"{seconds:.1f} s ({seconds / capacity:.1%})"

    return (
        f"CPU over {cpu['wall']:.0f} s x {cores} cores = {capacity:.0f} core-seconds: "
        f"staff (the clients) {share(cpu['staff'])}, gunicorn {share(cpu['server'])}, "
        f"PostgreSQL sessions {share(cpu['database'])}, everything else on the machine "
        f"{share(rest)}, idle {share(max(0.0, capacity - cpu['machine']))}"
    )


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*")


def server_errors(log: str) -> str:
    """The exceptions and worker timeouts in gunicorn's log, counted by their message."""
    found: Counter = Counter()
    for line in log.splitlines():
        if _EXCEPTION.match(line) or "WORKER TIMEOUT" in line:
            found[re.sub(r"\d+", "N", _UUID.sub("<id>", line.strip()))[:160]] += 1
    if not found:
        return "server log: no exceptions"
    return "server log, exceptions by message:\n" + "\n".join(
        f"  {n:5} x {message}" for message, n in found.most_common(8)
    )
