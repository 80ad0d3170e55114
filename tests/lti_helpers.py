"""Fixtures and a launch driver shared by the LTI tests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from lti_tool.models import Key, LtiRegistration

from tests.lti_platform import Platform, PlatformServer


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = PlatformServer(Platform())
    yield server.platform
    server.close()


@pytest.fixture
def tool_urls(db, platform: Platform) -> dict[str, str]:
    out = io.StringIO()
    call_command(
        "lti_add_platform", "--issuer", platform.issuer, "--client-id", platform.client_id,
        "--deployment-id", platform.deployment_id, "--auth-url", platform.auth_url,
        "--token-url", platform.token_url, "--keyset-url", platform.keyset_url,
        "--tool-url", "http://testserver", stdout=out,
    )
    platform.tool_jwks = Key.objects.as_jwks()
    return json.loads(out.getvalue())


@pytest.fixture
def registration(tool_urls: dict[str, str], platform: Platform) -> LtiRegistration:
    return LtiRegistration.objects.get(issuer=platform.issuer)


def login(client: Client, tool_urls: dict[str, str], platform: Platform,
          **params: str) -> dict[str, str]:
    """The platform's login initiation, as the browser follows it; returns the parameters
    of the tool's redirect to the platform's authorisation endpoint."""
    query = {
        "iss": platform.issuer, "login_hint": "hint-1", "client_id": platform.client_id,
        "target_link_uri": tool_urls["launch_url"], "lti_message_hint": "message-1",
        **params,
    }
    response = client.get(urlsplit(tool_urls["login_url"]).path, query)
    assert response.status_code == 302, response.content[:400]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == platform.auth_url
    return {key: value[0] for key, value in parse_qs(location.query).items()}


def launch(client: Client, tool_urls: dict[str, str], platform: Platform, *,
           claims: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
           sign: Callable[[dict[str, Any]], str] | None = None, **claim_args: Any) -> Any:
    """A whole launch: login initiation, the platform's id_token, the POST to the tool."""
    auth = login(client, tool_urls, platform)
    body = platform.claims(nonce=auth["nonce"], **claim_args)
    if claims is not None:
        body = claims(body)
    token = (sign or platform.sign)(body)
    return client.post(urlsplit(auth["redirect_uri"]).path,
                       {"id_token": token, "state": auth["state"]})
