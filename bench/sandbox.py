"""What the script sandbox costs: bounded code in the process, and a trip to the isolated one.

(a) The real expressions and scripts of processes/, evaluated as before this sandbox bounded
    anything (plain RestrictedPython, the same namespace) and now (the guards, in process).
(b) One evaluation in the isolated interpreter (code with a comprehension), with little data
    and with a form's worth of rows, and a script summing fees over rows.
(c) Starting the isolated interpreter, and starting it again after a kill at the time limit.
(d) One engine step (complete a task, run a gateway and a script task) with the script
    bounded, and with it made to run isolated.

Run: .venv/bin/python bench/sandbox.py (no database needed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MONDAY_9AM = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai

EXPRESSIONS = [  # from processes/*/*.bpmn
    ('"R/" + deadline("move_out.arrears_reminder") + "/P" '
     '+ str(limit("move_out.arrears_reminder")) + "D"', {}),
    ('deadline("complaint.own_scope" if department == "customer_service" else '
     '"complaint.other_department", start=received_at)',
     {"department": "engineering", "received_at": "2026-11-23T09:00:00+08:00"}),
    ("len(defects) > 0", {"defects": [{"item": "门"}]}),
    ('satisfaction != "unsatisfied"', {"satisfaction": "satisfied"}),
]  # fmt: skip
SCRIPTS = [("level = min(level + 1, 3)", {"level": 1}), ("finished_at = now()", {})]


def timed(action, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        action()
        out.append(time.perf_counter() - t0)
    return out


def us(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[max(0, int(len(values) * 0.99) - 1)]
    return f"median {statistics.median(values) * 1e6:8.1f} us, p99 {p99 * 1e6:8.1f} us"


def before_environment(helpers):
    """The sandbox as it was: RestrictedPython only, no guards, no isolation."""
    import builtins

    from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
    from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
    from RestrictedPython.Guards import full_write_guard, safer_getattr

    extra = {n: getattr(builtins, n) for n in ("min", "max", "sum", "any", "all", "sorted")}
    base = {"__builtins__": {**safe_builtins, **extra}, "_getattr_": safer_getattr,
            "_getitem_": default_guarded_getitem, "_getiter_": default_guarded_getiter,
            "_write_": full_write_guard, **helpers}  # fmt: skip
    codes = {}

    def evaluate(source, context):
        code = codes.get(source) or codes.setdefault(
            source, compile_restricted_eval(source.strip()).code
        )
        return eval(code, {**context, **base})  # noqa: S307

    def execute(source, context):
        code = codes.get(source) or codes.setdefault(source, compile_restricted_exec(source).code)
        namespace = {**context, **base}
        exec(code, namespace)  # noqa: S102
        context.update((k, v) for k, v in namespace.items() if k not in base)

    return evaluate, execute


def in_process(repeat: int) -> None:
    from engine import Engine, clock

    eng = Engine()
    env = eng.script_engine.environment
    old_eval, old_exec = before_environment(eng.helpers())
    print("(a) bounded code, per evaluation (before: RestrictedPython only; now: guarded)")
    with clock.frozen(MONDAY_9AM):
        for source, data in EXPRESSIONS:
            before = timed(lambda s=source, d=data: old_eval(s, d), repeat)
            now = timed(lambda s=source, d=data: env.evaluate(s, d), repeat)
            print(f"    {source[:44]:44}  before {us(before)}\n{'':50}now    {us(now)}")
        for source, data in SCRIPTS:
            before = timed(lambda s=source, d=data: old_exec(s, dict(d)), repeat)
            now = timed(lambda s=source, d=data: env.execute(s, dict(d)), repeat)
            print(f"    {source[:44]:44}  before {us(before)}\n{'':50}now    {us(now)}")


def isolated(repeat: int) -> None:
    from engine import Engine, ScriptStopped

    eng = Engine(script_seconds=0.5)
    env = eng.script_engine.environment
    t0 = time.perf_counter()
    env.evaluate("[n for n in 'a']", {})
    started = time.perf_counter() - t0
    rows = [{"item": f"项目{i}", "fee": i * 1.5} for i in range(50)]
    form = {f"field_{i}": f"值 {i}" for i in range(40)} | {"rows": rows}
    script = "total = 0\nfor row in rows:\n    total += row['fee']"
    small = "[n for n in 'a']"
    print("(b) isolated code, per evaluation")
    cases = [
        ("[n for n in 'a'], no data", lambda: env.evaluate(small, {})),
        ("the same, a 40-field form with 50 rows", lambda: env.evaluate(small, form)),
        ("fee loop over 50 rows (execute)", lambda: env.execute(script, dict(form))),
    ]
    for name, action in cases:
        print(f"    {name:44}  {us(timed(action, repeat))}")
    restarts = []
    for _ in range(5):
        with contextlib.suppress(ScriptStopped):
            env.evaluate("max(range(10**12))", {})
        t0 = time.perf_counter()
        env.evaluate(small, {})
        restarts.append(time.perf_counter() - t0)
    print("(c) starting the isolated interpreter")
    print(f"    first start and answer: {started * 1000:.1f} ms; after a kill at the limit: "
          f"median {statistics.median(restarts) * 1000:.1f} ms")  # fmt: skip


def steps(repeat: int) -> None:
    import engine
    from engine import clock

    source = engine.load_package(ROOT / "tests" / "fixtures" / "processes" / "two_step")
    isolated_script = "escalation_level = [2 for _ in 'x'][0]"
    forced = dataclasses.replace(
        source, bpmn=source.bpmn.replace("escalation_level = 2", isolated_script)
    )
    eng = engine.Engine()
    print("(d) one step: complete a task, a gateway, a script task, a boundary timer")
    with clock.frozen(MONDAY_9AM):
        for name, src in (("script bounded (in process)", source), ("script isolated", forced)):
            started = eng.start(src, {"unit": "1-101"})
            task, data = started.ready[0].id, {"summary": "漏水", "major": True}

            def step(s=src, state=started.state, t=task, d=data):
                eng.complete(s, state, t, d)

            step()  # warm up
            runs = timed(step, repeat)
            print(f"    {name:44}  {us(runs)}")


def main() -> None:
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    in_process(20000)
    isolated(2000)
    steps(2000)


if __name__ == "__main__":
    main()
