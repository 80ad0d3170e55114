"""The calculator as it appears inside the latency-math lesson.

The lesson page includes ``TEMPLATE`` with ``context(request)``: the same section the simulator
page shows, with its links and plain form submissions pointing back at the lesson, rendered once
for every server for each set of inputs.
"""

from typing import Any

from django.http import HttpRequest

from simulator.views import section_html

TEMPLATE = "simulator/_embed.html"


def context(request: HttpRequest) -> dict[str, Any]:
    return {"simulator_html": section_html(request.GET, action=request.path, request=request),
            "needs_plotly": True}
