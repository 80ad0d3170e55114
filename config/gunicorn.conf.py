"""gunicorn settings for `make serve`. Each can be overridden from the environment."""

import os


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Sync workers, one request at a time each, behind the TLS-terminating reverse proxy, which
# buffers slow clients and keeps their connections alive. Requests wait in the kernel's accept
# queue and go to whichever worker is free first, so no request sits behind a busy worker while
# another one idles, which keeps the slowest answers close to the typical ones. Django does its
# work in Python under one lock, so processes, not threads, use the cores: one per core, and one
# more to use the time another spends waiting on PostgreSQL. More workers than that only share
# the same cores and make every answer slower.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("WEB_CONCURRENCY", cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
keepalive = 5
# A request that takes longer than this is stuck, not slow: it is answered with a 503 and the
# worker is replaced (see worker_abort). Above the database's connect and statement timeouts
# (DJANGO_DB_CONNECT_TIMEOUT, DJANGO_DB_STATEMENT_TIMEOUT_MS), so those fire first; this one
# catches what they cannot: a database that stops answering on an open connection, a client
# that sends its body too slowly past the reverse proxy.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "10"))
graceful_timeout = 30
# Django is imported once and the workers are forked from it: faster starts, shared memory.
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Trust X-Forwarded-Proto only from the reverse proxy on this machine.
forwarded_allow_ips = "127.0.0.1,::1"


def worker_abort(worker) -> None:
    """gunicorn calls this in a worker that ran past ``timeout``, just before it exits.

    Raising here interrupts the stuck request where it waits, so Django answers it with the
    styled 503 (config/faults.py) instead of gunicorn's bare error page. The heartbeat is
    renewed so the answer has time to go out; gunicorn has already marked the worker to stop,
    so it exits after this request and a fresh one takes its place.
    """
    from config.faults import RequestTimedOut

    worker.notify()
    raise RequestTimedOut(f"request ran past gunicorn's {worker.cfg.timeout} s timeout")
