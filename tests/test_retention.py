"""Retention (issue 15, item 6): a finished case's ``x-personal`` values are masked after
the configured years; the audit chain still verifies, because it hashed their digests."""

import json
import shutil
from datetime import timedelta

import pytest
from django.core.management import call_command

import engine
from engine import clock
from server.flows.cases import chain, retention, services
from server.flows.definitions.services import process_deploy
from server.flows.models import AuditEvent, HumanTask, ProcessInstance
from tests.conftest import PROCESSES, make_units

PHONE = "13800138000"


@pytest.fixture
def personal_process(db, tmp_path):
    """The two-step test process whose register form asks for a caller's phone and name,
    flagged personal (one nested)."""
    package = tmp_path / "two_step_personal"
    shutil.copytree(PROCESSES / "two_step", package)
    toml = package / "process.toml"
    toml.write_text(toml.read_text().replace('key = "two_step"', 'key = "two_step_personal"'))
    form = package / "forms" / "two_step_register.json"
    schema = json.loads(form.read_text())
    schema["properties"]["phone"] = {"type": "string", "title": "电话", "x-personal": True}
    schema["properties"]["caller"] = {
        "type": "object", "title": "来电人",
        "properties": {"name": {"type": "string", "title": "姓名", "x-personal": True},
                       "kind": {"type": "string", "title": "身份"}},
    }  # fmt: skip
    form.write_text(json.dumps(schema, ensure_ascii=False))
    make_units("1-101")
    definition, _ = process_deploy(source=engine.load_package(package))
    return definition


def finished_case(users) -> ProcessInstance:
    instance = services.instance_start(
        process_key="two_step_personal", started_by=users["frontdesk"], data={"unit": "1-101"}
    )
    register = HumanTask.objects.get(instance=instance, status="open")
    services.task_complete(
        task_id=register.pk, user=users["frontdesk"],
        data={"summary": "漏水", "phone": PHONE, "caller": {"name": "王芳", "kind": "业主"}},
    )  # fmt: skip
    resolve = HumanTask.objects.get(instance=instance, status="open")
    services.task_complete(
        task_id=resolve.pk, user=users["cs_supervisor"],
        data={"resolution": "已修复", "satisfied": "satisfied"},
    )  # fmt: skip
    instance.refresh_from_db()
    assert instance.status == "completed"
    return instance


def test_personal_paths_come_from_the_schema_flag(personal_process):
    from server.flows.definitions.cache import source_for

    paths = retention.personal_paths(source_for(personal_process.pk))
    assert paths == {("phone",), ("caller", "name")}


def test_a_case_past_the_rule_loses_its_personal_values_and_keeps_its_chain(
    personal_process, users
):
    instance = finished_case(users)
    later = clock.now() + timedelta(days=365 * 5 + 2)
    assert list(retention.due(years=5, now=clock.now()).values_list("pk", flat=True)) == []
    assert list(retention.due(years=5, now=later).values_list("pk", flat=True)) == [instance.pk]
    done = AuditEvent.objects.get(instance=instance, kind="task_completed", data__data__phone=PHONE)

    assert retention.retire(instance_id=instance.pk, years=5) == 2

    masked = AuditEvent.objects.get(pk=done.pk).data["data"]
    assert masked["phone"] == {chain.REDACTED: chain.digest(instance.audit_salt, PHONE)}
    assert masked["caller"]["name"] == {chain.REDACTED: chain.digest(instance.audit_salt, "王芳")}
    assert (masked["summary"], masked["caller"]["kind"]) == ("漏水", "业主")  # not personal
    instance.refresh_from_db()
    state = json.dumps(json.loads(instance.engine_state), ensure_ascii=False)
    assert PHONE not in state and "王芳" not in state
    assert "漏水" in state and '"phone": "***"' in state
    retired = AuditEvent.objects.get(instance=instance, kind=retention.RETIRED)
    assert retired.seq == instance.event_seq
    assert retired.data == {"fields": ["caller.name", "phone"], "values": 2, "files": 0, "years": 5}
    assert list(chain.verify([instance.pk])) == []
    assert list(retention.due(years=5, now=later)) == []  # once


def test_running_cases_are_never_due(personal_process, users):
    instance = services.instance_start(
        process_key="two_step_personal", started_by=users["frontdesk"], data={"unit": "1-101"}
    )
    later = clock.now() + timedelta(days=365 * 50)
    assert instance.pk not in retention.due(years=5, now=later).values_list("pk", flat=True)
    assert retention.retire(instance_id=instance.pk, years=5) == 0


def test_the_command_masks_what_is_due_and_says_so(personal_process, users, capsys):
    instance = finished_case(users)
    call_command("retire_personal_data", "--years", "0.000001", "--dry-run")
    assert f"1 case(s) due: {instance.pk}." in capsys.readouterr().out
    call_command("retire_personal_data", "--years", "0.000001")
    assert "Personal data masked in 1 case(s)" in capsys.readouterr().out
    assert not AuditEvent.objects.filter(instance=instance, data__data__phone=PHONE).exists()
    call_command("verify_audit", "--case", str(instance.pk))
