"""Redis that fails fast.

A hung Redis answers nothing, so every cache call waits out the socket timeout; a page makes
several cache calls, and the waits add up to seconds. After one call fails or times out, the
breaker opens and for the next CACHE_RETRY_SECONDS every call to Redis from this process fails at
once (a cache miss, since the cache ignores Redis errors); then a single call tries Redis again.
The breaker keeps no data, only whether Redis answered lately.

Imported by the settings, so it imports nothing of Django's that needs them.
"""

from functools import cache

import pybreaker
from django.conf import settings
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class RedisUnavailable(RedisConnectionError):
    """Redis failed lately; not asked again until the breaker lets a call through."""


def _not_a_connection_fault(error: BaseException) -> bool:
    # A wrong command or a full Redis is an answer: Redis is up.
    return not isinstance(error, RedisConnectionError | RedisTimeoutError | OSError)


@cache
def breaker() -> pybreaker.CircuitBreaker:
    """The process's one breaker, made on first use, when the settings are ready."""
    return pybreaker.CircuitBreaker(
        fail_max=1,
        reset_timeout=settings.CACHE_RETRY_SECONDS,
        exclude=[_not_a_connection_fault],
        name="redis",
    )


class FailFastConnection(Connection):
    """A Redis connection whose every step goes through the breaker."""

    def _guarded(self, step, *args, **kwargs):
        try:
            return breaker().call(step, *args, **kwargs)
        except pybreaker.CircuitBreakerError as exc:
            self.disconnect()
            raise RedisUnavailable("Redis failed lately; treated as a cache miss") from exc

    def connect(self, *args, **kwargs):
        return self._guarded(super().connect, *args, **kwargs)

    def send_command(self, *args, **kwargs):
        return self._guarded(super().send_command, *args, **kwargs)

    def read_response(self, *args, **kwargs):
        return self._guarded(super().read_response, *args, **kwargs)
