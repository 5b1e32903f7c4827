"""What an API request costs the database: the same queries for 3 rows as for 30, an action
reading its task only under its case's lock, process names read again only after a deploy."""

from dataclasses import replace

from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.flows.cases import services
from server.flows.definitions.services import process_deploy
from server.flows.models import ProcessInstance
from tests.conftest import fixture_source as conftest_source
from tests.test_api import start


def test_the_task_and_case_lists_cost_the_same_queries_for_3_rows_as_for_30(two_step, api, users):
    frontdesk = api("frontdesk")

    def start_cases(n):
        for i in range(n):
            instance = services.instance_start(
                process_key="two_step", started_by=users["frontdesk"], data={"unit": "1-101"}
            )
            if i % 3 == 0:  # some claimed (the assignee is joined), some escalated
                services.task_claim(task_id=instance.tasks.get().pk, user=users["frontdesk"])
                ProcessInstance.objects.filter(pk=instance.pk).update(escalation_level=3)

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            body = frontdesk.get(path).json()
        return body["count"], len(captured)

    start_cases(3)
    frontdesk.get("/api/tasks/")  # process names are read once per deployed version
    tasks_3, cases_3 = queries("/api/tasks/?page_size=100"), queries("/api/instances/")
    start_cases(27)
    tasks_30, cases_30 = queries("/api/tasks/?page_size=100"), queries("/api/instances/")
    assert (tasks_3[0], tasks_30[0], cases_3[0], cases_30[0]) == (3, 30, 3, 30)
    assert tasks_3[1] == tasks_30[1] <= 6  # token, roles, count, page, process names
    assert cases_3[1] == cases_30[1] <= 6


def _outside_the_step(captured) -> list[str]:
    """The statements of a request before and after its step's transaction (a savepoint in
    a test): what the API itself costs."""
    sqls, depth, outside = [q["sql"] for q in captured.captured_queries], 0, []
    for sql in sqls:
        if sql.startswith("SAVEPOINT"):
            depth += 1
        elif sql.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            depth -= 1
        elif depth == 0:
            outside.append(sql)
    return outside


def test_working_a_task_reads_it_only_under_its_case_lock_and_the_caller_with_their_roles(
    two_step, api
):
    task_id = start(api)["tasks"][0]["id"]
    frontdesk = api("frontdesk")
    frontdesk.get("/api/tasks/")  # process names are read once per deployed version

    for action, body in (
        ("claim", None),
        ("unclaim", None),
        ("complete", {"data": {"summary": "x"}}),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = frontdesk.post(f"/api/tasks/{task_id}/{action}/", body, format="json")
        assert response.status_code == 200, response.content
        outside = _outside_the_step(captured)
        # One read of the token, its user and their roles; one of the newest process versions.
        assert len(outside) == 2, outside
        assert '"authtoken_token"' in outside[0] and '"auth_group"' in outside[0]
        assert '"flows_humantask"' not in " ".join(outside)  # answered as the step left it
    done = response.json()
    assert (done["status"], done["assignee"]["username"]) == ("completed", "frontdesk")
    assert done["escalation_level"] == 0 and done["process_name"]["en"] == "Two-step test process"


def test_process_names_are_read_again_only_after_a_deploy(two_step, api):
    from tests.test_deploy import with_bpmn

    frontdesk = api("frontdesk")
    start(api)
    frontdesk.get("/api/tasks/")

    with CaptureQueriesContext(connection) as captured:
        assert frontdesk.get("/api/tasks/").status_code == 200
    assert not any('"manifest"' in q["sql"] for q in captured.captured_queries)

    source = with_bpmn(conftest_source(), 'name="登记"', 'name="登记问题"')
    process_deploy(source=replace(source, names={"zh-hans": "两步", "en": "Two steps"}))
    [row] = frontdesk.get("/api/tasks/").json()["results"]
    assert row["process_name"] == {"zh-hans": "两步", "en": "Two steps"}
