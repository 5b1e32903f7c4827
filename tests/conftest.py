import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

import engine
from engine.roles import ROLES

FIXTURES = Path(__file__).parent / "fixtures"
PROCESSES = FIXTURES / "processes"
MONDAY_9AM = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
# A Redis database number of the tests' own: Redis keeps queues, unacknowledged messages
# and the workers' control bindings per database, not per queue, and the Celery tests
# start workers on queues of their own and kill them mid-task, leaving such keys behind.
BROKER_HINT = (
    "needs a broker: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15 (or another database "
    "number no site uses: the tests leave their queues and killed workers' messages there; "
    "CI does)"
)


def database_url(name: str) -> str:
    """DATABASE_URL naming the database ``name`` on the same server, with the same login and
    options: what a process the tests start (a worker, a benchmark) is given."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{quote(name)}").geturl()


def fixture_source(key: str = "two_step") -> engine.ProcessSource:
    return engine.load_package(PROCESSES / key)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL for row locks: set DATABASE_URL=postgres://... (CI does)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def users(db):
    """One user per role, named after the role key, plus a user with no role."""
    made = {}
    for role in ROLES:
        user = User.objects.create_user(role.key, password="pw")
        user.groups.add(Group.objects.get_or_create(name=role.key)[0])
        made[role.key] = user
    made["nobody"] = User.objects.create_user("nobody", password="pw")
    return made


def make_units(*codes: str, status: str = "handed_over") -> None:
    """Units in the registry (one site, one building), as the processes' start forms name them."""
    from server.estate.models import Building, Site, Unit

    site, _ = Site.objects.get_or_create(name="测试花园")
    building, _ = Building.objects.get_or_create(site=site, name="1栋")
    for code in codes:
        Unit.objects.get_or_create(
            code=code, defaults={"building": building, "floor": 1, "area_m2": 90, "status": status}
        )


@pytest.fixture
def two_step(db):
    from server.flows.definitions.services import process_deploy

    make_units("1-101", "1-1", "1")
    definition, _ = process_deploy(source=fixture_source())
    return definition


@pytest.fixture
def api(users):
    """``api(role)`` is a client authenticated with that user's token."""
    from rest_framework.authtoken.models import Token

    def client(role: str) -> APIClient:
        c = APIClient()
        token, _ = Token.objects.get_or_create(user=users[role])
        c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages in English unless a test asks
        return c

    return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_chains_hold(request):
    """Every test that writes cases leaves their audit chains whole: verified over every
    event the test wrote, before its database is rolled back (issue 15). A test that breaks
    a chain on purpose says so with ``@pytest.mark.audit_tampered``."""
    uses_db = "_django_db_helper" in request.fixturenames or request.node.get_closest_marker(
        "django_db"
    )
    if not uses_db or request.node.get_closest_marker("audit_tampered"):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so torn down after this
    yield
    from server.flows.cases import chain

    broken = [str(b) for b in chain.verify()]
    assert not broken, f"the test left {len(broken)} broken audit chains: {broken[:5]}"


@pytest.fixture(autouse=True)
def _fresh_source_cache():
    """Definition ids come back after a test's rollback; the id-keyed source cache must not."""
    from server.flows.definitions import cache as engine_cache

    engine_cache._sources.clear()


@pytest.fixture
def case(two_step, api, users):
    """A two-step case through the API: its first task done, the second open (with a
    notice for the supervisor about it): the API matrix's world."""
    from types import SimpleNamespace

    from django.utils import timezone

    from server.flows.models import HumanTask, Notification

    frontdesk = api("frontdesk")
    started = frontdesk.post(
        "/api/instances/", {"process": "two_step", "data": {"unit": "1-101"}}, format="json"
    ).json()
    register = started["tasks"][0]["id"]
    done = frontdesk.post(f"/api/tasks/{register}/complete/", {"data": {"summary": "漏水"}},
                          format="json")  # fmt: skip
    assert done.status_code == 200
    resolve = HumanTask.objects.get(instance_id=started["id"], status="open")
    notice = Notification.objects.create(
        recipient=users["cs_supervisor"], instance_id=started["id"], task=resolve,
        kind="notice", data={}, created_at=timezone.now(),
    )  # fmt: skip
    return SimpleNamespace(
        instance=started["id"], task=str(resolve.pk), done_task=register, notice=notice.pk,
        users=users,
    )  # fmt: skip
