"""Django settings. Everything a site changes comes from the environment.

- ``DATABASE_URL``: defaults to SQLite in ``var/``; ``postgres://...`` for production.
- ``PROPFLOW_SECRET_KEY``: required when ``PROPFLOW_DEBUG`` is off.
- ``PROPFLOW_ALLOWED_HOSTS``: comma-separated.
- ``PROPFLOW_TIME_LIMITS``: JSON, the site's time limits by name (engine/limits.py),
  for example ``{"repair.urgent_arrival": 20, "complaint.level2": 2}``.
- ``PROPFLOW_EXTRA_DAYS_OFF`` / ``PROPFLOW_EXTRA_WORKDAYS``: comma-separated ISO dates the
  site adds to the business calendar (an announced 调休 the package does not know yet).
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PROPFLOW_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("PROPFLOW_DEBUG", "1") == "1"


def _secret_key() -> str:
    if key := os.environ.get("PROPFLOW_SECRET_KEY"):
        return key
    if not DEBUG:
        raise RuntimeError("Set PROPFLOW_SECRET_KEY when PROPFLOW_DEBUG=0")
    path = VAR_DIR / "secret_key"  # a per-checkout development key, never committed
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = os.environ.get("PROPFLOW_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "server.estate",
    "server.flows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("PROPFLOW_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE: writers queue for the lock instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "server.flows.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Where process packages and forms are discovered.
PROPFLOW_PROCESSES_DIR = Path(os.environ.get("PROPFLOW_PROCESSES_DIR", BASE_DIR / "processes"))
PROPFLOW_FORMS_DIR = Path(os.environ.get("PROPFLOW_FORMS_DIR", BASE_DIR / "forms"))

# The site's time limits (names and defaults in engine/limits.py) and calendar overrides.
PROPFLOW_TIME_LIMITS = json.loads(os.environ.get("PROPFLOW_TIME_LIMITS") or "{}")
PROPFLOW_EXTRA_DAYS_OFF = [d for d in os.environ.get("PROPFLOW_EXTRA_DAYS_OFF", "").split(",") if d]
PROPFLOW_EXTRA_WORKDAYS = [d for d in os.environ.get("PROPFLOW_EXTRA_WORKDAYS", "").split(",") if d]
# `manage.py fire_timers --as-of` moves cases forward in time: rehearsal copies only.
PROPFLOW_ALLOW_AS_OF = os.environ.get("PROPFLOW_ALLOW_AS_OF", "1" if DEBUG else "0") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PROPFLOW_LOG_LEVEL", "INFO")},
    # SpiffWorkflow logs every task state change at INFO: the audit trail already says it.
    "loggers": {"spiff": {"level": "WARNING"}},
}
