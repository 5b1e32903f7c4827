"""A hotline call in the browser (issue 14, item 3): the unit found as one types, the
owner's name and phone filled from the owner file and still editable, fields in the order
a call goes (unit, caller, what is wrong, urgency)."""

from server.estate.models import Resident, Unit
from tests.test_browser import chromium, field, pytestmark, shot, site  # noqa: F401 - fixtures


def test_the_front_desk_finds_the_unit_as_it_types_and_the_owner_fills_in(
    site,  # noqa: F811 - the fixture imported above
):
    from playwright.sync_api import expect

    Resident.objects.create(unit=Unit.objects.get(code="1-102"), name="张伟", phone="13800001102")
    desk = site.login("frontdesk", viewport={"width": 390, "height": 844})
    desk.goto(f"{site.url}/start/repair/")
    names = desk.locator("form.schema-form [name]").evaluate_all(
        "els => els.map(e => e.name).filter(n => n !== 'csrfmiddlewaretoken')"
    )
    assert names[:5] == ["unit", "reporter", "phone", "description", "urgency"]

    field(desk, "unit").press_sequentially("1-10", delay=30)
    matches = desk.locator("ul.lookup li")
    expect(matches).to_have_count(2)
    expect(matches.filter(has_text="1-102")).to_contain_text("张伟")
    shot(desk, "unit-lookup")
    matches.filter(has_text="1-102").click()
    expect(field(desk, "unit")).to_have_value("1-102")
    expect(field(desk, "reporter")).to_have_value("张伟")
    expect(field(desk, "phone")).to_have_value("13800001102")

    # The caller is not the owner: what the desk types stays when the unit changes.
    field(desk, "reporter").fill("张伟的租客")
    field(desk, "unit").fill("")
    field(desk, "unit").press_sequentially("1-101", delay=30)
    desk.locator("ul.lookup li", has_text="1-101").click()
    expect(field(desk, "reporter")).to_have_value("张伟的租客")
    expect(field(desk, "phone")).to_have_value("13800001102")  # filled, not typed: no owner
