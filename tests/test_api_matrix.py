"""Every endpoint against every kind of caller and every kind of bad input.

The one case: a two-step case started by frontdesk whose first task is done, so its open
task ("处理") belongs to cs_supervisor. For each endpoint: a role that may gets a 2xx; a
role that may not gets 403, or 404 where it may not even see the thing (exactly like a
thing that does not exist); no token gets 401; malformed input gets a JSON 400 or 404,
never a 500.
"""

import re
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from server.api import urls
from server.flows.models import HumanTask


@dataclass
class Endpoint:
    method: str
    path: str  # with {instance}, {task}, {key}: filled in from the case
    ok: tuple[str, int]  # a role that may, and the status it gets
    denied: tuple[str, int] | None = None  # a role that may not, and the status it gets
    body: Any = None  # a valid body (a function of the case when it needs ids)
    before: Any = None  # what must happen first: before(case, api)
    multipart: bool = False  # the body is a form with files (a package upload)
    content_type: str = "application/json"  # of the 2xx answer

    def url(self, case, **changes) -> str:
        ids = {
            "instance": case.instance,
            "task": case.task,
            "key": "two_step",
            "version": 1,
            "file": getattr(case, "file", uuid4()),  # set by _file
            "username": "technician",
            **{name: getattr(case, name, 0) for name in ("check", "item", "handover", "call")},
            **changes,
        }
        return "/api/" + self.path.format(**ids)

    def payload(self, case):
        return self.body(case) if callable(self.body) else self.body


def _claim(case, api):
    assert api("cs_supervisor").post(f"/api/tasks/{case.task}/claim/").status_code == 200


def _suspend(case, api):
    url = f"/api/instances/{case.instance}/suspend/"
    assert api("cs_supervisor").post(url, {"reason": "暂缓"}, format="json").status_code == 200


def _version_2(case, api):
    """Version 2 of the case's process: its reminder after two hours instead of one."""
    import dataclasses

    from server.flows.definitions.services import process_deploy
    from tests.conftest import fixture_source

    source = fixture_source()
    process_deploy(source=dataclasses.replace(source, bpmn=source.bpmn.replace('"PT1H"', '"PT2H"')))


def _package(case):
    """The case's process as an upload, changed so that it is a new version."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    import engine
    from tests.conftest import fixture_source

    files = engine.package_files(fixture_source())
    files["two_step.bpmn"] = files["two_step.bpmn"].replace(b'"PT1H"', b'"PT3H"')
    return {"files": [SimpleUploadedFile(name, data) for name, data in files.items()]}


def _draft(case, api):
    client = api("property_manager")
    body = {"files": {"two_step.bpmn": "<x/>"}, "mapping": {}, "note": ""}
    assert client.put("/api/processes/two_step/draft/", body, format="json").status_code == 200


def _file(case, api):
    """A photo recorded in the case, as a step that took a form's file keeps it."""
    from django.utils import timezone

    from server.files import services as files
    from server.files.models import Attachment

    stored = files.store(b"\x89PNG\r\n\x1a\n a photo", "image/png", "photo.png")
    case.file = Attachment.objects.create(
        instance_id=case.instance, field="photos.0", name=stored.name, size=stored.size,
        media_type=stored.media_type, sha256=stored.sha256, key=stored.key,
        created_at=timezone.now(),
    ).pk  # fmt: skip


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _check(case, api, *, status="open", reason=""):
    """An end-of-shift check of the case's site listing the case (server.desk)."""
    from django.utils import timezone

    from server.desk.models import ShiftCheck, ShiftCheckItem
    from server.estate.models import Site

    now = timezone.now()
    check = ShiftCheck.objects.create(
        site=Site.objects.get(), shift="08:00-18:00", starts_at=now, ends_at=now, created_at=now,
        status=status,
    )  # fmt: skip
    case.check = check.pk
    case.item = ShiftCheckItem.objects.create(
        shift_check=check, kind="late_task", instance_id=case.instance, process_key="two_step",
        unit="1-101", step="处理", step_en="Resolve", late=True, reason=reason,
    ).pk  # fmt: skip


def _annotated_check(case, api):
    _check(case, api, reason="Parts on order")


def _night_dispatcher():
    from django.contrib.auth.models import Group, User

    night = User.objects.create_user("night")
    night.groups.add(Group.objects.get(name="dispatcher"))
    return night


def _completed_check(case, api):
    _check(case, api, status="completed", reason="Parts on order")
    _night_dispatcher()


