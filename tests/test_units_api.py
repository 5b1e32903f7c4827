"""``GET /api/units/``: the unit lookup of an intake form, with owners under the contact
rules."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.estate.models import Building, Resident, Site, Unit


@pytest.fixture
def units(db):
    building = Building.objects.create(site=Site.objects.create(name="翠湖苑"), name="1栋")
    made = {}
    for code, status in (("1-101", "occupied"), ("1-102", "handed_over"), ("2-201", "vacant")):
        made[code] = Unit.objects.create(building=building, code=code, floor=1, area_m2=88,
                                         status=status)  # fmt: skip
    Resident.objects.create(unit=made["1-101"], name="王建国", phone="13800000001")
    Resident.objects.create(unit=made["1-102"], name="李秀英", phone="13800000002")
    return made


def test_front_desk_finds_a_unit_by_code_or_owner_and_sees_the_owner(api, units):
    client = api("frontdesk")
    by_code = client.get("/api/units/?q=1-10").json()
    assert [u["code"] for u in by_code["results"]] == ["1-101", "1-102"]
    by_owner = client.get("/api/units/?q=王建").json()["results"]
    assert [(u["code"], u["owners"]) for u in by_owner] == [
        ("1-101", [{"name": "王建国", "phone": "13800000001"}])]  # fmt: skip
    assert by_owner[0]["status_name"] == "Occupied"  # the client asked in English
    assert client.get("/api/units/").json()["count"] == 3


def test_a_technician_sees_the_unit_but_not_its_owner_and_no_role_sees_nothing(api, units):
    (unit,) = api("technician").get("/api/units/?q=1-101").json()["results"]
    assert unit["code"] == "1-101" and unit["owners"] is None
    assert api("nobody").get("/api/units/").status_code == 403


def test_the_lookup_costs_a_fixed_number_of_queries(api, units):
    client = api("dispatcher")
    client.get("/api/units/")  # the token and roles read once
    with CaptureQueriesContext(connection) as few:
        client.get("/api/units/")
    for n in range(20):
        Unit.objects.create(building=units["1-101"].building, code=f"3-{n:03}", floor=3,
                            area_m2=70)  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        client.get("/api/units/")
    assert len(many) == len(few)


def test_every_start_form_s_unit_field_says_where_its_values_are_looked_up(api, db):
    from django.core.management import call_command

    call_command("deploy_processes", stdout=__import__("io").StringIO())
    client = api("frontdesk")
    for process in client.get("/api/processes/").json()["results"]:
        form = client.get(f"/api/processes/{process['key']}/").json()["start_form"]
        assert form["properties"]["unit"]["x-lookup"] == "units", process["key"]
