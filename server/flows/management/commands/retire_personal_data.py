"""Mask the personal data of finished cases past the retention rule (cron or beat)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from server.flows.cases import retention


class Command(BaseCommand):
    help = (
        "Mask x-personal values of cases finished more than PROPFLOW_PERSONAL_DATA_YEARS "
        "years ago (events keep their digests: the audit chain still verifies)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", type=float, default=None,
                            help="override PROPFLOW_PERSONAL_DATA_YEARS for this run")  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="list the cases only")

    def handle(self, *args, years=None, dry_run=False, **options):
        years = settings.PROPFLOW_PERSONAL_DATA_YEARS if years is None else years
        if years <= 0:
            raise CommandError("Retention is off (0 years): personal data is kept.")
        if dry_run:
            ids = list(retention.due(years=years).values_list("pk", flat=True))
            self.stdout.write(f"{len(ids)} case(s) due: {', '.join(map(str, ids)) or 'none'}.")
            return
        ids = retention.retire_due(years=years)
        self.stdout.write(
            f"Personal data masked in {len(ids)} case(s) finished over {years:g} years ago."
        )
