"""The KPIs' roll-up: one row per measured item, so a year of a busy site is one index scan.

Each KPI counts items of its own kind (server/reports/kpis.py says which): a repair job
finished, a complaint screened valid, a case closed, a return visit, an escalation, a
renovation review. :mod:`server.reports.facts` derives a case's items from its task and
audit rows; :mod:`server.reports.rollup` rewrites the items of every case that moved since
its last run (beat every few minutes, and before the KPIs are read), so the figures are
never older than the last request.
"""

from django.conf import settings
from django.db import models


class KpiFact(models.Model):
    kind = models.CharField(max_length=32)  # a KPI's name (kpis.KPIS)
    case = models.ForeignKey(
        "flows.ProcessInstance", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # When the item counts: the job's completion, the screening, the visit, the escalation.
    at = models.DateTimeField()
    day = models.DateField()  # ``at``'s day in the site's time: what the series group by
    ok = models.BooleanField(null=True)  # on time, passed, visited, satisfied; null: no rate
    # A valid complaint's closing time: closed within a period when before its end.
    done_at = models.DateTimeField(null=True)
    level = models.PositiveSmallIntegerField(null=True)  # an escalation's level
    # What the filters and breakdowns read: the process, the unit (the case's business key),
    # the complaint's category and the repair's trade (who handled it: KpiHandler).
    process_key = models.CharField(max_length=64)
    unit = models.CharField(max_length=128, blank=True)
    category = models.CharField(max_length=64, blank=True)
    trade = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["kind", "at"],
                name="kpifact_kind_at",
                include=["ok", "done_at", "level", "case"],
            ),  # fmt: skip
            # The few items behind a KPI's complement (late, reworked, unsatisfied, open).
            models.Index(
                fields=["kind", "at"],
                name="kpifact_missed",
                include=["case"],
                condition=models.Q(ok=False) | models.Q(kind="complaints_closed"),
            ),
            models.Index(fields=["case"], name="kpifact_case"),
        ]

    def __str__(self):
        return f"{self.kind} {self.case_id} {self.at:%Y-%m-%d}"


class KpiHandler(models.Model):
    """Who had a hand in a case (completed one of its human tasks): what the KPIs' handler
    filter and breakdown read, rewritten with the case's items."""

    case = models.ForeignKey(
        "flows.ProcessInstance", on_delete=models.CASCADE, related_name="kpi_handlers",
        db_index=False,
    )  # fmt: skip
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="kpihandler_once")]

    def __str__(self):
        return f"{self.case_id} {self.user_id}"


class KpiRollup(models.Model):
    """One row: how far the roll-up has read (the latest ``updated_at`` of a case it wrote)."""

    seen = models.DateTimeField(null=True)
    ran_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"rolled up to {self.seen}"
