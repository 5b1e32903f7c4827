"""Rehearsals: the real packages played on a virtual clock, in memory, with no database."""

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import engine
from engine import operations, rehearsal
from engine.rehearsal import RehearsalInvalid

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNED = "data:image/png;base64,iVBORw0KGgo="
REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "厨房水龙头漏水", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "ordinary",
}  # fmt: skip
URGENT_DISPATCH = {"complete": "dispatch_urgent",
                   "data": {"technician": "李师傅", "requirements": "立即处理"}}  # fmt: skip
DONE = {"outcome": "done", "work_done": "更换阀芯", "owner_signature": SIGNED}


def dispatch(at: str, **more) -> dict:
    data = {"technician": "李师傅", "requirements": "带阀芯", "appointment_at": at, **more}
    return {"complete": "dispatch", "data": data}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def eng():
    return engine.Engine()


@pytest.fixture(scope="module")
def repair():
    return engine.load_package(PROCESSES / "repair")


@pytest.fixture(scope="module")
def complaint():
    return engine.load_package(PROCESSES / "complaint")


def kinds(played, *wanted):
    return [(e.kind, e.at) for e in played.timeline if e.kind in wanted]


def test_an_urgent_repair_not_on_site_in_30_minutes_escalates_to_level_2_then_3(eng, repair):
    played = rehearsal.run(eng, repair, {
        "data": {**REQUEST, "urgency": "urgent"},
        "steps": [
            URGENT_DISPATCH,
            {"advance": "PT29M"},
            {"expect": {"escalation": 0, "tasks": ["arrive"]}},  # 09:29: not yet late
            {"advance": "PT1M"},  # 09:30: the limit is reached, the timer fires
            {"expect": {"escalation": 2, "notified": ["cs_supervisor"], "fired": ["arrival_late"],
                        "due": {"arrive": "2026-11-23T09:30:00+08:00"}}},
            {"advance": {"until": "2026-11-23T10:01"}},
            {"expect": {"escalation": 3, "notified": ["vice_gm"], "tasks": ["arrive"]}},
        ],
    })  # fmt: skip

    assert played.passed, played.failures()
    escalated = [(e.at, e.detail["level"], e.detail["role"], e.detail["late_task"])
                 for e in played.timeline if e.kind == "escalated"]  # fmt: skip
    assert escalated == [
        (local("2026-11-23 09:30"), 2, "cs_supervisor", "arrive"),  # fired at its own moment
        (local("2026-11-23 10:00"), 3, "vice_gm", "arrive"),  # not at the end of the advance
    ]
    [notice] = [e for e in played.timeline if e.kind == "notified" and e.step == 4]
    assert notice.detail == {
        "role": "cs_supervisor", "notice": "escalation", "level": 2,
        "event": "escalate_arrival_level2", "name": "升级至客服中心主管：未按时到场",
        "name_en": "Escalate to the CS supervisor: not on site", "late_task": "arrive",
    }  # fmt: skip
    [appeared] = [e for e in played.timeline if e.kind == "task_appeared" and e.step == 1]
    assert appeared.detail == {"task": "arrive", "name": "接单并到场",
                               "name_en": "Accept and arrive on site", "role": "technician",
                               "due": local("2026-11-23 09:30")}  # fmt: skip
    assert (played.status, played.escalation, played.now) == (
        "running",
        3,
        local("2026-11-23 10:01"),
    )


def test_an_urgent_repair_nobody_dispatches_notifies_the_supervisor_without_escalating(eng, repair):
    played = rehearsal.run(eng, repair, {
        "data": {**REQUEST, "urgency": "urgent"},
        "steps": [{"advance": "PT11M"},
                  {"expect": {"notified": ["cs_supervisor"], "escalation": 0,
                              "fired": ["dispatch_urgent_late"]}}],
    })  # fmt: skip
    assert played.passed, played.failures()
    [notice] = [e for e in played.timeline if e.kind == "notified"]
    assert (notice.at, notice.detail["notice"], notice.detail["late_task"]) == (
        local("2026-11-23 09:10"),
        "notice",
        "dispatch_urgent",
    )


