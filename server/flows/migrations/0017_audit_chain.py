"""Each case's audit events form a hash chain (server/flows/cases/chain.py).

Events written before this migration are sealed here, in their order, as they stand: the
chain proves nothing about what happened to them before today, everything after. The
append-only trigger is set aside for that one rewrite, inside this migration's transaction.

The trigger's function learns one exception: retention (server/flows/cases/retention.py)
may replace a value in an event's ``data`` by its digest, in a transaction that says so
(``SET LOCAL propflow.audit_redaction = 'on'``), and nothing else: every other column must
stay as it was. The chain still verifies, since it hashed the digest; any other change of
``data`` breaks it.
"""

import secrets

from django.db import migrations, models

import server.flows.models

FUNCTION = """
CREATE OR REPLACE FUNCTION propflow_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'flows_auditevent'
     AND current_setting('propflow.audit_redaction', true) = 'on' THEN
    IF (NEW.id, NEW.instance_id, NEW.seq, NEW.kind, NEW.at, NEW.actor_id, NEW.task_id,
        NEW.prev, NEW.hash) IS NOT DISTINCT FROM
       (OLD.id, OLD.instance_id, OLD.seq, OLD.kind, OLD.at, OLD.actor_id, OLD.task_id,
        OLD.prev, OLD.hash) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit events are append-only: % of an audit event refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'The audit trail is never changed or deleted; record a new event instead.';
END
$$ LANGUAGE plpgsql;
"""
OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION propflow_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % of an audit event refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'The audit trail is never changed or deleted; record a new event instead.';
END
$$ LANGUAGE plpgsql;
"""


def seal_history(apps, schema_editor):
    from server.flows.cases.chain import GENESIS, row_hash

    instance_model = apps.get_model("flows", "ProcessInstance")
    event_model = apps.get_model("flows", "AuditEvent")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE flows_auditevent DISABLE TRIGGER audit_append_only")
    for instance in instance_model.objects.order_by("pk").iterator():
        instance.audit_salt = secrets.token_hex(16)
        head, rows = GENESIS, []
        for event in event_model.objects.filter(instance_id=instance.pk).order_by("seq"):
            event.prev = head
            event.hash = head = row_hash(event, instance.audit_salt, head)
            rows.append(event)
        event_model.objects.bulk_update(rows, ["prev", "hash"], batch_size=500)
        instance.audit_head = head if rows else ""
        instance.save(update_fields=["audit_salt", "audit_head"])
    if postgres:  # no deferred check may wait on the table whose trigger comes back
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("ALTER TABLE flows_auditevent ENABLE TRIGGER audit_append_only")


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, None)  # None: its % is plpgsql's, not a parameter


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_FUNCTION, None)


class Migration(migrations.Migration):
    dependencies = [("flows", "0016_audit_append_only")]

    operations = [
        migrations.AddField(
            model_name="processinstance",
            name="audit_salt",
            field=models.CharField(
                default=server.flows.models.audit_salt, editable=False, max_length=32
            ),
        ),
        migrations.AddField(
            model_name="processinstance",
            name="audit_head",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(seal_history, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
    ]
