"""The calculator as it appears inside the latency-math lesson.

The lesson page includes ``TEMPLATE`` with ``context(request)``: the same section the simulator
page shows, with its links and plain form submissions pointing back at the lesson.
"""

from typing import Any

from django.http import HttpRequest

from simulator.views import SECTION, calculator_context

TEMPLATE = SECTION


def context(request: HttpRequest) -> dict[str, Any]:
    context = calculator_context(request.GET, action=request.path, request=request)
    return {**context, "needs_plotly": True}
