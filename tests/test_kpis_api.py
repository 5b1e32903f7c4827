"""``GET /api/kpis/`` (issue 16, item 2): the seven KPIs with the sources' targets for
managers, supervisors, the vice GM and auditors; 403 for the others in their language; a
bad parameter is a 400 naming it."""

import pytest

from tests import test_kpis
from tests.scenario import local
from tests.test_kpis import complaint, urgent_repair

world = test_kpis.world  # the fixture: the processes, one unit, a user per role
NOVEMBER = "/api/kpis/?from=2026-11-01&to=2026-11-30"


def test_the_manager_reads_the_seven_kpis_with_the_sources_targets(world, api):
    on_time = urgent_repair(world, "2026-11-10")
    late = urgent_repair(world, "2026-11-30", arrive_late_by=1)  # the last day counts
    urgent_repair(world, "2026-12-01")  # the day after does not
    answer = api("property_manager").get(NOVEMBER)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["from"], body["to"], body["filters"]) == ("2026-11-01", "2026-11-30", {})
    assert list(body["kpis"]) == [
        "repair_timeliness", "repair_first_time_pass", "complaints_closed",
        "return_visit_rate", "satisfaction", "escalations", "renovation_review_on_time",
    ]  # fmt: skip
    assert body["kpis"]["repair_timeliness"] == {
        "value": 0.5, "target": 1.0, "numerator": 1, "denominator": 2, "missed": [late.id],
        "below_target": True,
    }  # fmt: skip
    targets = {name: k["target"] for name, k in body["kpis"].items()}
    assert targets == {
        "repair_timeliness": 1.0, "repair_first_time_pass": 0.95, "complaints_closed": 0.96,
        "return_visit_rate": 1.0, "satisfaction": 0.9, "escalations": None,
        "renovation_review_on_time": 1.0,
    }  # fmt: skip
    assert body["kpis"]["complaints_closed"]["value"] is None  # nothing screened: no value
    assert body["kpis"]["escalations"]["levels"] == {"2": 1}
    assert on_time.id not in body["kpis"]["repair_timeliness"]["missed"]


@pytest.mark.parametrize("role", ["property_manager", "cs_supervisor", "vice_gm", "auditor"])
def test_who_may_read_them(world, api, role):
    assert api(role).get(NOVEMBER).status_code == 200


@pytest.mark.parametrize("role", ["frontdesk", "technician", "dispatcher", "nobody"])
def test_everyone_else_gets_403_in_their_language(world, api, role):
    zh = api(role).get(NOVEMBER, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 403 and "考核指标" in zh.json()["detail"]
    en = api(role).get(NOVEMBER)  # the fixture's clients ask for English
    assert en.status_code == 403 and en.json()["detail"].startswith("Only managers")


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("from=2026-13-01", "from"),
        ("from=20261101", "from"),
        ("to=yesterday", "to"),
        ("from=2026-11-30&to=2026-11-01", "from"),
        ("from=2020-01-01&to=2026-11-30", "to"),
        ("site=999999", "site"),
        ("site=north", "site"),
        ("process=nope", "process"),
        ("category=nope", "category"),
        ("handler=nobody-at-all", "handler"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(world, api, query, parameter):
    answer = api("cs_supervisor").get(f"/api/kpis/?{query}")
    assert answer.status_code == 400, answer.content
    assert parameter in answer.json()["errors"], answer.json()


def test_filters_are_applied_and_said(world, api):
    from server.estate.models import Site

    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    fixed = complaint(world, "2026-11-12")
    site = Site.objects.get()
    site.kpi_targets = {"complaints_closed": 0.5}
    site.save()
    query = f"&site={site.pk}&category=service_attitude&handler=frontdesk&process=complaint"
    body = api("auditor").get(NOVEMBER + query).json()
    assert body["filters"] == {"site": str(site.pk), "category": "service_attitude",
                               "handler": "frontdesk", "process": "complaint"}  # fmt: skip
    assert body["kpis"]["repair_timeliness"]["denominator"] == 0
    closed = body["kpis"]["complaints_closed"]
    assert (closed["numerator"], closed["denominator"], closed["missed"]) == (0, 1, [fixed.id])
    assert closed["target"] == 0.5
    assert late.id not in body["kpis"]["escalations"]["missed"]


def test_without_dates_it_is_this_month_to_today(world, api, settings):
    from engine import clock

    with clock.frozen(local("2026-11-20 12:00")):
        body = api("vice_gm").get("/api/kpis/").json()
        assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-20")
        body = api("vice_gm").get("/api/kpis/?from=2026-10-05").json()
        assert (body["from"], body["to"]) == ("2026-10-05", "2026-10-31")


def test_the_series_gives_each_week_or_month_of_the_period(world, api):
    urgent_repair(world, "2026-11-03")
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    body = api("cs_supervisor").get("/api/kpis/series/?from=2026-11-01&to=2026-11-30").json()
    assert body["by"] == "week" and (body["from"], body["to"]) == ("2026-11-01", "2026-11-30")
    spans = [(b["start"], b["end"]) for b in body["buckets"]]
    assert spans[0] == ("2026-11-01", "2026-11-01") and spans[-1] == ("2026-11-30", "2026-11-30")
    assert spans[2] == ("2026-11-09", "2026-11-15") and len(spans) == 6
    timely = [b["kpis"]["repair_timeliness"] for b in body["buckets"]]
    assert [(k["numerator"], k["denominator"]) for k in timely] == [
        (0, 0), (1, 1), (0, 1), (0, 0), (0, 0), (0, 0),
    ]  # fmt: skip
    assert timely[2]["missed"] == [late.id] and timely[2]["below_target"] is True
    assert timely[0]["value"] is None
    months = api("auditor").get("/api/kpis/series/?from=2026-10-15&to=2026-11-30&by=month")
    buckets = months.json()["buckets"]
    assert [(b["start"], b["end"]) for b in buckets] == [
        ("2026-10-15", "2026-10-31"), ("2026-11-01", "2026-11-30"),
    ]  # fmt: skip
    assert buckets[1]["kpis"]["repair_timeliness"]["denominator"] == 2
    bad = api("auditor").get("/api/kpis/series/?by=day")
    assert bad.status_code == 400 and "by" in bad.json()["errors"]
    assert api("frontdesk").get("/api/kpis/series/").status_code == 403
