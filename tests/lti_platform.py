"""A stand-in LTI 1.3 platform for the tests: an LMS as far as the tool can tell.

It has an RSA key of its own and serves its key set on an ephemeral local port, signs
id_tokens, answers the OAuth2 client-credentials grant (checking the tool's signed assertion
against the tool's key set), records the scores posted to its line items, and serves a
names-and-roles roster. It can be told to fail: answer errors, or not answer in time.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
NRPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def new_key() -> tuple[str, dict[str, Any]]:
    """A private key in PEM and its public half as a JWK."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid=uuid.uuid4().hex, alg="RS256", use="sig")
    return pem, public


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Platform:
    issuer: str = "https://lms.example.test"
    client_id: str = "critical-path-tool"
    deployment_id: str = "deployment-1"
    context_id: str = "course-101"
    base_url: str = ""
    # The tool's public keys, which the token endpoint checks assertions against.
    tool_jwks: dict[str, Any] = field(default_factory=dict)
    scores: list[Recorded] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    # (status, count): the next ``count`` calls to the token or score endpoints answer with it.
    failing: tuple[int, int] = (0, 0)
    # Seconds to wait before answering the token or score endpoints (to outlast a timeout).
    delay: float = 0.0
    tokens: set[str] = field(default_factory=set)
    keyset_fetches: int = 0
    # The course's line items (gradebook columns), as the line-items service lists them.
    line_items: list[dict[str, Any]] = field(default_factory=list)
    # When set, the score endpoint alone answers with this status (the token is granted).
    score_status: int = 0
    # For a browser: the tool's login address its course page frames, and the claims the
    # authorisation endpoint adds to the id_tokens it signs.
    tool_login_url: str = ""
    tool_launch_url: str = ""
    launch_claims: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.private_key, self.public_jwk = new_key()
        self._lock = threading.Lock()

    def rotate_key(self) -> None:
        """Sign with a new key from now on, publishing only it, as a platform rotating does."""
        self.private_key, self.public_jwk = new_key()

    # Addresses -------------------------------------------------------------------------------

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def keyset_url(self) -> str:
        return f"{self.base_url}/jwks"

    def lineitem_url(self, name: str) -> str:
        return f"{self.base_url}/{self.context_id}/lineitems/{name}"

    @property
    def lineitems_url(self) -> str:
        return f"{self.base_url}/{self.context_id}/lineitems"

    def add_line_item(self, name: str, **values: Any) -> dict[str, Any]:
        item = {"id": self.lineitem_url(name), "label": name, "scoreMaximum": 10, **values}
        self.line_items.append(item)
        return item

    @property
    def memberships_url(self) -> str:
        return f"{self.base_url}/{self.context_id}/memberships"

    @property
    def deep_link_return_url(self) -> str:
        return f"{self.base_url}/deep-link-return"

    # Signing ---------------------------------------------------------------------------------

    def claims(self, *, nonce: str, sub: str = "learner-1", roles: list[str] | None = None,
               message_type: str = "LtiResourceLinkRequest", **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Ada Lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email": "ada@example.org",
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "roles": roles if roles is not None else [LEARNER],
            LTI + "context": {"id": self.context_id, "title": "Distributed Systems 101",
                              "label": "DS101"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.memberships_url,
                "service_versions": ["2.0"],
            },
        }
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": "link-1", "title": "Lesson"}
        else:
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": self.deep_link_return_url,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
            }
        claims.update(extra)
        return claims

    def sign(self, claims: dict[str, Any], *, key: str | None = None,
             kid: str | None = None) -> str:
        return jwt.encode(claims, key or self.private_key, algorithm="RS256",
                          headers={"kid": kid or self.public_jwk["kid"]})

    def ags_claim(self, lineitem: str = "", *, manage: bool = True) -> dict[str, Any]:
        """The grades-service claim; without ``lineitem``, as a link that is not graded has."""
        scope = "lineitem" if manage else "lineitem.readonly"
        endpoint: dict[str, Any] = {
            "scope": [f"https://purl.imsglobal.org/spec/lti-ags/scope/{scope}",
                      "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "lineitems": self.lineitems_url,
        }
        if lineitem:
            endpoint["lineitem"] = lineitem
        return {"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": endpoint}

    # Serving ---------------------------------------------------------------------------------

    def fail(self, status: int, times: int) -> None:
        with self._lock:
            self.failing = (status, times)

    def _take_failure(self) -> int:
        with self._lock:
            status, times = self.failing
            if times <= 0:
                return 0
            self.failing = (status, times - 1)
            return status

    def handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None,
                      content_type: str = "application/json") -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _html(self, text: str) -> None:
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                return header.removeprefix("Bearer ") in platform.tokens

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/jwks":
                    platform.keyset_fetches += 1
                    self._send(200, {"keys": [platform.public_jwk]})
                elif path == "/course":
                    self._html(platform.course_page())
                elif path == "/auth":
                    query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                    self._html(platform.auth_answer(query))
                elif path == urlsplit(platform.lineitems_url).path:
                    failure = platform._take_failure()
                    if failure:
                        self._send(failure, {"error": "platform trouble"})
                    elif not self._authorised():
                        self._send(401, {"error": "no token"})
                    else:
                        self._send(200, platform.line_items,
                                   "application/vnd.ims.lis.v2.lineitemcontainer+json")
                elif path == urlsplit(platform.memberships_url).path:
                    if not self._authorised():
                        self._send(401, {"error": "no token"})
                        return
                    self._send(200, {"id": platform.memberships_url,
                                     "context": {"id": platform.context_id},
                                     "members": platform.members}, NRPS_TYPE)
                else:
                    self._send(404, {"error": "not here"})

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                body = self._body()
                if platform.delay:
                    time.sleep(platform.delay)
                failure = platform._take_failure()
                if failure:
                    self._send(failure, {"error": "platform trouble"})
                    return
                if path == "/token":
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    platform.token_requests.append(form)
                    problem = platform.check_assertion(form)
                    if problem:
                        self._send(400, {"error": "invalid_client", "detail": problem})
                        return
                    token = secrets.token_urlsafe(16)
                    platform.tokens.add(token)
                    self._send(200, {"access_token": token, "token_type": "Bearer",
                                     "expires_in": 3600, "scope": form.get("scope", "")})
                elif path == urlsplit(platform.lineitems_url).path:
                    if not self._authorised():
                        self._send(401, {"error": "no token"})
                        return
                    item = {**json.loads(body),
                            "id": platform.lineitem_url(f"made-{len(platform.line_items) + 1}")}
                    platform.line_items.append(item)
                    self._send(201, item, "application/vnd.ims.lis.v2.lineitem+json")
                elif path.endswith("/scores"):
                    if platform.score_status:
                        self._send(platform.score_status, {"error": "score refused"})
                        return
                    if not self._authorised():
                        self._send(401, {"error": "no token"})
                        return
                    platform.scores.append(Recorded(path, dict(self.headers.items()),
                                                    json.loads(body)))
                    self._send(200, {})
                else:
                    self._send(404, {"error": "not here"})

        return Handler

    def course_page(self) -> str:
        """The LMS course page: the tool in an iframe, as platforms show it."""
        query = urlencode({"iss": self.issuer, "login_hint": "hint-1",
                           "client_id": self.client_id, "target_link_uri": self.tool_launch_url})
        return (f"<!doctype html><title>DS101</title><link rel=\"icon\" href=\"data:,\">"
                f"<h1>Distributed Systems 101</h1>"
                f'<iframe id="tool" title="Critical Path" width="1000" height="700" '
                f'src="{html.escape(self.tool_login_url)}?{html.escape(query)}"></iframe>')

    def auth_answer(self, query: dict[str, str]) -> str:
        """The authorisation endpoint: a form posting the signed id_token back to the tool."""
        token = self.sign(self.claims(nonce=query["nonce"], **self.launch_claims))
        return (f'<!doctype html><form id="f" method="post" '
                f'action="{html.escape(query["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
                f"</form><script>document.getElementById('f').submit()</script>")

    def check_assertion(self, form: dict[str, str]) -> str:
        if form.get("grant_type") != "client_credentials":
            return "grant_type must be client_credentials"
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
        except jwt.InvalidTokenError:
            return "assertion is not a JWT"
        keys = [k for k in self.tool_jwks.get("keys", []) if k.get("kid") == kid]
        if not keys:
            return f"no tool key {kid}"
        try:
            jwt.decode(assertion, RSAAlgorithm.from_jwk(json.dumps(keys[0])),
                       algorithms=["RS256"], audience=self.token_url, issuer=self.client_id)
        except jwt.InvalidTokenError as error:
            return f"assertion refused: {error}"
        return ""


class PlatformServer:
    """Runs a Platform's endpoints on 127.0.0.1 at a free port until closed."""

    def __init__(self, platform: Platform, name: str = "127.0.0.1") -> None:
        """``name`` is the host name the platform's addresses use (it listens on loopback)."""
        self.platform = platform
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), platform.handler())
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        platform.base_url = f"http://{name}:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
