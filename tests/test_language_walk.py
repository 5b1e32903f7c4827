"""Every string in the reader's language (issue 14, item 7): a walk through every page and
API answer a case's people see, once in English and once in Chinese.

The cases are entered with ASCII-only data (names, units, descriptions), so a Chinese
character on an English page can only be the product's own words left untranslated; on a
Chinese page, an English word of the product's is looked for the same way, against a short
list of words that are names (Propflow, the EN switch, usernames, bpmn.io's logo).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User

from engine import clock
from server.desk.models import ShiftCheck
from server.estate.models import Building, Resident, Site, Unit
from server.flows.models import AuditEvent, HumanTask
from tests.scenario import Case, deploy_all, local

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff60]+")
WORD = re.compile(r"[A-Za-z]{3,}")
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="  # noqa: E501
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class _Visible(HTMLParser):
    """The text a person reads: text outside scripts and styles, and the attributes that
    are read aloud or shown on hover."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "code"):  # code: a sample, data
            self._skip += 1
        for name, value in attrs:
            if name in ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.parts


def ascii_world(users) -> dict[str, int]:
    """One case of each process, a few steps in, one escalated, all with ASCII data."""
    deploy_all()
    site = Site.objects.create(name="Sunny Garden")  # its shifts: desk_records
    building = Building.objects.create(site=site, name="B1")
    for code, status in (("1-101", "handed_over"), ("2-301", "not_handed_over"),
                         ("3-502", "occupied")):  # fmt: skip
        unit = Unit.objects.create(code=code, building=building, floor=1, area_m2=90,
                                   status=status)  # fmt: skip
        Resident.objects.create(unit=unit, name="Mr Owner", phone="13800000001")
    for user in users.values():
        user.first_name = user.username.title()
        user.save()
    start = local("2026-11-23 09:00")
    repair = Case(users, "repair", as_="frontdesk", at=start, data={
        "reporter": "Mr Wang", "phone": "13800000001", "unit": "1-101", "location": "Kitchen",
        "channel": "phone", "description": "Burst pipe", "area": "in_unit",
        "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
    })  # fmt: skip
    order = {"technician": "technician", "requirements": "Close the valve"}
    repair.complete("dispatch_urgent", as_="dispatcher", data=order)
    repair.advance_to(local("2026-11-23 10:30"))  # not on site: levels 2 and 3
    complaint = Case(users, "complaint", as_="frontdesk", at=start, data={
        "complainant": "Ms Chen", "phone": "13900000002", "unit": "1-101",
        "channel": "walk_in", "description": "Rude cleaner", "category": "service_attitude",
    })  # fmt: skip
    complaint.complete("screen", as_="frontdesk",
                       data={"valid": True, "department": "engineering"})  # fmt: skip
    move_in = Case(users, "move_in", as_="frontdesk", at=start, data={
        "unit": "2-301", "owner_name": "Mr Zhao", "phone": "13700000003",
        "notice_checked": True, "contract_checked": True, "identity_checked": True,
    })  # fmt: skip
    move_out = Case(users, "move_out", as_="frontdesk", at=start, data={
        "unit": "3-502", "resident": "Mr Sun", "phone": "13600000005",
        "move_date": "2026-11-28", "reason": "lease_end",
    })  # fmt: skip
    renovation = Case(users, "renovation", as_="frontdesk", at=start, data={
        "unit": "1-101", "owner_name": "Mr Zhou", "phone": "13500000006",
        "identity_checked": True, "contractor": "Home Deco", "planned_start": "2026-12-01",
        "planned_end": "2027-02-28", "description": "Kitchen", "drawings": [PNG, PNG],
        "commitment_signature": PNG, "handbook_given": True,
    })  # fmt: skip
    cases = (repair, complaint, move_in, move_out, renovation)
    desk_records(users, site)
    return {c.instance.process_key: c.id for c in cases}


DESK_WORDS = {"Water", "off", "Tuesday", "Parts", "order", "Two", "jobs", "wait", "Noisy", "lift",
              "Rude", "guard"}  # fmt: skip


