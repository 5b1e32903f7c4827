"""Notification delivery, a row per channel: written in the escalating step's one batch, sent
by each channel from its own outbox; a second channel is one registration."""

import dataclasses

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client

from engine import clock
from server.flows.models import Notification, NotificationDelivery
from server.flows.notifications import channels, delivery
from tests.scenario import local
from tests.test_notifications import urgent  # noqa: F401  (the fixture)


class FakeSms:
    """A second channel, as a module would declare it: addresses, and a batch sender."""

    def __init__(self, phones: dict[str, str], refuse: bool = False):
        self.phones, self.refuse, self.sent = phones, refuse, []
        self.channel = channels.Channel(name="sms", address=self.address, send=self.send)

    def address(self, user) -> str:
        return self.phones.get(user.username, "")

    def send(self, deliveries) -> list[Exception | None]:
        if self.refuse:
            raise ConnectionError("SMS gateway down")
        self.sent += [(d.address, d.notification.data["unit"]) for d in deliveries]
        return [None] * len(deliveries)


@pytest.fixture
def sms():
    made = []

    def register(**kwargs) -> FakeSms:
        fake = FakeSms(**kwargs)
        channels.register(fake.channel)
        made.append(fake)
        return fake

    yield register
    for fake in made:
        channels.unregister(fake.channel.name)


@pytest.fixture
def two_supervisors(urgent):  # noqa: F811
    second = User.objects.create_user("second_supervisor", email="s2@example.com")
    second.groups.add(Group.objects.get(name="cs_supervisor"))
    return urgent


def rows() -> list[tuple[str, str, str]]:
    return sorted(
        NotificationDelivery.objects.values_list("notification__recipient__username", "channel",
                                                 "address")
    )  # fmt: skip


def test_a_second_channel_registered_by_name_gets_a_row_for_those_with_an_address_on_it(
    two_supervisors, sms
):
    fake = sms(phones={"cs_supervisor": "13800000001"})

    two_supervisors.advance_to(local("2026-11-23 09:12"))

    assert rows() == [
        ("cs_supervisor", "email", "cs_supervisor@example.com"),
        ("cs_supervisor", "sms", "13800000001"),
        ("second_supervisor", "email", "s2@example.com"),
    ]
    assert delivery.deliver() == 3
    assert fake.sent == [("13800000001", "1-101")]
    assert sorted(m.to[0] for m in mail.outbox) == ["cs_supervisor@example.com", "s2@example.com"]
    assert not delivery.outbox().exists()


def test_a_channel_that_is_down_retries_on_its_own_and_email_goes_out(two_supervisors, sms):
    sms(phones={"cs_supervisor": "13800000001"}, refuse=True)
    two_supervisors.advance_to(local("2026-11-23 09:12"))

    with clock.frozen(local("2026-11-23 09:13")):
        assert delivery.deliver() == 2  # the two emails
    refused = NotificationDelivery.objects.get(channel="sms")
    assert refused.sent_at is None and refused.attempts == 1
    assert refused.error == "ConnectionError: SMS gateway down"
    assert refused.next_at == local("2026-11-23 09:14")
    assert len(mail.outbox) == 2


def test_an_escalating_step_writes_its_deliveries_in_its_one_write_batch(
    two_supervisors, django_assert_num_queries
):
    # The sweep's check, the lock and read, the recipients, one batch (PostgreSQL: one
    # call, as before deliveries had rows; SQLite: a statement each, the delivery insert
    # one of them), and the test's savepoint pair.
    expected = 6 if connection.vendor == "postgresql" else 10
    with django_assert_num_queries(expected):
        two_supervisors.advance_to(local("2026-11-23 09:12"))
    assert [c for _, c, _ in rows()] == ["email", "email"]


def test_two_steps_at_one_frozen_moment_give_each_notification_one_delivery(two_supervisors):
    case = two_supervisors
    case.advance_to(local("2026-11-23 09:12"))  # late dispatch: a notice to each supervisor
    # At the same moment the case goes on to an escalation to the same people.
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "-"})  # fmt: skip
    case.complete("arrive", as_="technician")
    case.complete("repair_work", as_="technician",
                  data={"outcome": "cannot_handle", "work_done": "需要专业电工"})  # fmt: skip

    notes = Notification.objects.filter(instance_id=case.id)
    assert sorted(notes.values_list("kind", flat=True)) == ["escalation"] * 2 + ["notice"] * 2
    assert len({n.created_at for n in notes}) == 1
    assert sorted(NotificationDelivery.objects.values_list("notification_id", flat=True)) == (
        sorted(n.pk for n in notes)
    )


def test_a_channel_declared_twice_is_refused():
    another = dataclasses.replace(FakeSms(phones={}).channel, name="email")
    with pytest.raises(ImproperlyConfigured, match="'email' is declared twice"):
        channels.register(another)
    assert [c.name for c in channels.registered()] == ["email"]


def test_the_admin_lists_each_channels_deliveries_with_their_errors(two_supervisors, sms):
    sms(phones={"cs_supervisor": "13800000001"}, refuse=True)
    two_supervisors.advance_to(local("2026-11-23 09:12"))
    with clock.frozen(local("2026-11-23 09:13")):
        delivery.deliver()
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password="pw"))

    listed = admin.get("/admin/flows/notificationdelivery/?sent_at__isempty=1").content.decode()
    assert "13800000001" in listed and "SMS gateway down" in listed
    assert "s2@example.com" not in listed  # sent
    n = NotificationDelivery.objects.get(channel="sms").notification_id
    page = admin.get(f"/admin/flows/notification/{n}/change/").content.decode()
    assert "cs_supervisor@example.com" in page and "SMS gateway down" in page
