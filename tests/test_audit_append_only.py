"""The audit trail is append-only (issue 15, item 1, first half): an audit row cannot be
changed or deleted, through the ORM or raw SQL; on PostgreSQL the database itself refuses,
for a superuser too."""

import pytest
from django.db import DatabaseError, connection, models, transaction

from server.flows.models import AuditEvent
from tests.conftest import make_units
from tests.test_api import start


@pytest.fixture
def event(two_step, api):
    start(api)
    return AuditEvent.objects.order_by("seq").first()


def test_the_orm_refuses_to_change_or_delete_an_audit_row(event):
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(kind="hidden"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
        lambda: event.save(),
        lambda: event.delete(),
    ):
        with pytest.raises(ValueError, match="append-only"):
            attempt()
    assert AuditEvent.objects.get(pk=event.pk).kind == event.kind


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE flows_auditevent SET kind = 'hidden' WHERE id = %s",
        "UPDATE flows_auditevent SET data = '{}'::jsonb WHERE id = %s",
        "DELETE FROM flows_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_sql_that_changes_or_deletes_an_audit_row(event, sql):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is True  # the tests' role is a superuser: no exemption
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).kind == event.kind


@pytest.mark.postgres
def test_postgresql_refuses_the_orm_s_plain_update_too(event):
    """Code that went around the model's guard (a plain QuerySet) meets the trigger."""
    plain = models.QuerySet(model=AuditEvent).filter(pk=event.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        plain.update(kind="hidden")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        models.QuerySet(model=AuditEvent).filter(pk=event.pk)._raw_delete(connection.alias)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    make_units("9-999")  # the database still takes writes after the refusals