def _handover(case, api):
    """A hand-over written by another dispatcher to ``dispatcher``."""
    from django.utils import timezone

    from server.desk.models import Handover, ShiftCheck

    _completed_check(case, api)
    check = ShiftCheck.objects.get(pk=case.check)
    case.handover = Handover.objects.create(
        shift_check=check, site_id=check.site_id, written_by=User.objects.get(username="night"),
        to_user=case.users["dispatcher"], written_at=timezone.now(), pending="Two jobs",
    ).pk  # fmt: skip


def _call(case, api):
    """A repair call at the desk, and the repair process it becomes a case of."""
    from django.conf import settings
    from django.utils import timezone

    import engine
    from server.desk.models import HotlineCall
    from server.flows.definitions.services import process_deploy

    process_deploy(source=engine.load_package(settings.PROPFLOW_PROCESSES_DIR / "repair"))
    case.call = HotlineCall.objects.create(
        at=timezone.now(), kind="repair", unit="1-101", caller="Mr Wang", phone="13800000001",
        summary="Burst pipe", taken_by=case.users["frontdesk"],
    ).pk  # fmt: skip


REPAIR_REST = {"location": "Kitchen", "area": "in_unit", "trade": "water_electric",
               "fault_kind": "other", "urgency": "urgent"}  # fmt: skip

