"""A technician's inbox and a case page on a 390x844 phone, and the case page on a desk, in
Chromium (the fixtures and the skip rules are tests/test_browser.py's). Screenshots go to
test-artifacts/."""

# ruff: noqa: F811 - the tests take the fixtures imported from tests/test_browser.py

from datetime import timedelta

from engine import clock
from tests.scenario import Case
from tests.test_browser import (  # noqa: F401 - the fixtures and skip rules
    ARTIFACTS,
    chromium,
    expect,
    pytestmark,
    shot,
    site,
)

PHONE = {"width": 390, "height": 844}
JOBS = [  # (unit, where, what is wrong, urgency, trade)
    ("1-101", "厨房", "水管爆裂，水漫到客厅", "urgent", "water_electric"),
    ("1-102", "卫生间", "马桶堵塞", "ordinary", "water_electric"),
    ("1-101", "客厅", "入户门锁打不开", "urgent", "building"),
    ("1-102", "阳台", "窗户玻璃破裂", "ordinary", "building"),
    ("1-101", "走廊", "可视对讲没有画面", "ordinary", "smart"),
    ("1-102", "主卧", "空调插座跳闸", "urgent", "water_electric"),
]


def dispatched_jobs(users) -> list[Case]:
    """Six repairs dispatched to ``technician``: their arrival is his to do."""
    cases = []
    for unit, where, what, urgency, trade in JOBS:
        case = Case(users, "repair", as_="frontdesk", at=clock.now(), data={
            "reporter": "王先生", "phone": "13800000001", "unit": unit, "location": where,
            "channel": "phone", "description": what, "area": "in_unit", "trade": trade,
            "fault_kind": "other", "urgency": urgency,
        })  # fmt: skip
        data = {"technician": "technician", "requirements": "按约上门"}
        if urgency == "urgent":
            case.complete("dispatch_urgent", as_="dispatcher", data=data)
        else:
            at = (clock.now() + timedelta(hours=3)).isoformat(timespec="seconds")
            case.complete("dispatch", as_="dispatcher", data={**data, "appointment_at": at})
        cases.append(case)
    return cases


def test_a_technician_s_phone_shows_five_jobs_or_more_with_what_each_is(site, users):
    dispatched_jobs(users)
    phone = site.login("technician", viewport=PHONE)
    rows = phone.locator("table.inbox tbody tr")
    expect(rows).to_have_count(6)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    visible = [b for b in (rows.nth(i).bounding_box() for i in range(6)) if b["y"] + b["height"]
               <= PHONE["height"]]  # fmt: skip
    assert len(visible) >= 5, f"{len(visible)} jobs on the first screen"
    first = rows.first
    expect(first.locator(".summary")).to_have_text("厨房 · 水管爆裂，水漫到客厅")
    expect(first.locator(".tag.alert")).to_have_text("急修")
    expect(first.locator(".caller a")).to_have_text("13800000001")
    expect(phone.locator(".tabs a[data-stage=arrive]")).to_contain_text("待接单 6")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "inbox-phone-first-screen.png"))  # what one sees
    shot(phone, "inbox-phone-jobs")
    first.locator("td.name a").click()
    expect(phone.locator("[data-testid=caller]")).to_contain_text("王先生 · 13800000001")


def test_the_case_page_on_a_phone_has_the_step_bar_and_the_diagram_behind_a_tap(site, users):
    case = dispatched_jobs(users)[0]
    phone = site.login("technician", viewport=PHONE)
    phone.goto(f"{site.url}/cases/{case.id}/")
    steps = phone.locator("[data-testid=steps] li")
    expect(steps).to_have_count(5)
    expect(steps.nth(1)).to_have_class("done")
    expect(steps.nth(2)).to_have_class("current")
    expect(phone.locator("[data-testid=caller]")).to_contain_text("王先生")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator("[data-testid=diagram-box]")
    assert box.evaluate("d => d.open") is False  # a tap away on a phone
    shot(phone, "case-phone")
    box.locator("summary").click()
    expect(phone.locator("#diagram[data-ready='1']")).to_have_count(1)
    expect(phone.locator("#diagram .djs-element.pf-active")).not_to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_case_page_on_a_desk_opens_the_diagram_and_zooms_it(site, users):
    case = dispatched_jobs(users)[0]
    desk = site.login("dispatcher")
    desk.goto(f"{site.url}/cases/{case.id}/")
    expect(desk.locator("#diagram[data-ready='1']")).to_have_count(1)  # open on a wide screen
    scale = "document.querySelector('#diagram .viewport').transform.baseVal[0].matrix.a"
    before = desk.evaluate(scale)
    desk.locator("[data-zoom=in]").click()
    assert desk.evaluate(scale) > before
    shot(desk, "case-desk")


def test_an_english_phone_reads_the_jobs_in_english_but_what_the_caller_said(site, users):
    dispatched_jobs(users)
    phone = site.login("technician", locale="en-US", viewport=PHONE)
    expect(phone.locator(".tabs a[data-stage=arrive]")).to_contain_text("To accept 6")
    first = phone.locator("table.inbox tbody tr").first
    expect(first.locator(".tag")).to_have_text(["Urgent", "Water / electric"])
    expect(first.locator(".summary")).to_have_text("厨房 · 水管爆裂，水漫到客厅")  # as typed
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "inbox-phone-first-screen-en.png"))
    rows = phone.locator("table.inbox tbody tr")
    bottoms = [rows.nth(i).bounding_box() for i in range(6)]
    assert sum(b["y"] + b["height"] <= PHONE["height"] for b in bottoms) >= 5
