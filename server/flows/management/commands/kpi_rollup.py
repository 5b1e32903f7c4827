"""Bring the KPI roll-up up to date (beat does it every PROPFLOW_KPI_ROLLUP_SECONDS)."""

from django.core.management.base import BaseCommand

from server.reports import rollup


class Command(BaseCommand):
    help = (
        "Rewrite the KPI items of the cases that moved since the last run; --full rebuilds "
        "them all (after an upgrade, or to check the roll-up against the task and audit rows)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every case's items")

    def handle(self, *args, full=False, **options):
        cases = rollup.refresh(full=full)
        self.stdout.write(f"KPI roll-up: {cases} case(s) read{' (whole)' if full else ''}.")
