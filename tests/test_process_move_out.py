"""Move-out (退房 / 搬出), on a fake clock (domain.md, process 5)."""

from datetime import date

import pytest

from server.estate.models import Resident, Unit
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local, unit_status

REQUEST = {
    "unit": "3-502", "resident": "孙伟", "phone": "13600000005", "move_date": "2026-11-28",
    "reason": "lease_end",
}  # fmt: skip
PAID = {"water": 35.5, "electricity": 120, "property_fee": 900, "settled": True}
UNPAID = {**PAID, "arrears": 900, "settled": False}


@pytest.fixture
def move_out(db, users):
    deploy_all()
    make_units("3-502", status="occupied")
    Resident.objects.create(unit=Unit.objects.get(code="3-502"), name="孙伟", phone="1")

    def start():
        return Case(users, "move_out", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))

    return start


def finish(case):
    case.complete("inspect", as_="engineering", data={"matches_move_in": True})
    case.complete("keys_back", as_="frontdesk",
                  data={"keys": 3, "access_cards": 2, "all_returned": True})  # fmt: skip
    goods = {"pass_no": "CM-07", "items": "家具、电器", "valid_on": "2026-11-28"}
    case.complete("goods_pass", as_="frontdesk", data=goods)
    assert case.open() == {"gate_check": "security"}
    case.complete("gate_check", as_="security", data={"checked": True})
    case.complete("archive", as_="relations")


def test_a_settled_move_out_leaves_the_unit_vacant_and_the_file_updated(move_out):
    case = move_out()
    assert case.open() == {"settle": "finance"}
    case.complete("settle", as_="finance", data=PAID)
    assert case.open() == {"inspect": "engineering"}
    finish(case)

    assert case.status == "completed"
    assert unit_status("3-502") == "vacant"
    assert Resident.objects.get(unit__code="3-502").moved_out == date(2026, 11, 28)
    assert case.completed() == ["settle", "inspect", "keys_back", "goods_pass", "gate_check",
                                "archive"]  # fmt: skip
    assert [e.kind for e in case.events("unit_status_changed", "owner_file_updated")] == [
        "unit_status_changed", "owner_file_updated",
    ]  # fmt: skip


def test_arrears_block_the_move_out_with_a_reminder_every_three_days(move_out):
    case = move_out()
    case.complete("settle", as_="finance", data=UNPAID)
    assert case.open() == {"collect_arrears": "finance"}

    case.advance_to(local("2026-11-26 09:01"))
    case.advance_to(local("2026-11-29 09:01"))
    assert case.notices() == ["frontdesk", "frontdesk"]
    case.complete("collect_arrears", as_="finance", data=UNPAID)  # paid part only: still blocked
    assert case.open() == {"collect_arrears": "finance"}
    assert unit_status("3-502") == "occupied"

    case.complete("collect_arrears", as_="finance", data=PAID)
    assert case.open() == {"inspect": "engineering"}
    finish(case)
    assert unit_status("3-502") == "vacant"
