"""Files kept before attachments were stored as files: every data URL in a case's engine
state and in its audit events becomes a stored file and a reference to it.

An old event does not say which form it recorded as this migration reads it, so a file is
personal (shown only to those who see the case's contacts) by its field's name: one of
the contact fields named in code when this migration was written (frozen below: forms now
say it themselves with ``x-personal``, and a migration must mean the same forever) or a
signature. AuditEvent.save() refuses changes on purpose; this is the one place that
rewrites events, with queryset.update.
"""

import base64
import contextlib
import json
import zlib

from django.db import connection as django_connection
from django.db import migrations
from django.utils import timezone

from engine.forms import data_url_parts, is_file
from server.files.services import store

# engine.policy.CONTACT_FIELDS as it was (2026-12-07), before forms carried x-personal.
CONTACT_FIELDS = frozenset({
    "complainant", "reporter", "resident", "owner", "owner_name", "household", "phone",
    "emergency_contact", "vehicles", "documents", "contractor_phone",
})  # fmt: skip


def _reference(text, key, case, found, rows, now):
    media_type, name, body = data_url_parts(text)
    stored = store(base64.b64decode(body + "=" * (-len(body) % 4)), media_type, name)
    row = found.get(stored.sha256)
    if row is None:
        row = case["model"](
            instance_id=case["id"], field=key, personal=key in CONTACT_FIELDS or "signature" in key,
            name=stored.name or key, media_type=media_type, size=stored.size,
            sha256=stored.sha256, key=stored.key, created_at=now,
        )
        found[stored.sha256] = row
        rows.append(row)
    return {"file": str(row.id), "name": row.name, "type": row.media_type,
            "size": row.size, "sha256": row.sha256}


def _convert(value, key, case, found, rows, now):
    if isinstance(value, dict):
        return {k: _convert(v, k if isinstance(k, str) and not k.isdigit() else key, case,
                            found, rows, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v, key, case, found, rows, now) for v in value]
    if isinstance(value, str) and value.startswith("data:") and is_file(value):
        return _reference(value, key, case, found, rows, now)
    return value


@contextlib.contextmanager
def _history_opened(schema_editor):
    """This rewrite runs before flows.0016 makes the audit table append-only; run again on a
    database that has it (a test, a repair by hand), it opens the table for its own update
    only, on PostgreSQL by disabling the trigger in its transaction (the table's owner may)."""
    connection = getattr(schema_editor, "connection", None) or django_connection
    guarded = connection.vendor == "postgresql" and _has_trigger(connection)
    if guarded:
        with connection.cursor() as cursor:  # the deferred key checks first: ALTER needs it
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE flows_auditevent DISABLE TRIGGER audit_append_only")
    try:
        yield
    finally:
        if guarded:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE flows_auditevent ENABLE TRIGGER audit_append_only")


def _has_trigger(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'audit_append_only'")
        return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    instances = apps.get_model("flows", "ProcessInstance")
    events = apps.get_model("flows", "AuditEvent")
    attachment = apps.get_model("files", "Attachment")
    now = timezone.now()
    for pk, state in instances.objects.values_list("pk", "state").iterator():
        case, found, rows = {"id": pk, "model": attachment}, {}, []
        try:
            text = zlib.decompress(bytes(state)).decode()
        except zlib.error:  # no state to read (a row written by hand): nothing of it to move
            text = ""
        if "data:" in text:
            new = _convert(json.loads(text), "file", case, found, rows, now)
            instances.objects.filter(pk=pk).update(
                state=zlib.compress(json.dumps(new).encode(), 1)
            )
        for event_pk, data in events.objects.filter(instance_id=pk).values_list("pk", "data"):
            if "data:" in json.dumps(data):
                new = _convert(data, "file", case, found, rows, now)
                with _history_opened(schema_editor):  # the base manager: no append-only guard
                    events._base_manager.filter(pk=event_pk).update(data=new)
        attachment.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("files", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
