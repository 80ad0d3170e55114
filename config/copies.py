"""Each worker's copies of course content: lessons, questions, quick checks and drills.

Every page reads the course's lessons, and every drill page and submission reads a drill with
its interactions and answer key; only authors change them, by editing or reloading the course.
So a worker keeps what it read for CONTENT_CACHE_SECONDS. A save or delete of content in the
same process forgets every copy at once (each app connects `clear` to its content models'
signals); other processes see the change when their copy runs out. Off (0) in development, so
authors see their edits at once. The copies are shared by the requests a worker serves: read
them, never change them.
"""

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

# What was read, by name, with the time it was read.
_copies: dict[str, tuple[float, object]] = {}


def clear(**kwargs) -> None:
    """Forget every copy; connected to the save and delete signals of course content."""
    _copies.clear()


def kept(name: str, read: Callable[[], T]) -> T:
    """The copy kept under this name while it is fresh, otherwise what read() returns now."""
    now = time.monotonic()
    copy = _copies.get(name)
    if copy is not None and now - copy[0] < settings.CONTENT_CACHE_SECONDS:
        return copy[1]
    value = read()
    if settings.CONTENT_CACHE_SECONDS > 0:
        _copies[name] = (now, value)
    return value


def connect(*models) -> None:
    """Forget every copy whenever one of these models is saved or deleted."""
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(clear, sender=model, dispatch_uid=f"copies_{model._meta.label}")
