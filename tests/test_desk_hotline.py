"""The hotline log (issue 16, item 6; 值班接待纪录: "记录业主来电来访投诉及服务事项"): calls
that stay calls, and a complaint or repair call that becomes its case once, with what the
caller said filled in; callers' names and phones only for who may see owners' contacts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine import clock
from server.desk.models import HotlineCall
from server.flows.models import AuditEvent, ProcessInstance
from tests.conftest import make_units
from tests.scenario import deploy_all, local

CALL = {"kind": "repair", "channel": "phone", "unit": "1-101", "caller": "Mr Wang",
        "phone": "13800000001", "summary": "Burst pipe in the kitchen"}  # fmt: skip
REPAIR_REST = {"location": "Kitchen", "area": "in_unit", "trade": "water_electric",
               "fault_kind": "other", "urgency": "urgent"}  # fmt: skip


@pytest.fixture
def desk(db, users):
    deploy_all()
    make_units("1-101", "1-102")


def log(api, role="frontdesk", at="2026-11-23 09:00", **changes):
    with clock.frozen(local(at)):
        return api(role).post("/api/hotline/calls/", {**CALL, **changes}, format="json")


def test_a_call_is_logged_and_listed_by_day_and_kind(desk, api):
    assert log(api).status_code == 201
    enquiry = log(api, kind="enquiry", summary="When is the water off?", reply="Tuesday 9-12")
    assert enquiry.status_code == 201 and enquiry.json()["reply"] == "Tuesday 9-12"
    assert log(api, at="2026-11-24 08:59", kind="praise", summary="Thanks").status_code == 201

    day = api("frontdesk").get("/api/hotline/calls/?day=2026-11-23").json()
    assert day["count"] == 2 and {c["kind"] for c in day["results"]} == {"repair", "enquiry"}
    only = api("cs_supervisor").get("/api/hotline/calls/?day=2026-11-23&kind=enquiry").json()
    assert [c["summary"] for c in only["results"]] == ["When is the water off?"]
    bad = api("frontdesk").get("/api/hotline/calls/?day=23/11&kind=gossip")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"day", "kind"}


def test_a_call_needs_what_was_said_and_a_known_unit(desk, api):
    blank = log(api, summary="  ")
    assert blank.status_code == 400 and "summary" in blank.json()["errors"]
    unknown = log(api, unit="9-999")
    assert unknown.status_code == 400 and "unit" in unknown.json()["errors"]
    assert log(api, kind="gossip").status_code == 400
    assert HotlineCall.objects.count() == 0


def test_who_may_log_and_read_calls(desk, api):
    assert log(api, role="cs_supervisor").status_code == 403
    assert log(api, role="technician").status_code == 403
    assert HotlineCall.objects.count() == 0
    log(api)
    assert api("technician").get("/api/hotline/calls/").status_code == 403
    assert api("dispatcher").get("/api/hotline/calls/").status_code == 403
    for role in ("frontdesk", "cs_supervisor", "property_manager", "vice_gm", "auditor"):
        assert api(role).get("/api/hotline/calls/").status_code == 200, role


def test_callers_are_masked_for_readers_who_may_not_see_owners_contacts(desk, api, client, users):
    log(api)
    shown = api("cs_supervisor").get("/api/hotline/calls/").json()["results"][0]
    assert (shown["caller"], shown["phone"]) == ("Mr Wang", "13800000001")
    masked = api("auditor").get("/api/hotline/calls/").json()["results"][0]
    assert (masked["caller"], masked["phone"]) == ("***", "***")
    assert masked["summary"] == CALL["summary"]
    client.force_login(users["auditor"])
    with clock.frozen(local("2026-11-23 10:00")):
        page = client.get("/hotline/").content.decode()
    assert "Burst pipe" in page and "Mr Wang" not in page and "13800000001" not in page


def test_a_repair_call_becomes_its_case_once_with_what_the_caller_said(desk, api):
    call = log(api).json()
    with clock.frozen(local("2026-11-23 09:02")):
        made = api("frontdesk").post(f"/api/hotline/calls/{call['id']}/convert/",
                                     {"data": REPAIR_REST}, format="json")  # fmt: skip
    assert made.status_code == 201, made.content
    case = ProcessInstance.objects.get(pk=made.json()["case"])
    assert (case.process_key, case.business_key) == ("repair", "1-101")
    started = AuditEvent.objects.get(instance=case, kind="instance_started").data["data"]
    assert started["reporter"] == "Mr Wang" and started["phone"] == "13800000001"
    assert started["description"] == CALL["summary"] and started["channel"] == "phone"
    assert HotlineCall.objects.get(pk=call["id"]).case_id == case.pk

    again = api("frontdesk").post(f"/api/hotline/calls/{call['id']}/convert/",
                                  {"data": REPAIR_REST}, format="json")  # fmt: skip
    assert again.status_code == 409
    assert ProcessInstance.objects.count() == 1
    listed = api("frontdesk").get("/api/hotline/calls/").json()["results"][0]
    assert listed["case"] == case.pk


def test_a_conversion_that_fails_starts_nothing_and_leaves_the_call_convertible(desk, api):
    call = log(api, kind="complaint", summary="Rude guard").json()
    url = f"/api/hotline/calls/{call['id']}/convert/"
    missing = api("frontdesk").post(url, {"data": {}}, format="json")  # no category
    assert missing.status_code == 400 and "category" in missing.json()["errors"]
    assert ProcessInstance.objects.count() == 0
    done = api("frontdesk").post(url, {"data": {"category": "security_vehicles"}}, format="json")
    assert done.status_code == 201
    case = ProcessInstance.objects.get()
    assert case.process_key == "complaint"
    started = AuditEvent.objects.get(instance=case, kind="instance_started").data["data"]
    assert started["complainant"] == "Mr Wang"


def test_only_complaints_and_repairs_become_cases_and_only_for_the_front_desk(desk, api):
    enquiry = log(api, kind="enquiry").json()
    answer = api("frontdesk").post(f"/api/hotline/calls/{enquiry['id']}/convert/", {},
                                   format="json")  # fmt: skip
    assert answer.status_code == 409
    repair = log(api).json()
    refused = api("cs_supervisor").post(f"/api/hotline/calls/{repair['id']}/convert/",
                                        {"data": REPAIR_REST}, format="json")  # fmt: skip
    assert refused.status_code == 403
    assert api("frontdesk").post("/api/hotline/calls/99999/convert/", {},
                                 format="json").status_code == 404  # fmt: skip
    assert api("frontdesk").post("/api/hotline/calls/x/convert/", {},
                                 format="json").status_code == 404  # fmt: skip
    assert ProcessInstance.objects.count() == 0


def test_the_page_logs_a_call_and_its_start_form_comes_prefilled(desk, client, users):
    client.force_login(users["frontdesk"])
    with clock.frozen(local("2026-11-23 09:00")):
        answer = client.post("/hotline/", {**CALL, "reply": ""})
        assert answer.status_code == 302
        page = client.get("/hotline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    call = HotlineCall.objects.get()
    assert "Mr Wang" in page and f"/start/repair/?call={call.pk}" in page
    form = client.get(f"/start/repair/?call={call.pk}", HTTP_ACCEPT_LANGUAGE="en")
    html = form.content.decode()
    assert 'value="Mr Wang"' in html and "Burst pipe in the kitchen" in html
    with clock.frozen(local("2026-11-23 09:03")):
        started = client.post(f"/start/repair/?call={call.pk}", {**REPAIR_REST,
                              "unit": "1-101", "reporter": "Mr Wang", "phone": "13800000001",
                              "description": CALL["summary"], "channel": "phone"})  # fmt: skip
    assert started.status_code == 302, started.content.decode()[-2000:]
    call.refresh_from_db()
    assert call.case is not None and call.case.process_key == "repair"
    bad = client.post("/hotline/", {**CALL, "summary": ""})
    assert bad.status_code == 400 and HotlineCall.objects.count() == 1


def test_the_log_of_a_day_costs_the_same_queries_for_many_calls(desk, api):
    for n in range(3):
        log(api, summary=f"call {n}")
    with CaptureQueriesContext(connection) as few:
        assert api("cs_supervisor").get("/api/hotline/calls/").status_code == 200
    for n in range(20):
        log(api, summary=f"more {n}")
    with CaptureQueriesContext(connection) as many:
        assert api("cs_supervisor").get("/api/hotline/calls/").status_code == 200
    assert len(few) == len(many)
