"""One case's whole record as a file (issue 15, item 4): the trail as the API answers it,
as JSON, as CSV (its events, a row each) or as a workbook with a sheet per section.

Values people typed go into a spreadsheet as text: one that starts like a formula
(``=``, ``+``, ``-``, ``@``) is written with a leading apostrophe, so opening the file
never runs it.
"""

from __future__ import annotations

import csv
import io
import json

from openpyxl import Workbook

FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = ("=", "+", "-", "@", "\t", "\r")

EVENT_COLUMNS = ("seq", "at", "kind", "label", "detail", "actor", "actor_name", "task_name",
                 "changes", "data")  # fmt: skip


def render(found: dict, fmt: str) -> tuple[bytes, str]:
    """The record of ``found`` (an answered trail) in ``fmt``: (bytes, media type)."""
    if fmt == "csv":
        return _csv(found), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        return _xlsx(found), XLSX
    return json.dumps(found, ensure_ascii=False, indent=1).encode(), "application/json"


def _text(value) -> str | int | float | bool | None:
    """A cell: numbers and flags as they are, structures as JSON, formulas defused."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "'" + value if value.startswith(FORMULA) else value


def _who(person: dict | None, key: str = "username") -> str:
    return "" if person is None else person[key]


def _change(change: dict) -> str:
    def shown(value) -> str:
        if isinstance(value, dict) and "username" in value:
            return value["username"]
        return "—" if value is None else json.dumps(value, ensure_ascii=False)

    return f"{change['label']}: {shown(change['before'])} → {shown(change['after'])}"


def _event_row(event: dict) -> list:
    return [
        event["seq"], event["at"], event["kind"], event["label"], event["detail"],
        _who(event["actor"]), _who(event["actor"], "name"), event["task_name"],
        "; ".join(_change(c) for c in event["changes"]), event["data"],
    ]  # fmt: skip


def _csv(found: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EVENT_COLUMNS)
    for event in found["events"]:
        writer.writerow([_text(v) for v in _event_row(event)])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: spreadsheets read it as UTF-8


def _rows(found: dict) -> dict[str, tuple[tuple, list[list]]]:
    case = found["case"]
    return {
        "case": (("field", "value"), [[k, v] for k, v in case.items()]),
        "steps": (
            ("task", "role", "who", "started_at", "finished_at", "due_at", "limit",
             "spent_minutes", "outcome", "by_minutes", "by"),
            [[s["label"], s["role"], _who(s["who"]), s["started_at"], s["finished_at"],
              s["due_at"], (s["limit"] or {}).get("label"), s["spent_minutes"], s["outcome"],
              s["by_minutes"], s["by_text"]] for s in found["steps"]],
        ),
        "events": (EVENT_COLUMNS, [_event_row(e) for e in found["events"]]),
        "escalations": (
            ("seq", "level", "role", "at", "name", "notified"),
            [[e["seq"], e["level"], e["role"], e["at"], e["name_en"],
              ", ".join(p["username"] for p in e["notified"])] for e in found["escalations"]],
        ),
        "notifications": (
            ("recipient", "kind", "level", "created_at", "read_at", "sent"),
            [[_who(n["recipient"]), n["kind"], n["level"], n["created_at"], n["read_at"],
              ", ".join(f"{d['channel']} {d['sent_at'] or '—'}" for d in n["deliveries"])]
             for n in found["notifications"]],
        ),
        "path": (("bpmn_id", "name", "name_en", "kind"),
                 [[p["bpmn_id"], p["name"], p["name_en"], p["kind"]] for p in found["path"]]),
    }  # fmt: skip


def _xlsx(found: dict) -> bytes:
    book = Workbook(write_only=True)
    for title, (header, rows) in _rows(found).items():
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            sheet.append([_text(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
