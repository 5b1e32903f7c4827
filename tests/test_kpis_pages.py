"""The KPI dashboard (``/kpis/``), the cases behind a figure and the site's targets form
(issue 16, item 3), without a browser: who sees them, what they say, what a click opens."""

import json
import re

import pytest

from server.estate.models import Site
from tests import test_kpis
from tests.test_kpis import complaint, urgent_repair

world = test_kpis.world  # the fixture: the processes, one unit, a user per role
NOVEMBER = "from=2026-11-01&to=2026-11-30"


def chart_data(html: str) -> dict:
    found = re.search(r'<script id="kpi-charts" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_the_dashboard_shows_each_kpi_against_its_target_and_links_to_the_late_jobs(
    world,
    client,
):
    urgent_repair(world, "2026-11-10")
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    complaint(world, "2026-11-12")
    client.force_login(world["property_manager"])
    html = client.get(f"/kpis/?{NOVEMBER}").content.decode()
    card = re.search(r'<article class="kpi-card below" data-kpi="repair_timeliness">(.*?)'
                     r"</article>", html, re.S).group(1)  # fmt: skip
    assert "50.0%" in card and "目标 100.0%" in card and "未达目标" in card
    assert "2 件中 1 件" in card
    link = re.search(r'href="([^"]+)" data-testid="missed">超时的工作: 1<', card).group(1)
    assert link.replace("&amp;", "&") == f"/kpis/repair_timeliness/cases/?{NOVEMBER}"
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert re.findall(r'href="/cases/(\d+)/" data-testid="case"', listed) == [str(late.id)]
    # The charts' data, and each figure's table beside it (the page reads without JS).
    charts = chart_data(html)
    assert charts["month"]["labels"] == ["2026-11"]
    timely = charts["month"]["series"][0]
    assert timely["data"] == [50.0] and "from=2026-11-01" in timely["links"][0]
    assert [label for label in charts["trade"]["labels"]] == ["水电"]
    assert html.count('class="chart"') == 6 and html.count("<table") == 6  # each beside one
    assert 'data-testid="by-handler"' in html and "technician" in html
    assert charts["levels"]["labels"] == ["2级"] and charts["levels"]["series"][0]["data"] == [1]
    by_level = client.get(charts["levels"]["series"][0]["links"][0]).content.decode()
    assert re.findall(r'href="/cases/(\d+)/" data-testid="case"', by_level) == [str(late.id)]
    level_3 = charts["levels"]["series"][0]["links"][0].replace("level=2", "level=3")
    assert 'data-testid="case"' not in client.get(level_3).content.decode()


def test_a_bar_s_link_narrows_the_cases_to_its_category_or_week(world, client):
    urgent_repair(world, "2026-11-02")  # on time
    late = urgent_repair(world, "2026-11-11", arrive_late_by=1)
    client.force_login(world["cs_supervisor"])
    charts = chart_data(client.get(f"/kpis/?{NOVEMBER}").content.decode())
    weeks = charts["week"]["series"][0]
    assert weeks["data"][:3] == [None, 100.0, 0.0]  # 10-26 (nothing), 11-02, 11-09
    listed = client.get(weeks["links"][2]).content.decode()
    assert re.findall(r'href="/cases/(\d+)/"', listed) == [str(late.id)]
    assert "2026-11-09" in listed and "2026-11-15" in listed  # the week's own days
    every = client.get(weeks["links"][1] + "&all=1").content.decode()
    assert len(re.findall(r'href="/cases/(\d+)/"', every)) == 1


@pytest.mark.parametrize("role", ["frontdesk", "technician", "nobody"])
def test_others_get_403_in_their_language_and_no_nav_link(world, client, role):
    client.force_login(world[role])
    for url in ("/kpis/", "/kpis/repair_timeliness/cases/"):
        answer = client.get(url)
        assert answer.status_code == 403
        assert "考核指标" in answer.content.decode()
    assert 'href="/kpis/"' not in client.get("/").content.decode()
    assert client.post("/kpis/targets/", {"site": "1"}).status_code == 403


def test_the_nav_links_the_dashboard_for_the_roles_that_read_it(world, client):
    for role in ("property_manager", "cs_supervisor", "vice_gm", "auditor"):
        client.force_login(world[role])
        assert 'href="/kpis/"' in client.get("/").content.decode(), role


def test_bad_filters_are_said_on_the_page_and_an_unknown_kpi_is_404(world, client):
    client.force_login(world["auditor"])
    answer = client.get("/kpis/?from=2026-11-30&to=2026-11-01&handler=ghost")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-field="from"' in html and 'data-field="handler"' in html
    assert client.get("/kpis/nope/cases/").status_code == 404


def test_a_manager_sets_the_site_s_targets_and_the_dashboard_judges_by_them(
    world,
    client,
):
    urgent_repair(world, "2026-11-10")
    urgent_repair(world, "2026-11-11", arrive_late_by=1)
    site = Site.objects.get()
    client.force_login(world["property_manager"])
    html = client.get(f"/kpis/?{NOVEMBER}").content.decode()
    assert 'action="/kpis/targets/"' in html
    form = {"site": site.pk, "repair_timeliness": "50", "satisfaction": "",
            "next": f"/kpis/?{NOVEMBER}"}  # fmt: skip
    answer = client.post("/kpis/targets/", form)
    assert answer.status_code == 302 and answer["Location"] == f"/kpis/?{NOVEMBER}"
    site.refresh_from_db()
    assert site.kpi_targets == {"repair_timeliness": 0.5}
    html = client.get(f"/kpis/?{NOVEMBER}").content.decode()
    assert '<article class="kpi-card met" data-kpi="repair_timeliness">' in html
    bad = client.post("/kpis/targets/", {"site": site.pk, "repair_timeliness": "150"},
                      follow=True)  # fmt: skip
    assert "须为 0 到 100 之间的百分数" in bad.content.decode()
    site.refresh_from_db()
    assert site.kpi_targets == {"repair_timeliness": 0.5}  # nothing half-written
    client.force_login(world["cs_supervisor"])  # reads the dashboard, sets no target
    assert 'action="/kpis/targets/"' not in client.get(f"/kpis/?{NOVEMBER}").content.decode()
    assert client.post("/kpis/targets/", {"site": site.pk, "satisfaction": "80"}).status_code == 403
    site.refresh_from_db()
    assert site.kpi_targets == {"repair_timeliness": 0.5}


def test_the_dashboard_costs_the_same_queries_for_two_cases_as_for_five(
    world,
    client,
    django_assert_max_num_queries,
):
    client.force_login(world["property_manager"])
    urgent_repair(world, "2026-11-10")
    urgent_repair(world, "2026-11-11", arrive_late_by=1)
    client.get(f"/kpis/?{NOVEMBER}")  # the sources' cache warmed
    with django_assert_max_num_queries(40) as few:
        client.get(f"/kpis/?{NOVEMBER}")
    for day in ("2026-11-12", "2026-11-13", "2026-11-14"):
        urgent_repair(world, day, arrive_late_by=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/kpis/?{NOVEMBER}")
