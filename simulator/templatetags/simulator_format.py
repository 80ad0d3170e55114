from typing import Any

from django import template

from simulator import outage_workflows, report

register = template.Library()


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
