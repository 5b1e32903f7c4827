"""Packages drawn in other modelers (Camunda 7, bpmn.io, SpiffArena), read by the engine:
what is translated, what is said as a warning, what is refused, by file, line and element."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

import engine
from engine import juel

MODELERS = Path(__file__).parent / "fixtures" / "modelers"
REVIEW_FORM = {"type": "object", "required": ["approved", "spaces"], "properties": {
    "approved": {"type": "boolean", "title": "Approved"},
    "spaces": {"type": "integer", "title": "Spaces"}}}  # fmt: skip
REQUEST_FORM = {"type": "object", "properties": {"unit": {"type": "string", "title": "Unit"}}}
PARKING_MAPPING = {
    "key": "parking", "name": {"zh-hans": "车位申请", "en": "Parking space"},
    "start_roles": ["frontdesk"], "roles": {"front-office": "frontdesk"},
}  # fmt: skip


def parking_files() -> dict[str, bytes]:
    return {
        "parking_camunda.bpmn": (MODELERS / "parking_camunda.bpmn").read_bytes(),
        "forms/review.json": json.dumps(REVIEW_FORM).encode(),
        "forms/parking_request.json": json.dumps(REQUEST_FORM).encode(),
    }


DEPOSIT_FORM = {
    "type": "object",
    "required": ["damage"],
    "properties": {
        "damage": {"type": "string", "title": "Damage", "enum": ["none", "minor", "major"]}
    },
}
DEPOSIT_MAPPING = {
    "key": "deposit_dispute", "name": {"zh-hans": "装修押金争议", "en": "Deposit dispute"},
    "start_roles": ["frontdesk"], "default_role": "property_manager",
    "start_form": "deposit_start.json",
}  # fmt: skip


def deposit_files() -> dict[str, bytes]:
    names = ("deposit_main.bpmn", "deposit_fee_check.bpmn", "deposit_deduction.dmn")
    files = {name: (MODELERS / name).read_bytes() for name in names}
    return {**files, "forms/deposit_start.json": json.dumps(DEPOSIT_FORM).encode()}


@pytest.mark.parametrize(
    ("text", "python"),
    [
        ("${approved}", "approved"),
        ("#{!approved}", "not approved"),
        ("${kind == 'urgent'}", "kind == 'urgent'"),
        ("${a && b || !c}", "a and b or not c"),
        ("${n ge 3 and n lt 10}", "n >= 3 and n < 10"),
        ("${owner.vip == true}", "owner['vip'] == True"),
        ("${empty note}", "not note"),
        ("${(a || b) && c != null}", "(a or b) and c != None"),
    ],
)
def test_simple_juel_is_read_as_the_sandbox_s_python(text, python):
    assert juel.translate(text) == python


@pytest.mark.parametrize(
    "text",
    ["${execution.getVariable('x')}", "${a ? b : c}", "${list[0]}", "Amount: ${n}", "${__x}"],
)
def test_juel_that_means_something_else_in_python_is_refused(text):
    with pytest.raises(juel.NotTranslatable):
        juel.translate(text)


def test_a_lane_less_camunda_file_deploys_and_runs_with_its_mapped_roles():
    source = engine.load_files(parking_files(), PARKING_MAPPING)
    found = engine.findings(source)
    assert [str(f) for f in found if not f.warning] == []
    warnings = {(f.element, f.message.split(" is ")[0]) for f in found if f.warning}
    assert ("Review", "camunda:taskListener") in warnings  # hooks are said, not run
    assert ("DataStoreReference_1", "data store 'Parking register'") in warnings
    assert all(f.line for f in found if f.element)  # every element finding says its line

    eng = engine.Engine()
    first = eng.start(source, {"unit": "1-101"})
    (review,) = first.ready
    assert (review.bpmn_id, review.role, review.form) == ("Review", "frontdesk", "review.json")
    (reminder,) = first.timers  # the bare R3/PT5M, read as the standard says
    assert reminder.bpmn_id == "ReviewReminder" and reminder.due is not None
    second = eng.complete(source, first.state, review.id, {"approved": True, "spaces": 2})
    (assign,) = second.ready  # ${approved && spaces > 0}
    assert (assign.bpmn_id, assign.role, assign.assignee) == ("Assign", "security", "frontdesk1")
    third = eng.complete(source, second.state, assign.id, {})
    assert [t.bpmn_id for t in third.timers] == ["WaitDay"]  # the bare P2D

    refused = eng.complete(source, first.state, review.id, {"approved": False, "spaces": 2})
    assert refused.status == "completed"  # #{!approved || spaces == 0}


def test_call_activities_across_files_and_a_dmn_business_rule_task_run():
    source = engine.load_files(deposit_files(), DEPOSIT_MAPPING)
    assert (source.process_id, source.bpmn_name) == ("DepositDispute", "deposit_main.bpmn")
    assert engine.problems(source) == []
    eng = engine.Engine()
    started = eng.start(source, {"damage": "minor"})
    assert [(t.bpmn_id, t.role) for t in started.ready] == [("ReviewDeduction", "finance")]
    decided = eng.complete(source, started.state, started.ready[0].id, {})
    assert [(t.bpmn_id, t.role) for t in decided.ready] == [("Decide", "property_manager")]
    assert decided.data["deduction"] == 500  # the decision table's "minor" row


def test_a_zip_of_a_package_reads_as_its_files_and_downloads_as_it_uploaded():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parking_files().items():
            archive.writestr(f"parking/{name}", data)
    source = engine.load_files({"parking.zip": buffer.getvalue()}, PARKING_MAPPING)
    assert source.load_problems == () and set(source.forms) == {
        "review.json",
        "parking_request.json",
    }
    again = engine.load_files(engine.package_files(source))
    assert again.content_hash == source.content_hash


def test_a_service_task_needs_an_operation_or_a_role_and_the_refusal_lists_the_operations():
    bpmn = (MODELERS / "parking_camunda.bpmn").read_text()
    bpmn = bpmn.replace(
        '<bpmn:userTask id="Assign" name="Assign the space" '
        'camunda:assignee="frontdesk1" camunda:candidateGroups="security">',
        '<bpmn:serviceTask id="Assign" name="Assign the space" camunda:class="com.example.Assign">',
    )
    bpmn = bpmn.replace("</bpmn:userTask>\n    <bpmn:intermediateCatchEvent",
                        "</bpmn:serviceTask>\n    <bpmn:intermediateCatchEvent")  # fmt: skip
    files = {**parking_files(), "parking_camunda.bpmn": bpmn.encode()}
    (refused,) = [f for f in engine.findings(engine.load_files(files, PARKING_MAPPING))
                  if not f.warning]  # fmt: skip
    assert refused.element == "Assign" and refused.line == 42
    assert "has no operation" in refused.message and "(known: " in refused.message

    manual = {**PARKING_MAPPING, "operations": {"Assign": "manual:security"}}
    source = engine.load_files(files, manual)
    assert engine.problems(source) == []
    eng = engine.Engine()
    first = eng.start(source, {})
    second = eng.complete(source, first.state, first.ready[0].id, {"approved": True,
                                                                   "spaces": 1})  # fmt: skip
    assert [(t.bpmn_id, t.role) for t in second.ready] == [("Assign", "security")]


def test_a_broken_package_is_refused_with_every_problem_by_file_line_and_element():
    bpmn = (MODELERS / "parking_camunda.bpmn").read_text()
    bpmn = bpmn.replace("R3/PT5M", "R/PT1M")  # unbounded
    bpmn = bpmn.replace("P2D", "P1H")  # not a duration
    bpmn = bpmn.replace('camunda:candidateGroups="security"', 'camunda:candidateGroups="valet"')
    bpmn = bpmn.replace("${approved &amp;&amp; spaces &gt; 0}", "${execution.getVariable('a')}")
    bpmn = bpmn.replace(
        '<bpmn:sequenceFlow id="Flow_done" sourceRef="WaitDay" targetRef="Done" />',
        '<bpmn:sequenceFlow id="Flow_done" sourceRef="WaitDay" targetRef="Gone" />',
    )
    files = {**parking_files(), "parking_camunda.bpmn": bpmn.encode()}
    found = [f for f in engine.findings(engine.load_files(files, PARKING_MAPPING))
             if not f.warning]  # fmt: skip
    by_element = {f.element: f for f in found}
    assert "Flow_done" in by_element and "'Gone'" in by_element["Flow_done"].message
    # the reference is broken, so the rest is read when it is fixed; fix it and read again
    files["parking_camunda.bpmn"] = bpmn.replace('targetRef="Gone"', 'targetRef="Done"').encode()
    found = [f for f in engine.findings(engine.load_files(files, PARKING_MAPPING))
             if not f.warning]  # fmt: skip
    by_element = {f.element: f.message for f in found}
    assert "repeats for ever" in by_element["ReviewReminder"]
    assert "did you mean 'PT1H'" in by_element["WaitDay"]
    assert "candidate group 'valet' is mapped to no role" in by_element["Assign"]
    assert "calls a method" in by_element["Flow_yes"]
    assert all(f.file == "parking_camunda.bpmn" and f.line for f in found)


def test_a_script_calling_what_the_sandbox_has_not_is_refused_at_validation():
    """print() passed validation and failed at run time, blocking the case."""
    source = engine.load_package(Path(__file__).parent / "fixtures" / "processes" / "two_step")
    assert "escalation_level = 2" in source.bpmn
    broken = dataclasses.replace(
        source, bpmn=source.bpmn.replace("escalation_level = 2", 'print("escalated")')
    )
    (found,) = engine.problems(broken)
    assert found.startswith("mark_major: script calls print, which scripts cannot call")
    assert "deadline" in found  # and says what it can call


def test_an_empty_lane_no_role_maps_is_said_as_a_warning():
    source = engine.load_package(Path(__file__).parents[1] / "processes" / "repair")
    lane = '<bpmn:lane id="Lane_outsourced" name="外包单位" />'
    bpmn = source.bpmn.replace("<bpmn:laneSet", "<bpmn:laneSet", 1)
    bpmn = re.sub(r"(<bpmn:laneSet[^>]*>)", r"\1" + lane, bpmn, count=1)
    found = engine.findings(dataclasses.replace(source, bpmn=bpmn))
    assert not [f for f in found if not f.warning]
    assert any(f.warning and f.element == "Lane_outsourced" for f in found)


def test_camunda_due_dates_give_the_task_its_due_time_counted_from_when_it_appears():
    from datetime import UTC, datetime, timedelta

    from engine import clock

    bpmn = parking_files()["parking_camunda.bpmn"].replace(
        b'camunda:assignee="frontdesk1"', b'camunda:assignee="frontdesk1" camunda:dueDate="P3D"'
    )
    source = engine.load_files({**parking_files(), "parking_camunda.bpmn": bpmn},
                               PARKING_MAPPING)  # fmt: skip
    # both read, not ignored: P3D here, ${dateTime().plusDays(2).toDate()} on Review
    assert not any("dueDate" in f.message for f in engine.findings(source))
    eng, at = engine.Engine(), datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    with clock.frozen(at):
        first = eng.start(source, {"unit": "1-101"})
    with clock.frozen(at + timedelta(hours=1)):
        second = eng.complete(source, first.state, first.ready[0].id,
                              {"approved": True, "spaces": 1})  # fmt: skip
    with clock.frozen(at + timedelta(hours=5)):  # later steps keep the first moment
        third = eng.inspect(source, second.state)
    (assign,) = third.ready
    assert assign.due == at + timedelta(hours=1, days=3)
    ignored = bpmn.replace(b'camunda:dueDate="P3D"', b'camunda:dueDate="${order.deadline}"')
    found = engine.findings(engine.load_files({**parking_files(), "parking_camunda.bpmn": ignored},
                                              PARKING_MAPPING))  # fmt: skip
    assert any(f.warning and f.element == "Assign" and "dueDate" in f.message for f in found)


VISITOR_MAPPING = {
    "key": "visitor_pass", "name": {"zh-hans": "访客通行证", "en": "Visitor pass"},
    "start_roles": ["frontdesk"], "roles": {"Reception": "frontdesk"},
}  # fmt: skip


def test_a_signavio_collaboration_runs_the_pool_named_and_reads_the_other_as_a_picture():
    files = {"visitor.bpmn": (MODELERS / "visitor_signavio.bpmn").read_bytes()}
    unnamed = engine.load_files(files, VISITOR_MAPPING)  # every pool marked not executable
    (why,) = unnamed.load_problems
    assert "name the one to run as process_id" in why and "sid-desk-process" in why

    source = engine.load_files(files, {**VISITOR_MAPPING, "process_id": "sid-desk-process"})
    found = engine.findings(source)
    assert [str(f) for f in found if not f.warning] == []  # the owner's pool needs no roles
    said = {f.element for f in found if f.warning}
    assert {"sid-desk-process", "sid-receive"} <= said  # run although not executable; start
    started = engine.Engine().start(source, {})
    assert [(t.bpmn_id, t.role) for t in started.ready] == [("sid-issue", "frontdesk")]


def test_an_upload_without_a_key_is_named_after_its_process_or_its_file():
    mapping = {k: v for k, v in PARKING_MAPPING.items() if k != "key"}
    assert engine.load_files(parking_files(), mapping).key == "parking_application"
    generic = parking_files()["parking_camunda.bpmn"].replace(b"ParkingApplication", b"Process_1")
    files = {**parking_files(), "parking_camunda.bpmn": b"", "Visitor Parking.bpmn": generic}
    files.pop("parking_camunda.bpmn")
    assert engine.load_files(files, mapping).key == "visitor_parking"  # not "process_1"


SPIFFARENA = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_k"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="key_handover" name="Key handover" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="hand_keys" name="Hand over the keys">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="keys-schema.json" />
          <spiffworkflow:property name="formUiSchemaFilename" value="keys-uischema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="hand_keys" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="hand_keys" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_spiffarena_package_with_its_ui_schema_deploys():
    files = {
        "key_handover.bpmn": SPIFFARENA,
        "keys-schema.json": json.dumps({"type": "object", "properties": {
            "keys": {"type": "integer", "title": "Keys"}}}).encode(),
        "keys-uischema.json": json.dumps({"ui:order": ["keys"]}).encode(),
    }  # fmt: skip
    mapping = {"name": {"zh-hans": "交钥匙", "en": "Key handover"},
               "start_roles": ["frontdesk"], "default_role": "frontdesk"}  # fmt: skip
    source = engine.load_files(files, mapping)
    assert source.key == "key_handover" and engine.problems(source) == []
    (task,) = engine.Engine().start(source, {}).ready
    assert (task.role, task.form, task.ui_form) == ("frontdesk", "keys-schema.json",
                                                    "keys-uischema.json")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "python"),
    [
        ("=approved", "approved"),
        ("= approved = true", "approved == True"),
        ('=amount > 100 and kind = "urgent"', 'amount > 100 and kind == "urgent"'),
        ("=not(approved)", "not (approved)"),
        ("=owner.vip != false or level >= 2", "owner['vip'] != False or level >= 2"),
    ],
)
def test_simple_feel_as_zeebe_writes_it_is_read_too(text, python):
    assert juel.translate_feel(text) == python


@pytest.mark.parametrize("text", ["=count(items) > 0", "=if a then b else c", "=x[1]"])
def test_feel_beyond_the_simple_part_is_refused(text):
    with pytest.raises(juel.NotTranslatable):
        juel.translate_feel(text)


ZEEBE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_z"
  targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.31.0">
  <bpmn:process id="Process_0p8k2v1" name="Noise complaint" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Check" name="Check the noise">
      <bpmn:extensionElements>
        <zeebe:userTask />
        <zeebe:assignmentDefinition candidateGroups="security" />
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Loud" default="quiet"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>loud</bpmn:outgoing><bpmn:outgoing>quiet</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="Warn" name="Warn the neighbour">
      <bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="relations" />
      </bpmn:extensionElements>
      <bpmn:incoming>loud</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>quiet</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="StartEvent_1" targetRef="Check" />
    <bpmn:sequenceFlow id="f2" sourceRef="Check" targetRef="Loud" />
    <bpmn:sequenceFlow id="loud" sourceRef="Loud" targetRef="Warn">
      <bpmn:conditionExpression xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:type="bpmn:tFormalExpression">=decibels &gt; 55 and night = true
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="quiet" sourceRef="Loud" targetRef="EndEvent_1" />
    <bpmn:sequenceFlow id="f3" sourceRef="Warn" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_camunda_8_diagram_with_feel_and_zeebe_groups_runs():
    mapping = {"name": {"zh-hans": "噪音投诉", "en": "Noise complaint"},
               "start_roles": ["frontdesk"]}  # fmt: skip
    source = engine.load_files({"noise-complaint.bpmn": ZEEBE}, mapping)
    assert source.key == "noise_complaint"  # Process_0p8k2v1 is the modeler's default id
    assert engine.problems(source) == []
    eng = engine.Engine()
    first = eng.start(source, {})
    assert [(t.bpmn_id, t.role) for t in first.ready] == [("Check", "security")]
    loud = eng.complete(source, first.state, first.ready[0].id, {"decibels": 70, "night": True})
    assert [(t.bpmn_id, t.role) for t in loud.ready] == [("Warn", "relations")]
    quiet = eng.complete(source, first.state, first.ready[0].id, {"decibels": 40, "night": True})
    assert quiet.status == "completed"


def test_a_service_task_is_mapped_by_its_job_type_as_well_as_by_its_id():
    bpmn = ZEEBE.replace(
        b'<bpmn:userTask id="Warn" name="Warn the neighbour">\n      <bpmn:extensionElements>'
        b'<zeebe:assignmentDefinition candidateGroups="relations" />',
        b'<bpmn:serviceTask id="Warn" name="Warn the neighbour">\n      <bpmn:extensionElements>'
        b'<zeebe:taskDefinition type="send-warning" />',
    ).replace(b"</bpmn:userTask>\n    <bpmn:endEvent", b"</bpmn:serviceTask>\n    <bpmn:endEvent")
    assert b"send-warning" in bpmn and b"serviceTask" in bpmn
    mapping = {"name": "Noise", "start_roles": ["frontdesk"],
               "operations": {"send-warning": "manual:relations"}}  # fmt: skip
    source = engine.load_files({"noise.bpmn": bpmn}, mapping)
    assert engine.problems(source) == []
    eng = engine.Engine()
    first = eng.start(source, {})
    loud = eng.complete(source, first.state, first.ready[0].id, {"decibels": 70, "night": True})
    assert [(t.bpmn_id, t.role) for t in loud.ready] == [("Warn", "relations")]


def test_a_diagram_saved_as_utf_16_by_a_windows_tool_reads_as_the_same_package():
    text = parking_files()["parking_camunda.bpmn"].decode()
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    source = engine.load_files({**parking_files(), "parking_camunda.bpmn": utf16},
                               PARKING_MAPPING)  # fmt: skip
    assert engine.problems(source) == []
    assert source.content_hash == engine.load_files(parking_files(), PARKING_MAPPING).content_hash
