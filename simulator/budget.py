"""A cost budget on simulations: each client may simulate so many samples a minute.

Validation already caps one request; this caps a client looping over requests. Counted in the
shared cache, so every app server agrees, and keyed by the address the reverse proxy reports.
Only requests that really simulate are charged: call ``charge`` just before simulating, after
any answer kept in memory has been looked for. Like the login limits it fails open: while the
cache is unreachable nothing is counted and nobody is refused.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from config.faults import Throttled
from config.security import client_ip

WINDOW_SECONDS = 60


def charge(request: HttpRequest, samples: int, *, api: bool = False) -> None:
    """Counts ``samples`` against the client's budget for this minute; raises Throttled (a
    429 with Retry-After) once the budget is spent."""
    limit = settings.SIMULATION_SAMPLES_PER_MINUTE
    now = int(time.time())
    window = now - now % WINDOW_SECONDS
    key = f"simulation-budget:{client_ip(request)}:{window}"
    cache.add(key, 0, WINDOW_SECONDS + 5)
    try:
        spent = cache.incr(key, samples)
    except ValueError:
        # The count expired between add and incr; this request opens the next one.
        cache.add(key, samples, WINDOW_SECONDS + 5)
        spent = samples
    if spent is not None and spent > limit:
        raise Throttled(
            f"You have run {limit:,} simulated requests this minute, the most one visitor may. "
            "Smaller sample counts go further.",
            retry_after=window + WINDOW_SECONDS - now,
            json=api,
        )