ENDPOINTS = {
    "processes_list": Endpoint("get", "processes/", ok=("nobody", 200)),
    "processes_retrieve": Endpoint("get", "processes/{key}/", ok=("technician", 200)),
    "processes_upload": Endpoint(
        "post", "processes/", ok=("property_manager", 201), denied=("frontdesk", 403),
        body=_package, multipart=True,
    ),
    "processes_versions_list": Endpoint(
        "get", "processes/{key}/versions/", ok=("auditor", 200), denied=("frontdesk", 403)
    ),
    "processes_versions_retrieve": Endpoint(
        "get", "processes/{key}/versions/{version}/", ok=("cs_supervisor", 200),
        denied=("technician", 403),
    ),
    "processes_versions_package": Endpoint(
        "get", "processes/{key}/versions/{version}/package/", ok=("property_manager", 200),
        denied=("dispatcher", 403), content_type="application/zip",
    ),
    "processes_versions_redeploy": Endpoint(
        "post", "processes/{key}/versions/{version}/redeploy/", ok=("property_manager", 201),
        denied=("cs_supervisor", 403), body={"note": "回退"}, before=_version_2,
    ),
    "processes_retire": Endpoint(
        "post", "processes/{key}/retire/", ok=("property_manager", 200),
        denied=("vice_gm", 403), body={"reason": "试行结束"},
    ),
    "processes_draft_retrieve": Endpoint(
        "get", "processes/{key}/draft/", ok=("property_manager", 200),
        denied=("cs_supervisor", 403), before=_draft,
    ),
    "processes_rehearse": Endpoint(
        "post", "processes/{key}/rehearse/", ok=("property_manager", 200),
        denied=("frontdesk", 403),
        body={"script": {"data": {"unit": "1-101"},
                         "steps": [{"advance": "PT30M"}]}},
    ),
    "kpis": Endpoint("get", "kpis/", ok=("vice_gm", 200), denied=("frontdesk", 403)),
    "kpis_series": Endpoint(
        "get", "kpis/series/", ok=("property_manager", 200), denied=("technician", 403)
    ),
    "audit_cases": Endpoint("get", "audit/cases/", ok=("auditor", 200), denied=("frontdesk", 403)),
    "audit_events": Endpoint(
        "get", "audit/events/", ok=("auditor", 200), denied=("cs_supervisor", 403)
    ),
    "instances_list": Endpoint("get", "instances/", ok=("frontdesk", 200)),
    "instances_create": Endpoint(
        "post", "instances/", ok=("frontdesk", 201), denied=("technician", 403),
        body={"process": "two_step", "data": {"unit": "1-1"}},
    ),
    "instances_retrieve": Endpoint(
        "get", "instances/{instance}/", ok=("frontdesk", 200), denied=("technician", 404)
    ),
    "instances_events": Endpoint(
        "get", "instances/{instance}/events/", ok=("auditor", 200), denied=("technician", 404)
    ),
    "instances_reads": Endpoint(
        "get", "instances/{instance}/reads/", ok=("auditor", 200), denied=("frontdesk", 403)
    ),
    "instances_diagram": Endpoint(
        "get", "instances/{instance}/diagram/", ok=("cs_supervisor", 200),
        denied=("technician", 404),
    ),
    "instances_cancel": Endpoint(
        "post", "instances/{instance}/cancel/", ok=("vice_gm", 200), denied=("frontdesk", 403),
        body={"reason": "业主撤回"},
    ),
    "instances_suspend": Endpoint(
        "post", "instances/{instance}/suspend/", ok=("cs_supervisor", 200),
        denied=("frontdesk", 403), body={"reason": "业主出差"},
    ),
    "instances_resume": Endpoint(
        "post", "instances/{instance}/resume/", ok=("vice_gm", 200), denied=("frontdesk", 403),
        before=_suspend,
    ),
    "instances_terminate": Endpoint(
        "post", "instances/{instance}/terminate/", ok=("property_manager", 200),
        denied=("frontdesk", 403), body={"reason": "业主撤回"},
    ),
    "instances_migrate": Endpoint(
        "post", "instances/{instance}/migrate/", ok=("cs_supervisor", 200),
        denied=("frontdesk", 403), body={"version": 2}, before=_version_2,
    ),
    "instances_migrate_many": Endpoint(
        "post", "instances/migrate/", ok=("vice_gm", 200), denied=("frontdesk", 403),
        body=lambda case: {"instances": [case.instance], "version": 2}, before=_version_2,
    ),
    "tasks_list": Endpoint("get", "tasks/", ok=("cs_supervisor", 200)),
    "tasks_retrieve": Endpoint(
        "get", "tasks/{task}/", ok=("cs_supervisor", 200), denied=("technician", 404)
    ),
    "tasks_claim": Endpoint(
        "post", "tasks/{task}/claim/", ok=("cs_supervisor", 200), denied=("technician", 404)
    ),
    "tasks_claim_read_only": Endpoint(
        "post", "tasks/{task}/claim/", ok=("cs_supervisor", 200), denied=("auditor", 403)
    ),
    "tasks_unclaim": Endpoint(
        "post", "tasks/{task}/unclaim/", ok=("cs_supervisor", 200), denied=("technician", 404),
        before=_claim,
    ),
    "tasks_hand_back": Endpoint(
        "post", "tasks/{task}/hand-back/", ok=("cs_supervisor", 200),
        denied=("technician", 404), body={"reason": "交班"}, before=_claim,
    ),
    "tasks_assign": Endpoint(
        "post", "tasks/{task}/assign/", ok=("property_manager", 200), denied=("auditor", 403),
        body=lambda case: {"assignee": case.users["cs_supervisor"].pk},
    ),
    "tasks_complete": Endpoint(
        "post", "tasks/{task}/complete/", ok=("cs_supervisor", 200), denied=("technician", 404),
        body={"data": {"resolution": "已维修", "satisfied": "satisfied"}},
    ),
    "tasks_complete_read_only": Endpoint(
        "post", "tasks/{task}/complete/", ok=("cs_supervisor", 200), denied=("auditor", 403),
        body={"data": {"resolution": "已维修", "satisfied": "satisfied"}},
    ),
    "units_list": Endpoint("get", "units/", ok=("frontdesk", 200), denied=("nobody", 403)),
    "files_retrieve": Endpoint(
        "get", "files/{file}/", ok=("frontdesk", 200), denied=("technician", 404),
        before=_file, content_type="image/png",
    ),
    "staff_list": Endpoint("get", "staff/", ok=("dispatcher", 200), denied=("nobody", 403)),
    "staff_retrieve": Endpoint(
        "get", "staff/{username}/", ok=("frontdesk", 200), denied=("nobody", 403)
    ),
    "staff_update": Endpoint(
        "post", "staff/{username}/", ok=("cs_supervisor", 200), denied=("dispatcher", 403),
        body={"on_duty": False},
    ),
    "audit_cases_trail": Endpoint(
        "get", "audit/cases/{instance}/trail/", ok=("auditor", 200), denied=("frontdesk", 403)
    ),
    "audit_cases_record": Endpoint(
        "get", "audit/cases/{instance}/record/", ok=("auditor", 200),
        denied=("cs_supervisor", 403),
    ),
    "reports_complaints_daily": Endpoint(
        "get", "reports/complaints-daily/?date=2026-11-10", ok=("property_manager", 200),
        denied=("frontdesk", 403),
    ),
    "reports_complaints_daily_xlsx": Endpoint(
        "get", "reports/complaints-daily/?format=xlsx", ok=("auditor", 200),
        denied=("dispatcher", 403), content_type=XLSX,
    ),
    "reports_monthly": Endpoint(
        "get", "reports/monthly/?month=2026-11", ok=("vice_gm", 200), denied=("relations", 403)
    ),
    "reports_monthly_csv": Endpoint(
        "get", "reports/monthly/?month=2026-11&format=csv", ok=("cs_supervisor", 200),
        denied=("technician", 403), content_type="text/csv; charset=utf-8",
    ),
    "registers_repairs": Endpoint(
        "get", "registers/repairs/", ok=("dispatcher", 200), denied=("technician", 403)
    ),
    "registers_repairs_csv": Endpoint(
        "get", "registers/repairs/?format=csv", ok=("frontdesk", 200),
        denied=("engineering", 403), content_type="text/csv; charset=utf-8",
    ),
    "registers_complaints": Endpoint(
        "get", "registers/complaints/", ok=("relations", 200), denied=("finance", 403)
    ),
    "registers_complaints_json": Endpoint(
        "get", "registers/complaints/?format=json", ok=("auditor", 200),
        denied=("security", 403),
    ),
    "notifications_list": Endpoint("get", "notifications/", ok=("cs_supervisor", 200)),
    "notifications_read": Endpoint(
        "post", "notifications/read/", ok=("cs_supervisor", 200), denied=("frontdesk", 404),
        body=lambda case: {"ids": [case.notice]},
    ),
    "shift_checks_list": Endpoint(
        "get", "shift-checks/", ok=("dispatcher", 200), denied=("frontdesk", 403),
    ),
    "shift_checks_retrieve": Endpoint(
        "get", "shift-checks/{check}/", ok=("cs_supervisor", 200), denied=("technician", 403),
        before=_check,
    ),
    "shift_checks_annotate": Endpoint(
        "post", "shift-checks/items/{item}/annotate/", ok=("dispatcher", 200),
        denied=("cs_supervisor", 403), body={"reason": "Parts on order"}, before=_check,
    ),
    "shift_checks_complete": Endpoint(
        "post", "shift-checks/{check}/complete/", ok=("dispatcher", 200),
        denied=("cs_supervisor", 403), before=_annotated_check,
    ),
    "handovers_list": Endpoint(
        "get", "handovers/", ok=("vice_gm", 200), denied=("technician", 403),
    ),
    "handovers_create": Endpoint(
        "post", "handovers/", ok=("dispatcher", 201), denied=("frontdesk", 403),
        before=_completed_check,
        body=lambda case: {"check": getattr(case, "check", 1), "to_user": "night", "pending": "x"},
    ),
    "handovers_acknowledge": Endpoint(
        "post", "handovers/{handover}/acknowledge/", ok=("dispatcher", 200),
        denied=("frontdesk", 403), before=_handover,
    ),
    "hotline_calls_list": Endpoint(
        "get", "hotline/calls/", ok=("frontdesk", 200), denied=("technician", 403),
    ),
    "hotline_calls_create": Endpoint(
        "post", "hotline/calls/", ok=("frontdesk", 201), denied=("cs_supervisor", 403),
        body={"kind": "enquiry", "summary": "When is the water back?"},
    ),
    "hotline_calls_convert": Endpoint(
        "post", "hotline/calls/{call}/convert/", ok=("frontdesk", 201),
        denied=("cs_supervisor", 403), before=_call, body={"data": REPAIR_REST},
    ),
}  # fmt: skip


