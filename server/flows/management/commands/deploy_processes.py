from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import engine
from server.flows.definitions.services import process_deploy
from server.flows.errors import ServiceError


class Command(BaseCommand):
    help = "Validate and deploy every process package (unchanged ones are left as they are)."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=Path, default=settings.PROPFLOW_PROCESSES_DIR)

    def handle(self, *args, processes: Path, **options):
        sources = engine.discover(processes)
        failures = []
        for source in sources:
            try:
                definition, created = process_deploy(source=source)
            except ServiceError as err:
                failures.append(source.key)
                self.stderr.write(f"{source.key}: not deployed")
                for problem in err.errors.get("problems", [err.message]):
                    self.stderr.write(f"  - {problem}")
                continue
            verb = "deployed as" if created else "unchanged at"
            self.stdout.write(f"{source.key}: {verb} version {definition.version}")
        if not sources:
            self.stdout.write(f"No process packages under {processes}")
        if failures:
            raise CommandError(
                f"{len(failures)} process(es) failed validation: {', '.join(failures)}"
            )
