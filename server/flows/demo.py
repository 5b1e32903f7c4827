"""Demo cases for `make run`: every process, in different states, with their history.

Each case is played through the service layer at moments in the past (on the
engine's clock), then every due timer fires as of now, so the escalations in
the demo happened exactly as they would have in production.

The play functions below are long on purpose: each writes out its cases step by step,
form data included, as a script of what the staff did. Data, not logic.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.models import User

from engine import clock

from .cases import services
from .definitions.cache import get_engine
from .models import HumanTask, ProcessDefinition, ProcessInstance

# A real 1x1 PNG: what a step keeps is read and scaled as an image (server/files).
SIGNED = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg"
    "YGBgAAAABQABpfZFQAAAAABJRU5ErkJggg=="
)
DRAWING = "data:application/pdf;base64,JVBERi0="


class _Case:
    def __init__(self, process: str, data: dict, at: datetime, by: str = "frontdesk"):
        self.at = at
        with clock.frozen(at):
            self.instance = services.instance_start(
                process_key=process, started_by=User.objects.get(username=by), data=data
            )

    def then(self, bpmn_id: str, by: str, data: dict | None = None, after=timedelta(minutes=5)):
        self.at += after
        task = HumanTask.objects.get(instance=self.instance, bpmn_id=bpmn_id, status="open")
        user = User.objects.get(username=by)
        with clock.frozen(self.at):
            services.task_claim(task_id=task.pk, user=user)
            services.task_complete(task_id=task.pk, user=user, data=data or {})
        return self


def _repairs(now: datetime) -> None:
    base = {
        "reporter": "张伟",
        "phone": "13800001101",
        "unit": "1-101",
        "location": "卫生间",
        "channel": "phone",
        "area": "in_unit",
        "trade": "water_electric",
        "fault_kind": "other",
    }
    # An urgent repair nobody reached in time: level 2, then level 3.
    (
        _Case(
            "repair",
            {**base, "description": "水管爆裂，正在漏水", "urgency": "urgent"},
            now - timedelta(minutes=75),
        ).then(
            "dispatch_urgent",
            "dispatcher",
            {"technician": "technician2", "requirements": "立即关阀抢修"},
        )
    )
    # An ordinary one waiting for the dispatcher.
    _Case(
        "repair",
        {
            **base,
            "unit": "2-201",
            "reporter": "杨帆",
            "phone": "13800002201",
            "description": "卧室灯不亮",
            "fault_kind": "lighting",
            "urgency": "ordinary",
            "trade": "water_electric",
        },
        now - timedelta(hours=2),
    )
    # One finished and closed after a satisfied return visit.
    (
        _Case(
            "repair",
            {
                **base,
                "unit": "1-201",
                "reporter": "李娜",
                "phone": "13800001201",
                "description": "门锁损坏",
                "fault_kind": "doors_windows",
                "urgency": "ordinary",
                "trade": "building",
            },
            now - timedelta(days=3),
        )
        .then(
            "dispatch",
            "dispatcher",
            {
                "technician": "technician",
                "requirements": "带锁芯",
                "appointment_at": (now - timedelta(days=3, hours=-3)).isoformat(),
            },
        )
        .then("arrive", "technician", after=timedelta(hours=3))
        .then(
            "repair_work",
            "technician",
            {"outcome": "done", "work_done": "更换锁芯", "owner_signature": SIGNED},
            after=timedelta(hours=1),
        )
        .then("return_visit", "dispatcher", {"satisfaction": "satisfied"}, after=timedelta(days=1))
    )


def _earlier_at_work(now: datetime, *, hours: int) -> datetime:
    """``hours`` before ``now`` if that is inside a working day with an hour left of it, else
    09:30 on the last working day before: a "same day" limit must not pass during the play."""
    cal = get_engine().calendar
    moment = (now - timedelta(hours=hours)).astimezone(cal.tz)
    latest = datetime.combine(moment.date(), cal.end_of_day) - timedelta(hours=1)
    if cal.is_working_day(moment.date()) and cal.start_of_day <= moment.time() <= latest.time():
        return moment
    day = moment.date() - timedelta(days=1)
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(9, 30), cal.tz)


def _complaints(now: datetime) -> None:
    base = {"complainant": "刘洋", "phone": "13800001202", "unit": "1-202", "channel": "walk_in"}
    # Passed to engineering and left alone: escalated to the supervisor (and on).
    (
        _Case(
            "complaint",
            {**base, "description": "楼上漏水到我家，多次报修未解决", "category": "water_electric"},
            now - timedelta(days=4),
        ).then("screen", "frontdesk", {"valid": True, "department": "engineering"})
    )
    # A fresh one waiting to be screened.
    _Case(
        "complaint",
        {
            **base,
            "unit": "2-102",
            "complainant": "陈静",
            "phone": "13800002102",
            "description": "夜间停车场噪音",
            "category": "security_vehicles",
        },
        now - timedelta(minutes=20),
    )
    # One handled the same day, replied and waiting for the return visit.
    (
        _Case(
            "complaint",
            {
                **base,
                "unit": "2-301",
                "complainant": "黄敏",
                "phone": "13800002301",
                "description": "保洁员清扫不及时",
                "category": "cleaning_landscaping",
            },
            _earlier_at_work(now, hours=5),
        )
        .then("screen", "frontdesk", {"valid": True, "department": "customer_service"})
        .then(
            "handle_frontdesk",
            "frontdesk",
            {"outcome": "resolved", "action_taken": "已安排保洁加强巡查"},
        )
        .then("reply", "frontdesk", {"reply": "已安排加强保洁", "reply_channel": "phone"})
    )


def _renovations(now: datetime) -> None:
    base = {
        "owner_name": "王芳",
        "phone": "13800001102",
        "identity_checked": True,
        "contractor": "美家装饰",
        "planned_start": (now + timedelta(days=7)).date().isoformat(),
        "planned_end": (now + timedelta(days=60)).date().isoformat(),
        "description": "厨卫翻新",
        "drawings": [DRAWING, DRAWING],
        "commitment_signature": SIGNED,
        "handbook_given": True,
    }
    _Case("renovation", {**base, "unit": "1-102"}, now - timedelta(hours=3))  # under review
    (
        _Case(
            "renovation",
            {**base, "unit": "1-302", "owner_name": "刘洋", "phone": "13800001302"},
            now - timedelta(days=10),
        )
        .then(
            "review",
            "engineering",
            {
                "decision": "approve",
                "deposit": 2000,
                "management_fee": 300,
                "debris_fee": 200,
                "pass_deposit": 100,
            },
            after=timedelta(days=1),
        )
        .then(
            "fees",
            "finance",
            {
                "deposit_paid": 2000,
                "management_fee_paid": 300,
                "debris_fee_paid": 200,
                "pass_deposit_paid": 100,
                "receipt_no": "ZX-0001",
            },
        )
        .then("permit", "frontdesk", {"permit_no": "XK-0001", "worker_passes": 4, "posted": True})
    )


def _moves(now: datetime) -> None:
    (
        _Case(
            "move_in",
            {
                "unit": "2-401",
                "owner_name": "郑凯",
                "phone": "13800002401",
                "notice_checked": True,
                "contract_checked": True,
                "identity_checked": True,
            },
            now - timedelta(hours=1),
        )
        .then(
            "register",
            "frontdesk",
            {"owner": {"name": "郑凯", "phone": "13800002401", "id_number": "110101198805050011"}},
        )
        .then(
            "fees",
            "finance",
            {"property_fee": 3600, "utility_prepaid": 500, "receipt_no": "SK-0001"},
        )
    )
    _Case(
        "move_out",
        {
            "unit": "2-302",
            "resident": "孙丽",
            "phone": "13800002302",
            "move_date": (now + timedelta(days=5)).date().isoformat(),
            "reason": "sale",
        },
        now - timedelta(days=4),
    ).then(
        "settle",
        "finance",
        {"water": 40, "electricity": 150, "property_fee": 1200, "arrears": 1200, "settled": False},
    )


def load_cases() -> int:
    """Play the demo cases once; returns how many there are (0 when already loaded)."""
    if ProcessInstance.objects.exists() or not ProcessDefinition.objects.exists():
        return 0
    now = clock.now()
    for play in (_repairs, _complaints, _renovations, _moves):
        play(now)
    with clock.frozen(now):
        for instance_id in ProcessInstance.objects.filter(status="running").values_list(
            "pk", flat=True
        ):
            services.instance_fire_timers(instance_id=instance_id)
    return ProcessInstance.objects.count()
