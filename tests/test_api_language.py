"""Every kind of API error answers in the reader's language: Chinese by default, English
on request."""

from uuid import uuid4

import pytest
from rest_framework.test import APIClient

from tests.test_api_matrix import assert_error

LANGUAGE_CASES = {
    "a query parameter DRF refuses": ("get", "tasks/?page=0", None),
    "a query parameter we refuse": ("get", "notifications/?unread=", None),
    "a page past the last": ("get", "tasks/?page=9", None),
    "a body that is not JSON": ("post", "instances/", "{"),
    "a body field of the wrong type": ("post", "notifications/read/", {"ids": None}),
    "a task that is not there": ("get", f"tasks/{uuid4()}/", None),
    "a process that is not there": ("get", "processes/nope/", None),
    "a notification that is not there": ("post", "notifications/read/", {"ids": [2**62]}),
    "a path the API has not": ("get", "nope/", None),
    "a method an endpoint has not": ("delete", "instances/{instance}/", None),
}


def _send(client, method, path, body, **headers):
    if method == "post" and isinstance(body, str):
        return client.post(path, body, content_type="application/json", **headers)
    if method == "post":
        return client.post(path, body, format="json", **headers)
    return getattr(client, method)(path, **headers)


def _words(body: dict) -> list[str]:
    return [body["detail"], *sum(body.get("errors", {}).values(), [])]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


@pytest.mark.parametrize("name", LANGUAGE_CASES)
def test_every_error_answers_in_the_readers_language_chinese_by_default(name, case, users):
    method, path, body = LANGUAGE_CASES[name]
    path = "/api/" + path.format(instance=case.instance)
    client = APIClient()
    client.force_authenticate(users["cs_supervisor"])

    default = assert_error(_send(client, method, path, body), 400, 404, 405)
    chinese = assert_error(_send(client, method, path, body, HTTP_ACCEPT_LANGUAGE="zh-hans"),
                           400, 404, 405)  # fmt: skip
    english = assert_error(_send(client, method, path, body, HTTP_ACCEPT_LANGUAGE="en"),
                           400, 404, 405)  # fmt: skip
    assert default == chinese and all(_chinese(w) for w in _words(chinese)), chinese
    assert not any(_chinese(w) for w in _words(english)), english
