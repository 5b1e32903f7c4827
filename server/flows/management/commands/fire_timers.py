"""One sweep, fired in this process: every timer due now, or due by a moment for rehearsals.

The same claim and write path as the Celery workers; safe to run beside them.
"""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.flows import timers
from server.flows.notifications import delivery


class Command(BaseCommand):
    help = "Fire the timers due now; --as-of fires those due by a moment (rehearsal copies only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            help="ISO moment, e.g. 2026-12-01T09:00 (site time when no offset is given); "
            "needs PROPFLOW_ALLOW_AS_OF=1",
        )

    def handle(self, *args, as_of=None, **options):
        moment = None
        if as_of:
            if not settings.PROPFLOW_ALLOW_AS_OF:
                raise CommandError(
                    "--as-of moves cases forward in time: it runs only on a rehearsal copy "
                    "of the data with PROPFLOW_ALLOW_AS_OF=1."
                )
            try:
                moment = datetime.fromisoformat(as_of)
            except ValueError as err:
                raise CommandError(f"--as-of {as_of!r} is not an ISO date and time") from err
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        fired = timers.fire_due(as_of=moment)
        sent = delivery.deliver()
        self.stdout.write(f"Fired the due timers of {len(fired)} case(s).")
        if sent:
            self.stdout.write(f"Sent {sent} notification message(s).")
