from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from simulator import outage_workflows, report
from simulator.path_forms import MAX_PATH_HOPS, PREFIX

register = template.Library()


@register.filter
def own_lab_design(rows: Any) -> str:
    """A builder's rows as the outage lab's ``design`` query value."""
    return outage_workflows.encode_rows(rows or [])


@register.filter
def percent(value: float) -> str:
    """A probability as a percentage with three significant figures."""
    return report.percent(value)


@register.filter
def ms(value: float) -> str:
    """A latency in milliseconds, rounded for reading."""
    return report.milliseconds(value)


@register.filter
def lab_design(result: Any) -> str:
    """A graded drill's choices as the outage lab's ``design`` query value."""
    return outage_workflows.encode_design({v.item.key: v.choice for v in result.verdicts})


@register.simple_tag
def design_path_url(drill, hops) -> str:
    """The per-hop simulator loaded with a drill design's sync hops, one row per call.

    Each hop is named by its call and given the drill's per-hop p99 (and a median a fifth of
    it), so the simulated path is the learner's own design, not only its hop count.
    """
    hops = list(hops)[:MAX_PATH_HOPS]
    if not hops:
        return ""
    p99 = max(int(getattr(drill, "hop_p99_ms", 100) or 100), 5)
    failure = getattr(drill, "hop_failure", 0.01)
    query: dict[str, str] = {f"{PREFIX}-TOTAL_FORMS": str(len(hops)),
                             f"{PREFIX}-INITIAL_FORMS": "0", "from_drill": drill.slug}
    for index, hop in enumerate(hops):
        name = f"{hop.caller} → {hop.callee}"
        query.update({
            f"{PREFIX}-{index}-name": name if len(name) <= 40 else name[:39] + "…",
            f"{PREFIX}-{index}-failure": f"{failure:g}",
            f"{PREFIX}-{index}-median_ms": str(max(p99 // 5, 1)),
            f"{PREFIX}-{index}-p99_ms": str(p99),
            f"{PREFIX}-{index}-retries": "0",
        })
    return f"{reverse('simulator:calculator')}?{urlencode(query)}#path"
