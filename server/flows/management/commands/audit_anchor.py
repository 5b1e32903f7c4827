"""Append the heads of the audit chains that moved to the anchor file (cron or beat)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from server.flows.cases import anchors


class Command(BaseCommand):
    help = "Append an anchor line (the chains' heads, signed) to PROPFLOW_AUDIT_ANCHOR_FILE."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(settings.PROPFLOW_AUDIT_ANCHOR_FILE))

    def handle(self, *args, file, **options):
        key = settings.PROPFLOW_AUDIT_ANCHOR_KEY
        body = anchors.write(Path(file), key)
        signed = "signed" if key else "unsigned: set PROPFLOW_AUDIT_ANCHOR_KEY to sign"
        self.stdout.write(f"Anchored {len(body['chains'])} chain(s) in {file} ({signed}).")
