from datetime import timedelta

from django.core.management.base import BaseCommand

from server.files import services


class Command(BaseCommand):
    help = (
        "Remove stored attachment bytes that no case names: what a step stored before it "
        "failed (server/files/services.py). Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24, help="only what is older (24)")

    def handle(self, *args, hours: int, **options):
        removed = services.sweep(older_than=timedelta(hours=hours))
        self.stdout.write(f"{len(removed)} file(s) removed.")
