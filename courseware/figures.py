"""Figures placed inside a lesson's text, registered by the apps that draw them.

A lesson's Markdown places a figure with a line of its own, ``[[figure some-name]]``. The
marker survives rendering as a paragraph of its own; the page splits the body there and draws
the registered figure in its place. Names come from this fixed registry only (the loader
refuses unknown ones), so nothing is ever imported or looked up by a name read from data.

A figure reads its inputs from the query string under its own prefix, so several figures on
one page never share a field, and the same drawing serves the plain GET form (the whole lesson
again, at the figure's anchor) and the htmx request (only the drawing).
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import QueryDict

MARKER = re.compile(r"^\[\[figure ([a-z0-9]+(?:-[a-z0-9]+)*)\]\]$", re.MULTILINE)
# What the marker becomes once Markdown has made a paragraph of it.
RENDERED_MARKER = re.compile(r"<p>\[\[figure ([a-z0-9]+(?:-[a-z0-9]+)*)\]\]</p>")


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    # Drawn inside the figure, with ``fig`` (what ``context`` returns) in its context.
    template: str
    # The figure's drawing for these query parameters; its "form" holds the controls.
    context: Callable[[QueryDict], dict[str, Any]]


@dataclass(frozen=True)
class Part:
    """A run of a lesson's body, then the figure that follows it (if any)."""

    html: str
    figure: str = ""


_figures: dict[str, Figure] = {}
# Each figure's sources, digested once as it is registered: they change only with a release.
_digests: dict[str, str] = {}


def register(figure: Figure) -> None:
    """Called by an app's ready(); the name is what lesson files write in their markers."""
    _figures[figure.name] = figure
    _digests[figure.name] = _digest_sources(figure)


def get(name: str) -> Figure | None:
    return _figures.get(name)


def names() -> list[str]:
    return sorted(_figures)


def markers(markdown: str) -> list[str]:
    """The figure names a lesson's Markdown places, in order."""
    return MARKER.findall(markdown or "")


def split(html: str) -> list[Part]:
    """A rendered body cut at its figure markers."""
    pieces = RENDERED_MARKER.split(html or "")
    parts = []
    for index in range(0, len(pieces), 2):
        name = pieces[index + 1] if index + 1 < len(pieces) else ""
        parts.append(Part(html=pieces[index], figure=name))
    return parts


FRAME_TEMPLATE = "courseware/_figure.html"


def source_digest(figure: Figure) -> str:
    """A digest of everything a figure's drawing is made from besides its inputs and the
    content: its templates and the module that computes it. A drawing kept in the shared cache
    under it is never served by a release that draws the figure differently."""
    return _digests[figure.name]


def _digest_sources(figure: Figure) -> str:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    sources = [Path(inspect.getfile(figure.context))]
    for name in (FRAME_TEMPLATE, figure.template):
        sources += [folder / name for folder in folders if (folder / name).is_file()]
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
