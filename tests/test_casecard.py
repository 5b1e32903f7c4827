"""A case's one-line summary and its milestones: package data, checked at deploy, rendered
in the reader's language (engine/casecard.py). No database."""

import dataclasses
import re

import pytest
from django.conf import settings
from lxml import etree

import engine
from engine import casecard

SOURCES = {s.key: s for s in engine.discover(settings.PROPFLOW_PROCESSES_DIR)}
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# Start data of each process, as the front desk types it (Chinese free text).
STARTS = {
    "repair": {
        "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
        "description": "水管爆裂", "urgency": "urgent", "trade": "water_electric",
        "photos": ["data:image/png;base64,AAAA"],
    },
    "complaint": {
        "complainant": "李女士", "phone": "13900000002", "description": "保安态度差",
        "category": "service_attitude", "major": True,
    },
    "move_in": {"unit": "1-101", "owner_name": "赵业主", "phone": "13700000003",
                "moving_in_now": True},
    "renovation": {
        "unit": "1-101", "owner_name": "赵业主", "phone": "13700000003", "contractor": "美家",
        "planned_start": "2026-12-01", "planned_end": "2027-01-30", "description": "厨卫翻新",
        "hot_work": True, "structural_change": False, "temporary_power": False,
    },
    "move_out": {"unit": "1-101", "resident": "钱住户", "phone": "13600000004",
                 "move_date": "2026-12-20", "reason": "sale"},
}  # fmt: skip
EXPECTED = {
    "repair": ("急修 · 水电 · 厨房 · 水管爆裂", "Urgent · Water / electric · 厨房 · 水管爆裂"),
    "complaint": ("服务态度 · 重大问题 · 保安态度差", "Service attitude · Major issue "
                  "(starts at level 2) · 保安态度差"),
    "move_in": ("交房后即入住 · 1-101 办理入住", "Moving in right away · Move-in of 1-101"),
    "renovation": ("动火作业 · 厨卫翻新 · 2026-12-01 至 2027-01-30 · 施工单位 美家",
                   "Hot work · 厨卫翻新 · 2026-12-01 to 2027-01-30 · by 美家"),
    "move_out": ("2026-12-20 搬出 · 出售", "Moving out 2026-12-20 · Sale"),
}  # fmt: skip
CALLERS = {"repair": "王先生", "complaint": "李女士", "move_in": "赵业主",
           "renovation": "赵业主", "move_out": "钱住户"}  # fmt: skip


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_each_process_says_what_its_case_is_about_in_both_languages(key):
    source = SOURCES[key]
    kept = casecard.values(source, STARTS[key])
    zh, en = (casecard.render(source, kept, lang) for lang in ("zh-hans", "en"))
    assert (zh.line, en.line) == EXPECTED[key]
    assert (zh.caller, zh.phone) == (CALLERS[key], STARTS[key]["phone"])
    typed = "".join(str(v) for v in STARTS[key].values())
    assert not [c for c in CHINESE.findall(en.line.replace(" ", "")) if c not in typed]


def test_a_summary_keeps_no_files_and_cuts_long_text_to_a_line():
    source = SOURCES["repair"]
    kept = casecard.values(source, {**STARTS["repair"], "description": "漏水" * 500})
    assert "photos" not in kept and len(kept["description"]) == casecard.KEPT_CHARACTERS
    assert set(kept) == {"location", "description", "urgency", "trade", "reporter", "phone"}


def test_a_later_step_without_the_field_keeps_what_the_case_said():
    source = SOURCES["repair"]
    kept = casecard.values(source, STARTS["repair"])
    assert casecard.values(source, {"outcome": "done"}, kept) == kept
    assert casecard.values(source, {"urgency": "ordinary"}, kept)["urgency"] == "ordinary"


def test_only_the_alerting_value_makes_a_tag_red_and_a_false_flag_is_no_tag():
    repair, complaint = SOURCES["repair"], SOURCES["complaint"]
    ordinary = casecard.render(repair, {"urgency": "ordinary", "trade": "lift"}, "zh-hans")
    assert [(t.label["zh-hans"], t.alert) for t in ordinary.tags] == [
        ("一般维修", False), ("电梯", False)]  # fmt: skip
    minor = casecard.render(complaint, {"category": "other", "major": False}, "en")
    assert [t.field for t in minor.tags] == ["category"]


def test_a_piece_with_no_value_yet_is_left_out():
    shown = casecard.render(SOURCES["move_out"], {"reason": "other"}, "en")
    assert shown.line == "Other" and casecard.render(SOURCES["move_out"], {}, "en").line == ""


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_every_human_task_of_a_shipped_process_belongs_to_a_milestone(key):
    source = SOURCES[key]
    root = etree.fromstring(source.bpmn.encode())
    human = {t.get("id") for t in root.iter(f"{BPMN}userTask", f"{BPMN}manualTask")}
    stages = casecard.stage_of(source)
    assert human - set(stages) == set()
    first = casecard.milestones(source)[0]
    assert first.tasks == ("start",) and not first.waiting  # received: no tab of its own
    assert all(m.name("en") and not CHINESE.search(m.name("en")) for m in
               casecard.milestones(source))  # fmt: skip


