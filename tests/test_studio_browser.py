"""The process studio in a real browser: the editor, the studio API behind it, the diff page.

Debian's Chromium driven by Playwright against a live server, with tests/test_browser.py's
fixtures (skipped, saying why, without Chromium; every page under the site's CSP).
Screenshots of the editor with a problem marked and of the two versions side by side go to
test-artifacts/.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from server.flows.definitions import selectors as definitions
from tests import test_browser as browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - pytestmark skips the module then
    expect = None

pytestmark = browser.pytestmark
chromium = browser.chromium  # the module's fixtures, used here under the same names
site = browser.site
shot = browser.shot

ROOT = Path(__file__).resolve().parent.parent
REPAIR = ROOT / "processes" / "repair" / "repair.bpmn"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def spiff_elements(xml: str) -> dict[str, list]:
    """Each BPMN element's SpiffWorkflow extension elements (tag, attributes, text), by id."""
    found = {}
    for element in ET.fromstring(xml.encode()).iter():
        extensions = element.find(f"{BPMN}extensionElements")
        if extensions is not None and element.get("id"):
            found[element.get("id")] = [
                (e.tag, sorted(e.attrib.items()), (e.text or "").strip())
                for e in extensions.iter() if e.tag.startswith(SPIFF)
            ]  # fmt: skip
    return found


def open_editor(site, key="repair"):
    page = site.login("property_manager", viewport={"width": 1600, "height": 1000})
    page.goto(f"{site.url}/studio/{key}/edit/")
    expect(page.locator("#studio[data-ready]")).to_have_count(1)
    return page


def saved_xml(page) -> str:
    return page.evaluate(
        "async () => (await window.propflowStudio.modeler.saveXML({format: true})).xml"
    )


def lane_ids(page) -> set[str]:
    return set(page.evaluate("""() => [...document.querySelectorAll('.djs-shape[data-element-id]')]
        .map((e) => e.dataset.elementId).filter((id) => id.startsWith('Lane'))"""))  # fmt: skip


