"""The notification's five email columns go: 0010 copied them into delivery rows.

Backwards they come back empty (and unsent), and 0010 backwards fills them again.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0010_notification_deliveries"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="notification", name="notification_outbox"),
        migrations.RemoveField(model_name="notification", name="email"),
        migrations.RemoveField(model_name="notification", name="emailed_at"),
        migrations.RemoveField(model_name="notification", name="email_attempts"),
        migrations.RemoveField(model_name="notification", name="email_error"),
        migrations.RemoveField(model_name="notification", name="email_next_at"),
    ]
