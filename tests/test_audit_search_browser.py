"""The auditors' search in the browser (issue 15, item 2): an auditor asks for the late
urgent repairs of November with the filter form, sees the case with its time limits met and
missed, its events, and downloads them as CSV."""

import re
from pathlib import Path

from engine import clock
from tests.scenario import Case, local
from tests.test_audit_search import REPAIR
from tests.test_browser import chromium, field, pytestmark, shot, site  # noqa: F401 - fixtures


def test_an_auditor_finds_late_urgent_repairs_of_november_and_downloads_their_events(
    site,  # noqa: F811 - the fixture imported above
    users,
):
    from playwright.sync_api import expect

    late = Case(users, "repair", as_="frontdesk", at=local("2026-11-10 09:00"), data=REPAIR)
    late.now = local("2026-11-10 09:05")
    late.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "关阀"})  # fmt: skip
    late.advance_to(local("2026-11-10 10:30"))  # nobody on site: levels 2 and 3
    ordinary = Case(users, "repair", as_="frontdesk", at=local("2026-11-12 09:00"),
                    data={**REPAIR, "unit": "1-102", "urgency": "ordinary"})  # fmt: skip
    assert clock.now() > local("2026-11-30 23:59")  # "late" is judged at the real now

    page = site.login("auditor")
    page.click("nav >> text=审计")
    field(page, "process").select_option("repair")
    field(page, "from").fill("2026-11-01")
    field(page, "to").fill("2026-11-30")
    field(page, "late").check()
    field(page, "urgent").check()
    expect(page).to_have_url(re.compile(r"late=1.*urgent=1"))  # the search is a link
    cases = page.get_by_test_id("audit-cases")
    expect(cases.locator("tbody tr")).to_have_count(1)
    row = cases.locator("tbody tr")
    expect(row.get_by_test_id("trail")).to_have_text(f"#{late.id}")
    expect(row.get_by_test_id("trail")).to_have_attribute("href", f"/audit/cases/{late.id}/")
    expect(row.get_by_test_id("sla")).to_contain_text("2 项时限，按时 1 项")
    expect(row.get_by_test_id("sla")).to_contain_text("超时 1 项，最多超出")
    expect(row).to_contain_text("3级")
    assert f"#{ordinary.id}" not in cases.inner_text()
    shot(page, "audit-search-late-urgent-repairs")

    page.click(".tabs >> text=事件")
    events = page.get_by_test_id("audit-events")
    expect(events).to_contain_text("升级")
    shot(page, "audit-search-events")
    with page.expect_download() as download:
        page.click("a[data-format=CSV]")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("case / 案件,process / 流程")
    assert text.count("\n") == 1 + len(late.events())
