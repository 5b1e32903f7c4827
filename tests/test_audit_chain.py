"""Each case's audit events form a hash chain (issue 15, item 1): written by the step at no
extra round trip, verified by ``manage.py verify_audit``, which names the first broken
link; the anchors keep the heads outside the database."""

import contextlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from server.flows.cases import anchors, chain
from server.flows.models import AuditEvent, ProcessInstance


@contextlib.contextmanager
def triggers_off():
    """What only the table's owner can do: set the append-only trigger aside."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE flows_auditevent DISABLE TRIGGER audit_append_only")
        yield cursor
        if postgres:
            cursor.execute("ALTER TABLE flows_auditevent ENABLE TRIGGER audit_append_only")


def verify(*args) -> tuple[int, str]:
    """``manage.py verify_audit`` as an operator runs it: its exit code and what it said."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as failed:
        return failed.returncode, err.getvalue() + str(failed)
    return 0, out.getvalue()


def test_a_case_s_events_are_chained_by_the_step(case):
    instance = ProcessInstance.objects.get(pk=case.instance)
    events = list(AuditEvent.objects.filter(instance=instance).order_by("seq"))
    assert len(events) >= 4
    assert events[0].prev == chain.GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev == before.hash
    assert instance.audit_head == events[-1].hash
    assert len(instance.audit_salt) == 32
    assert list(chain.verify([instance.pk])) == []
    said = f"Audit chains verified: case {instance.pk}.\n"
    assert verify("--case", str(instance.pk)) == (0, said)


@pytest.mark.postgres
def test_the_chain_rides_in_the_step_s_own_batch(two_step, api):
    """Sealing is hashing in Python: the events' hashes and the case's new head go to the
    database in the step's one batch, no statement of their own."""
    from django.test.utils import CaptureQueriesContext

    from tests.test_api import start

    task = start(api)["tasks"][0]["id"]
    with CaptureQueriesContext(connection) as captured:
        done = api("frontdesk").post(
            f"/api/tasks/{task}/complete/", {"data": {"summary": "漏水"}}, format="json"
        )
    assert done.status_code == 200
    writes = [q["sql"] for q in captured if 'INSERT INTO "flows_auditevent"' in q["sql"]]
    assert len(writes) == 1
    assert '"audit_head"' in writes[0] and 'UPDATE "flows_processinstance"' in writes[0]
    others = [q["sql"] for q in captured if q["sql"] != writes[0]]
    assert not any(sql.startswith(("UPDATE", "INSERT")) for sql in others), others


@pytest.mark.audit_tampered
@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE flows_auditevent SET data = '{\"summary\": \"没有漏水\"}' "
         "WHERE instance_id = %s AND seq = 3", "event 3: its content"),
        ("UPDATE flows_auditevent SET kind = 'task_cancelled' "
         "WHERE instance_id = %s AND seq = 3", "event 3: its content"),
        ("UPDATE flows_auditevent SET at = at - interval '1 hour' "
         "WHERE instance_id = %s AND seq = 2", "event 2: its content"),
        ("UPDATE flows_auditevent SET prev = hash WHERE instance_id = %s AND seq = 2",
         "event 2: its link to the previous event"),
        ("DELETE FROM flows_auditevent WHERE instance_id = %s AND seq = 2",
         "event 2: missing (the next one is 3)"),
    ],
)  # fmt: skip
def test_verify_audit_names_the_case_and_event_a_change_broke(case, tamper, problem):
    if connection.vendor != "postgresql" and "interval" in tamper:
        tamper = tamper.replace("at = at - interval '1 hour'", "at = '2020-01-01 00:00:00'")
    with triggers_off() as cursor:
        cursor.execute(tamper, [case.instance])
    code, said = verify()
    assert code == 1
    assert f"case {case.instance}, {problem}" in said
    assert "1 broken link(s)" in said


@pytest.mark.audit_tampered
def test_events_cut_off_the_end_are_found_by_the_case_s_head(case):
    last = ProcessInstance.objects.get(pk=case.instance).event_seq
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM flows_auditevent WHERE instance_id = %s AND seq = %s",
            [case.instance, last],
        )
    code, said = verify("--case", str(case.instance))
    assert code == 1
    assert f"case {case.instance}, event {last}: events {last} to {last} are missing" in said


@pytest.mark.audit_tampered
def test_a_whole_trail_deleted_is_found(case):
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM flows_auditevent WHERE instance_id = %s", [case.instance])
    code, said = verify()
    assert code == 1 and f"case {case.instance}, event 1: events 1 to" in said


def test_verify_audit_refuses_an_unknown_case(db):
    code, said = verify("--case", "987654")
    assert code == 1 and "No case 987654." in said


