"""Walking one case of a real process through the service layer on a fake clock.

A scenario test reads as the case goes: ``case.complete("dispatch", as_="dispatcher",
data=...)``, ``case.advance(minutes=31)`` (which fires whatever timers fell due),
then assertions on the open tasks, their roles and due times, the unit and the
audit trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

import engine
from engine import clock
from server.estate.models import Unit
from server.flows.cases import services
from server.flows.definitions.services import process_deploy
from server.flows.models import AuditEvent, HumanTask, ProcessInstance

SHANGHAI = ZoneInfo("Asia/Shanghai")


def deploy_all() -> None:
    for source in engine.discover(settings.PROPFLOW_PROCESSES_DIR):
        process_deploy(source=source)


def local(text: str) -> datetime:
    """``"2026-11-23 09:00"`` in Shanghai, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Case:
    def __init__(self, users: dict, process: str, *, as_: str, data: dict, at: datetime):
        self.users = users
        self.now = at
        with clock.frozen(self.now):
            self.instance = services.instance_start(
                process_key=process, started_by=users[as_], data=data
            )
        self.id = self.instance.pk

    # -- acting ---------------------------------------------------------------
    def task(self, bpmn_id: str) -> HumanTask:
        found = [t for t in self.open_tasks() if t.bpmn_id == bpmn_id]
        assert found, f"no open task {bpmn_id!r}; open: {self.open()}"
        assert len(found) == 1, f"{len(found)} open tasks {bpmn_id!r}"
        return found[0]

    def complete(self, bpmn_id: str, *, as_: str, data: dict | None = None, claim=False):
        task = self.task(bpmn_id)
        user = self.users[as_]
        with clock.frozen(self.now):
            if claim:
                services.task_claim(task_id=task.pk, user=user)
            services.task_complete(task_id=task.pk, user=user, data=data or {})
        return task

    def advance(self, **delta) -> int:
        """Move the clock on and fire every timer that fell due; returns how many fired."""
        return self.advance_to(self.now + timedelta(**delta))

    def advance_to(self, moment: datetime) -> int:
        self.now = moment
        with clock.frozen(self.now):
            return services.instance_fire_timers(instance_id=self.id)

    # -- looking --------------------------------------------------------------
    def refresh(self) -> ProcessInstance:
        return ProcessInstance.objects.get(pk=self.id)

    @property
    def status(self) -> str:
        return self.refresh().status

    @property
    def data(self) -> dict:
        instance = self.refresh()
        source = services.source_for(instance.definition_id)
        return services.get_engine().inspect(source, instance.engine_state).data

    def open_tasks(self) -> list[HumanTask]:
        return list(HumanTask.objects.filter(instance_id=self.id, status="open").order_by("name"))

    def open(self) -> dict[str, str]:
        """Open tasks as {bpmn id: role}."""
        return {t.bpmn_id: t.role for t in self.open_tasks()}

    def due(self, bpmn_id: str) -> datetime | None:
        due = self.task(bpmn_id).due_at
        return due.astimezone(SHANGHAI) if due else None

    def events(self, *kinds: str) -> list[AuditEvent]:
        found = AuditEvent.objects.filter(instance_id=self.id).order_by("seq")
        return [e for e in found if not kinds or e.kind in kinds]

    def escalations(self) -> list[tuple[int, str]]:
        """(level, role) of every escalation up the chain, in order."""
        return [(e.data["level"], e.data["role"]) for e in self.events("escalated")]

    def notices(self) -> list[str]:
        """The roles sent a notice (a reminder or a late warning), in order."""
        return [e.data["role"] for e in self.events("notified")]

    def completed(self) -> list[str]:
        """BPMN ids of the completed tasks, in order."""
        ids = {t.pk: t.bpmn_id for t in HumanTask.objects.filter(instance_id=self.id)}
        return [ids[e.task_id] for e in self.events("task_completed")]


def unit_status(code: str) -> str:
    return Unit.objects.get(code=code).status
