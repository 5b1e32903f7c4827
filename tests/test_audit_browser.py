"""The auditor's trail in the browser (issue 15's acceptance): "an auditor searches late
urgent repairs of last month, opens one, sees per-step time against limits, prints it".

The data are three repairs of last month, driven through the services on a fake clock: an
urgent one the technician reached 20 minutes late, an urgent one done on time, and an
ordinary one reached late.

The auditor fills the search page's form (process, last month's dates, late, urgent),
finds the late urgent repair and neither of the others, and opens it from the results.
"""

from __future__ import annotations

from datetime import date, timedelta

from engine import clock
from server.flows.demo import SIGNED
from tests.scenario import SHANGHAI, Case, local
from tests.test_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    chromium,
    field,
    pytestmark,
    shot,
    site,
)

REQUEST = {
    "reporter": "Mr Wang", "phone": "13800000001", "unit": "1-101", "location": "Kitchen",
    "channel": "phone", "description": "Burst pipe", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip
DONE = {"outcome": "done", "work_done": "New pipe", "owner_signature": SIGNED}


def a_monday_of_last_month() -> date:
    today = clock.now().astimezone(SHANGHAI).date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7)  # its second Monday


def repair(users, day: date, *, urgency: str, late_by: int) -> Case:
    """A repair reported at 09:00 on ``day``, dispatched at 09:05, the technician on site
    ``late_by`` minutes after the arrival limit (negative: before it), done and visited."""
    at = local(f"{day} 09:00")
    case = Case(users, "repair", as_="frontdesk", data={**REQUEST, "urgency": urgency}, at=at)
    case.now = at + timedelta(minutes=5)
    order = {"technician": "technician", "requirements": "Close the valve"}
    if urgency == "urgent":
        case.complete("dispatch_urgent", as_="dispatcher", data=order)
    else:
        order["appointment_at"] = f"{day}T14:00:00+08:00"
        case.complete("dispatch", as_="dispatcher", data=order)
    due = case.due("arrive")
    case.advance_to(due + timedelta(minutes=late_by))
    case.complete("arrive", as_="technician")
    case.now += timedelta(hours=1)
    case.complete("repair_work", as_="technician", data=DONE)
    case.now += timedelta(hours=20)
    case.complete("return_visit", as_="dispatcher", data={"satisfaction": "satisfied"})
    return case


def test_an_auditor_opens_a_late_urgent_repair_of_last_month_sees_each_step_and_prints_it(
    site,  # noqa: F811 - the fixture imported above
    users,
):
    from playwright.sync_api import expect

    monday = a_monday_of_last_month()
    late = repair(users, monday, urgency="urgent", late_by=20)
    repair(users, monday + timedelta(days=1), urgency="urgent", late_by=-10)  # on time
    repair(users, monday + timedelta(days=2), urgency="ordinary", late_by=45)  # not urgent

    page = site.login("auditor", locale="en-US")
    page.click("nav >> text=Audit")
    last = monday.replace(day=1)
    end = (last + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    field(page, "process").select_option("repair")
    field(page, "from").fill(last.isoformat())
    field(page, "to").fill(end.isoformat())
    field(page, "late").check()
    field(page, "urgent").check()
    results = page.get_by_test_id("audit-cases")
    expect(results.locator("tbody tr")).to_have_count(1)
    shot(page, "audit-search-last-month")
    results.get_by_test_id("trail").click()
    page.wait_for_url(f"{site.url}/audit/cases/{late.id}/")
    expect(page.locator("h1")).to_have_text(f"Trail of case #{late.id}")
    expect(page.get_by_test_id("sla")).to_contain_text("1 step(s) missed their limit, 3 met it")

    steps = page.get_by_test_id("steps")
    arrive = steps.locator("tr[data-step=arrive]")
    expect(arrive).to_contain_text("Accept and arrive on site")
    expect(arrive).to_contain_text("Not on site in time")
    expect(arrive).to_contain_text("Missed by 20 min")  # the words, not only the colour
    expect(arrive).to_have_class("missed")
    color = arrive.locator(".outcome").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(192, 38, 45)"  # --late
    dispatch = steps.locator("tr[data-step=dispatch_urgent]")
    expect(dispatch).to_contain_text("Met, 5 min early")
    expect(dispatch).to_contain_text("5 min")  # spent
    expect(page.get_by_test_id("escalations")).to_contain_text("Level 2")
    expect(page.get_by_test_id("path").locator("li").first).to_be_visible()
    expect(page.get_by_test_id("events")).to_contain_text("Completed “Accept and arrive on site”")
    shot(page, "audit-trail")

    # Print: the button asks the browser to print (a stand-in records the call)...
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_test_id("print").click()
    assert page.evaluate("window.printed") is True
    # ... and the printed page has no navigation or buttons, a header naming the case.
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("button:visible")).to_have_count(0)
    expect(page.get_by_test_id("print-header")).to_be_visible()
    expect(page.get_by_test_id("print-header")).to_contain_text(f"Case #{late.id}")
    expect(arrive).to_contain_text("Missed by 20 min")
    shot(page, "audit-trail-print")
    pdf = ARTIFACTS / "audit-trail.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert pages >= 2  # the whole trail, over as many pages as it takes
