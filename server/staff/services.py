"""Changes to the roster: a supervisor puts people on or off duty and records their trade;
and the manager's settings of the centre's measures: a site's KPI targets."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from server.estate.models import Site
from server.flows.access import can_manage_processes, is_supervisor
from server.flows.errors import Forbidden, Invalid, NotFound
from server.reports.kpis import TARGETS

from .models import StaffProfile, Trade

EDITABLE = ("on_duty", "trade", "phone", "display_name", "display_name_en")


def staff_update(*, user, username: str, changes: dict) -> StaffProfile:
    """Change one person's roster entry; supervisors and managers only."""
    if not is_supervisor(user):
        raise Forbidden(_("Only a supervisor or manager may change the roster."))
    member = User.objects.filter(username=username, is_active=True).first()
    if member is None:
        raise NotFound(_("%(name)s is not on the roster.") % {"name": username})
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(
            _("The roster has no such field."), {k: [_("Unknown field.")] for k in unknown}
        )
    if "trade" in changes and changes["trade"] not in Trade.values:
        raise Invalid(
            _("The form has errors; nothing was saved."),
            {"trade": [_("Must be one of the trades.")]},
        )
    profile, _created = StaffProfile.objects.get_or_create(user=member)
    for name, value in changes.items():
        setattr(profile, name, value)
    profile.save()
    return profile


def site_targets_set(*, user, site_id: int, targets: dict) -> dict:
    """Set a site's own KPI targets (Site.kpi_targets, read by server/reports/kpis.py):
    managers only. ``targets`` maps a KPI's name to a fraction from 0 to 1, or to None to
    go back to the sources' figure; every value is checked before any is saved."""
    if not can_manage_processes(user):
        raise Forbidden(_("Only a property manager may set the KPI targets."))
    with transaction.atomic():
        return _set_targets(site_id, targets)


def _set_targets(site_id: int, targets: dict) -> dict:
    site = Site.objects.select_for_update().filter(pk=site_id).first()
    if site is None:
        raise NotFound(_("No site has the id %(value)s.") % {"value": site_id})
    errors: dict[str, list[str]] = {}
    kept = dict(site.kpi_targets or {})
    for name, value in targets.items():
        if name not in TARGETS or TARGETS[name] is None:
            errors[name] = [_("Unknown field.")]
        elif value is None:
            kept.pop(name, None)
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            errors[name] = [_("Must be a percentage from 0 to 100.")]
        else:
            kept[name] = float(value)
    if errors:
        raise Invalid(_("The form has errors; nothing was saved."), errors)
    site.kpi_targets = kept
    site.save(update_fields=["kpi_targets"])
    return kept
