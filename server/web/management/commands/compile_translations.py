"""Compile the pages' translations (.po -> .mo) with polib: no GNU gettext needed."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile every django.po under LOCALE_PATHS into the django.mo Django reads."

    def handle(self, *args, **options):
        for root in settings.LOCALE_PATHS:
            for po_path in sorted(Path(root).glob("*/LC_MESSAGES/django.po")):
                po = polib.pofile(str(po_path))
                seen, twice = set(), []
                for entry in po:
                    key = (entry.msgctxt, entry.msgid)
                    if key in seen:
                        twice.append(entry.msgid)
                    seen.add(key)
                if twice:  # the .mo would keep one of them silently: a page would read wrong
                    raise CommandError(f"{po_path}: translated twice (give one a context): "
                                       + ", ".join(repr(m) for m in twice))  # fmt: skip
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
                done = po.percent_translated()
                self.stdout.write(f"{po_path.parent.parent.name}: {done}% translated")
