"""Dispatch to a person in the browser (issue 14, item 1): the dispatcher picks
technician2 from the work order's list, the job is his alone, and his hand-back (退回)
returns it to dispatch with the reason on the case's timeline."""

from django.contrib.auth.models import Group, User

from engine import clock
from server.staff.models import StaffProfile
from tests.scenario import Case
from tests.test_browser import chromium, field, pytestmark, shot, site  # noqa: F401 - fixtures

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-102", "location": "厨房",
    "channel": "phone", "description": "厨房水管漏水", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "ordinary",
}  # fmt: skip


def test_the_dispatcher_gives_the_job_to_technician2_who_hands_it_back_saying_why(
    site,  # noqa: F811 - the fixture imported above
    users,
):
    from playwright.sync_api import expect

    second = User.objects.create_user("technician2", password="pw", first_name="王志强")
    second.groups.add(Group.objects.get(name="technician"))
    profile = StaffProfile.objects.create
    profile(user=second, display_name="王志强", display_name_en="Wang Zhiqiang",
            trade="water_electric")  # fmt: skip
    profile(user=users["technician"], display_name="李建国", display_name_en="Li Jianguo",
            trade="building")  # fmt: skip
    case = Case(users, "repair", as_="frontdesk", at=clock.now(), data=REQUEST)

    desk = site.login("dispatcher", locale="en-US")
    desk.goto(f"{site.url}/tasks/{case.task('dispatch').pk}/")
    picker = field(desk, "technician")
    expect(picker.locator("option", has_text="Wang Zhiqiang")).to_contain_text(
        "Water / electric · on duty · 0 open jobs"
    )
    picker.select_option("technician2")
    field(desk, "requirements").fill("带阀芯")
    field(desk, "appointment_at").fill("2030-01-07T14:00")
    shot(desk, "dispatch-to-a-person")
    desk.click("button.primary")
    expect(desk.locator(".messages")).to_contain_text("Done")

    other = site.login("technician", locale="en-US")
    expect(other.locator("tr", has_text="1-102")).to_have_count(0)  # not his to claim
    tech = site.login("technician2", locale="en-US")
    row = tech.locator("tr", has_text="1-102")
    expect(row).to_contain_text("Accept and arrive on site")
    expect(row.locator("button", has_text="Claim")).to_have_count(0)  # his already
    row.locator("td.name a").click()
    expect(tech.locator(".meta")).to_contain_text("Given to you")
    tech.get_by_test_id("hand-back").locator("summary").click()
    tech.fill("textarea[name=reason]", "需要电梯工种")
    tech.get_by_test_id("hand-back").locator("button").click()
    expect(tech.locator(".messages")).to_contain_text("You handed back")
    expect(tech.locator("tr", has_text="1-102")).to_have_count(0)

    desk.goto(f"{site.url}/")
    expect(desk.locator("tr", has_text="1-102")).to_contain_text("Dispatch the work order")
    desk.goto(f"{site.url}/cases/{case.id}/")
    timeline = desk.get_by_test_id("timeline")
    expect(timeline).to_contain_text("given to technician2")
    expect(timeline).to_contain_text("back, saying why: 需要电梯工种")
    shot(desk, "hand-back-on-the-timeline")
