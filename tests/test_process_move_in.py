"""Move-in (入住 / 交房), on a fake clock (domain.md, process 1)."""

import pytest

from server.estate.models import Resident
from server.flows.demo import SIGNED  # a PNG that decodes: steps re-encode images
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local, unit_status

START = {
    "unit": "2-301", "owner_name": "赵磊", "phone": "13700000003",
    "notice_checked": True, "contract_checked": True, "identity_checked": True,
}  # fmt: skip
REGISTER = {
    "owner": {"name": "赵磊", "phone": "13700000003", "id_number": "110101199001011234"},
    "household": [{"name": "钱芳", "relation": "配偶", "phone": "13700000004"}],
    "vehicles": [{"plate": "京A12345"}],
}  # fmt: skip
FEES = {"property_fee": 3600, "utility_prepaid": 500, "receipt_no": "SK-0001"}
ROOMS = [{"room": "客厅", "result": "ok"}, {"room": "主卧", "result": "ok"}]
HANDOVER = {"keys": 3, "access_cards": 2, "handbook_given": True, "contract_signature": SIGNED}


@pytest.fixture
def move_in(db, users):
    deploy_all()
    make_units("2-301", status="not_handed_over")

    def start(register=None, defects=()):
        case = Case(users, "move_in", as_="frontdesk", data=START, at=local("2026-11-23 09:00"))
        case.complete("register", as_="frontdesk", data=register or REGISTER)
        case.complete("fees", as_="finance", data=FEES)
        case.complete(
            "inspection",
            as_="engineering",
            data={"rooms": ROOMS, "defects": list(defects), "owner_signature": SIGNED},
        )
        return case

    return start


def test_a_move_in_without_defects_hands_the_unit_over_and_opens_the_owner_file(move_in):
    case = move_in()
    assert case.open() == {"handover": "frontdesk"}
    residents = Resident.objects.filter(unit__code="2-301").order_by("kind")
    assert [(r.kind, r.name, r.moved_in.isoformat()) for r in residents] == [
        ("household", "钱芳", "2026-11-23"), ("owner", "赵磊", "2026-11-23"),
    ]  # fmt: skip
    assert unit_status("2-301") == "not_handed_over"

    case.now = local("2026-11-23 11:00")
    case.complete("handover", as_="frontdesk", data=HANDOVER)
    assert unit_status("2-301") == "handed_over"
    assert case.open() == {"return_visit": "relations"}
    assert case.due("return_visit") == local("2026-11-30 11:00")  # within 7 days

    case.complete("return_visit", as_="relations", data={"satisfaction": "satisfied"})
    assert case.status == "completed"
    changes = [(e.kind, e.data) for e in case.events("owner_file_updated", "unit_status_changed")]
    assert changes == [
        ("owner_file_updated", {"unit": "2-301", "added": 2, "updated": 0}),
        ("unit_status_changed", {"unit": "2-301", "from": "not_handed_over", "to": "handed_over"}),
    ]  # fmt: skip


def test_defects_do_not_block_the_handover_and_remind_the_supervisor_every_15_days(move_in):
    case = move_in(defects=[{"location": "卫生间", "description": "地漏堵塞"}])
    assert case.open() == {"handover": "frontdesk", "defect_follow_up": "engineering"}

    case.complete("handover", as_="frontdesk", data=HANDOVER)
    case.complete("return_visit", as_="relations", data={"satisfaction": "satisfied"})
    assert unit_status("2-301") == "handed_over"
    assert case.status == "running"  # the case stays open until the defects are followed up

    case.advance_to(local("2026-12-08 09:01"))
    case.advance_to(local("2026-12-23 09:01"))
    assert case.notices() == ["cs_supervisor", "cs_supervisor"]

    case.complete("defect_follow_up", as_="engineering", data={
        "slip_no": "LX-01", "sent_on": "2026-11-24", "completion_slip_no": "WG-01",
        "completed_on": "2026-12-20",
    })  # fmt: skip
    assert case.open() == {"defect_return_visit": "relations"}
    case.complete("defect_return_visit", as_="relations", data={"satisfaction": "satisfied"})
    assert case.status == "completed"


def test_a_household_moving_in_at_once_makes_the_unit_occupied(move_in):
    case = move_in(register={**REGISTER, "moving_in_now": True})
    case.complete("handover", as_="frontdesk", data=HANDOVER)
    assert unit_status("2-301") == "occupied"


def test_registering_again_updates_the_owner_file_instead_of_duplicating_it(move_in):
    move_in()
    changed = {**REGISTER, "owner": {**REGISTER["owner"], "phone": "13700000009"}}
    second = move_in(register=changed)
    owners = Resident.objects.filter(unit__code="2-301", kind="owner")
    assert [o.phone for o in owners] == ["13700000009"]
    assert second.events("owner_file_updated")[0].data == {"unit": "2-301", "added": 0,
                                                           "updated": 1}  # fmt: skip
