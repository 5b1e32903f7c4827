"""Every package in processes/ is deployable, complete and drawn."""

import dataclasses
import re

import pytest
from django.conf import settings
from lxml import etree

import engine
from engine import layout
from engine.roles import ROLE_KEYS

SOURCES = engine.discover(settings.PROPFLOW_PROCESSES_DIR)
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
HUMAN = (f"{BPMN}userTask", f"{BPMN}manualTask")


def by_key(key: str) -> engine.ProcessSource:
    return next(s for s in SOURCES if s.key == key)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.key)
def test_the_package_validates(source):
    assert engine.problems(source) == []


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.key)
def test_every_lane_maps_to_a_role_and_every_human_task_sits_in_one(source):
    root = etree.fromstring(source.bpmn.encode())
    lanes = root.findall(f".//{BPMN}lane")
    assert lanes, "a process of the domain has lanes"
    in_lanes = set()
    for lane in lanes:
        assert source.lanes.get(lane.get("name")) in ROLE_KEYS, lane.get("name")
        in_lanes |= {ref.text.strip() for ref in lane.findall(f"{BPMN}flowNodeRef")}
    for task in root.iter(*HUMAN):
        assert task.get("id") in in_lanes, f"{task.get('id')} is in no lane"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.key)
def test_every_form_exists_and_every_element_has_a_chinese_name_and_an_english_gloss(source):
    root = etree.fromstring(source.bpmn.encode())
    for name in [source.start_form, *engine.registry.referenced_forms(source.bpmn)]:
        assert name in source.forms, f"form {name} is missing"
        assert engine.schema_problems(source.forms[name]) == []
        assert source.forms[name].get("x-title-en"), f"form {name} has no English title"
    named = [el for el in root.iter() if isinstance(el.tag, str) and el.get("name") is not None
             and el.tag.startswith(BPMN) and el.getparent().tag == f"{BPMN}process"]  # fmt: skip
    for el in named:
        if el.tag.endswith(("sequenceFlow", "laneSet")):
            continue
        assert re.search(r"[\u4e00-\u9fff]", el.get("name")), f"{el.get('id')}: name not Chinese"
        assert source.glossary.get(el.get("id")), f"{el.get('id')}: no English gloss in [en]"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.key)
def test_every_form_file_of_a_package_is_one_its_process_uses(source):
    # A deployed version keeps only the forms it names: a file nobody names would be lost.
    folder = settings.PROPFLOW_PROCESSES_DIR / source.key / "forms"
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(source.forms)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.key)
def test_every_diagram_has_layout(source):
    assert layout.missing(source.bpmn.encode()) == []


def test_the_five_processes_of_the_domain_are_all_here():
    assert sorted(s.key for s in SOURCES) == [
        "complaint", "move_in", "move_out", "renovation", "repair",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('value="&quot;vacant&quot;"', 'value="&quot;sold&quot;"',
         "set_vacant: unit_set_status: status must be one of"),
        ('id="owner_file_move_out"', 'id="owner_file_delete"',
         "record_move_out: unknown service operation 'owner_file_delete'"),
        ('deadline("move_out.arrears_reminder")', 'deadline("move_out.arrears")',
         "arrears_reminder: timer expression names unknown time limit 'move_out.arrears'"),
        ('<spiffworkflow:parameter id="unit" type="str" value="unit"/>\n'
         '            <spiffworkflow:parameter id="moved_out"',
         '<spiffworkflow:parameter id="moved_out"',
         "record_move_out: owner_file_move_out needs unit"),
    ],
)  # fmt: skip
def test_a_broken_service_task_escalation_or_limit_is_named_at_validation(old, new, message):
    source = by_key("move_out")
    assert old in source.bpmn
    broken = dataclasses.replace(source, bpmn=source.bpmn.replace(old, new))
    found = engine.problems(broken)
    assert any(p.startswith(message) for p in found), found


def test_an_escalation_code_of_bpmn_s_own_deploys_and_is_said_when_nothing_catches_it():
    """BPMN: a code is caught by a boundary event in the same process; the product's codes
    (levels, role keys) are an extension, so another code is no error."""
    source = by_key("move_out")
    broken = dataclasses.replace(
        source, bpmn=source.bpmn.replace('escalationCode="frontdesk"', 'escalationCode="boss"')
    )
    found = engine.findings(broken)
    assert [str(f) for f in found if not f.warning] == []
    assert any(f.warning and f.element == "notify_arrears" and "'boss' is caught by nothing"
               in f.message for f in found), found  # fmt: skip
