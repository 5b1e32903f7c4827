"""The events of a search as a file (CSV, JSON, xlsx), written as the rows are read.

Rows come from a server-side cursor (``QuerySet.iterator(chunk_size=CHUNK)``: a named
cursor on PostgreSQL, fetched in one transaction), so the web process holds one chunk at a
time whatever the row count.
CSV and JSON go out as they are written. An xlsx file is a zip, whose directory comes last:
openpyxl's write-only workbook writes the rows to a temporary file as they come, the file
is finished in a ``SpooledTemporaryFile`` (on disk past a few megabytes) and then sent in
blocks; memory stays flat, and the first byte leaves once the last row is written.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC

from django.db import transaction
from django.utils import timezone

from server.flows.cases import personal
from server.flows.models import AuditEvent

CHUNK = 2000  # rows a fetch from the cursor
BLOCK = 64 * 1024  # bytes a piece of the answer
# English and Chinese column headings: a spreadsheet's reader may be either.
HEADINGS = (
    ("case", "案件"), ("process", "流程"), ("unit", "单元"), ("seq", "序号"),
    ("at", "时间"), ("kind", "事件"), ("actor", "操作人"), ("task", "任务"),
    ("data", "记录的数据"),
)  # fmt: skip
HEADING_ROW = [f"{en} / {zh}" for en, zh in HEADINGS]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(MEDIA_TYPES)


class Masker:
    """What recorded form data an export shows: its values to readers who may see them
    (the only ones the export serves: auditors and superusers), each ``x-personal`` value
    masked for anyone else (:class:`server.flows.cases.personal.Masker`, each version's
    forms read once). ``seen`` collects the cases whose personal values went out
    unmasked: the caller puts those reads on the record."""

    def __init__(self, *, reveal: bool):
        self.reveal = reveal
        self.personal = personal.Masker()
        self.seen: dict[int, None] = {}

    def __call__(self, event: AuditEvent, recorded: dict) -> dict:
        definition_id = event.instance.definition_id
        if not self.reveal:
            return self.personal.event_data(event, definition_id=definition_id)["data"]
        if event.instance_id not in self.seen and self.personal.holds_personal(
            event, definition_id=definition_id
        ):
            self.seen[event.instance_id] = None
        return recorded


def _event_data(event: AuditEvent, masker) -> dict:
    """What an event recorded, its form data through ``masker``."""
    recorded = event.data.get("data")
    if not isinstance(recorded, dict):
        return event.data
    return {**event.data, "data": masker(event, recorded)}


def rows(events: Iterable[AuditEvent], masker) -> Iterator[dict]:
    """Each event as plain values (times aware), read ``CHUNK`` rows at a time."""
    found = events.iterator(chunk_size=CHUNK) if hasattr(events, "iterator") else events
    for event in found:
        task = event.task
        yield {
            "case": event.instance_id,
            "process": event.instance.process_key,
            "unit": event.instance.business_key,
            "seq": event.seq,
            "at": event.at,
            "kind": event.kind,
            "actor": event.actor.username if event.actor_id else None,
            "task": {"id": str(task.pk), "name": task.name, "name_en": task.name_en or task.name}
            if task is not None else None,
            "data": _event_data(event, masker),
        }  # fmt: skip


def _cells(row: dict) -> list:
    """A row as a spreadsheet's cells: times in the installation's zone, data as JSON."""
    task = row["task"]
    return [
        row["case"], row["process"], row["unit"], row["seq"],
        timezone.localtime(row["at"]).isoformat(), row["kind"], row["actor"] or "",
        task["name"] if task else "", json.dumps(row["data"], ensure_ascii=False),
    ]  # fmt: skip


class _Echo:
    """csv.writer's file: hands back what it is given."""

    def write(self, text: str) -> str:
        return text


def as_csv(found: Iterator[dict], *, headings=HEADING_ROW, cells=_cells) -> Iterator[str]:
    """UTF-8 with a byte-order mark (so a spreadsheet reads the Chinese), headings first.
    ``headings`` and ``cells`` (a row as its cells) default to the events'; the reports
    and registers (server/api/reports.py) hand their own."""
    writer = csv.writer(_Echo())
    batch = ["\ufeff" + writer.writerow(headings)]
    for row in found:
        batch.append(writer.writerow(cells(row)))
        if len(batch) >= 200:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


def _event_json(row: dict) -> dict:
    row["at"] = row["at"].astimezone(UTC).isoformat()
    return row


def as_json(found: Iterator[dict], *, encode=_event_json) -> Iterator[str]:
    """One JSON array, written an element at a time; times in UTC as the API gives them
    (``encode``: a row as JSON-ready values, the events' by default)."""
    yield "["
    sep = ""
    for row in found:
        row = encode(row)
        yield sep + json.dumps(row, ensure_ascii=False)
        sep = ",\n"
    yield "]\n"


def as_xlsx(
    found: Iterator[dict], *, headings=HEADING_ROW, cells=_cells, title: str = "events"
) -> Iterator[bytes]:
    """One worksheet, headings first, built in write-only mode and then sent in blocks."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(headings)
    for row in found:
        sheet.append(cells(row))
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as file:
        book.save(file)
        file.seek(0)
        while block := file.read(BLOCK):
            yield block


WRITERS = {"csv": as_csv, "json": as_json, "xlsx": as_xlsx}


def export(events, *, fmt: str, masker) -> Iterator:
    """The pieces of the file in format ``fmt``, read in one transaction: the cursor's
    fetches stay on one server connection (a pooler in transaction mode may hand the next
    transaction another), and it is closed before the COMMIT, which would otherwise copy a
    holdable cursor's unread rows aside (an answer abandoned half-way)."""
    with transaction.atomic():
        found = rows(events, masker)
        try:
            yield from WRITERS[fmt](found)
        finally:
            found.close()
