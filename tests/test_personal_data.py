"""Personal data by schema (issue 15, item 5): forms flag each personal field with
``x-personal``; readers who may not see a case's contacts get ``***`` for every flagged
value, at any depth, in the events API and on the case page; an auditor's read of them is
itself on the record (PersonalDataRead, append-only), on the timeline and in the reads API;
a worker of the case sees them and leaves no such record."""

import dataclasses
import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import DatabaseError, connection, transaction
from django.test import Client

import engine
from engine import personal
from server.estate.models import Resident, Unit
from server.flows.cases import services
from server.flows.definitions import cache as source_cache
from server.flows.definitions.services import process_deploy
from server.flows.models import Notification, PersonalDataRead, ProcessDefinition
from server.flows.notifications import messages
from tests.conftest import fixture_source, make_units
from tests.scenario import Case, deploy_all, local
from tests.test_attachments import SIGNATURE, done
from tests.test_attachments import at_work as at_work  # noqa: F401 (a fixture)

SOURCES = {s.key: s for s in engine.discover(settings.PROPFLOW_PROCESSES_DIR)}
MOVE_OUT = {
    "unit": "3-502", "resident": "孙伟", "phone": "13600000005", "move_date": "2026-11-28",
    "reason": "lease_end",
}  # fmt: skip
UNPAID = {"water": 35.5, "electricity": 120, "property_fee": 900, "arrears": 900,
          "settled": False}  # fmt: skip
VEHICLES = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "plate": {"type": "string", "x-personal": True},
            "model": {"type": "string"},
        },
    },
}
CALLER = {
    "type": "object",
    "x-personal": True,
    "properties": {"name": {"type": "string"}, "phone": {"type": "string"}},
}
NESTED = {
    "type": "object",
    "properties": {"unit": {"type": "string"}, "caller": CALLER, "vehicles": VEHICLES},
}


# -- the flags, in the engine ------------------------------------------------------------


def test_a_flag_covers_all_below_it_and_a_nested_flag_only_its_field():
    data = {
        "unit": "1-101",
        "caller": {"name": "王先生", "phone": "13800000001"},
        "vehicles": [{"plate": "沪A12345", "model": "Tesla"}, {"plate": "沪B1", "model": "BYD"}],
    }
    assert personal.personal_paths(NESTED) == {"caller", "vehicles.*.plate"}
    assert personal.personal_fields(NESTED) == {"caller"}
    assert personal.redact(data, NESTED) == {
        "unit": "1-101",
        "caller": "***",
        "vehicles": [{"plate": "***", "model": "Tesla"}, {"plate": "***", "model": "BYD"}],
    }
    assert personal.holds_personal(data, NESTED)
    assert not personal.holds_personal({"unit": "1-101", "vehicles": []}, NESTED)
    digest = personal.redact(data, NESTED, mask=lambda v: f"#{len(str(v))}")
    assert digest["vehicles"][0] == {"plate": "#7", "model": "Tesla"}


def test_a_field_s_name_or_widget_no_longer_makes_it_personal():
    schema = {"type": "object", "properties": {
        "phone": {"type": "string", "x-widget": "tel"},
        "owner_signature": {"type": "string", "x-widget": "signature"},
    }}  # fmt: skip
    data = {"phone": "13800000001", "owner_signature": "x"}
    assert personal.redact(data, schema) == data
    assert personal.unflagged(schema) == ["owner_signature", "phone"]


def test_every_shipped_form_flags_at_least_what_the_old_name_list_hid():
    """Nothing became visible: each field the old list named (frozen in the files data
    migration), and each phone or signature widget, is flagged in every form of the five
    processes, and no shipped form has a field that looks personal without the flag."""
    old = importlib.import_module("server.files.migrations.0002_data_urls_to_files")
    assert len(SOURCES) == 5
    for source in SOURCES.values():
        for name, form in source.forms.items():
            flagged = personal.personal_fields(form)
            for field, node in form["properties"].items():
                looks = node.get("x-widget") in ("tel", "signature")
                if field in old.CONTACT_FIELDS or looks:
                    assert field in flagged, (source.key, name, field)
            assert personal.unflagged(form) == [], (source.key, name)
        assert not [f for f in engine.findings(source) if "x-personal" in f.message]


