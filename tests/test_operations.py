"""A service-task operation is one declaration: registered, a diagram may call it, the step
applies it, the audit trail records it and the timeline describes it; the system check
refuses an operation the engine offers with no handler, or a handler it does not offer."""

import dataclasses
from decimal import Decimal

import pytest
from django.core import checks
from django.test import Client
from django.utils import translation

import engine
from engine import operations as engine_operations
from engine.text import pick
from server import operations
from server.estate.models import Unit
from server.estate.services import unit_get
from server.flows.errors import Invalid, ProcessFailed
from server.flows.models import AuditEvent, HumanTask
from server.operations import ServiceOperation
from server.web import timeline
from tests.conftest import FIXTURES, make_units
from tests.scenario import Case, deploy_all, local
from tests.test_process_move_in import FEES, HANDOVER, REGISTER, ROOMS, SIGNED, START


def positive_area(params: dict) -> list[str]:
    area = params.get("area_m2")
    if "area_m2" in params and not (isinstance(area, int | float) and area > 0):
        return [f"area_m2 must be a positive number, not {area!r}"]
    return []


def record_area(params: dict, *, batch, today) -> dict:
    unit = unit_get(params["unit"])
    unit.area_m2 = Decimal(str(params["area_m2"]))
    batch.update(unit, ["area_m2"])
    return {"unit": unit.code, "area_m2": str(unit.area_m2)}


# The whole of a new operation: what a diagram may call, what it changes, how it is told.
MEASURE = ServiceOperation(
    name="unit_measure",
    summary="Record the unit's measured area",
    required=("unit", "area_m2"),
    check=positive_area,
    apply=record_area,
    audit_kind="unit_measured",
    describe=lambda data, language: pick(
        (
            f"单元 {data['unit']} 实测面积 {data['area_m2']} 平方米",
            f"Unit {data['unit']} measured at {data['area_m2']} m²",
        ),
        language,
    ),  # fmt: skip
)


def measure_source() -> engine.ProcessSource:
    return engine.load_package(FIXTURES / "operations" / "unit_measure")


@pytest.fixture
def measure(db, users):
    from server.flows.definitions.services import process_deploy

    make_units("1-101")
    operations.register(MEASURE)
    process_deploy(source=measure_source())
    yield Case(users, "unit_measure", as_="frontdesk", data={"unit": "1-101"},
               at=local("2026-11-23 09:00"))  # fmt: skip
    operations.unregister(MEASURE.name)


def test_an_operation_declared_once_runs_through_a_diagram_to_the_audit_trail_and_timeline(
    measure, users
):
    measure.complete("measure", as_="frontdesk", data={"area_m2": 88.5})

    assert measure.status == "completed"
    assert Unit.objects.get(code="1-101").area_m2 == Decimal("88.50")
    [event] = measure.events("unit_measured")
    assert event.data == {"unit": "1-101", "area_m2": "88.5"}
    browser = Client()
    browser.force_login(users["frontdesk"])
    zh = browser.get(f"/cases/{measure.id}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    en = browser.get(f"/cases/{measure.id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "单元 1-101 实测面积 88.5 平方米" in zh
    assert "Unit 1-101 measured at 88.5 m²" in en


def test_validation_knows_a_declared_operation_its_parameters_and_its_own_check(db):
    source = measure_source()
    assert any(
        p.startswith("record_area: unknown service operation 'unit_measure'")
        for p in engine.problems(source)
    )
    operations.register(MEASURE)
    try:
        assert engine.problems(source) == []
        literal = source.bpmn.replace('value="area_m2"', 'value="-5"')
        found = engine.problems(dataclasses.replace(source, bpmn=literal))
        assert found == ["record_area: unit_measure: area_m2 must be a positive number, not -5"]
    finally:
        operations.unregister(MEASURE.name)
    assert "unit_measure" not in engine_operations.OPERATIONS


def test_a_value_known_only_when_the_task_runs_is_checked_then_and_nothing_is_stored(measure):
    task = measure.task("measure")
    with pytest.raises(ProcessFailed, match="area_m2 must be a positive number"):
        measure.complete("measure", as_="frontdesk", data={"area_m2": -3})
    assert HumanTask.objects.get(pk=task.pk).status == "open"


def test_an_unknown_unit_fails_the_step_and_changes_nothing(measure):
    events = AuditEvent.objects.filter(instance_id=measure.id).count()
    Unit.objects.filter(code="1-101").delete()  # the registry changed under the case

    with pytest.raises(ProcessFailed, match="There is no unit '1-101'.*Nothing was changed"):
        measure.complete("measure", as_="frontdesk", data={"area_m2": 70})
    assert measure.open() == {"measure": "frontdesk"}
    assert AuditEvent.objects.filter(instance_id=measure.id).count() == events


def test_the_timeline_tells_the_estates_operations_in_the_words_it_always_used(db, users):
    deploy_all()
    make_units("2-301", status="not_handed_over")
    case = Case(users, "move_in", as_="frontdesk", data=START, at=local("2026-11-23 09:00"))
    case.complete("register", as_="frontdesk", data=REGISTER)
    case.complete("fees", as_="finance", data=FEES)
    case.complete("inspection", as_="engineering",
                  data={"rooms": ROOMS, "defects": [], "owner_signature": SIGNED})  # fmt: skip
    case.complete("handover", as_="frontdesk", data=HANDOVER)
    events = case.events("owner_file_updated", "unit_status_changed")

    def titles(language):
        with translation.override(language):
            return [e.title for e in timeline.entries(events, None, language, contacts=False)]

    assert titles("zh-hans") == ["已更新单元 2-301 的业主档案",
                                 "单元 2-301：未交房 → 已交房"]  # fmt: skip
    assert titles("en") == ["Owner file updated for unit 2-301",
                            "Unit 2-301: Not handed over → Handed over"]  # fmt: skip


def test_the_estates_operations_are_found_by_their_modules():
    offered = set(engine_operations.OPERATIONS)
    assert {"unit_set_status", "owner_file_record", "owner_file_move_out"} <= offered
    assert [m for m in checks.run_checks() if m.id.startswith("propflow.E01")] == []


def test_the_system_check_fails_on_an_operation_without_a_handler_or_a_handler_not_offered(
    monkeypatch,
):
    assert operations.handlers_match() == []
    ghost = engine_operations.Operation("ghost_call", ("unit",), (), "Offered, never handled")
    monkeypatch.setitem(engine_operations.OPERATIONS, ghost.name, ghost)
    orphan = dataclasses.replace(MEASURE, name="orphan_call")
    monkeypatch.setitem(operations._handlers, orphan.name, orphan)

    found = {m.id: m.msg for m in checks.run_checks() if m.id.startswith("propflow.E01")}
    assert found == {
        "propflow.E010": "Service operation 'ghost_call' is offered to diagrams but has no handler",
        "propflow.E011": "Service operation 'orphan_call' has a handler but the engine does not "
        "offer it (or offers another declaration)",
    }


def test_a_second_declaration_of_a_name_is_refused():
    other = dataclasses.replace(MEASURE, name="unit_set_status")
    with pytest.raises(ValueError, match="declared twice"):
        operations.register(other)
    assert operations.handlers_match() == []


def test_a_deploy_of_a_diagram_calling_an_unknown_operation_is_refused(db):
    from server.flows.definitions.services import process_deploy

    with pytest.raises(Invalid) as err:
        process_deploy(source=measure_source())
    assert any("unknown service operation 'unit_measure'" in p
               for p in err.value.errors["problems"]), err.value.errors  # fmt: skip
