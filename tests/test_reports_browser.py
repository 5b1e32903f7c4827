"""The reports and registers in the browser: the supervisor opens the daily complaint report
of a day from the navigation, downloads it as a spreadsheet that reads back with the day's
complaints, prints it; the monthly statistics; the dispatcher filters the repair register.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from tests.scenario import Case, local
from tests.test_browser import (  # noqa: F401 - fixtures
    chromium,
    field,
    pytestmark,
    shot,
    site,
)
from tests.test_kpis import COMPLAINT, urgent_repair


def test_a_supervisor_reads_prints_and_downloads_the_daily_complaint_report(site, users):  # noqa: F811
    from playwright.sync_api import expect

    day = [Case(users, "complaint", as_="frontdesk", data={**COMPLAINT, "description": d},
                at=local(f"2026-11-10 {t}")) for d, t in (("保洁员态度恶劣", "09:00"),
                                                          ("电梯异响", "15:30"))]  # fmt: skip
    day[1].complete("screen", as_="frontdesk", data={"valid": True, "department": "engineering"})
    Case(users, "complaint", as_="frontdesk", data={**COMPLAINT, "description": "前一天的"},
         at=local("2026-11-09 18:00"))  # fmt: skip
    urgent_repair(users, "2026-11-10")
    urgent_repair(users, "2026-11-11", arrive_late_by=3)

    page = site.login("cs_supervisor")
    page.click("nav >> text=报表")
    field(page, "date").fill("2026-11-10")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**/reports/complaints-daily/?date=2026-11-10")
    sheet = page.get_by_test_id("sheet")
    expect(sheet.locator("tbody tr")).to_have_count(2)
    expect(sheet).to_contain_text("电梯异响")
    expect(sheet).not_to_contain_text("前一天的")
    expect(sheet).to_contain_text("***")  # the supervisor has no task in them yet
    expect(page.get_by_test_id("count")).to_contain_text("当日登记投诉 2 宗")
    shot(page, "report-daily")

    with page.expect_download() as download:
        page.click("a[data-format=XLSX]")
    data = Path(download.value.path()).read_bytes()
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [r[8] for r in rows[1:]] == ["保洁员态度恶劣", "电梯异响"]

    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("button:visible")).to_have_count(0)
    expect(page.get_by_test_id("print-header")).to_contain_text("客户投诉信息日报表 · 2026-11-10")
    shot(page, "report-daily-print")
    page.emulate_media(media="screen")

    page.click("text=月度服务统计")
    field(page, "month").fill("2026-11")
    page.get_by_role("button", name="显示").click()
    stats = page.get_by_test_id("stats")
    expect(stats.first).to_contain_text("受理")
    expect(page.locator("main")).to_contain_text("50.0%")  # one of two repairs on time
    shot(page, "report-monthly")


def test_the_dispatcher_filters_the_repair_register(site, users):  # noqa: F811
    from playwright.sync_api import expect

    urgent_repair(users, "2026-11-10")
    urgent_repair(users, "2026-11-11", arrive_late_by=3)
    page = site.login("dispatcher", locale="en-US")
    page.click("nav >> text=Registers")
    sheet = page.get_by_test_id("sheet")
    expect(sheet.locator("tbody tr")).to_have_count(2)
    field(page, "from").fill("2026-11-11")
    page.get_by_role("button", name="Search").click()
    expect(sheet.locator("tbody tr")).to_have_count(1)
    expect(sheet).to_contain_text("王先生")  # the dispatcher dispatched it: sees the reporter
    expect(sheet).to_contain_text("Water")
    shot(page, "register-repairs")
