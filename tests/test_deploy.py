"""Deployment: validation first, immutable versions, instances stay on theirs."""

import dataclasses
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

import engine
from server.flows.cases import services
from server.flows.definitions.services import process_deploy
from server.flows.errors import Invalid
from server.flows.models import HumanTask, ProcessDefinition, ProcessInstance
from tests.conftest import PROCESSES, fixture_source, make_units


def with_bpmn(source, old, new):
    assert old in source.bpmn
    return dataclasses.replace(source, bpmn=source.bpmn.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("major == True", "__import__('os').system('id')", "priority_gateway"),
        ("major == True", "().__class__.__base__.__subclasses__()", "priority_gateway"),
        ("escalation_level = 2", "import os", "mark_major"),
        ("escalation_level = 2", "x = ().__class__.__base__.__subclasses__()", "mark_major"),
    ],
)
def test_scripts_that_escape_the_sandbox_are_refused_at_validation_naming_the_element(
    db, old, new, element
):
    source = with_bpmn(fixture_source(), old, new)

    with pytest.raises(Invalid) as err:
        process_deploy(source=source)

    assert any(p.startswith(f"{element}:") for p in err.value.errors["problems"]), err.value.errors
    assert ProcessDefinition.objects.count() == 0


def test_getattr_is_not_offered_to_scripts_at_run_time():
    eng = engine.Engine()
    with pytest.raises(NameError):
        eng.script_engine.environment.execute("x = getattr(1, 'real')", {})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"PT1H"', '"in an hour"', "resolve_reminder: timer '\"in an hour\"' gives 'in an hour', "
         "which is not an ISO 8601 duration (PT4H, P2D)"),
        ('"PT1H"', '"P1H"', "resolve_reminder: timer '\"P1H\"' gives 'P1H', which is not an ISO "
         "8601 duration (PT4H, P2D): did you mean 'PT1H'?"),
        ('<bpmn:timeDuration>"PT1H"</bpmn:timeDuration>',
         '<bpmn:timeCycle>"R/PT1M"</bpmn:timeCycle>',
         "resolve_reminder: timer cycle 'R/PT1M' repeats for ever: give the number of "
         "repetitions, R<n>/... with n at most 60"),
        ('name="客服中心主管"', 'name="其他"', "resolve: its lane '其他' is mapped to no role"),
        ("two_step_resolve.json", "missing.json",
         "resolve: task '处理' (formJsonSchemaFilename) names form 'missing.json', but the "
         "package has no file forms/missing.json"),
        ('<bpmn:endEvent id="end"', '<bpmn:endEvnt id="end"',
         "two_step.bpmn: is not well-formed XML"),
        ('sourceRef="resolve" targetRef="end"', 'sourceRef="resolve" targetRef="nowhere"',
         "flow_resolve_end: targetRef names 'nowhere', which is no element of the file"),
    ],
)  # fmt: skip
def test_broken_packages_get_one_clear_message_each(old, new, expected):
    problems = engine.problems(with_bpmn(fixture_source(), old, new))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_form_that_is_not_json_schema_is_named():
    source = fixture_source()
    forms = {
        **source.forms,
        "two_step_resolve.json": {"type": "object", "properties": {"a": {"type": 5}}},
    }
    problems = engine.problems(dataclasses.replace(source, forms=forms))
    assert problems == [
        "resolve: form 'two_step_resolve.json' is not valid JSON Schema at properties/a/type: "
        "5 is not valid under any of the given schemas"
    ]


def test_a_manifest_with_unknown_roles_and_missing_names_is_refused():
    source = dataclasses.replace(
        fixture_source(), names={"en": "x"}, start_roles=["janitor"],
        lanes={"客服专员": "frontdesk", "客服中心主管": "boss"},
    )  # fmt: skip
    assert engine.problems(source) == [
        "process.toml: [name] needs a 'zh-hans' entry",
        "process.toml: start_roles names unknown role 'janitor'",
        "process.toml: lane '客服中心主管' maps to unknown role 'boss'",
    ]


