"""The outage lab as it appears inside a lesson.

The lesson page includes ``TEMPLATE`` with ``context(request)``: the lab's section, with its
plain form submission pointing back at the lesson.
"""

from typing import Any

from django.http import HttpRequest

from simulator.outage_views import SECTION, lab_context

TEMPLATE = SECTION


def context(request: HttpRequest) -> dict[str, Any]:
    return {**lab_context(request.GET, action=request.path), "needs_plotly": True}