def test_the_happy_path_runs_to_completion(eng, repair):
    played = rehearsal.run(eng, repair, {
        "description": "An ordinary repair, done the same day, the owner satisfied",
        "data": REQUEST,
        "steps": [
            {"expect": {"tasks": ["dispatch"], "status": "running"}},
            dispatch("2026-11-23T14:00:00+08:00"),
            {"expect": {"due": {"arrive": "2026-11-23T14:30:00+08:00"}}},
            {"advance": {"until": "2026-11-23T13:50:00+08:00"}},
            {"expect": {"fired": [], "notified": []}},
            {"complete": "arrive"},
            {"expect": {"tasks": ["repair_work"], "due": {"repair_work": "2026-11-30T09:00"}}},
            {"complete": "repair_work", "data": DONE, "note": "the technician fixes it"},
            {"advance": "PT20H"},
            {"complete": "return_visit", "data": {"satisfaction": "satisfied"}},
            {"expect": {"status": "completed", "tasks": [], "escalation": 0,
                        "data": {"late": False, "first_time_pass": True}}},
        ],
    })  # fmt: skip

    assert played.passed, played.failures()
    done = [e.detail["task"] for e in played.timeline if e.kind == "task_completed"]
    assert done == ["dispatch", "arrive", "repair_work", "return_visit"]
    assert [(e.kind, e.detail) for e in played.timeline][-1] == ("ended", {"status": "completed"})
    assert not [e for e in played.timeline if e.kind in ("escalated", "notified", "timer_fired")]


def test_skipping_working_days_steps_over_the_weekend(eng, repair):
    friday = "2026-11-27T09:00:00+08:00"
    played = rehearsal.run(eng, repair, {
        "start_at": friday,
        "data": REQUEST,
        "steps": [
            # A reply-by after the limit: no reminder before it.
            dispatch("2026-11-27T10:00:00+08:00", reply_by="2026-12-07T09:00:00+08:00"),
            {"complete": "arrive"},
            {"expect": {"due": {"repair_work": "2026-12-04T09:00:00+08:00"}}},  # 5 working days
            {"advance": {"working_days": 1}},
            {"expect": {"fired": []}},
            {"advance": {"working_days": 4}},
            {"expect": {"fired": ["repair_late"], "notified": ["cs_supervisor"]}},
        ],
    })  # fmt: skip

    assert played.passed, played.failures()
    advanced = [e.at for e in played.timeline if e.kind == "advanced"]
    assert advanced == [local("2026-11-30 09:00"), local("2026-12-04 09:00")]  # Fri → Mon
    [fired] = [e for e in played.timeline if e.kind == "timer_fired"]
    assert (fired.at, fired.detail["task"]) == (local("2026-12-04 09:00"), "repair_work")


def test_expectations_that_fail_are_results_with_sentences(eng, repair):
    script = {
        "data": {**REQUEST, "urgency": "urgent"},
        "steps": [
            URGENT_DISPATCH,
            {"advance": "PT31M"},
            {"expect": {"escalation": 3, "tasks": ["repair_work"], "status": "completed",
                        "notified": ["vice_gm"], "due": {"arrive": "2026-11-23T09:40"},
                        "data": {"technician": "张师傅"}}},
        ],
    }  # fmt: skip
    played = rehearsal.run(eng, repair, script)

    assert not played.passed
    assert played.failures() == [
        "step 3: expected open tasks repair_work; open at 2026-11-23 09:31: arrive (technician)",
        "step 3: expected the case completed; the case is running",
        "step 3: expected the case at escalation level 3; the case is at escalation level 2",
        "step 3: expected step 2 to notify vice_gm; step 2 notified cs_supervisor",
        "step 3: expected arrive due at 2026-11-23 09:40; arrive is due at 2026-11-23 09:30",
        'step 3: expected technician = "张师傅"; technician is "李师傅"',
    ]
    assert rehearsal.check(eng, repair, script) == played.failures()
    answer = played.as_dict()
    assert json.loads(json.dumps(answer)) == answer
    assert answer["passed"] is False
    assert [o["passed"] for o in answer["expectations"]] == [False] * 6


