"""Dispatch to a person (issue 14, item 1): the dispatcher picks a technician from the
roster, the job is that person's alone from arrival to sign-off, and a hand-back (退回)
takes it back to dispatch with its reason, never to the pool."""

import pytest
from django.contrib.auth.models import Group, User

from server.flows.models import AuditEvent, HumanTask
from server.staff.models import StaffProfile
from tests.conftest import make_units
from tests.scenario import deploy_all

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "厨房水龙头漏水", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "ordinary",
}  # fmt: skip
ORDER = {"requirements": "带阀芯", "appointment_at": "2026-11-23T14:00:00+08:00"}
SIGNED = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAC"
    "hwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture
def site(users, api):
    """The repair process, unit 1-101, and two technicians on the roster."""
    deploy_all()
    make_units("1-101")
    second = User.objects.create_user("technician2", password="pw")
    second.groups.add(Group.objects.get(name="technician"))
    users["technician2"] = second
    profile = StaffProfile.objects.create
    profile(user=users["technician"], display_name="李建国", display_name_en="Li Jianguo",
            trade="building")  # fmt: skip
    profile(user=second, display_name="王志强", display_name_en="Wang Zhiqiang",
            trade="water_electric")  # fmt: skip
    return users


def started(api) -> int:
    answer = api("frontdesk").post(
        "/api/instances/", {"process": "repair", "data": REQUEST}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"]


def open_task(instance: int, bpmn_id: str) -> HumanTask:
    return HumanTask.objects.get(instance_id=instance, bpmn_id=bpmn_id, status="open")


def inbox(api, role: str, scope: str) -> list[str]:
    answer = api(role).get(f"/api/tasks/?scope={scope}")
    assert answer.status_code == 200
    return [t["bpmn_id"] for t in answer.json()["results"]]


def dispatch_to(api, instance: int, username: str):
    task = open_task(instance, "dispatch")
    order = {"data": {"technician": username, **ORDER}}
    return api("dispatcher").post(f"/api/tasks/{task.pk}/complete/", order, format="json")


def test_the_dispatch_form_offers_the_rosters_technicians_by_user(site, api):
    instance = started(api)
    task = open_task(instance, "dispatch")
    form = api("dispatcher").get(f"/api/tasks/{task.pk}/").json()["form"]
    picker = form["properties"]["technician"]
    assert picker["enum"] == ["technician", "technician2"]  # on duty, fewest open jobs, name
    assert picker["x-enum-titles"]["technician2"] == [
        "王志强 · 水电 · 在岗 · 0 单未完成",
        "Wang Zhiqiang · Water / electric · on duty · 0 open jobs",
    ]
    assert {m["username"]: m["trade"] for m in picker["x-staff"]} == {
        "technician": "building", "technician2": "water_electric",
    }  # fmt: skip


def test_a_job_dispatched_to_technician2_is_his_alone_from_arrival_to_sign_off(site, api):
    instance = started(api)
    assert dispatch_to(api, instance, "technician2").status_code == 200

    arrive = open_task(instance, "arrive")
    assert (arrive.assignee.username, arrive.dispatched, arrive.hand_back) == (
        "technician2", True, True,
    )  # fmt: skip
    assert inbox(api, "technician2", "mine") == ["arrive"]
    assert inbox(api, "technician", "available") == []  # not his to claim
    assert inbox(api, "technician", "inbox") == []
    claim = api("technician").post(f"/api/tasks/{arrive.pk}/claim/")
    assert claim.status_code == 409  # held by technician2
    created = AuditEvent.objects.get(kind="task_created", task=arrive)
    assert created.data == {"role": "technician", "assignee": "technician2"}

    done = api("technician2").post(f"/api/tasks/{arrive.pk}/complete/", {"data": {}},
                                   format="json")  # fmt: skip
    assert done.status_code == 200
    work = open_task(instance, "repair_work")
    assert work.assignee.username == "technician2"  # stays his: nobody claims it again
    assert inbox(api, "technician", "available") == []
    refused = api("technician").post(
        f"/api/tasks/{work.pk}/complete/",
        {"data": {"outcome": "done", "work_done": "换阀芯", "owner_signature": SIGNED}},
        format="json",
    )
    assert refused.status_code == 409


def test_an_unknown_or_non_technician_username_is_refused_naming_the_field(site, api):
    instance = started(api)
    for who in ("李师傅", "frontdesk"):
        answer = dispatch_to(api, instance, who)
        assert answer.status_code == 400
        assert "technician" in answer.json()["errors"]
    assert open_task(instance, "dispatch")  # nothing changed


def test_a_hand_back_returns_the_job_to_dispatch_with_its_reason_on_the_timeline(site, api):
    instance = started(api)
    dispatch_to(api, instance, "technician2")
    arrive = open_task(instance, "arrive")

    put_back = api("technician2").post(f"/api/tasks/{arrive.pk}/unclaim/")
    assert put_back.status_code == 409  # not to the pool
    assert "hand it back" in put_back.json()["detail"]
    no_reason = api("technician2").post(f"/api/tasks/{arrive.pk}/hand-back/", {"reason": " "},
                                        format="json")  # fmt: skip
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    not_his = api("technician").post(f"/api/tasks/{arrive.pk}/hand-back/",
                                     {"reason": "不是我的"}, format="json")  # fmt: skip
    assert not_his.status_code == 409

    answer = api("technician2").post(f"/api/tasks/{arrive.pk}/hand-back/",
                                     {"reason": "需要电梯工种，非水电"}, format="json")  # fmt: skip
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "cancelled"
    dispatch = open_task(instance, "dispatch")  # back with dispatch, not in any pool
    assert dispatch.role == "dispatcher" and dispatch.assignee is None
    assert inbox(api, "technician", "available") == inbox(api, "technician2", "mine") == []

    events = api("dispatcher").get(f"/api/instances/{instance}/events/?page_size=100").json()
    handed = [e for e in events["results"] if e["kind"] == "task_handed_back"]
    assert [(e["actor"]["username"], e["data"]) for e in handed] == [
        ("technician2", {"reason": "需要电梯工种，非水电"})
    ]
    # Dispatched again, to the other technician this time.
    assert dispatch_to(api, instance, "technician").status_code == 200
    assert open_task(instance, "arrive").assignee.username == "technician"


def test_a_task_claimed_from_the_pool_is_handed_back_to_the_pool_with_its_reason(site, api):
    instance = started(api)
    dispatch = open_task(instance, "dispatch")
    api("dispatcher").post(f"/api/tasks/{dispatch.pk}/claim/")
    answer = api("dispatcher").post(f"/api/tasks/{dispatch.pk}/hand-back/",
                                    {"reason": "交班"}, format="json")  # fmt: skip
    assert answer.status_code == 200 and answer.json()["assignee"] is None
    event = AuditEvent.objects.filter(kind="task_unclaimed").get()
    assert event.data == {"reason": "交班"}


def test_the_roster_lists_staff_and_only_supervisors_change_it(site, api):
    listed = api("dispatcher").get("/api/staff/?role=technician").json()
    assert [m["username"] for m in listed["results"]] == ["technician", "technician2"]
    change = {"on_duty": False}
    refused = api("dispatcher").post("/api/staff/technician/", change, format="json")
    assert refused.status_code == 403
    answer = api("cs_supervisor").post("/api/staff/technician/", change, format="json")
    assert answer.status_code == 200 and answer.json()["on_duty"] is False
    listed = api("dispatcher").get("/api/staff/?role=technician").json()
    assert [m["username"] for m in listed["results"]] == ["technician2", "technician"]
    assert api("nobody").get("/api/staff/").status_code == 403
    ghost = api("cs_supervisor").post("/api/staff/ghost/", change, format="json")
    assert ghost.status_code == 404


def test_a_complaint_stays_with_its_first_receiver_unless_a_supervisor_passes_it_on(site, api):
    from tests.test_process_complaint import COMPLAINT

    colleague = User.objects.create_user("frontdesk2", password="pw")
    colleague.groups.add(Group.objects.get(name="frontdesk"))
    site["frontdesk2"] = colleague
    answer = api("frontdesk").post(
        "/api/instances/", {"process": "complaint", "data": COMPLAINT}, format="json"
    )
    assert answer.status_code == 201
    screen = open_task(answer.json()["id"], "screen")
    assert (screen.assignee.username, screen.dispatched) == ("frontdesk", True)  # 首位责任制
    assert inbox(api, "frontdesk2", "available") == []
    assert api("frontdesk2").post(f"/api/tasks/{screen.pk}/claim/").status_code == 409
    # No way back in its diagram: it stays with the receiver...
    kept = api("frontdesk").post(f"/api/tasks/{screen.pk}/hand-back/", {"reason": "下班"},
                                 format="json")  # fmt: skip
    assert kept.status_code == 409 and "supervisor" in kept.json()["detail"]
    # ... unless a supervisor passes it on.
    passed = api("cs_supervisor").post(f"/api/tasks/{screen.pk}/assign/",
                                       {"assignee": colleague.pk}, format="json")  # fmt: skip
    assert passed.status_code == 200
    assert inbox(api, "frontdesk2", "mine") == ["screen"]


def test_a_job_a_supervisor_gives_to_another_technician_stays_with_him_to_sign_off(site, api):
    instance = started(api)
    dispatch_to(api, instance, "technician2")
    arrive = open_task(instance, "arrive")
    to_him = {"assignee": site["technician"].pk}
    moved = api("cs_supervisor").post(f"/api/tasks/{arrive.pk}/assign/", to_him, format="json")
    assert moved.status_code == 200 and moved.json()["assignee"]["username"] == "technician"
    assert inbox(api, "technician2", "mine") == []
    done = api("technician").post(f"/api/tasks/{arrive.pk}/complete/", {"data": {}},
                                  format="json")  # fmt: skip
    assert done.status_code == 200
    assert open_task(instance, "repair_work").assignee.username == "technician"
