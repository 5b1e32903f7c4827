"""The REST contract, end to end: what users build on."""

from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from django.contrib.auth.models import User

from engine import clock
from server.flows.models import AuditEvent, HumanTask, ProcessInstance
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local
from tests.test_process_repair import DONE, REQUEST


def start(api, unit="1-101"):
    response = api("frontdesk").post(
        "/api/instances/", {"process": "two_step", "data": {"unit": unit}}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_token_login_then_the_whole_two_task_process_with_its_audit_trail(two_step, users, client):
    # One story, kept whole on purpose: a newcomer's first walk through the API, step by step.
    token = client.post(
        "/api/auth/token/",
        {"username": "frontdesk", "password": "pw"},
        content_type="application/json",
    ).json()["token"]
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}

    created = client.post(
        "/api/instances/", {"process": "two_step", "data": {"unit": "1-101"}},
        content_type="application/json", **headers,
    )  # fmt: skip
    assert created.status_code == 201
    instance = created.json()
    assert instance["business_key"] == "1-101" and instance["status"] == "running"
    [register] = instance["tasks"]
    assert (register["name"], register["role"], register["assignee"]) == ("登记", "frontdesk", None)

    done = client.post(
        f"/api/tasks/{register['id']}/complete/", {"data": {"summary": "厨房漏水"}},
        content_type="application/json", **headers,
    )  # fmt: skip
    assert done.status_code == 200 and done.json()["status"] == "completed"

    supervisor = {"HTTP_AUTHORIZATION": "Token " + client.post(
        "/api/auth/token/", {"username": "cs_supervisor", "password": "pw"},
        content_type="application/json").json()["token"]}  # fmt: skip
    available = client.get("/api/tasks/?scope=available", **supervisor).json()
    assert (available["count"], available["page"], available["pages"]) == (1, 1, 1)
    [resolve] = available["results"]
    assert (resolve["name"], resolve["role"], resolve["business_key"]) == (
        "处理",
        "cs_supervisor",
        "1-101",
    )
    assert resolve["due_at"] is not None  # the reminder timer on its boundary
    claimed = client.post(f"/api/tasks/{resolve['id']}/claim/", **supervisor)
    assert claimed.json()["assignee"]["username"] == "cs_supervisor"
    mine = client.get("/api/tasks/?scope=mine", **supervisor).json()["results"]
    assert [t["id"] for t in mine] == [resolve["id"]]
    done = client.post(
        f"/api/tasks/{resolve['id']}/complete/",
        {"data": {"resolution": "已维修", "satisfied": "satisfied"}},
        content_type="application/json", **supervisor,
    )  # fmt: skip
    assert done.status_code == 200

    final = client.get(f"/api/instances/{instance['id']}/", **headers).json()
    assert final["status"] == "completed" and final["tasks"] == []
    events = client.get(f"/api/instances/{instance['id']}/events/", **headers).json()["results"]
    assert [(e["seq"], e["kind"], e["actor"] and e["actor"]["username"]) for e in events] == [
        (1, "instance_started", "frontdesk"),
        (2, "task_created", None),
        (3, "task_completed", "frontdesk"),
        (4, "task_created", None),
        (5, "task_claimed", "cs_supervisor"),
        (6, "task_completed", "cs_supervisor"),
        (7, "instance_completed", "cs_supervisor"),
    ]
    assert events[2]["data"]["data"] == {"summary": "厨房漏水", "major": False}
    assert events[0]["data"]["data"] == {"unit": "1-101"}


