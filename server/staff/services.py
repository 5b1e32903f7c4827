"""Changes to the roster: a supervisor puts people on or off duty and records their trade."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from server.flows.access import is_supervisor
from server.flows.errors import Forbidden, Invalid, NotFound

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
