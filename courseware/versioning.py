"""The version of the course content, kept in the shared cache.

Fragments of pages that are the same for every learner (a lesson's body, a question's prompt, a
drill's rows) are cached with this version in their keys. Any change to content gives it a new
value, so every app server renders the changed content on its next request and the fragments of
the old version are never read again; they expire on their own.

The value is random rather than a counter: if the cache loses it (a restart, culling), the next
reader draws a new one and can never fall back on fragments of an older version.
"""

import hashlib
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

CACHE_KEY = "content-version"
# Entries of an old version are never read again; they only need to expire some time.
CONTENT_TIMEOUT = 24 * 60 * 60

T = TypeVar("T")


def content_version() -> str:
    """The current content version. Read it before reading the content a fragment shows, so a
    fragment stored under a version never holds content older than that version."""
    version = cache.get(CACHE_KEY)
    if version is None:
        # Two servers may both find none; only the first add wins and both read its value.
        cache.add(CACHE_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(CACHE_KEY) or uuid.uuid4().hex
    if settings.DEBUG:
        # In development templates change under a running server: so does what fragments show.
        version += f"-{templates_changed_at()}"
    return version


def templates_changed_at() -> int:
    """When a project template was last changed, in nanoseconds."""
    return max(
        (path.stat().st_mtime_ns for folder in cast(list[str | Path], settings.TEMPLATES[0]["DIRS"])
         for path in Path(folder).rglob("*.html")),
        default=0,
    )


def _new_version() -> None:
    cache.set(CACHE_KEY, uuid.uuid4().hex, timeout=None)


def bump_content_version(**kwargs) -> None:
    """Give the content a new version; also a receiver of content models' save and delete.

    At once, so the rest of this transaction (an admin save rendering its next page, a test)
    sees the change, and again when the transaction commits: between the two, another server
    may have read the new version with the content from before the commit.
    """
    _new_version()
    transaction.on_commit(_new_version)


def bump_on_change(*models) -> None:
    """Bump the content version whenever one of these models is saved or deleted."""
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                bump_content_version, sender=model,
                dispatch_uid=f"content_version_{model._meta.label}_{signal is post_save}",
            )


SAFE_KEY = re.compile(r"[A-Za-z0-9:._-]+")


def content_key(name: str, version: str) -> str:
    """The cache key of content read under this version. Names may carry a slug from a URL, of
    any length; a long one is hashed so the key fits every cache backend's limit."""
    key = f"content:{version}:{name}"
    # Only plain characters as they are: a NUL or a space from a URL would break the database
    # cache's query or memcached's key rules.
    if len(key) <= 200 and SAFE_KEY.fullmatch(key):
        return key
    return f"content:{version}:{hashlib.sha256(name.encode()).hexdigest()}"


def read_through(name: str, read: Callable[[], T], *, version: str | None = None) -> T:
    """What ``read`` gives for the current content version, from the shared cache when another
    request has read it already. ``read`` must depend on nothing but the content; a None it
    gives is read again every time."""
    key = content_key(name, version or content_version())
    value = cache.get(key)
    if value is None:
        value = read()
        if value is not None:
            cache.set(key, value, CONTENT_TIMEOUT)
    return value
