"""gunicorn settings for `make serve`. Each can be overridden from the environment."""

import os


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Django does its work in Python under one lock, so processes, not threads, use the cores; a
# worker also spends part of each request waiting on PostgreSQL, hence more workers than cores.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * cpu_count() + 1))
# Threads let a worker keep idle keep-alive connections from the proxy open without tying it up.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
keepalive = 5
# A request that takes longer than this is stuck, not slow: the worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Django is imported once and the workers are forked from it: faster starts, shared memory.
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Trust X-Forwarded-Proto only from the reverse proxy on this machine.
forwarded_allow_ips = "127.0.0.1,::1"
