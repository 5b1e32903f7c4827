"""Files into storage, references into the data.

A step with files goes in two halves. :func:`prepare` runs before the case is locked: it
decodes each file's data URL, scales photos, stores the bytes under their checksum and
hands the data back with each file as it will be kept (so the form's checks judge what is
kept, not what a phone sent). :func:`attach`, inside the step, puts a reference in each
file's place and the rows that make it reachable into the step's batch: the rows commit
with the step or not at all. A step that fails after :func:`prepare` leaves stored bytes no
row names; :func:`sweep` (``manage.py files_sweep``) removes them once they are a day old.
Holding the case's lock while photos are scaled and sent to S3 would make everyone else
on the case wait for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from engine.forms import data_url_parts, is_file
from engine.personal import flagged

from . import images
from .models import Attachment

EXTENSIONS = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
    "application/pdf": ".pdf",
}  # fmt: skip


@dataclass(frozen=True)
class Stored:
    name: str
    media_type: str
    size: int
    sha256: str
    key: str


@dataclass
class Prepared:
    """The files of one submission: data URL as kept -> where its bytes are."""

    stored: dict[str, Stored] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)


def prepare(data: Any) -> tuple[Any, Prepared]:
    """``data`` with every file in it scaled, and its bytes stored (see the module)."""
    prepared = Prepared()
    return _walk(data, lambda text: _prepare_one(text, prepared)), prepared


def _walk(value: Any, change) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, change) for v in value]
    if isinstance(value, str) and value.startswith("data:"):
        return change(value)
    return value


def _prepare_one(text: str, prepared: Prepared) -> str:
    if not is_file(text):
        return text  # not a file this site keeps: the form's checks say so, by field
    media_type, name, body = data_url_parts(text)
    try:
        content = base64.b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error):
        return text
    if len(content) > settings.PROPFLOW_UPLOAD_MAX_BYTES:
        return text  # not stored; attach() names the field
    try:
        content = images.normalise(content, media_type)
    except images.Unreadable:
        prepared.unreadable.add(text)
        return text
    kept = data_url(media_type, content, unquote(name))
    prepared.stored[kept] = store(content, media_type, unquote(name))
    return kept


def data_url(media_type: str, content: bytes, name: str = "") -> str:
    param = f";name={quote(name, safe='')}" if name else ""
    return f"data:{media_type}{param};base64,{base64.b64encode(content).decode()}"


def store(content: bytes, media_type: str, name: str = "") -> Stored:
    """Put ``content`` in the storage under its checksum (once, however often it is sent)."""
    sha = hashlib.sha256(content).hexdigest()
    key = f"{sha[:2]}/{sha}{EXTENSIONS.get(media_type, '')}"
    if not default_storage.exists(key):
        key = default_storage.save(key, ContentFile(content))
    return Stored(_clean_name(name), media_type, len(content), sha, key)


def _clean_name(name: str) -> str:
    """A file name to show and to offer when saving: no folders, no control characters."""
    name = re.sub(r"[\x00-\x1f\x7f/\\\\]", "", name.rsplit("/", 1)[-1]).strip(" .")
    return name[:200]


def attach(
    schema: dict, data: dict, prepared: Prepared, *, instance, now: datetime
) -> tuple[dict, list[Attachment], dict[str, list[str]]]:
    """``data`` with a reference in each file's place (as the form's schema places files),
    the rows to insert with the step, and the fields whose file was not stored."""
    rows: list[Attachment] = []
    errors: dict[str, list[str]] = {}

    def visit(node: Any, value: Any, path: str, personal: bool) -> Any:
        node = node if isinstance(node, dict) else {}
        personal = personal or flagged(node)  # a flag covers all below it (x-personal)
        if node.get("format") == "data-url" and isinstance(value, str):
            stored = prepared.stored.get(value)
            if stored is None:
                errors[path] = [_problem(value in prepared.unreadable)]
                return value
            rows.append(_row(stored, path, personal, instance, now))
            return rows[-1].reference()
        if isinstance(value, dict):
            props = node.get("properties") or {}
            return {
                k: visit(props.get(k), v, f"{path}.{k}" if path else k, personal)
                for k, v in value.items()
            }
        if isinstance(value, list):
            items = node.get("items")
            return [visit(items, v, f"{path}.{i}", personal) for i, v in enumerate(value)]
        return value

    return visit(schema, data, "", False), rows, errors


def _problem(unreadable: bool) -> str:
    if unreadable:
        return _("The file cannot be read as the image its type says it is.")
    mb = f"{settings.PROPFLOW_UPLOAD_MAX_BYTES / 1_000_000:g}"
    return _("The file is larger than %(mb)s MB.") % {"mb": mb}


def _row(stored: Stored, path: str, personal: bool, instance, now: datetime) -> Attachment:
    return Attachment(
        instance_id=instance.pk, field=path, personal=personal,
        name=stored.name or f"{path}{EXTENSIONS.get(stored.media_type, '')}",
        media_type=stored.media_type, size=stored.size, sha256=stored.sha256,
        key=stored.key, created_at=now,
    )  # fmt: skip


def open_file(attachment: Attachment):
    """The stored bytes, as a file to stream (check who asks first)."""
    return default_storage.open(attachment.key, "rb")


def sweep(*, older_than: timedelta = timedelta(days=1)) -> list[str]:
    """Remove stored bytes no attachment names, once older than ``older_than`` (a step
    that is still running may have stored them a moment ago). Returns what it removed."""
    named = set(Attachment.objects.values_list("key", flat=True))
    cutoff = timezone.now() - older_than
    removed = []
    for key in _keys(""):
        if key not in named and default_storage.get_modified_time(key) < cutoff:
            default_storage.delete(key)
            removed.append(key)
    return removed


def _keys(folder: str):
    try:
        folders, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    prefix = f"{folder}/" if folder else ""
    for name in names:
        yield prefix + name
    for sub in folders:
        yield from _keys(prefix + sub)


def response(attachment: Attachment) -> FileResponse:
    """The file as an answer that runs nothing: its checked type, no sniffing, sandboxed."""
    answer = FileResponse(open_file(attachment), content_type=attachment.media_type)
    disposition = "inline" if attachment.media_type in EXTENSIONS else "attachment"
    answer["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(attachment.name)}"
    answer["Content-Length"] = str(attachment.size)
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Content-Security-Policy"] = "sandbox"
    answer["Cache-Control"] = "private, max-age=3600"  # the bytes of an id never change
    return answer
