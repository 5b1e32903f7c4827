"""Notification delivery as rows per channel: every notification's email state becomes an
email delivery row (its address, sent_at, attempts, error, next attempt).

The email columns stay until 0011 drops them: the copy and the ALTER TABLE go in two
migrations, two transactions, because PostgreSQL refuses to alter a table while the
copy's deferred foreign-key checks are pending in the same transaction. Backwards, the
email rows go back into the columns (0011 backwards brings them back first); rows of
any other channel have nowhere to go and are dropped with the table.
"""

import django.db.models.deletion
from django.db import migrations, models


def _tables(apps, schema_editor):
    qn = schema_editor.connection.ops.quote_name
    notification = apps.get_model("flows", "Notification")._meta.db_table
    delivery = apps.get_model("flows", "NotificationDelivery")._meta.db_table
    return qn(notification), qn(delivery)


def email_to_deliveries(apps, schema_editor):
    notification, delivery = _tables(apps, schema_editor)
    schema_editor.execute(
        f"INSERT INTO {delivery} "
        "(notification_id, channel, address, sent_at, attempts, error, next_at) "
        "SELECT id, 'email', email, emailed_at, email_attempts, email_error, email_next_at "
        f"FROM {notification} WHERE email <> ''"
    )


def deliveries_to_email(apps, schema_editor):
    notification, delivery = _tables(apps, schema_editor)
    mine = f"FROM {delivery} d WHERE d.notification_id = {notification}.id AND d.channel = 'email'"
    columns = {"email": "address", "emailed_at": "sent_at", "email_attempts": "attempts",
               "email_error": "error", "email_next_at": "next_at"}  # fmt: skip
    sets = ", ".join(f"{col} = (SELECT d.{field} {mine})" for col, field in columns.items())
    schema_editor.execute(
        f"UPDATE {notification} SET {sets} "
        f"WHERE id IN (SELECT notification_id FROM {delivery} WHERE channel = 'email')"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0009_audit_kind_without_choices"),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("channel", models.CharField(max_length=32)),
                ("address", models.CharField(max_length=254)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("next_at", models.DateTimeField(blank=True, null=True)),
                ("notification", models.ForeignKey(
                    db_index=False, on_delete=django.db.models.deletion.CASCADE,
                    related_name="deliveries", to="flows.notification",
                )),
            ],
            options={"verbose_name_plural": "notification deliveries"},
        ),
        migrations.AddIndex(
            model_name="notificationdelivery",
            index=models.Index(condition=models.Q(("sent_at__isnull", True)),
                               fields=["channel", "id"], name="delivery_outbox"),
        ),
        migrations.AddConstraint(
            model_name="notificationdelivery",
            constraint=models.UniqueConstraint(fields=("notification", "channel"),
                                               name="delivery_notification_channel"),
        ),
        migrations.RunPython(email_to_deliveries, deliveries_to_email),
    ]
