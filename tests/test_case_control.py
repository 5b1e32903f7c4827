"""Suspending, resuming, terminating a case and moving it to another version (issue 13,
item 8): the write path, the API and its permissions, on a repair case."""

from __future__ import annotations

import dataclasses
import re

import pytest

from engine import clock
from server.flows import timers
from server.flows.cases import services
from server.flows.definitions.services import process_deploy
from server.flows.demo import SIGNED
from server.flows.models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.conftest import fixture_source, make_units
from tests.scenario import Case, deploy_all, local
from tests.test_migration_engine import ARRIVAL_GRACE, RETURN_VISIT, changed, repair_source
from tests.test_process_repair import REQUEST, dispatch

CONTROLLERS = ("cs_supervisor", "vice_gm", "property_manager")


@pytest.fixture
def at_arrival(db, users):
    """``start()``: a repair case dispatched for 14:00, ``arrive`` open (due 14:30, its
    level-3 limit at 15:00)."""
    deploy_all()
    make_units("1-101")

    def start() -> Case:
        case = Case(users, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
        dispatch(case, "2026-11-23T14:00:00+08:00")
        assert case.open() == {"arrive": "technician"}
        return case

    return start


def kinds(case: Case) -> list[str]:
    return [e.kind for e in case.events()]


def timer_rows(case: Case) -> list[tuple]:
    return list(
        Timer.objects.filter(instance_id=case.id).order_by("due_at")
        .values_list("task_id", "bpmn_id", "due_at")
    )  # fmt: skip


def deploy_v2(*pairs) -> int:
    definition, new = process_deploy(source=changed(repair_source(), *pairs))
    assert new
    return definition.version


V2_LIMITS = (
    (ARRIVAL_GRACE, 'deadline("repair.urgent_arrival", start=arrival_from)'),
    (RETURN_VISIT, 'deadline("repair.lighting")'),
)


def deploy_without_arrive() -> int:
    """A version whose ``arrive`` step has another id: a case waiting there cannot move."""
    source = repair_source()
    bpmn = re.sub(r'(["> ])arrive(["<])', r"\1arrive_on_site\2", source.bpmn)
    glossary = {("arrive_on_site" if k == "arrive" else k): v for k, v in source.glossary.items()}
    # The package's saved rehearsal walks through arrive, so it goes with the step; its
    # milestone names the new id.
    milestones = [{**m, "tasks": ["arrive_on_site" if t == "arrive" else t for t in m["tasks"]]}
                  for m in source.milestones]  # fmt: skip
    changed_source = dataclasses.replace(source, bpmn=bpmn, glossary=glossary, rehearsals={},
                                         milestones=milestones)  # fmt: skip
    definition, _ = process_deploy(source=changed_source)
    return definition.version


# -- suspending and resuming --------------------------------------------------------------


def test_a_suspended_case_takes_no_claim_or_completion_its_timers_wait_and_resume_fires_them(
    at_arrival, users, api
):
    case = at_arrival()
    arrive = case.task("arrive")
    with clock.frozen(local("2026-11-23 10:00")):
        answer = api("cs_supervisor").post(
            f"/api/instances/{case.id}/suspend/", {"reason": "业主出差，暂缓"}, format="json"
        )
    assert answer.status_code == 200 and answer.json()["status"] == "suspended"

    tech = api("technician")
    claim = tech.post(f"/api/tasks/{arrive.pk}/claim/")
    assert claim.status_code == 409 and "suspended" in claim.json()["detail"]
    done = tech.post(f"/api/tasks/{arrive.pk}/complete/", {"data": {}}, format="json")
    assert done.status_code == 409
    zh = api("technician").post(f"/api/tasks/{arrive.pk}/claim/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已暂停" in zh.json()["detail"]
    assign = api("cs_supervisor").post(
        f"/api/tasks/{arrive.pk}/assign/", {"assignee": users["technician"].pk}, format="json"
    )
    assert assign.status_code == 409
    assert HumanTask.objects.get(pk=arrive.pk).assignee_id == users["technician"].pk  # as given

    # Both limits pass while it is suspended: the sweep leaves them.
    scheduled = timer_rows(case)
    assert timers.fire_due(as_of=local("2026-11-23 15:10")) == []
    assert timer_rows(case) == scheduled
    assert "timer_fired" not in kinds(case) and case.escalations() == []
    assert Timer.objects.filter(instance_id=case.id, claimed_until__isnull=False).count() == 0

    with clock.frozen(local("2026-11-23 15:10")):
        services.instance_resume(instance_id=case.id, user=users["vice_gm"])

    assert case.status == "running"
    assert case.escalations() == [(2, "cs_supervisor"), (3, "vice_gm")]  # fired on resume
    assert timer_rows(case) == []
    trail = kinds(case)
    assert trail[trail.index("instance_suspended") :].count("timer_fired") == 2
    assert trail.index("instance_resumed") < trail.index("timer_fired")
    suspended = case.events("instance_suspended")[0]
    assert (suspended.data, suspended.actor) == (
        {"reason": "业主出差，暂缓"},
        users["cs_supervisor"],
    )
    assert tech.post(f"/api/tasks/{arrive.pk}/claim/").status_code == 200


def test_suspended_shows_in_the_inbox_and_on_the_case_page(at_arrival, users, client):
    case = at_arrival()
    services.instance_suspend(instance_id=case.id, user=users["cs_supervisor"], reason="暂缓")
    client.force_login(users["technician"])

    inbox = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page = client.get(f"/cases/{case.id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Suspended" in inbox and "Claim</button>" not in inbox
    assert 'data-testid="suspended"' in page and 'data-testid="controls"' not in page


def test_resuming_or_suspending_in_the_wrong_state_is_a_conflict(at_arrival, api):
    case = at_arrival()
    boss = api("property_manager")
    resume = boss.post(f"/api/instances/{case.id}/resume/")
    assert resume.status_code == 409 and "already running" in resume.json()["detail"]
    assert boss.post(f"/api/instances/{case.id}/suspend/", {"reason": "x"},
                     format="json").status_code == 200  # fmt: skip
    again = boss.post(f"/api/instances/{case.id}/suspend/", {"reason": "x"}, format="json")
    assert again.status_code == 409
    blank = boss.post(f"/api/instances/{case.id}/suspend/", {"reason": " "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]


def test_terminating_a_suspended_case_closes_its_tasks_and_drops_its_timers(at_arrival, api):
    case = at_arrival()
    boss = api("vice_gm")
    boss.post(f"/api/instances/{case.id}/suspend/", {"reason": "待定"}, format="json")

    answer = boss.post(f"/api/instances/{case.id}/terminate/", {"reason": "业主撤回"},
                       format="json")  # fmt: skip

    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["tasks"], answer.json()["timers"]) == (
        "cancelled", [], [],
    )  # fmt: skip
    assert case.events("instance_cancelled")[0].data == {"reason": "业主撤回"}
    assert boss.post(f"/api/instances/{case.id}/terminate/", {"reason": "x"},
                     format="json").status_code == 409  # fmt: skip


@pytest.mark.parametrize("role", ["frontdesk", "technician", "auditor", "dispatcher"])
def test_only_supervisors_and_managers_control_a_case(at_arrival, api, role):
    case = at_arrival()
    version = deploy_v2(*V2_LIMITS)
    calls = [
        (f"/api/instances/{case.id}/suspend/", {"reason": "x"}),
        (f"/api/instances/{case.id}/resume/", None),
        (f"/api/instances/{case.id}/terminate/", {"reason": "x"}),
        (f"/api/instances/{case.id}/migrate/", {"version": version}),
        ("/api/instances/migrate/", {"instances": [case.id], "version": version}),
    ]
    for path, body in calls:
        answer = api(role).post(path, body, format="json")
        assert answer.status_code in (403, 404), (path, answer.status_code)  # 404: hidden
    assert case.status == "running" and kinds(case)[-1] == "task_created"


@pytest.mark.parametrize("role", CONTROLLERS)
def test_each_supervisor_role_and_the_manager_may(at_arrival, api, role):
    case = at_arrival()
    answer = api(role).post(f"/api/instances/{case.id}/suspend/", {"reason": "x"}, format="json")
    assert answer.status_code == 200


def test_unknown_cases_and_versions(at_arrival, api):
    case = at_arrival()
    boss = api("cs_supervisor")
    assert boss.post("/api/instances/999999/suspend/", {"reason": "x"},
                     format="json").status_code == 404  # fmt: skip
    assert boss.post("/api/instances/999999/resume/").status_code == 404
    unknown = boss.post(f"/api/instances/{case.id}/migrate/", {"version": 7}, format="json")
    assert unknown.status_code == 400 and "version" in unknown.json()["errors"]
    same = boss.post(f"/api/instances/{case.id}/migrate/", {"version": 1}, format="json")
    assert same.status_code == 409
    huge = boss.post(f"/api/instances/{case.id}/migrate/", {"version": 2**40}, format="json")
    assert huge.status_code == 400
    batch = boss.post("/api/instances/migrate/", {"instances": [case.id, 999999], "version": 1},
                      format="json")  # fmt: skip
    assert batch.status_code == 404


# -- moving to another version ------------------------------------------------------------


def test_a_case_moves_to_a_version_with_other_time_limits_keeping_its_task_and_due_times(
    at_arrival, users, api
):
    case = at_arrival()
    arrive = case.task("arrive")
    scheduled = timer_rows(case)
    version = deploy_v2(*V2_LIMITS)

    with clock.frozen(local("2026-11-23 10:00")):
        answer = api("cs_supervisor").post(
            f"/api/instances/{case.id}/migrate/", {"version": version}, format="json"
        )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["version"] == version == 2
    assert [t["id"] for t in answer.json()["tasks"]] == [str(arrive.pk)]
    assert case.due("arrive") == local("2026-11-23 14:30")  # kept
    assert timer_rows(case) == scheduled  # same timers, same due times
    assert case.refresh().definition.version == 2
    moved = case.events("instance_migrated")[0]
    assert (moved.data, moved.actor) == ({"from": 1, "to": 2}, users["cs_supervisor"])
    assert "task_created" not in kinds(case)[kinds(case).index("instance_migrated") :]

    # It runs on under version 2: the return visit gets v2's two days.
    case.now = local("2026-11-23 13:50")
    case.complete("arrive", as_="technician", claim=True)
    done = {
        "outcome": "done",
        "work_done": "更换阀芯",
        "owner_signature": SIGNED,
    }
    case.complete("repair_work", as_="technician", data=done)
    assert case.due("return_visit") == local("2026-11-25 13:50")


def test_a_move_the_engine_refuses_says_why_and_changes_nothing(at_arrival, api):
    case = at_arrival()
    version = deploy_without_arrive()
    before = (case.refresh().state, timer_rows(case), kinds(case))

    answer = api("cs_supervisor").post(
        f"/api/instances/{case.id}/migrate/", {"version": version}, format="json"
    )

    assert answer.status_code == 409
    reasons = answer.json()["errors"]["version"]
    assert reasons == ["Open task arrive (接单并到场) is not in the new version."]
    assert "arrive" in answer.json()["detail"]
    after = case.refresh()
    assert (after.state, timer_rows(case), kinds(case)) == before
    assert after.definition.version == 1


def test_the_batch_answers_per_case(at_arrival, users, api):
    waiting = at_arrival()  # at arrive: cannot move to a version without it
    fresh = Case(users, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
    assert fresh.open() == {"dispatch": "dispatcher"}
    version = deploy_without_arrive()

    answer = api("vice_gm").post(
        "/api/instances/migrate/", {"instances": [waiting.id, fresh.id], "version": version},
        format="json",
    )  # fmt: skip

    assert answer.status_code == 200
    first, second = answer.json()
    assert (first["id"], first["migrated"]) == (waiting.id, False)
    assert "arrive" in first["reason"]
    assert second == {"id": fresh.id, "migrated": True, "reason": ""}
    assert fresh.refresh().definition.version == version
    assert waiting.refresh().definition.version == 1
    # Its next step is the new version's.
    dispatch(fresh, "2026-11-23T14:00:00+08:00")
    assert fresh.open() == {"arrive_on_site": "technician"}


def test_the_batch_takes_one_process_and_a_known_version(at_arrival, users, api):
    case = at_arrival()
    process_deploy(source=fixture_source())
    make_units("1-1")
    other = services.instance_start(process_key="two_step", started_by=users["frontdesk"],
                                    data={"unit": "1-101"})  # fmt: skip
    boss = api("cs_supervisor")
    mixed = boss.post("/api/instances/migrate/", {"instances": [case.id, other.pk],
                                                   "version": 1}, format="json")  # fmt: skip
    assert mixed.status_code == 400 and "instances" in mixed.json()["errors"]
    unknown = boss.post("/api/instances/migrate/", {"instances": [case.id], "version": 5},
                        format="json")  # fmt: skip
    assert unknown.status_code == 400 and "version" in unknown.json()["errors"]
    empty = boss.post("/api/instances/migrate/", {"instances": [], "version": 1}, format="json")
    assert empty.status_code == 400
    assert ProcessInstance.objects.get(pk=case.id).definition.version == 1


def test_the_case_page_offers_the_newer_version_and_shows_a_refusal(at_arrival, users, client):
    case = at_arrival()
    version = deploy_without_arrive()
    client.force_login(users["cs_supervisor"])
    page = client.get(f"/cases/{case.id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Move to version {version}" in page and "Suspend</button>" in page

    refused = client.post(f"/cases/{case.id}/migrate/", {"version": str(version)},
                          HTTP_ACCEPT_LANGUAGE="en", follow=True)  # fmt: skip

    assert "Open task arrive (接单并到场) is not in the new version." in refused.content.decode()
    suspended = client.post(f"/cases/{case.id}/suspend/", {"reason": "暂缓"}, follow=True)
    assert case.status == "suspended" and suspended.status_code == 200
    assert AuditEvent.objects.filter(instance_id=case.id, kind="instance_suspended").exists()
    client.force_login(users["technician"])
    assert client.post(f"/cases/{case.id}/resume/").status_code in (302, 404)
    assert case.status == "suspended"


# -- a move and a completion at once ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("queued", [False, True])
def test_a_move_and_a_completion_at_once_land_in_some_order_and_agree(users, queued):
    from tests.test_races import post, race

    deploy_all()
    make_units("1-101")
    case = Case(users, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
    dispatch(case, "2026-11-23T14:00:00+08:00")
    arrive = case.task("arrive")
    services.task_claim(task_id=arrive.pk, user=users["technician"])
    version = deploy_v2(*V2_LIMITS)

    codes = race([
        post(users["cs_supervisor"], f"/api/instances/{case.id}/migrate/", {"version": version}),
        post(users["technician"], f"/api/tasks/{arrive.pk}/complete/", {"data": {}}),
    ], queue_on=case.id if queued else None)  # fmt: skip

    assert codes == [200, 200]
    instance = case.refresh()
    assert instance.definition.version == version
    engine_view = services.get_engine().inspect(
        services.source_for(instance.definition_id), instance.engine_state
    )
    open_rows = {str(t.pk): t.bpmn_id for t in case.open_tasks()}
    assert (
        open_rows
        == {r.id: r.bpmn_id for r in engine_view.ready}
        == {next(iter(open_rows)): "repair_work"}
    )
    assert {str(t) for t, *_ in timer_rows(case)} == {
        t.task_id for t in engine_view.timers if t.due
    }
    assert HumanTask.objects.get(pk=arrive.pk).status == "completed"
    seqs = [e.seq for e in case.events()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert kinds(case).count("instance_migrated") == 1