def call(client: APIClient, method: str, url: str, body=None, multipart: bool = False):
    if method == "get":
        return client.get(url)
    if multipart:
        return client.post(url, body, format="multipart")
    return client.post(url, body, format="json") if body is not None else client.post(url)


def assert_error(response, *statuses: int) -> dict:
    """A refusal: one of ``statuses``, as JSON with a message."""
    assert response.status_code in statuses, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json", response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_every_endpoint_is_in_the_matrix():
    operations = {
        (method, re.sub(r"<\w+:(\w+)>", "{}", p.pattern._route))
        for p in urls.urlpatterns
        for method in ("get", "post")
        if hasattr(p.callback.view_class, method)
    }
    covered = {
        (e.method, re.sub(r"{\w+}", "{}", e.path.partition("?")[0])) for e in ENDPOINTS.values()
    }
    assert covered == operations - {("post", "auth/token/")}  # the token: tested below


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_role_that_may_gets_a_2xx(name, case, api):
    endpoint = ENDPOINTS[name]
    if endpoint.before:
        endpoint.before(case, api)
    role, expected = endpoint.ok
    response = call(api(role), endpoint.method, endpoint.url(case), endpoint.payload(case),
                    endpoint.multipart)  # fmt: skip
    assert response.status_code == expected, response.content
    assert response["Content-Type"] == endpoint.content_type


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.denied])
def test_a_role_that_may_not_is_refused_and_nothing_changes(name, case, api):
    endpoint = ENDPOINTS[name]
    if endpoint.before:
        endpoint.before(case, api)
    events = list(case_events(case))
    role, expected = endpoint.denied
    response = call(api(role), endpoint.method, endpoint.url(case), endpoint.payload(case),
                    endpoint.multipart)  # fmt: skip
    assert_error(response, expected)
    assert list(case_events(case)) == events


