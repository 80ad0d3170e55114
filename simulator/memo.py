"""Simulation results kept in the shared cache, keyed by every input they depend on.

A simulation is fully determined by its inputs and its seed, so a scenario that anyone has run
(the lesson's defaults above all) is a cache read for every app server after the first. The key
also holds a digest of the code that computes the results, so a release that changes the model
or the charts never serves what the previous one computed.
"""

import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from courseware.versioning import content_version
from simulator import charts, model, report

T = TypeVar("T")

# Long enough that popular scenarios stay; the cache's own culling bounds the rest.
TIMEOUT_SECONDS = 7 * 24 * 3600
CODE_DIGEST = hashlib.sha256(
    b"".join(Path(inspect.getfile(module)).read_bytes() for module in (model, report, charts))
).hexdigest()[:16]


# Rendered sections depend on the simulator's templates as well: a release that changes one must
# not serve HTML the previous release rendered.
TEMPLATES_DIGEST = hashlib.sha256(b"".join(
    path.read_bytes() for path in sorted((Path(settings.BASE_DIR) / "templates" / "simulator")
                                         .glob("*.html"))
)).hexdigest()[:16]


def cache_key(name: str, inputs: dict[str, Any]) -> str:
    """A short key from the result's name and its inputs in a canonical form."""
    canonical = json.dumps(inputs, sort_keys=True, default=repr)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"simulator:{name}:{CODE_DIGEST}:{digest}"


def remembered(name: str, compute: Callable[[], T], **inputs: Any) -> T:
    """What ``compute()`` returns for these inputs, computed once for every server."""
    return cast(T, cache.get_or_set(cache_key(name, inputs), compute, TIMEOUT_SECONDS))


def calculate(**inputs: Any) -> report.Calculation:
    """``report.calculate`` for these inputs, from the cache when anyone has run them."""
    return remembered("calculation", lambda: report.calculate(**inputs), **inputs)


def figures(inputs: dict[str, Any], *, from_drill: bool = False) -> dict[str, dict[str, Any]]:
    """The charts of the calculation for these inputs, from the cache when anyone drew them."""
    return remembered(
        "figures",
        lambda: charts.figures(calculate(**inputs), from_drill=from_drill),
        **inputs, from_drill=from_drill,
    )


def rendered(template: str, context: Callable[[], dict[str, Any]], **inputs: Any) -> str:
    """``template`` rendered with ``context()``, once for every server for these inputs.

    Only for sections that depend on nothing but their inputs and the course content: no
    request, no user, no CSRF token.
    """
    html = remembered(
        "html", lambda: render_to_string(template, context()),
        template=template, templates=TEMPLATES_DIGEST, content=content_version(), **inputs,
    )
    return mark_safe(html)  # noqa: S308 - rendered by our own template, escaped there
