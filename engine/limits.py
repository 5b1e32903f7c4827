"""The time limits of the domain, by name, so a site can change them without editing BPMN.

A diagram never writes "30 minutes" or "3 working days": its timers call
``deadline("repair.urgent_arrival")`` (or ``reminder(...)`` for the warning
before it), and the amount and unit come from here, overridden by the site's
settings (``PROPFLOW_TIME_LIMITS`` in Django's settings). Every default carries
the source phrase of ../shared/domain.md it comes from, or "product decision".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .errors import EngineError
from .workdays import WorkCalendar

UNITS = ("minutes", "hours", "days", "working_days", "working_day_end", "percent")


@dataclass(frozen=True)
class Limit:
    key: str
    amount: int
    unit: str  # one of UNITS; "working_day_end": the end of the service day, n working days on
    zh: str
    en: str
    source: str

    def due(self, start: datetime, calendar: WorkCalendar) -> datetime:
        if self.unit == "minutes":
            return start + timedelta(minutes=self.amount)
        if self.unit == "hours":
            return start + timedelta(hours=self.amount)
        if self.unit == "days":
            return start + timedelta(days=self.amount)
        if self.unit == "working_days":
            return calendar.add_working_days(start, self.amount)
        if self.unit == "percent":
            raise EngineError(f"{self.key} is a share, not a time limit")
        return calendar.add_working_days(calendar.end_of_working_day(start), self.amount)


def _l(key, amount, unit, zh, en, source) -> Limit:
    return Limit(key, amount, unit, zh, en, source)


DEFAULTS: dict[str, Limit] = {
    limit.key: limit
    for limit in (
        # share of a window after which the handler is reminded (percent)
        _l(
            "reminder_percent",
            75,
            "percent",
            "提醒时点(时限的百分比)",
            "Reminder point, as a percentage of the window",
            "product decision",
        ),
        # move-in
        _l(
            "move_in.defect_follow_up",
            15,
            "days",
            "遗漏工程跟进提醒周期",
            "Follow-up reminder for open handover defects",
            "product decision",
        ),
        _l(
            "move_in.return_visit",
            7,
            "days",
            "新住户回访",
            "Return visit to a new resident",
            "回访新住户 (7 days: product decision)",
        ),
        # renovation
        _l(
            "renovation.review",
            3,
            "working_days",
            "工程部批复装修申请",
            "Engineering reviews a renovation application",
            "工程部于三個工作日內批復裝修申請",
        ),
        _l(
            "renovation.review_level3",
            1,
            "working_days",
            "审批超时升级至主管副总",
            "Late review: further time before the vice GM is notified",
            "product decision",
        ),
        _l(
            "renovation.patrol",
            0,
            "working_day_end",
            "每日装修巡查",
            "Daily renovation patrol",
            "客戶服務部每天對裝修單位進行巡檢",
        ),
        _l(
            "renovation.change_notice",
            7,
            "working_days",
            "施工项目更改提前申请",
            "A change of works is applied for this far ahead",
            "施工項目更改申請 (7 working days)",
        ),
        _l(
            "renovation.acceptance_application",
            7,
            "working_days",
            "完工后申请验收",
            "The owner applies for acceptance within",
            "七個工作日內申請驗收",
        ),
        _l(
            "renovation.inspection",
            7,
            "working_days",
            "装修验收",
            "Acceptance inspection",
            "工程部于七個工作日內聯系客戶服務…驗收",
        ),
        _l(
            "renovation.rectification",
            7,
            "days",
            "验收整改期限",
            "Rectification deadline",
            "product decision",
        ),
        _l(
            "renovation.refund",
            7,
            "working_days",
            "退还装修保证金",
            "Refund of the deposits (service level)",
            "財務部于七個工作日內把裝修保證金退還",
        ),
        _l(
            "renovation.refund_limit",
            15,
            "working_days",
            "退还保证金最迟期限",
            "Refund of the deposits (hard limit)",
            "驗收合格后的十五個工作日內",
        ),
        # repair
        _l(
            "repair.urgent_dispatch",
            10,
            "minutes",
            "急修派工",
            "Dispatching an urgent repair",
            "product decision",
        ),
        _l(
            "repair.urgent_arrival",
            30,
            "minutes",
            "急修到场",
            "Urgent repair: on site within",
            "急修半小時內到場",
        ),
        _l(
            "repair.arrival_level3",
            30,
            "minutes",
            "到场超时升级至主管副总",
            "Late arrival: further time before level 3",
            "product decision",
        ),
        _l(
            "repair.ordinary_arrival_grace",
            30,
            "minutes",
            "一般维修约定时间宽限",
            "Ordinary repair: grace after the agreed time",
            "product decision",
        ),
        _l(
            "repair.doors_windows",
            2,
            "working_days",
            "门窗玻璃维修完成",
            "Glass, doors and windows: completed within",
            "001 D1.2",
        ),
        _l("repair.lighting", 2, "days", "照明维修完成", "Lighting: completed within", "001 D1.2"),
        _l(
            "repair.other",
            5,
            "working_days",
            "其他维修完成",
            "Other faults: completed within",
            "001 D1.2",
        ),
        _l(
            "repair.return_visit",
            1,
            "working_days",
            "维修回访",
            "Return visit after a repair",
            "product decision",
        ),
        # complaint
        _l(
            "complaint.own_scope",
            0,
            "working_day_end",
            "客服职责内投诉处理",
            "Complaint within customer service's scope",
            "投訴處理時間,不得超過當日",
        ),
        _l(
            "complaint.other_department",
            3,
            "days",
            "转其他部门投诉处理",
            "Complaint passed to another department",
            "處理時間不得超過三天",
        ),
        _l(
            "complaint.level2",
            1,
            "working_days",
            "二级(客服中心主管)处理",
            "Level 2 (customer-service supervisor)",
            "product decision",
        ),
        _l(
            "complaint.level3",
            2,
            "working_days",
            "三级(主管副总经理)处理",
            "Level 3 (vice general manager)",
            "product decision",
        ),
        _l(
            "complaint.daily_reminder",
            1,
            "days",
            "三级后每日提醒",
            "After level 3: reminder every",
            "逐級上報,直到處理完畢",
        ),
        _l(
            "complaint.return_visit",
            1,
            "working_days",
            "投诉回访",
            "Return visit on a complaint",
            "不得等業主向我們二次反映問題 (1 working day: product decision)",
        ),
        # move-out
        _l(
            "move_out.arrears_reminder",
            3,
            "days",
            "欠费催缴提醒周期",
            "Arrears reminder every",
            "product decision",
        ),
    )  # fmt: skip
}


class TimeLimits:
    """The defaults with a site's overrides: ``{"repair.urgent_arrival": 20}`` (same unit)."""

    def __init__(self, overrides: Mapping[str, int] | None = None):
        self._limits = dict(DEFAULTS)
        for key, amount in (overrides or {}).items():
            if key not in DEFAULTS:
                raise EngineError(f"Unknown time limit {key!r} in the site's settings")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise EngineError(f"Time limit {key!r} must be a whole number >= 0, not {amount!r}")
            self._limits[key] = replace(DEFAULTS[key], amount=amount)

    def __getitem__(self, key: str) -> Limit:
        try:
            return self._limits[key]
        except KeyError:
            raise EngineError(f"Unknown time limit {key!r}") from None

    def __iter__(self):
        return iter(self._limits.values())

    def deadline(self, calendar: WorkCalendar, start: datetime, *keys: str) -> datetime:
        """When the limits ``keys``, one after the other, run out from ``start``."""
        if not keys:
            raise EngineError("deadline() needs at least one time limit name")
        moment = start
        for key in keys:
            moment = self[key].due(moment, calendar)
        return moment

    def reminder(self, calendar: WorkCalendar, start: datetime, *keys: str) -> datetime:
        """The moment ``reminder_percent`` of the window to :meth:`deadline` has passed."""
        end = self.deadline(calendar, start, *keys)
        return start + (end - start) * self["reminder_percent"].amount / 100
