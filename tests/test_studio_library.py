"""The process library's pages: upload from the browser (problems listed by file, line and
element, nothing stored), every version with its cases, download, retire, deploy again."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from server.flows.definitions.selectors import is_retired
from server.flows.models import ProcessDefinition
from tests.test_import import PARKING_MAPPING, parking_files


@pytest.fixture
def browser(db, users):
    def client(role: str) -> Client:
        c = Client(HTTP_ACCEPT_LANGUAGE="en")
        c.force_login(users[role])
        return c

    return client


def post_package(client, files, mapping=PARKING_MAPPING, **extra):
    return client.post("/studio/upload/", {
        "files": [SimpleUploadedFile(n, d) for n, d in files.items()],
        "mapping": json.dumps(mapping), **extra,
    })  # fmt: skip


def test_a_manager_uploads_sees_the_versions_retires_and_deploys_again(browser):
    manager = browser("property_manager")
    first = post_package(manager, parking_files(), note="first")
    assert first.status_code == 302 and first["Location"] == "/studio/parking/"
    changed = {**parking_files(), "parking_camunda.bpmn": parking_files()[
        "parking_camunda.bpmn"].replace(b"R3/PT5M", b"R2/PT10M")}  # fmt: skip
    assert post_package(manager, changed, note="second").status_code == 302

    page = manager.get("/studio/parking/").content.decode()
    assert 'data-testid="versions"' in page and "second" in page and "first" in page
    assert "/api/processes/parking/versions/1/package/" in page
    zipped = manager.get("/api/processes/parking/versions/1/package/")  # the session's link
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"

    assert manager.post("/studio/parking/retire/", {"reason": "trial"}).status_code == 302
    assert is_retired("parking")
    assert "Retired" in manager.get("/studio/").content.decode()
    again = manager.post("/studio/parking/versions/1/redeploy/", {})
    assert again.status_code == 302 and not is_retired("parking")
    assert ProcessDefinition.objects.filter(key="parking").count() == 3


def test_a_broken_upload_lists_every_problem_and_stores_nothing(browser):
    bpmn = parking_files()["parking_camunda.bpmn"].replace(b"R3/PT5M", b"R/PT1M")
    bpmn = bpmn.replace(b'camunda:candidateGroups="security"', b'camunda:candidateGroups="valet"')
    answer = post_package(browser("property_manager"),
                          {**parking_files(), "parking_camunda.bpmn": bpmn})  # fmt: skip
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'data-testid="upload-problems"' in page
    assert "ReviewReminder" in page and "Assign" in page and "parking_camunda.bpmn" in page
    assert not ProcessDefinition.objects.filter(key="parking").exists()
    # kept as the draft, for the editor to open with the problems marked
    assert "/studio/parking/edit/?validate=1" in page
    editor = browser("property_manager").get("/studio/parking/edit/")
    assert editor.status_code == 200
    draft = browser("property_manager").get("/api/processes/parking/draft/").json()
    assert "R/PT1M" in draft["files"]["parking_camunda.bpmn"]
    assert "process.toml" in draft["files"] and "forms/review.json" in draft["files"]
    bad_json = post_package(browser("property_manager"), parking_files(), mapping=None)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.content.decode()


@pytest.mark.parametrize("role", ["frontdesk", "cs_supervisor", "auditor"])
def test_only_managers_open_the_library(browser, role):
    c = browser(role)
    assert c.get("/studio/").status_code == 403
    assert post_package(c, parking_files()).status_code == 403
    assert not ProcessDefinition.objects.exists()