def test_the_checker_warns_of_a_signature_widget_without_the_flag():
    repair = SOURCES["repair"]
    form = repair.forms["repair_work.json"]
    props = {**form["properties"]}
    props["owner_signature"] = {
        k: v for k, v in props["owner_signature"].items() if k != "x-personal"
    }
    changed = dataclasses.replace(
        repair, forms={**repair.forms, "repair_work.json": {**form, "properties": props}}
    )
    found = [f for f in engine.findings(changed) if "x-personal" in f.message]
    assert [(f.warning, f.file) for f in found] == [(True, "forms/repair_work.json")]
    assert "'owner_signature' looks personal" in found[0].message
    assert engine.problems(changed) == []  # a warning: the package may still be deployed

    props["owner_signature"] = {**props["owner_signature"], "x-personal": "yes"}
    wrong = dataclasses.replace(
        repair, forms={**repair.forms, "repair_work.json": {**form, "properties": props}}
    )
    assert any('must say "x-personal": true or false' in p for p in engine.problems(wrong))


def test_a_personal_field_may_not_name_the_case():
    """The business key shows on every inbox row and in every notification's text."""
    repair = SOURCES["repair"]
    changed = dataclasses.replace(repair, business_key="phone")
    assert any("business_key 'phone' is a personal field" in p for p in engine.problems(changed))


# -- who sees what, and the record of auditors' reads -------------------------------------


@pytest.fixture
def move_out(db, users):
    """A move-out started by one front-desk clerk, blocked on arrears for three days: the
    reminder goes to every front-desk clerk, so a second clerk, with no task in it, may
    open the case (another clerk's) but not read its resident's name and phone."""
    deploy_all()
    make_units("3-502", status="occupied")
    Resident.objects.create(unit=Unit.objects.get(code="3-502"), name="孙伟", phone="1")
    other = User.objects.create_user("frontdesk2", password="pw")
    other.groups.add(Group.objects.get(name="frontdesk"))
    users["frontdesk2"] = other
    case = Case(users, "move_out", as_="frontdesk", data=MOVE_OUT, at=local("2026-11-23 09:00"))
    case.complete("settle", as_="finance", data=UNPAID)
    case.advance_to(local("2026-11-26 09:01"))
    assert case.notices() == ["frontdesk"]
    assert case.open() == {"collect_arrears": "finance"}
    return case


def recorded(api, role: str, case) -> dict:
    """What the events API gives ``role``: the form data of each event that recorded any."""
    answer = api(role).get(f"/api/instances/{case.id}/events/?page_size=100")
    assert answer.status_code == 200, answer.content
    return {
        (e["kind"], e["seq"]): e["data"]["data"]
        for e in answer.json()["results"]
        if isinstance(e["data"].get("data"), dict) and e["data"]["data"]
    }


def reads(case) -> list[tuple[str, str]]:
    return [
        (r.reader.username, r.what)
        for r in PersonalDataRead.objects.filter(instance_id=case.id).order_by("at", "pk")
    ]


@pytest.mark.postgres
def test_a_clerk_of_another_s_case_sees_stars_and_the_auditor_s_read_is_recorded(move_out, api):
    start = SOURCES["move_out"].forms["move_out_request.json"]
    assert personal.personal_fields(start) == {"resident", "phone"}
    assert api("frontdesk2").get(f"/api/instances/{move_out.id}/").status_code == 200

    masked = recorded(api, "frontdesk2", move_out)
    started = masked[("instance_started", 1)]
    assert started == {**MOVE_OUT, "resident": "***", "phone": "***"}
    assert reads(move_out) == []  # nothing personal was read

    seen = recorded(api, "auditor", move_out)
    assert seen[("instance_started", 1)] == MOVE_OUT
    assert reads(move_out) == [("auditor", "events_api")]

    # A worker of the case (finance settled it) sees the values and leaves no record.
    assert recorded(api, "finance", move_out)[("instance_started", 1)] == MOVE_OUT
    assert recorded(api, "frontdesk", move_out)[("instance_started", 1)] == MOVE_OUT
    assert reads(move_out) == [("auditor", "events_api")]


