"""Time limits are named settings: a site changes them without editing a diagram."""

from datetime import timedelta

import pytest
from django.conf import settings

import engine
from engine import clock
from engine.limits import TimeLimits
from tests.conftest import MONDAY_9AM

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-101", "location": "厨房",
    "channel": "phone", "description": "爆管", "area": "in_unit", "trade": "water_electric",
    "fault_kind": "other", "urgency": "urgent", "in_warranty": False, "paid": False,
}  # fmt: skip


def arrival_due(limits: TimeLimits):
    eng = engine.Engine(limits=limits)
    source = engine.load_package(settings.PROPFLOW_PROCESSES_DIR / "repair")
    with clock.frozen(MONDAY_9AM):
        started = eng.start(source, REQUEST)
        dispatched = eng.complete(source, started.state, started.ready[0].id,
                                  {"technician": "李", "requirements": "-"})  # fmt: skip
    (arrive,) = dispatched.ready
    return arrive.due


def test_a_site_setting_changes_the_urgent_arrival_limit_of_the_diagram():
    assert arrival_due(TimeLimits()) == MONDAY_9AM + timedelta(minutes=30)
    assert arrival_due(TimeLimits({"repair.urgent_arrival": 20})) == MONDAY_9AM + timedelta(
        minutes=20
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"repair.urgent_arival": 20}, "Unknown time limit 'repair.urgent_arival'"),
     ({"repair.urgent_arrival": -5}, "must be a whole number >= 0"),
     ({"repair.urgent_arrival": "20"}, "must be a whole number >= 0")],
)  # fmt: skip
def test_a_wrong_setting_is_refused_by_name(overrides, message):
    with pytest.raises(engine.EngineError, match=message):
        TimeLimits(overrides)


def test_every_limit_says_where_it_comes_from():
    for limit in TimeLimits():
        assert limit.source and limit.zh and limit.en, limit.key