def desk_records(users, site) -> None:
    """The desk's records in ASCII (issue 16): a checked shift handed over to a second
    dispatcher, its check's notifications, and a few calls, one of them a case."""
    from django.contrib.auth.models import Group

    from server.desk import services as desk

    site.shifts = "08:00-18:00,18:00-08:00"
    site.save()
    (check,) = desk.shift_checks_run(now=local("2026-11-23 07:50"))
    for item in check.items.all():
        desk.item_annotate(user=users["dispatcher"], item_id=item.pk, reason="Parts on order")
    desk.check_complete(user=users["dispatcher"], check_id=check.pk)
    night = User.objects.create_user("night", first_name="Night")
    night.groups.add(Group.objects.get(name="dispatcher"))
    desk.handover_create(user=night, check_id=check.pk, to_user="dispatcher",
                         pending="Two jobs wait", remarks="Noisy lift")  # fmt: skip
    desk.shift_checks_run(now=local("2026-11-23 17:50"))  # open, with the cases as items
    desk.call_create(user=users["frontdesk"], kind="enquiry", summary="Water off?",
                     reply="Tuesday", caller="Mr Owner", phone="13800000001")  # fmt: skip
    desk.call_create(user=users["frontdesk"], kind="complaint", summary="Rude guard",
                     unit="1-101", channel="walk_in")  # fmt: skip


