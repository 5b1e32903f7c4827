"""The isolated interpreter the sandbox runs unbounded code in: killed at its limit and
replaced, shared by threads one at a time, never fooled by a stale or forged answer, its
own after a fork; what crosses to it and back."""

import os
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

import engine
from engine import clock
from engine.limits import TimeLimits
from engine.workdays import WorkCalendar
from tests.conftest import MONDAY_9AM

GENEROUS = 10  # seconds: only there to catch a hang, never to time a limit


@pytest.fixture(scope="module")
def eng():
    return engine.Engine(script_seconds=0.3, script_memory_mb=128)


@pytest.fixture(scope="module")
def patient():
    return engine.Engine(script_seconds=20)


def test_the_isolated_interpreter_is_killed_at_its_limit_and_a_new_one_answers(eng):
    env = eng.script_engine.environment
    env.evaluate("[i for i in range(3)]", {})
    first = env.isolated._child._proc.pid

    with pytest.raises(engine.ScriptStopped):
        env.evaluate("sum(range(10**12))", {})
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # killed and reaped: not even a zombie is left

    assert env.evaluate("[i * 2 for i in range(3)]", {}) == [0, 2, 4]
    assert env.isolated._child._proc.pid != first


def test_threads_share_the_isolated_interpreter_one_at_a_time(patient):
    env = patient.script_engine.environment
    results, errors = {}, []

    def work(n):
        try:
            for i in range(15):
                results[(n, i)] = env.evaluate("[x * k for x in range(4)]", {"k": n * 100 + i})
        except Exception as err:  # pragma: no cover (reported below)
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(GENEROUS * 3)

    assert errors == []
    assert results == {(n, i): [x * (n * 100 + i) for x in range(4)]
                       for n in range(8) for i in range(15)}  # fmt: skip


def test_a_bomb_in_one_thread_does_not_break_the_others(eng):
    env = eng.script_engine.environment
    outcomes = []

    def legit():
        outcomes.append(env.evaluate("[x for x in range(5)]", {}))

    def bomb():
        try:
            env.evaluate("max(range(10**12))", {})
        except engine.ScriptStopped as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=f) for f in (legit, bomb, legit, legit, bomb, legit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(GENEROUS * 3)

    assert outcomes.count([0, 1, 2, 3, 4]) == 4
    assert sum("stopped after" in str(o) for o in outcomes) == 2


def test_isolated_code_sees_the_frozen_clock_and_the_sites_calendar_and_limits():
    holiday = date(2026, 11, 24)  # a Tuesday the site takes off
    eng = engine.Engine(
        calendar=WorkCalendar(extra_days_off=frozenset({holiday})),
        limits=TimeLimits({"repair.urgent_arrival": 17}),
        script_seconds=20,
    )
    env = eng.script_engine.environment
    isolated = "[{} for _ in 'x'][0]"  # a comprehension: never bounded

    with clock.frozen(MONDAY_9AM):
        for expression in ("now()", "due_in_working_days(1)", "deadline('repair.urgent_arrival')",
                           "limit('repair.urgent_arrival')", "is_working_day()"):  # fmt: skip
            assert not env.compile(isolated.format(expression), True).bounded
            assert env.evaluate(isolated.format(expression), {}) == env.evaluate(expression, {})
        assert env.evaluate(isolated.format("now()"), {}) == MONDAY_9AM.isoformat()
        assert env.evaluate(isolated.format("due_in_working_days(1)"), {}).startswith("2026-11-25")


def test_functions_given_to_the_engine_work_in_bounded_code_and_are_refused_isolated():
    eng = engine.Engine(extra_helpers={"double": lambda n: 2 * n}, script_seconds=20)
    env = eng.script_engine.environment

    assert env.evaluate("double(21)", {}) == 42
    with pytest.raises(engine.ScriptRefused, match=r"double .*extra_helpers"):
        env.evaluate("[double(n) for n in range(3)]", {})


def test_dates_times_and_tuples_cross_to_the_isolated_interpreter_and_back(patient):
    env = patient.script_engine.environment
    when = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    context = {"when": when, "day": date(2026, 11, 23), "pair": (1, "a"),
               "wait": timedelta(hours=2), "by_floor": {3: "三楼"}}  # fmt: skip

    env.execute("later = [when + wait for _ in range(1)][0]", context)

    assert context["later"] == when + timedelta(hours=2)
    assert context["day"] == date(2026, 11, 23) and context["pair"] == (1, "a")
    assert context["by_floor"] == {3: "三楼"}


def test_a_value_task_data_cannot_hold_is_refused_naming_the_field(patient):
    env = patient.script_engine.environment

    with pytest.raises(engine.ScriptRefused, match="tags holds a set"):
        env.execute("n = [1 for _ in range(1)]", {"tags": {"a", "b"}})
    with pytest.raises(engine.ScriptRefused, match="r holds a range"):
        env.execute("r = range(3)\nn = [1 for _ in r]", {})


def test_an_interrupted_request_does_not_leave_its_answer_for_the_next(patient, monkeypatch):
    from engine import isolation

    env = patient.script_engine.environment
    real = isolation._read_line
    calls = []

    def interrupted(proc, seconds, most):
        if not calls:
            calls.append(1)
            raise KeyboardInterrupt
        return real(proc, seconds, most)

    monkeypatch.setattr(isolation, "_read_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        env.evaluate("[n for n in 'first']", {})

    assert env.evaluate("[n for n in 'second']", {}) == list("second")


def test_a_forked_worker_starts_its_own_isolated_interpreter(patient):
    """Celery's prefork pool forks workers from a process that may have started one."""
    env = patient.script_engine.environment
    assert env.evaluate("[n for n in 'ab']", {}) == ["a", "b"]
    parents = env.isolated._child._proc.pid

    pid = os.fork()
    if pid == 0:  # the forked worker: exit 0 only if it got its own, right answer
        try:
            ok = env.evaluate("[n * 2 for n in 'ab']", {}) == ["aa", "bb"]
            os._exit(0 if ok and env.isolated._child._proc.pid != parents else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert env.evaluate("[n for n in 'cd']", {}) == ["c", "d"]  # the parent's still answers
    assert env.isolated._child._proc.pid == parents


@pytest.mark.parametrize("answer", [b'{"turn": 99999, "value": 1}\n', b"not json\n", b"[1]\n"])
def test_an_answer_the_child_would_not_give_is_refused_and_the_child_replaced(
    patient, monkeypatch, answer
):
    from engine import isolation

    env = patient.script_engine.environment
    env.evaluate("[n for n in 'a']", {})
    first = env.isolated._child._proc.pid
    real = isolation._read_line
    monkeypatch.setattr(
        isolation, "_read_line", lambda proc, s, most: (real(proc, s, most), answer)[1]
    )

    with pytest.raises(engine.ScriptStopped, match="answer is invalid"):
        env.evaluate("[n for n in 'b']", {})

    monkeypatch.setattr(isolation, "_read_line", real)
    assert env.evaluate("[n for n in 'c']", {}) == ["c"]
    assert env.isolated._child._proc.pid != first
