"""Races on PostgreSQL: the instance row lock makes exactly one of them win."""

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

from server.flows import services
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
    services.process_deploy(source=fixture_source())
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

    services.process_deploy(source=fixture_source())
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
    """Outside any atomic block BEGIN and COMMIT ride on the step's statements; a failure
    between them must roll back and leave the connection usable."""
    import dataclasses

    from server.flows.errors import ProcessFailed
    from server.flows.models import ProcessDefinition

    source = fixture_source()
    broken = dataclasses.replace(source, bpmn=source.bpmn.replace("major == True", "1/0 == 1"))
    services.process_deploy(source=broken)
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
    services.process_deploy(source=source)  # the fixed version, for new cases
    assert ProcessDefinition.objects.count() == 2
    claimed = services.task_claim(task_id=task.pk, user=desk)  # the same connection works on
    assert claimed.assignee == desk
