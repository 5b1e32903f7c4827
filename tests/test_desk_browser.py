"""The desk in a real browser (issue 16, items 5 and 6): the front desk logs a repair call in
Chinese, turns it into its case with one click on a start form that already says what the
caller said; a dispatcher annotates the end-of-shift check. Screenshots in test-artifacts/."""

from django.contrib.auth.models import Group, User

from engine import clock
from server.desk import intake, selectors
from server.desk import services as desk
from server.desk.models import HotlineCall
from server.estate.models import Site
from tests.test_browser import chromium, field, pytestmark, shot, site  # noqa: F401 - fixtures
from tests.test_desk_hotline import CALL, REPAIR_REST


def test_a_repair_call_is_logged_and_becomes_its_case_with_one_click(
    site,  # noqa: F811 - the fixture imported above
):
    from playwright.sync_api import expect

    page = site.login("frontdesk")
    page.click("nav >> text=值班接待")
    page.locator("#kind").select_option("repair")
    field(page, "unit").fill("1-101")
    field(page, "caller").fill("王先生")
    field(page, "phone").fill("13800000001")
    field(page, "summary").fill("厨房水管漏水")
    page.click("#call-form button.primary")
    expect(page.locator(".messages")).to_contain_text("来电已登记：报修")
    page.locator("#kind").select_option("enquiry")
    field(page, "summary").fill("周二停水吗？")
    field(page, "reply").fill("周二9点至12点停水")
    page.click("#call-form button.primary")
    rows = page.locator("#call-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="周二停水吗")).not_to_contain_text("转为工单")  # stays a call
    shot(page, "hotline-log")

    rows.filter(has_text="厨房水管漏水").locator("a.convert").click()
    expect(page.locator("#from-call")).to_be_visible()
    expect(field(page, "unit")).to_have_value("1-101")
    expect(field(page, "reporter")).to_have_value("王先生")
    expect(field(page, "phone")).to_have_value("13800000001")
    expect(field(page, "description")).to_have_value("厨房水管漏水")
    field(page, "urgency").select_option("urgent")
    field(page, "location").fill("厨房")
    field(page, "area").select_option("in_unit")
    field(page, "trade").select_option("water_electric")
    field(page, "fault_kind").select_option("other")
    shot(page, "hotline-convert-form")
    page.click("form.schema-form button.primary")
    expect(page.locator(".messages")).to_contain_text("已登记案件")

    call = HotlineCall.objects.get(kind="repair")
    assert call.case is not None and call.case.business_key == "1-101"
    page.goto(f"{site.url}/hotline/")
    row = page.locator("#call-list tbody tr", has_text="厨房水管漏水")
    expect(row.locator(f'a[href="/cases/{call.case_id}/"]')).to_be_visible()
    expect(row.locator("a.convert")).to_have_count(0)
    shot(page, "hotline-log-converted")


def test_the_dispatcher_annotates_the_check_and_hands_over(
    site,  # noqa: F811
    users,
):
    from playwright.sync_api import expect

    Site.objects.update(shifts="00:00-12:00,12:00-00:00")
    night = User.objects.create_user("night", password="pw", first_name="夜班")
    night.groups.add(Group.objects.get(name="dispatcher"))
    call = desk.call_create(user=users["frontdesk"], **CALL)
    intake.call_convert(user=users["frontdesk"], call_id=call.pk, data=REPAIR_REST)
    now = clock.now()  # the live server's clock is the real one: check the current shift
    (shift,) = [s for s in selectors.shifts_around(Site.objects.get(), now)
                if s.starts_at <= now < s.ends_at]  # fmt: skip
    assert desk.shift_check_create(shift=shift, now=now) is not None

    page = site.login("dispatcher")
    page.click("nav >> text=交接班")
    rows = page.locator("#check tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("1-101")
    page.click("#complete-check")
    expect(page.locator(".messages")).to_contain_text("逐项说明未完成的原因")
    rows.locator("input[name=reason]").fill("等待配件")
    rows.locator("button").click()
    page.click("#complete-check")
    expect(page.locator(".messages")).to_contain_text("核查已完成")
    page.select_option("#to_user", "night")
    page.fill("#pending", "1-101 厨房漏水待修")
    page.fill("#reasons", "等待配件")
    page.click("#handover-form button.primary")
    expect(page.locator(".messages")).to_contain_text("交接班记录已保存")
    shot(page, "shift-check-handed-over")

    other = site.login("night")
    expect(other.locator("#handover-banner")).to_contain_text("1-101 厨房漏水待修")
    shot(other, "inbox-handover-banner")
    other.click("#handover-banner button.primary")
    expect(other.locator("#handover-banner")).to_have_count(0)
