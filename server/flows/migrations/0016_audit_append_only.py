"""Audit events are append-only in the database itself: on PostgreSQL a trigger refuses
every UPDATE and DELETE of a row, for the application's role and superusers alike (short
of disabling triggers, which needs the table's owner and is itself visible). SQLite has the
application's refusal (models.AuditEvent and its queryset).

After files.0002, which rewrote old events' data URLs as references: that rewrite is the
last change history may see."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION propflow_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % of an audit event refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'The audit trail is never changed or deleted; record a new event instead.';
END
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON flows_auditevent
  FOR EACH ROW EXECUTE FUNCTION propflow_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON flows_auditevent;
DROP FUNCTION IF EXISTS propflow_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, None)  # None: its % is plpgsql's, not a parameter
        schema_editor.execute(TRIGGER, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("flows", "0015_task_dispatched"), ("files", "0002_data_urls_to_files")]

    operations = [migrations.RunPython(forwards, backwards)]
