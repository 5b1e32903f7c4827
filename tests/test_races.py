"""Races through the REST API on PostgreSQL, threads released at the same instant.

What staff do at once on one case must land as if they had queued: one claim wins, a
completion is never followed by a claim, parallel branches both complete.
"""

import contextlib
import threading
import time

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from server.flows.cases import services
from server.flows.definitions.services import process_deploy
from server.flows.models import AuditEvent, HumanTask, ProcessInstance
from tests.conftest import fixture_source, make_units
from tests.scenario import Case, deploy_all, local
from tests.test_process_move_in import FEES, HANDOVER, REGISTER, ROOMS, SIGNED, START

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
INSTANCES = ProcessInstance._meta.db_table


def race(actions, *, queue_on: int | None = None):
    """Run each callable in its own thread, all released together; return their results.

    With ``queue_on`` (a case id) the case's row lock is held until every action waits
    for it, so each run hits the contended path instead of only the runs where the
    threads happen to overlap.
    """
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(i):
        try:
            barrier.wait()
            results[i] = actions[i]()
        except Exception as err:  # the test reads it, not a thread's traceback
            results[i] = err
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    with holding_lock(queue_on, waiters=len(actions)) if queue_on else contextlib.nullcontext():
        for t in threads:
            t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@contextlib.contextmanager
def holding_lock(instance_id: int, *, waiters: int):
    """Hold the case's row lock through the block and until ``waiters`` sessions wait on it."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {INSTANCES} WHERE id = %s FOR UPDATE", [instance_id])
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield
        waiting = 0
        for _ in range(200):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                waiting = cursor.fetchone()[0]
            if waiting >= waiters:
                break
            time.sleep(0.05)
        assert waiting >= waiters, f"only {waiting} of {waiters} queued on the lock"
    finally:
        release.set()
        holder.join(30)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0]}")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def staff(role: str, n: int) -> list[User]:
    group = Group.objects.get_or_create(name=role)[0]
    people = []
    for i in range(n):
        user = User.objects.create_user(f"{role}{i}", password="pw")
        user.groups.add(group)
        people.append(user)
    return people


def post(user, path, body=None):
    clients = {}  # one client per call: each thread has its own

    def call():
        clients[0] = client_for(user)
        return clients[0].post(path, body or {}, format="json").status_code

    return call


TRIALS = 3  # a race that lands right once by luck rarely does three times


@pytest.fixture
def first_tasks():
    """Twelve front-desk users and the first task of each of ``TRIALS`` new cases."""
    process_deploy(source=fixture_source())
    make_units("1-101")
    desks = staff("frontdesk", 12)
    tasks = []
    for _ in range(TRIALS):
        instance = services.instance_start(
            process_key="two_step", started_by=desks[0], data={"unit": "1-101"}
        )
        tasks.append(HumanTask.objects.get(instance=instance, status="open"))
    return desks, tasks


def kinds(task) -> list[str]:
    return list(AuditEvent.objects.filter(task=task).order_by("seq").values_list("kind", flat=True))


def assert_gapless(instance_id: int) -> None:
    seqs = list(
        AuditEvent.objects.filter(instance_id=instance_id).order_by("seq")
        .values_list("seq", flat=True)
    )  # fmt: skip
    assert seqs == list(range(1, len(seqs) + 1))


def test_twelve_people_claiming_one_task_one_wins_and_one_claim_is_recorded(first_tasks):
    desks, tasks = first_tasks
    for i, task in enumerate(tasks):
        queue = task.instance_id if i else None  # the first free, the others queued
        codes = race([post(u, f"/api/tasks/{task.pk}/claim/") for u in desks], queue_on=queue)

        assert sorted(codes) == [200] + [409] * 11
        assert kinds(task).count("task_claimed") == 1
        claimed = AuditEvent.objects.get(task=task, kind="task_claimed")
        assert HumanTask.objects.get(pk=task.pk).assignee_id == claimed.actor_id
        assert_gapless(task.instance_id)


def test_a_completion_racing_eleven_claims_is_never_followed_by_a_claim(first_tasks):
    desks, tasks = first_tasks
    for i, task in enumerate(tasks):
        path = f"/api/tasks/{task.pk}"
        complete = post(desks[0], f"{path}/complete/", {"data": {"summary": "done"}})
        claims = [post(u, f"{path}/claim/") for u in desks[1:]]

        codes = race([complete, *claims], queue_on=task.instance_id if i else None)

        check_completion_race(task, desks[0], codes)


def check_completion_race(task, completer, codes) -> None:
    assert codes[0] in (200, 409)
    row = HumanTask.objects.get(pk=task.pk)
    trail = kinds(task)
    if codes[0] == 200:
        assert row.status == "completed" and row.completed_by == completer
        assert trail[-1] == "task_completed"  # nothing after the completion
        assert trail.count("task_claimed") == codes[1:].count(200) <= 1
    else:  # a claim came first and the completer lost to it: still one winner
        assert row.status == "open" and trail.count("task_claimed") == 1
    assert trail.count("task_completed") == codes[:1].count(200)
    assert_gapless(task.instance_id)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_parallel_branches_completed_at_once_both_succeed(db, users, trial):
    deploy_all()
    make_units("2-301", status="not_handed_over")
    case = Case(users, "move_in", as_="frontdesk", data=START, at=local("2026-11-23 09:00"))
    case.complete("register", as_="frontdesk", data=REGISTER)
    case.complete("fees", as_="finance", data=FEES)
    case.complete("inspection", as_="engineering", data={
        "rooms": ROOMS, "defects": [{"location": "卫生间", "description": "地漏堵塞"}],
        "owner_signature": SIGNED,
    })  # fmt: skip
    handover, follow_up = case.task("handover"), case.task("defect_follow_up")
    defect = {"slip_no": "LX-01", "sent_on": "2026-11-24", "completion_slip_no": "WG-01",
              "completed_on": "2026-11-25"}  # fmt: skip

    codes = race([
        post(users["frontdesk"], f"/api/tasks/{handover.pk}/complete/", {"data": HANDOVER}),
        post(users["engineering"], f"/api/tasks/{follow_up.pk}/complete/", {"data": defect}),
    ], queue_on=case.id if trial else None)  # fmt: skip

    assert codes == [200, 200]
    for task in (handover, follow_up):
        assert kinds(task).count("task_completed") == 1
        assert "task_cancelled" not in kinds(task)
        assert HumanTask.objects.get(pk=task.pk).status == "completed"
    assert set(case.open()) == {"return_visit", "defect_return_visit"}
    assert_gapless(case.id)
