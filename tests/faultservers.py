"""Real dependencies that misbehave on purpose, for the fault tests and the fault benchmark.

- ``RedisServer``: a Redis of its own on a spare port, with nothing saved to disk.
- ``HungListener``: accepts TCP connections and never answers, like a Redis or PostgreSQL that
  hangs.
- ``FreezableProxy``: forwards TCP to a real server until told to freeze (it then keeps every
  connection open and passes nothing on, and accepts new ones that it never answers) or to
  refuse (it stops listening and drops every connection).
"""

from __future__ import annotations

import html
import re
import select
import socket
import subprocess
import threading
import time
from dataclasses import dataclass

from tests.appserver import Client, free_port

DRILL_ANSWER = "The caller needs the answer before it goes on."


class RedisServer:
    """redis-server on a spare loopback port, with nothing saved to disk; ``stop`` and
    ``start`` again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def shut(sock: socket.socket) -> None:
    """Closes a socket at once, even one another thread waits on: on Linux close() alone leaves
    a listener that a thread is blocked in accept() on still accepting."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class HungListener:
    """Accepts connections on ``port`` and holds them open without ever sending a byte."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(128)
        self.held: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.closed = True
        shut(self.sock)
        for conn in self.held:
            shut(conn)

    def __enter__(self) -> HungListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FreezableProxy:
    """A TCP forwarder from a spare loopback port to ``target_port``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.frozen = threading.Event()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.listen()

    def listen(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(128)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.frozen.is_set():
                with self.lock:
                    self.pairs.append((client, client))
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select(list(peers), [], [], 0.1)
                if self.frozen.is_set():
                    # Hold both ends open, pass nothing: a server that stopped answering.
                    time.sleep(0.1)
                    continue
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return  # closed under it by refuse()
        finally:
            a.close()
            b.close()

    def freeze(self) -> None:
        self.frozen.set()

    def thaw(self) -> None:
        """Forwards again; connections opened while frozen are dropped, as a restart would."""
        self.frozen.clear()
        with self.lock:
            for client, upstream in self.pairs:
                if client is upstream:
                    shut(client)

    def refuse(self) -> None:
        """Stops listening and drops every connection: a server that is down."""
        if self.listener is not None:
            shut(self.listener)
            self.listener = None
        with self.lock:
            for client, upstream in self.pairs:
                shut(client)
                shut(upstream)
            self.pairs.clear()

    def restore(self) -> None:
        self.frozen.clear()
        if self.listener is None:
            self.listen()

    def close(self) -> None:
        self.refuse()


@dataclass
class DrillForm:
    action: str
    fields: list[tuple[str, str]]
    token_field: str

    def data(self, token: str, csrf: str) -> list[tuple[str, str]]:
        return [("csrfmiddlewaretoken", csrf), (self.token_field, token), *self.fields]


def _first_group(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text``, or "" where it does not occur."""
    found = re.search(pattern, text)
    return found.group(1) if found else ""


def drill_form(client: Client, slug: str) -> DrillForm:
    """A drill's answer form filled in as a learner would: the first choice for each
    interaction and a short justification."""
    page = client.get(f"/drills/{slug}/").text
    form = re.search(
        r'<form[^>]*action="(/drills/[-a-z0-9]+/submit/)"[^>]*>(.*?)</form>', page, re.S
    )
    assert form, f"no answer form on /drills/{slug}/"
    action, body = form.groups()
    fields: list[tuple[str, str]] = []
    token_field = ""
    radios: set[str] = set()
    # A select (what settles a call, how it is done) is answered with its first real option.
    for name, options in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body,
                                    re.S):
        choice = next((v for v in re.findall(r'<option value="([^"]*)"', options) if v), "")
        fields.append((name, html.unescape(choice)))
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", body):
        name = _first_group(r'name="([^"]+)"', tag)
        if not name or name == "csrfmiddlewaretoken":
            continue
        kind = _first_group(r'type="([^"]+)"', tag)
        value = html.unescape(_first_group(r'value="([^"]*)"', tag))
        if kind == "hidden" and re.fullmatch(r"[0-9a-f-]{36}", value):
            token_field = name
        elif kind == "radio":
            if name not in radios:
                radios.add(name)
                fields.append((name, value))
        elif kind == "hidden":
            fields.append((name, value))
        elif tag.startswith("<textarea") or kind in ("text", ""):
            fields.append((name, DRILL_ANSWER))
    assert token_field and radios, "the drill form has no idempotency token or no choices"
    return DrillForm(action=action, fields=fields, token_field=token_field)
