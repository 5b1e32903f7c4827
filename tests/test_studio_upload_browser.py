"""A refused upload in a real browser: the library page lists the problems, keeps the package
as the draft, and the editor opens it with each problem marked on the diagram."""

import pytest

from tests import test_browser as browser
from tests.test_import import PARKING_MAPPING, parking_files

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - pytestmark skips the module then
    expect = None

pytestmark = browser.pytestmark
chromium = browser.chromium
site = browser.site
shot = browser.shot


@pytest.fixture
def package(tmp_path):
    """The Camunda package of tests/test_import.py, with two problems, as files on disk."""
    bpmn = parking_files()["parking_camunda.bpmn"].replace(b"R3/PT5M", b"R/PT1M")
    bpmn = bpmn.replace(b'camunda:candidateGroups="security"', b'camunda:candidateGroups="valet"')
    paths = []
    for name, data in {**parking_files(), "parking_camunda.bpmn": bpmn}.items():
        path = tmp_path / name.rsplit("/", 1)[-1]
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def test_a_refused_upload_opens_in_the_editor_with_its_problems_marked(site, package):
    import json

    page = site.login("property_manager", viewport={"width": 1600, "height": 1000})
    page.goto(f"{site.url}/studio/")
    form = page.locator("[data-testid=upload-form]")
    form.locator("input[type=file]").set_input_files(package)
    form.locator("textarea[name=mapping]").fill(json.dumps(PARKING_MAPPING))
    form.locator("button[type=submit]").click()
    problems = page.locator("[data-testid=upload-problems]")
    expect(problems).to_contain_text("ReviewReminder")
    expect(problems).to_contain_text("valet")
    shot(page, "studio-upload-refused")

    page.locator("[data-testid=open-draft]").click()
    expect(page.locator("#studio[data-ready]")).to_have_count(1)
    expect(page.locator("#studio-problems li[data-element='Assign']")).to_contain_text("valet")
    for element in ("Assign", "ReviewReminder"):
        marked = page.locator(f".djs-element.pf-problem[data-element-id='{element}']")
        expect(marked).to_have_count(1)
    shot(page, "studio-upload-draft")
