"""Settings for Critical Path, read from environment variables.

Development needs nothing set. A production deployment sets DJANGO_DEBUG=false together with
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-critical-path")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
else:
    missing = [
        name
        for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL")
        if not os.environ.get(name)
    ]
    if missing:
        raise ImproperlyConfigured(
            "Production settings (DJANGO_DEBUG=false) need these environment variables: "
            + ", ".join(missing)
        )
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "django_ratelimit",
    "django_tasks",
    "django_tasks_db",
    "config",
    "courseware",
    "accounts",
    "drills",
    "simulator",
    "grading",
    "lti_tool",
    "lti",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.faults.FaultMiddleware",
    "config.middleware.SecurityLogMiddleware",
    # Outside the session and CSRF middleware, so it sees the cookies those set.
    "lti.middleware.LtiCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside the CSP and X-Frame-Options middleware, so what it allows reaches their headers.
    "lti.middleware.LtiFrameMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.method_not_allowed_page",
    # Last, so that it turns a throttled login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.roles",
            ],
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Production keeps each worker's connection open between requests.
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0" if DEBUG else "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL, so psycopg need not quote them into the text and
    # PostgreSQL can reuse the plan of a statement a worker keeps sending.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work runs on Django's tasks framework (the django-tasks backport, so the code moves
# to Django 6's built-in tasks unchanged). The database backend keeps the queue in the project's
# own database, so SQLite needs nothing more and on PostgreSQL any number of `db_worker`
# processes share it. DJANGO_TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend runs
# each task at once inside the request instead, e.g. for a quick demo without a worker.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_TASKS_BACKEND") or "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Everything that must outlive a request or be seen by every app server lives in the database
# (sessions, the cache, drill idempotency tokens, login-failure counts), or in Redis when
# REDIS_URL is set, so any number of app servers can share one database. No process keeps state
# of its own. Rendered fragments of course content and simulation results are kept in this same
# cache, keyed by the content version and by their inputs (courseware/versioning.py,
# simulator/memo.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "critical-path",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    # Sessions are read from Redis and written through to the database, so a Redis restart
    # logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "critical_path_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTHENTICATION_BACKENDS = [
    "config.security.ThrottledLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courseware:home"
LOGOUT_REDIRECT_URL = "courseware:home"

# Mail (password-reset links): printed to the console in development, sent over SMTP in
# production. The timeout keeps a hung mail server from holding a worker.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Critical Path <noreply@localhost>")
# A notification the mail server refuses is tried this many times, waiting 60 s, 120 s, … between.
NOTIFICATION_ATTEMPTS = int(os.environ.get("NOTIFICATION_ATTEMPTS", "5"))
NOTIFICATION_BACKOFF_SECONDS = int(os.environ.get("NOTIFICATION_BACKOFF_SECONDS", "60"))
# A password-reset link works for a day (Django's default is three); the mail says so.
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Every script is a static file of our own, so nothing needs eval or inline code. plotly.js
# writes inline style elements when it draws, hence the one inline allowance for styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

X_FRAME_OPTIONS = "DENY"

# Login throttling: five failures for one username from one address lock that pair out for
# fifteen minutes; a success clears the count. Keying on the pair means an attacker cannot lock
# a learner out from the learner's own address.
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_USERNAME_CALLABLE = "config.security.login_username"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions end after this long without a request (see SessionIdleTimeoutMiddleware); a new
# session key is issued at login and the session is deleted at logout.
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS", str(60 * 60)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script of ours reads the CSRF cookie: forms carry the token in a hidden field.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

if not DEBUG:
    # gunicorn listens on loopback behind a reverse proxy that terminates TLS and says so in
    # X-Forwarded-Proto; plain-HTTP visitors are sent to HTTPS, health checks are not.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {
        # Logins and logouts at INFO, refusals at WARNING: the audit trail of who got in.
        "critical_path.security": {
            "level": os.environ.get("DJANGO_SECURITY_LOG_LEVEL", "INFO"),
        },
        # Refusals are already in the security log, one line each; keep server errors here.
        "django.request": {"level": "ERROR"},
    },
}

CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# Who counts as an instructor in the navigation: holders of this permission may grade.
INSTRUCTOR_PERMISSION = "grading.grade_submission"

# Faults (config/faults.py). The shared cache is a help, never a dependency: with Redis, a call
# that cannot connect or get an answer within a fraction of a second is logged and treated as a
# miss, so sessions are read from the database and nothing is lost. A database that cannot be
# reached within a few seconds gets a styled 503; every wait is bounded below gunicorn's timeout.
if REDIS_URL:
    from config.cachebreaker import FailFastConnection

    CACHES["default"]["OPTIONS"].update(
        SOCKET_CONNECT_TIMEOUT=float(os.environ.get("DJANGO_CACHE_CONNECT_TIMEOUT", "0.2")),
        SOCKET_TIMEOUT=float(os.environ.get("DJANGO_CACHE_TIMEOUT", "0.2")),
        IGNORE_EXCEPTIONS=True,
        # After a failure Redis is not asked again for CACHE_RETRY_SECONDS
        # (config/cachebreaker.py), so a hung Redis costs a page one timeout, not one a call.
        CONNECTION_POOL_KWARGS={"connection_class": FailFastConnection},
    )
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "critical_path.cache"
CACHE_RETRY_SECONDS = float(os.environ.get("DJANGO_CACHE_RETRY_SECONDS", "5"))
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "3"))
DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT_MS", "5000"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"].update(
        connect_timeout=DATABASE_CONNECT_TIMEOUT,
        options=f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
    )
# Grading. A learner may ask for a regrade of one grade this many times in all, and have this
# many requests waiting across all their grades at once (one per grade at most, always).
GRADING_REGRADES_PER_GRADE = int(os.environ.get("GRADING_REGRADES_PER_GRADE", "2"))
GRADING_OPEN_REGRADES_PER_LEARNER = int(os.environ.get("GRADING_OPEN_REGRADES_PER_LEARNER", "3"))
# Whether "apply this grade to identical answers" starts ticked (drill reviews, own workflows).
GRADING_GROUP_IDENTICAL = env_bool("GRADING_GROUP_IDENTICAL", True)
# How long a grader's claim on a submission holds before others may take it.
GRADING_CLAIM_MINUTES = int(os.environ.get("GRADING_CLAIM_MINUTES", "30"))
FAULT_RETRY_AFTER_SECONDS = int(os.environ.get("DJANGO_RETRY_AFTER_SECONDS", "5"))
READY_TIMEOUT_SECONDS = float(os.environ.get("DJANGO_READY_TIMEOUT", "1"))
# Bodies: a form is small text. No form takes a file (config.faults.NoFileUploads).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_MAX_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("DJANGO_MAX_FORM_FIELDS", "1000"))
FILE_UPLOAD_HANDLERS = ["config.faults.NoFileUploads"]
# Per-client limits on what costs a password hash, counted in the shared cache (django-ratelimit)
# and keyed by the address the reverse proxy reports. They fail open: while the cache is
# unreachable nobody is refused, and django-axes, which counts in the database, still locks out
# a username and address that keep failing.
RATELIMIT_FAIL_OPEN = True
LOGIN_RATE = os.environ.get("DJANGO_LOGIN_RATE", "30/m")
SIGNUP_RATE = os.environ.get("DJANGO_SIGNUP_RATE", "20/m")
PASSWORD_RATE = os.environ.get("DJANGO_PASSWORD_RATE", "10/m")
# All clients together, counted in the shared cache. A password hash (PBKDF2, 1,000,000
# rounds) takes 0.3-0.6 s of a core, so one a second leaves most of the CPU to everyone else
# during a login flood; an honest login over the cap is asked to retry in a second.
HASHING_RATE = os.environ.get("DJANGO_HASHING_RATE", "1/s")
# Samples a client may simulate a minute (simulator/budget.py); a repeat served from memory is free.
SIMULATION_SAMPLES_PER_MINUTE = int(
    os.environ.get("DJANGO_SIMULATION_SAMPLES_PER_MINUTE", "5000000")
)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # The database cache adds one to a count by reading and writing it back, so two requests at
    # the same instant may count once: a limit lets a handful more through, never fewer.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
LOGGING["loggers"]["critical_path.cache"] = {"level": "WARNING"}
# LTI 1.3: how long the platform's key set stays cached, and the time limit of every call to a
# platform (key set, token, score, roster), so a hung platform holds no worker for long.
LTI_KEYSET_CACHE_SECONDS = int(os.environ.get("LTI_KEYSET_CACHE_SECONDS", "300"))
# A launch signed with a key the cached set lacks fetches the set again, at most this often.
LTI_KEYSET_REFETCH_SECONDS = int(os.environ.get("LTI_KEYSET_REFETCH_SECONDS", "10"))
LTI_HTTP_TIMEOUT_SECONDS = float(os.environ.get("LTI_HTTP_TIMEOUT_SECONDS", "10"))
# Where platforms reach the tool, for the addresses `manage.py lti_add_platform` prints.
LTI_TOOL_URL = os.environ.get("LTI_TOOL_URL", "http://localhost:8000")
# Grade passback: tries before a post is dead-lettered, and the first wait between tries
# (doubling each time: 30 s, 1, 2, 4 min by default).
LTI_PASSBACK_ATTEMPTS = int(os.environ.get("LTI_PASSBACK_ATTEMPTS", "5"))
LTI_PASSBACK_BACKOFF_SECONDS = float(os.environ.get("LTI_PASSBACK_BACKOFF_SECONDS", "30"))
