"""The Celery application: `celery -A server worker` and `celery -A server beat`.

Its settings are Django's ``CELERY_*`` (server/settings.py). Beat runs the sweep every
``PROPFLOW_SWEEP_SECONDS``; workers run the sweep, fire instances and send email
(server/flows/tasks.py). With no ``CELERY_BROKER_URL`` tasks run in the calling
process, which is how the embedded default works without a broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("propflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
