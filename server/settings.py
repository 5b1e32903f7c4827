"""Django settings. Everything a site changes comes from the environment.

- ``PROPFLOW_DEBUG=1``: development (``make run`` and the tests set it). Unset, DEBUG is
  off and the site is production: HTTPS only and the secret key required.
- ``DATABASE_URL``: defaults to SQLite in ``var/``; ``postgres://...`` for production.
- ``PROPFLOW_SECRET_KEY``: 50 or more random characters; required when DEBUG is off.
- ``PROPFLOW_ALLOWED_HOSTS``: comma-separated.
- With DEBUG off these are on and ``=0`` turns one off: ``PROPFLOW_SSL_REDIRECT``,
  ``PROPFLOW_HSTS_SECONDS`` (seconds, one year), ``PROPFLOW_HSTS_INCLUDE_SUBDOMAINS``,
  ``PROPFLOW_HSTS_PRELOAD``, ``PROPFLOW_SECURE_COOKIES`` (session and CSRF cookies); see
  docs/operations.md, "Production settings".
- ``PROPFLOW_PROXY_SSL_HEADER=X-Forwarded-Proto:https``: TLS ends at a proxy that sets it;
  ``PROPFLOW_CSRF_TRUSTED_ORIGINS``: comma-separated ``https://...`` origins.
- ``PROPFLOW_CSP_REPORT_ONLY=1``, ``PROPFLOW_CSP_REPORT_URI``: the Content-Security-Policy
  only reported, and where to.
- ``PROPFLOW_LOGIN_FAILURE_LIMIT`` (5 per username), ``PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT``
  (30 per address), ``PROPFLOW_LOGIN_COOLOFF_MINUTES`` (15): sign-in lockouts
  (server/lockout.py); ``PROPFLOW_CLIENT_IP_HEADER`` (e.g. ``X-Forwarded-For``) and
  ``PROPFLOW_PROXY_COUNT`` (1): where the client's address is behind proxies.
- ``PROPFLOW_TIME_LIMITS``: JSON, the site's time limits by name (engine/limits.py),
  for example ``{"repair.urgent_arrival": 20, "complaint.level2": 2}``.
- ``PROPFLOW_EXTRA_DAYS_OFF`` / ``PROPFLOW_EXTRA_WORKDAYS``: comma-separated ISO dates the
  site adds to the business calendar (an announced 调休 the package does not know yet).
- ``PROPFLOW_SERVICE_HOURS`` (``08:00-18:00``), ``PROPFLOW_SERVICE_DAYS`` (``1-7``, Monday 1):
  the service centre's hours, where "same day" limits end (engine/workdays.py).
- ``PROPFLOW_SCRIPT_SECONDS`` (1), ``PROPFLOW_SCRIPT_MEMORY_MB`` (256): the limits of a script,
  condition or timer expression that runs isolated (one with loops, comprehensions, functions or
  calls the sandbox cannot bound; see engine/sandbox.py): stopped past that many seconds, or past
  that much memory on top of the isolated interpreter's own. The step fails and changes nothing.
- ``PROPFLOW_MAX_TIMER_CYCLES`` (60): the most repetitions of a timer cycle (``R<n>/...``); an
  unbounded ``R/...`` is refused at validation.
- ``CELERY_BROKER_URL``: ``redis://...`` or ``amqp://...``; unset, the web process itself
  sweeps and fires timers in a thread (the embedded default, see ``manage.py serve``).
- ``PROPFLOW_SWEEP_SECONDS`` (2), ``PROPFLOW_TIMER_LEASE_SECONDS`` (60): how often timers are
  swept; how long a claimed timer waits for its worker before the next sweep hands it out again.
- ``PROPFLOW_EMAIL_BACKEND`` (console), ``PROPFLOW_EMAIL_HOST`` / ``_PORT`` / ``_USER`` /
  ``_PASSWORD`` / ``_USE_TLS``, ``PROPFLOW_EMAIL_FROM``: notification email;
  ``PROPFLOW_EMAIL_BACKEND=smtp`` sends through the host given.
- ``PROPFLOW_AUDIT_ANCHOR_FILE`` (``var/audit/anchors.jsonl``), ``PROPFLOW_AUDIT_ANCHOR_KEY``
  (HMAC key, kept outside the database), ``PROPFLOW_AUDIT_ANCHOR_SECONDS`` (unset: no beat
  entry): the audit chains' anchors (server/flows/cases/anchors.py).
- ``PROPFLOW_PERSONAL_DATA_YEARS`` (5; 0 keeps it): years after a case finished that its
  personal values are masked (server/flows/cases/retention.py).
- ``PROPFLOW_SITE_URL``: the address links in notifications start with.
- ``PROPFLOW_MEDIA_ROOT`` (``var/media``): where attachments are kept on local disk;
  ``PROPFLOW_S3_BUCKET`` keeps them on S3-compatible storage instead, with
  ``PROPFLOW_S3_ENDPOINT_URL``, ``_REGION``, ``_PREFIX`` (attachments), ``_ACCESS_KEY_ID``
  and ``_SECRET_ACCESS_KEY`` (or boto3's own credentials); ``PROPFLOW_UPLOAD_MAX_MB`` (20):
  the largest file a page takes before scaling it.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PROPFLOW_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0") == "1"


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _meta_key(header: str) -> str:
    """``X-Forwarded-Proto`` or ``HTTP_X_FORWARDED_PROTO``: the name in ``request.META``."""
    key = header.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") or key == "REMOTE_ADDR" else f"HTTP_{key}"


# Off unless asked for: a site that forgets the variable must not serve debug pages.
DEBUG = _flag("PROPFLOW_DEBUG", False)


def _secret_key() -> str:
    if key := os.environ.get("PROPFLOW_SECRET_KEY"):
        return key
    if not DEBUG:
        raise RuntimeError(
            "Set PROPFLOW_SECRET_KEY (50 or more random characters), "
            "or PROPFLOW_DEBUG=1 for development"
        )
    path = VAR_DIR / "secret_key"  # a per-checkout development key, never committed
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = _list("PROPFLOW_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "server.estate",
    "server.flows",
    "server.files",
    "server.staff",
    "server.desk",
    "server.reports",
    "server.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a sign-in it refused into the 429 page.
    "axes.middleware.AxesMiddleware",
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
                "server.web.context.frame",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("PROPFLOW_CONN_MAX_AGE", "60")),
        # A kept connection the server closed meanwhile (a restart, an idle timeout, an
        # operator's pg_terminate_backend) is replaced before a request uses it.
        conn_health_checks=True,
    )
}
# `manage.py serve` (what `make run` runs) answers on this many threads, each keeping one
# database connection: the most connections the web process holds.
PROPFLOW_SERVE_THREADS = int(os.environ.get("PROPFLOW_SERVE_THREADS", "8"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if os.environ.get("PROPFLOW_PG_DEFERRED_BEGIN", "1") == "1":
        DATABASES["default"]["ENGINE"] = "server.db.postgresql"  # BEGIN rides on a statement
    # A web or worker process that dies in the middle of a step leaves its transaction to
    # PostgreSQL. A killed process's socket closes and an idle session ends at once; a
    # session blocked in a statement notices only if it checks its client (PostgreSQL 14+;
    # PROPFLOW_PG_CLIENT_CHECK_MS=0 turns it off for older servers or poolers that refuse
    # startup options); a lost machine is noticed by TCP keepalives within about a minute.
    _check = os.environ.get("PROPFLOW_PG_CLIENT_CHECK_MS", "2000")
    _options = "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
    if _check not in ("", "0"):
        _options += f" -c client_connection_check_interval={int(_check)}"
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = f"{_db_options.get('options', '')} {_options}".strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE: writers queue for the lock instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The KPI roll-up's covering index (server/reports/models.py) is PostgreSQL's; SQLite
    # builds it without the included columns, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

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

LOCALE_PATHS = [BASE_DIR / "server" / "web" / "locale"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "web:login"
SESSION_COOKIE_AGE = 12 * 3600  # a shift
CSRF_COOKIE_HTTPONLY = True
# A form's attachments travel as data-urls (10 files of 5 MB at most, base64).
DATA_UPLOAD_MAX_MEMORY_SIZE = 70_000_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5_000_000

# -- HTTPS and cookies -------------------------------------------------------------------
# With DEBUG off the site is served over HTTPS only. Each default can be turned off where a
# deployment must (a plain-HTTP benchmark or rehearsal copy; a proxy that redirects and sets
# HSTS itself); `manage.py check --deploy` then names what was turned off.
_HTTPS = not DEBUG
SECURE_SSL_REDIRECT = _flag("PROPFLOW_SSL_REDIRECT", _HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("PROPFLOW_HSTS_SECONDS", 31_536_000 if _HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("PROPFLOW_HSTS_INCLUDE_SUBDOMAINS", _HTTPS)
SECURE_HSTS_PRELOAD = _flag("PROPFLOW_HSTS_PRELOAD", _HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _flag("PROPFLOW_SECURE_COOKIES", _HTTPS)


def _proxy_ssl_header() -> tuple[str, str] | None:
    """How the proxy that ends TLS says a request came over HTTPS (``X-Forwarded-Proto:https``).

    Only for a proxy that sets the header on every request: a client could send it too.
    """
    raw = os.environ.get("PROPFLOW_PROXY_SSL_HEADER", "")
    if not raw:
        return None
    header, _sep, value = raw.partition(":")
    if not (header.strip() and value.strip()):
        raise RuntimeError(
            f"PROPFLOW_PROXY_SSL_HEADER={raw!r}: write it as X-Forwarded-Proto:https"
        )
    return _meta_key(header), value.strip()


SECURE_PROXY_SSL_HEADER = _proxy_ssl_header()
CSRF_TRUSTED_ORIGINS = _list("PROPFLOW_CSRF_TRUSTED_ORIGINS")

# -- Content-Security-Policy (django-csp) ----------------------------------------------------
# Scripts and styles come from the site itself only: the pages have no inline script or
# style (htmx is told not to inject its indicator style, base.html) and /api/docs/ is
# Swagger UI's split view. Images may be data-urls (the favicon, bpmn-js's and Swagger UI's).
# PROPFLOW_CSP_REPORT_ONLY=1 reports violations instead of blocking them, for a site that
# must first see what its own additions (say, a proxy-injected tag) would break.
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": os.environ.get("PROPFLOW_CSP_REPORT_URI") or None,
    }
}
_CSP_REPORT_ONLY = _flag("PROPFLOW_CSP_REPORT_ONLY", False)
CONTENT_SECURITY_POLICY = None if _CSP_REPORT_ONLY else _CSP
CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP if _CSP_REPORT_ONLY else None

# -- repeated wrong passwords (django-axes; answered by server/lockout.py) -------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out sign-in is refused unchecked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "server.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "server.lockout.page_response"
AXES_CLIENT_IP_CALLABLE = "server.lockout.client_address"
# Counted per username and per address, each on its own (LockoutHandler reads them in this
# order). The address's limit is higher: a service centre's desks share one address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("PROPFLOW_LOGIN_FAILURE_LIMIT", "5"))
PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT = int(
    os.environ.get("PROPFLOW_LOGIN_ADDRESS_FAILURE_LIMIT", "30")
)
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("PROPFLOW_LOGIN_COOLOFF_MINUTES", "15")))
# Behind a proxy the client's address is in a header the proxy sets (X-Forwarded-For,
# X-Real-IP); without one, REMOTE_ADDR is the proxy's own address, shared by everyone.
AXES_SENSITIVE_PARAMETERS = []  # the log names who and where (never the password): to unlock
PROPFLOW_CLIENT_IP_HEADER = _meta_key(os.environ.get("PROPFLOW_CLIENT_IP_HEADER") or "REMOTE_ADDR")
PROPFLOW_PROXY_COUNT = int(os.environ.get("PROPFLOW_PROXY_COUNT", "1"))

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # `manage.py collectstatic` fills it for production
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG  # in development, straight from the apps and node_modules
# The browser libraries come from the npm registry (server/web/frontend, `make setup`).
_VENDOR = BASE_DIR / "server" / "web" / "frontend" / "node_modules"
STATICFILES_DIRS = [
    ("vendor/bpmn-js", _VENDOR / "bpmn-js" / "dist"),
    ("vendor/htmx", _VENDOR / "htmx.org" / "dist"),
    ("vendor/signature_pad", _VENDOR / "signature_pad" / "dist"),
    # The process studio's pages, bundled from frontend/src by esbuild (`make setup`).
    ("studio", _VENDOR.parent / "dist"),
]


def _attachment_storage() -> dict:
    """Where the forms' files go: S3-compatible storage when ``PROPFLOW_S3_BUCKET`` is set
    (django-storages, its other settings from the environment too), else local disk."""
    bucket = os.environ.get("PROPFLOW_S3_BUCKET", "")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
        }
    options = {
        "bucket_name": bucket,
        "location": os.environ.get("PROPFLOW_S3_PREFIX", "attachments"),
        "default_acl": "private",  # served through the site, which checks who asks
        "querystring_auth": True,
        "file_overwrite": True,  # names are checksums: the same name is the same bytes
    }
    for env, option in (
        ("PROPFLOW_S3_ENDPOINT_URL", "endpoint_url"), ("PROPFLOW_S3_REGION", "region_name"),
        ("PROPFLOW_S3_ACCESS_KEY_ID", "access_key"),
        ("PROPFLOW_S3_SECRET_ACCESS_KEY", "secret_key"),
    ):  # fmt: skip
        if os.environ.get(env):
            options[option] = os.environ[env]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


# Attachments (photos, drawings, signatures): server/files, docs/operations.md.
MEDIA_ROOT = Path(os.environ.get("PROPFLOW_MEDIA_ROOT", VAR_DIR / "media"))
# A file read from a page before it is scaled (photos from phones are large); what is kept
# is also held to the form's own limit.
PROPFLOW_UPLOAD_MAX_BYTES = int(os.environ.get("PROPFLOW_UPLOAD_MAX_MB", "20")) * 1_000_000
STORAGES = {
    "default": _attachment_storage(),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# A process package is at most 200 files (engine.registry.MAX_FILES): Django's default of
# 100 files a request would refuse a large one before the studio could say why.
DATA_UPLOAD_MAX_NUMBER_FILES = 210

CSRF_FAILURE_VIEW = "server.web.errors.csrf_failure"  # in the reader's language

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "server.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # No `?format=` switch of renderer: the API answers JSON only, and DRF answered 404 for
    # any other value of a parameter no operation declares (schemathesis found it).
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Propflow API",
    "DESCRIPTION": (
        "Processes, cases, tasks and notifications of a property customer-service centre. "
        "Authenticate with `Authorization: Token <key>` (POST /api/auth/token/) or a session. "
        "Messages follow `Accept-Language` (zh-hans by default, en)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The enum hook is drf-spectacular's default; the links say which answer feeds which call.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "server.api.links.add_links",
    ],
    # Choice sets shared by several fields of the API's answers, one name each.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "server.api.fields.ROLES",
        "TaskStatusEnum": "server.api.fields.TASK_STATUSES",
        "InstanceStatusEnum": "server.api.fields.INSTANCE_STATUSES",
        "HotlineCallKindEnum": "server.api.fields.CALL_KINDS",
        "ShiftCheckStatusEnum": "server.api.fields.SHIFT_CHECK_STATUSES",
        "ShiftCheckItemKindEnum": "server.api.fields.SHIFT_CHECK_ITEM_KINDS",
    },
}

# Where process packages are discovered: one folder each, its forms inside it.
PROPFLOW_PROCESSES_DIR = Path(os.environ.get("PROPFLOW_PROCESSES_DIR", BASE_DIR / "processes"))

# The site's time limits (names and defaults in engine/limits.py) and calendar overrides.
PROPFLOW_TIME_LIMITS = json.loads(os.environ.get("PROPFLOW_TIME_LIMITS") or "{}")
PROPFLOW_EXTRA_DAYS_OFF = [d for d in os.environ.get("PROPFLOW_EXTRA_DAYS_OFF", "").split(",") if d]
PROPFLOW_EXTRA_WORKDAYS = [d for d in os.environ.get("PROPFLOW_EXTRA_WORKDAYS", "").split(",") if d]
# The service centre's hours ("標準服務時間 周一至周日上午8:00~下午18:00"): "same day" limits
# end with them; working-day limits keep the business calendar.
PROPFLOW_SERVICE_HOURS = os.environ.get("PROPFLOW_SERVICE_HOURS", "08:00-18:00")
PROPFLOW_SERVICE_DAYS = os.environ.get("PROPFLOW_SERVICE_DAYS", "1-7")
PROPFLOW_SCRIPT_SECONDS = float(os.environ.get("PROPFLOW_SCRIPT_SECONDS", "1"))
PROPFLOW_SCRIPT_MEMORY_MB = int(os.environ.get("PROPFLOW_SCRIPT_MEMORY_MB", "256"))
# The most repetitions a timer cycle may have (R<n>/...): an unbounded cycle fires for ever
# and grows its case with every firing.
PROPFLOW_MAX_TIMER_CYCLES = int(os.environ.get("PROPFLOW_MAX_TIMER_CYCLES", "60"))
# `manage.py fire_timers --as-of` moves cases forward in time: rehearsal copies only. Asked
# for by name, never implied by DEBUG: a development-mode demo may be the one people use.
PROPFLOW_ALLOW_AS_OF = os.environ.get("PROPFLOW_ALLOW_AS_OF") == "1"

# Notifications: links point here; email goes through Django's email framework.
PROPFLOW_SITE_URL = os.environ.get("PROPFLOW_SITE_URL", "http://127.0.0.1:8000")
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = os.environ.get("PROPFLOW_EMAIL_BACKEND", "console")
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = os.environ.get("PROPFLOW_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("PROPFLOW_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("PROPFLOW_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("PROPFLOW_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PROPFLOW_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("PROPFLOW_EMAIL_USE_TLS", "0") == "1"
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("PROPFLOW_EMAIL_FROM", "propflow@localhost")

# Timers: the database holds them (flows.Timer); a sweep every few seconds claims the due
# ones and hands each instance to a worker. With no broker, the web process does both.
PROPFLOW_SWEEP_SECONDS = float(os.environ.get("PROPFLOW_SWEEP_SECONDS", "2"))
PROPFLOW_TIMER_LEASE_SECONDS = float(os.environ.get("PROPFLOW_TIMER_LEASE_SECONDS", "60"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL  # the embedded mode runs tasks in-process
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PROPFLOW_QUEUE", "propflow")
CELERY_TASK_IGNORE_RESULT = True
# A worker takes one message at a time and acknowledges it when done: a pool process that
# dies hands its message back at once. The timer rows are the safety net either way.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "propflow.sweep", "schedule": PROPFLOW_SWEEP_SECONDS,
              "options": {"expires": max(PROPFLOW_SWEEP_SECONDS * 5, 10)}},
    # The end-of-shift checks (server/desk/tasks.py): every minute, each site's due ones.
    "shift_checks": {"task": "propflow.shift_checks", "schedule": 60.0,
                     "options": {"expires": 300}},
}  # fmt: skip
# A check missed while no worker ran is still written this many hours after it was due;
# older ones are not (nobody would act on a list from days ago).
PROPFLOW_SHIFT_CHECK_CATCH_UP_HOURS = float(
    os.environ.get("PROPFLOW_SHIFT_CHECK_CATCH_UP_HOURS", "12")
)

# Audit anchors (server/flows/cases/anchors.py): the chains' heads appended to a file outside
# the database, signed with a key the database never sees. Beat appends one every
# PROPFLOW_AUDIT_ANCHOR_SECONDS when set (route it to the one worker that holds the file, or
# run ``manage.py audit_anchor`` from cron there).
PROPFLOW_AUDIT_ANCHOR_FILE = Path(
    os.environ.get("PROPFLOW_AUDIT_ANCHOR_FILE", VAR_DIR / "audit" / "anchors.jsonl")
)
PROPFLOW_AUDIT_ANCHOR_KEY = os.environ.get("PROPFLOW_AUDIT_ANCHOR_KEY", "")
# Retention (server/flows/cases/retention.py): a finished case's personal values are masked
# this many years after it ended (0: kept); beat runs the retirement once a day.
PROPFLOW_PERSONAL_DATA_YEARS = float(os.environ.get("PROPFLOW_PERSONAL_DATA_YEARS", "5"))
if PROPFLOW_PERSONAL_DATA_YEARS:
    CELERY_BEAT_SCHEDULE["retention"] = {"task": "propflow.retention", "schedule": 86400.0}
if _anchor_every := float(os.environ.get("PROPFLOW_AUDIT_ANCHOR_SECONDS", "0")):
    CELERY_BEAT_SCHEDULE["anchor"] = {"task": "propflow.anchor", "schedule": _anchor_every}

# The KPI roll-up (server/reports/rollup.py): beat brings it up to date this often, so the
# dashboard's own catch-up before each read stays small.
PROPFLOW_KPI_ROLLUP_SECONDS = float(os.environ.get("PROPFLOW_KPI_ROLLUP_SECONDS", "300"))
if PROPFLOW_KPI_ROLLUP_SECONDS:
    CELERY_BEAT_SCHEDULE["kpi_rollup"] = {
        "task": "propflow.kpi_rollup", "schedule": PROPFLOW_KPI_ROLLUP_SECONDS,
        "options": {"expires": PROPFLOW_KPI_ROLLUP_SECONDS},
    }  # fmt: skip

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PROPFLOW_LOG_LEVEL", "INFO")},
    # SpiffWorkflow logs every task state change at INFO: the audit trail already says it.
    "loggers": {
        "spiff": {"level": "WARNING"},
        # Each failed sign-in and lockout at WARNING; not axes's hello at every start.
        "axes": {"level": "WARNING"},
    },
}
