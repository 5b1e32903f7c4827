"""Repeated wrong passwords: locked out per username and per address, on the sign-in page and
the token endpoint alike, with 429, Retry-After and the reason in the reader's language."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from server import lockout

HERE, ELSEWHERE = "198.51.100.10", "203.0.113.20"
MESSAGES = {
    "en": "Too many failed sign-in attempts. Try again in 15 minutes; "
    "an administrator can unlock the account sooner.",
    "zh-hans": "登录失败次数过多，请 15 分钟后再试；管理员可以提前解锁。",
}


def token(username, password, *, address=HERE, language="en", **headers):
    return APIClient().post(
        "/api/auth/token/", {"username": username, "password": password}, format="json",
        REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language, **headers,
    )  # fmt: skip


def page(username, password, *, address=HERE, language="en", **headers):
    return Client().post(
        "/login/", {"username": username, "password": password, "next": "/cases/"},
        REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language, **headers,
    )  # fmt: skip


DOORS = {"token": token, "page": page}


def signed_in(response) -> bool:
    if response.wsgi_request.path.startswith("/api/"):
        return response.status_code == 200 and len(response.json()["token"]) == 40
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def wrong(door, username="frontdesk", times=None, **where):
    from django.conf import settings

    for _ in range(times or settings.AXES_FAILURE_LIMIT):
        last = door(username, "not the password", **where)
    return last


def assert_locked(response, language="en"):
    assert response.status_code == 429
    assert response["Retry-After"] == "900"  # the cool-off, 15 minutes
    if response.wsgi_request.path.startswith("/api/"):
        assert response.json() == {"detail": MESSAGES[language]}
    else:
        html = response.content.decode()
        assert MESSAGES[language] in html
        assert 'name="username"' in html and 'value="frontdesk"' in html  # the form again
        assert 'name="next" value="/cases/"' in html


@pytest.fixture(autouse=True)
def _limits(settings):
    """The documented defaults, whatever the environment running the tests says."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT = 30
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.PROPFLOW_CLIENT_IP_HEADER = "REMOTE_ADDR"
    settings.PROPFLOW_PROXY_COUNT = 1


@pytest.fixture
def later(monkeypatch):
    """``later(minutes=...)``: django-axes's clock, moved on from now."""
    from axes.handlers import proxy

    real = proxy.now

    def move(**delta):
        monkeypatch.setattr(proxy, "now", lambda: real() + timedelta(**delta))

    return move


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("door", DOORS)
def test_the_fifth_wrong_password_locks_and_the_next_attempt_is_429_with_retry_after(
    users, door, language
):
    first = [DOORS[door]("frontdesk", "no", language=language) for _ in range(4)]
    assert [r.status_code for r in first] == [400 if door == "token" else 200] * 4

    assert_locked(DOORS[door]("frontdesk", "no", language=language), language)
    assert_locked(DOORS[door]("frontdesk", "still no", language=language), language)


def test_the_api_answers_in_chinese_by_default(users):
    wrong(token)
    response = APIClient().post("/api/auth/token/", {"username": "frontdesk", "password": "x"},
                                format="json", REMOTE_ADDR=HERE)  # fmt: skip
    assert response.status_code == 429 and response.json()["detail"] == MESSAGES["zh-hans"]


@pytest.mark.parametrize("door", DOORS)
def test_the_right_password_is_refused_during_a_lockout(users, door):
    wrong(DOORS[door])
    response = DOORS[door]("frontdesk", "pw")
    assert_locked(response)
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.parametrize("door", DOORS)
def test_one_user_locked_out_does_not_lock_out_others_at_the_same_address(users, door):
    wrong(DOORS[door], "frontdesk")

    assert signed_in(DOORS[door]("dispatcher", "pw", address=HERE))
    # The lockout is the username's, wherever it signs in from.
    assert DOORS[door]("frontdesk", "pw", address=ELSEWHERE).status_code == 429


@pytest.mark.parametrize("door", DOORS)
def test_an_address_past_its_own_limit_is_locked_for_every_username(users, settings, door):
    settings.PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for name in ("guess1", "guess2", "guess3"):
        wrong(DOORS[door], name, times=4)  # each name under its limit of 5

    assert DOORS[door]("dispatcher", "pw", address=HERE).status_code == 429
    assert signed_in(DOORS[door]("dispatcher", "pw", address=ELSEWHERE))


@pytest.mark.parametrize("door", DOORS)
def test_the_lockout_ends_after_the_cool_off_and_each_refusal_restarts_it(users, door, later):
    wrong(DOORS[door])

    later(minutes=14)
    assert DOORS[door]("frontdesk", "pw").status_code == 429  # restarts the 15 minutes
    later(minutes=28)
    assert DOORS[door]("frontdesk", "pw").status_code == 429
    later(minutes=44)
    assert signed_in(DOORS[door]("frontdesk", "pw"))


def test_the_admin_sign_in_is_locked_out_too(users):
    for _ in range(5):
        response = Client().post("/admin/login/", {"username": "frontdesk", "password": "no"},
                                 REMOTE_ADDR=HERE, HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 429 and MESSAGES["en"] in response.content.decode()


def test_a_lockout_is_logged_with_the_username_and_address(users, caplog):
    wrong(token)
    locked = [r.getMessage() for r in caplog.records if "Locking out" in r.getMessage()]
    assert len(locked) == 1 and '"frontdesk"' in locked[0] and HERE in locked[0]
    assert "not the password" not in caplog.text


@pytest.mark.parametrize("command", [["axes_reset_username", "frontdesk"], ["axes_reset"]])
def test_axes_reset_ends_a_lockout_at_once(users, command):
    wrong(page)
    call_command(*command, verbosity=0)
    assert signed_in(page("frontdesk", "pw"))


def test_an_overlong_username_is_a_plain_400(users):
    response = token("x" * 300, "no")
    assert response.status_code == 400 and "username" in response.json()["errors"]


# -- the client's address behind a proxy -----------------------------------------------------

PROXY = "10.0.0.2"


@pytest.mark.parametrize("door", DOORS)
def test_behind_a_proxy_failures_count_against_the_address_it_forwards(users, settings, door):
    settings.PROPFLOW_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    # A client that writes an address of its own in front is still counted by its real one.
    for name in ("guess1", "guess2"):
        wrong(DOORS[door], name, times=4, address=PROXY,
              HTTP_X_FORWARDED_FOR=f"{ELSEWHERE}, {HERE}")  # fmt: skip

    def dispatcher(forwarded):
        return DOORS[door]("dispatcher", "pw", address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    assert dispatcher(HERE).status_code == 429
    assert signed_in(dispatcher(ELSEWHERE))  # another client through the same proxy


@pytest.mark.parametrize(
    ("forwarded", "proxies", "counted"),
    [
        ("192.0.2.1", 1, "192.0.2.1"),
        ("192.0.2.1, 192.0.2.2", 1, "192.0.2.2"),
        ("192.0.2.1, 192.0.2.2", 2, "192.0.2.1"),
        ("192.0.2.1", 2, PROXY),  # fewer entries than proxies: not through them all
        ("unknown", 1, PROXY),
        (None, 1, PROXY),
    ],
)
def test_the_address_counted_is_the_one_the_outermost_proxy_saw(
    settings, forwarded, proxies, counted
):
    settings.PROPFLOW_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PROPFLOW_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().post("/login/", REMOTE_ADDR=PROXY, **headers)
    assert lockout.client_address(request) == counted
