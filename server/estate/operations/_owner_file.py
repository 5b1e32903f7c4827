"""What the owner-file operations share: their audit kind and its line on the timeline."""

from __future__ import annotations

from django.utils.translation import gettext as _

AUDIT_KIND = "owner_file_updated"


def describe(data: dict, language: str) -> str:
    return _("Owner file updated for unit %(unit)s") % {"unit": data.get("unit", "")}