@pytest.mark.postgres
def test_the_case_page_masks_for_the_clerk_and_records_the_auditor_s_read(move_out, users):
    def page(role: str, language="zh-hans") -> str:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(users[role])
        answer = client.get(f"/cases/{move_out.id}/")
        assert answer.status_code == 200
        return answer.content.decode()

    clerk = page("frontdesk2")
    assert "孙伟" not in clerk and "13600000005" not in clerk and "已隐藏（个人资料）" in clerk
    assert "查阅了个人资料" not in clerk  # the reads are for auditors and supervisors
    assert reads(move_out) == []

    auditor = page("auditor")
    assert "孙伟" in auditor and "13600000005" in auditor
    assert reads(move_out) == [("auditor", "case_page")]
    assert "auditor 查阅了个人资料（案件页）" in auditor  # the read just made is on it
    finance = page("finance")
    assert "13600000005" in finance and "查阅了个人资料" not in finance
    assert reads(move_out) == [("auditor", "case_page")]

    supervisor = page("cs_supervisor", "en")
    assert "auditor read the personal data (the case page)" in supervisor
    assert "13600000005" not in supervisor


@pytest.mark.postgres
def test_a_task_page_read_by_the_auditor_is_recorded_as_such(move_out, users):
    task = move_out.task("collect_arrears")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users["auditor"])
    assert "13600000005" in client.get(f"/tasks/{task.pk}/").content.decode()
    assert reads(move_out) == [("auditor", "task_page")]


def test_notifications_quote_no_personal_value(move_out):
    """The arrears reminder went to every clerk: its words name the process, the unit and
    the task, never what the forms recorded."""
    sent = Notification.objects.filter(instance_id=move_out.id)
    assert sent.filter(recipient__username="frontdesk2").exists()
    for notice in sent:
        words = [*messages.email(notice), *vars(messages.render(notice, "en")).values()]
        text = " ".join(words) + json.dumps(notice.data, ensure_ascii=False)
        assert "3-502" in text
        for value in ("孙伟", "13600000005"):
            assert value not in text


@pytest.mark.postgres
def test_the_reads_api_lists_the_reads_for_auditors_and_supervisors_only(move_out, api):
    recorded(api, "auditor", move_out)
    url = f"/api/instances/{move_out.id}/reads/"
    for role in ("auditor", "cs_supervisor", "vice_gm", "property_manager"):
        answer = api(role).get(url)
        assert answer.status_code == 200, role
        rows = answer.json()["results"]
        assert [(r["reader"]["username"], r["what"]) for r in rows] == [("auditor", "events_api")]
    for role in ("frontdesk", "frontdesk2", "finance"):  # they may open the case
        refused = api(role).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert refused.status_code == 403, role
        assert "只有内审、主管和经理" in refused.json()["detail"]
    assert api("nobody").get(url).status_code == 404  # may not: as if it did not exist
    assert api("auditor").get("/api/instances/987654/reads/").status_code == 404
    assert reads(move_out) == [("auditor", "events_api")]  # listing reads reads nothing


@pytest.mark.postgres
def test_nested_flags_are_masked_in_the_events_api(db, users, api):
    """A form whose flag sits on an array's items' field: the plates read ``***``, the
    models stay; a flagged object reads ``***`` whole."""
    base = fixture_source()
    forms = {**base.forms, "two_step_start.json": {**NESTED, "required": ["unit"]}}
    make_units("1-101")
    process_deploy(source=dataclasses.replace(base, forms=forms))
    data = {"unit": "1-101", "caller": {"name": "王先生", "phone": "13800000001"},
            "vehicles": [{"plate": "沪A12345", "model": "Tesla"}]}  # fmt: skip
    started = api("frontdesk").post(
        "/api/instances/", {"process": "two_step", "data": data}, format="json"
    )
    assert started.status_code == 201, started.content
    case = type("C", (), {"id": started.json()["id"]})

    masked = recorded(api, "cs_supervisor", case)[("instance_started", 1)]
    assert masked == {
        "unit": "1-101", "caller": "***", "vehicles": [{"plate": "***", "model": "Tesla"}]
    }  # fmt: skip
    assert recorded(api, "auditor", case)[("instance_started", 1)] == data
    assert reads(case) == [("auditor", "events_api")]


