"""The KPI dashboard (``/kpis/``): each KPI against its target, trends by week and month,
breakdowns by category, trade and handler, escalations by level; every chart beside its
table, every figure a link to the cases behind it (``/kpis/<kpi>/cases/``). Managers set
their site's targets on it. Managers, supervisors, the vice GM and auditors only."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from engine.text import pick
from server.audit import search
from server.flows import access
from server.flows.definitions import selectors as definitions
from server.flows.errors import Invalid, ServiceError
from server.i18n import current_language
from server.reports import kpi_filters, kpis
from server.staff import services as staff

from .. import timeline
from .common import PAGE_SIZE, back, label

NAMES = {
    "repair_timeliness": gettext_lazy("Repair timeliness"),
    "repair_first_time_pass": gettext_lazy("First-time pass"),
    "complaints_closed": gettext_lazy("Valid complaints closed"),
    "return_visit_rate": gettext_lazy("Return-visit rate"),
    "satisfaction": gettext_lazy("Owner satisfaction"),
    "escalations": gettext_lazy("Escalations"),
    "renovation_review_on_time": gettext_lazy("Renovation reviews on time"),
}
# What each KPI's complement is called where its cases are listed.
MISSED = {
    "repair_timeliness": gettext_lazy("Late jobs"),
    "repair_first_time_pass": gettext_lazy("Reworked jobs"),
    "complaints_closed": gettext_lazy("Valid complaints not closed"),
    "return_visit_rate": gettext_lazy("Cases not visited"),
    "satisfaction": gettext_lazy("Cases whose owner was not satisfied"),
    "escalations": gettext_lazy("Escalated cases"),
    "renovation_review_on_time": gettext_lazy("Reviews done late"),
}
RATES = [name for name in kpis.FACTS if name != "escalations"]


def _refuse(user) -> None:
    if not kpi_filters.can_read_kpis(user):
        raise PermissionDenied(
            _("Only managers, supervisors, the vice GM and auditors may read KPIs.")
        )


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _catalogue():
    processes, categories = search.catalogue()
    return processes, categories


def _choices(categories: dict) -> dict:
    lang = current_language()
    names = definitions.process_names()
    return {
        "processes": sorted((k, label(v, k)) for k, v in names.items()),
        "categories": sorted((v, pick(t, lang, v)) for v, t in categories.items()),
        "sites": kpi_filters.sites(),
        "kpi_names": [(name, NAMES[name]) for name in kpis.FACTS],
    }


def _link(name: str, given: dict, **changes) -> str:
    query = {**given, **changes}
    query = {k: v for k, v in query.items() if v not in ("", None)}
    return f"/kpis/{name}/cases/?{urlencode(query)}"


@login_required
def kpi_dashboard(request):
    _refuse(request.user)
    processes, categories = _catalogue()
    context = {"errors": {}, "given": {k: v.strip() for k, v in request.GET.items()}}
    context.update(_choices(categories))
    titles = {v: t for v, t in context["categories"]}
    chosen = request.GET.get("kpi", "repair_timeliness")
    chosen = chosen if chosen in kpis.FACTS else "repair_timeliness"
    this_month, last_month = kpi_filters.this_month(), kpi_filters.last_month()
    context["presets"] = [
        (_("This month"), urlencode({"from": this_month[0], "to": this_month[1]})),
        (_("Last month"), urlencode({"from": last_month[0], "to": last_month[1]})),
    ]
    try:
        query = kpi_filters.parse(request.GET, processes, categories)
    except Invalid as err:
        context["errors"] = err.errors
        return render(request, "web/kpis.html", context)
    found = kpis.report(query.start, query.end, query.scope, breakdown=[chosen])
    given = query.given
    context.update({
        "query": query, "given": given, "chosen": chosen, "chosen_name": NAMES[chosen],
        "cards": [_card(name, k, given) for name, k in found.kpis.items()],
        "weeks": _trend(found, "week", given), "months": _trend(found, "month", given),
        "breakdowns": _breakdowns(found, chosen, given, titles),
        "levels": _levels(found.kpis["escalations"], given),
        "targets_form": _targets_form(request.user, query),
    })  # fmt: skip
    context["charts"] = _charts(context)
    return render(request, "web/kpis.html", context)


def _card(name: str, kpi: kpis.Kpi, given: dict) -> dict:
    complement = kpi.denominator - kpi.numerator if name != "escalations" else kpi.numerator
    return {
        "name": name, "title": NAMES[name], "missed_title": MISSED[name],
        "value": str(kpi.numerator) if name == "escalations" else _percent(kpi.value),
        "target": "" if kpi.target is None else _percent(kpi.target),
        "numerator": kpi.numerator, "denominator": kpi.denominator, "below": kpi.below,
        "met": kpi.target is not None and kpi.value is not None and not kpi.below,
        "missed": len(kpi.missed), "complement": complement,
        "link": _link(name, given),
    }  # fmt: skip


def _cell(name: str, kpi: kpis.Kpi, link: str) -> dict:
    return {"value": _percent(kpi.value), "numerator": kpi.numerator, "below": kpi.below,
            "denominator": kpi.denominator, "missed": len(kpi.missed), "link": link,
            "raw": None if kpi.value is None else round(kpi.value * 100, 1)}  # fmt: skip


def _trend(found: kpis.Report, by: str, given: dict) -> list[dict]:
    """One row per week or month: each rate KPI's cell, and the escalations' count."""
    rows = []
    days = [day for day, _k in found.series[RATES[0]][by]]
    for i, day in enumerate(days):
        last = (day + timedelta(days=6)) if by == "week" else kpi_filters.month_end(day)
        first = max(day, found.start.astimezone(kpi_filters.zone()).date())
        last = min(last, (found.end - timedelta(microseconds=1)).astimezone(
            kpi_filters.zone()).date())  # fmt: skip
        span = {"from": first.isoformat(), "to": last.isoformat()}
        cells = [_cell(name, found.series[name][by][i][1], _link(name, given, **span))
                 for name in kpis.FACTS]  # fmt: skip
        label_ = day.strftime("%Y-%m") if by == "month" else f"{first:%m-%d}–{last:%m-%d}"
        rows.append({"label": label_, "cells": cells})
    return rows


def _breakdowns(found: kpis.Report, chosen: str, given: dict, titles: dict) -> list[dict]:
    """The chosen KPI by category, trade and handler: a table (and chart) each."""
    words = {"category": _("By complaint category"), "trade": _("By repair trade"),
             "handler": _("By handler")}  # fmt: skip
    tables = []
    for by in kpis.BREAKDOWNS:
        rows = []
        for key, kpi in found.breakdowns[chosen][by]:
            narrowed = {"category": key} if by != "handler" else {"handler": key}
            rows.append({"key": key, "label": titles.get(key, key),
                         **_cell(chosen, kpi, _link(chosen, given, **narrowed))})  # fmt: skip
        tables.append({"by": by, "title": words[by], "rows": rows})
    return tables


def _levels(kpi: kpis.Kpi, given: dict) -> list[dict]:
    levels = kpi.detail.get("levels", {})
    return [{"level": level, "label": _("Level %(n)s") % {"n": level}, "cases": count,
             "link": _link("escalations", given, level=level)}
            for level, count in levels.items()]  # fmt: skip


def _targets_form(user, query) -> dict | None:
    """The site's targets as a manager edits them (percentages), or None for others."""
    if not access.can_manage_processes(user):
        return None
    sites = kpi_filters.sites()
    site = query.scope.site if query.scope.site is not None else (
        sites[0][0] if len(sites) == 1 else None)  # fmt: skip
    if site is None:
        return {"site": None, "fields": []}
    goal = kpis.targets(site)
    return {
        "site": site, "site_name": dict(sites).get(site, ""),
        "fields": [(name, NAMES[name], "" if goal[name] is None else round(goal[name] * 100, 1))
                   for name in RATES],
    }  # fmt: skip


