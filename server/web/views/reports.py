"""The reports and registers as pages (issue 16 item 4): the daily complaint report and the
monthly statistics, printable (the trail's print stylesheet), and the repair and complaint
registers as filterable lists with their files from the API. Who may read what, the rows
and their masking: server/reports/."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from engine import clock
from engine.text import pick
from server.audit import export
from server.flows import access
from server.flows.cases import services
from server.flows.errors import Invalid
from server.i18n import current_language
from server.reports import daily, monthly, registers, sheets

from .common import PAGE_SIZE


def _record(user, rows: list[dict]) -> None:
    """An auditor's (or superuser's) read of residents' names and phones, on the record."""
    if not access.personal_reads_recorded(user):
        return
    ids = [r["case"] for r in rows if r["contacts"]
           and (r.get("reporter") or r.get("complainant") or r.get("phone"))]  # fmt: skip
    if ids:
        services.record_personal_reads(user=user, instance_ids=ids, what="export")


def _table(process: str, rows: list[dict]) -> dict:
    """Column labels and each row's cells in the reader's language."""
    lang = current_language()
    columns, make = sheets.CELLS[process]
    cells = make(sheets.Words(process, lang))
    labels = [pick([zh, en], lang) for en, zh in columns]
    return {
        "columns": labels,
        "lines": [{"row": r, "cells": list(zip(labels, cells(r), strict=True))} for r in rows],
    }


def _exports(path: str, query: dict) -> list[tuple[str, str]]:
    return [(fmt.upper(), f"{path}?" + urlencode({**query, "format": fmt}))
            for fmt in export.FORMATS]  # fmt: skip


@login_required
def complaints_daily(request):
    if not registers.can_read_reports(request.user):
        raise PermissionDenied(_("Only managers, supervisors, the vice general manager and "
                                 "auditors may read the reports."))  # fmt: skip
    context = {"errors": {}, "day": None, "printed_at": clock.now()}
    try:
        day = daily.parse_day(request.GET.get("date"))
    except Invalid as err:
        context["errors"] = err.errors
        day = daily.parse_day(None)
    found = daily.report(day, user=request.user)
    _record(request.user, found.rows)
    context.update({
        "day": day, "process": "complaint", "count": len(found.rows),
        "open_from_earlier": found.open_from_earlier,
        "exports": _exports("/api/reports/complaints-daily/", {"date": day.isoformat()}),
        **_table("complaint", found.rows),
    })  # fmt: skip
    return render(request, "web/report_daily.html", context)


@login_required
def monthly_statistics(request):
    if not registers.can_read_reports(request.user):
        raise PermissionDenied(_("Only managers, supervisors, the vice general manager and "
                                 "auditors may read the reports."))  # fmt: skip
    context = {"errors": {}, "printed_at": clock.now()}
    given = request.GET.get("month", "").strip()
    today = clock.now().date()
    month = date(today.year, today.month, 1)
    if given:
        try:
            month = monthly.parse_month(given)
        except Invalid as err:
            context["errors"] = err.errors
    stats = monthly.statistics(month, user=request.user)
    lang = current_language()
    sections: dict[str, list] = {}
    for section, figure, value in monthly.lines(stats, sheets.value_titles()):
        sections.setdefault(pick(section, lang), []).append((pick(figure, lang), value))
    context.update({
        "month": f"{month:%Y-%m}", "sections": sections,
        "exports": _exports("/api/reports/monthly/", {"month": f"{month:%Y-%m}"}),
    })  # fmt: skip
    return render(request, "web/report_monthly.html", context)


def _register(request, process: str, title: str):
    if not registers.can_read_registers(request.user):
        raise PermissionDenied(_("Only the front desk, dispatchers, customer relations, "
                                 "managers, supervisors and auditors may read the "
                                 "registers."))  # fmt: skip
    keep = {k: v.strip() for k, v in request.GET.items()
            if v.strip() and k in registers.PARAMETERS}  # fmt: skip
    context = {"errors": {}, "page": None, "columns": [], "lines": [], "filters": keep,
               "title": title, "process": process}  # fmt: skip
    try:
        filters = registers.parse(process, request.GET)
        found = registers.cases(process, user=request.user, filters=filters)
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = registers.rows_of(process, page.object_list)
        _record(request.user, rows)
        context.update({"page": page, **_table(process, rows)})
    except Invalid as err:
        context["errors"] = err.errors
    lang = current_language()
    path = "/api/registers/repairs/" if process == "repair" else "/api/registers/complaints/"
    context.update({
        "query": urlencode(keep), "exports": _exports(path, keep),
        "categories": [(v, pick(t, lang, v)) for v, t in registers.categories(process)],
        "statuses": [(s, pick(sheets.STATUS_WORDS[s], lang, s)) for s in registers.STATUSES],
    })  # fmt: skip
    return render(request, "web/register.html", context)


@login_required
def repair_register(request):
    return _register(request, "repair", _("Repair register"))


@login_required
def complaint_register(request):
    return _register(request, "complaint", _("Complaint register"))
