"""The engine alone: no database, a fake clock."""

import dataclasses
import json
from datetime import timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

import engine
from engine import clock
from tests.conftest import MONDAY_9AM, fixture_source


@pytest.fixture(scope="module")
def source():
    return fixture_source()


@pytest.fixture(scope="module")
def eng():
    return engine.Engine()


def test_start_offers_the_first_task_in_its_lane_with_its_form(source, eng):
    with clock.frozen(MONDAY_9AM):
        result = eng.start(source, {"unit": "1-101"})

    assert result.status == "running"
    [task] = result.ready
    assert (task.bpmn_id, task.name, task.role) == ("register", "登记", "frontdesk")
    assert task.form == "two_step_register.json"
    assert task.documentation == "记录问题。"
    assert result.timers == ()


def test_completing_a_task_runs_gateways_and_scripts_and_starts_boundary_timers(source, eng):
    with clock.frozen(MONDAY_9AM):
        started = eng.start(source, {"unit": "1-101"})
        result = eng.complete(source, started.state, started.ready[0].id,
                              {"summary": "漏水", "major": True})  # fmt: skip

    [task] = result.ready
    assert (task.bpmn_id, task.role) == ("resolve", "cs_supervisor")
    assert result.data["escalation_level"] == 2  # the script on the "major" branch ran
    [timer] = result.timers
    assert timer.bpmn_id == "resolve_reminder"
    assert timer.due == MONDAY_9AM + timedelta(hours=1)
    assert task.due == timer.due and timer.attached_to == task.id
    assert result.next_due == timer.due


def test_timers_fire_only_when_due_and_then_the_process_goes_on(source, eng):
    with clock.frozen(MONDAY_9AM):
        started = eng.start(source, {"unit": "1-101"})
        waiting = eng.complete(source, started.state, started.ready[0].id,
                               {"summary": "漏水", "major": False})  # fmt: skip
    with clock.frozen(MONDAY_9AM + timedelta(minutes=59)):
        early = eng.fire_due_timers(source, waiting.state)
    with clock.frozen(MONDAY_9AM + timedelta(minutes=61)):
        fired = eng.fire_due_timers(source, waiting.state)

    assert early.fired == () and len(early.timers) == 1
    assert [t.bpmn_id for t in fired.fired] == ["resolve_reminder"]
    assert fired.timers == ()  # non-interrupting: fired once, the task stays
    assert [t.bpmn_id for t in fired.ready] == ["resolve"]
    done = eng.complete(source, fired.state, fired.ready[0].id,
                        {"resolution": "已修复", "satisfied": "satisfied"})  # fmt: skip
    assert done.status == "completed"
    assert done.data["reminders"] == 1 and done.data["resolution"] == "已修复"


def test_the_trail_lists_the_elements_passed_in_order_and_each_task_s_timers(source, eng):
    with clock.frozen(MONDAY_9AM):
        started = eng.start(source, {"unit": "1-101"})
        waiting = eng.complete(source, started.state, started.ready[0].id,
                               {"summary": "漏水", "major": False})  # fmt: skip
    with clock.frozen(MONDAY_9AM + timedelta(minutes=61)):
        fired = eng.fire_due_timers(source, waiting.state)
    trail = eng.trail(source, fired.state)

    assert [(p.bpmn_id, p.kind) for p in trail.path] == [
        ("start", "StartEvent"),
        ("register", "UserTask"),
        ("priority_gateway", "ExclusiveGateway"),
        ("resolve_reminder", "BoundaryEvent"),
        ("count_reminder", "ScriptTask"),
        ("reminder_end", "EndEvent"),
    ]  # resolve is still open: not passed yet
    [limit] = trail.limits
    assert (limit.task_id, limit.bpmn_id, limit.state) == (
        fired.ready[0].id, "resolve_reminder", "fired",
    )  # fmt: skip
    assert (limit.due, limit.expression, limit.reminder) == (
        MONDAY_9AM + timedelta(hours=1), '"PT1H"', False,
    )  # fmt: skip
    assert trail.data["reminders"] == 1
    assert eng.trail(source, fired.state) == trail  # read only: nothing was stepped


def test_completing_a_task_that_is_not_ready_is_refused(source, eng):
    started = eng.start(source, {"unit": "1-101"})
    done = eng.complete(
        source, started.state, started.ready[0].id, {"summary": "x", "major": False}
    )

    with pytest.raises(engine.TaskNotReady):
        eng.complete(source, done.state, started.ready[0].id, {"summary": "again"})


def test_stored_state_leaves_out_the_spec_and_is_at_most_half_the_default(source, eng):
    with clock.frozen(MONDAY_9AM):
        started = eng.start(source, {"unit": "1-101"})
        result = eng.complete(source, started.state, started.ready[0].id,
                              {"summary": "漏水", "major": False})  # fmt: skip
    ours = json.loads(result.state)
    default = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = eng._load(source, result.state)

    assert "spec" not in ours and "subprocess_specs" not in ours
    assert ours["serializer_version"] == engine.SERIALIZER_VERSION
    assert isinstance(wf, BpmnWorkflow)
    assert len(result.state.encode()) <= len(default.serialize_json(wf).encode()) / 2


def test_state_from_another_serializer_version_is_refused_clearly(source, eng):
    state = json.loads(eng.start(source, {"unit": "1-101"}).state)
    state["serializer_version"] = "1.4"

    with pytest.raises(engine.StateVersionUnsupported, match="1.4"):
        eng.inspect(source, json.dumps(state))


def test_a_failing_condition_names_the_element(source, eng):
    broken = dataclasses.replace(source, bpmn=source.bpmn.replace("major == True", "major > 1/0"))

    started = eng.start(broken, {"unit": "1-101"})
    with pytest.raises(engine.ScriptFailed) as err:
        eng.complete(broken, started.state, started.ready[0].id, {"summary": "x", "major": True})
    assert err.value.element_id == "priority_gateway"


def test_cancel_leaves_no_ready_task(source, eng):
    started = eng.start(source, {"unit": "1-101"})
    result = eng.cancel(source, started.state)
    assert result.status == "cancelled" and result.ready == ()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("data:image/png;name=sig.png;base64,iVBORw0KGgo=", True),
        ("data:application/pdf;base64,JVBERi0xLjQK", True),
        ("javascript:alert(1)", False),  # was accepted as an attachment
        ("data:text/html;base64,PGI+aGk8L2I+", False),
        ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", False),  # SVG can carry script
        ("data:image/png;base64,PGh0bWw+", False),  # says PNG, is HTML
    ],
)
def test_a_file_field_takes_images_and_pdfs_whose_bytes_are_what_they_say(value, ok):
    from engine.forms import validate_form

    schema = {"type": "object", "properties": {"photo": {"type": "string", "format": "data-url"}}}
    errors = validate_form(schema, {"photo": value})
    assert (errors == {}) is ok, errors
    if not ok:
        assert errors == {"photo": ["Must be an image (PNG, JPEG, GIF, WebP) or a PDF."]}
