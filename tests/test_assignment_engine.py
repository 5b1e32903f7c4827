"""Who a task goes to, as the diagram says, and its way back (engine only, no database):
``camunda:assignee`` naming a user or a variable, ``camunda:initiator`` on the start event,
and the ``hand_back`` message boundary event."""

import pytest

import engine
from engine import clock
from tests.conftest import MONDAY_9AM
from tests.test_import import PARKING_MAPPING, parking_files

REPAIR = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "漏水", "area": "in_unit", "trade": "water_electric",
    "fault_kind": "other", "urgency": "urgent", "in_warranty": False, "paid": False,
}  # fmt: skip


def parking(assignee: str, initiator: bool = True) -> engine.ProcessSource:
    files = parking_files()
    text = files["parking_camunda.bpmn"].decode()
    text = text.replace('camunda:assignee="frontdesk1"', f'camunda:assignee="{assignee}"')
    if initiator:
        start = '<bpmn:startEvent id="StartEvent_1"'
        text = text.replace(start, f'{start} camunda:initiator="starter"')
    files["parking_camunda.bpmn"] = text.encode()
    return engine.load_files(files, PARKING_MAPPING)


def assignee_of_assign(source, **start) -> str | None:
    eng = engine.Engine()
    first = eng.start(source, {"unit": "1-101", **start.pop("data", {})}, **start)
    (review,) = first.ready
    second = eng.complete(source, first.state, review.id, {"approved": True, "spaces": 2})
    (assign,) = second.ready
    return assign.assignee


@pytest.mark.parametrize(
    "written", ["${starter}", "#{starter}", "=starter"], ids=["juel", "juel-deferred", "feel"]
)
def test_an_assignee_expression_reads_the_variable_when_the_task_appears(written):
    source = parking(written)
    assert [str(f) for f in engine.findings(source) if not f.warning] == []
    assert assignee_of_assign(source, started_by="frontdesk2") == "frontdesk2"


def test_an_unset_variable_leaves_the_task_to_its_role():
    assert assignee_of_assign(parking("${nobody_set_this}")) is None
    assert assignee_of_assign(parking("${starter}", initiator=False), started_by="x") is None


def test_an_assignee_expression_that_cannot_be_read_is_a_warning_and_goes_to_the_role():
    source = parking("${users.lookup(1)}")
    (warned,) = [f for f in engine.findings(source) if f.element == "Assign" and f.warning
                 and "assignee" in f.message]  # fmt: skip
    assert "cannot be read" in warned.message
    assert assignee_of_assign(source, started_by="frontdesk2") is None


def test_the_repair_s_job_goes_to_the_chosen_technician_and_hands_back_to_dispatch():
    from django.conf import settings

    source = engine.load_package(settings.PROPFLOW_PROCESSES_DIR / "repair")
    eng = engine.Engine()
    with clock.frozen(MONDAY_9AM):
        started = eng.start(source, REPAIR)
        (dispatch,) = started.ready
        assert (dispatch.bpmn_id, dispatch.assignee, dispatch.hand_back) == (
            "dispatch_urgent", None, False,
        )  # fmt: skip
        with pytest.raises(engine.HandBackUnavailable):
            eng.hand_back(source, started.state, dispatch.id, {"hand_back_reason": "x"})
        sent = eng.complete(source, started.state, dispatch.id,
                            {"technician": "technician2", "requirements": "-"})  # fmt: skip
        (arrive,) = sent.ready
        assert (arrive.bpmn_id, arrive.assignee, arrive.hand_back) == (
            "arrive", "technician2", True,
        )  # fmt: skip
        back = eng.hand_back(
            source,
            sent.state,
            arrive.id,
            {"hand_back_reason": "非本工种", "handed_back_by": "technician2"},
        )
    (again,) = back.ready
    assert again.bpmn_id == "dispatch_urgent" and again.assignee is None
    assert back.data["hand_back_reason"] == "非本工种"
    assert {t.bpmn_id for t in back.timers} >= {"dispatch_urgent_late"}
    assert "arrival_late" not in {t.bpmn_id for t in back.timers}  # its limits went with it
