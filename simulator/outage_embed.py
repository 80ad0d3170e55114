"""The outage lab as it appears inside a lesson.

The lesson page includes ``TEMPLATE`` with ``context(request)``: the lab's section, with its
plain form submission pointing back at the lesson, rendered once for every server for each set
of inputs.
"""

from typing import Any

from django.http import HttpRequest

from simulator.outage_views import lab_html

TEMPLATE = "simulator/_outage_embed.html"


def context(request: HttpRequest) -> dict[str, Any]:
    return {"lab_html": lab_html(request.GET, action=request.path), "needs_plotly": True}
