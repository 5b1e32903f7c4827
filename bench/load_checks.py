"""What must hold in the database after any load, however the requests interleaved.

Run by bench/load.py on its throw-away database once the server has stopped. Each check
returns (faults, examples): a count of what is wrong and a few instances of it to read.

- audit: each case's events are numbered 1..n with no gap and no number twice, and n is
  the case's own ``event_seq``.
- claims: a task is never claimed while someone else holds it (no unclaim, assignment or
  completion between two claims by different people), nor after it was completed or
  closed; never completed twice.
- engine: each running case's open task rows are exactly the engine's ready tasks
  (``Engine.inspect`` on the stored state); a finished case has no open task rows.
- cancelled after completion: no completed task is later recorded as cancelled, in its
  row or in the audit trail.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, Max, Min, Q

EXAMPLES = 3


def _kind():
    from server.flows.models import AuditEvent

    return AuditEvent.Kind


def audit_sequences() -> tuple[int, list[str]]:
    from server.flows.models import ProcessInstance

    bad = (
        ProcessInstance.objects.annotate(
            n=Count("events"), numbers=Count("events__seq", distinct=True),
            low=Min("events__seq"), high=Max("events__seq"),
        )
        .filter(~Q(n=F("numbers")) | ~Q(low=1) | ~Q(high=F("n")) | ~Q(high=F("event_seq")))
        .values_list("pk", "n", "numbers", "low", "high", "event_seq")
    )  # fmt: skip
    rows = list(bad)
    return len(rows), [
        f"case {pk}: {n} events, {numbers} numbers, {low}..{high}, event_seq {seq}"
        for pk, n, numbers, low, high, seq in rows[:EXAMPLES]
    ]


def claims() -> tuple[int, list[str]]:
    """Replay each task's claims, hand-backs, assignments and closings in audit order."""
    from server.flows.models import AuditEvent

    kind = _kind()
    watched = [kind.TASK_CLAIMED, kind.TASK_UNCLAIMED, kind.TASK_ASSIGNED, kind.TASK_COMPLETED,
               kind.TASK_CANCELLED]  # fmt: skip
    events = (
        AuditEvent.objects.filter(kind__in=watched)
        .order_by("instance_id", "seq")
        .values_list("instance_id", "seq", "task_id", "kind", "actor_id", "data")
    )
    holder: dict = {}
    closed: dict = {}
    faults: list[str] = []
    for instance_id, seq, task_id, what, actor, data in events.iterator(chunk_size=5000):
        where = f"case {instance_id} event {seq}, task {task_id}"
        if what == kind.TASK_CLAIMED:
            if task_id in closed:
                faults.append(f"{where}: claimed by user {actor} after it was {closed[task_id]}")
            elif holder.get(task_id) not in (None, actor):
                faults.append(f"{where}: claimed by user {actor} while user "
                              f"{holder[task_id]} held it")  # fmt: skip
            holder[task_id] = actor
        elif what == kind.TASK_UNCLAIMED:
            holder[task_id] = None
        elif what == kind.TASK_ASSIGNED:
            holder[task_id] = data.get("to")
        elif what == kind.TASK_COMPLETED:
            if closed.get(task_id) == "completed":
                faults.append(f"{where}: completed again, by user {actor}")
            closed[task_id] = "completed"
        elif task_id not in closed:
            closed[task_id] = "cancelled"
    return len(faults), faults[:EXAMPLES]


def engine_rows() -> tuple[int, list[str]]:
    """Each running case's open task rows against the engine's ready tasks."""
    from server.flows.definitions.cache import get_engine, source_for
    from server.flows.models import HumanTask, ProcessInstance

    open_rows = defaultdict(set)
    for instance_id, task_id in HumanTask.objects.filter(status="open").values_list(
        "instance_id", "pk"
    ):
        open_rows[instance_id].add(str(task_id))
    faults: list[str] = []
    running = ProcessInstance.objects.filter(status="running").only("definition_id", "state")
    for instance in running.iterator(chunk_size=500):
        result = get_engine().inspect(source_for(instance.definition_id), instance.engine_state)
        ready = {task.id for task in result.ready}
        rows = open_rows.pop(instance.pk, set())
        if ready != rows:
            faults.append(f"case {instance.pk}: engine ready {len(ready)}, open rows "
                          f"{len(rows)}, {len(ready - rows)} without a row, "
                          f"{len(rows - ready)} rows the engine does not have")  # fmt: skip
    for instance_id, rows in open_rows.items():  # cases that are no longer running
        faults.append(f"case {instance_id}: finished with {len(rows)} open task rows")
    return len(faults), faults[:EXAMPLES]


def cancelled_after_completion() -> tuple[int, list[str]]:
    from server.flows.models import AuditEvent, HumanTask

    kind = _kind()
    completed = AuditEvent.objects.filter(kind=kind.TASK_COMPLETED)
    first_done = dict(completed.values("task_id").annotate(seq=Min("seq")).values_list(
        "task_id", "seq"
    ))  # fmt: skip
    faults = [
        f"case {instance_id} event {seq}: task {task_id} cancelled after its completion"
        for instance_id, seq, task_id in AuditEvent.objects.filter(
            kind=kind.TASK_CANCELLED, task_id__in=list(first_done)
        ).values_list("instance_id", "seq", "task_id")
        if seq > first_done[task_id]
    ]
    rows = HumanTask.objects.filter(status="cancelled", pk__in=list(first_done))
    faults += [f"task {pk}: completed in the audit trail, cancelled in its row"
               for pk in rows.values_list("pk", flat=True)]  # fmt: skip
    return len(faults), faults[:EXAMPLES]


CHECKS = (
    ("audit sequence gaps or duplicates", audit_sequences),
    ("tasks claimed twice or after completion", claims),
    ("task rows that disagree with the engine", engine_rows),
    ("completed tasks later cancelled", cancelled_after_completion),
)


def run() -> int:
    """Print every check's result; returns the number of faults found."""
    total = 0
    for label, check in CHECKS:
        faults, examples = check()
        total += faults
        print(f"  {label:42} {faults}")
        for example in examples:
            print(f"    {example}")
    return total
