"""The demo data `make run` loads: every process, in different states."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from engine import clock
from server.flows.models import AuditEvent, HumanTask, ProcessInstance


def test_the_demo_holds_every_process_including_an_escalated_complaint_and_a_late_repair(
    db, settings, capsys
):
    settings.DEBUG = True
    call_command("deploy_processes")
    call_command("load_demo")
    call_command("load_demo")  # a second run adds nothing

    instances = ProcessInstance.objects.all()
    assert {i.process_key for i in instances} == {
        "move_in", "renovation", "repair", "complaint", "move_out",
    }  # fmt: skip
    assert {i.status for i in instances} == {"running", "completed"}
    assert instances.count() == 10
    escalated = AuditEvent.objects.filter(kind="escalated", instance__process_key="complaint")
    assert escalated.exists()
    late = HumanTask.objects.get(process_key="repair", bpmn_id="arrive", status="open")
    assert late.due_at < clock.now()
    assert set(
        AuditEvent.objects.filter(instance=late.instance, kind="escalated").values_list(
            "data__level", flat=True
        )
    ) == {2, 3}
    assert "Demo cases: 10" in capsys.readouterr().out


@pytest.mark.parametrize(
    "moment",
    ["2026-12-01 22:28", "2026-12-01 07:00", "2026-12-01 17:40", "2026-12-06 12:00"],
    ids=["late-evening", "before-work", "after-work", "sunday"],
)
def test_the_demo_loads_whatever_the_time_it_is_loaded_at(db, settings, moment):
    """A case played 'earlier today' must not meet a same-day limit during the play."""
    settings.DEBUG = True
    call_command("deploy_processes")
    at = datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    with clock.frozen(at):
        call_command("load_demo")
    assert ProcessInstance.objects.count() == 10
