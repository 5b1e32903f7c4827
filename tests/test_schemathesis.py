"""The whole API against its own OpenAPI document, with schemathesis.

Every operation of ``/api/schema/`` gets a few hundred generated requests, valid and not, as a
front-desk user and as a supervisor, sent straight to the WSGI app (no server) on a database
with every process deployed and the demo's ten cases, their tasks and notifications. Then
sequences of calls follow the document's links (a task from the inbox claimed, completed,
reassigned; a case started, read, cancelled). Every answer must be no server error, a
status the operation documents, JSON, and shaped as documented; what the document declares
invalid must be refused. What it declares valid must be accepted for reads; bodies are not
held to that, because a form's data is checked against its process's own JSON Schema (not in
this document) and a token request may carry wrong credentials.

``PROPFLOW_API_FUZZ_EXAMPLES`` (default 250) sets the examples per operation; the linked
sequences run a fifth as many. On 2 cores the whole module takes about two minutes.
"""

import contextlib
import io
import os

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.wsgi import application
from tests.test_process_repair import REQUEST

EXAMPLES = int(os.environ.get("PROPFLOW_API_FUZZ_EXAMPLES", "250"))


@pytest.fixture
def world(db, settings):
    """The demo's site, users (one per role) and cases, as `make run` loads them."""
    settings.DEBUG = True  # load_demo refuses otherwise; the requests run as production's
    call_command("deploy_processes", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    settings.DEBUG = False


@pytest.fixture
def in_process():
    """Requests handled in this process keep the test's transaction and connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The document is read once, through the WSGI app as any client would; it needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def tokens(world, in_process):
    users = Token._meta.get_field("user").related_model.objects
    return {u.username: Token.objects.get_or_create(user=u)[0].key for u in users.all()}


# The same examples on every run, so a red CI is a change's and never the dice's;
# PROPFLOW_API_FUZZ_RANDOM=1 draws new ones (a run that finds something prints the call).
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("PROPFLOW_API_FUZZ_RANDOM") != "1",
)  # fmt: skip


# What the audit search's and the registers' documents cannot list (the deployed processes'
# keys, their forms' categories and trades, usernames) and say they refuse when the value
# names nothing.
NAMES_NOTHING = {"process", "category", "actor"}
# The KPIs' filters name sites, processes, categories and users the document cannot list,
# and their period must run forwards and span three years at most: each refused by name.
KPI_REFUSALS = {"site", "process", "category", "handler", "from", "to"}


def valid_queries_accepted(ctx, response, case):
    """A read whose query parameters and path the document accepts is not refused as bad (a
    page past the last excepted: the document says it is a 400; so is an audit filter that
    names nothing)."""
    if case.method != "GET":
        return None
    refused = set(response.json().get("errors", {})) if response.status_code == 400 else set()
    if refused == {"page"}:
        return None
    named = case.path.startswith(("/api/audit/", "/api/registers/"))
    if refused and named and refused <= NAMES_NOTHING | {"page"}:
        return None
    if refused and case.path.startswith("/api/kpis/") and refused <= KPI_REFUSALS:
        return None
    return positive_data_acceptance(ctx, response, case)


@contextlib.contextmanager
def from_the_same_world():
    """Each example (or sequence of calls) starts from the world as the fixture made it, so
    Hypothesis can replay and shrink what it found. A bare savepoint, not an atomic block: the
    services' durable blocks may nest only in the test's own."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)


def fuzz(case, token):
    with from_the_same_world():
        case.call_and_validate(
            headers={"Authorization": f"Token {token}"},
            excluded_checks=[positive_data_acceptance],
            additional_checks=[valid_queries_accepted],
        )


@schema.parametrize()
@FUZZ
def test_the_api_answers_a_front_desk_user_as_its_document_says(case, tokens):
    fuzz(case, tokens["frontdesk"])


@schema.parametrize()
@FUZZ
def test_the_api_answers_a_supervisor_as_its_document_says(case, tokens):
    fuzz(case, tokens["cs_supervisor"])


# The audit operations answer everyone above 403: an auditor reaches their answers, files too.
audit_operations = schema.include(path_regex="^/api/audit/")


@audit_operations.parametrize()
@FUZZ
def test_the_audit_api_answers_an_auditor_as_its_document_says(case, tokens):
    fuzz(case, tokens["auditor"])


QUERIES = {"trail/": [None], "record/": [{"format": f} for f in ("json", "csv", "xlsx")]}


@pytest.mark.parametrize("path", QUERIES)
def test_every_demo_case_s_trail_and_record_are_answered_as_documented(path, tokens):
    """Random ids rarely name a case: each of the demo's cases, read by the auditor."""
    from server.flows.models import ProcessInstance

    operation = schema[f"/api/audit/cases/{{instance_id}}/{path}"]["GET"]
    auditor = {"Authorization": f"Token {tokens['auditor']}"}
    ids = list(ProcessInstance.objects.values_list("pk", flat=True))
    assert ids, "the demo has cases"
    for pk, query in ((pk, q) for pk in ids for q in QUERIES[path]):
        case = operation.Case(path_parameters={"instance_id": pk}, query=query)
        assert case.call_and_validate(headers=auditor).status_code == 200


def workflow_as(token):
    """Sequences of calls that follow the links schemathesis finds in the document: a task
    from the inbox claimed, completed, handed to someone; a case started, then read."""

    class Workflow(schema.as_state_machine()):
        def setup(self):
            self.world = from_the_same_world()
            self.world.__enter__()

        def teardown(self):
            self.world.__exit__(None, None, None)

        def before_call(self, case):
            # A case started with a real start form (random ones name no deployed process;
            # the fuzzing above sends those), so what follows from a new case is reached too.
            if case.method == "POST" and case.path == "/api/instances/":
                case.body = {"process": "repair", "data": REQUEST}

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                headers=kwargs.get("headers"),
                excluded_checks=[positive_data_acceptance],
                additional_checks=[valid_queries_accepted],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    return Workflow


STEPS = settings(FUZZ, max_examples=max(EXAMPLES // 5, 10), stateful_step_count=8)


def test_linked_calls_answer_a_front_desk_user_as_the_document_says(tokens):
    workflow_as(tokens["frontdesk"]).run(settings=STEPS)


def test_linked_calls_answer_a_supervisor_as_the_document_says(tokens):
    workflow_as(tokens["cs_supervisor"]).run(settings=STEPS)