def case_events(case):
    from server.flows.models import AuditEvent

    return AuditEvent.objects.filter(instance_id=case.instance).values_list("seq", "kind")


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if "{task}" in e.path])
def test_a_task_one_may_not_see_answers_exactly_like_a_missing_one(name, case, api):
    endpoint = ENDPOINTS[name]
    technician = api("technician")
    missing = str(uuid4())
    hidden = call(technician, endpoint.method, endpoint.url(case), endpoint.payload(case))
    absent = call(technician, endpoint.method, endpoint.url(case, task=missing),
                  endpoint.payload(case))  # fmt: skip
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == {"detail": absent.json()["detail"].replace(missing, case.task)}


AUDIT = "audit/"  # auditors' endpoints refuse everyone else first, whatever the case


@pytest.mark.parametrize(
    "name", [n for n, e in ENDPOINTS.items() if "{instance}" in e.path and AUDIT not in e.path]
)
def test_a_case_one_may_not_see_answers_exactly_like_a_missing_one(name, case, api):
    endpoint = ENDPOINTS[name]
    technician = api("technician")
    hidden = call(technician, endpoint.method, endpoint.url(case), endpoint.payload(case))
    absent = call(technician, endpoint.method, endpoint.url(case, instance=987654),
                  endpoint.payload(case))  # fmt: skip
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace(str(case.instance), "987654") == absent.json()["detail"]


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.path.startswith(AUDIT)])
def test_an_auditors_endpoint_refuses_others_alike_for_a_case_and_a_missing_one(name, case, api):
    endpoint = ENDPOINTS[name]
    technician = api("technician")
    hidden = call(technician, endpoint.method, endpoint.url(case))
    absent = call(technician, endpoint.method, endpoint.url(case, instance=987654))
    assert hidden.status_code == absent.status_code == 403
    assert hidden.json() == absent.json()


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("credentials", ["none", "bad token"])
def test_no_valid_token_gets_401(name, credentials, case):
    endpoint = ENDPOINTS[name]
    client = APIClient()
    if credentials == "bad token":
        client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = call(client, endpoint.method, endpoint.url(case), endpoint.payload(case),
                    endpoint.multipart)  # fmt: skip
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


# -- malformed input --------------------------------------------------------------------------

NUL = "\x00"


@dataclass
class Bad:
    method: str
    path: str
    status: int
    body: Any = None  # a JSON value; a str is sent raw as application/json
    role: str = "cs_supervisor"
    errors: list[str] = field(default_factory=list)  # fields named in "errors"