def test_a_user_without_the_role_gets_404_as_if_the_task_did_not_exist(two_step, api):
    task_id = start(api)["tasks"][0]["id"]

    for path in (f"/api/tasks/{task_id}/", f"/api/tasks/{uuid4()}/", "/api/tasks/12/"):
        response = api("technician").get(path)
        assert response.status_code == 404
        assert "does not exist or is not visible to you" in response.json()["detail"]
    assert api("technician").get("/api/instances/99999999999999999999/").status_code == 404
    response = api("technician").get("/api/instances/abc/")
    assert response.status_code == 404 and response.json()["detail"].startswith("Case abc")
    response = api("technician").post(
        f"/api/tasks/{task_id}/complete/", {"data": {"summary": "x"}}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == f"Task {task_id} does not exist or is not visible to you."
    assert api("nobody").post(f"/api/tasks/{task_id}/claim/").status_code == 404
    assert HumanTask.objects.get(pk=task_id).status == "open"


def test_an_auditor_sees_everything_but_may_not_act(two_step, api):
    instance = start(api)
    task_id = instance["tasks"][0]["id"]
    auditor = api("auditor")

    assert auditor.get(f"/api/tasks/{task_id}/").status_code == 200
    assert auditor.get(f"/api/instances/{instance['id']}/events/").status_code == 200
    for action in ("claim", "complete"):
        response = auditor.post(
            f"/api/tasks/{task_id}/{action}/", {"data": {"summary": "x"}}, format="json"
        )
        assert response.status_code == 403
        assert "not act" in response.json()["detail"]
    assert AuditEvent.objects.filter(kind__in=["task_claimed", "task_completed"]).count() == 0


def test_bad_form_data_gets_400_naming_each_field_and_stores_nothing(two_step, api):
    instance = start(api)
    task_id = instance["tasks"][0]["id"]
    before = ProcessInstance.objects.get(pk=instance["id"]).engine_state

    response = api("frontdesk").post(
        f"/api/tasks/{task_id}/complete/",
        {"data": {"major": "yes", "colour": "red"}},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["summary"] == ["This field is required."]
    assert errors["major"] == ["Must be of type boolean."]
    assert errors["colour"] == ["This field is not part of the form."]
    assert ProcessInstance.objects.get(pk=instance["id"]).engine_state == before
    assert HumanTask.objects.get(pk=task_id).status == "open"
    assert AuditEvent.objects.filter(instance_id=instance["id"]).count() == 2


def test_a_second_completion_gets_409(two_step, api):
    task_id = start(api)["tasks"][0]["id"]
    frontdesk = api("frontdesk")
    assert (
        frontdesk.post(
            f"/api/tasks/{task_id}/complete/", {"data": {"summary": "x"}}, format="json"
        ).status_code
        == 200
    )

    again = frontdesk.post(
        f"/api/tasks/{task_id}/complete/", {"data": {"summary": "x"}}, format="json"
    )

    assert again.status_code == 409
    assert "already completed" in again.json()["detail"]
    assert AuditEvent.objects.filter(kind="task_completed").count() == 1


def test_a_task_claimed_by_someone_else_cannot_be_taken(two_step, api, users):
    task_id = start(api)["tasks"][0]["id"]
    other = User.objects.create_user("frontdesk2", password="pw")
    other.groups.add(users["frontdesk"].groups.get())
    assert api("frontdesk").post(f"/api/tasks/{task_id}/claim/").status_code == 200

    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(other)
    assert c.post(f"/api/tasks/{task_id}/claim/").status_code == 409
    assert c.post(f"/api/tasks/{task_id}/unclaim/").status_code == 409
    assert api("frontdesk").post(f"/api/tasks/{task_id}/unclaim/").json()["assignee"] is None
    assert c.post(f"/api/tasks/{task_id}/claim/").status_code == 200


def test_starting_needs_a_start_role_a_known_process_and_a_valid_start_form(two_step, api):
    assert api("technician").post("/api/instances/", {"process": "two_step", "data": {"unit": "1"}},
                                  format="json").status_code == 403  # fmt: skip
    assert (
        api("frontdesk")
        .post("/api/instances/", {"process": "nope", "data": {}}, format="json")
        .status_code
        == 404
    )
    bad = api("frontdesk").post(
        "/api/instances/", {"process": "two_step", "data": {"unit": ""}}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"] == {
        "unit": ["This field may not be blank."]
    }
    missing = api("frontdesk").post("/api/instances/", {"data": {}}, format="json")
    assert missing.status_code == 400 and "process" in missing.json()["errors"]
    broken = api("frontdesk").post("/api/instances/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
    assert ProcessInstance.objects.count() == 0


def test_processes_list_and_detail_carry_names_and_the_start_form(two_step, api):
    [listed] = api("frontdesk").get("/api/processes/").json()["results"]
    assert listed["key"] == "two_step" and listed["can_start"] is True
    assert listed["name"] == {"zh-hans": "两步测试流程", "en": "Two-step test process"}
    detail = api("technician").get("/api/processes/two_step/").json()
    assert detail["can_start"] is False
    assert detail["start_form"]["required"] == ["unit"]
    assert api("frontdesk").get("/api/processes/nope/").status_code == 404


def test_anonymous_requests_are_refused(two_step, client):
    for path in ("/api/processes/", "/api/tasks/", "/api/instances/1/"):
        assert client.get(path).status_code in (401, 403)


def test_an_unknown_scope_is_a_clear_400(two_step, api):
    response = api("frontdesk").get("/api/tasks/?scope=everything")
    assert response.status_code == 400 and "scope" in response.json()["errors"]


def test_instances_are_visible_only_to_those_involved(two_step, api):
    instance_id = start(api)["id"]
    assert api("technician").get(f"/api/instances/{instance_id}/").status_code == 404
    assert api("frontdesk").get(f"/api/instances/{instance_id}/").status_code == 200
    assert api("auditor").get(f"/api/instances/{instance_id}/events/").status_code == 200


# -- lists, reassigning, cancelling, the diagram, contact data (issue 5) -------------------


def complete(api, role, task_id, data):
    response = api(role).post(f"/api/tasks/{task_id}/complete/", {"data": data}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_task_list_is_a_page_of_the_inbox_by_default_with_names_level_and_lateness(
    two_step, api
):
    first, second = start(api, "1-101"), start(api, "1-1")
    complete(api, "frontdesk", first["tasks"][0]["id"], {"summary": "漏水"})
    ProcessInstance.objects.filter(pk=second["id"]).update(escalation_level=2)

    inbox = api("frontdesk").get("/api/tasks/").json()
    assert (inbox["count"], inbox["page"], inbox["pages"]) == (1, 1, 1)
    [row] = inbox["results"]
    assert row["id"] == second["tasks"][0]["id"] and row["business_key"] == "1-1"
    assert row["process_name"] == {"zh-hans": "两步测试流程", "en": "Two-step test process"}
    assert (row["escalation_level"], row["overdue"], row["due_at"]) == (2, False, None)

    supervisor = api("cs_supervisor")
    [resolve] = supervisor.get("/api/tasks/").json()["results"]  # the role's unclaimed one
    assert resolve["overdue"] is False and resolve["due_at"] is not None
    with clock.frozen(datetime.fromisoformat(resolve["due_at"]) + timedelta(minutes=1)):
        late = supervisor.get("/api/tasks/?overdue=1").json()["results"]
        assert [(t["id"], t["overdue"]) for t in late] == [(resolve["id"], True)]
        detail = supervisor.get(f"/api/tasks/{resolve['id']}/").json()
        assert detail["overdue"] is True and detail["process_name"]["en"].startswith("Two")
    assert supervisor.get("/api/tasks/?overdue=true").json()["count"] == 0  # not yet late
    assert api("frontdesk").get("/api/tasks/?scope=all").json()["count"] == 1


def test_the_task_list_filters_by_process_unit_and_search_and_pages(two_step, api):
    for unit in ("1-101", "1-1", "1", "1-101"):
        start(api, unit)
    frontdesk = api("frontdesk")

    def units(query):
        found = frontdesk.get(f"/api/tasks/?{query}").json()["results"]
        return sorted(t["business_key"] for t in found)

    assert units("unit=1-101") == ["1-101", "1-101"]
    assert units("q=101") == ["1-101", "1-101"]
    assert units("process=two_step&unit=1") == ["1"]
    assert units("process=nope") == []
    page = frontdesk.get("/api/tasks/?page_size=3&page=2").json()
    assert (page["count"], page["page"], page["pages"], len(page["results"])) == (4, 2, 2, 1)
    everything = frontdesk.get("/api/tasks/?page_size=3").json()["results"] + page["results"]
    assert len({t["id"] for t in everything}) == 4
    for query, field in (("page=3&page_size=3", "page"), ("page=0", "page"),
                         ("page=x", "page"), ("page_size=101", "page_size"),
                         ("page_size=0", "page_size"), ("overdue=yes", "overdue"),
                         ("scope=nope", "scope")):  # fmt: skip
        response = frontdesk.get(f"/api/tasks/?{query}")
        assert response.status_code == 400, query
        assert field in response.json()["errors"] and response.json()["detail"]


def test_the_case_list_shows_the_cases_one_may_open_newest_first(two_step, api):
    older, newer = start(api, "1-101"), start(api, "1-1")
    complete(api, "frontdesk", older["tasks"][0]["id"], {"summary": "漏水"})

    listed = api("frontdesk").get("/api/instances/").json()
    assert (listed["count"], listed["pages"]) == (2, 1)
    assert [c["id"] for c in listed["results"]] == [newer["id"], older["id"]]
    row = listed["results"][1]
    assert set(row) == {"id", "process", "process_name", "business_key", "status", "started_at",
                        "completed_at", "escalation_level"}  # fmt: skip
    assert row["process_name"]["zh-hans"] == "两步测试流程" and row["escalation_level"] == 0
    supervisor = api("cs_supervisor").get("/api/instances/").json()["results"]
    assert [c["id"] for c in supervisor] == [newer["id"], older["id"]]  # they oversee all
    assert api("technician").get("/api/instances/").json() == {
        "count": 0, "page": 1, "pages": 1, "results": []
    }  # fmt: skip
    assert api("auditor").get("/api/instances/?q=1-1&status=running").json()["count"] == 2
    assert api("auditor").get("/api/instances/?q=1-101").json()["count"] == 1
    assert api("auditor").get("/api/instances/?status=completed").json()["count"] == 0
    bad = api("auditor").get("/api/instances/?status=lost")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_a_supervisor_hands_a_task_to_a_holder_of_its_role(two_step, api, users):
    task_id = start(api)["tasks"][0]["id"]
    other = User.objects.create_user("frontdesk2", password="pw")
    other.groups.add(users["frontdesk"].groups.get())
    api("frontdesk").post(f"/api/tasks/{task_id}/claim/")

    given = api("vice_gm").post(
        f"/api/tasks/{task_id}/assign/", {"assignee": other.pk}, format="json"
    )
    assert given.status_code == 200
    assert given.json()["assignee"] == {"id": other.pk, "username": "frontdesk2"}
    event = AuditEvent.objects.get(kind="task_assigned")
    assert event.actor == users["vice_gm"]
    assert event.data == {"to": other.pk, "from": users["frontdesk"].pk}

    mine = {"assignee": users["frontdesk"].pk}
    refused = api("frontdesk").post(f"/api/tasks/{task_id}/assign/", mine, format="json")
    assert refused.status_code == 403 and "supervisor" in refused.json()["detail"]
    technician = {"assignee": users["technician"].pk}
    wrong = api("vice_gm").post(f"/api/tasks/{task_id}/assign/", technician, format="json")
    assert wrong.status_code == 400 and "assignee" in wrong.json()["errors"]


def test_the_diagram_has_the_bpmn_and_the_open_and_done_tasks(two_step, api):
    instance = start(api)
    diagram = api("frontdesk").get(f"/api/instances/{instance['id']}/diagram/").json()
    assert diagram["bpmn"].startswith("<?xml") and 'id="register"' in diagram["bpmn"]
    assert (diagram["active"], diagram["done"]) == (["register"], [])

    complete(api, "frontdesk", instance["tasks"][0]["id"], {"summary": "漏水"})
    diagram = api("cs_supervisor").get(f"/api/instances/{instance['id']}/diagram/").json()
    assert (diagram["active"], diagram["done"]) == (["resolve"], ["register"])
    assert api("technician").get(f"/api/instances/{instance['id']}/diagram/").status_code == 404


def test_a_supervisor_cancels_a_running_case_once_saying_why(two_step, api):
    instance = start(api)
    complete(api, "frontdesk", instance["tasks"][0]["id"], {"summary": "漏水"})
    url = f"/api/instances/{instance['id']}/cancel/"

    assert api("frontdesk").post(url, {"reason": "重复"}, format="json").status_code == 403
    blank = api("cs_supervisor").post(url, {"reason": " "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]
    done = api("cs_supervisor").post(url, {"reason": "业主撤回"}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["tasks"]) == ("cancelled", [])
    again = api("cs_supervisor").post(url, {"reason": "业主撤回"}, format="json")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    cancelled = AuditEvent.objects.get(kind="instance_cancelled")
    assert cancelled.data == {"reason": "业主撤回"}


@pytest.fixture
def repair_case(db, users):
    """A repair reported with the reporter's name and phone; its urgent dispatch ran late, so
    the supervisors were told (they may read the case, not its contact data); then repaired
    with the owner's signature."""
    deploy_all()
    make_units("1-101")
    case = Case(users, "repair", as_="frontdesk", data={**REQUEST, "urgency": "urgent"},
                at=local("2026-11-23 09:00"))  # fmt: skip
    case.advance_to(local("2026-11-23 09:12"))
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "立即处理"})  # fmt: skip
    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician", data=DONE)
    return case


def test_the_audit_trail_withholds_contact_data_from_readers_without_a_task_in_the_case(
    repair_case, api
):
    url = f"/api/instances/{repair_case.id}/events/?page_size=100"

    def recorded(role):
        response = api(role).get(url)
        assert response.status_code == 200
        return {
            e["kind"]: e["data"]["data"]
            for e in response.json()["results"]
            if e["kind"] in ("instance_started", "task_completed")
        }  # last one by kind

    hidden = recorded("cs_supervisor")  # notified of the late dispatch: reads, no task
    assert recorded("vice_gm") == hidden  # oversees every case, has no task in this one
    assert hidden["instance_started"]["reporter"] == "***"
    assert hidden["instance_started"]["phone"] == "***"
    assert hidden["instance_started"]["unit"] == "1-101"
    assert hidden["task_completed"]["owner_signature"] == "***"
    assert hidden["task_completed"]["work_done"] == "更换阀芯"
    for role in ("frontdesk", "technician", "auditor"):  # started it, had a task, audits
        shown = recorded(role)
        assert shown["instance_started"]["phone"] == REQUEST["phone"]
        assert shown["task_completed"]["owner_signature"]["type"] == "image/png"  # a reference
    stored = AuditEvent.objects.get(seq=1, instance_id=repair_case.id).data["data"]
    assert stored["phone"] == REQUEST["phone"]  # withheld in the answer, kept in the trail
