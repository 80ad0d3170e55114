"""The platforms' public key sets, kept in Django's cache.

A platform that rotates its signing key publishes the new key before it signs with it, so an
id_token naming a key id the cached set lacks fetches the set again at once rather than being
refused until the cached copy expires. Forged tokens naming made-up key ids could otherwise
make the tool fetch on every request: an unknown key id refetches at most once per platform
every ``LTI_KEYSET_REFETCH_SECONDS``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from lti_tool.models import LtiRegistration

from lti import launch

UNFETCHED = "The platform's key set could not be fetched to check the signature."


def key_set(registration: LtiRegistration, kid: str) -> dict[str, Any]:
    """The platform's key set, fetched again if it lacks ``kid`` (and was not just fetched)."""
    name = "lti:keyset:" + hashlib.sha256(registration.keyset_url.encode()).hexdigest()[:32]
    keys = cache.get(name)
    if keys is not None and (
        has_key(keys, kid)
        or not cache.add(f"{name}:refetched", True, settings.LTI_KEYSET_REFETCH_SECONDS)
    ):
        return keys
    keys = fetch(registration.keyset_url)
    cache.set(name, keys, settings.LTI_KEYSET_CACHE_SECONDS)
    return keys


def has_key(keys: dict[str, Any], kid: str) -> bool:
    return any(isinstance(k, dict) and k.get("kid") == kid for k in keys.get("keys", []))


def fetch(url: str) -> dict[str, Any]:
    try:
        response = launch.TimeoutSession().get(url)
        response.raise_for_status()
        keys = response.json()
    except (requests.RequestException, ValueError) as error:
        raise launch.LaunchRefused(UNFETCHED, str(error)) from error
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise launch.LaunchRefused(UNFETCHED, "Its answer holds no list of keys.")
    return keys
