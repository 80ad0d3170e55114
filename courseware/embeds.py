"""Interactive parts that a lesson can show below its text, registered by the apps that draw them.

A lesson names its embed by a registered name (validated as a choice on save and by
``load_course``); the page draws the registered template with the registered context. Nothing
is ever imported by a name read from the database, so a bad value can only mean "no embed".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Embed:
    name: str
    label: str
    template: str
    # The template's context for a lesson page request.
    context: Callable[[HttpRequest], dict[str, Any]]


_embeds: dict[str, Embed] = {}


def register(embed: Embed) -> None:
    """Called by an app's ready(); the name is what lesson files and the admin use."""
    _embeds[embed.name] = embed


def get(name: str) -> Embed | None:
    return _embeds.get(name) if name else None


def names() -> list[str]:
    return sorted(_embeds)


def choices() -> list[tuple[str, str]]:
    """The model field's choices; a callable, so apps registered later still count."""
    return [(embed.name, embed.label) for embed in sorted(_embeds.values(), key=lambda e: e.name)]