BAD = {
    # paths: ids that are not ids
    "process key unknown": Bad("get", "processes/nope/", 404),
    "process key with NUL": Bad("get", "processes/two%00step/", 404),
    "case id not a number": Bad("get", "instances/abc/", 404),
    "case id negative": Bad("get", "instances/-1/events/", 404),
    "case id past a bigint": Bad("get", "instances/99999999999999999999/diagram/", 404),
    "case id unicode digits": Bad("get", "instances/²/", 404),
    "cancel an unknown case": Bad("post", "instances/0/cancel/", 404, {"reason": "x"}),
    "task id not a uuid": Bad("get", "tasks/12/", 404),
    "task id unknown": Bad("post", f"tasks/{uuid4()}/claim/", 404),
    "task id not a uuid, unclaim": Bad("post", "tasks/x/unclaim/", 404),
    "task id not a uuid, complete": Bad("post", "tasks/x/complete/", 404, {"data": {}}),
    "task id not a uuid, assign": Bad("post", "tasks/x/assign/", 404, {"assignee": 1}),
    "file id not a uuid": Bad("get", "files/x/", 404),
    "file id unknown": Bad("get", f"files/{uuid4()}/", 404),
    # query strings
    "page zero": Bad("get", "tasks/?page=0", 400, errors=["page"]),
    "page not a number": Bad("get", "instances/?page=two", 400, errors=["page"]),
    "page past the last": Bad("get", "instances/?page=2", 400, errors=["page"]),
    "page huge": Bad("get", "tasks/?page=99999999999999999999999", 400, errors=["page"]),
    "page size too big": Bad("get", "tasks/?page_size=101", 400, errors=["page_size"]),
    "page size negative": Bad("get", "instances/?page_size=-5", 400, errors=["page_size"]),
    "unknown scope": Bad("get", "tasks/?scope=everyone", 400, errors=["scope"]),
    "overdue not a flag": Bad("get", "tasks/?overdue=maybe", 400, errors=["overdue"]),
    "unknown status": Bad("get", "instances/?status=lost", 400, errors=["status"]),
    "unread not a flag": Bad("get", "notifications/?unread=2", 400, errors=["unread"]),
    "kpis: a date that is not one": Bad("get", "kpis/?from=2026-02-30", 400, errors=["from"]),
    "kpis: from after to": Bad("get", "kpis/?from=2026-11-30&to=2026-11-01", 400, errors=["from"]),
    "kpis: unknown handler": Bad("get", "kpis/?handler=ghost", 400, errors=["handler"]),
    "kpis: site not an id": Bad("get", "kpis/?site=x", 400, errors=["site"]),
    "kpis: site past a bigint": Bad("get", "kpis/?site=99999999999999999999", 400,
                                    errors=["site"]),
    "search with NUL": Bad("get", "tasks/?q=a%00b", 400),
    "unit with NUL": Bad("get", "tasks/?unit=%00", 400),
    "process with NUL": Bad("get", "instances/?process=%00", 400),
    "report day not a date": Bad("get", "reports/complaints-daily/?date=11/10", 400,
                                 errors=["date"]),
    "report format unknown": Bad("get", "reports/complaints-daily/?format=pdf", 400,
                                 errors=["format"]),
    "report month missing": Bad("get", "reports/monthly/", 400, errors=["month"]),
    "report month 13": Bad("get", "reports/monthly/?month=2026-13", 400, errors=["month"]),
    "register to out of range": Bad("get", "registers/repairs/?to=9999-12-31", 400,
                                    errors=["to"]),
    "register trade unknown": Bad("get", "registers/repairs/?category=%00", 400),
    "register status unknown": Bad("get", "registers/complaints/?status=lost", 400,
                                   errors=["status"]),
    "register page past the last": Bad("get", "registers/complaints/?page=2", 400,
                                       errors=["page"]),
    # bodies that are not JSON objects
    "start: not JSON": Bad("post", "instances/", 400, "{not json", role="frontdesk"),
    "start: a list": Bad("post", "instances/", 400, [1, 2], role="frontdesk"),
    "start: a string": Bad("post", "instances/", 400, '"start"', role="frontdesk"),
    "start: NaN": Bad("post", "instances/", 400, '{"process": NaN}', role="frontdesk"),
    "start: nested too deep": Bad("post", "instances/", 400, "[" * 100_000, role="frontdesk"),
    "complete: not JSON": Bad("post", "tasks/{task}/complete/", 400, "{"),
    "complete: a number": Bad("post", "tasks/{task}/complete/", 400, "5"),
    "cancel: not JSON": Bad("post", "instances/{instance}/cancel/", 400, "]", role="vice_gm"),
    "assign: not JSON": Bad("post", "tasks/{task}/assign/", 400, "{'a': 1}", role="vice_gm"),
    "read: not JSON": Bad("post", "notifications/read/", 400, "{"),
    # fields of the wrong type
    "start: process a number": Bad(
        "post", "instances/", 400, {"process": 5}, role="frontdesk", errors=["process"]
    ),
    "start: process missing": Bad("post", "instances/", 400, {}, role="frontdesk",
                                  errors=["process"]),
    "start: unknown process": Bad("post", "instances/", 404, {"process": "nope", "data": {}},
                                  role="frontdesk"),
    "start: process with NUL": Bad("post", "instances/", 400, {"process": "two" + NUL},
                                   role="frontdesk"),
    "start: data a list": Bad(
        "post", "instances/", 400, {"process": "two_step", "data": []}, role="frontdesk",
        errors=["data"],
    ),
    "start: unit a number": Bad(
        "post", "instances/", 400, {"process": "two_step", "data": {"unit": 101}},
        role="frontdesk", errors=["unit"],
    ),
    "start: unit with NUL": Bad(
        "post", "instances/", 400, {"process": "two_step", "data": {"unit": "1-101" + NUL}},
        role="frontdesk",
    ),
    "start: unit a lone surrogate": Bad(
        "post", "instances/", 400, '{"process": "two_step", "data": {"unit": "\\ud800"}}',
        role="frontdesk",
    ),
    "complete: data a string": Bad("post", "tasks/{task}/complete/", 400, {"data": "done"},
                                   errors=["data"]),
    "complete: wrong field types": Bad(
        "post", "tasks/{task}/complete/", 400, {"data": {"resolution": 1, "satisfied": True}},
        errors=["resolution", "satisfied"],
    ),
    "complete: text with NUL": Bad(
        "post", "tasks/{task}/complete/", 400,
        {"data": {"resolution": NUL, "satisfied": "satisfied"}},
    ),
    "cancel: reason a number": Bad("post", "instances/{instance}/cancel/", 400, {"reason": 1},
                                   role="vice_gm", errors=["reason"]),
    "cancel: reason missing": Bad("post", "instances/{instance}/cancel/", 400, {},
                                  role="vice_gm", errors=["reason"]),
    "assign: assignee a string": Bad("post", "tasks/{task}/assign/", 400, {"assignee": "5"},
                                     role="vice_gm", errors=["assignee"]),
    "assign: assignee true": Bad("post", "tasks/{task}/assign/", 400, {"assignee": True},
                                 role="vice_gm", errors=["assignee"]),
    "assign: assignee past a bigint": Bad(
        "post", "tasks/{task}/assign/", 400, {"assignee": 2**70}, role="vice_gm",
        errors=["assignee"],
    ),
    "assign: no such user": Bad("post", "tasks/{task}/assign/", 400, {"assignee": 99999},
                                role="vice_gm", errors=["assignee"]),
    "read: ids a string": Bad("post", "notifications/read/", 400, {"ids": "all"},
                              errors=["ids"]),
    "read: ids of zero": Bad("post", "notifications/read/", 400, {"ids": [0]}, errors=["ids"]),
    "read: ids as floats": Bad("post", "notifications/read/", 400, {"ids": [1.0]},
                               errors=["ids"]),
    "read: too many ids": Bad("post", "notifications/read/", 400,
                              {"ids": list(range(1, 40_000))}, errors=["ids"]),
    "read: an unknown id": Bad("post", "notifications/read/", 404, {"ids": [2**62]}),
    # what the OpenAPI document declares invalid (schemathesis found these accepted before)
    "page empty": Bad("get", "tasks/?page=", 400, errors=["page"]),
    "page one point zero": Bad("get", "instances/?page=1.0", 400, errors=["page"]),
    "page size in other digits": Bad("get", "tasks/?page_size=%D9%A5", 400, errors=["page_size"]),
    "page past the last, events": Bad("get", "instances/{instance}/events/?page=9", 400,
                                      errors=["page"]),
    "page past the last, processes": Bad("get", "processes/?page=2", 400, errors=["page"]),
    "unread empty": Bad("get", "notifications/?unread=", 400, errors=["unread"]),
    "overdue empty": Bad("get", "tasks/?overdue=", 400, errors=["overdue"]),
    "scope empty": Bad("get", "tasks/?scope=", 400, errors=["scope"]),
    "status empty": Bad("get", "instances/?status=", 400, errors=["status"]),
    "search too long": Bad("get", "tasks/?q=" + "x" * 101, 400, errors=["q"]),
    "read: ids null": Bad("post", "notifications/read/", 400, {"ids": None}, errors=["ids"]),
    "read: ids true": Bad("post", "notifications/read/", 400, {"ids": [True]}, errors=["ids"]),
    "read: ids past a bigint": Bad("post", "notifications/read/", 400, {"ids": [2**63]},
                                   errors=["ids"]),
    "read: the largest id": Bad("post", "notifications/read/", 404, {"ids": [2**63 - 1]}),
    "start: data null": Bad("post", "instances/", 400, {"process": "two_step", "data": None},
                            role="frontdesk", errors=["data"]),
    "start: an infinite number": Bad(
        "post", "instances/", 400, '{"process": "two_step", "data": {"unit": 1e999}}',
        role="frontdesk", errors=["data"],
    ),
    "cancel: reason only spaces": Bad("post", "instances/{instance}/cancel/", 400,
                                      {"reason": "  "}, role="vice_gm", errors=["reason"]),
    # the desk's records (server/api/desk.py)
    "shift check id not a number": Bad("get", "shift-checks/abc/", 404),
    "shift check unknown, complete": Bad("post", "shift-checks/0/complete/", 404,
                                         role="dispatcher"),
    "annotate an unknown item": Bad("post", "shift-checks/items/99/annotate/", 404,
                                    {"reason": "x"}, role="dispatcher"),
    "annotate: reason missing": Bad("post", "shift-checks/items/99/annotate/", 400, {},
                                    role="dispatcher", errors=["reason"]),
    "hand-over: check missing": Bad("post", "handovers/", 400, {"to_user": "x", "pending": "y"},
                                    role="dispatcher", errors=["check"]),
    "hand-over: unknown check": Bad("post", "handovers/", 404,
                                    {"check": 99999, "to_user": "x", "pending": "y"},
                                    role="dispatcher"),
    "acknowledge an unknown hand-over": Bad("post", "handovers/0/acknowledge/", 404,
                                            role="dispatcher"),
    "calls: day not a date": Bad("get", "hotline/calls/?day=yesterday", 400, errors=["day"]),
    "calls: day empty": Bad("get", "hotline/calls/?day=", 400, errors=["day"]),
    "calls: day in other digits": Bad("get", "hotline/calls/?day=%D9%A2026-11-23", 400,
                                      errors=["day"]),
    "calls: unknown kind": Bad("get", "hotline/calls/?kind=gossip", 400, errors=["kind"]),
    "log a call: kind missing": Bad("post", "hotline/calls/", 400, {"summary": "x"},
                                    role="frontdesk", errors=["kind"]),
    "log a call: summary with NUL": Bad("post", "hotline/calls/", 400,
                                        {"kind": "enquiry", "summary": NUL}, role="frontdesk"),
    "convert: data a list": Bad("post", "hotline/calls/1/convert/", 400, {"data": []},
                                role="frontdesk", errors=["data"]),
    "convert an unknown call": Bad("post", "hotline/calls/999/convert/", 404, {},
                                   role="frontdesk"),
    # paths no operation has
    "a path the API has not": Bad("get", "nope/", 404),
    "a task id with a slash": Bad("get", "tasks/a/b/", 404),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD)
