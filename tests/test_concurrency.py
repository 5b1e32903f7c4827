"""Races on PostgreSQL: the instance row lock makes exactly one of them win."""

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from server.flows.cases import services
from server.flows.definitions.services import process_deploy
from server.flows.models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.conftest import fixture_source, make_units

THREADS = 8


def race(n, action):
    """Run ``action(i)`` in ``n`` threads released at the same moment; return their results."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = action(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_people_completing_one_task_at_once_one_wins_the_rest_get_409():
    process_deploy(source=fixture_source())
    make_units("1-101", "1-1", "1")
    group = Group.objects.get_or_create(name="frontdesk")[0]
    people = []
    for i in range(THREADS):
        user = User.objects.create_user(f"desk{i}", password="pw")
        user.groups.add(group)
        people.append(user)
    instance = services.instance_start(
        process_key="two_step", started_by=people[0], data={"unit": "1-101"}
    )
    task = HumanTask.objects.get(instance=instance, status="open")

    def complete(i):
        client = APIClient()
        client.force_authenticate(people[i])
        response = client.post(
            f"/api/tasks/{task.pk}/complete/", {"data": {"summary": f"by {i}"}}, format="json"
        )
        return response.status_code

    codes = race(THREADS, complete)

    assert sorted(codes) == [200] + [409] * (THREADS - 1)
    completions = AuditEvent.objects.filter(instance=instance, kind="task_completed")
    assert completions.count() == 1
    seqs = list(AuditEvent.objects.filter(instance=instance).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert HumanTask.objects.filter(instance=instance, status="open").count() == 1  # the next task
    winner = completions.get().actor
    assert HumanTask.objects.get(pk=task.pk).completed_by == winner


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_person_and_a_timer_at_once_both_land_in_order():
    from datetime import timedelta

    from engine import clock

    process_deploy(source=fixture_source())
    make_units("1-101", "1-1", "1")
    desk = User.objects.create_user("desk", password="pw")
    desk.groups.add(Group.objects.get_or_create(name="frontdesk")[0])
    boss = User.objects.create_user("boss", password="pw")
    boss.groups.add(Group.objects.get_or_create(name="cs_supervisor")[0])
    instance = services.instance_start(
        process_key="two_step", started_by=desk, data={"unit": "1-1"}
    )
    first = HumanTask.objects.get(instance=instance, status="open")
    services.task_complete(task_id=first.pk, user=desk, data={"summary": "x"})
    resolve = HumanTask.objects.get(instance=instance, status="open")
    later = Timer.objects.get(instance=instance).due_at + timedelta(seconds=1)

    def act(i):
        with clock.frozen(later):
            if i == 0:
                return services.instance_fire_timers(instance_id=instance.pk)
            services.task_complete(task_id=resolve.pk, user=boss,
                                   data={"resolution": "ok", "satisfied": "satisfied"})  # fmt: skip
            return "done"

    results = race(2, act)

    assert results[1] == "done" and results[0] in (0, 1)
    kinds = list(AuditEvent.objects.filter(instance=instance).values_list("kind", flat=True))
    assert kinds.count("task_completed") == 2 and kinds[-1] == "instance_completed"
    assert kinds.count("timer_fired") == results[0]
    assert ProcessInstance.objects.get(pk=instance.pk).status == "completed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_step_that_fails_mid_way_changes_nothing_and_the_connection_goes_on():
    """A step that raises rolls its transaction back and leaves the connection usable."""
    import dataclasses

    from server.flows.errors import ProcessFailed
    from server.flows.models import ProcessDefinition

    source = fixture_source()
    broken = dataclasses.replace(source, bpmn=source.bpmn.replace("major == True", "1/0 == 1"))
    process_deploy(source=broken)
    make_units("1")
    desk = User.objects.create_user("desk", password="pw")
    desk.groups.add(Group.objects.get_or_create(name="frontdesk")[0])
    instance = services.instance_start(process_key="two_step", started_by=desk, data={"unit": "1"})
    task = HumanTask.objects.get(instance=instance)
    before = ProcessInstance.objects.get(pk=instance.pk)

    with pytest.raises(ProcessFailed, match="priority_gateway"):
        services.task_complete(task_id=task.pk, user=desk, data={"summary": "x"})

    assert connection.get_autocommit() and not connection.in_atomic_block
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.engine_state, after.event_seq) == (before.engine_state, before.event_seq)
    assert HumanTask.objects.get(pk=task.pk).status == "open"
    assert AuditEvent.objects.filter(instance=instance).count() == 2
    process_deploy(source=source)  # the fixed version, for new cases
    assert ProcessDefinition.objects.count() == 2
    claimed = services.task_claim(task_id=task.pk, user=desk)  # the same connection works on
    assert claimed.assignee == desk


def _in_another_connection(query, params):
    """Run ``query`` in a transaction of a fresh connection (a thread of its own); return its
    rows, or the database error it raised."""
    out = {}

    def run():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(query, params)
                out["rows"] = cursor.fetchall()
        except DatabaseError as err:
            out["error"] = err
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return out.get("error") or out["rows"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_step_on_commit_waits_for_the_commit_and_a_nested_atomic_keeps_the_lock(
    users, monkeypatch
):
    """An effect handler written the ordinary Django way (a nested atomic, get_or_create,
    on_commit) keeps the step one transaction under one lock."""
    from server import operations
    from tests.scenario import Case, deploy_all, local
    from tests.test_process_move_in import REGISTER, START

    deploy_all()
    make_units("2-301", status="not_handed_over")
    case = Case(users, "move_in", as_="frontdesk", data=START, at=local("2026-11-23 09:00"))
    table = ProcessInstance._meta.db_table
    lock = f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT"
    completions = (
        f"SELECT count(*) FROM {AuditEvent._meta.db_table} "
        "WHERE instance_id = %s AND kind = 'task_completed'"
    )
    seen = {}
    real = operations.apply

    def effect_apply(effect, *, batch, today):
        with transaction.atomic():  # a savepoint inside the step, not a commit
            Group.objects.get_or_create(name="made-inside-a-step")
        seen["in_step"] = connection.in_atomic_block
        seen["lock_held"] = isinstance(_in_another_connection(lock, [case.id]), DatabaseError)
        transaction.on_commit(
            lambda: seen.setdefault("after", _in_another_connection(completions, [case.id]))
        )
        seen["before"] = "after" in seen
        return real(effect, batch=batch, today=today)

    monkeypatch.setattr(operations, "apply", effect_apply)
    case.complete("register", as_="frontdesk", data=REGISTER)

    assert seen["in_step"] and seen["lock_held"], "the nested atomic released the lock"
    assert seen["before"] is False, "on_commit ran before the step committed"
    assert seen["after"] == [(1,)], "on_commit ran before the completion was visible"
    assert Group.objects.filter(name="made-inside-a-step").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_batch_outside_a_transaction_is_refused():
    from server.flows.cases.batch import Batch, OutsideTransaction

    batch = Batch()
    batch.delete(Timer, instance=1)
    with pytest.raises(OutsideTransaction):
        batch.run()