def test_unchanged_content_is_a_no_op_and_changed_content_a_new_version(db, users):
    first, created = process_deploy(source=fixture_source())
    again, created_again = process_deploy(source=fixture_source())
    assert (created, created_again, again.pk) == (True, False, first.pk)
    make_units("1-101", "1-102")
    running = services.instance_start(process_key="two_step", started_by=users["frontdesk"],
                                      data={"unit": "1-101"})  # fmt: skip

    changed = with_bpmn(fixture_source(), 'name="登记"', 'name="登记问题"')
    second, created = process_deploy(source=changed)

    assert created and second.version == 2
    new = services.instance_start(
        process_key="two_step", started_by=users["frontdesk"], data={"unit": "1-102"}
    )
    assert HumanTask.objects.get(instance=new).name == "登记问题"
    old_task = HumanTask.objects.get(instance=running)
    assert old_task.name == "登记"  # the running instance stays on version 1
    services.task_complete(task_id=old_task.pk, user=users["frontdesk"], data={"summary": "x"})
    assert ProcessInstance.objects.get(pk=running.pk).definition_id == first.pk


def copy_package(tmp_path, key: str = "two_step"):
    """A writable copy of a fixture package, forms and all, in a folder of its own."""
    package = tmp_path / "processes" / key
    shutil.copytree(PROCESSES / key, package)
    return package


def test_a_missing_form_file_is_named_with_the_task_or_the_manifest_that_names_it(tmp_path):
    package = copy_package(tmp_path)
    (package / "forms" / "two_step_resolve.json").unlink()
    (package / "forms" / "two_step_start.json").unlink()

    problems = engine.problems(engine.load_package(package))

    assert problems == [
        "start: process.toml start_form names form 'two_step_start.json', but the package has "
        "no file forms/two_step_start.json",
        "resolve: task '处理' (formJsonSchemaFilename) names form 'two_step_resolve.json', but "
        "the package has no file forms/two_step_resolve.json",
    ]


def test_a_form_named_by_a_path_is_refused_and_never_read(tmp_path):
    package = copy_package(tmp_path)
    (tmp_path / "secret.json").write_text('{"type": "object", "properties": {}}')
    bpmn = package / "two_step.bpmn"
    bpmn.write_text(bpmn.read_text().replace("two_step_resolve.json", "../../secret.json"))

    source = engine.load_package(package)

    assert "../../secret.json" not in source.forms
    assert (
        "resolve: task '处理' (formJsonSchemaFilename) names form '../../secret.json': give the "
        "file name alone, as the file sits in the package's forms/ folder"
    ) in engine.problems(source)


def test_the_content_hash_does_not_depend_on_where_the_package_sits(db, tmp_path, capsys):
    call_command("deploy_processes", processes=PROCESSES)
    moved = copy_package(tmp_path / "elsewhere")

    assert engine.load_package(moved).content_hash == fixture_source().content_hash
    call_command("deploy_processes", processes=moved.parent)
    assert "two_step: unchanged at version 1" in capsys.readouterr().out


def test_the_deploy_command_reports_every_problem_skips_and_fails_only_when_strict(
    db, tmp_path, capsys
):
    package = copy_package(tmp_path)
    bpmn = package / "two_step.bpmn"
    bpmn.write_text(bpmn.read_text().replace("major == True", "__import__('os')"))

    call_command("deploy_processes", processes=package.parent)  # skipped, not an error
    with pytest.raises(CommandError, match="1 process"):
        call_command("deploy_processes", processes=package.parent, strict=True)

    assert (
        "priority_gateway: condition to mark_major refused by the sandbox"
        in capsys.readouterr().err
    )
    assert ProcessDefinition.objects.count() == 0


def test_the_deploy_command_deploys_once(db, capsys):
    call_command("deploy_processes", processes=PROCESSES)
    call_command("deploy_processes", processes=PROCESSES)
    out = capsys.readouterr().out
    assert "two_step: deployed as version 1" in out and "two_step: unchanged at version 1" in out


def test_completing_a_task_costs_a_fixed_number_of_queries(
    two_step, users, django_assert_num_queries
):
    instance = services.instance_start(process_key="two_step", started_by=users["frontdesk"],
                                       data={"unit": "1-101"})  # fmt: skip
    task = HumanTask.objects.get(instance=instance)
    users["frontdesk"]._propflow_roles = frozenset({"frontdesk"})

    # One query locks the instance and reads its open tasks; one batch writes the task update,
    # the next task, its timer row, the audit events and the instance. PostgreSQL takes the
    # batch in one call, SQLite one statement at a time. Plus the savepoint pair of the test's
    # transaction.
    expected = 4 if connection.vendor == "postgresql" else 8
    with django_assert_num_queries(expected):
        services.task_complete(task_id=task.pk, user=users["frontdesk"], data={"summary": "x"})