def centre(page, element_id: str) -> tuple[float, float]:
    box = page.locator(f"#studio-canvas [data-element-id='{element_id}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


# The diagram scrolled so that an element is in the middle of the canvas (a drag that starts
# near the canvas's edge scrolls it, and the drop lands elsewhere).
CENTRE_ON = """(id) => {
  const modeler = window.propflowStudio.modeler;
  const canvas = modeler.get("canvas");
  const element = modeler.get("elementRegistry").get(id);
  const box = canvas.viewbox();
  canvas.viewbox({ x: element.x + element.width / 2 - box.width / 2,
                   y: element.y + element.height / 2 - box.height / 2,
                   width: box.width, height: box.height });
}"""


def panel_group(page, title: str) -> None:
    """Open the properties panel's group ``title`` (General, Timer, ...) unless it is open."""
    header = page.locator(".bio-properties-panel-group-header", has_text=title).first
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def test_the_editor_opens_the_newest_version_and_saves_its_spiffworkflow_elements_unchanged(
    site,
):
    page = open_editor(site)
    expect(page.locator("#studio-status")).to_contain_text("已打开第 1 版")
    page.click("#studio-deploy")  # untouched, the package is the same: no new version
    expect(page.locator("#studio-status")).to_contain_text("没有改动：与第 1 版相同")
    before, after = REPAIR.read_text(encoding="utf-8"), saved_xml(page)
    assert spiff_elements(after) == spiff_elements(before) and len(spiff_elements(before)) >= 9
    # The lanes come with their roles from the manifest; bpmnlint ran on the diagram.
    expect(page.locator("#studio-roles-body select[data-name='维修工']")).to_have_value(
        "technician"
    )
    expect(page.locator(".bjsl-button")).to_have_count(1)
    # A user task's form is chosen from the package's forms and written where the engine
    # reads it; a form's JSON Schema is previewed as staff would see it.
    page.mouse.click(*centre(page, "arrive"))
    expect(page.locator("#studio-task-form-select")).to_have_value("repair_arrive.json")
    page.select_option("#studio-task-form-select", "repair_coordinate.json")
    assert spiff_elements(saved_xml(page))["arrive"][1][1] == [
        ("name", "formJsonSchemaFilename"), ("value", "repair_coordinate.json"),
    ]  # fmt: skip
    page.click("button[data-file='forms/repair_coordinate.json']")
    expect(page.locator("#studio-form-preview [name=decision]")).to_have_count(1)
    page.fill("#studio-file-text", '{"type": "object", "properties": {"x": {"type": "strin"}}}')
    expect(page.locator("[data-testid=preview-problems]")).to_contain_text("properties/x/type")
    page.click("#studio-validate")
    expect(page.locator("#studio-problems")).to_contain_text("repair_coordinate.json")
    # A draft keeps the work, note and all, for the next visit; discarding it goes back.
    page.fill("#studio-note", "试改")
    page.click("#studio-save")
    expect(page.locator("#studio-status")).to_contain_text("草稿已保存")
    page.reload()
    expect(page.locator("#studio[data-ready]")).to_have_count(1)
    expect(page.locator("#studio-status")).to_contain_text("已打开您保存的草稿")
    expect(page.locator("#studio-note")).to_have_value("试改")
    page.mouse.click(*centre(page, "arrive"))
    expect(page.locator("#studio-task-form-select")).to_have_value("repair_coordinate.json")
    page.click("#studio-discard")
    expect(page.locator("#studio-status")).to_contain_text("已打开第 1 版")
    expect(page.locator("#studio-discard")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    assert site.violations == []


def test_a_manager_changes_the_urgent_arrival_timer_maps_a_new_lane_and_deploys_version_2(site):
    # One story, kept whole on purpose: edit, refused for a lane with no role, fixed,
    # deployed, compared.
    page = open_editor(site)

    # The boundary timer on the urgent arrival task: 20 minutes instead of the named limit.
    page.locator("#studio-canvas [data-element-id='arrival_late']").click(force=True)
    panel_group(page, "Timer")
    page.select_option("#bio-properties-panel-timerEventDefinitionType", "timeDuration")
    page.fill("#bio-properties-panel-timerEventDefinitionValue", '"PT20M"')
    page.keyboard.press("Tab")

    # A lane for an outside contractor, and the difficult repairs moved into it.
    before = lane_ids(page)
    page.locator("#studio-canvas [data-element-id='Lane_vice_gm']").click(
        position={"x": 10, "y": 10}, force=True
    )
    page.click(".djs-context-pad .entry[data-action='lane-insert-below']")
    (lane,) = lane_ids(page) - before
    page.mouse.click(*centre(page, lane))
    panel_group(page, "General")
    page.fill("#bio-properties-panel-name", "外包单位")
    page.keyboard.press("Tab")
    page.evaluate(CENTRE_ON, "coordinate")  # as a manager scrolls to it: no auto-scroll
    x, y = centre(page, "coordinate")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 5, y + 5, steps=3)
    page.mouse.move(x, centre(page, lane)[1], steps=10)
    page.mouse.up()
    expect(page.locator("#studio-roles-body tr.unmapped")).to_contain_text("外包单位")

    # Deploying is refused: the problem is listed and its element marked on the diagram.
    page.click("#studio-deploy")
    problem = page.locator("#studio-problems li[data-element='coordinate']")
    expect(problem).to_contain_text("外包单位")
    expect(problem).to_contain_text("repair.bpmn")
    expect(page.locator(".djs-element.pf-problem[data-element-id='coordinate']")).to_have_count(1)
    shot(page, "studio-problem")
    assert definitions.latest_definition("repair").version == 1  # nothing stored
    page.click("#studio-canvas", position={"x": 400, "y": 600})  # select something else
    problem.click()
    expect(page.locator(".djs-element.selected[data-element-id='coordinate']")).to_have_count(1)

    # Mapped to engineering, the lane is right; the package's rehearsal still expects the
    # 30 minutes, and says so.
    page.select_option("#studio-roles-body select[data-name='外包单位']", "engineering")
    page.click("#studio-deploy")
    expect(page.locator("#studio-problems")).to_contain_text("urgent_not_on_site")
    expect(page.locator(".djs-element.pf-problem[data-element-id='coordinate']")).to_have_count(0)
    shot(page, "studio-rehearsal")

    # Told of the 20 minutes, it deploys as version 2 and the marks go.
    page.locator("#studio-problems li", has_text="step 2").click()  # opens the rehearsal
    expect(page.locator("#studio-file-name")).to_have_text("rehearsals/urgent_not_on_site.json")
    rehearsal = page.locator("#studio-file-text")
    expect(page.locator("#studio-form-preview-box")).to_be_hidden()  # no form to preview
    rehearsal.fill(
        rehearsal.input_value()
        .replace("09:30:00", "09:20:00")
        .replace('"PT29M"', '"PT19M"')
        .replace("09:29", "09:19")
    )
    page.fill("#studio-note", "急修到场时限改为20分钟；疑难维修交外包单位")
    page.click("#studio-deploy")
    expect(page.locator("#studio-status")).to_contain_text("已部署为第 2 版")
    expect(page.locator(".djs-element.pf-problem")).to_have_count(0)
    v2 = definitions.latest_definition("repair")
    assert v2.version == 2 and v2.source.lanes["外包单位"] == "engineering"
    assert 'timeDuration xsi:type="bpmn:tFormalExpression">"PT20M"' in v2.bpmn
    assert spiff_elements(v2.bpmn) == spiff_elements(REPAIR.read_text(encoding="utf-8"))
    assert list(v2.source.rehearsals) == ["urgent_not_on_site.json"]  # kept in its folder

    # The two versions side by side: the timer marked changed in both, the lane added.
    page.click("#studio-diff-link")
    expect(page.locator("#studio-diff[data-ready]")).to_have_count(1)
    for side in ("#diff-left", "#diff-right"):
        expect(page.locator(f"{side} .diff-changed[data-element-id='arrival_late']")).to_have_count(
            1
        )
    expect(page.locator(f"#diff-right .diff-added[data-element-id='{lane}']")).to_have_count(1)
    expect(page.locator(f"#diff-left [data-element-id='{lane}']")).to_have_count(0)
    row = page.locator("#diff-changes tr[data-element='arrival_late']")
    expect(row).to_contain_text("修改")
    expect(row).to_contain_text('timeDuration: "PT20M"')
    # A gateway no one touched is not "moved" for the marker the modeler writes on it.
    expect(page.locator("#diff-changes tr[data-element='warranty_gateway']")).to_have_count(0)
    shot(page, "studio-diff")
    row.click()  # both diagrams at full size on the timer
    expect(
        page.locator("#diff-right .diff-changed[data-element-id='arrival_late']")
    ).to_be_in_viewport()
    page.wait_for_timeout(200)
    shot(page, "studio-diff-timer")
    # The viewers move together.
    page.locator("#diff-left").hover()
    page.mouse.wheel(0, 200)
    page.wait_for_timeout(200)
    left, right = (
        page.locator(f"{side} .viewport").first.get_attribute("transform")
        for side in ("#diff-left", "#diff-right")
    )
    numbers = [[float(n) for n in re.findall(r"-?[\d.]+", t)] for t in (left, right)]
    assert numbers[0] == pytest.approx(numbers[1], abs=0.01) and "matrix" in left
    page.wait_for_load_state("networkidle")
    assert site.violations == []
