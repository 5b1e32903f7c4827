"""The KPI dashboard in the browser (issue 16's acceptance): repairs of last month on the
fake clock, one of them late by a minute; the manager opens /kpis/, picks last month, sees
repair timeliness below its target in red and in words, and clicks through to the late
jobs: exactly the late case. The charts are drawn (canvases with pixels on them) and the
pages log no console error (a CSP violation is one)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from engine import clock
from tests.scenario import SHANGHAI
from tests.test_browser import chromium, pytestmark, shot, site  # noqa: F401 - fixtures
from tests.test_kpis import urgent_repair

RED = "rgb(192, 38, 45)"  # app.css --late


def days_of_last_month() -> list[str]:
    today = clock.now().astimezone(SHANGHAI).date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return [(first + timedelta(days=n)).isoformat() for n in (3, 10, 17)]


def painted(page, chart: str) -> int:
    """How many pixels of the chart's canvas are not blank."""
    return page.evaluate(
        """(name) => {
            const canvas = document.querySelector(`[data-chart="${name}"] canvas`);
            if (!canvas) return 0;
            const { width, height } = canvas;
            const { data } = canvas.getContext("2d").getImageData(0, 0, width, height);
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
            return n;
        }""",
        chart,
    )


def test_the_manager_sees_repair_timeliness_below_target_and_opens_the_late_job(
    site,  # noqa: F811 - the fixture imported above
    users,
):
    from playwright.sync_api import expect

    first, second, third = days_of_last_month()
    urgent_repair(users, first)
    late = urgent_repair(users, second, arrive_late_by=1)
    urgent_repair(users, third)
    assert date.fromisoformat(third) < clock.now().astimezone(SHANGHAI).date()

    page = site.login("property_manager")
    errors: list[str] = []
    page.on("console", lambda m: errors.extend([m.text] if m.type == "error" else []))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.click("nav >> text=考核指标")
    expect(page.locator("h1")).to_have_text("考核指标")
    page.click("[data-testid=preset] >> text=上月")
    expect(page).to_have_url(re.compile(r"from=\d{4}-\d{2}-01&to="))

    card = page.locator("article[data-kpi=repair_timeliness]")
    expect(card).to_have_class("kpi-card below")
    expect(card.get_by_test_id("value")).to_have_text("66.7%")
    expect(card.get_by_test_id("verdict")).to_have_text("未达目标")  # in words, not colour only
    expect(card).to_contain_text("目标 100.0%")
    expect(card).to_contain_text("3 件中 2 件")
    color = card.get_by_test_id("value").evaluate("e => getComputedStyle(e).color")
    assert color == RED
    expect(page.locator("article[data-kpi=return_visit_rate]")).to_have_class("kpi-card met")

    for chart in ("week", "month", "trade", "handler", "levels"):
        expect(page.locator(f'[data-chart="{chart}"] canvas')).to_have_count(1)
        assert painted(page, chart) > 500, chart
    expect(page.get_by_test_id("by-trade")).to_contain_text("水电")
    shot(page, "kpis-dashboard")

    card.get_by_test_id("missed").click()
    expect(page.locator("h1")).to_have_text("超时的工作")
    rows = page.get_by_test_id("kpi-cases").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("case")).to_have_text(f"#{late.id}")
    shot(page, "kpis-late-jobs")
    rows.get_by_test_id("case").click()
    page.wait_for_url(f"{site.url}/cases/{late.id}/")

    # An auditor reading in English sees the same figures in English words.
    english = site.login("auditor", locale="en-US")
    english.on("console", lambda m: errors.extend([m.text] if m.type == "error" else []))
    english.goto(f"{site.url}/kpis/?from={first[:8]}01&to={third}")
    card = english.locator("article[data-kpi=repair_timeliness]")
    expect(card.get_by_test_id("verdict")).to_have_text("Below target")
    expect(card).to_contain_text("2 of 3")
    english.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 5")
    shot(english, "kpis-dashboard-en")
    assert errors == [], errors
