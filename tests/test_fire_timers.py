"""One sweep fires every due timer once: `manage.py fire_timers` and its service."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from engine import clock
from server.flows import timers
from server.flows.cases import services
from server.flows.models import AuditEvent
from tests.conftest import make_units
from tests.scenario import deploy_all, local
from tests.test_concurrency import race
from tests.test_limits import REQUEST

CALLED = local("2026-11-23 09:00")


def urgent_repair(user):
    deploy_all()
    make_units("1-101")
    with clock.frozen(CALLED):
        return services.instance_start(process_key="repair", started_by=user, data=REQUEST)


# A sweep hands out what it claimed once its claim commits: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_fire_timers_as_of_a_moment_fires_what_is_due_once(users, settings, capsys):
    settings.PROPFLOW_ALLOW_AS_OF = True
    case = urgent_repair(users["frontdesk"])

    call_command("fire_timers", as_of="2026-11-23T09:05")
    call_command("fire_timers", as_of="2026-11-23T09:11")
    call_command("fire_timers", as_of="2026-11-23T09:11")
    out = capsys.readouterr().out.splitlines()
    assert out == ["Fired the due timers of 0 case(s).", "Fired the due timers of 1 case(s).",
                   "Fired the due timers of 0 case(s)."]  # fmt: skip
    notices = AuditEvent.objects.filter(instance=case, kind="notified")
    assert [e.data["role"] for e in notices] == ["cs_supervisor"]


def test_fire_timers_as_of_is_refused_outside_a_rehearsal_copy(db, settings):
    settings.PROPFLOW_ALLOW_AS_OF = False
    with pytest.raises(CommandError, match="rehearsal copy"):
        call_command("fire_timers", as_of="2026-11-23T09:11")


@pytest.mark.django_db(transaction=True)
def test_a_sweep_without_a_moment_fires_what_is_due_now(users):
    case = urgent_repair(users["frontdesk"])
    assert timers.fire_due(as_of=CALLED + timedelta(minutes=5)) == []
    assert timers.fire_due() == [case.pk]  # the real now is long past 09:10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_sweeps_racing_fire_each_timer_once():
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("desk", password="pw")
    user.groups.add(Group.objects.get_or_create(name="frontdesk")[0])
    case = urgent_repair(user)

    fired = race(8, lambda i: timers.fire_due(as_of=CALLED + timedelta(minutes=31)))

    assert sorted(len(f) for f in fired) == [0] * 7 + [1]
    kinds = list(AuditEvent.objects.filter(instance=case).values_list("kind", flat=True))
    assert kinds.count("timer_fired") == 1 and kinds.count("notified") == 1  # not dispatched
    seqs = list(
        AuditEvent.objects.filter(instance=case).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
