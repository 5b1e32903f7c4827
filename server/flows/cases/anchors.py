"""Anchors: the heads of the audit chains, kept outside the database.

A chain proves that no event was changed without rewriting every later one; someone who
can write the database could still rewrite a whole chain. An anchor written outside the
database now and then is what that rewrite cannot reach: each line of the anchor file
(JSON, appended, never rewritten) names the chains that moved since the previous line,
each as ``[case id, last sequence number, head hash]``, links to the previous line by its
hash, and is signed with HMAC-SHA256 under ``PROPFLOW_AUDIT_ANCHOR_KEY`` when one is set (a
key the database never sees). :func:`check` reads the file back against the database: a
line whose signature or link fails, or an anchored event whose hash is no longer the one
anchored, is a rewritten history.

docs/operations.md says where to keep the file and the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db.models import Q

from engine import clock

from ..models import AuditEvent, ProcessInstance
from .chain import GENESIS

BROKEN_LINK = "its link to the previous line is broken (a line was removed or changed)"
BAD_SIGNATURE = "its signature does not match (the line was changed, or the key differs)"
# A step that began before an anchor may commit after it: the next line looks back this far.
OVERLAP = timedelta(minutes=10)


def _text(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sign(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                yield number, line.rstrip("\n")


def write(path: Path, key: str = "") -> dict:
    """Append one anchor line: every chain that moved since the file's last line (all of
    them for the first), the link to that line and the signature. Returns its body."""
    last, since = GENESIS, None
    for _, line in _lines(path):
        last = hashlib.sha256(line.encode()).hexdigest()
        since = json.loads(line)["at"]
    now = clock.now()
    cases = ProcessInstance.objects.filter(event_seq__gt=0)
    if since:
        cases = cases.filter(updated_at__gte=datetime.fromisoformat(since) - OVERLAP)
    chains = [
        [pk, seq, head]
        for pk, seq, head in cases.order_by("pk").values_list("pk", "event_seq", "audit_head")
    ]
    body = {"at": now.isoformat(), "since": since, "prev": last, "chains": chains}
    text = _text(body)
    line = _text({**body, "sig": _sign(key, text) if key else None})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return body


@dataclass(frozen=True)
class Mismatch:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"anchor line {self.line}: {self.problem}"


def check(path: Path, key: str = "", *, batch: int = 1000) -> Iterator[Mismatch]:
    """Every way the anchor file and the database disagree."""
    prev = GENESIS
    for number, line in _lines(path):
        try:
            entry = json.loads(line)
            sig = entry.pop("sig")
            chains = entry["chains"]
        except (ValueError, KeyError, TypeError):
            yield Mismatch(number, "not an anchor line")
            return
        if entry.get("prev") != prev:
            yield Mismatch(number, BROKEN_LINK)
        prev = hashlib.sha256(line.encode()).hexdigest()
        if key and not (sig and hmac.compare_digest(sig, _sign(key, _text(entry)))):
            yield Mismatch(number, BAD_SIGNATURE)
        for start in range(0, len(chains), batch):
            yield from _compare(number, chains[start : start + batch])


def _compare(number: int, chains: list) -> Iterator[Mismatch]:
    wanted = Q()
    for pk, seq, _ in chains:
        wanted |= Q(instance_id=pk, seq=seq)
    found = {
        (pk, seq): digest
        for pk, seq, digest in AuditEvent.objects.filter(wanted).values_list(
            "instance_id", "seq", "hash"
        )
    }
    for pk, seq, head in chains:
        digest = found.get((pk, seq))
        if digest is None:
            yield Mismatch(number, f"case {pk}, event {seq}: the anchored event is missing")
        elif digest != head:
            yield Mismatch(
                number,
                f"case {pk}, event {seq}: its hash is not the anchored one "
                f"({digest[:12]}… now, {head[:12]}… anchored): the chain was rewritten",
            )