@pytest.mark.postgres
def test_a_personal_file_read_by_the_auditor_is_recorded(at_work, api, users):  # noqa: F811
    assert at_work.complete_api(done()).status_code == 200
    signature = at_work.events("task_completed")[-1].data["data"]["owner_signature"]
    assert signature["file"] and SIGNATURE.startswith("data:image/png")

    assert api("technician").get(f"/api/files/{signature['file']}/").status_code == 200
    assert api("cs_supervisor").get(f"/api/files/{signature['file']}/").status_code == 404
    assert reads(at_work) == []
    assert api("auditor").get(f"/api/files/{signature['file']}/").status_code == 200
    assert reads(at_work) == [("auditor", "file")]


def _without_flags(form: dict) -> dict:
    props = {
        name: {k: v for k, v in node.items() if k != "x-personal"}
        for name, node in form["properties"].items()
    }
    return {**form, "properties": props}


@pytest.mark.postgres
def test_versions_deployed_before_the_flags_get_them_where_the_old_rule_hid(db, users, api):
    """Cases run on the version they started on, whose forms were stored without flags:
    the data migration flags what the old name list and widgets withheld."""
    deploy_all()
    make_units("3-502", status="occupied")
    move_out = SOURCES["move_out"]
    old = {name: _without_flags(form) for name, form in move_out.forms.items()}
    definition, created = process_deploy(source=dataclasses.replace(move_out, forms=old))
    assert created
    case = Case(users, "move_out", as_="frontdesk", data=MOVE_OUT, at=local("2026-11-23 09:00"))
    assert case.refresh().definition_id == definition.pk
    leaked = recorded(api, "cs_supervisor", case)[("instance_started", 1)]
    assert leaked["phone"] == MOVE_OUT["phone"]  # what the migration closes

    migration = importlib.import_module("server.flows.migrations.0019_flag_personal_fields")
    migration.forwards(django_apps, None)
    source_cache._sources.clear()

    masked = recorded(api, "cs_supervisor", case)[("instance_started", 1)]
    assert masked == {**MOVE_OUT, "resident": "***", "phone": "***"}
    stored = ProcessDefinition.objects.get(pk=definition.pk)
    assert stored.forms == move_out.forms  # flagged as the shipped package is
    assert stored.content_hash == definition.content_hash  # the hash of what was deployed


# -- the record itself is append-only ---------------------------------------------------


@pytest.fixture
def one_read(move_out, users):
    return services.record_personal_read(
        user=users["auditor"], instance=move_out.refresh(), what="trail"
    )


def test_the_orm_refuses_to_change_or_delete_a_read(one_read):
    for attempt in (
        lambda: PersonalDataRead.objects.filter(pk=one_read.pk).update(what="file"),
        lambda: PersonalDataRead.objects.filter(pk=one_read.pk).delete(),
        lambda: one_read.save(),
        lambda: one_read.delete(),
    ):
        with pytest.raises(ValueError, match="append-only"):
            attempt()
    assert PersonalDataRead.objects.get(pk=one_read.pk).what == "trail"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE flows_personaldataread SET what = 'file' WHERE id = %s",
        "UPDATE flows_personaldataread SET reader_id = reader_id WHERE id = %s",
        "DELETE FROM flows_personaldataread WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_sql_that_changes_or_deletes_a_read(one_read, sql):
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [one_read.pk])
    assert PersonalDataRead.objects.filter(pk=one_read.pk, what="trail").exists()


@pytest.mark.postgres
def test_an_export_records_one_read_per_case_in_one_statement(
    move_out, users, django_assert_num_queries
):
    instance = move_out.refresh()
    with django_assert_num_queries(1):
        count = services.record_personal_reads(
            user=users["auditor"], instance_ids=[instance.pk, instance.pk], what="export"
        )
    assert count == 1 and reads(move_out) == [("auditor", "export")]
