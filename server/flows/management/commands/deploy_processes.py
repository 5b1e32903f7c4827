from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import engine
from server.flows.definitions.services import process_deploy, processes_retire_removed
from server.flows.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Validate and deploy every process package (unchanged ones are left as they are). "
        "A package that fails validation is reported and skipped, never blocking the others; "
        "a process whose folder is gone is retired (its running cases finish)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=Path, default=settings.PROPFLOW_PROCESSES_DIR)
        parser.add_argument(
            "--strict", action="store_true",
            help="Exit with an error when a package was skipped (for release pipelines).",
        )  # fmt: skip

    def handle(self, *args, processes: Path, strict: bool, **options):
        sources = engine.discover(processes)
        failures = []
        for source in sources:
            try:
                definition, created = process_deploy(source=source, origin="disk")
            except ServiceError as err:
                failures.append(source.key)
                self.stderr.write(f"{source.key}: not deployed, skipped")
                for problem in err.errors.get("problems", [err.message]):
                    self.stderr.write(f"  - {problem}")
                continue
            verb = "deployed as" if created else "unchanged at"
            self.stdout.write(f"{source.key}: {verb} version {definition.version}")
        if not sources:
            self.stdout.write(f"No process packages under {processes}")
        # A folder that failed validation is still there: only a missing one retires.
        present = {source.key for source in sources}
        for key in processes_retire_removed(present=present):
            self.stdout.write(f"{key}: retired (its folder is gone; running cases finish)")
        if failures and strict:
            raise CommandError(
                f"{len(failures)} process(es) failed validation: {', '.join(failures)}"
            )
