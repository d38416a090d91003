"""Settings of the example Django site served by pyfpm.

Paths that differ between installations come from the environment, so the
same settings serve the example (pyfpm.yaml in this folder sets them) and the
tests (which point them into a temp dir):

  DJANGO_DB_PATH      the SQLite database file   (default: db.sqlite3)
  DJANGO_STATIC_ROOT  where collectstatic copies  (default: collected_static)
  DJANGO_SECRET_KEY   signs sessions and CSRF tokens; set your own

Relative paths are taken relative to this project's folder (the one that
holds manage.py), whatever the current directory is.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _path_from_env(name, default):
    # Path(BASE_DIR, "/abs") is "/abs": an absolute value wins.
    return Path(BASE_DIR, os.environ.get(name, default))


# An example key, good for trying the site on 127.0.0.1 and nothing else.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "example-only-do-not-deploy-pyfpm-django-3c1f6e"
)

# Off, as in production: Django then serves no static files, and errors are
# logged (to the worker's stderr, which pyfpm logs) instead of shown.
DEBUG = False

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "notes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mysite.urls"

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

WSGI_APPLICATION = "mysite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _path_from_env("DJANGO_DB_PATH", "db.sqlite3"),
        # Several workers share one SQLite file: wait for a writer's lock
        # instead of failing at once with "database is locked".
        "OPTIONS": {"timeout": 10},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True

# `manage.py collectstatic` copies the admin's and the apps' files here;
# pyfpm (or nginx) serves this folder at STATIC_URL, Django never does.
STATIC_URL = "/static/"
STATIC_ROOT = _path_from_env("DJANGO_STATIC_ROOT", "collected_static")

# Unhandled exceptions go to stderr, which pyfpm writes to its log (and
# nginx to its error log, as FCGI_STDERR), not to e-mail.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
}
