"""Email, through Django's email framework: both languages in one message."""

from __future__ import annotations

from django.core.mail import EmailMessage, get_connection

from .. import messages
from . import Channel


def address(user) -> str:
    return user.email or ""


def send(deliveries) -> list[Exception | None]:
    """One connection for the batch: a server that is down refuses them all at open()."""
    answers: list[Exception | None] = []
    connection = get_connection()
    connection.open()
    try:
        for delivery in deliveries:
            subject, body = messages.email(delivery.notification)
            message = EmailMessage(subject, body, to=[delivery.address], connection=connection)
            try:
                message.send()
            except Exception as err:  # refused: the others still go
                answers.append(err)
            else:
                answers.append(None)
    finally:
        connection.close()
    return answers


CHANNEL = Channel(name="email", address=address, send=send)
