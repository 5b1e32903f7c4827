"""The auditors' search (``/audit/``): every case by process, unit, owner, actor, status,
start date, escalation, lateness and category, with its SLA outcome; the events of the
cases found; the same filters as files from the API's export."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from engine.text import pick
from server.audit import export, search
from server.flows.definitions import selectors as definitions
from server.flows.definitions.cache import sources_for
from server.flows.errors import Invalid
from server.flows.notifications import messages
from server.i18n import current_language

from .. import timeline
from .common import PAGE_SIZE, label


@login_required
def audit_search(request):
    if not search.can_audit(request.user):
        raise PermissionDenied(_("Only auditors may search and export the audit trail."))
    tab = "events" if request.GET.get("tab") == "events" else "cases"
    keep = {k: v.strip() for k, v in request.GET.items() if v.strip() and k != "page"}
    context = {"tab": tab, "filters": keep, "errors": {}, "page": None, "rows": []}
    try:
        filters = search.parse(request.GET)
        if tab == "events":
            found = search.event_search(user=request.user, filters=filters)
        else:
            found = search.case_search(user=request.user, filters=filters)
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        context["page"] = page
        context["rows"] = _events(page) if tab == "events" else _cases(page)
    except Invalid as err:
        context["errors"] = err.errors
    exported = {k: v for k, v in keep.items() if k in search.PARAMETERS}
    context.update(_choices())
    context.update({
        "query": urlencode(keep), "exports": [
            (fmt.upper(), "/api/audit/events/?" + urlencode({**exported, "format": fmt}))
            for fmt in export.FORMATS
        ],
        "tabs": [("cases", _("Cases")), ("events", _("Events"))],
        "base": urlencode({k: v for k, v in keep.items() if k != "tab"}),
    })  # fmt: skip
    # Refused filters are said above the results with a 200, so htmx swaps them in.
    return render(request, "web/audit.html", context)


def _choices() -> dict:
    lang = current_language()
    names = definitions.process_names()
    _keys, categories = search.catalogue()
    return {
        "processes": sorted((k, label(v, k)) for k, v in names.items()),
        "statuses": [(s, timeline.status_label(s)) for s in search.STATUSES[:-1]]
        + [(search.INVALID, _("Invalid complaint"))],
        "categories": sorted((v, pick(t, lang, v)) for v, t in categories.items()),
        "levels": [("1", _("Escalated")), ("2", _("Level 2 only")), ("3", _("Level 3"))],
    }


def _trail_link():
    """The trail page of a case (``web:audit_case``), or its path until that page exists."""
    try:
        return reverse("web:audit_case", args=[0]).replace("/0/", "/{}/")
    except NoReverseMatch:
        return "/audit/cases/{}/"


def _cases(page) -> list[dict]:
    lang = current_language()
    names = definitions.process_names()
    link = _trail_link()
    rows = []
    for case in page.object_list:
        rows.append({
            "case": case, "link": link.format(case.pk),
            "process": label(names.get(case.process_key, {}), case.process_key),
            "status": timeline.status_label(case.status), **_sla(case, lang),
        })  # fmt: skip
    return rows


def _sla(case, lang: str) -> dict:
    """The case's time limits met, and those missed with the worst lateness, in words."""
    if not case.limited:
        return {"met": "", "missed": ""}
    met = _("%(met)s of %(limited)s met") % {"met": case.met, "limited": case.limited}
    worst = search.late_minutes(case.worst_late)
    if not case.missed or worst is None:
        return {"met": met, "missed": ""}
    missed = _("Missed: %(n)s, the worst by %(span)s") % {
        "n": case.missed, "span": messages.duration(worst, lang),
    }  # fmt: skip
    return {"met": met, "missed": missed}


def _events(page) -> list[dict]:
    lang = current_language()
    events = list(page.object_list)
    sources = sources_for({e.instance.definition_id for e in events})
    link = _trail_link()
    rows = []
    for event in events:
        entry = timeline.entries([event], sources[event.instance.definition_id], lang,
                                 contacts=True)[0]  # fmt: skip
        rows.append({"event": event, "title": entry.title, "detail": entry.detail,
                     "link": link.format(event.instance_id)})  # fmt: skip
    return rows