def _charts(context: dict) -> dict:
    """What kpis.js draws (a json_script): each chart's labels, series and the link of each
    point; the tables beside them say the same in words."""
    trend = {}
    for by, rows in (("week", context["weeks"]), ("month", context["months"])):
        trend[by] = {
            "labels": [r["label"] for r in rows],
            "series": [{"name": str(NAMES[name]), "data": [r["cells"][i]["raw"] for r in rows],
                        "links": [r["cells"][i]["link"] for r in rows]}
                       for i, name in enumerate(kpis.FACTS) if name != "escalations"],
        }  # fmt: skip
    bars = {}
    for table in context["breakdowns"]:
        bars[table["by"]] = {
            "labels": [r["label"] for r in table["rows"]],
            "series": [{"name": str(context["chosen_name"]),
                        "data": [r["raw"] if context["chosen"] != "escalations" else r["numerator"]
                                 for r in table["rows"]],
                        "links": [r["link"] for r in table["rows"]]}],
        }  # fmt: skip
    levels = context["levels"]
    bars["levels"] = {
        "labels": [r["label"] for r in levels],
        "series": [{"name": str(NAMES["escalations"]), "data": [r["cases"] for r in levels],
                    "links": [r["link"] for r in levels]}],
    }  # fmt: skip
    for by in kpis.BREAKDOWNS:
        bars[by]["percent"] = context["chosen"] != "escalations"
    bars["levels"]["percent"] = False  # a count of cases
    trend["week"]["percent"] = trend["month"]["percent"] = True
    return {"week": trend["week"], "month": trend["month"], **bars}