def test_a_bad_step_is_told_by_its_number(eng, repair):
    script = {
        "data": {**REQUEST, "urgency": "sometime"},
        "steps": [
            {"complete": "dispatch_urgnet"},
            {"complete": "dispatch", "data": {"technician": "李", "appointment_at": "soon"}},
            {"complete": "arrive", "data": {"arrival_note": "到了", "extra": 1}},
            {"advance": "P1M"},
            {"advance": "half an hour"},
            {"advance": {"working_days": 0}},
            {"expect": {"escalation": 5, "tasks": ["nowhere"], "colour": "red"}},
            {"advance": "PT1H", "complete": "arrive"},
        ],
    }  # fmt: skip
    with pytest.raises(RehearsalInvalid) as caught:
        rehearsal.run(eng, repair, script)

    problems = caught.value.problems
    assert "start: field 'urgency': Must be one of: urgent, ordinary." in problems
    unknown = (
        "step 1: the process has no human task 'dispatch_urgnet'; its human tasks: "
        "acknowledge_delay, arrive,"
    )
    assert any(p.startswith(unknown) for p in problems)
    assert "step 2 (dispatch): field 'requirements': This field is required." in problems
    assert "step 2 (dispatch): field 'appointment_at': Must be a valid date-time." in problems
    assert "step 3 (arrive): field 'extra': This field is not part of the form." in problems
    assert any(
        p.startswith("step 4: 'P1M': years and months have no fixed length") for p in problems
    )
    assert any(p.startswith("step 5: 'half an hour' is not an ISO 8601 duration") for p in problems)
    assert "step 6: working_days must be a whole number from 1 to 2500" in problems
    assert "step 7: unknown expectation 'colour'; known: " in " ".join(problems)
    assert "step 7: tasks: the process has no human task 'nowhere'" in problems
    assert "step 7: escalation is one of 0, 2, 3 (0: not escalated)" in problems
    assert (
        "step 8: a step is one of complete, advance, expect, not complete and advance at once"
        in problems
    )
    assert caught.value.rehearsal is None  # refused before it ran
    assert rehearsal.check(eng, repair, script) == problems


def test_a_task_that_is_not_open_stops_the_rehearsal_at_its_step(eng, repair):
    script = {
        "data": REQUEST,
        "steps": [{"expect": {"escalation": 2}},
                  {"complete": "arrive"},
                  {"advance": "PT1H"}],
    }  # fmt: skip
    with pytest.raises(RehearsalInvalid) as caught:
        rehearsal.run(eng, repair, script)

    assert caught.value.problems == [
        "step 2: task 'arrive' is not open at 2026-11-23 09:00; open: dispatch"
    ]
    assert caught.value.rehearsal.timeline[-1].kind == "task_appeared"  # what ran before it
    assert rehearsal.check(eng, repair, script) == [
        "step 1: expected the case at escalation level 2; the case is not escalated",
        "step 2: task 'arrive' is not open at 2026-11-23 09:00; open: dispatch",
    ]
    back = {
        "data": REQUEST,
        "steps": [{"advance": "PT1H"}, {"advance": {"until": "2026-11-23T09:30"}}],
    }
    assert rehearsal.check(eng, repair, back) == [
        "step 2: until 2026-11-23 09:30 is before the virtual clock, 2026-11-23 10:00"
    ]


def test_a_draft_that_fails_is_told_at_its_step(eng, repair):
    broken = dataclasses.replace(repair, bpmn=repair.bpmn.replace(
        "first_time_pass = rework_count == 0", "first_time_pass = rework_count / 0"))  # fmt: skip
    script = {"data": {**REQUEST, "in_warranty": True}, "steps": [
        {"complete": "warranty_handover",
         "data": {"contractor": "某建筑公司", "scheduled_at": "2026-11-24T09:00:00+08:00"}},
        {"complete": "warranty_verify", "data": {"verified": True, "owner_signature": SIGNED}},
        {"complete": "return_visit", "data": {"satisfaction": "satisfied"}},
    ]}  # fmt: skip
    [problem] = rehearsal.check(eng, broken, script)
    assert problem.startswith("step 3: the process failed: close: ")
    assert "ZeroDivisionError" in problem


