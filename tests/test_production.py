"""Production settings, each in a process of its own started with only what a site must set.

The test run itself has development defaults (tests/settings.py); these processes get a
clean environment: a secret key, the site's host name, no PROPFLOW_DEBUG, and an empty
PROPFLOW_VAR_DIR (no database tables: a request that needs one fails, as a bug would).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOST = "propflow.example.com"


def production(tmp_path, **changes) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "PROPFLOW_SECRET_KEY": secrets.token_urlsafe(50),
        "PROPFLOW_ALLOWED_HOSTS": HOST,
        "PROPFLOW_VAR_DIR": str(tmp_path),
        **changes,
    }
    return {k: v for k, v in env.items() if v is not None}


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    return run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")


def test_a_secret_key_and_the_host_name_pass_the_deploy_check(tmp_path):
    done = deploy_check(production(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"PROPFLOW_DEBUG": "1"}, "security.W018"),
        ({"PROPFLOW_SECRET_KEY": "not-random-" * 2}, "security.W009"),
        ({"PROPFLOW_SECRET_KEY": None}, "Set PROPFLOW_SECRET_KEY"),
        ({"PROPFLOW_HSTS_SECONDS": "0"}, "security.W004"),
        ({"PROPFLOW_SSL_REDIRECT": "0"}, "security.W008"),
        ({"PROPFLOW_SECURE_COOKIES": "0"}, "security.W012"),
    ],
)
def test_debug_a_weak_or_missing_key_or_plain_http_fail_the_deploy_check(
    tmp_path, changes, expected
):
    done = deploy_check(production(tmp_path, **changes))
    assert done.returncode != 0
    assert expected in done.stdout + done.stderr


SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "PROPFLOW_ALLOW_AS_OF",
    "WHITENOISE_USE_FINDERS", "AXES_FAILURE_LIMIT", "PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT",
    "PROPFLOW_CLIENT_IP_HEADER", "PROPFLOW_PROXY_COUNT")}
    | {"static": s.STORAGES["staticfiles"]["BACKEND"], "cool_off": s.AXES_COOLOFF_TIME.seconds,
       "csp": bool(s.CONTENT_SECURITY_POLICY),
       "csp_ro": bool(s.CONTENT_SECURITY_POLICY_REPORT_ONLY)}))
"""


def settings_of(env: dict) -> dict:
    done = run(env, "-c", SETTINGS)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_with_debug_off_every_secure_default_is_on(tmp_path):
    assert settings_of(production(tmp_path)) == {
        "DEBUG": False, "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": None, "CSRF_TRUSTED_ORIGINS": [],
        "PROPFLOW_ALLOW_AS_OF": False, "WHITENOISE_USE_FINDERS": False,
        "AXES_FAILURE_LIMIT": 5, "PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT": 30,
        "PROPFLOW_CLIENT_IP_HEADER": "REMOTE_ADDR", "PROPFLOW_PROXY_COUNT": 1,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "cool_off": 900, "csp": True, "csp_ro": False,
    }  # fmt: skip


def test_each_default_has_a_setting_and_debug_keeps_development_ways(tmp_path):
    changed = settings_of(production(
        tmp_path, PROPFLOW_SSL_REDIRECT="0", PROPFLOW_HSTS_SECONDS="3600",
        PROPFLOW_HSTS_INCLUDE_SUBDOMAINS="0", PROPFLOW_HSTS_PRELOAD="0",
        PROPFLOW_SECURE_COOKIES="0", PROPFLOW_PROXY_SSL_HEADER="X-Forwarded-Proto:https",
        PROPFLOW_CSRF_TRUSTED_ORIGINS="https://a.example.com, https://b.example.com",
        PROPFLOW_LOGIN_FAILURE_LIMIT="8", PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT="50",
        PROPFLOW_LOGIN_COOLOFF_MINUTES="5", PROPFLOW_CLIENT_IP_HEADER="X-Forwarded-For",
        PROPFLOW_PROXY_COUNT="2", PROPFLOW_CSP_REPORT_ONLY="1",
    ))  # fmt: skip
    expected = {
        "DEBUG": False, "SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://a.example.com", "https://b.example.com"],
        "AXES_FAILURE_LIMIT": 8, "PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT": 50, "cool_off": 300,
        "PROPFLOW_CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR", "PROPFLOW_PROXY_COUNT": 2,
        "csp": False, "csp_ro": True,
    }  # fmt: skip
    assert {name: changed[name] for name in expected} == expected
    development = settings_of(production(tmp_path, PROPFLOW_DEBUG="1", PROPFLOW_SECRET_KEY=None))
    assert development["DEBUG"] is True
    assert (
        development["WHITENOISE_USE_FINDERS"] is True
        and development["SECURE_SSL_REDIRECT"] is False
    )
    assert development["static"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert development["SECURE_HSTS_SECONDS"] == 0 and not development["SESSION_COOKIE_SECURE"]


def test_a_proxy_ssl_header_without_a_value_stops_the_start(tmp_path):
    done = run(production(tmp_path, PROPFLOW_PROXY_SSL_HEADER="X-Forwarded-Proto"), "-c", SETTINGS)
    assert done.returncode != 0 and "write it as X-Forwarded-Proto:https" in done.stderr


PAGES = """
import json, django
django.setup()
from django.test import Client
c = Client(raise_request_exception=False, HTTP_HOST="propflow.example.com")
def seen(r):
    return {"status": r.status_code, "body": r.content.decode(), "headers": dict(r.headers)}
print(json.dumps({
    "plain": seen(c.get("/login/")),
    "proxied": seen(c.get("/no/such/page/", HTTP_X_FORWARDED_PROTO="https")),
    "missing": seen(c.get("/no/such/page/", secure=True)),
    "broken": seen(c.get("/api/processes/", secure=True, HTTP_AUTHORIZATION="Token x")),
}))
"""


def test_with_debug_off_a_missing_page_or_an_error_shows_no_debug_page(tmp_path):
    env = production(tmp_path, PROPFLOW_PROXY_SSL_HEADER="X-Forwarded-Proto:https")
    done = run(env, "-c", PAGES)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])

    assert seen["plain"]["status"] == 301
    assert seen["plain"]["headers"]["Location"] == f"https://{HOST}/login/"
    for name in ("proxied", "missing"):  # HTTPS, said by the proxy or seen directly
        page = seen[name]
        assert page["status"] == 404 and "<h1>未找到</h1>" in page["body"]  # the site's, in Chinese
        assert "URLconf" not in page["body"] and "DEBUG = True" not in page["body"]
        headers = page["headers"]
        assert (
            headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        )
        assert "script-src 'self'" in headers["Content-Security-Policy"]
    broken = seen["broken"]
    assert broken["status"] == 500 and "<h1>出错了</h1>" in broken["body"]
    assert "Traceback" not in broken["body"] and "authtoken_token" not in broken["body"]
    assert "no such table: authtoken_token" in done.stderr  # logged for the operator instead
