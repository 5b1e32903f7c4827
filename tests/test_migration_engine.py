"""Moving a running case's state to another version of its process: the engine alone."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.conf import settings

import engine
from engine import clock
from server.flows.demo import SIGNED
from tests.scenario import local

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "厨房水龙头漏水", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "ordinary",
}  # fmt: skip
DISPATCH = {"technician": "李师傅", "requirements": "带阀芯",
            "appointment_at": "2026-11-23T14:00:00+08:00"}  # fmt: skip
ARRIVAL_GRACE = 'deadline("repair.ordinary_arrival_grace", start=appointment_at)'
RETURN_VISIT = 'deadline("repair.return_visit")'


def repair_source() -> engine.ProcessSource:
    return engine.load_package(settings.PROPFLOW_PROCESSES_DIR / "repair")


def changed(source: engine.ProcessSource, *pairs: tuple[str, str]) -> engine.ProcessSource:
    """``source`` with its BPMN edited: a new version of the same package."""
    bpmn = source.bpmn
    for old, new in pairs:
        assert old in bpmn, old
        bpmn = bpmn.replace(old, new)
    return dataclasses.replace(source, bpmn=bpmn)


def data(source, form, values=None) -> dict:
    return engine.with_defaults(source.forms[form], values or {}) if form else {}


@pytest.fixture(scope="module")
def eng():
    return engine.Engine()


@pytest.fixture
def waiting_for_arrival(eng):
    """A repair case on the current version, dispatched for 14:00: ``arrive`` open, due
    14:30 (the grace), with its level-3 timer at 15:00."""
    source = repair_source()
    with clock.frozen(local("2026-11-23 09:00")):
        started = eng.start(source, data(source, source.start_form, REQUEST))
        [dispatch] = started.ready
        result = eng.complete(source, started.state, dispatch.id, DISPATCH)
    [arrive] = result.ready
    assert arrive.bpmn_id == "arrive" and arrive.due == local("2026-11-23 14:30")
    return source, result


def test_a_changed_time_limit_moves_the_case_keeping_its_task_and_the_due_times_it_has(
    eng, waiting_for_arrival
):
    source, before = waiting_for_arrival
    # Version 2: the arrival limit counts from the report (urgent rules), the return visit
    # gets two days instead of one.
    v2 = changed(
        source,
        (ARRIVAL_GRACE, 'deadline("repair.urgent_arrival", start=arrival_from)'),
        (RETURN_VISIT, 'deadline("repair.lighting")'),
    )
    with clock.frozen(local("2026-11-23 10:00")):
        assert eng.migration_problems(source, v2, before.state) == []
        moved = eng.migrate(source, v2, before.state)

    [arrive] = moved.ready
    assert arrive.id == before.ready[0].id  # the same task: its row, claim and events stay
    assert arrive.due == local("2026-11-23 14:30")  # the promise made stays
    assert {(t.task_id, t.bpmn_id, t.due) for t in moved.timers} == {
        (t.task_id, t.bpmn_id, t.due) for t in before.timers
    }
    assert moved.timers_before == before.timers
    # The state is the new version's: it loads under it, and what starts from now on runs
    # by its limits.
    with clock.frozen(local("2026-11-23 13:50")):
        after_arrival = eng.complete(v2, moved.state, arrive.id, data(v2, arrive.form))
        [work] = after_arrival.ready
        done = {
            "outcome": "done",
            "work_done": "更换阀芯",
            "owner_signature": SIGNED,
        }
        visit = eng.complete(v2, after_arrival.state, work.id, data(v2, work.form, done))
    [return_visit] = visit.ready
    assert return_visit.bpmn_id == "return_visit"
    assert return_visit.due == local("2026-11-25 13:50")  # 2 days (v1: 1 day)


def test_an_open_task_missing_from_the_new_version_is_refused_naming_it(eng, waiting_for_arrival):
    source, before = waiting_for_arrival
    renamed = dataclasses.replace(
        source, bpmn=re.sub(r'(["> ])arrive(["<])', r"\1arrive_on_site\2", source.bpmn)
    )
    with pytest.raises(engine.MigrationRefused) as refused:
        eng.migrate(source, renamed, before.state)

    assert refused.value.reasons == ["Open task arrive (接单并到场) is not in the new version."]
    assert eng.migration_problems(source, renamed, before.state) == refused.value.reasons


def test_an_open_task_of_another_kind_in_the_new_version_is_refused(eng, waiting_for_arrival):
    source, before = waiting_for_arrival
    task = '<bpmn:userTask id="arrive" '  # whatever attributes follow (the assignee)
    manual = changed(source, (task, task.replace("userTask", "manualTask")))
    manual = dataclasses.replace(manual, bpmn=re.sub(
        r'(<bpmn:manualTask id="arrive".*?)</bpmn:userTask>', r"\1</bpmn:manualTask>",
        manual.bpmn, flags=re.S,
    ))  # fmt: skip

    reasons = eng.migration_problems(source, manual, before.state)

    assert reasons == [
        "Open task arrive (接单并到场) is a UserTask here and a ManualTask in the new version."
    ]


def test_a_waiting_timer_turned_into_another_event_is_refused(eng, waiting_for_arrival):
    source, before = waiting_for_arrival
    no_timer = dataclasses.replace(source, bpmn=re.sub(
        r'(<bpmn:boundaryEvent id="arrival_very_late"[^>]*>)\s*<bpmn:timerEventDefinition>.*?'
        r"</bpmn:timerEventDefinition>",
        r'\1<bpmn:messageEventDefinition messageRef="Message_arrived"/>',
        source.bpmn, count=1, flags=re.S,
    ).replace("</bpmn:process>", "</bpmn:process>\n"
              '  <bpmn:message id="Message_arrived" name="arrived"/>', 1))  # fmt: skip

    reasons = eng.migration_problems(source, no_timer, before.state)

    assert reasons == [
        "Waiting event arrival_very_late (仍未到场) is a BoundaryEvent(Timer) here and a "
        "BoundaryEvent(Message) in the new version."
    ]


def test_the_same_version_is_no_move(eng, waiting_for_arrival):
    source, before = waiting_for_arrival
    same = eng.migrate(source, source, before.state)
    assert same.ready == before.ready and same.timers == before.timers
