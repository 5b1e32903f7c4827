"""Who reads the KPIs, and their query (``from``, ``to``, ``site``, ``process``, ``category``,
``handler``) read into a period and a :class:`~server.reports.kpis.Scope`, the same for the
API and the dashboard: a value that names nothing is refused naming its parameter, so a
typing mistake is never read as "nothing was counted"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from engine import clock
from server.estate.models import Site
from server.flows import access
from server.flows.errors import Forbidden, Invalid

from .kpis import FACTS, Scope, period

PARAMETERS = ("from", "to", "site", "process", "category", "handler")
LONGEST = timedelta(days=3 * 366)  # a period's longest span: three years


def can_read_kpis(user) -> bool:
    """Managers, supervisors, the vice GM (who oversee the centre) and auditors; superusers
    hold every role."""
    return access.is_supervisor(user) or access.is_auditor(user)


def check_can_read_kpis(user) -> None:
    if not can_read_kpis(user):
        raise Forbidden(_("Only managers, supervisors, the vice GM and auditors may read KPIs."))


def check_kpi(name: str) -> None:
    if name not in FACTS:
        raise Invalid(
            _("No KPI is called %(value)s.") % {"value": name},
            {"kpi": [_("Must be one of: %(values)s.") % {"values": ", ".join(FACTS)}]},
        )


@dataclass(frozen=True)
class Query:
    """A KPI query read: the days asked (inclusive), their [start, end) and the scope."""

    first: date
    last: date
    start: datetime
    end: datetime
    scope: Scope
    given: dict  # the parameters as sent (blank ones left out), for links and forms


def this_month() -> tuple[date, date]:
    today = clock.now().astimezone(zone()).date()
    return today.replace(day=1), today


def last_month() -> tuple[date, date]:
    first = this_month()[0]
    last = first - timedelta(days=1)
    return last.replace(day=1), last


def zone():
    """The site's time zone (TIME_ZONE)."""
    from django.utils import timezone

    return timezone.get_default_timezone()


def parse(query, processes, categories) -> Query:
    """``query`` (a QueryDict or dict) read against the deployed ``processes`` (keys) and
    ``categories`` (values); ``from`` left out is the first of this month, ``to`` today."""
    given = {name: str(query.get(name, "")).replace("\x00", "").strip()[:150]
             for name in PARAMETERS}  # fmt: skip
    errors: dict[str, list[str]] = {}
    default_first, default_last = this_month()
    first = _day(given["from"], "from", errors) or default_first
    last = _day(given["to"], "to", errors) or (default_last if not given["from"] else None)
    if last is None:  # from given alone: to the end of its month, or today
        last = max(first, min(default_last, month_end(first)))
    if "from" not in errors and "to" not in errors:
        if first > last:
            errors["from"] = [_("Must be on or before to.")]
        elif last - first > LONGEST:
            errors["to"] = [_("A period may span three years at most.")]
    site = None
    if given["site"]:
        if not given["site"].isdigit() or len(given["site"]) > 18:
            errors["site"] = [_("Must be a site's id.")]
        elif not Site.objects.filter(pk=int(given["site"])).exists():
            errors["site"] = [_("No site has the id %(value)s.") % {"value": given["site"]}]
        else:
            site = int(given["site"])
    if given["process"] and given["process"] not in processes:
        errors["process"] = [_("No process is called %(value)s.") % {"value": given["process"]}]
    if given["category"] and given["category"] not in categories:
        errors["category"] = [
            _("No form has the category %(value)s.") % {"value": given["category"]}
        ]
    handler = None
    if given["handler"]:
        handler = User.objects.filter(username=given["handler"]).values_list("pk", flat=True)
        handler = handler.first()
        if handler is None:
            errors["handler"] = [_("No user is called %(value)s.") % {"value": given["handler"]}]
    if errors:
        raise Invalid(_("The request has errors; see each field."), errors)
    start, end = period(first, last)
    scope = Scope(site=site, process=given["process"], category=given["category"],
                  handler=handler)  # fmt: skip
    kept = {k: v for k, v in given.items() if v}
    kept.update({"from": first.isoformat(), "to": last.isoformat()})
    return Query(first, last, start, end, scope, kept)


def _day(text: str, name: str, errors: dict) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:  # fromisoformat would also take 20261101
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Must be a date as YYYY-MM-DD.")]
        return None


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def sites() -> list[tuple[int, str]]:
    """Every site, (id, name), by name: the dashboard's choice."""
    return list(Site.objects.order_by("name").values_list("pk", "name"))
