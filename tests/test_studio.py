"""The process studio's pages without a browser: who may open them, the form preview, and
the diagrams as the editor saves them (tests/test_studio_browser.py drives the editor)."""

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.scenario import deploy_all

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "server" / "web" / "frontend"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
DIAGRAMS = sorted((ROOT / "processes").glob("*/*.bpmn"))


@pytest.fixture
def studio(db, users):
    deploy_all()

    def client(role: str | None, language: str = "zh-hans") -> Client:
        c = Client(HTTP_ACCEPT_LANGUAGE=language)
        if role == "admin":
            c.force_login(User.objects.create_superuser("admin", password="pw"))
        elif role:
            c.force_login(users[role])
        return c

    return client


PAGES = ("/studio/", "/studio/repair/edit/", "/studio/repair/diff/1/1/")


def test_property_managers_and_superusers_open_the_studio_and_no_one_else(studio):
    for role in ("property_manager", "admin"):
        c = studio(role)
        for url in PAGES:
            assert c.get(url).status_code == 200, (role, url)
        assert 'href="/studio/"' in c.get("/").content.decode()  # the menu has it
    for role in ("frontdesk", "cs_supervisor", "auditor"):
        c = studio(role)
        for url in PAGES:
            assert c.get(url).status_code == 403, (role, url)
        assert c.post("/studio/repair/form-preview/", {"schema": "{}"}).status_code == 403
        assert "/studio/" not in c.get("/").content.decode()
    for url in PAGES:
        response = studio(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_the_editor_page_carries_what_its_script_needs(studio):
    page = studio("property_manager").get("/studio/repair/edit/").content.decode()
    assert 'data-key="repair"' in page and 'data-version="1"' in page
    assert 'data-api="/api/processes/"' in page and 'data-csrf="' in page
    assert "studio/studio.js" in page and 'id="studio-roles"' in page
    assert "保存草稿" in page and "部署" in page  # its words in the page's language
    english = studio("property_manager", "en").get("/studio/repair/edit/").content.decode()
    assert "Save draft" in english and '"Technician"' in english  # roles for the mapping


def test_unknown_processes_and_versions_are_not_found(studio):
    c = studio("property_manager")
    assert c.get("/studio/nosuch/edit/").status_code == 404
    assert c.get("/studio/repair/diff/1/2/").status_code == 404
    assert c.get("/studio/repair/diff/0/1/").status_code == 404


def test_the_preview_draws_a_form_as_the_task_page_does(studio):
    c = studio("property_manager")
    schema = (ROOT / "processes/repair/forms/repair_arrive.json").read_text()
    page = c.post("/studio/repair/form-preview/", {"schema": schema}).content.decode()
    assert 'name="arrival_note"' in page and "到场情况" in page
    page = c.post("/studio/repair/form-preview/", {"schema": schema}, HTTP_ACCEPT_LANGUAGE="en")
    assert "On arrival" in page.content.decode()


def test_the_preview_says_why_a_form_cannot_be_drawn(studio):
    c = studio("property_manager", "en")
    for text, says in (
        ('{"type": "object", "properties": ', "Not JSON"),
        ('{"type": "object", "properties": {"x": {"type": "strin"}}}', "properties/x/type"),
        ("[]", "is not a JSON object"),
        ("x" * 200_001, "longer than"),
    ):
        page = c.post("/studio/repair/form-preview/", {"schema": text}).content.decode()
        assert says in page and "<form" not in page, text[:40]
    assert c.get("/studio/repair/form-preview/").status_code == 405


def canonical(element):
    return (
        element.tag,
        tuple(sorted(element.attrib.items())),
        (element.text or "").strip(),
        tuple(canonical(child) for child in element),
    )


@pytest.mark.skipif(
    not shutil.which("node") or not (FRONTEND / "node_modules" / "bpmn-moddle").is_dir(),
    reason="needs node and the studio's packages (`make setup`)",
)
@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.parent.name)
def test_a_diagram_read_and_written_by_the_studio_keeps_every_element(path):
    # bpmn-moddle with the editor's extensions (Camunda 7's, SpiffWorkflow's) writes every
    # element and attribute back, the SpiffWorkflow extension elements included.
    source = path.read_text(encoding="utf-8")
    written = subprocess.run(
        ["node", "src/roundtrip.mjs"], cwd=FRONTEND, input=source, capture_output=True,
        text=True, check=True, timeout=60,
    )  # fmt: skip
    assert written.stderr == ""
    before, after = ET.fromstring(source.encode()), ET.fromstring(written.stdout.encode())
    assert any(e.tag.startswith(SPIFF) for e in before.iter())
    assert canonical(after) == canonical(before)


def test_deploying_the_newest_version_as_the_editor_sends_it_changes_nothing(api):
    deploy_all()
    manager = api("property_manager")
    files = manager.get("/api/processes/repair/versions/1/").json()["files"]
    assert "rehearsals/urgent_not_on_site.json" in files
    parts = [SimpleUploadedFile(name, text.encode()) for name, text in files.items()]
    answer = manager.post("/api/processes/", {"files": parts}, format="multipart")
    assert (answer.status_code, answer.json()["created"]) == (200, False)


def test_the_diff_page_lists_the_changes_in_words_when_the_server_has_them(studio, monkeypatch):
    c = studio("property_manager")
    assert 'data-testid="changes-in-words"' not in c.get(PAGES[2]).content.decode()
    monkeypatch.setattr(
        "server.web.views.studio.changes_in_words",
        lambda key, a, b: ["急修到场时限：30 分钟 → 20 分钟"],
    )
    page = c.get(PAGES[2]).content.decode()
    assert 'data-testid="changes-in-words"' in page and "30 分钟 → 20 分钟" in page
