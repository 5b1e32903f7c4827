"""Who read a case's personal data, kept like the audit trail: a table of reads
(models.PersonalDataRead) that, on PostgreSQL, the trigger function of 0016 guards too: an
UPDATE or DELETE of a row is refused, for superusers alike. SQLite has the model's refusal.

After the hash chain's 0017, whose version of the function this trigger calls (its one
exception, retention's redaction, is for the audit table alone)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TRIGGER = """
CREATE TRIGGER personal_read_append_only BEFORE UPDATE OR DELETE ON flows_personaldataread
  FOR EACH ROW EXECUTE FUNCTION propflow_audit_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS personal_read_append_only ON flows_personaldataread;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):

    dependencies = [
        ('flows', '0017_audit_chain'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalDataRead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
                ('what', models.CharField(choices=[('case_page', 'Case Page'), ('task_page', 'Task Page'), ('events_api', 'Events Api'), ('file', 'File'), ('trail', 'Trail'), ('export', 'Export')], max_length=16)),
                ('instance', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='personal_reads', to='flows.processinstance')),
                ('reader', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['instance', 'at', 'pk'],
                'indexes': [models.Index(fields=['instance', 'at'], name='personal_read_case_at')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
