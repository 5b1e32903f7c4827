"""Migrations that move data carry a database forward and back: a notification's email state
becomes its email delivery row (0010, 0011), and comes back into the columns."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("flows", "0009_audit_kind_without_choices")]
AFTER = [("flows", "0011_notification_email_columns_drop")]
SENT = datetime(2026, 11, 23, 1, 13, tzinfo=UTC)
NEXT = datetime(2026, 11, 23, 1, 29, tzinfo=UTC)
EMAIL_STATE = {  # what each notification holds before 0010, by recipient
    "sent": dict(email="a@example.com", emailed_at=SENT, email_attempts=1),
    "refused": dict(
        email="b@example.com", email_attempts=4, email_error="SMTP down", email_next_at=NEXT
    ),  # fmt: skip
    "no_address": dict(),
}


def migrate(targets=None):
    """Migrate to ``targets`` (default: the latest of every app); the models as they were."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def old_notifications(apps) -> None:
    user_model = apps.get_model("auth", "User")
    definition = apps.get_model("flows", "ProcessDefinition").objects.create(
        key="p", version=1, content_hash="h", process_id="p", manifest={}, bpmn=""
    )
    instance = apps.get_model("flows", "ProcessInstance").objects.create(
        definition=definition, process_key="p", state=b"", serializer_version="1.5",
        started_at=SENT, updated_at=SENT,
    )  # fmt: skip
    for name, state in EMAIL_STATE.items():
        apps.get_model("flows", "Notification").objects.create(
            recipient=user_model.objects.create(username=name), instance=instance,
            kind="notice", created_at=SENT, **state,
        )  # fmt: skip


def email_columns(apps) -> dict[str, dict]:
    fields = ("email", "emailed_at", "email_attempts", "email_error", "email_next_at")
    found = apps.get_model("flows", "Notification").objects.values("recipient__username", *fields)
    return {row.pop("recipient__username"): row for row in found}


def test_email_state_becomes_delivery_rows_and_comes_back():
    old = migrate(BEFORE)
    old_notifications(old)
    before = email_columns(old)

    new = migrate(AFTER)
    deliveries = new.get_model("flows", "NotificationDelivery").objects.values_list(
        "notification__recipient__username", "channel", "address", "sent_at", "attempts",
        "error", "next_at",
    )  # fmt: skip
    assert sorted(deliveries) == [
        ("refused", "email", "b@example.com", None, 4, "SMTP down", NEXT),
        ("sent", "email", "a@example.com", SENT, 1, "", None),
    ]

    assert email_columns(migrate(BEFORE)) == before
    migrate()  # and forward again, for the tests that follow


def test_events_written_before_the_chain_are_sealed_by_its_migration():
    """0017 chains the history it finds, case by case, in sequence order."""
    from server.flows.cases import chain

    old = migrate([("flows", "0016_audit_append_only")])
    definition = old.get_model("flows", "ProcessDefinition").objects.create(
        key="p", version=1, content_hash="h", process_id="p", manifest={}, bpmn=""
    )
    made = []
    for n in range(2):
        instance = old.get_model("flows", "ProcessInstance").objects.create(
            definition=definition, process_key="p", state=b"", serializer_version="1.5",
            started_at=SENT, updated_at=SENT, event_seq=3,
        )  # fmt: skip
        for seq in (1, 2, 3):
            old.get_model("flows", "AuditEvent").objects.create(
                instance=instance, seq=seq, kind="noted", at=SENT, data={"n": n, "phone": "1"}
            )
        made.append(instance.pk)
    migrate()
    from server.flows.models import AuditEvent, ProcessInstance

    assert list(chain.verify(made)) == []
    salts = set(ProcessInstance.objects.filter(pk__in=made).values_list("audit_salt", flat=True))
    assert len(salts) == 2  # each case its own
    assert not AuditEvent.objects.filter(instance__in=made, hash="").exists()
