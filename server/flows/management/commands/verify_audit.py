"""Walk the audit chains (and the anchor file) and fail on the first broken link of each."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from server.flows.cases import anchors, chain
from server.flows.models import ProcessInstance


class Command(BaseCommand):
    help = (
        "Verify every case's audit hash chain (or one case's with --case) and, with "
        "--anchors, the anchor file against the database. Exits 1 naming each broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", help="a case id (repeatable)")
        parser.add_argument(
            "--anchors", nargs="?", const=str(settings.PROPFLOW_AUDIT_ANCHOR_FILE),
            help="also check the anchor file (default: PROPFLOW_AUDIT_ANCHOR_FILE)",
        )  # fmt: skip

    def handle(self, *args, case=None, anchors=None, **options):
        if case:
            missing = set(case) - set(
                ProcessInstance.objects.filter(pk__in=case).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(f"No case {', '.join(map(str, sorted(missing)))}.")
        problems = [str(b) for b in chain.verify(case)]
        if anchors is not None:
            path = Path(anchors)
            if not path.exists():
                raise CommandError(f"No anchor file at {path}.")
            problems += [str(m) for m in anchors_check(path)]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} broken link(s) in the audit trail.", returncode=1)
        scope = f"case {', '.join(map(str, case))}" if case else "every case"
        self.stdout.write(f"Audit chains verified: {scope}.")


def anchors_check(path: Path):
    return anchors.check(path, settings.PROPFLOW_AUDIT_ANCHOR_KEY)
