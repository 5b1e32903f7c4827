"""`runserver` plus the embedded timer sweep: the whole product in one process, no broker.

`make run` uses it. With ``CELERY_BROKER_URL`` set, timers belong to Celery's beat and
workers instead and this is plain `runserver`.
"""

from django.conf import settings
from django.core.management.commands.runserver import Command as RunServer

from server.flows.tasks import EmbeddedSweeper


class Command(RunServer):
    help = "Serve the site and, with no broker configured, sweep and fire timers in-process."

    def inner_run(self, *args, **options):
        if not settings.CELERY_BROKER_URL:
            EmbeddedSweeper(settings.PROPFLOW_SWEEP_SECONDS).start()
            where = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]  # console, smtp, filebased...
            self.stdout.write(
                f"Timers: swept every {settings.PROPFLOW_SWEEP_SECONDS:g} s in this process "
                f"(no broker); notification email: {where}."
            )
        super().inner_run(*args, **options)
