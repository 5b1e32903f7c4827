"""The REST contract, end to end: what users build on."""

from uuid import uuid4

from django.contrib.auth.models import User

from server.flows.models import AuditEvent, HumanTask, ProcessInstance


def start(api, unit="1-101"):
    response = api("frontdesk").post(
        "/api/instances/", {"process": "two_step", "data": {"unit": unit}}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_token_login_then_the_whole_two_task_process_with_its_audit_trail(two_step, users, client):
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
    [resolve] = client.get("/api/tasks/?scope=available", **supervisor).json()
    assert (resolve["name"], resolve["role"], resolve["business_key"]) == (
        "处理",
        "cs_supervisor",
        "1-101",
    )
    assert resolve["due_at"] is not None  # the reminder timer on its boundary
    claimed = client.post(f"/api/tasks/{resolve['id']}/claim/", **supervisor)
    assert claimed.json()["assignee"]["username"] == "cs_supervisor"
    assert client.get("/api/tasks/?scope=mine", **supervisor).json()[0]["id"] == resolve["id"]
    done = client.post(
        f"/api/tasks/{resolve['id']}/complete/",
        {"data": {"resolution": "已维修", "satisfied": "satisfied"}},
        content_type="application/json", **supervisor,
    )  # fmt: skip
    assert done.status_code == 200

    final = client.get(f"/api/instances/{instance['id']}/", **headers).json()
    assert final["status"] == "completed" and final["tasks"] == []
    events = client.get(f"/api/instances/{instance['id']}/events/", **headers).json()
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
    [listed] = api("frontdesk").get("/api/processes/").json()
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
