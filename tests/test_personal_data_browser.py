"""Personal data on the case page in the browser (issue 15, item 5): the clerk of another
clerk's move-out reads "withheld" where the resident's name and phone were; the auditor
reads them, and the timeline shows the auditor's read to the auditor and the supervisor."""

from django.contrib.auth.models import Group, User

from server.estate.models import Resident, Unit
from tests.conftest import make_units
from tests.scenario import Case, local
from tests.test_browser import chromium, field, pytestmark, shot, site  # noqa: F401 - fixtures
from tests.test_personal_data import MOVE_OUT, UNPAID


def test_the_clerk_sees_withheld_and_the_auditor_s_read_is_on_the_timeline(
    site,  # noqa: F811 - the fixture imported above
    users,
):
    from playwright.sync_api import expect

    make_units("3-502", status="occupied")
    Resident.objects.create(unit=Unit.objects.get(code="3-502"), name="孙伟", phone="1")
    other = User.objects.create_user("frontdesk2", password="pw")
    other.groups.add(Group.objects.get(name="frontdesk"))
    users["frontdesk2"] = other
    case = Case(users, "move_out", as_="frontdesk", data=MOVE_OUT, at=local("2026-11-23 09:00"))
    case.complete("settle", as_="finance", data=UNPAID)
    case.advance_to(local("2026-11-26 09:01"))  # the arrears reminder: every clerk is told

    clerk = site.login("frontdesk2", viewport={"width": 390, "height": 844})
    clerk.goto(f"{site.url}/cases/{case.id}/")
    timeline = clerk.get_by_test_id("timeline")
    expect(timeline).to_contain_text("已隐藏（个人资料）")
    expect(clerk.locator("body")).not_to_contain_text("13600000005")
    expect(clerk.locator("body")).not_to_contain_text("孙伟")
    shot(clerk, "personal-data-withheld-phone")

    auditor = site.login("auditor")
    auditor.goto(f"{site.url}/cases/{case.id}/")
    timeline = auditor.get_by_test_id("timeline")
    expect(timeline).to_contain_text("13600000005")
    expect(timeline).to_contain_text("auditor 查阅了个人资料（案件页）")
    shot(auditor, "personal-data-read-by-auditor")

    supervisor = site.login("cs_supervisor", locale="en-US")
    supervisor.goto(f"{site.url}/cases/{case.id}/")
    timeline = supervisor.get_by_test_id("timeline")
    expect(timeline).to_contain_text("auditor read the personal data (the case page)")
    expect(timeline).to_contain_text("withheld (personal data)")
    shot(supervisor, "personal-data-reads-supervisor-en")
