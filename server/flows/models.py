"""Process definitions, instances, their human tasks and the audit trail.

Instances are changed only through :mod:`server.flows.cases.services`; the task rows
mirror the engine so inboxes never load a workflow.
"""

from __future__ import annotations

import secrets
import zlib
from functools import cached_property

from django.conf import settings
from django.db import models

from engine import ProcessSource


class ProcessDefinition(models.Model):
    """One immutable version of a process package."""

    key = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    process_id = models.CharField(max_length=128)
    manifest = models.JSONField()
    bpmn = models.TextField()
    forms = models.JSONField(default=dict)
    files = models.JSONField(default=dict)  # the package's other .bpmn and .dmn files
    deployed_at = models.DateTimeField(auto_now_add=True)
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)  # the change note of who deployed it
    # Where it came from: processes/ on disk (retired when its folder goes) or the studio.
    origin = models.CharField(max_length=16, default="disk")
    warnings = models.JSONField(default=list)  # what importing it assumed or ignored

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="definition_key_version"),
        ]
        indexes = [models.Index(fields=["key", "content_hash"], name="definition_key_hash")]
        ordering = ["key", "-version"]

    def __str__(self):
        return f"{self.key} v{self.version}"

    @cached_property
    def source(self) -> ProcessSource:
        return ProcessSource.from_stored(self.manifest, self.bpmn, self.forms, self.files)

    def name(self, language: str = "zh-hans") -> str:
        return self.source.name(language)

    @property
    def start_roles(self) -> list[str]:
        return list(self.manifest.get("start_roles", []))


class ProcessRetirement(models.Model):
    """A process that takes no new cases; its running cases finish on their versions.
    Deploying it again (a new version or a rollback) takes it back into service."""

    key = models.CharField(max_length=64, primary_key=True)
    retired_at = models.DateTimeField(auto_now_add=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

    def __str__(self):
        return f"{self.key} retired"


class ProcessDraft(models.Model):
    """A manager's unfinished change to a process: the package's files as text, saved from
    the studio's editor; validated and deployed from there."""

    key = models.CharField(max_length=64, primary_key=True)
    files = models.JSONField(default=dict)  # file name -> text (BPMN, DMN, forms, manifest)
    mapping = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self):
        return f"{self.key} draft"


def audit_salt() -> str:
    """A case's own salt for the digests its audit chain hashes."""
    return secrets.token_hex(16)


class ProcessInstance(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        # Paused by a supervisor or manager: its timers wait, its tasks take no action.
        SUSPENDED = "suspended"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    # Moves only when a supervisor or manager moves the case to another version.
    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="+")
    process_key = models.CharField(max_length=64, db_index=True)
    business_key = models.CharField(max_length=128, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # The engine's JSON state, zlib-compressed: a fifth of the bytes, and small enough to stay
    # in the row instead of PostgreSQL's TOAST table. Read it with ``engine_state``.
    state = models.BinaryField()
    serializer_version = models.CharField(max_length=16)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    event_seq = models.PositiveIntegerField(default=0)  # the last audit sequence number used
    # The highest escalation the case reached (0: none, 2: 客服主管, 3: 主管副总经理): inboxes
    # show it on every row without reading the audit trail.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # The values of the fields its package's [summary] names (engine/casecard.py), kept by
    # the step that wrote them: inboxes render the one line per reader without the state.
    summary = models.JSONField(default=dict, blank=True)
    # The hash chain of its audit events (server/flows/cases/chain.py): the salt of its
    # values' digests and the hash of its last event, moved by the step that writes one.
    audit_salt = models.CharField(max_length=32, default=audit_salt, editable=False)
    audit_head = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["status", "process_key"], name="instance_status_key")]

    def __str__(self):
        return f"{self.process_key} #{self.pk}"

    @property
    def engine_state(self) -> str:
        return zlib.decompress(self.state).decode()

    @engine_state.setter
    def engine_state(self, value: str) -> None:
        self.state = zlib.compress(value.encode(), 1)


class HumanTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    # The engine's own task id: known before the row is written, so one change can insert
    # a task and the audit events that name it in the same batch.
    id = models.UUIDField(primary_key=True)
    # Indexes are few on purpose: every step writes these rows (see docs/performance.md).
    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    process_key = models.CharField(max_length=64)
    bpmn_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=64, blank=True)
    form = models.CharField(max_length=200, blank=True)
    ui_form = models.CharField(max_length=200, blank=True)
    documentation = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_index=False,
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Given to a named person by the process (the technician a dispatcher chose, a
    # complaint's first receiver): it stays theirs, never goes back to the role's pool.
    dispatched = models.BooleanField(default=False)
    # Its diagram gives it a way back (a ``hand_back`` boundary message: back to dispatch).
    hand_back = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_index=False,
    )  # fmt: skip

    class Meta:
        indexes = [
            models.Index(fields=["instance", "status"], name="task_instance_status"),
            models.Index(fields=["status", "role", "due_at"], name="task_open_role"),
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee"),
            # The inbox's "to claim" half: only the open, unclaimed rows, so a role whose
            # tasks are mostly claimed by others does not make every inbox read them all.
            models.Index(
                fields=["role", "due_at"], name="task_unclaimed",
                condition=models.Q(status="open", assignee__isnull=True),
            ),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.name} ({self.process_key} #{self.instance_id})"


class Timer(models.Model):
    """A timer an instance waits on: the durable schedule that sweeps claim due work from.

    Written with the instance's state in the same transaction, so the two never disagree;
    the broker only carries "fire instance N now" and losing a message loses nothing.
    """

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="timers", db_index=False
    )  # the (instance, task_id) constraint indexes it
    task_id = models.UUIDField()  # the engine's id of the waiting timer event
    bpmn_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    reminder = models.BooleanField(default=False)
    attached_to = models.UUIDField(null=True, blank=True)  # the human task it watches
    due_at = models.DateTimeField()
    # Claimed by a sweep and handed to a worker until then; a worker that dies leaves the
    # claim to run out, and the next sweep after that hands the timer out again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "task_id"], name="timer_instance_task"),
        ]
        indexes = [models.Index(fields=["due_at"], name="timer_due")]

    def __str__(self):
        return f"{self.name} of #{self.instance_id} due {self.due_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An escalation or reminder for one person: read in the app, and sent on each channel
    the person has an address on (:class:`NotificationDelivery`).

    ``data`` holds the facts (process, unit, task, how late); the text is rendered from
    them in the reader's language (:mod:`server.flows.notifications.messages`).
    """

    class Kind(models.TextChoices):
        ESCALATION = "escalation"
        NOTICE = "notice"
        SHIFT_CHECK = "shift_check"  # the end-of-shift check (server.desk): no one case

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # the (recipient, read_at) index covers it
    # None for a shift check's (server.desk), which is about many cases.
    instance = models.ForeignKey(
        ProcessInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        db_index=False,
    )  # fmt: skip
    task = models.ForeignKey(
        HumanTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )  # fmt: skip
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id} on #{self.instance_id}"


class NotificationDelivery(models.Model):
    """One notification on one channel (email, ...): the outbox is the rows not yet sent.

    Written with the notification, in the step that escalated; a channel
    (:mod:`server.flows.notifications.channels`) sends it afterwards, at least once.
    """

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )  # the (notification, channel) constraint indexes it
    channel = models.CharField(max_length=32)  # a registered channel's name: no choices
    address = models.CharField(max_length=254)  # the recipient's, when it was written
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)  # the last refusal
    next_at = models.DateTimeField(null=True, blank=True)  # after a refusal: not before

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_notification_channel"
            ),
        ]
        # The outbox, per channel in the order written: only the unsent rows.
        indexes = [
            models.Index(
                fields=["channel", "id"], name="delivery_outbox",
                condition=models.Q(sent_at__isnull=True),
            ),
        ]  # fmt: skip
        verbose_name_plural = "notification deliveries"

    def __str__(self):
        state = "sent" if self.sent_at else f"unsent after {self.attempts} attempt(s)"
        return f"{self.channel} to {self.address} ({state})"


class AppendOnlyQuerySet(models.QuerySet):
    """Audit rows are written once: a bulk change or deletion is refused here too (on
    PostgreSQL a trigger refuses it in the database, migration 0016)."""

    def update(self, **kwargs):
        raise ValueError("Audit events are append-only")

    def delete(self):
        raise ValueError("Audit events are append-only")


class AuditEvent(models.Model):
    """Append-only: one row per change to an instance, numbered per instance.

    ``kind`` is any short name: the built-in ones are below, and each service-task
    operation names its own (:mod:`server.operations`). The field has no ``choices``, so
    a new operation's kind needs no migration.
    """

    class Kind(models.TextChoices):
        INSTANCE_STARTED = "instance_started"
        TASK_CREATED = "task_created"
        TASK_CLAIMED = "task_claimed"
        TASK_UNCLAIMED = "task_unclaimed"
        TASK_ASSIGNED = "task_assigned"  # by a supervisor, to a holder of the task's role
        TASK_HANDED_BACK = "task_handed_back"  # by its holder, with a reason: back to dispatch
        TASK_COMPLETED = "task_completed"
        TASK_CANCELLED = "task_cancelled"
        TIMER_FIRED = "timer_fired"
        ESCALATED = "escalated"  # to level 2 (cs_supervisor) or 3 (vice_gm)
        NOTIFIED = "notified"  # a reminder or notice to another role
        UNIT_STATUS_CHANGED = "unit_status_changed"  # by the estate's operations
        OWNER_FILE_UPDATED = "owner_file_updated"
        INSTANCE_CANCELLED = "instance_cancelled"  # by cancel and by terminate: one outcome
        INSTANCE_COMPLETED = "instance_completed"
        INSTANCE_SUSPENDED = "instance_suspended"
        INSTANCE_RESUMED = "instance_resumed"
        INSTANCE_MIGRATED = "instance_migrated"  # to another version of its process

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.PROTECT, related_name="events", db_index=False
    )  # the (instance, seq) constraint indexes it
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_index=False,
    )  # fmt: skip
    task = models.ForeignKey(
        HumanTask, null=True, blank=True, on_delete=models.PROTECT, related_name="events",
        db_index=False,
    )  # fmt: skip
    data = models.JSONField(default=dict, blank=True)
    # The case's hash chain (server/flows/cases/chain.py): the previous event's hash and
    # this one's, over the previous hash and this row's content.
    prev = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "seq"], name="event_seq")]
        # The KPI roll-up finds the cases that moved since its last run by their events'
        # time (server/reports/rollup.py): rows only ever appended, so the index grows at
        # its right edge.
        indexes = [models.Index(fields=["at"], name="event_at")]
        ordering = ["instance", "seq"]

    def __str__(self):
        return f"#{self.instance_id}.{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only")


class PersonalDataRead(models.Model):
    """Append-only: an auditor (or a superuser) received a case's personal data unmasked
    (issue 15: every auditor read of owner data is itself on the record). One row per
    answer that held any: a case page, a page of its events, a personal file, a trail, an
    export. On PostgreSQL the audit table's trigger guards this table too (migration 0018)."""

    class What(models.TextChoices):
        CASE_PAGE = "case_page"
        TASK_PAGE = "task_page"
        EVENTS_API = "events_api"
        FILE = "file"
        TRAIL = "trail"
        EXPORT = "export"

    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    at = models.DateTimeField()
    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.PROTECT, related_name="personal_reads",
        db_index=False,
    )  # fmt: skip
    what = models.CharField(max_length=16, choices=What.choices)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["instance", "at"], name="personal_read_case_at")]
        ordering = ["instance", "at", "pk"]

    def __str__(self):
        return f"#{self.instance_id} {self.what} by {self.reader_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Personal data reads are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Personal data reads are append-only")