def test_a_repeating_timer_cannot_run_the_clock_for_ever(eng, complaint, monkeypatch):
    monkeypatch.setattr(rehearsal, "MAX_FIRINGS", 20)  # the real 100 costs 4 s
    script = {
        "data": {"complainant": "陈女士", "phone": "13900000002", "unit": "1-101",
                 "channel": "walk_in", "description": "水管漏水", "category": "water_electric"},
        "steps": [
            {"complete": "screen", "data": {"valid": True, "department": "engineering"}},
            {"advance": {"working_days": 8}},
            {"expect": {"tasks": ["handle_level3"], "escalation": 3}},
            {"advance": "P400D"},
        ],
    }  # fmt: skip
    with pytest.raises(RehearsalInvalid) as caught:
        rehearsal.run(eng, complaint, script)

    [problem] = caught.value.problems
    assert problem.startswith(f"step 4: more than {rehearsal.MAX_FIRINGS} timer firings before ")
    partial = caught.value.rehearsal
    assert partial.passed  # step 3 held
    daily = [e.at for e in partial.timeline if e.kind == "timer_fired"
             and e.detail["timer"] == "level3_daily"]  # fmt: skip
    assert daily[1] - daily[0] == daily[2] - daily[1]  # each on its own day, one day apart
    assert len([e for e in partial.timeline if e.kind == "timer_fired" and e.step == 4]) == (
        rehearsal.MAX_FIRINGS
    )


def test_a_rehearsal_fires_at_most_so_many_timers_in_all(eng, repair, monkeypatch):
    monkeypatch.setattr(rehearsal, "MAX_FIRINGS_IN_ALL", 1)
    script = {"data": {**REQUEST, "urgency": "urgent"},
              "steps": [URGENT_DISPATCH, {"advance": "PT31M"}, {"advance": "PT31M"}]}  # fmt: skip
    assert rehearsal.check(eng, repair, script) == [
        "step 3: more than 1 timer firings in the whole rehearsal; rehearse a shorter stretch "
        "of time"
    ]


def test_service_calls_are_shown_not_applied(eng, monkeypatch):
    for name, required in (("unit_set_status", ("unit", "status")),
                           ("owner_file_move_out", ("unit", "moved_out"))):  # fmt: skip
        declared = operations.Operation(name, required, (), en=name)
        monkeypatch.setitem(operations.OPERATIONS, name, declared)  # what the server registers
    move_out = engine.load_package(PROCESSES / "move_out")
    played = rehearsal.run(eng, move_out, {
        "data": {"unit": "3-502", "resident": "孙伟", "phone": "13600000005",
                 "move_date": "2026-11-28", "reason": "lease_end"},
        "steps": [
            {"complete": "settle", "data": {"water": 35.5, "electricity": 120,
                                            "property_fee": 900, "settled": True}},
            {"complete": "inspect", "data": {"matches_move_in": True}},
            {"complete": "keys_back", "data": {"keys": 3, "access_cards": 2,
                                               "all_returned": True}},
            {"complete": "goods_pass", "data": {"pass_no": "CM-07", "items": "家具",
                                                "valid_on": "2026-11-28"}},
            {"complete": "gate_check", "data": {"checked": True}},
            {"expect": {"tasks": ["archive"]}},
        ],
    })  # fmt: skip

    assert played.passed, played.failures()
    effects = [(e.step, e.detail) for e in played.timeline if e.kind == "effect"]
    assert effects == [
        (5, {"operation": "unit_set_status", "params": {"unit": "3-502", "status": "vacant"}}),
        (5, {"operation": "owner_file_move_out",
             "params": {"unit": "3-502", "moved_out": "2026-11-28"}}),
    ]  # fmt: skip


def test_the_same_script_gives_the_same_timeline(eng, repair):
    script = {
        "data": {**REQUEST, "urgency": "urgent"},
        "steps": [URGENT_DISPATCH, {"advance": {"working_days": 2}},
                  {"complete": "arrive"}, {"complete": "repair_work", "data": DONE},
                  {"complete": "return_visit", "data": {"satisfaction": "unsatisfied"}},
                  {"expect": {"tasks": ["dispatch_urgent"], "data": {"rework_count": 1}}}],
    }  # fmt: skip
    first = rehearsal.run(eng, repair, script).as_dict()
    again = rehearsal.run(engine.Engine(), repair, json.loads(json.dumps(script))).as_dict()

    assert first == again
    assert first["passed"] is True
    assert first["started_at"] == "2026-11-23T09:00:00+08:00"  # the default start


def test_the_saved_rehearsals_in_the_packages_pass(eng):
    saved = 0
    for folder in sorted(p.parent for p in PROCESSES.glob("*/process.toml")):
        scripts, unreadable = rehearsal.load_scripts(folder)
        assert unreadable == []
        source = engine.load_package(folder)
        for name, script in scripts.items():
            assert rehearsal.check(eng, source, script) == [], f"{folder.name}/{name}"
            saved += 1
    assert saved >= 1