def typed(value) -> list[str]:
    """The text values in recorded form data (what people typed), not its keys."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in typed(v)]
    if isinstance(value, list):
        return [t for v in value for t in typed(v)]
    return [value] if isinstance(value, str) and not value.startswith("data:") else []


def pages(cases: dict[str, int], processes) -> list[str]:
    urls = ["/", "/?scope=all", "/start/", "/cases/", "/notifications/", "/roster/",
            "/studio/", "/studio/repair/", "/cases/999999/", "/no/such/page/", "/audit/",
            "/audit/?tab=events", "/reports/complaints-daily/?date=2026-11-23",
            "/reports/monthly/?month=2026-11", "/reports/monthly/?month=2026-13",
            "/registers/repairs/", "/registers/complaints/?status=lost", "/shift/",
            "/hotline/", "/kpis/?from=2026-11-01&to=2026-11-30",
            "/kpis/?from=2026-11-01&to=2026-11-30&kpi=escalations&category=water_electric",
            "/kpis/repair_timeliness/cases/?from=2026-11-01&to=2026-11-30&all=1",
            "/kpis/escalations/cases/?from=2026-11-01&to=2026-11-30",
            "/kpis/?from=2026-11-30&to=2026-11-01"]  # fmt: skip
    urls += [f"/start/{key}/" for key in processes]
    urls += [f"/cases/{i}/" for i in cases.values()]
    urls += [f"/audit/cases/{i}/" for i in cases.values()] + ["/audit/cases/999999/"]
    urls += [f"/tasks/{t.pk}/" for t in HumanTask.objects.all()]
    return urls


def apis(cases: dict[str, int], processes) -> list[str]:
    urls = ["/api/tasks/?scope=all", "/api/instances/", "/api/units/", "/api/processes/",
            "/api/staff/", "/api/notifications/", "/api/audit/cases/",
            "/api/audit/events/?page_size=100",
            "/api/reports/complaints-daily/?date=2026-11-23", "/api/reports/monthly/?month=2026-11",
            "/api/registers/repairs/", "/api/registers/complaints/", "/api/shift-checks/",
            "/api/handovers/", "/api/hotline/calls/", "/api/kpis/?from=2026-11-01&to=2026-11-30",
            "/api/kpis/?from=2026-11-30&to=2026-11-01",
            "/api/kpis/series/?from=2026-11-01&to=2026-11-30&by=month"]  # fmt: skip
    urls += [f"/api/shift-checks/{pk}/" for pk in ShiftCheck.objects.values_list("pk", flat=True)]
    urls += [f"/api/processes/{key}/" for key in processes]
    for i in cases.values():
        urls += [
            f"/api/instances/{i}/",
            f"/api/instances/{i}/events/?page_size=100",
            f"/api/instances/{i}/reads/",
            f"/api/audit/cases/{i}/trail/",
        ]
    urls += [f"/api/tasks/{t.pk}/" for t in HumanTask.objects.all()]
    return urls


# Where an answer carries both languages side by side on purpose (an API client picks), the
# Chinese half is allowed when its English sibling stands beside it.
PAIRS = {"name": "name_en", "title": "x-title-en", "description": "x-description-en",
         "documentation": "documentation_en", "zh-hans": "en", "x-unit": "x-unit-en"}  # fmt: skip


def untranslated_json(value, path="") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in PAIRS and PAIRS[key] in value:
                continue
            if key == "x-enum-titles":  # [zh, en] pairs
                continue
            found += untranslated_json(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += untranslated_json(item, f"{path}[{i}]")
    elif isinstance(value, str) and CJK.search(value):
        found.append(f"{path}: {value[:60]}")
    return found


@pytest.fixture
def world(db, users):
    with clock.frozen(local("2026-11-23 10:30")):
        cases = ascii_world(users)
    return cases


ROLES_THAT_SEE_ALL = ("cs_supervisor", "auditor", "technician", "frontdesk", "dispatcher",
                      "property_manager")  # fmt: skip


def page_texts(client, world, language: str):
    """(url, visible text) of every page the client's user opens, error pages included (they
    speak too), JSON samples (the upload's mapping) left out; asserts enough answered."""
    client.cookies["django_language"] = language
    read = 0
    for url in pages(world, sorted(world)):
        answer = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        if answer.status_code not in (200, 403, 404):
            continue
        read += 1
        html = answer.content.decode()
        assert f'<html lang="{"en" if language == "en" else "zh-Hans"}"' in html, url
        yield from ((url, text) for text in visible(html) if not text.startswith("{"))
    assert read >= 6, "too few pages answered to judge"


@pytest.mark.parametrize("role", ROLES_THAT_SEE_ALL)
def test_english_pages_and_answers_have_no_chinese_of_the_product_s_own(world, users, client,
                                                                        role):  # fmt: skip
    processes = sorted(world)
    client.force_login(users[role])
    with clock.frozen(local("2026-11-23 10:30")):
        leaks = [f"{url}: {text[:80]}" for url, text in page_texts(client, world, "en")
                 if CJK.search(text) and text != "中文"]  # fmt: skip
        for url in apis(world, processes):
            answer = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            if answer.status_code == 200:
                leaks += [f"{url} {x}" for x in untranslated_json(answer.json())]
    assert not leaks, "untranslated:\n" + "\n".join(sorted(set(leaks)))


# Names, not words: the product, the file formats and modelers a manager uploads from.
NAMES = {"Propflow", "BPMN", "bpmn", "io", "DMN", "JSON", "Camunda", "Modeler", "SpiffArena",
         "process", "toml", "zip", "CSV", "XLSX"}  # fmt: skip
HEX = re.compile(r"\b[0-9a-f]{8}(?:-?[0-9a-f]{4,}){1,}\b|\b[0-9a-f]{16,}\b")  # ids, hashes


@pytest.mark.parametrize("role", ROLES_THAT_SEE_ALL)
def test_chinese_pages_have_no_english_of_the_product_s_own(world, users, client, role):
    keys = set(world)  # process keys are identifiers, shown as such in the studio
    client.force_login(users[role])
    user_words = set()
    for user in User.objects.all():
        user_words |= set(WORD.findall(f"{user.username} {user.first_name}"))
    for event in AuditEvent.objects.all():  # what the cases' people typed
        user_words |= set(WORD.findall(" ".join(typed((event.data or {}).get("data")))))
    # The registry's names, the switch, and what the desk's people typed.
    user_words |= {"Sunny", "Garden", "Owner", "EN"} | DESK_WORDS
    leaks = []
    with clock.frozen(local("2026-11-23 10:30")):
        for url, text in page_texts(client, world, "zh-hans"):
            text = re.sub("|".join(keys), "", HEX.sub("", text))
            if set(WORD.findall(text)) - user_words - NAMES:
                leaks.append(f"{url}: {text[:80]}")
    assert not leaks, "untranslated:\n" + "\n".join(sorted(set(leaks)))


def test_every_notification_s_english_half_is_english(world):
    from server.flows.models import Notification
    from server.flows.notifications import messages

    sent = list(Notification.objects.all())
    assert sent, "the walk's cases escalated: there are notifications to read"
    for n in sent:
        en = messages.render(n, "en")
        assert not CJK.search(en.subject + en.body), (en.subject, en.body)
        zh = messages.render(n, "zh-hans")
        assert CJK.search(zh.subject)


@pytest.mark.parametrize("key", ["complaint", "move_in", "move_out", "renovation", "repair"])
def test_every_shipped_package_names_its_elements_and_instructions_in_english(key):
    from django.conf import settings
    from lxml import etree

    import engine

    source = engine.load_package(settings.PROPFLOW_PROCESSES_DIR / key)
    spiff = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
    root = etree.fromstring(source.bpmn.encode())
    named = {el.get("id") for el in root.iter() if el.get("name") and el.get("id")
             and etree.QName(el).localname not in ("lane", "participant", "process",
                                                   "escalation", "message")}  # fmt: skip
    assert named and named - set(source.glossary) == set()
    instructed = {el.getparent().getparent().get("id")
                  for el in root.iter(f"{spiff}instructionsForEndUser")}  # fmt: skip
    assert {i for i in instructed if i} - set(source.instructions_en) == set()