def test_malformed_input_gets_a_json_400_or_404_and_changes_nothing(name, case, api):
    bad = BAD[name]
    path = "/api/" + bad.path.format(instance=case.instance, task=case.task)
    events = list(case_events(case))
    client = api(bad.role)
    if bad.method == "get":
        response = client.get(path)
    elif isinstance(bad.body, str):
        response = client.post(path, bad.body, content_type="application/json")
    else:
        response = client.post(path, bad.body, format="json")
    body = assert_error(response, bad.status)
    for name in bad.errors:
        assert name in body["errors"], body
    assert list(case_events(case)) == events
    assert HumanTask.objects.get(pk=case.task).status == "open"


def test_a_body_that_is_not_json_gets_415_as_json(case, api):
    response = api("cs_supervisor").post(
        f"/api/tasks/{case.task}/complete/", "resolution=x", content_type="text/plain"
    )
    assert_error(response, 415)


def test_a_method_an_endpoint_has_not_gets_405_as_json(case, api):
    assert_error(api("frontdesk").delete(f"/api/instances/{case.instance}/"), 405)
    assert_error(api("frontdesk").get(f"/api/tasks/{case.task}/claim/"), 405)


# -- the token -------------------------------------------------------------------------------


def test_the_token_endpoint_takes_a_username_and_password_and_nothing_else(users):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    ok = client.post("/api/auth/token/", {"username": "frontdesk", "password": "pw"},
                     format="json")  # fmt: skip
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    form = client.post("/api/auth/token/", {"username": "frontdesk", "password": "pw"})
    assert form.json() == ok.json()  # a form post too, and the same token each time

    wrong = client.post("/api/auth/token/", {"username": "frontdesk", "password": "no"},
                        format="json")  # fmt: skip
    body = assert_error(wrong, 400)
    assert body["detail"] == "Unable to log in with provided credentials."
    assert "non_field_errors" in body["errors"]
    missing = assert_error(client.post("/api/auth/token/", {}, format="json"), 400)
    assert set(missing["errors"]) == {"username", "password"}
    for raw in ("{", "[1]", '{"username": ["a"], "password": "pw"}',
                '{"username": "a\\u0000", "password": "pw"}',
                '{"username": "\\udc00", "password": "pw"}'):  # fmt: skip
        response = client.post("/api/auth/token/", raw, content_type="application/json")
        assert_error(response, 400)


# -- the reader's language --------------------------------------------------------------------


def test_a_parameter_no_operation_declares_is_ignored_whatever_its_name(case, api):
    """DRF read ``?format=`` as a choice of renderer and answered 404 for an unknown one."""
    client = api("cs_supervisor")
    for query in ("format=false", "format=json", "format=csv", "nothing=1"):
        response = client.get(f"/api/instances/?{query}")
        assert response.status_code == 200, (query, response.content)
        assert response["Content-Type"] == "application/json"
