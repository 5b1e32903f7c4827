"""Each case's audit events form a hash chain: tampering shows.

Every event row holds ``prev`` (the hash of the case's previous event, :data:`GENESIS` for
its first) and ``hash``, the SHA-256 of ``prev`` and of the row's content: case id,
sequence number, kind, time (UTC, microseconds), actor id, task id and the data, in which
every scalar value is replaced by its digest salted with the case's own ``audit_salt``.
The case keeps its chain's head (``audit_head``) in its own row, which every step already
updates: sealing a step's events costs hashing in Python and no round trip.

Hashing each value's salted digest, not the value, is what lets retention
(:mod:`server.flows.cases.retention`) replace a personal value by ``{"$redacted": digest}``
years later and leave the chain verifiable: the digest is what was hashed.

:func:`verify` walks chains and answers the first broken link of each; ``manage.py
verify_audit`` prints them and fails. An UPDATE or DELETE is refused by the database
(migration 0016) short of disabling its trigger; the chain is what notices if someone did,
and the anchors (:mod:`server.flows.cases.anchors`) what notices a chain rewritten whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ..models import AuditEvent, ProcessInstance

GENESIS = "0" * 64
REDACTED = "$redacted"  # {"$redacted": digest}: a value removed, its digest kept


def digest(salt: str, value) -> str:
    """The salted digest of one scalar value, as hashed into the chain."""
    return _digester(salt)(value)


def _digester(salt: str):
    base = hashlib.sha256(f"{salt}\x1f".encode())

    def one(value) -> str:
        h = base.copy()
        h.update(_scalar(value).encode())
        return h.hexdigest()

    return one


def _scalar(value) -> str:
    """One canonical text per value, typed, as it comes back from any database's JSON
    column: PostgreSQL's jsonb gives ``1e20`` back as the integer it equals."""
    if isinstance(value, str):
        return "s" + value
    if value is None or isinstance(value, bool):
        return "b" + json.dumps(value)
    if isinstance(value, int):
        return f"n{value}"
    if isinstance(value, float):
        return f"n{int(value)}" if value.is_integer() else f"n{value!r}"
    return "j" + json.dumps(value, ensure_ascii=False, sort_keys=True)


def digested(salt: str, data, one=None):
    """``data`` with every scalar replaced by its salted digest (a redacted value by the
    digest it keeps): the shape stays, the values go."""
    one = one or _digester(salt)
    if isinstance(data, dict):
        if len(data) == 1 and isinstance(data.get(REDACTED), str):
            return data[REDACTED]
        return {str(k): digested(salt, v, one) for k, v in data.items()}
    if isinstance(data, list):
        return [digested(salt, v, one) for v in data]
    return one(data)


def redacted(salt: str, value):
    """``value`` with each of its scalars replaced by a marker keeping its digest."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(REDACTED), str):
            return value
        return {k: redacted(salt, v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(salt, v) for v in value]
    return {REDACTED: digest(salt, value)}


def _at(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(event: AuditEvent, salt: str, prev: str) -> str:
    content = [
        prev, event.instance_id, event.seq, event.kind, _at(event.at), event.actor_id,
        None if event.task_id is None else str(event.task_id), digested(salt, event.data),
    ]  # fmt: skip
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def seal(instance: ProcessInstance, events: Iterable[AuditEvent]) -> None:
    """Link ``events`` (new, in sequence order, their instance id known) to the case's
    chain and move its head: the caller writes both with the step."""
    head = instance.audit_head or GENESIS
    for event in events:
        event.prev = head
        event.hash = head = row_hash(event, instance.audit_salt, head)
    instance.audit_head = head


@dataclass(frozen=True)
class Break:
    """The first broken link of one case's chain."""

    instance_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"case {self.instance_id}, event {self.seq}: {self.problem}"


def verify(instance_ids: Iterable[int] | None = None, *, chunk: int = 2000) -> Iterator[Break]:
    """The first broken link of every chain (of the cases named, or all), case by case.

    Reads the events in one pass in (case, seq) order with a server-side cursor, so memory
    stays flat however long the trail."""
    cases = ProcessInstance.objects.order_by("pk")
    if instance_ids is not None:
        cases = cases.filter(pk__in=list(instance_ids))
    heads = {
        pk: (salt, head, seq)
        for pk, salt, head, seq in cases.values_list("pk", "audit_salt", "audit_head", "event_seq")
    }
    # The cases read above, not those begun since (a live site goes on writing).
    events = AuditEvent.objects.filter(instance_id__lte=max(heads, default=0))
    if instance_ids is not None:
        events = events.filter(instance_id__in=list(heads))
    events = events.order_by("instance_id", "seq")
    current, broken, prev, expected, seen = None, False, GENESIS, 1, set()
    for event in events.iterator(chunk_size=chunk):
        if event.instance_id != current:
            if current is not None and not broken:
                yield from _tail(current, heads[current], prev, expected - 1)
            current, broken, prev, expected = event.instance_id, False, GENESIS, 1
            seen.add(current)
        if broken:
            continue
        problem = _link(event, heads[current], prev, expected)
        if problem:
            broken = True
            yield Break(current, expected if event.seq > expected else event.seq, problem)
            continue
        prev, expected = event.hash, event.seq + 1
    if current is not None and not broken:
        yield from _tail(current, heads[current], prev, expected - 1)
    for pk, (_, _, seq) in heads.items():  # cases whose every event is gone
        if pk not in seen and seq > 0:
            yield Break(pk, 1, f"events 1 to {seq} are missing")


def _link(event: AuditEvent, case, prev: str, expected: int) -> str:
    if event.seq != expected:
        if event.seq > expected:
            return f"missing (the next one is {event.seq})"
        return f"sequence number {event.seq} where {expected} was expected"
    if not event.hash:
        return "the event has no hash (written outside the write path)"
    if event.prev != prev:
        return (
            f"its link to the previous event was changed (prev {event.prev[:12]}…, "
            f"the previous event's hash is {prev[:12]}…)"
        )
    computed = row_hash(event, case[0], prev)
    if computed != event.hash:
        return (
            "its content (kind, time, actor, task or data) was changed after it was written "
            f"(hash recorded {event.hash[:12]}…, content hashes to {computed[:12]}…)"
        )
    return ""


def _tail(pk: int, case, prev: str, last: int) -> Iterator[Break]:
    """The case's head and count against its last event: events cut off the end show here."""
    _, head, seq = case
    if last < seq:
        yield Break(pk, last + 1, f"events {last + 1} to {seq} are missing")
    # last > seq: events written since the heads were read, their links checked above
    elif last == seq and (head or GENESIS) != prev:
        yield Break(pk, last, "the case's chain head does not match its last event")