def test_the_repair_s_step_bar_reads_as_the_service_centre_says_it():
    names = [m.name("zh-hans") for m in casecard.milestones(SOURCES["repair"])]
    assert names == ["受理", "派工", "到场", "完工", "回访"]
    tabs = [m.waiting.get("zh-hans") for m in casecard.milestones(SOURCES["repair"])][1:]
    assert tabs == ["待派工", "待接单", "维修中", "待回访"]


def _with(source, **changes):
    return dataclasses.replace(source, **changes)


BAD_SUMMARIES = [
    ({"zh-hans": ["{phone}"], "en": ["{phone}"]}, "shows personal field 'phone'"),
    ({"zh-hans": ["{nothing}"], "en": ["{location}"]}, "names field 'nothing'"),
    ({"zh-hans": ["{location}"]}, "needs 'en'"),
    ({"zh-hans": ["{location"], "en": ["x"]}, "cannot be read"),
    ({"zh-hans": ["x"], "en": ["x"], "tags": ["description"]}, "tag 'description' must be"),
    ({"zh-hans": ["x"], "en": ["x"], "tags": ["urgency"], "alert": ["urgency=soon"]},
     "alert 'urgency=soon'"),
]  # fmt: skip


@pytest.mark.parametrize(("summary", "message"), BAD_SUMMARIES)
def test_a_broken_summary_is_named_at_validation(summary, message):
    found = engine.problems(_with(SOURCES["repair"], summary=summary))
    assert any(message in p and p.startswith("process.toml") for p in found), found


def _milestone(**entry):
    return {"key": "x", "name": "某", "en": "X", "waiting": "待", "waiting_en": "To", **entry}


BAD_MILESTONES = [
    ([_milestone(tasks=["nowhere"])], "names 'nowhere', which is neither"),
    ([_milestone(tasks=["intake"])], "names 'intake', which is neither"),  # a script task
    ([_milestone(tasks=["arrive"]), _milestone(key="y", tasks=["arrive"])], "milestone 1 names"),
    ([_milestone(tasks=["arrive"], waiting="")], "needs waiting and waiting_en"),
    ([_milestone(tasks=["arrive"], waiting="", waiting_en="")], "no waiting name"),
    ([_milestone(key="Bad key", tasks=["arrive"])], "key 'Bad key' must be"),
    ([_milestone(tasks=[])], "names no task"),
    (["not a table"], "must be a table"),
]  # fmt: skip


@pytest.mark.parametrize(("milestones", "message"), BAD_MILESTONES)
def test_a_broken_milestone_is_named_at_validation(milestones, message):
    found = engine.problems(_with(SOURCES["repair"], milestones=milestones))
    assert any(message in p for p in found), found


def test_summary_and_milestones_travel_with_the_package_and_keep_its_hash():
    source = SOURCES["renovation"]
    again = engine.load_files(engine.package_files(source))
    assert again.summary == source.summary and again.milestones == source.milestones
    assert again.content_hash == source.content_hash
    bare = _with(source, summary={}, milestones=[])
    assert "summary" not in bare.manifest() and "milestones" not in bare.manifest()


def test_a_manifest_whose_summary_is_not_a_table_is_refused():
    files = engine.package_files(SOURCES["move_out"])
    toml = files["process.toml"].decode().replace("[summary]", "[summary_old]")
    files["process.toml"] = ('summary = "one line"\n' + toml).encode()
    assert any("summary must be a table" in p for p in engine.problems(engine.load_files(files)))


def test_the_step_bar_follows_the_trail_and_rework_reaches_a_milestone_again():
    repair = SOURCES["repair"]
    trail = [
        ("started", None, 1, "desk"), ("completed", "dispatch", 2, "disp"),
        ("completed", "arrive", 3, "tech"), ("completed", "repair_work", 4, "tech"),
        ("completed", "return_visit", 5, "disp"), ("completed", "dispatch", 6, "boss"),
    ]  # fmt: skip
    bar = casecard.progress(repair, trail, ["arrive"])  # rework: on the way again
    assert [(r.milestone.key, r.at, r.actor, r.current) for r in bar] == [
        ("received", 1, "desk", False), ("dispatch", 6, "boss", False),
        ("arrive", 3, "tech", True), ("work", 4, "tech", False), ("visit", 5, "disp", False),
    ]  # fmt: skip
    waiting = casecard.progress(repair, trail[:1], ["fee_consent"])  # a task of the stage
    assert [r.current for r in waiting] == [False, False, False, True, False]
    assert casecard.progress(dataclasses.replace(repair, milestones=[]), trail, []) == []