@login_required
def kpi_cases(request, kpi):
    """The cases behind a figure: those that missed (late, reworked...), or with ``all=1``
    every case it counted; each a link to its case page."""
    _refuse(request.user)
    if kpi not in kpis.FACTS:
        raise Http404(_("No KPI is called %(value)s.") % {"value": kpi})
    processes, categories = _catalogue()
    context = {"kpi": kpi, "title": MISSED[kpi], "name": NAMES[kpi], "errors": {},
               "every": request.GET.get("all") == "1"}  # fmt: skip
    if context["every"]:
        context["title"] = _("Every case counted in %(kpi)s") % {"kpi": NAMES[kpi]}
    try:
        query = kpi_filters.parse(request.GET, processes, categories)
    except Invalid as err:
        context["errors"] = err.errors
        return render(request, "web/kpi_cases.html", context)
    level = request.GET.get("level", "")
    level = int(level) if level in ("2", "3") and kpi == "escalations" else None
    ids = kpis.cases_behind(kpi, query.start, query.end, query.scope,
                            missed=not context["every"], level=level)  # fmt: skip
    if level:
        context["title"] = f"{context['title']} · {_('Level %(n)s') % {'n': level}}"
    page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
    names = definitions.process_names()
    titles = dict(_choices(categories)["categories"])
    rows = [{**row, "process": label(names.get(row["process_key"], {}), row["process_key"]),
             "status_label": timeline.status_label(row["status"]),
             "kind": titles.get(row["category"] or row["trade"], row["category"] or row["trade"])}
            for row in kpis.case_rows(list(page.object_list))]  # fmt: skip
    keep = {**query.given, **({"level": str(level)} if level else {})}
    context.update({
        "period": query, "page": page, "rows": rows, "base": urlencode(keep),
        "query": urlencode({**keep, **({"all": "1"} if context["every"] else {})}),
        "dashboard": "/kpis/?" + urlencode(keep),
    })  # fmt: skip
    return render(request, "web/kpi_cases.html", context)


@login_required
@require_POST
def kpi_targets(request):
    """A manager sets the site's targets (percentages; blank: the sources' figure)."""
    _refuse(request.user)
    site = request.POST.get("site", "")
    if not site.isdigit():
        messages.error(request, _("Choose a site first."))
        return redirect(back(request, "/kpis/"))
    targets = {}
    errors = []
    for name in RATES:
        text = request.POST.get(name, "").strip()
        if not text:
            targets[name] = None
            continue
        try:
            targets[name] = float(text) / 100
        except ValueError:
            errors.append(f"{NAMES[name]}: {_('Must be a percentage from 0 to 100.')}")
    if errors:
        messages.error(request, " ".join([_("The form has errors; nothing was saved."), *errors]))
        return redirect(back(request, "/kpis/"))
    try:
        staff.site_targets_set(user=request.user, site_id=int(site), targets=targets)
    except Invalid as err:
        said = [f"{NAMES.get(k, k)}: {' '.join(v)}" for k, v in err.errors.items()]
        messages.error(request, " ".join([err.message, *said]))
    except ServiceError as err:
        if err.status_code == 403:
            raise PermissionDenied(err.message) from err
        messages.error(request, err.message)
    else:
        messages.success(request, _("The site's KPI targets are saved."))
    return redirect(back(request, "/kpis/"))
