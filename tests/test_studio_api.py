"""The process studio through the API, as a script or a CI pipeline would use it: upload
packages drawn in other modelers, read versions, download, retire, roll back, drafts."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from server.flows.models import ProcessDefinition, ProcessInstance
from tests.test_import import DEPOSIT_MAPPING, PARKING_MAPPING, deposit_files, parking_files


def upload(client, files: dict[str, bytes], mapping: dict | None = None, **fields):
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files.items()],
            **fields}  # fmt: skip
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    return client.post("/api/processes/", data, format="multipart")


@pytest.fixture
def manager(api):
    return api("property_manager")


def test_a_camunda_package_uploads_starts_and_reaches_its_first_task_with_the_mapped_role(
    manager, api
):
    answer = upload(manager, parking_files(), PARKING_MAPPING, note="new process")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["key"], body["version"], body["created"]) == ("parking", 1, True)
    assert any(w["element"] == "Review" and "taskListener" in w["message"]
               for w in body["warnings"])  # fmt: skip
    again = upload(manager, parking_files(), PARKING_MAPPING)
    assert (again.status_code, again.json()["created"]) == (200, False)

    frontdesk = api("frontdesk")
    started = frontdesk.post("/api/instances/", {"process": "parking", "data": {"unit": ""}},
                             format="json")  # fmt: skip
    assert started.status_code == 201, started.json()
    inbox = frontdesk.get("/api/tasks/?process=parking").json()["results"]
    assert [(t["bpmn_id"], t["role"]) for t in inbox] == [("Review", "frontdesk")]


def test_several_bpmn_files_with_a_call_activity_and_a_dmn_table_upload_as_one_zip(manager, api):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in deposit_files().items():
            archive.writestr(name, content)
    answer = upload(manager, {"deposit.zip": buffer.getvalue()}, DEPOSIT_MAPPING)
    assert answer.status_code == 201, answer.json()
    started = api("frontdesk").post(
        "/api/instances/", {"process": "deposit_dispute", "data": {"damage": "minor"}},
        format="json",
    )  # fmt: skip
    assert started.status_code == 201, started.json()
    tasks = api("finance").get("/api/tasks/?process=deposit_dispute").json()["results"]
    assert [(t["bpmn_id"], t["role"]) for t in tasks] == [("ReviewDeduction", "finance")]


def test_a_broken_package_is_refused_with_every_problem_and_nothing_is_stored(manager):
    bpmn = parking_files()["parking_camunda.bpmn"].decode()
    bpmn = bpmn.replace("R3/PT5M", "R/PT1M").replace("P2D", "P1H")
    bpmn = bpmn.replace('camunda:candidateGroups="security"', 'camunda:candidateGroups="valet"')
    files = {**parking_files(), "parking_camunda.bpmn": bpmn.encode()}
    answer = upload(manager, files, PARKING_MAPPING)
    assert answer.status_code == 400
    body = answer.json()
    elements = {e["element"] for e in body["errors"]}
    assert {"ReviewReminder", "WaitDay", "Assign"} <= elements, body
    assert all(e["file"] == "parking_camunda.bpmn" and e["line"] for e in body["errors"])
    assert not ProcessDefinition.objects.filter(key="parking").exists()

    not_xml = upload(manager, {"x.bpmn": b"<bpmn:definitions"}, PARKING_MAPPING)
    assert not_xml.status_code == 400
    assert [e["file"] for e in not_xml.json()["errors"]] == ["x.bpmn"]
    bad_mapping = manager.post("/api/processes/", {
        "files": [SimpleUploadedFile("a.bpmn", b"x")], "mapping": "{not json"},
        format="multipart")  # fmt: skip
    assert bad_mapping.status_code == 400 and "mapping" in bad_mapping.json()["detail"]
    nothing = manager.post("/api/processes/", {}, format="multipart")
    assert nothing.status_code == 400
    assert [e["message"].split(":")[0] for e in nothing.json()["errors"]] == ["files"]


def test_a_dry_run_validates_and_stores_nothing(manager):
    answer = upload(manager, parking_files(), PARKING_MAPPING, dry_run="1")
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["dry_run"], answer.json()["version"]) == (True, None)
    assert not ProcessDefinition.objects.filter(key="parking").exists()


@pytest.mark.parametrize("role", ["frontdesk", "cs_supervisor", "auditor"])
def test_only_a_manager_may_upload(api, role):
    answer = upload(api(role), parking_files(), PARKING_MAPPING)
    assert answer.status_code == 403
    assert not ProcessDefinition.objects.filter(key="parking").exists()


def test_versions_download_retire_and_roll_back(manager, api):
    upload(manager, parking_files(), PARKING_MAPPING, note="first")
    changed = {**parking_files(), "parking_camunda.bpmn": parking_files()[
        "parking_camunda.bpmn"].replace(b"R3/PT5M", b"R2/PT10M")}  # fmt: skip
    second = upload(manager, changed, PARKING_MAPPING, note="slower reminder")
    assert second.json()["version"] == 2

    versions = api("cs_supervisor").get("/api/processes/parking/versions/").json()
    assert [(v["version"], v["note"]) for v in versions["results"]] == [
        (2, "slower reminder"), (1, "first")]  # fmt: skip
    assert versions["results"][0]["deployed_by"]["username"] == "property_manager"
    assert api("frontdesk").get("/api/processes/parking/versions/").status_code == 403

    detail = manager.get("/api/processes/parking/versions/1/").json()
    assert "R3/PT5M" in detail["files"]["parking_camunda.bpmn"]
    assert "forms/review.json" in detail["files"]
    assert detail["mapping"]["roles"] == {"front-office": "frontdesk"}
    zipped = manager.get("/api/processes/parking/versions/1/package/")
    assert zipped["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert "parking/process.toml" in names and "parking/parking_camunda.bpmn" in names
    assert manager.get("/api/processes/parking/versions/9/").status_code == 404

    retired = manager.post("/api/processes/parking/retire/", {"reason": "trial over"},
                           format="json")  # fmt: skip
    assert retired.status_code == 200
    start = api("frontdesk").post("/api/instances/", {"process": "parking", "data": {}},
                                  format="json")  # fmt: skip
    assert start.status_code == 409
    listed = [p["key"] for p in api("frontdesk").get("/api/processes/").json()["results"]]
    assert "parking" not in listed

    rollback = manager.post("/api/processes/parking/versions/1/redeploy/", {}, format="json")
    assert rollback.status_code == 201 and rollback.json()["version"] == 3
    newest = ProcessDefinition.objects.get(key="parking", version=3)
    assert (
        newest.content_hash == ProcessDefinition.objects.get(key="parking", version=1).content_hash
    )
    again = api("frontdesk").post("/api/instances/", {"process": "parking", "data": {}},
                                  format="json")  # fmt: skip
    assert again.status_code == 201
    assert ProcessInstance.objects.get(pk=again.json()["id"]).definition_id == newest.pk


def test_a_draft_is_saved_read_and_thrown_away_by_managers_only(manager, api):
    files = {"parking_camunda.bpmn": parking_files()["parking_camunda.bpmn"].decode()}
    saved = manager.put("/api/processes/parking/draft/",
                        {"files": files, "mapping": PARKING_MAPPING, "note": "wip"},
                        format="json")  # fmt: skip
    assert saved.status_code == 200, saved.json()
    assert manager.get("/api/processes/parking/draft/").json()["files"] == files
    assert api("cs_supervisor").get("/api/processes/parking/draft/").status_code == 403
    assert manager.delete("/api/processes/parking/draft/").status_code == 204
    assert manager.get("/api/processes/parking/draft/").status_code == 404


def test_deploy_processes_skips_a_bad_package_and_retires_a_removed_one(db, tmp_path, settings):
    shipped = Path(settings.PROPFLOW_PROCESSES_DIR)
    import shutil

    for key in ("repair", "complaint"):
        shutil.copytree(shipped / key, tmp_path / key)
    out, err = io.StringIO(), io.StringIO()
    call_command("deploy_processes", processes=tmp_path, stdout=out, stderr=err)
    assert "repair: deployed as version 1" in out.getvalue()

    broken = tmp_path / "complaint" / "complaint.bpmn"
    broken.write_text(broken.read_text().replace("</bpmn:definitions>", ""))
    shutil.rmtree(tmp_path / "repair")
    out, err = io.StringIO(), io.StringIO()
    call_command("deploy_processes", processes=tmp_path, stdout=out, stderr=err)
    assert "complaint: not deployed, skipped" in err.getvalue()
    assert "repair: retired" in out.getvalue()
    from server.flows.definitions.selectors import is_retired

    assert is_retired("repair") and not is_retired("complaint")
    shutil.copytree(shipped / "repair", tmp_path / "repair")  # back: in service again
    call_command("deploy_processes", processes=tmp_path, stdout=io.StringIO(),
                 stderr=io.StringIO())  # fmt: skip
    assert not is_retired("repair")


def test_a_manager_rehearses_the_repair_flow_and_sees_level_2_after_the_virtual_30_minutes(
    manager, api
):
    from engine import load_package
    from server.flows.definitions.services import process_deploy

    repair = load_package(Path(__file__).parents[1] / "processes" / "repair")
    process_deploy(source=repair)
    script = repair.rehearsals["urgent_not_on_site.json"]
    answer = manager.post("/api/processes/repair/rehearse/", {"script": script}, format="json")
    assert answer.status_code == 200, answer.json()
    played = answer.json()
    level2 = [e for e in played["timeline"] if e["kind"] == "escalated" and e["level"] == 2]
    assert level2 and level2[0]["at"].startswith("2026-11-23T09:30")
    assert played["passed"] and ProcessInstance.objects.count() == 0  # nothing real

    bad = manager.post(
        "/api/processes/repair/rehearse/",
        {"script": {**script, "steps": [{"complete": "nowhere"}]}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"]["script"][0].startswith("step 1:")
    assert api("frontdesk").post("/api/processes/repair/rehearse/", {"script": script},
                                 format="json").status_code == 403  # fmt: skip


def test_the_changes_between_versions_are_said_in_words(db):
    import dataclasses

    from engine import load_package
    from server.flows.definitions.changes import version_changes
    from server.flows.definitions.services import process_deploy

    repair = load_package(Path(__file__).parents[1] / "processes" / "repair")
    process_deploy(source=repair)
    old_timer = 'deadline("repair.urgent_arrival", start=arrival_from) if urgency == "urgent"'
    assert old_timer in repair.bpmn
    bpmn = repair.bpmn.replace(old_timer, '"PT20M" if urgency == "urgent"')
    lanes = {**repair.lanes, "工程部": "cs_supervisor"}
    process_deploy(source=dataclasses.replace(repair, bpmn=bpmn, lanes=lanes, rehearsals={}))

    words = version_changes(key="repair", a=1, b=2, language="en")
    timer = [w for w in words if w.startswith("Time limit of 未按时到场 (arrival_late)")]
    assert timer and "30 minutes" in timer[0], words
    assert "20 minutes" in timer[0].split("→")[1], words
    assert any("is worked by Customer-service supervisor (was Engineering)" in w
               for w in words), words  # fmt: skip
    assert version_changes(key="repair", a=1, b=1, language="en") == []


def test_a_refused_package_s_problems_come_in_the_reader_s_language(manager):
    bpmn = parking_files()["parking_camunda.bpmn"].replace(b"R3/PT5M", b"R/PT1M")
    files = {**parking_files(), "parking_camunda.bpmn": bpmn}
    manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    answer = upload(manager, files, PARKING_MAPPING)
    assert answer.status_code == 400
    (cycle,) = [e for e in answer.json()["errors"] if e["element"] == "ReviewReminder"]
    assert cycle["message"] == "定时循环 'R/PT1M' 会无限重复：请写明重复次数 R<n>/…，n 最多为 60"
    assert any("仅作说明" in w["message"] for w in answer.json()["warnings"])
    manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    english = upload(manager, files, PARKING_MAPPING).json()["errors"]
    assert any("repeats for ever" in e["message"] for e in english)


def test_a_bad_package_on_disk_does_not_stop_the_checks_that_gate_the_server(tmp_path, settings):
    """``manage.py check`` (run by migrate, runserver and serve) only warns about it."""
    import shutil

    from django.core.management.base import SystemCheckError

    shipped = Path(settings.PROPFLOW_PROCESSES_DIR)
    shutil.copytree(shipped / "repair", tmp_path / "repair")
    broken = tmp_path / "repair" / "repair.bpmn"
    broken.write_text(broken.read_text().replace("</bpmn:definitions>", ""))
    settings.PROPFLOW_PROCESSES_DIR = tmp_path
    err = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=err)  # no SystemCheckError
    assert "propflow.W001" in err.getvalue() and "repair" in err.getvalue()
    with pytest.raises(SystemCheckError):
        call_command("check", fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())


def test_too_many_files_or_too_large_a_draft_is_a_clear_400(manager):
    files = {f"f{i}.json": b"{}" for i in range(230)}
    answer = upload(manager, files, PARKING_MAPPING)
    assert answer.status_code == 400 and answer["Content-Type"] == "application/json"
    assert "too large" in answer.json()["errors"][0]["message"]
    big = {"files": {f"{i}.json": "x" * 4_000_000 for i in range(6)}, "mapping": {}}
    refused = manager.put("/api/processes/parking/draft/", big, format="json")
    assert refused.status_code == 400 and "files" in refused.json()["errors"]


def test_a_rehearsal_s_expectations_come_in_the_reader_s_language(manager):
    from engine import load_package
    from server.flows.definitions.services import process_deploy

    repair = load_package(Path(__file__).parents[1] / "processes" / "repair")
    process_deploy(source=repair)
    script = json.loads(json.dumps(repair.rehearsals["urgent_not_on_site.json"]))
    for step in script["steps"]:
        if step.get("expect", {}).get("escalation") == 2:
            step["expect"]["escalation"] = 3  # a wrong expectation, to read its sentence
    manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    played = manager.post("/api/processes/repair/rehearse/", {"script": script}, format="json")
    failed = [e for e in played.json()["expectations"] if not e["passed"]]
    assert failed and failed[0]["message"] == "预期 案件升级到第 3 级；实际 案件升级到第 2 级"
