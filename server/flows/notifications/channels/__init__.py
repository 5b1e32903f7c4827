"""Notification channels, one module each (``email.py``), registered by name.

A channel module declares ``CHANNEL``: its name, the address a user has on it (none, and
the user gets no delivery row on it: the notification in the app is all they get) and
how to send a batch of deliveries. The flows app registers every module here when Django
starts (:func:`discover`), so a second channel (SMS, WeChat) is one new file. The outbox,
the retries and their backoff, the row locks and the Celery task are the same for every
channel (:mod:`..delivery`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from server.discovery import modules


@dataclass(frozen=True)
class Channel:
    name: str  # what NotificationDelivery.channel holds: at most 32 characters
    # The user's address on the channel, or "" for none.
    address: Callable[[object], str]
    # Sends the deliveries (each with its ``notification`` loaded and ``address``); answers
    # per delivery, in order, None for sent or the exception that refused it. Raising
    # refuses the whole batch (the server is down): each waits for its next attempt.
    send: Callable[[Sequence[object]], list[Exception | None]]


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    known = _channels.get(channel.name)
    if known is not None and known != channel:
        raise ImproperlyConfigured(f"Notification channel {channel.name!r} is declared twice")
    _channels[channel.name] = channel


def unregister(name: str) -> None:
    _channels.pop(name, None)


def registered() -> list[Channel]:
    """Every channel, in the order registered."""
    return list(_channels.values())


def discover(package: str = __name__) -> None:
    for module in modules(package):
        channel = getattr(module, "CHANNEL", None)
        if not isinstance(channel, Channel):
            raise ImproperlyConfigured(f"{module.__name__} declares no CHANNEL")
        register(channel)