def test_a_chain_rewritten_whole_is_caught_by_its_anchor(case, tmp_path):
    """Recomputing every hash after a change passes the chain check; not the anchor's."""
    path = tmp_path / "anchors.jsonl"
    body = anchors.write(path, "key outside the database")
    instance = ProcessInstance.objects.get(pk=case.instance)
    assert [instance.pk, instance.event_seq, instance.audit_head] in body["chains"]
    assert list(anchors.check(path, "key outside the database")) == []
    events = list(AuditEvent.objects.filter(instance=instance).order_by("seq"))
    with triggers_off() as cursor:  # rewrite event 3 and re-seal everything after it
        events[2].data = {"summary": "没有漏水"}
        head = events[1].hash
        for event in events[2:]:
            event.prev = head
            event.hash = head = chain.row_hash(event, instance.audit_salt, head)
            cursor.execute(
                "UPDATE flows_auditevent SET data = %s, prev = %s, hash = %s WHERE id = %s",
                [json.dumps(event.data), event.prev, event.hash, event.pk],
            )
        cursor.execute(
            "UPDATE flows_processinstance SET audit_head = %s WHERE id = %s", [head, instance.pk]
        )
    assert list(chain.verify([instance.pk])) == []  # the chain alone cannot tell
    found = [str(m) for m in anchors.check(path, "key outside the database")]
    assert found == [
        f"anchor line 1: case {instance.pk}, event {events[-1].seq}: its hash is not the "
        f"anchored one ({events[-1].hash[:12]}… now, {body_head(body, instance.pk)[:12]}… "
        "anchored): the chain was rewritten"
    ]
    code, said = verify("--anchors", str(path))
    assert code == 1 and "the chain was rewritten" in said


def body_head(body, pk):
    return next(head for case_id, _, head in body["chains"] if case_id == pk)


def test_anchor_lines_link_and_sign(case, tmp_path, api):
    path = tmp_path / "anchors.jsonl"
    anchors.write(path, "k")
    second = anchors.write(path, "k")
    assert second["since"] is not None and second["prev"] != chain.GENESIS
    assert list(anchors.check(path, "k")) == []
    assert [m.problem for m in anchors.check(path, "another key")] == [
        "its signature does not match (the line was changed, or the key differs)"
    ] * 2
    lines = path.read_text().splitlines()
    path.write_text(lines[1] + "\n")  # the first line removed
    assert any("link to the previous line" in str(m) for m in anchors.check(path, "k"))


@pytest.mark.audit_tampered
def test_retention_s_redaction_keeps_the_chain(case):
    """A value replaced by its digest (what retention writes) still verifies; the same
    value replaced by anything else does not."""
    instance = ProcessInstance.objects.get(pk=case.instance)
    event = AuditEvent.objects.get(instance=instance, seq=3)
    assert event.data  # the form's data
    masked = chain.redacted(instance.audit_salt, event.data)
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE flows_auditevent SET data = %s WHERE id = %s", [json.dumps(masked), event.pk]
        )
    assert list(chain.verify([instance.pk])) == []
    wrong = json.dumps({k: {chain.REDACTED: "0" * 64} for k in event.data})
    with triggers_off() as cursor:
        cursor.execute("UPDATE flows_auditevent SET data = %s WHERE id = %s", [wrong, event.pk])
    assert [b.seq for b in chain.verify([instance.pk])] == [3]


@pytest.mark.postgres
@pytest.mark.audit_tampered
def test_postgresql_lets_only_a_redaction_change_data(case):
    """With ``propflow.audit_redaction`` on, the trigger lets ``data`` change and nothing
    else; without it nothing changes."""
    from django.db import DatabaseError, transaction

    event = AuditEvent.objects.get(instance_id=case.instance, seq=3)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL propflow.audit_redaction = 'on'")
        cursor.execute("UPDATE flows_auditevent SET kind = 'x' WHERE id = %s", [event.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL propflow.audit_redaction = 'on'")
        cursor.execute("UPDATE flows_auditevent SET data = '{}' WHERE id = %s", [event.pk])
        # SET LOCAL lasts to the end of the whole transaction (the test's): retention too
        # turns it off when done.
        cursor.execute("SET LOCAL propflow.audit_redaction = 'off'")
    assert AuditEvent.objects.get(pk=event.pk).data == {}
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE flows_auditevent SET data = '{}' WHERE id = %s", [event.pk])


def test_digests_survive_the_database_s_json(case):
    """Numbers as jsonb gives them back (1e20 as an integer, 1.0, -0.5), text in any script."""
    salt = "s"
    assert chain.digested(salt, {"a": 1e20}) == chain.digested(salt, {"a": 100000000000000000000})
    assert chain.digested(salt, {"a": 2.0}) == chain.digested(salt, {"a": 2})
    assert chain.digested(salt, {"a": "漏水"}) != chain.digested(salt, {"a": "漏 水"})
    assert chain.digested(salt, [True]) != chain.digested(salt, [1])
